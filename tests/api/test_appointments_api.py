"""API v1 — appointments: list, schedule (invitation), change, attendance, cancel; policies
(404 vs 403, IDOR), access log, French errors, query counts."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from spie.core import sms
from spie.core.models import AccessLog
from spie.followup.models import Appointment, Notification
from spie.people.models import FollowUpMembership, Person
from tests.pathways import conftest as pathways_conftest
from tests.people.factories import PersonFactory, add_to_group

world = pathways_conftest.world  # the follow-up tests' network, as a fixture here

PURPOSE = "Point sur les dettes"


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()


def in_days(days, hour=10):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def make(person, user, *, days=3, attendance="pending"):
    return Appointment.objects.create(
        person=person, starts_at=in_days(days), purpose=PURPOSE, with_user=user, place="12 rue des Lilas",
        structure=user.memberships.first().structure, created_by=user, attendance=attendance,
    )


def person_url(person):
    return f"/api/v1/persons/{person.pk}/appointments/"


def appointment_url(appointment, step=""):
    return f"/api/v1/appointments/{appointment.pk}/" + (f"{step}/" if step else "")


def payload(**overrides):
    values = {"starts_at": in_days(4, 15).isoformat(), "purpose": PURPOSE, "place": "Maison des solidarités"}
    values.update(overrides)
    return values


def test_list_and_read_are_logged(world, api_for):
    person = world["person"]
    appointment = make(person, world["referent"])
    Notification.objects.create(person=person, appointment=appointment, channel="email", kind="invitation",
                                status="sent")
    client = api_for(world["member"])
    response = client.get(person_url(person))
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["id"] == appointment.pk and item["purpose"] == PURPOSE
    assert item["with_user"]["full_name"] == "Rose Référente"
    assert item["notifications"] == [{
        "channel": "email", "channel_label": "Courriel", "kind": "invitation", "kind_label": "Convocation",
        "status": "sent", "error": "", "at": item["notifications"][0]["at"],
    }]
    assert client.get(appointment_url(appointment)).status_code == 200
    assert AccessLog.objects.filter(person=person, section=AccessLog.Section.APPOINTMENT,
                                    channel=AccessLog.Channel.API).count() == 2


def test_create_sends_invitation(world, api_for, django_capture_on_commit_callbacks):
    person = world["person"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(world["referent"]).post(person_url(person), payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["with_user"]["id"] == world["referent"].pk  # default: the current user
    assert body["notify_email"] is True and body["notify_sms"] is False  # what the person has
    # Messages leave after commit (a background task): the rows are there once it ran.
    assert list(Notification.objects.filter(appointment_id=body["id"]).values_list("kind", "status")) == [
        ("invitation", "sent")]
    assert len(mail.outbox) == 1 and PURPOSE not in mail.outbox[0].body


def test_create_errors_are_french_and_keyed(world, api_for):
    client = api_for(world["referent"])
    response = client.post(person_url(world["person"]), payload(starts_at=in_days(-1).isoformat()), format="json")
    assert response.status_code == 400
    assert "Rendez-vous déjà passé" in response.json()["starts_at"][0]
    response = client.post(person_url(world["person"]), payload(mode="video", place="visio"), format="json")
    assert "https://" in response.json()["place"][0]
    response = client.post(person_url(world["person"]), payload(with_user=world["outsider"].pk), format="json")
    assert "groupe de suivi" in response.json()["with_user"][0]
    assert not Appointment.objects.exists()


def test_record_past_appointment(world, api_for):
    response = api_for(world["referent"]).post(person_url(world["person"]), payload(
        starts_at=in_days(-1).isoformat(), already_happened=True, attendance="present"), format="json")
    assert response.status_code == 201
    assert response.json()["attendance"] == "present"
    assert Person.objects.get(pk=world["person"].pk).last_contact_on == in_days(-1).date()
    assert mail.outbox == []


@pytest.mark.parametrize("who, expected", [
    ("outsider", 403), ("colleague", 403), ("coordinator", 403), ("gers_officer", 404),
])
def test_policies(world, api_for, who, expected):
    person = world["person"]
    appointment = make(person, world["referent"], days=-1)
    client = api_for(world[who])
    assert client.get(person_url(person)).status_code == expected
    assert client.post(person_url(person), payload(), format="json").status_code == expected
    assert client.get(appointment_url(appointment)).status_code == expected
    assert client.patch(appointment_url(appointment), {"place": "Ailleurs"}, format="json").status_code == expected
    assert client.post(appointment_url(appointment, "attendance"), {"attendance": "absent"},
                       format="json").status_code == expected
    assert client.post(appointment_url(appointment, "cancel"), {"reason": "x"}, format="json").status_code == expected
    appointment.refresh_from_db()
    assert appointment.attendance == "pending" and appointment.status == "scheduled"
    assert appointment.place == "12 rue des Lilas"
    assert not AccessLog.objects.filter(section=AccessLog.Section.APPOINTMENT).exists()


def test_unknown_appointment_and_other_territory_look_the_same(world, api_for):
    gers_person = PersonFactory(territory=world["gers"])
    add_to_group(gers_person, world["gers_officer"], FollowUpMembership.Kind.REFERENT)
    foreign = make(gers_person, world["gers_officer"])
    client = api_for(world["referent"])
    unknown = client.get("/api/v1/appointments/999999/")
    other = client.get(appointment_url(foreign))
    assert unknown.status_code == other.status_code == 404
    assert unknown.json() == other.json() == {"detail": "Rendez-vous introuvable."}


def test_patch_reschedules_and_notifies(world, api_for, django_capture_on_commit_callbacks):
    appointment = make(world["person"], world["referent"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(world["referent"]).patch(appointment_url(appointment),
                                                    {"starts_at": in_days(6, 16).isoformat()}, format="json")
    assert response.status_code == 200, response.json()
    assert list(Notification.objects.filter(appointment=appointment).values_list("kind", flat=True)) == ["change"]
    assert mail.outbox[0].subject.startswith("Rendez-vous modifié")


def test_patch_past_is_conflict(world, api_for):
    appointment = make(world["person"], world["referent"], days=-1)
    response = api_for(world["referent"]).patch(appointment_url(appointment), {"place": "x"}, format="json")
    assert response.status_code == 409
    assert "renseignez la présence" in response.json()["detail"]


def test_attendance_and_cancel(world, api_for, django_capture_on_commit_callbacks):
    client = api_for(world["member"])
    future = make(world["person"], world["referent"], days=2)
    response = client.post(appointment_url(future, "attendance"), {"attendance": "present"}, format="json")
    assert response.status_code == 409 and "pas encore eu lieu" in response.json()["detail"]
    past = make(world["person"], world["referent"], days=-2)
    response = client.post(appointment_url(past, "attendance"), {"attendance": "maybe"}, format="json")
    assert response.status_code == 400
    response = client.post(appointment_url(past, "attendance"), {"attendance": "absent"}, format="json")
    assert response.status_code == 200 and response.json()["attendance"] == "absent"
    response = client.post(appointment_url(past, "cancel"), {"reason": "x"}, format="json")
    assert response.status_code == 409
    response = client.post(appointment_url(future, "cancel"), {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(appointment_url(future, "cancel"), {"reason": "Maladie"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert "Maladie" not in mail.outbox[0].body


def test_list_query_count_is_constant(world, api_for):
    client = api_for(world["referent"])
    person = world["person"]

    def count_queries(n):
        Appointment.objects.all().delete()
        for i in range(n):
            appointment = make(person, world["referent"] if i % 2 else world["member"], days=i - 5)
            Notification.objects.create(person=person, appointment=appointment, channel="sms", kind="reminder",
                                        status="failed", error="Passerelle SMS injoignable")
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(person_url(person))
        assert response.status_code == 200 and len(response.json()["results"]) == n
        return len(ctx)

    assert count_queries(2) == count_queries(10)
