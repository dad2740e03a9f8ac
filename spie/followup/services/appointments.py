"""Appointments with the person: scheduling, rescheduling, cancellation, attendance, the
messages sent to the person (invitation, change, cancellation, reminder by e-mail and SMS), the
professional's agenda and the no-show rates.

Rules:

- Writes need ``followup.policies.can_edit`` (référent, group member, chargé d'orientation
  without opposition); the appointment is held by a professional of the follow-up group, for
  the structure on whose behalf they follow the person.
- A new appointment starts in the future, unless it is recorded after the fact ("déjà passé"):
  then its attendance is given at once and no message is sent.
- A passed appointment is not moved: its attendance is recorded (present, absent, excused).
  Present counts as a contact with the person (``record_contact``).
- Messages hold what the person needs and nothing else: date, time, place or how, with whom,
  the structure and how to excuse oneself. Never the purpose (it may be about health or debts),
  never a cancellation reason. Each attempt writes a :class:`Notification` (channel, kind,
  outcome, error) without the text. A channel is skipped when the person has no e-mail address
  or no valid mobile number; the pages say so (:func:`contact_channels`).
- Messages leave after the transaction commits, through a background task
  (``spie.followup.tasks``). Reminders go once (``reminder_sent_at`` is claimed atomically) for
  the appointments starting within 24 hours (``manage.py send_reminders``).
- Timeline events say that an appointment was set, moved, cancelled or attended, never why.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from spie.core import sms
from spie.followup import policies
from spie.followup.models import Appointment, Notification
from spie.people import policies as people_policies
from spie.people.models import FollowUpMembership
from spie.people.services import add_event

from .contacts import record_contact

logger = logging.getLogger(__name__)

EDIT_DENIED = "Vous ne pouvez pas gérer les rendez-vous de cette personne."
NOT_SCHEDULED = "Ce rendez-vous est annulé : il ne peut plus être modifié."
ALREADY_STARTED = (
    "Ce rendez-vous a déjà commencé ou est passé : renseignez la présence de la personne plutôt que de le modifier."
)
ATTENDANCE_RECORDED = "La présence est déjà renseignée pour ce rendez-vous : il ne peut plus être modifié ni annulé."
NOT_YET = "Ce rendez-vous n'a pas encore eu lieu : la présence se renseigne une fois l'heure du rendez-vous passée."
PAST_START = (
    "Cette date est passée. Pour enregistrer un rendez-vous qui a déjà eu lieu, cochez « Rendez-vous déjà passé » "
    "et indiquez la présence de la personne."
)
FUTURE_PAST = "Un rendez-vous « déjà passé » a une date passée. Décochez la case pour fixer un rendez-vous à venir."

MIN_DURATION, MAX_DURATION = 5, 480
REMINDER_WINDOW = datetime.timedelta(hours=24)
RECORDED_ATTENDANCES = (
    Appointment.Attendance.PRESENT, Appointment.Attendance.ABSENT, Appointment.Attendance.EXCUSED,
)
# What the person is told: a change of one of these fields sends a "change" notification.
PERSON_VISIBLE_FIELDS = ("starts_at", "duration_minutes", "mode", "place", "with_user_id")


def _local(value):
    return timezone.localtime(value)


def when_label(value):
    """"03/03/2026 à 10h00" in local time."""
    local = _local(value)
    return f"{local:%d/%m/%Y} à {local:%H}h{local:%M}"


# --- Who and how to reach the person --------------------------------------------------------


@dataclass(frozen=True)
class ContactChannels:
    """Whether each channel can reach the person, and why not (French, for the pages)."""

    email: bool
    email_reason: str
    sms: bool
    sms_reason: str

    @property
    def none(self):
        return not (self.email or self.sms)


def contact_channels(person):
    email_ok = bool((person.email or "").strip())
    phone = (person.phone or "").strip()
    sms_ok, sms_reason = False, ""
    if not phone:
        sms_reason = "Pas de numéro de téléphone : pas de SMS."
    else:
        try:
            sms.normalise_phone(phone, mobile_only=True)
            sms_ok = True
        except sms.SmsError as exc:
            sms_reason = f"Pas de SMS : {exc}"
    return ContactChannels(
        email=email_ok,
        email_reason="" if email_ok else "Pas d'adresse électronique : pas de courriel.",
        sms=sms_ok,
        sms_reason=sms_reason,
    )


def group_followups(person):
    """Active follow-up rows (référent first): the professionals who may hold an appointment."""
    followups = getattr(person, "active_followups", None)
    if followups is None:
        followups = list(
            FollowUpMembership.objects.filter(person=person, end_date__isnull=True).select_related("user", "structure")
        )
    return sorted(followups, key=lambda f: (f.kind != FollowUpMembership.Kind.REFERENT, str(f.user)))


def default_with_user(person, user):
    followups = group_followups(person)
    mine = next((f for f in followups if f.user_id == user.pk), None)
    return (mine or (followups[0] if followups else None))


# --- Validation -----------------------------------------------------------------------------


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def clean_appointment(person, data, *, now=None, creating=True, current=None):
    """Validate an appointment (no write). Returns a cleaned dict, or raises a ValidationError
    keyed by field: starts_at, duration_minutes, mode, place, purpose, with_user, attendance."""
    now = now or timezone.now()
    errors = {}
    already = creating and bool(data.get("already_happened"))
    starts_at = data.get("starts_at")
    if not isinstance(starts_at, datetime.datetime):
        errors["starts_at"] = "Indiquez la date et l'heure du rendez-vous."
    else:
        if timezone.is_naive(starts_at):
            starts_at = timezone.make_aware(starts_at)
        starts_at = starts_at.replace(second=0, microsecond=0)
        if already:
            if starts_at > now:
                errors["starts_at"] = FUTURE_PAST
            elif starts_at < now - datetime.timedelta(days=365):
                errors["starts_at"] = "Un rendez-vous passé ne s'enregistre que dans l'année écoulée."
        elif starts_at <= now:
            errors["starts_at"] = PAST_START
        elif starts_at > now + datetime.timedelta(days=366):
            errors["starts_at"] = "Un rendez-vous se fixe au plus un an à l'avance."
    duration = _int(data.get("duration_minutes"))
    if duration is None or not MIN_DURATION <= duration <= MAX_DURATION:
        errors["duration_minutes"] = "La durée doit être comprise entre 5 minutes et 8 heures (480 minutes)."
    mode = data.get("mode") or ""
    if mode not in Appointment.Mode.values:
        errors["mode"] = "Choisissez la modalité du rendez-vous : sur place, par téléphone, en visio ou à domicile."
    place = (data.get("place") or "").strip()
    if len(place) > 250:
        errors["place"] = "Le lieu ou le lien tient en 250 caractères au plus."
    elif mode == Appointment.Mode.IN_PERSON and not place:
        errors["place"] = "Indiquez le lieu du rendez-vous (adresse)."
    elif mode == Appointment.Mode.VIDEO and not place:
        errors["place"] = "Indiquez le lien de la visioconférence."
    elif mode == Appointment.Mode.VIDEO and not place.lower().startswith("https://"):
        errors["place"] = "Le lien de la visioconférence doit commencer par https://."
    purpose = (data.get("purpose") or "").strip()
    if not purpose:
        errors["purpose"] = "Indiquez l'objet du rendez-vous (il n'est pas communiqué à la personne)."
    elif len(purpose) > 200:
        errors["purpose"] = "L'objet tient en 200 caractères au plus."
    with_user = data.get("with_user")
    with_user_id = getattr(with_user, "pk", None) or _int(with_user)
    followup = next((f for f in group_followups(person) if f.user_id == with_user_id), None)
    if followup is None:
        errors["with_user"] = "Choisissez un professionnel du groupe de suivi de la personne."
    attendance = data.get("attendance") or ""
    if already and attendance not in RECORDED_ATTENDANCES:
        errors["attendance"] = "Indiquez si la personne était présente, absente ou excusée."
    if errors:
        raise ValidationError(errors)
    ends_at = starts_at + datetime.timedelta(minutes=duration)
    nearby = Appointment.objects.filter(
        person=person, status=Appointment.Status.SCHEDULED,
        starts_at__gt=starts_at - datetime.timedelta(minutes=MAX_DURATION), starts_at__lt=ends_at,
    ).exclude(pk=getattr(current, "pk", None)).only("starts_at", "duration_minutes")
    clash = next((a for a in nearby if a.ends_at > starts_at), None)
    if clash is not None:
        raise ValidationError({"starts_at": (
            f"Un rendez-vous est déjà prévu pour cette personne le {when_label(clash.starts_at)} "
            f"({clash.duration_minutes} minutes) : choisissez un autre horaire."
        )})
    channels = contact_channels(person)
    notify_email = data.get("notify_email")
    notify_sms = data.get("notify_sms")
    return {
        "starts_at": starts_at,
        "duration_minutes": duration,
        "mode": mode,
        "place": place,
        "purpose": purpose,
        "with_user": followup.user,
        "structure": followup.structure,
        "notify_email": False if already else (channels.email if notify_email is None else bool(notify_email)),
        "notify_sms": False if already else (channels.sms if notify_sms is None else bool(notify_sms)),
        "already_happened": already,
        "attendance": attendance if already else Appointment.Attendance.PENDING,
    }


def _require_edit(access):
    if not policies.can_edit(access):
        raise PermissionDenied(EDIT_DENIED)


def _require_open(appointment):
    if appointment.status != Appointment.Status.SCHEDULED:
        raise ValidationError(NOT_SCHEDULED)
    if appointment.attendance != Appointment.Attendance.PENDING:
        raise ValidationError(ATTENDANCE_RECORDED)


def _enqueue(appointment, kind):
    from spie.followup import tasks

    appointment_id = appointment.pk
    transaction.on_commit(lambda: tasks.send_appointment_notifications.enqueue(appointment_id, str(kind)))


# --- Workflow ---------------------------------------------------------------------------------


@transaction.atomic
def schedule_appointment(person, membership, *, access, data, now=None):
    """Create an appointment; the invitation leaves after commit. With ``already_happened``,
    record a past appointment and its attendance instead (no message)."""
    _require_edit(access)
    now = now or timezone.now()
    cleaned = clean_appointment(person, data, now=now, creating=True)
    already = cleaned.pop("already_happened")
    attendance = cleaned.pop("attendance")
    appointment = Appointment.objects.create(person=person, created_by=membership.user, **cleaned)
    with_whom = f"{appointment.get_mode_display()} avec {appointment.with_user} ({appointment.structure})."
    if already:
        add_event(
            person, "appointment_scheduled",
            f"Rendez-vous du {when_label(appointment.starts_at)} enregistré après coup",
            actor=membership.user, structure=membership.structure, detail=with_whom,
        )
        _apply_attendance(appointment, membership, attendance, now=now)
    else:
        add_event(
            person, "appointment_scheduled", f"Rendez-vous fixé le {when_label(appointment.starts_at)}",
            actor=membership.user, structure=membership.structure, detail=with_whom,
        )
        if appointment.notify_email or appointment.notify_sms:
            _enqueue(appointment, Notification.Kind.INVITATION)
    return appointment


@transaction.atomic
def update_appointment(appointment, membership, *, access, data, now=None):
    """Change an upcoming appointment (``data`` may be partial). A change the person must know
    about (date, time, duration, mode, place, professional) sends a "change" message."""
    _require_edit(access)
    now = now or timezone.now()
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    _require_open(appointment)
    if appointment.starts_at <= now:
        raise ValidationError(ALREADY_STARTED)
    merged = {
        "starts_at": appointment.starts_at, "duration_minutes": appointment.duration_minutes,
        "mode": appointment.mode, "place": appointment.place, "purpose": appointment.purpose,
        "with_user": appointment.with_user_id, "notify_email": appointment.notify_email,
        "notify_sms": appointment.notify_sms,
    }
    merged.update({key: value for key, value in data.items() if key in merged})
    cleaned = clean_appointment(appointment.person, merged, now=now, creating=False, current=appointment)
    before = {field: getattr(appointment, field) for field in PERSON_VISIBLE_FIELDS}
    moved = cleaned["starts_at"] != appointment.starts_at
    for field in ("starts_at", "duration_minutes", "mode", "place", "purpose", "with_user", "structure",
                  "notify_email", "notify_sms"):
        setattr(appointment, field, cleaned[field])
    if moved:
        appointment.reminder_sent_at = None  # the reminder of the new date is still to send
    appointment.save()
    changed = any(getattr(appointment, field) != value for field, value in before.items())
    if changed:
        title = (f"Rendez-vous déplacé au {when_label(appointment.starts_at)}" if moved
                 else f"Rendez-vous du {when_label(appointment.starts_at)} modifié")
        add_event(
            appointment.person, "appointment_changed", title, actor=membership.user, structure=membership.structure,
            detail=f"{appointment.get_mode_display()} avec {appointment.with_user} ({appointment.structure}).",
        )
        if appointment.notify_email or appointment.notify_sms:
            _enqueue(appointment, Notification.Kind.CHANGE)
    appointment.changed = changed
    return appointment


@transaction.atomic
def cancel_appointment(appointment, membership, *, access, reason, now=None):
    """Cancel with a reason (kept on the appointment, never sent nor put in the timeline). An
    appointment still to come sends a "cancellation" message."""
    _require_edit(access)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Indiquez le motif de l'annulation."})
    if len(reason) > 250:
        raise ValidationError({"reason": "Le motif tient en 250 caractères au plus."})
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    _require_open(appointment)
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancel_reason = reason
    appointment.save(update_fields=["status", "cancel_reason"])
    add_event(
        appointment.person, "appointment_cancelled", f"Rendez-vous du {when_label(appointment.starts_at)} annulé",
        actor=membership.user, structure=membership.structure,
    )
    if appointment.starts_at > now and (appointment.notify_email or appointment.notify_sms):
        _enqueue(appointment, Notification.Kind.CANCELLATION)
    return appointment


ATTENDANCE_TITLES = {
    Appointment.Attendance.PRESENT: "Présent(e) au rendez-vous du {when}",
    Appointment.Attendance.ABSENT: "Absent(e) au rendez-vous du {when}",
    Appointment.Attendance.EXCUSED: "Absence excusée au rendez-vous du {when}",
}


def _apply_attendance(appointment, membership, attendance, *, now, corrected=False):
    appointment.attendance = attendance
    appointment.attendance_recorded_at = now
    appointment.attendance_recorded_by = membership.user
    appointment.save(update_fields=["attendance", "attendance_recorded_at", "attendance_recorded_by"])
    title = ATTENDANCE_TITLES[attendance].format(when=when_label(appointment.starts_at))
    add_event(
        appointment.person, "appointment_attendance", ("Présence corrigée : " + title[0].lower() + title[1:])
        if corrected else title, actor=membership.user, structure=membership.structure,
    )
    if attendance == Appointment.Attendance.PRESENT:
        record_contact(appointment.person, on=_local(appointment.starts_at).date())


@transaction.atomic
def record_attendance(appointment, membership, *, access, attendance, now=None):
    """Present, absent or excused, once the appointment has started; may be corrected."""
    _require_edit(access)
    now = now or timezone.now()
    if attendance not in RECORDED_ATTENDANCES:
        raise ValidationError({"attendance": "Indiquez si la personne était présente, absente ou excusée."})
    appointment = Appointment.objects.select_for_update().select_related("person").get(pk=appointment.pk)
    if appointment.status != Appointment.Status.SCHEDULED:
        raise ValidationError("Ce rendez-vous est annulé : sa présence ne se renseigne pas.")
    if appointment.starts_at > now:
        raise ValidationError(NOT_YET)
    if appointment.attendance == attendance:
        return appointment
    corrected = appointment.attendance != Appointment.Attendance.PENDING
    _apply_attendance(appointment, membership, attendance, now=now, corrected=corrected)
    return appointment


# --- Messages to the person -----------------------------------------------------------------


EXCUSE_FALLBACK = "en répondant à la personne qui vous accompagne"


def message_context(appointment, kind):
    """What a message may say: no purpose, no reason, nothing about the person's situation."""
    structure = appointment.structure
    professional = appointment.with_user
    phone = structure.phone or professional.phone
    email = structure.email or professional.email
    local = _local(appointment.starts_at)
    return {
        "kind": kind,
        "person": appointment.person,
        "starts": local,
        "ends": _local(appointment.ends_at),
        "time": f"{local:%H}h{local:%M}",
        "duration": appointment.duration_minutes,
        "mode": appointment.mode,
        "mode_label": appointment.get_mode_display(),
        "place": appointment.place,
        "professional": professional.get_full_name() or str(professional),
        "professional_short": _short_name(professional),
        "structure": structure.name,
        "structure_address": " ".join(
            part for part in (structure.address, structure.postal_code) if part
        ),
        "excuse_phone": phone,
        "excuse_email": email,
        "sender_name": getattr(settings, "SMS_SENDER_NAME", "SPIE"),
    }


