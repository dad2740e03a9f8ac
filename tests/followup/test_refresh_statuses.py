"""``manage.py refresh_statuses``: a job recorded before its first day makes the person "en
emploi" on that day, with no write that day; the nightly command catches it (and a missed night)."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from spie.followup.models import Employment
from spie.followup.services import employment as employment_services
from spie.followup.services import status as status_services
from spie.people import policies as people_policies
from spie.people.models import Person
from tests.people.factories import PersonFactory

from .conftest import membership_of


def job_starting(world, person, started_on):
    user = world["referent"]
    access = people_policies.access_for(user, membership_of(user), Person.objects.get(pk=person.pk))
    return employment_services.record_job(person, membership_of(user), access=access, data={
        "employer_name": "Boulangerie Dupain", "job_title": "Vendeuse", "contract_type": "cdd",
        "weekly_hours": 24, "started_on": started_on,
    })


def status_of(person):
    return Person.objects.values_list("status", flat=True).get(pk=person.pk)


def run(*args):
    out = io.StringIO()
    call_command("refresh_statuses", *args, stdout=out)
    return out.getvalue()


def test_a_future_job_makes_the_person_in_job_on_its_first_day(world):
    person = world["person"]
    today = timezone.localdate()
    start = today + datetime.timedelta(days=3)
    job = job_starting(world, person, start)
    assert status_of(person) == Person.Status.TO_ORIENT  # not yet
    assert status_services.refresh_due_statuses(today=start - datetime.timedelta(days=1)) == (0, 0)
    assert status_of(person) == Person.Status.TO_ORIENT
    assert status_services.refresh_due_statuses(today=start) == (1, 1)
    assert status_of(person) == Person.Status.IN_JOB
    # Running again changes nothing.
    assert status_services.refresh_due_statuses(today=start) == (0, 0)
    assert Employment.objects.get(pk=job.pk).ended_on is None


def test_the_command_catches_up_jobs_that_started_since_the_last_run(world):
    person = world["person"]
    job = job_starting(world, person, timezone.localdate() + datetime.timedelta(days=10))
    assert status_of(person) == Person.Status.TO_ORIENT
    # Time passes: the start day was two days ago and the command did not run that night.
    Employment.objects.filter(pk=job.pk).update(started_on=timezone.localdate() - datetime.timedelta(days=2))
    untouched = PersonFactory(territory=world["territory"])
    out = run()
    assert status_of(person) == Person.Status.IN_JOB
    assert status_of(untouched) == Person.Status.TO_ORIENT
    assert "1 personne(s) vérifiée(s), 1 statut(s) mis à jour." in out


def test_a_start_moved_later_takes_the_person_out_of_in_job(world):
    person = world["person"]
    job = job_starting(world, person, timezone.localdate())
    assert status_of(person) == Person.Status.IN_JOB
    Employment.objects.filter(pk=job.pk).update(started_on=timezone.localdate() + datetime.timedelta(days=5))
    run()
    assert status_of(person) == Person.Status.TO_ORIENT


def test_exited_persons_stay_exited(world):
    person = world["person"]
    job_starting(world, person, timezone.localdate() + datetime.timedelta(days=1))
    Person.objects.filter(pk=person.pk).update(status=Person.Status.EXITED)
    assert status_services.refresh_due_statuses(today=timezone.localdate() + datetime.timedelta(days=1)) == (0, 0)
    assert status_of(person) == Person.Status.EXITED


def test_territory_option(world):
    person = world["person"]
    job = job_starting(world, person, timezone.localdate() + datetime.timedelta(days=1))
    Employment.objects.filter(pk=job.pk).update(started_on=timezone.localdate())
    run("--territory", world["gers"].code)
    assert status_of(person) == Person.Status.TO_ORIENT
    run("--territory", world["territory"].code)
    assert status_of(person) == Person.Status.IN_JOB
    with pytest.raises(CommandError, match="Territoire inconnu"):
        run("--territory", "99")
