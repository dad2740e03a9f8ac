"""The person's place in the pathway (``Person.status``), derived from the data and stored so
that caseload counts and filters stay one indexed query. Every service that changes one of its
inputs calls :func:`refresh_status`.

Some inputs change with the calendar alone: a job recorded before it starts makes the person
"en emploi" on its first day, without any write that day. :func:`refresh_due_statuses` (run
every night by ``manage.py refresh_statuses``) recomputes the persons whose stored status the
calendar may have made stale."""

import datetime

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from spie.people.models import Person

# How far back the nightly run looks for planned job ends, so that a missed night is caught up.
CATCH_UP_DAYS = 7


def compute_status(person, *, today=None):
    from spie.followup.models import Employment, PathwayExit
    from spie.pathways.models import EngagementContract, Orientation

    today = today or timezone.localdate()
    active_exit = PathwayExit.objects.filter(person=person, cancelled_at__isnull=True).first()
    if active_exit is not None:
        return Person.Status.EXITED, active_exit.exit_date
    if Employment.objects.filter(person=person, started_on__lte=today, ended_on__isnull=True).exists():
        return Person.Status.IN_JOB, None
    if EngagementContract.objects.filter(person=person, status=EngagementContract.Status.SIGNED).exists():
        return Person.Status.IN_PATHWAY, None
    if Orientation.objects.filter(person=person, status=Orientation.Status.DECIDED).exists():
        return Person.Status.ORIENTED, None
    return Person.Status.TO_ORIENT, None


def refresh_status(person, *, today=None):
    """Recompute and store ``person.status`` (and ``exited_on``); returns the status."""
    status, exited_on = compute_status(person, today=today)
    if (person.status, person.exited_on) != (status, exited_on):
        person.status, person.exited_on = status, exited_on
        Person.objects.filter(pk=person.pk).update(status=status, exited_on=exited_on)
    return status


def stale_status_candidates(*, today=None, territory=None):
    """Persons whose stored status the calendar may have made stale, as of ``today``:

    - a job has started (``started_on <= today``, not ended) but the person is not "en emploi"
      (nor exited): the job was recorded before its first day;
    - the person is "en emploi" without any started, ongoing job (a start date moved later);
    - a job's planned end has passed within the last :data:`CATCH_UP_DAYS` days.

    The first two conditions do not depend on the day the command last ran: a missed night is
    caught up at the next one."""
    from spie.followup.models import Employment

    today = today or timezone.localdate()
    current_job = Employment.objects.filter(person=OuterRef("pk"), started_on__lte=today, ended_on__isnull=True)
    planned_end = Employment.objects.filter(
        person=OuterRef("pk"), ended_on__isnull=True,
        planned_end_on__lt=today, planned_end_on__gte=today - datetime.timedelta(days=CATCH_UP_DAYS),
    )
    status = Person.Status
    qs = Person.objects.filter(
        (Exists(current_job) & ~Q(status__in=[status.IN_JOB, status.EXITED]))
        | (Q(status=status.IN_JOB) & ~Exists(current_job))
        | Exists(planned_end)
    )
    if territory is not None:
        qs = qs.filter(territory=territory)
    return qs.only("pk", "status", "exited_on").order_by("pk")


def refresh_due_statuses(*, today=None, territory=None):
    """Recompute the status of :func:`stale_status_candidates`; returns ``(checked, changed)``."""
    today = today or timezone.localdate()
    checked = changed = 0
    for person in stale_status_candidates(today=today, territory=territory).iterator(chunk_size=500):
        before = person.status
        checked += 1
        if refresh_status(person, today=today) != before:
            changed += 1
    return checked, changed