def _short_name(user):
    initial = (user.first_name or "").strip()[:1]
    return f"{initial}. {user.last_name}".strip() if initial else (user.last_name or str(user))


SUBJECTS = {
    Notification.Kind.INVITATION: "Convocation à un rendez-vous le {date}",
    Notification.Kind.REMINDER: "Rappel : rendez-vous le {date}",
    Notification.Kind.CHANGE: "Rendez-vous modifié : le {date}",
    Notification.Kind.CANCELLATION: "Rendez-vous du {date} annulé",
}


def render_email(appointment, kind):
    context = message_context(appointment, kind)
    with translation.override("fr"):
        date_label = f"{context['starts']:%d/%m/%Y} à {context['time']}"
        subject = SUBJECTS[kind].format(date=date_label)
        text = render_to_string("followup/emails/appointment.txt", context)
        html = render_to_string("followup/emails/appointment.html", context)
    return subject, text, html


def render_sms(appointment, kind):
    """At most 160 characters of the GSM alphabet: when too long, the structure's name goes
    first, then the place (the e-mail keeps them), then the text is cut."""
    context = message_context(appointment, kind)
    with translation.override("fr"):
        for short in (0, 1, 2):
            text = sms.to_gsm(" ".join(render_to_string(
                "followup/emails/appointment_sms.txt", {**context, "short": short}
            ).split()))
            if len(text) <= sms.MAX_LENGTH:
                return text
    return text[: sms.MAX_LENGTH - 3].rstrip() + "..."


