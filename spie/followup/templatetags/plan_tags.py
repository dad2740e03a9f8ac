"""Template tags of the plan.

``{% plan_summary person access %}`` shows, on the person's record, the counts of the plan by
status and the next 3 actions due, with a link to the plan; two queries whatever the plan's size.
It writes no access-log row: the record page that includes it already logs its own read.
"""

from django import template
from django.db.models import Count, F, Q
from django.utils import timezone

from .. import policies
from ..models import OPEN_PLAN_STATUSES, PlanAction, PlanObjective, PlanStatus

register = template.Library()

BADGE_CLASSES = {
    PlanStatus.ON_HOLD: "badge badge-warn",
    PlanStatus.ABANDONED: "badge badge-warn",
}


@register.inclusion_tag("followup/plan/_summary.html")
def plan_summary(person, access):
    if not policies.can_read(access):
        return {"visible": False}
    aggregates = {"objectives": Count("id", distinct=True)}
    for status in PlanStatus.values:
        aggregates[f"actions_{status}"] = Count("actions", filter=Q(actions__status=status), distinct=True)
    totals = PlanObjective.objects.filter(person=person).aggregate(**aggregates)
    next_actions = list(
        PlanAction.objects.filter(person=person, status__in=OPEN_PLAN_STATUSES, due_on__isnull=False)
        .select_related("objective")
        .order_by(F("due_on").asc(), "id")[:3]
    )
    return {
        "visible": True,
        "person": person,
        "objectives": totals["objectives"],
        "counts": [(PlanStatus(s).label, s, totals[f"actions_{s}"]) for s in PlanStatus.values
                   if totals[f"actions_{s}"]],
        "next_actions": next_actions,
        "today": timezone.localdate(),
    }


@register.simple_tag
def plan_status_badge(status):
    from django.utils.html import format_html

    label = PlanStatus(status).label if status in PlanStatus.values else status
    return format_html('<span class="{}">{}</span>', BADGE_CLASSES.get(status, "badge"), label)


@register.filter
def plan_status(value):
    """French label of a plan status code."""
    return PlanStatus(value).label.lower() if value in PlanStatus.values else value
