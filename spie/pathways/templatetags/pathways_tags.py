"""Template tags of orientations and contracts.

``{% pathway_summary person access %}`` shows, on the person's record, the current orientation
(status, type, structure, dates, delay badge) and the current contract (version, status,
weekly hours, signature dates) with links; two queries whatever the history. It writes no
access-log row: the record page that includes it already logs its own read.
"""

import datetime
from decimal import InvalidOperation

from django import template

from spie.network.models import Membership

from .. import policies, selectors, services, workflows

register = template.Library()


@register.inclusion_tag("pathways/_record_section.html", takes_context=True)
def pathway_summary(context, person, access):
    if not policies.can_read(access):
        return {"visible": False}
    request = context.get("request")
    membership = getattr(request, "membership", None)
    summary = selectors.pathway_summary(person)
    return {
        "visible": True,
        "person": person,
        "summary": summary,
        "default_hours": services.default_weekly_hours(person.territory),
        "can_propose": summary.pending is None and summary.decided is None
        and policies.can_propose(access, membership, person),
        "can_decide": summary.pending is not None and policies.can_decide(membership, person),
        "can_edit_contract": policies.can_edit_contract(access, membership, person),
        "is_orientation_officer": membership is not None and membership.role == Membership.Role.ORIENTATION,
    }


@register.filter
def hours(value):
    """15 → "15", 7.5 → "7,5"."""
    if value in (None, ""):
        return ""
    try:
        return services.hours_label(value)
    except (InvalidOperation, ValueError, TypeError):
        return value


@register.filter
def isodate(value):
    """"2026-12-01" → a date (for the ``date`` filter); dates pass through, junk gives None."""
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@register.filter
def orientation_status(value):
    """French label of an orientation status code ("" for a creation)."""
    return workflows.status_label(value)