def _record(appointment, channel, kind, error=""):
    return Notification.objects.create(
        person_id=appointment.person_id, appointment=appointment, channel=channel, kind=kind,
        status=Notification.Status.FAILED if error else Notification.Status.SENT, error=error[:250],
    )


def _send_email(appointment, kind):
    subject, text, html = render_email(appointment, kind)
    message = EmailMultiAlternatives(subject, text, None, [appointment.person.email])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception as exc:  # noqa: BLE001 - any SMTP failure is recorded, never raised to the caller
        logger.warning("Courriel de rendez-vous non envoyé (rendez-vous %s) : %s", appointment.pk, type(exc).__name__)
        error = f"Échec de l'envoi du courriel ({type(exc).__name__})."
        return _record(appointment, Notification.Channel.EMAIL, kind, error)
    return _record(appointment, Notification.Channel.EMAIL, kind)


def _send_sms(appointment, kind):
    try:
        sms.send_sms(appointment.person.phone, render_sms(appointment, kind))
    except sms.SmsError as exc:
        logger.warning("SMS de rendez-vous non envoyé (rendez-vous %s)", appointment.pk)
        return _record(appointment, Notification.Channel.SMS, kind, str(exc))
    return _record(appointment, Notification.Channel.SMS, kind)


def deliver(appointment, kind):
    """Send ``kind`` on every channel asked for and available; returns the Notification rows."""
    channels = contact_channels(appointment.person)
    rows = []
    if appointment.notify_email and channels.email:
        rows.append(_send_email(appointment, kind))
    if appointment.notify_sms and channels.sms:
        rows.append(_send_sms(appointment, kind))
    return rows


