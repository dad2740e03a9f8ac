"""Appointments: scheduling rules, rescheduling, cancellation, attendance, messages to the person
(e-mail and SMS), reminders and no-show rates (spie.followup.services.appointments)."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from spie.core import sms
from spie.followup import tasks
from spie.followup.models import Appointment, Notification
from spie.followup.services import appointments as services
from spie.people import policies as people_policies
from spie.people.models import Person, TimelineEvent
from tests.pathways.conftest import HEALTH_SECRET, PERSON_EMAIL, membership_of

PURPOSE = "Point sur le suivi psychiatrique et les dettes"


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def access(user, person):
    return people_policies.access_for(user, membership_of(user), person)


def in_days(days, hour=10, minute=0):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def data(world, **overrides):
    values = {
        "starts_at": in_days(3), "duration_minutes": 45, "mode": Appointment.Mode.IN_PERSON,
        "place": "12 rue des Lilas, 31000 Toulouse", "purpose": PURPOSE, "with_user": world["referent"].pk,
    }
    values.update(overrides)
    return values


def schedule(world, capture, user=None, **overrides):
    user = user or world["referent"]
    person = world["person"]
    with capture(execute=True):
        return services.schedule_appointment(
            person, membership_of(user), access=access(user, person), data=data(world, **overrides)
        )


@pytest.fixture
def sms_person(world):
    person = world["person"]
    person.phone = "06 12 34 56 78"
    person.save()
    world["ref_structure"].phone = "05 61 22 33 44"
    world["ref_structure"].save()
    return person


# --- Scheduling rules ------------------------------------------------------------------------


def test_schedule_creates_appointment_event_and_invitation(world, sms_person, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks)
    appointment.refresh_from_db()
    assert appointment.with_user == world["referent"]
    assert appointment.structure == world["ref_structure"]
    assert appointment.status == Appointment.Status.SCHEDULED
    assert appointment.attendance == Appointment.Attendance.PENDING
    assert appointment.notify_email and appointment.notify_sms  # defaults: what the person has
    assert appointment.invitation_sent_at is not None
    event = TimelineEvent.objects.get(person=world["person"], kind="appointment_scheduled")
    assert event.title.startswith("Rendez-vous fixé le ")
    assert PURPOSE not in event.title + event.detail
    rows = list(Notification.objects.filter(appointment=appointment).values_list("channel", "kind", "status"))
    assert sorted(rows) == [("email", "invitation", "sent"), ("sms", "invitation", "sent")]
    assert len(mail.outbox) == 1 and len(sms.outbox) == 1


def test_invitation_email_is_french_and_holds_no_sensitive_data(world, sms_person, django_capture_on_commit_callbacks):
    schedule(world, django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    assert message.to == [PERSON_EMAIL]
    assert message.subject.startswith("Convocation à un rendez-vous le ")
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "Vous avez rendez-vous" in body
        assert "12 rue des Lilas" in body
        assert "Rose Référente" in body and "Association Tremplin" in body
        assert "Si vous ne pouvez pas venir" in body and "05 61 22 33 44" in body
        assert PURPOSE not in body and "psychiatrique" not in body
        assert HEALTH_SECRET not in body
    local = timezone.localtime(in_days(3))
    assert local.strftime("%Y") in message.body and "10h00" in message.body
    french_days = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
    assert any(day in message.body for day in french_days)
    # Notification rows never hold the text.
    assert all(not n.error for n in Notification.objects.all())


def test_invitation_sms_is_short_and_without_purpose(world, sms_person, django_capture_on_commit_callbacks):
    schedule(world, django_capture_on_commit_callbacks,
             place="Maison des solidarités, 145 avenue de Grande-Bretagne, bâtiment C, 2e étage, 31300 Toulouse")
    message = sms.outbox[0]
    assert message.to == "+33612345678"
    assert len(message.text) <= 160
    assert message.text.startswith("RDV le ")
    assert "10h00" in message.text
    assert "psychiatrique" not in message.text and HEALTH_SECRET not in message.text
    assert "05 61 22 33 44" in message.text  # how to excuse oneself
    assert sms.to_gsm(message.text) == message.text


def test_channel_without_contact_is_skipped(world, django_capture_on_commit_callbacks):
    person = world["person"]
    person.email = ""
    person.phone = "05 61 00 00 00"  # a landline: no SMS
    person.save()
    channels = services.contact_channels(person)
    assert not channels.email and not channels.sms
    assert "mobile" in channels.sms_reason
    appointment = schedule(world, django_capture_on_commit_callbacks, notify_email=True, notify_sms=True)
    appointment.refresh_from_db()
    assert mail.outbox == [] and sms.outbox == []
    assert not Notification.objects.exists()
    assert appointment.invitation_sent_at is None  # nothing was sent


def test_unchecked_channel_is_not_used(world, sms_person, django_capture_on_commit_callbacks):
    schedule(world, django_capture_on_commit_callbacks, notify_email=False, notify_sms=True)
    assert mail.outbox == [] and len(sms.outbox) == 1


def test_failed_email_is_recorded_without_text(world, sms_person, django_capture_on_commit_callbacks, monkeypatch):
    def boom(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", boom)
    appointment = schedule(world, django_capture_on_commit_callbacks)
    failed = Notification.objects.get(appointment=appointment, channel="email")
    assert failed.status == Notification.Status.FAILED
    assert "ConnectionRefusedError" in failed.error
    assert Notification.objects.get(appointment=appointment, channel="sms").status == Notification.Status.SENT


@pytest.mark.parametrize("overrides, field, words", [
    ({"starts_at": None}, "starts_at", "Indiquez la date"),
    ({"duration_minutes": 2}, "duration_minutes", "entre 5 minutes"),
    ({"mode": "carrier_pigeon"}, "mode", "modalité"),
    ({"place": ""}, "place", "lieu du rendez-vous"),
    ({"mode": "video", "place": ""}, "place", "lien de la visioconférence"),
    ({"mode": "video", "place": "http://visio.example/abc"}, "place", "https://"),
    ({"purpose": " "}, "purpose", "objet"),
    ({"starts_at": "in_two_years"}, "starts_at", "un an à l'avance"),
])
def test_schedule_rejects_bad_input_in_french(world, overrides, field, words):
    if overrides.get("starts_at") == "in_two_years":
        overrides = {"starts_at": in_days(800)}
    with pytest.raises(ValidationError) as exc:
        services.schedule_appointment(world["person"], membership_of(world["referent"]),
                                      access=access(world["referent"], world["person"]), data=data(world, **overrides))
    assert words in " ".join(exc.value.message_dict[field])
    assert not Appointment.objects.exists()


def test_with_user_must_be_in_the_group(world):
    with pytest.raises(ValidationError) as exc:
        services.schedule_appointment(world["person"], membership_of(world["referent"]),
                                      access=access(world["referent"], world["person"]),
                                      data=data(world, with_user=world["outsider"].pk))
    assert "groupe de suivi" in exc.value.message_dict["with_user"][0]


def test_phone_and_home_need_no_place(world, django_capture_on_commit_callbacks):
    a = schedule(world, django_capture_on_commit_callbacks, mode="phone", place="")
    b = schedule(world, django_capture_on_commit_callbacks, mode="home", place="", starts_at=in_days(4))
    assert a.mode == "phone" and b.mode == "home"


def test_past_start_needs_already_happened(world):
    with pytest.raises(ValidationError) as exc:
        services.schedule_appointment(world["person"], membership_of(world["referent"]),
                                      access=access(world["referent"], world["person"]),
                                      data=data(world, starts_at=in_days(-2)))
    assert "Rendez-vous déjà passé" in exc.value.message_dict["starts_at"][0]


def test_recording_a_past_appointment_sends_nothing_and_records_contact(world, django_capture_on_commit_callbacks):
    when = in_days(-2)
    appointment = schedule(world, django_capture_on_commit_callbacks, starts_at=when, already_happened=True,
                           attendance="present", notify_email=True)
    appointment.refresh_from_db()
    assert appointment.attendance == "present" and not appointment.notify_email
    assert mail.outbox == [] and sms.outbox == []
    world["person"].refresh_from_db()
    assert world["person"].last_contact_on == timezone.localtime(when).date()


def test_already_happened_rules(world):
    kwargs = {"access": access(world["referent"], world["person"])}
    membership = membership_of(world["referent"])
    with pytest.raises(ValidationError) as exc:
        services.schedule_appointment(world["person"], membership, data=data(
            world, starts_at=in_days(2), already_happened=True, attendance="present"), **kwargs)
    assert "date passée" in exc.value.message_dict["starts_at"][0]
    with pytest.raises(ValidationError) as exc:
        services.schedule_appointment(world["person"], membership, data=data(
            world, starts_at=in_days(-2), already_happened=True), **kwargs)
    assert "présente, absente ou excusée" in exc.value.message_dict["attendance"][0]


def test_overlapping_appointment_of_the_same_person_is_refused(world, django_capture_on_commit_callbacks):
    schedule(world, django_capture_on_commit_callbacks, starts_at=in_days(3, 10, 0))
    with pytest.raises(ValidationError) as exc:
        services.schedule_appointment(world["person"], membership_of(world["referent"]),
                                      access=access(world["referent"], world["person"]),
                                      data=data(world, starts_at=in_days(3, 10, 30)))
    assert "déjà prévu" in exc.value.message_dict["starts_at"][0]
    schedule(world, django_capture_on_commit_callbacks, starts_at=in_days(3, 10, 45))  # right after: fine


def test_who_may_schedule(world):
    person = world["person"]
    for user in (world["outsider"], world["coordinator"], world["colleague"]):
        with pytest.raises(PermissionDenied):
            services.schedule_appointment(person, membership_of(user), access=access(user, person),
                                          data=data(world))
    assert not Appointment.objects.exists()


def test_group_member_schedules_for_themself(world, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks, user=world["member"],
                           with_user=world["member"].pk)
    assert appointment.structure == world["other_structure"]


# --- Rescheduling, cancellation ---------------------------------------------------------------


def test_reschedule_sends_change_and_resets_reminder(world, sms_person, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks, starts_at=in_days(1, 9))
    Appointment.objects.filter(pk=appointment.pk).update(reminder_sent_at=timezone.now())
    mail.outbox.clear()
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        updated = services.update_appointment(appointment, membership_of(world["referent"]),
                                              access=access(world["referent"], world["person"]),
                                              data={"starts_at": in_days(5, 14, 30)})
    updated.refresh_from_db()
    assert updated.starts_at == in_days(5, 14, 30)
    assert updated.reminder_sent_at is None
    assert mail.outbox[0].subject.startswith("Rendez-vous modifié")
    assert "14h30" in mail.outbox[0].body and "a changé" in mail.outbox[0].body
    assert sms.outbox[0].text.startswith("RDV modifié")
    assert Notification.objects.filter(kind="change").count() == 2
    assert TimelineEvent.objects.filter(kind="appointment_changed", title__startswith="Rendez-vous déplacé").exists()


def test_purpose_only_change_sends_nothing(world, sms_person, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        updated = services.update_appointment(appointment, membership_of(world["referent"]),
                                              access=access(world["referent"], world["person"]),
                                              data={"purpose": "Autre objet"})
    assert not updated.changed and mail.outbox == []
    assert not Notification.objects.filter(kind="change").exists()


def test_passed_or_cancelled_appointment_is_not_rescheduled(world, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=in_days(-1))
    kwargs = {"access": access(world["referent"], world["person"])}
    with pytest.raises(ValidationError, match="renseignez la présence"):
        services.update_appointment(appointment, membership_of(world["referent"]),
                                    data={"starts_at": in_days(2)}, **kwargs)
    other = schedule(world, django_capture_on_commit_callbacks, starts_at=in_days(6))
    services.cancel_appointment(other, membership_of(world["referent"]), reason="Empêchement", **kwargs)
    with pytest.raises(ValidationError, match="annulé"):
        services.update_appointment(other, membership_of(world["referent"]), data={"starts_at": in_days(8)}, **kwargs)


def test_reschedule_into_the_past_is_refused(world, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as exc:
        services.update_appointment(appointment, membership_of(world["referent"]),
                                    access=access(world["referent"], world["person"]),
                                    data={"starts_at": in_days(-1)})
    assert "passée" in exc.value.message_dict["starts_at"][0]


def test_cancel_with_reason_notifies_without_the_reason(world, sms_person, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    sms.outbox.clear()
    kwargs = {"access": access(world["referent"], world["person"])}
    with pytest.raises(ValidationError) as exc:
        services.cancel_appointment(appointment, membership_of(world["referent"]), reason=" ", **kwargs)
    assert "motif" in exc.value.message_dict["reason"][0]
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_appointment(appointment, membership_of(world["referent"]),
                                    reason="Hospitalisation de la personne", **kwargs)
    appointment.refresh_from_db()
    assert appointment.status == "cancelled" and appointment.cancel_reason == "Hospitalisation de la personne"
    assert mail.outbox[0].subject.endswith("annulé")
    assert "Hospitalisation" not in mail.outbox[0].body
    assert sms.outbox[0].text.startswith("ANNULÉ")
    assert "Hospitalisation" not in sms.outbox[0].text
    event = TimelineEvent.objects.get(kind="appointment_cancelled")
    assert "Hospitalisation" not in event.title + event.detail
    assert Notification.objects.filter(kind="cancellation", status="sent").count() == 2


def test_stale_messages_are_dropped(world, sms_person, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks)
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
    assert services.send_notifications(appointment.pk, "change") == []
    assert services.send_notifications(appointment.pk, "invitation") == []  # cancelled: dropped
    assert services.send_notifications(999999, "invitation") == []


def test_invitation_goes_once(world, sms_person, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks)
    assert tasks.send_appointment_notifications.enqueue(appointment.pk, "invitation").return_value == 0
    assert len(mail.outbox) == 1


# --- Attendance --------------------------------------------------------------------------------


def test_attendance_present_records_contact_and_event(world, django_capture_on_commit_callbacks):
    when = in_days(-3, 9)
    appointment = schedule(world, django_capture_on_commit_callbacks)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=when)
    services.record_attendance(appointment, membership_of(world["referent"]),
                               access=access(world["referent"], world["person"]), attendance="present")
    appointment.refresh_from_db()
    assert appointment.attendance == "present" and appointment.attendance_recorded_by == world["referent"]
    assert Person.objects.get(pk=world["person"].pk).last_contact_on == timezone.localtime(when).date()
    assert TimelineEvent.objects.filter(kind="appointment_attendance", title__startswith="Présent(e)").exists()


def test_attendance_absent_writes_event_without_contact(world, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=in_days(-1))
    services.record_attendance(appointment, membership_of(world["member"]),
                               access=access(world["member"], world["person"]), attendance="absent")
    assert Person.objects.get(pk=world["person"].pk).last_contact_on is None
    assert TimelineEvent.objects.filter(kind="appointment_attendance", title__startswith="Absent(e)").exists()
    # A correction is allowed, and said so.
    services.record_attendance(appointment, membership_of(world["member"]),
                               access=access(world["member"], world["person"]), attendance="excused")
    assert TimelineEvent.objects.filter(title__startswith="Présence corrigée : absence excusée").exists()


def test_attendance_rules(world, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks)
    kwargs = {"access": access(world["referent"], world["person"])}
    membership = membership_of(world["referent"])
    with pytest.raises(ValidationError, match="pas encore eu lieu"):
        services.record_attendance(appointment, membership, attendance="present", **kwargs)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=in_days(-1))
    with pytest.raises(ValidationError):
        services.record_attendance(appointment, membership, attendance="pending", **kwargs)
    with pytest.raises(PermissionDenied):
        services.record_attendance(appointment, membership_of(world["outsider"]),
                                   access=access(world["outsider"], world["person"]), attendance="present")
    services.record_attendance(appointment, membership, attendance="present", **kwargs)
    with pytest.raises(ValidationError, match="présence est déjà renseignée"):
        services.cancel_appointment(appointment, membership, reason="Trop tard", **kwargs)


# --- Reminders ---------------------------------------------------------------------------------


def test_reminders_within_24_hours_once(world, sms_person, django_capture_on_commit_callbacks):
    soon = schedule(world, django_capture_on_commit_callbacks, starts_at=timezone.now() + datetime.timedelta(hours=5))
    later = schedule(world, django_capture_on_commit_callbacks, starts_at=timezone.now() + datetime.timedelta(hours=30))
    cancelled = schedule(world, django_capture_on_commit_callbacks,
                         starts_at=timezone.now() + datetime.timedelta(hours=10))
    services.cancel_appointment(cancelled, membership_of(world["referent"]), reason="Empêchement",
                                access=access(world["referent"], world["person"]))
    mail.outbox.clear()
    sms.outbox.clear()
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "1 rappel de rendez-vous envoyé."
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.reminder_sent_at is not None and later.reminder_sent_at is None
    assert [m.subject.split(" :")[0] for m in mail.outbox] == ["Rappel"]
    assert sms.outbox[0].text.startswith("Rappel RDV")
    assert Notification.objects.filter(kind="reminder").count() == 2
    # Idempotent: a second run sends nothing.
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "0 rappel de rendez-vous envoyé."
    assert len(mail.outbox) == 1
    # 24 hours later, the other one is due; the task does the same.
    later_now = timezone.now() + datetime.timedelta(hours=8)
    assert services.send_due_reminders(now=later_now) == 1
    assert tasks.send_due_reminders.enqueue().return_value == 0


def test_reminder_skips_person_without_channel(world, django_capture_on_commit_callbacks):
    appointment = schedule(world, django_capture_on_commit_callbacks,
                           starts_at=timezone.now() + datetime.timedelta(hours=3))
    Notification.objects.all().delete()
    person = world["person"]
    person.email = ""  # removed since the invitation
    person.save()
    assert services.send_due_reminders() == 0
    appointment.refresh_from_db()
    assert appointment.reminder_sent_at is not None  # claimed: not retried every hour
    assert not Notification.objects.exists()


def test_reminder_not_sent_when_no_channel_asked(world, sms_person, django_capture_on_commit_callbacks):
    schedule(world, django_capture_on_commit_callbacks, starts_at=timezone.now() + datetime.timedelta(hours=3),
             notify_email=False, notify_sms=False)
    assert list(services.due_reminders()) == []


def test_reminders_command_help_documents_cron():
    from spie.followup.management.commands.send_reminders import Command

    assert "cron" in Command.help and "24" in Command.help


# --- No-show rates -----------------------------------------------------------------------------


def make_past(world, user, attendance, days_ago=5, structure=None, status=Appointment.Status.SCHEDULED):
    return Appointment.objects.create(
        person=world["person"], starts_at=in_days(-days_ago), purpose="x", with_user=user,
        structure=structure or user.memberships.first().structure, created_by=user, attendance=attendance,
        status=status,
    )


def test_rates_numbers(world):
    ref, member = world["referent"], world["member"]
    for attendance in ("present", "present", "absent", "excused"):
        make_past(world, ref, attendance)
    make_past(world, ref, "absent", days_ago=200)  # outside the period
    make_past(world, ref, "pending")
    make_past(world, ref, "absent", status=Appointment.Status.CANCELLED)
    make_past(world, member, "absent")
    make_past(world, world["colleague"], "present")
    start, end = timezone.localdate() - datetime.timedelta(days=90), timezone.localdate()

    rows, total = services.attendance_rates(start=start, end=end, user=ref)
    assert (total.present, total.absent, total.excused, total.pending) == (2, 1, 1, 1)
    assert total.rate == 25.0 and total.excused_rate == 25.0

    rows, total = services.attendance_rates(start=start, end=end, structure=world["ref_structure"])
    by_label = {r.label: r for r in rows}
    assert by_label["Rose Référente"].rate == 25.0
    assert by_label["Paul Collègue"].rate == 0.0
    assert "Mona Membre" not in by_label
    assert total.recorded == 5 and total.absent == 1

    rows, total = services.attendance_rates(start=start, end=end, territory=world["territory"])
    by_label = {r.label: r for r in rows}
    assert by_label["Mission locale Ouest"].rate == 100.0
    assert by_label["Association Tremplin"].rate == 20.0
    assert total.rate == round(100 * 2 / 6, 1)

    rows, total = services.attendance_rates(start=start - datetime.timedelta(days=200), end=end, user=ref)
    assert total.absent == 2


def test_rate_without_recorded_attendance_is_none(world):
    make_past(world, world["referent"], "pending")
    _rows, total = services.attendance_rates(start=timezone.localdate() - datetime.timedelta(days=90),
                                             end=timezone.localdate(), user=world["referent"])
    assert total.rate is None and total.pending == 1
