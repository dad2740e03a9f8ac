"""The person's place in the pathway (``Person.status``), derived from the data and stored so
that caseload counts and filters stay one indexed query. Every service that changes one of its
inputs calls :func:`refresh_status`."""

from django.utils import timezone

from spie.people.models import Person


def compute_status(person):
    from spie.followup.models import Employment, PathwayExit
    from spie.pathways.models import EngagementContract, Orientation

    today = timezone.localdate()
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


def refresh_status(person):
    """Recompute and store ``person.status`` (and ``exited_on``); returns the status."""
    status, exited_on = compute_status(person)
    if (person.status, person.exited_on) != (status, exited_on):
        person.status, person.exited_on = status, exited_on
        Person.objects.filter(pk=person.pk).update(status=status, exited_on=exited_on)
    return status