def _load_for_message(appointment_id):
    return (
        Appointment.objects.select_related("person", "with_user", "structure")
        .filter(pk=appointment_id).first()
    )


def send_notifications(appointment_id, kind, *, now=None):
    """Send an invitation, change, cancellation or reminder (the task's body). A message that no
    longer fits (appointment cancelled or passed meanwhile) is dropped; an invitation or a
    reminder goes once (its date is claimed atomically)."""
    now = now or timezone.now()
    appointment = _load_for_message(appointment_id)
    if appointment is None:
        return []
    if kind == Notification.Kind.CANCELLATION:
        if appointment.status != Appointment.Status.CANCELLED:
            return []
    elif appointment.status != Appointment.Status.SCHEDULED or appointment.starts_at <= now:
        return []
    claim_field = {
        Notification.Kind.INVITATION: "invitation_sent_at", Notification.Kind.REMINDER: "reminder_sent_at",
    }.get(kind)
    if claim_field:
        claimed = Appointment.objects.filter(pk=appointment.pk, **{f"{claim_field}__isnull": True}).update(
            **{claim_field: now}
        )
        if not claimed:
            return []
    rows = deliver(appointment, kind)
    if claim_field == "invitation_sent_at" and not any(r.status == Notification.Status.SENT for r in rows):
        Appointment.objects.filter(pk=appointment.pk).update(invitation_sent_at=None)
    return rows


