"""Pages of appointments.

- ``/personnes/<pk>/rendez-vous/``: a person's upcoming and past appointments, the form to
  schedule one (or to record one after the fact), edit, cancel, attendance;
- ``/rendez-vous/``: the professional's agenda ("à venir", "présence à renseigner"), exportable;
- ``/rendez-vous/presence/``: no-show rates (own, per professional of the structure for its
  admin, per structure for a coordinator), aggregates only, exportable.

A person the user may not know of is a 404; without the record, a 403, before anything is read.
Every read of a person's appointments writes the access log (section APPOINTMENT); exports of
the agenda are written to the access log of each person named.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from spie.core.audit import log_access, log_export
from spie.core.exports import export_format, export_response
from spie.core.models import AccessLog
from spie.core.policies import view_policy
from spie.network.models import Membership
from spie.people import policies as people_policies
from spie.people import selectors as people_selectors

from .. import forms_appointments as forms
from .. import policies
from ..models import Appointment, Notification
from ..services import appointments as services

PAGE_SIZE = 25
READ_DENIED = "Vous n'avez pas accès aux rendez-vous de cette personne."


def _load(request, pk):
    """The person and the user's access: 404 when nothing may be known, 403 without the record."""
    person = people_selectors.person_for_record(pk)
    if person is None:
        raise Http404
    access = people_policies.access_for(
        request.user, request.membership, person, followups=person.active_followups, consents=person.all_consents
    )
    if access.relation == people_policies.NONE:
        raise Http404
    if not policies.can_read(access):
        raise PermissionDenied(READ_DENIED)
    return person, access


def _load_appointment(request, pk, appointment_id, *, edit=True):
    person, access = _load(request, pk)
    if edit and not policies.can_edit(access):
        raise PermissionDenied(services.EDIT_DENIED)
    appointment = get_object_or_404(
        Appointment.objects.select_related("with_user", "structure"), pk=appointment_id, person=person
    )
    appointment.person = person
    return person, access, appointment


def _next_url(request, default):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return default


def _with_notifications(page):
    """Attach each appointment's messages (one query for the page)."""
    rows = list(page.object_list)
    by_appointment = {}
    for notification in Notification.objects.filter(appointment__in=[a.pk for a in rows]).order_by("at", "id"):
        by_appointment.setdefault(notification.appointment_id, []).append(notification)
    for appointment in rows:
        appointment.sent_messages = by_appointment.get(appointment.pk, [])
    page.object_list = rows
    return page


# --- A person's appointments ----------------------------------------------------------------


def _render_person_page(request, person, access, *, form=None, status=200):
    now = timezone.now()
    base = services.person_appointments(person)
    upcoming = Paginator(base.filter(services.upcoming_q(now)).order_by("starts_at", "id"), PAGE_SIZE)
    past = Paginator(base.exclude(services.upcoming_q(now)).order_by("-starts_at", "-id"), PAGE_SIZE)
    can_edit = policies.can_edit(access)
    if form is None and can_edit:
        form = forms.AppointmentForm(person=person, user=request.user)
    return render(request, "followup/appointments/person.html", {
        "person": person,
        "access": access,
        "can_edit": can_edit,
        "form": form,
        "channels": services.contact_channels(person),
        "upcoming": _with_notifications(upcoming.get_page(request.GET.get("a_venir"))),
        "page": _with_notifications(past.get_page(request.GET.get("page"))),
        "now": now,
    }, status=status)


