"""The orientation workflow as data: named states, allowed transitions, and their log.

Every change of an orientation's status goes through :func:`transition`, which refuses a
transition absent from :data:`TRANSITIONS` (or missing its required reason) with a French
message, and writes one :class:`~spie.pathways.models.OrientationTransition` row (who, when,
from, to, reason). Creation is logged as the transition ``"" → proposed``.

::

    ""        → proposed    a proposal (orientation) or a request (réorientation)
    proposed  → decided     a chargé d'orientation decides type, structure and référent
    proposed  → refused     a réorientation request refused, with a reason
    proposed  → cancelled   withdrawn by its author or the référent, or closed by a chargé, with a reason

``decided``, ``refused`` and ``cancelled`` are final: a later change is a new réorientation.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import Orientation, OrientationTransition

Status = Orientation.Status
Kind = Orientation.Kind

NEW = ""  # the "from" state of a creation


@dataclass(frozen=True)
class Rule:
    """One allowed transition: its French label, whether a reason is required, which kinds."""

    label: str
    reason_required: bool = False
    kinds: frozenset = field(default_factory=lambda: frozenset(Kind.values))
    reason_message: str = "Indiquez le motif."


TRANSITIONS = {
    (NEW, Status.PROPOSED): Rule("Proposition"),
    (Status.PROPOSED, Status.DECIDED): Rule("Décision"),
    (Status.PROPOSED, Status.REFUSED): Rule(
        "Refus",
        reason_required=True,
        kinds=frozenset({Kind.REORIENTATION}),
        reason_message="Indiquez le motif du refus de la réorientation.",
    ),
    (Status.PROPOSED, Status.CANCELLED): Rule(
        "Annulation", reason_required=True, reason_message="Indiquez le motif de l'annulation."
    ),
}

FINAL_STATES = frozenset({Status.DECIDED, Status.REFUSED, Status.CANCELLED})


def status_label(status):
    return dict(Status.choices).get(status, "nouvelle") if status else "nouvelle"


def rule_for(kind, from_status, to_status):
    """The :class:`Rule` allowing ``from_status → to_status`` for ``kind``, or None."""
    rule = TRANSITIONS.get((from_status or NEW, to_status))
    if rule is None or kind not in rule.kinds:
        return None
    return rule


def allowed_targets(orientation):
    """Statuses ``orientation`` may move to from its current status (for the pages)."""
    return [
        to for (frm, to), rule in TRANSITIONS.items()
        if frm == orientation.status and orientation.kind in rule.kinds
    ]


def check(kind, from_status, to_status, reason=""):
    """Raise a French :class:`ValidationError` unless the transition is allowed."""
    rule = rule_for(kind, from_status, to_status)
    if rule is None:
        kind_label = dict(Kind.choices).get(kind, kind).lower()
        if (from_status or NEW, to_status) in TRANSITIONS:
            raise ValidationError(
                f"Transition impossible : une {kind_label} ne peut pas passer à « {status_label(to_status)} »."
            )
        raise ValidationError(
            f"Transition impossible : une {kind_label} « {status_label(from_status)} » "
            f"ne peut pas passer à « {status_label(to_status)} »."
        )
    if rule.reason_required and not (reason or "").strip():
        raise ValidationError(rule.reason_message)
    return rule


@transaction.atomic
def record_creation(orientation, by, reason=""):
    """Log the creation of ``orientation`` as the transition ``"" → proposed``."""
    check(orientation.kind, NEW, orientation.status, reason)
    return OrientationTransition.objects.create(
        orientation=orientation, from_status=NEW, to_status=orientation.status, by=by,
        at=orientation.proposed_at or timezone.now(), reason=reason or "",
    )


@transaction.atomic
def transition(orientation, to_status, by, reason=""):
    """Move ``orientation`` to ``to_status`` and log it; refuse a disallowed transition.

    The row is re-read under a lock so that two chargés deciding the same proposal at once
    cannot both succeed: the second sees ``decided`` and gets a French error.
    """
    current = Orientation.objects.select_for_update().only("status", "kind").get(pk=orientation.pk)
    check(current.kind, current.status, to_status, reason)
    at = timezone.now()
    Orientation.objects.filter(pk=orientation.pk).update(status=to_status)
    orientation.status = to_status
    return OrientationTransition.objects.create(
        orientation=orientation, from_status=current.status, to_status=to_status, by=by, at=at,
        reason=(reason or "").strip(),
    )