def due_reminders(now=None):
    """Scheduled appointments starting within 24 hours, with a channel, and no reminder yet."""
    now = now or timezone.now()
    return Appointment.objects.filter(
        Q(notify_email=True) | Q(notify_sms=True),
        status=Appointment.Status.SCHEDULED, attendance=Appointment.Attendance.PENDING,
        reminder_sent_at__isnull=True, starts_at__gt=now, starts_at__lte=now + REMINDER_WINDOW,
    ).order_by("starts_at")


def send_due_reminders(now=None):
    """Send every due reminder; returns how many appointments were reminded (at least one message
    attempted). Idempotent: a second run (or a concurrent one) finds them claimed and sends
    nothing; an appointment whose person cannot be reached is claimed too, and not counted."""
    now = now or timezone.now()
    count = 0
    for appointment_id in list(due_reminders(now).values_list("pk", flat=True)):
        if send_notifications(appointment_id, Notification.Kind.REMINDER, now=now):
            count += 1
    return count


# --- Reads: person page, agenda, summary, no-show rates ---------------------------------------


def person_appointments(person):
    return (
        Appointment.objects.filter(person=person)
        .select_related("with_user", "structure")
    )


def upcoming_q(now):
    return Q(status=Appointment.Status.SCHEDULED, starts_at__gte=now)