@view_policy("followup.appointments")
def appointments(request, pk):
    """GET: the page. POST: schedule an appointment (or record a past one)."""
    person, access = _load(request, pk)
    if request.method != "POST":
        log_access(request, person, AccessLog.Section.APPOINTMENT)
        return _render_person_page(request, person, access)
    if not policies.can_edit(access):
        raise PermissionDenied(services.EDIT_DENIED)
    form = forms.AppointmentForm(request.POST, person=person, user=request.user)
    if form.is_valid():
        try:
            appointment = services.schedule_appointment(
                person, request.membership, access=access, data=form.service_data()
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            if appointment.attendance != Appointment.Attendance.PENDING:
                messages.success(request, f"Rendez-vous du {services.when_label(appointment.starts_at)} enregistré "
                                          f"({appointment.get_attendance_display().lower()}).")
            else:
                messages.success(request, _scheduled_message(person, appointment))
            return redirect("followup:appointments", pk=person.pk)
    log_access(request, person, AccessLog.Section.APPOINTMENT, reason="saisie d'un rendez-vous")
    return _render_person_page(request, person, access, form=form, status=400)


def _scheduled_message(person, appointment):
    channels = services.contact_channels(person)
    sent, skipped = [], []
    if appointment.notify_email:
        (sent if channels.email else skipped).append("courriel" if channels.email else channels.email_reason)
    if appointment.notify_sms:
        (sent if channels.sms else skipped).append("SMS" if channels.sms else channels.sms_reason)
    text = f"Rendez-vous fixé le {services.when_label(appointment.starts_at)}."
    if sent:
        text += f" La convocation part par {' et '.join(sent)}."
    else:
        text += " Aucune convocation n'est envoyée : prévenez la personne vous-même."
    if skipped:
        text += " " + " ".join(skipped)
    return text


@view_policy("followup.appointment_edit")
def appointment_edit(request, pk, appointment_id):
    person, access, appointment = _load_appointment(request, pk, appointment_id)
    if appointment.status != Appointment.Status.SCHEDULED or appointment.starts_at <= timezone.now():
        messages.error(request, services.ALREADY_STARTED if appointment.status == Appointment.Status.SCHEDULED
                       else services.NOT_SCHEDULED)
        return redirect("followup:appointments", pk=person.pk)
    form = forms.AppointmentForm(request.POST or None, person=person, user=request.user, instance=appointment)
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.update_appointment(
                appointment, request.membership, access=access, data=form.service_data()
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            if updated.changed and (updated.notify_email or updated.notify_sms):
                messages.success(request, "Rendez-vous modifié : la personne est prévenue du changement.")
            else:
                messages.success(request, "Rendez-vous modifié.")
            return redirect("followup:appointments", pk=person.pk)
    if request.method != "POST":
        log_access(request, person, AccessLog.Section.APPOINTMENT, reason="modification d'un rendez-vous")
    return render(request, "followup/appointments/edit.html", {
        "person": person, "appointment": appointment, "form": form,
        "channels": services.contact_channels(person),
    }, status=400 if form.errors else 200)


@view_policy("followup.appointment_cancel")
def appointment_cancel(request, pk, appointment_id):
    person, access, appointment = _load_appointment(request, pk, appointment_id)
    form = forms.CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_appointment(appointment, request.membership, access=access,
                                        reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            notified = appointment.starts_at > timezone.now() and (appointment.notify_email or appointment.notify_sms)
            messages.success(request, "Rendez-vous annulé." + (" La personne est prévenue." if notified else ""))
            return redirect("followup:appointments", pk=person.pk)
    if request.method != "POST":
        log_access(request, person, AccessLog.Section.APPOINTMENT, reason="annulation d'un rendez-vous")
    return render(request, "followup/appointments/cancel.html", {
        "person": person, "appointment": appointment, "form": form,
    }, status=400 if form.errors else 200)


@require_POST
@view_policy("followup.appointment_attendance")
def appointment_attendance(request, pk, appointment_id):
    person, access, appointment = _load_appointment(request, pk, appointment_id)
    back = _next_url(request, reverse("followup:appointments", kwargs={"pk": person.pk}))
    form = forms.AttendanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(back)
    try:
        updated = services.record_attendance(
            appointment, request.membership, access=access, attendance=form.cleaned_data["attendance"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Présence renseignée pour {person.first_name} {person.last_name.upper()} : "
                                  f"{updated.get_attendance_display().lower()}.")
    return redirect(back)


# --- The professional's agenda --------------------------------------------------------------


AGENDA_TABS = {"a-venir": "À venir", "a-renseigner": "Présence à renseigner"}


@view_policy("followup.agenda")
def agenda(request):
    membership = request.membership
    territory = membership.structure.territory
    now = timezone.now()
    tab = request.GET.get("onglet") if request.GET.get("onglet") in AGENDA_TABS else "a-venir"
    upcoming = services.agenda_upcoming(request.user, territory, now)
    to_record = services.agenda_to_record(request.user, territory, now)
    qs = upcoming if tab == "a-venir" else to_record
    fmt = export_format(request)
    if fmt:
        log_export(request, qs.order_by().values_list("person_id", flat=True).distinct().iterator(),
                   reason=f"export de l'agenda ({AGENDA_TABS[tab].lower()})")
        header = ["Date", "Heure", "Durée (min)", "Nom", "Prénom", "Modalité", "Lieu ou lien", "Objet",
                  "Structure", "Présence"]

        def rows():
            for a in qs.iterator(chunk_size=500):
                local = timezone.localtime(a.starts_at)
                yield [local.date(), f"{local:%H:%M}", a.duration_minutes, a.person.last_name.upper(),
                       a.person.first_name, a.get_mode_display(), a.place, a.purpose, a.structure.name,
                       a.get_attendance_display()]

        return export_response(fmt, f"agenda-{tab}", header, rows(), sheet_title=AGENDA_TABS[tab])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "followup/appointments/agenda.html", {
        "tab": tab,
        "tabs": AGENDA_TABS,
        "page": page,
        "counts": {"a-venir": upcoming.count(), "a-renseigner": to_record.count()},
        "attendance_form": forms.AttendanceForm(),
        "attendance_choices": forms.AttendanceForm.base_fields["attendance"].choices,
        "agenda_url": request.get_full_path(),
    })


# --- No-show rates --------------------------------------------------------------------------


def _rates_scope(membership):
    role = membership.role
    if role == Membership.Role.COORDINATOR:
        return "territory"
    if role == Membership.Role.ADMIN:
        return "structure"
    return "own"


@view_policy("followup.attendance_stats")
def attendance_stats(request):
    membership = request.membership
    territory = membership.structure.territory
    form = forms.PeriodForm(request.GET or None)
    start, end = form.period()
    scope = _rates_scope(membership)
    if scope == "territory":
        rows, total = services.attendance_rates(start=start, end=end, territory=territory)
        first_column = "Structure"
    elif scope == "structure":
        rows, total = services.attendance_rates(start=start, end=end, structure=membership.structure)
        first_column = "Professionnel"
    else:
        rows, total = services.attendance_rates(start=start, end=end, user=request.user, territory=territory)
        first_column = "Professionnel"
    fmt = export_format(request)
    if fmt:
        header = [first_column, "Présents", "Absents", "Excusés", "Total renseigné", "Taux d'absence (%)",
                  "Taux d'absence excusée (%)", "Présence à renseigner"]
        lines = (
            [r.label, r.present, r.absent, r.excused, r.recorded, r.rate, r.excused_rate, r.pending]
            for r in [*rows, *([total] if scope != "own" else [])]
        )
        return export_response(fmt, f"taux-absence-{start:%Y%m%d}-{end:%Y%m%d}", header, lines,
                               sheet_title="Taux d'absence")
    return render(request, "followup/appointments/stats.html", {
        "form": form, "start": start, "end": end, "scope": scope, "rows": rows, "total": total,
        "first_column": first_column, "structure": membership.structure, "territory": territory,
    })


urlpatterns = [
    path("rendez-vous/", agenda, name="agenda"),
    path("rendez-vous/presence/", attendance_stats, name="attendance_stats"),
    path("personnes/<int:pk>/rendez-vous/", appointments, name="appointments"),
    path("personnes/<int:pk>/rendez-vous/<int:appointment_id>/modifier/", appointment_edit,
         name="appointment_edit"),
    path("personnes/<int:pk>/rendez-vous/<int:appointment_id>/annuler/", appointment_cancel,
         name="appointment_cancel"),
    path("personnes/<int:pk>/rendez-vous/<int:appointment_id>/presence/", appointment_attendance,
         name="appointment_attendance"),
]
