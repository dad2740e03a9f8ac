"""Pages of appointments: the person's page (policies, forms, French errors), edit, cancel,
attendance, the agenda and its exports, the no-show rates, the summary tag, query counts."""

import datetime
import html

import pytest
from django.core import mail
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from spie.core import sms
from spie.core.models import AccessLog
from spie.followup.models import Appointment, Notification
from spie.people import policies as people_policies
from spie.people.models import FollowUpMembership
from tests.pathways.conftest import membership_of
from tests.people.factories import PersonFactory, add_to_group

PURPOSE = "Point budget et dettes"


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()


def in_days(days, hour=10, minute=0):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def make(person, user, *, days=3, hour=10, attendance="pending", status="scheduled", structure=None):
    return Appointment.objects.create(
        person=person, starts_at=in_days(days, hour), purpose=PURPOSE, with_user=user, mode="in_person",
        place="12 rue des Lilas", structure=structure or user.memberships.first().structure, created_by=user,
        attendance=attendance, status=status,
    )


def url(person, name="followup:appointments", appointment=None):
    if appointment is None:
        return reverse(name, kwargs={"pk": person.pk})
    return reverse(name, kwargs={"pk": person.pk, "appointment_id": appointment.pk})


def form_data(world, **overrides):
    day = timezone.localdate() + datetime.timedelta(days=4)
    values = {
        "date": day.isoformat(), "time": "14:30", "duration_minutes": "45", "mode": "in_person",
        "place": "Maison des solidarités, Muret", "purpose": PURPOSE, "with_user": str(world["referent"].pk),
        "notify_email": "on",
    }
    values.update(overrides)
    return values


# --- The person's page: policies ----------------------------------------------------------------


def test_referent_sees_the_page_and_it_is_logged(world, client_for):
    person = world["person"]
    make(person, world["referent"], days=2)
    make(person, world["referent"], days=-2)
    response = client_for(world["referent"]).get(url(person))
    assert response.status_code == 200
    body = response.content.decode()
    assert "À venir" in body and "Passés et annulés" in body and "Fixer un rendez-vous" in body
    assert body.count(PURPOSE) == 2
    assert "Présence à renseigner" in body
    assert AccessLog.objects.filter(person=person, user=world["referent"],
                                    section=AccessLog.Section.APPOINTMENT).count() == 1


def test_member_reads_and_may_schedule(world, client_for):
    response = client_for(world["member"]).get(url(world["person"]))
    assert response.status_code == 200
    assert "Fixer un rendez-vous" in response.content.decode()


@pytest.mark.parametrize("who, expected", [
    ("outsider", 403), ("colleague", 403), ("coordinator", 403), ("gers_officer", 404),
])
def test_who_may_not_see(world, client_for, who, expected):
    person = world["person"]
    appointment = make(person, world["referent"])
    client = client_for(world[who])
    assert client.get(url(person)).status_code == expected
    assert client.post(url(person), form_data(world)).status_code == expected
    assert client.post(url(person, "followup:appointment_cancel", appointment), {"reason": "x"}).status_code \
        == expected
    assert client.get(url(person, "followup:appointment_edit", appointment)).status_code == expected
    appointment.refresh_from_db()
    assert appointment.status == "scheduled"
    assert Appointment.objects.count() == 1
    assert not AccessLog.objects.filter(section=AccessLog.Section.APPOINTMENT).exists()


def test_unknown_person_is_404(world, client_for):
    assert client_for(world["referent"]).get(reverse("followup:appointments", kwargs={"pk": 999999})).status_code \
        == 404