def _still_followed_by(user):
    """The appointments of persons ``user`` still follows: an active follow-up row, taken on
    behalf of a structure where the user is still a member. A professional who has left the
    group (or the structure) no longer sees the person's name nor the purpose in the agenda."""
    return Exists(FollowUpMembership.objects.filter(
        person_id=OuterRef("person_id"), user=user, end_date__isnull=True,
        structure_id__in=people_policies.current_structure_ids(user),
    ))


def agenda_upcoming(user, territory, now=None):
    now = now or timezone.now()
    return (
        Appointment.objects.filter(upcoming_q(now), _still_followed_by(user), with_user=user,
                                   person__territory=territory)
        .select_related("person", "structure").order_by("starts_at", "id")
    )


def agenda_to_record(user, territory, now=None):
    """Past appointments still scheduled whose attendance is not recorded ("présence à renseigner")."""
    now = now or timezone.now()
    return (
        Appointment.objects.filter(
            _still_followed_by(user),
            with_user=user, person__territory=territory, status=Appointment.Status.SCHEDULED,
            attendance=Appointment.Attendance.PENDING, starts_at__lt=now,
        )
        .select_related("person", "structure").order_by("starts_at", "id")
    )


@dataclass
class RateRow:
    key: int | None
    label: str
    present: int = 0
    absent: int = 0
    excused: int = 0
    pending: int = 0

    @property
    def recorded(self):
        return self.present + self.absent + self.excused

    @property
    def rate(self):
        """No-show rate in percent (absent / recorded), None without any recorded attendance."""
        return round(100 * self.absent / self.recorded, 1) if self.recorded else None

    @property
    def excused_rate(self):
        return round(100 * self.excused / self.recorded, 1) if self.recorded else None


