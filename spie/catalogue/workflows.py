"""The referral workflow as data: named states, allowed transitions, who may make them, the log.

::

    ""        → sent        a référent sends the person (with the person's consent)
    sent      → accepted    the provider accepts (session or start date)
    sent      → refused     the provider refuses (reason from a list + text)
    sent      → expired     no answer after the territory's delay (30 days), by the system
    sent      → cancelled   withdrawn by the sender (reason)
    accepted  → started     the person started (provider or sender)
    accepted  → dropped     the person will not come after all (reason)
    accepted  → cancelled   withdrawn by the sender before it starts (reason)
    started   → completed   the person went to the end
    started   → dropped     the person stopped (reason)

``refused``, ``expired``, ``cancelled``, ``completed`` and ``dropped`` are final: a new
referral is a new row. Every change goes through :func:`transition`, which re-reads the row
under a lock, checks the table and the actor, and writes one :class:`ReferralTransition`.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import Referral, ReferralStatus, ReferralTransition

S = ReferralStatus
NEW = ""

# Who may make a transition.
SENDER = "sender"  # the sending side: the person's group (the sender's structure)
PROVIDER = "provider"  # the receiving structure, through its space or the signed link
SYSTEM = "system"  # the expiry task


@dataclass(frozen=True)
class Rule:
    label: str
    actors: frozenset
    reason_required: bool = False
    reason_message: str = "Indiquez le motif."


TRANSITIONS = {
    (NEW, S.SENT): Rule("Envoi", frozenset({SENDER})),
    (S.SENT, S.ACCEPTED): Rule("Acceptation", frozenset({PROVIDER})),
    (S.SENT, S.REFUSED): Rule("Refus", frozenset({PROVIDER}), True, "Indiquez le motif du refus."),
    (S.SENT, S.EXPIRED): Rule("Expiration sans réponse", frozenset({SYSTEM})),
    (S.SENT, S.CANCELLED): Rule("Annulation", frozenset({SENDER}), True, "Indiquez le motif de l'annulation."),
    (S.ACCEPTED, S.STARTED): Rule("Entrée dans l'action", frozenset({PROVIDER, SENDER})),
    (S.ACCEPTED, S.DROPPED): Rule("Abandon", frozenset({PROVIDER, SENDER}), True, "Indiquez le motif de l'abandon."),
    (S.ACCEPTED, S.CANCELLED): Rule("Annulation", frozenset({SENDER}), True, "Indiquez le motif de l'annulation."),
    (S.STARTED, S.COMPLETED): Rule("Fin de l'action", frozenset({PROVIDER, SENDER})),
    (S.STARTED, S.DROPPED): Rule("Abandon", frozenset({PROVIDER, SENDER}), True, "Indiquez le motif de l'abandon."),
}

FINAL_STATES = frozenset({S.REFUSED, S.EXPIRED, S.CANCELLED, S.COMPLETED, S.DROPPED})
OPEN_STATES = frozenset({S.SENT, S.ACCEPTED, S.STARTED})
# Referrals that hold a place in a session or an action.
HOLDING_PLACE = (S.ACCEPTED, S.STARTED, S.COMPLETED)


def status_label(status):
    return dict(S.choices).get(status, "nouvelle") if status else "nouvelle"


def allowed_targets(referral, actor):
    """Statuses ``referral`` may move to from its current status for ``actor``."""
    return [to for (frm, to), rule in TRANSITIONS.items() if frm == referral.status and actor in rule.actors]


def check(from_status, to_status, actor, reason=""):
    """Raise a French :class:`ValidationError` unless ``actor`` may make the transition."""
    rule = TRANSITIONS.get((from_status or NEW, to_status))
    if rule is None:
        raise ValidationError(
            f"Transition impossible : une orientation « {status_label(from_status)} » "
            f"ne peut pas passer à « {status_label(to_status)} »."
        )
    if actor not in rule.actors:
        who = {SENDER: "la structure qui oriente", PROVIDER: "la structure qui porte l'action",
               SYSTEM: "la plateforme"}.get(actor, actor)
        raise ValidationError(f"« {rule.label} » ne peut pas être fait par {who}.")
    if rule.reason_required and not (reason or "").strip():
        raise ValidationError(rule.reason_message)
    return rule


@transaction.atomic
def record_creation(referral, by):
    check(NEW, referral.status, SENDER)
    return ReferralTransition.objects.create(
        referral=referral, from_status=NEW, to_status=referral.status, by=by, at=referral.sent_at
    )


@transaction.atomic
def transition(referral, to_status, *, actor, by=None, via_link=False, reason="", **fields):
    """Move ``referral`` to ``to_status`` (and set ``fields``), log it; refuse what is not allowed.

    The row is re-read under a lock: two answers at once (the link and the space) cannot both
    succeed; the second gets a French error.
    """
    current = Referral.objects.select_for_update().only("status").get(pk=referral.pk)
    check(current.status, to_status, actor, reason)
    at = timezone.now()
    updates = {"status": to_status, **fields}
    Referral.objects.filter(pk=referral.pk).update(**updates)
    for name, value in updates.items():
        setattr(referral, name, value)
    return ReferralTransition.objects.create(
        referral=referral, from_status=current.status, to_status=to_status, by=by, via_link=via_link,
        at=at, reason=(reason or "").strip()[:500],
    )
