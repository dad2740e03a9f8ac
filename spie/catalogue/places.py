"""Places taken and left, recounted from the referrals that hold one.

Counting again (rather than adding and removing one) keeps the figures right whatever path
a referral took; it is called by every referral transition and session change.
"""

from django.db.models import Count, Min, Q
from django.utils import timezone

from .models import Action, ActionSession

HOLDING_PLACE = ("accepted", "started", "completed")  # mirrors workflows.HOLDING_PLACE
# Without sessions, an action's capacity is a running count: whoever has finished frees a place.
# A session is a fixed group: those who completed it keep theirs.
HOLDING_ACTION_PLACE = ("accepted", "started")


def refresh_action(action):
    """Recount the places of ``action`` and of its sessions; refresh its derived search fields
    ``next_session_on`` and ``places_left_total`` (None when the action has no capacity)."""
    today = timezone.localdate()
    held = Q(referrals__status__in=HOLDING_PLACE)
    for session_id, taken in (
        ActionSession.objects.filter(action=action).annotate(n=Count("referrals", filter=held)).values_list("id", "n")
    ):
        ActionSession.objects.filter(pk=session_id).exclude(places_taken=taken).update(places_taken=taken)
    upcoming = ActionSession.objects.filter(action=action, is_cancelled=False, starts_on__gte=today)
    next_on = upcoming.aggregate(first=Min("starts_on"))["first"]
    sessions = list(upcoming.values_list("capacity", "places_taken"))
    taken = action.referrals.filter(status__in=HOLDING_ACTION_PLACE, session__isnull=True).count()
    if sessions:
        left = sum(max(0, capacity - used) for capacity, used in sessions)
    elif action.capacity is not None:
        left = max(0, action.capacity - taken)
    else:
        left = None
    Action.objects.filter(pk=action.pk).update(places_taken=taken, next_session_on=next_on, places_left_total=left)
    action.places_taken, action.next_session_on, action.places_left_total = taken, next_on, left
    return left
