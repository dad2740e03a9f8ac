"""Writes on proposals: a référent dismisses one (with a reason, kept and never proposed
again) or restores a dismissal (kept too, marked restored); an on-demand refresh of a person's
proposals."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import matching_adapter
from ..models import Dismissal, DismissalReason, Proposal

DISMISS_NOT_FOUND = "Cette proposition n'existe plus : la liste a peut-être été actualisée."


@transaction.atomic
def dismiss_proposal(person, proposal_id, *, reason, comment="", user, structure):
    """Set aside the proposal ``proposal_id`` of ``person``: a :class:`Dismissal` keeps the pair
    (opening or immersion offer), the reason and who decided; the proposal row is deleted."""
    if reason not in DismissalReason.values:
        raise ValidationError({"reason": "Choisissez un motif."})
    comment = (comment or "").strip()
    if len(comment) > 300:
        raise ValidationError({"comment": "La précision ne doit pas dépasser 300 caractères."})
    if reason == DismissalReason.OTHER and not comment:
        raise ValidationError({"comment": "Précisez le motif."})
    proposal = Proposal.objects.select_for_update().filter(pk=proposal_id, person=person).first()
    if proposal is None:
        raise ValidationError(DISMISS_NOT_FOUND)
    dismissal = Dismissal.objects.create(
        person=person, opening_id=proposal.opening_id, immersion_offer_id=proposal.immersion_offer_id,
        reason=reason, comment=comment, score=proposal.score, by=user, structure=structure,
    )
    # The same pair may be stored twice (eligible and blocked never, but be safe).
    Proposal.objects.filter(
        person=person, opening_id=proposal.opening_id, immersion_offer_id=proposal.immersion_offer_id
    ).delete()
    return dismissal


@transaction.atomic
def restore_dismissal(person, dismissal_id, *, user=None):
    """Restore the dismissal ``dismissal_id`` of ``person``: the pair may be proposed again at
    the next computation; the dismissal stays, marked restored (when and by whom)."""
    try:
        dismissal_id = int(dismissal_id)
    except (TypeError, ValueError):
        raise ValidationError("Cette proposition écartée n'existe pas.") from None
    restored = Dismissal.objects.filter(pk=dismissal_id, person=person, restored_at__isnull=True).update(
        restored_at=timezone.now(), restored_by=user
    )
    if not restored:
        raise ValidationError("Cette proposition écartée n'existe plus ou a déjà été rétablie.")


def refresh(person):
    """Recompute ``person``'s proposals now (``matching_adapter.refresh_person``)."""
    return matching_adapter.refresh_person(person)
