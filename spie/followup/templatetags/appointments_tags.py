"""``{% appointments_summary person access %}``: on the person's record, the next appointment and
how many passed ones still wait for their attendance; two queries. No access-log row: the page
that includes it logs its own read."""

from django import template
from django.utils import timezone

from spie.followup import policies
from spie.followup.models import Appointment

register = template.Library()


@register.inclusion_tag("followup/appointments/_summary.html")
def appointments_summary(person, access):
    if not policies.can_read(access):
        return {"visible": False}
    now = timezone.now()
    scheduled = Appointment.objects.filter(person=person, status=Appointment.Status.SCHEDULED)
    upcoming = scheduled.filter(starts_at__gte=now).select_related("with_user").order_by("starts_at", "id").first()
    to_record = scheduled.filter(starts_at__lt=now, attendance=Appointment.Attendance.PENDING).count()
    return {
        "visible": True,
        "person": person,
        "next": upcoming,
        "to_record": to_record,
        "can_edit": policies.can_edit(access),
    }