def test_idor_appointment_of_another_person(world, client_for):
    """An appointment id of another person, through a person one may open: 404, nothing changes."""
    other = PersonFactory(territory=world["territory"])
    add_to_group(other, world["outsider"], FollowUpMembership.Kind.REFERENT)
    foreign = make(other, world["outsider"], days=-1)
    client = client_for(world["referent"])
    person = world["person"]
    for name in ("followup:appointment_edit", "followup:appointment_cancel"):
        assert client.get(url(person, name, foreign)).status_code == 404
    assert client.post(url(person, "followup:appointment_attendance", foreign),
                       {"attendance": "absent"}).status_code == 404
    assert client.post(url(person, "followup:appointment_cancel", foreign), {"reason": "x"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.attendance == "pending" and foreign.status == "scheduled"


# --- The person's page: forms -------------------------------------------------------------------


def test_schedule_through_the_page(world, client_for, django_capture_on_commit_callbacks):
    person = world["person"]
    client = client_for(world["referent"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(person), form_data(world))
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert timezone.localtime(appointment.starts_at).strftime("%H:%M") == "14:30"
    assert appointment.notify_email and not appointment.notify_sms
    assert len(mail.outbox) == 1
    page = html.unescape(client.get(url(person)).content.decode())
    assert "Convocation par courriel : envoyé" in page
    assert "La convocation part par courriel" in page


def test_bad_input_keeps_values_and_says_why(world, client_for):
    response = client_for(world["referent"]).post(url(world["person"]), form_data(world, mode="video", place="",
                                                                                  purpose="Mon objet à garder"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Indiquez le lien de la visioconférence." in body
    assert 'value="Mon objet à garder"' in body
    assert not Appointment.objects.exists()


def test_past_date_without_checkbox_is_explained(world, client_for):
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = client_for(world["referent"]).post(url(world["person"]), form_data(world, date=yesterday))
    assert response.status_code == 400
    assert "Rendez-vous déjà passé" in response.content.decode()
    response = client_for(world["referent"]).post(url(world["person"]), form_data(
        world, date=yesterday, already_happened="on", attendance="present"))
    assert response.status_code == 302
    assert Appointment.objects.get().attendance == "present"
    assert mail.outbox == []


def test_page_says_when_a_channel_is_missing(world, client_for):
    person = world["person"]
    person.email = ""
    person.phone = "0561000000"
    person.save()
    body = html.unescape(client_for(world["referent"]).get(url(person)).content.decode())
    assert "Pas d'adresse électronique" in body
    assert "pas un numéro de mobile" in body


def test_edit_cancel_and_attendance_pages(world, client_for, django_capture_on_commit_callbacks):
    person = world["person"]
    appointment = make(person, world["referent"], days=3)
    appointment.notify_sms = False
    appointment.save()
    client = client_for(world["referent"])
    page = client.get(url(person, "followup:appointment_edit", appointment))
    assert page.status_code == 200 and 'value="12 rue des Lilas"' in page.content.decode()
    new_day = (timezone.localdate() + datetime.timedelta(days=6)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(person, "followup:appointment_edit", appointment),
                               form_data(world, date=new_day, time="09:15"))
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert timezone.localtime(appointment.starts_at).strftime("%H:%M") == "09:15"
    assert Notification.objects.filter(kind="change", channel="email").exists()

    response = client.post(url(person, "followup:appointment_cancel", appointment), {"reason": ""})
    assert response.status_code == 400 and "obligatoire" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(person, "followup:appointment_cancel", appointment), {"reason": "Empêchement"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert Notification.objects.filter(kind="cancellation").exists()
    # A cancelled appointment is no longer editable.
    assert client.get(url(person, "followup:appointment_edit", appointment)).status_code == 302

    past = make(person, world["referent"], days=-1)
    response = client.post(url(person, "followup:appointment_attendance", past),
                           {"attendance": "present", "next": reverse("followup:agenda") + "?onglet=a-renseigner"})
    assert response.status_code == 302 and response["Location"] == "/rendez-vous/?onglet=a-renseigner"
    past.refresh_from_db()
    assert past.attendance == "present"
    response = client.post(url(person, "followup:appointment_attendance", past),
                           {"attendance": "absent", "next": "https://evil.example/"})
    assert response["Location"] == url(person)


def test_attendance_of_a_future_appointment_is_refused_with_a_message(world, client_for):
    person = world["person"]
    future = make(person, world["referent"], days=2)
    client = client_for(world["referent"])
    response = client.post(url(person, "followup:appointment_attendance", future), {"attendance": "present"},
                           follow=True)
    assert "pas encore eu lieu" in response.content.decode()
    future.refresh_from_db()
    assert future.attendance == "pending"


# --- Agenda ---------------------------------------------------------------------------------


def test_agenda_tabs_and_exports(world, client_for):
    person = world["person"]
    make(person, world["referent"], days=2)
    make(person, world["referent"], days=-2)
    make(person, world["referent"], days=-3, attendance="present")
    make(person, world["member"], days=1)  # someone else's
    client = client_for(world["referent"])
    body = client.get(reverse("followup:agenda")).content.decode()
    assert body.count(PURPOSE) == 1 and "DUPUIS Camille" in body
    body = client.get(reverse("followup:agenda") + "?onglet=a-renseigner").content.decode()
    assert body.count(PURPOSE) == 1 and "Excusé(e)" in body
    response = client.get(reverse("followup:agenda") + "?onglet=a-renseigner&format=csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = content.strip().splitlines()
    assert lines[0].startswith("Date;Heure;")
    assert len(lines) == 2 and "DUPUIS;Camille" in lines[1] and "À renseigner" in lines[1]
    exports = AccessLog.objects.filter(section=AccessLog.Section.EXPORT, user=world["referent"])
    assert list(exports.values_list("person_id", flat=True)) == [person.pk]
    response = client.get(reverse("followup:agenda") + "?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert exports.count() == 2


def test_agenda_query_count_is_constant(world, client_for):
    client = client_for(world["referent"])

    def count_queries(n):
        Appointment.objects.all().delete()
        for i in range(n):
            person = PersonFactory(territory=world["territory"])
            add_to_group(person, world["referent"], FollowUpMembership.Kind.REFERENT)
            make(person, world["referent"], days=1 + i % 5, hour=8 + i)
            make(person, world["referent"], days=-1 - i % 5, hour=8 + i)
        results = {}
        for tab in ("a-venir", "a-renseigner"):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(reverse("followup:agenda") + f"?onglet={tab}")
            assert response.status_code == 200
            results[tab] = len(ctx)
        return results

    assert count_queries(2) == count_queries(10)


def test_person_page_query_count_is_constant(world, client_for):
    person = world["person"]
    client = client_for(world["referent"])

    def count_queries(n):
        Appointment.objects.all().delete()
        for i in range(n):
            upcoming = make(person, world["referent"], days=1 + i, hour=9)
            past = make(person, world["member"], days=-1 - i, hour=9)
            for appointment in (upcoming, past):
                Notification.objects.create(person=person, appointment=appointment, channel="email",
                                            kind="invitation", status="sent")
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url(person))
        assert response.status_code == 200
        return len(ctx)

    assert count_queries(2) == count_queries(10)


# --- No-show rates --------------------------------------------------------------------------


def test_rates_page_by_role(world, client_for):
    person = world["person"]
    for attendance in ("present", "absent", "absent", "excused"):
        make(person, world["referent"], days=-5, attendance=attendance)
    make(person, world["member"], days=-5, attendance="present")
    stats = reverse("followup:attendance_stats")

    body = client_for(world["referent"]).get(stats).content.decode()
    assert "Vos rendez-vous" in body and "50,0 %" in body and "Mona Membre" not in body

    body = client_for(world["admin_ref"]).get(stats).content.decode()
    assert "Par professionnel — Association Tremplin" in body and "Rose Référente" in body
    assert "Mona Membre" not in body

    response = client_for(world["coordinator"]).get(stats)
    body = response.content.decode()
    assert "Association Tremplin" in body and "Mission locale Ouest" in body
    assert "DUPUIS" not in body and "Camille" not in body and PURPOSE not in body
    assert "<progress" in body

    response = client_for(world["coordinator"]).get(stats + "?format=csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Structure;Présents;Absents;Excusés")
    assert any(line.startswith("Association Tremplin;1;2;1;4;50.0") for line in lines)
    assert lines[-1].startswith("Total;2;2;1;5;40.0")
    assert not AccessLog.objects.filter(section=AccessLog.Section.EXPORT).exists()  # no person named


def test_rates_period_and_bad_period(world, client_for):
    make(world["person"], world["referent"], days=-200, attendance="absent")
    stats = reverse("followup:attendance_stats")
    client = client_for(world["referent"])
    assert "100,0 %" not in client.get(stats).content.decode()
    start = (timezone.localdate() - datetime.timedelta(days=300)).isoformat()
    assert "100,0 %" in client.get(stats + f"?start={start}").content.decode()
    body = client.get(stats + "?start=2026-05-01&end=2026-01-01").content.decode()
    assert "La date de début doit précéder la date de fin." in body


def test_rates_page_query_count_is_constant(world, client_for):
    client = client_for(world["coordinator"])

    def count_queries(n):
        Appointment.objects.all().delete()
        for i in range(n):
            make(world["person"], world["referent"] if i % 2 else world["member"], days=-1 - i,
                 attendance="absent" if i % 3 else "present")
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("followup:attendance_stats"))
        return len(ctx)

    assert count_queries(2) == count_queries(10)


# --- Summary tag ----------------------------------------------------------------------------


def test_summary_tag_in_two_queries(world, django_assert_max_num_queries):
    person = world["person"]
    make(person, world["referent"], days=2)
    make(person, world["referent"], days=5)
    make(person, world["referent"], days=-2)
    make(person, world["referent"], days=-3)
    make(person, world["referent"], days=-4, attendance="present")
    access = people_policies.access_for(world["referent"], membership_of(world["referent"]), person)
    template = Template("{% load appointments_tags %}{% appointments_summary person access %}")
    with django_assert_max_num_queries(2):
        rendered = template.render(Context({"person": person, "access": access}))
    assert "2 rendez-vous passés" in rendered
    assert "Rose Référente" in rendered
    outsider_access = people_policies.access_for(world["outsider"], membership_of(world["outsider"]), person)
    with django_assert_max_num_queries(0):
        assert template.render(Context({"person": person, "access": outsider_access})).strip() == ""