def _counts():
    return {
        "present": Count("id", filter=Q(attendance=Appointment.Attendance.PRESENT)),
        "absent": Count("id", filter=Q(attendance=Appointment.Attendance.ABSENT)),
        "excused": Count("id", filter=Q(attendance=Appointment.Attendance.EXCUSED)),
        "pending": Count("id", filter=Q(attendance=Appointment.Attendance.PENDING)),
    }


def _period_bounds(start, end):
    tz = timezone.get_current_timezone()
    low = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min), tz)
    high = timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min), tz)
    return low, min(high, timezone.now())


def attendance_rates(*, start, end, user=None, structure=None, territory=None):
    """No-show rates over ``[start, end]`` (dates, local), aggregates only, in one query:

    - ``user``: one row, the appointments this professional held;
    - ``structure``: one row per professional who held appointments for this structure;
    - ``territory``: one row per structure of the territory.

    Only passed, non-cancelled appointments count; pending ones are shown apart.
    Returns ``(rows, total)``.
    """
    low, high = _period_bounds(start, end)
    qs = Appointment.objects.filter(status=Appointment.Status.SCHEDULED, starts_at__gte=low, starts_at__lt=high)
    if user is not None:
        qs = qs.filter(with_user=user)
        if territory is not None:
            qs = qs.filter(structure__territory=territory)
        values = qs.aggregate(**_counts())
        row = RateRow(key=user.pk, label=user.get_full_name() or str(user), **values)
        return [row], row
    if structure is not None:
        grouped = (
            qs.filter(structure=structure)
            .values("with_user_id", "with_user__first_name", "with_user__last_name", "with_user__email")
            .annotate(**_counts()).order_by("with_user__last_name", "with_user__first_name", "with_user_id")
        )
        rows = [
            RateRow(
                key=r["with_user_id"],
                label=f"{r['with_user__first_name']} {r['with_user__last_name']}".strip() or r["with_user__email"],
                present=r["present"], absent=r["absent"], excused=r["excused"], pending=r["pending"],
            )
            for r in grouped
        ]
    else:
        grouped = (
            qs.filter(structure__territory=territory)
            .values("structure_id", "structure__name")
            .annotate(**_counts()).order_by("structure__name", "structure_id")
        )
        rows = [
            RateRow(key=r["structure_id"], label=r["structure__name"], present=r["present"], absent=r["absent"],
                    excused=r["excused"], pending=r["pending"])
            for r in grouped
        ]
    total = RateRow(key=None, label="Total")
    for row in rows:
        total.present += row.present
        total.absent += row.absent
        total.excused += row.excused
        total.pending += row.pending
    return rows, total
