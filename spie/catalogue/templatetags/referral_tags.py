"""Template tags of referrals, for the pages of other apps.

- ``{% person_referrals person access %}`` on the person's record: their referrals (action,
  provider, status, dates, link) and the weekly hours of the accepted actions against the
  contract's target; two queries, no access-log row (the record page logs its own read).
- ``{% referral_hours person contract %}`` on the contract page: the hours line alone.
- ``{% plan_referrals person access %}`` on the plan page: the plan actions carried by a
  referral, with the referral's status (one query).
"""

from decimal import Decimal

from django import template
from django.utils.html import format_html

from spie.pathways.services import default_weekly_hours, hours_label

from ..models import Referral, ReferralStatus
from ..services.referrals import weekly_hours_of

register = template.Library()

RECORD_LIMIT = 10


def _can_read(access):
    return access is not None and access.can_open_record


def hours_context(person, contract=None):
    """``X h sur 15 h``: the signed contract's hours when there is one, else the territory's default."""
    hours = weekly_hours_of(person)
    target = None
    if contract is not None and getattr(contract, "status", "") == "signed":
        target = contract.weekly_hours
    if target is None:
        target = default_weekly_hours(person.territory)
    target = Decimal(str(target))
    return {
        "hours": hours, "hours_label": hours_label(hours), "target": target, "target_label": hours_label(target),
        "reached": target > 0 and hours >= target, "percent": int(min(hours, target) * 100 / target) if target else 0,
    }


@register.inclusion_tag("catalogue/referrals/_person_referrals.html")
def person_referrals(person, access):
    if not _can_read(access):
        return {"visible": False}
    referrals = list(
        Referral.objects.filter(person=person).select_related("action", "to_structure", "session")
        .order_by("-sent_at", "-id")[: RECORD_LIMIT + 1]
    )
    return {"visible": True, "person": person, "referrals": referrals[:RECORD_LIMIT],
            "more": len(referrals) > RECORD_LIMIT, **hours_context(person)}


@register.inclusion_tag("catalogue/referrals/_hours.html")
def referral_hours(person, contract=None):
    return hours_context(person, contract)


@register.inclusion_tag("catalogue/referrals/_plan_referrals.html")
def plan_referrals(person, access):
    if not _can_read(access):
        return {"visible": False}
    referrals = list(
        Referral.objects.filter(person=person, plan_action__isnull=False)
        .select_related("action", "to_structure", "plan_action").order_by("-sent_at", "-id")
    )
    return {"visible": bool(referrals), "referrals": referrals}


@register.filter
def hours_fr(value):
    """3.0 → "3", 4.5 → "4,5"."""
    return hours_label(value) if value not in (None, "") else ""


@register.filter
def referral_status(value):
    """French label (lower case) of a referral status code."""
    return ReferralStatus(value).label.lower() if value in ReferralStatus.values else value


@register.simple_tag
def referral_status_badge(status):
    label = ReferralStatus(status).label if status in ReferralStatus.values else status
    return format_html('<span class="badge referral-status referral-status-{}">{}</span>', status, label)
