"""``{% exit_summary person access %}``: on the person's record, the exit state (or the
"Clore le parcours" link for who may close), the current job and its next checkpoint.

Two queries whatever the history (the active exit; the current job with its next open
checkpoint as subqueries). It writes no access-log row: the record page logs its own read.
"""

from django import template
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from spie.followup import policies
from spie.followup.models import Checkpoint, Employment, PathwayExit

register = template.Library()


@register.inclusion_tag("followup/exits/_summary.html")
def exit_summary(person, access):
    if not policies.can_read(access):
        return {"visible": False}
    current_exit = (
        PathwayExit.objects.filter(person=person, cancelled_at__isnull=True)
        .only("pk", "person_id", "reason", "reason_detail", "exit_date").first()
    )
    next_open = Checkpoint.objects.filter(employment=OuterRef("pk"), done_on__isnull=True).order_by("due_on", "id")
    job = (
        Employment.objects.filter(person=person, ended_on__isnull=True)
        .annotate(next_due_on=Subquery(next_open.values("due_on")[:1]),
                  next_month=Subquery(next_open.values("month")[:1]))
        .order_by("-started_on", "-id").first()
    )
    return {
        "visible": True,
        "person": person,
        "exit": current_exit,
        "job": job,
        "today": timezone.localdate(),
        "can_close": policies.can_close(access),
        "can_edit": policies.can_edit(access),
    }
