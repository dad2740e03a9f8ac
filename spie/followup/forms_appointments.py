"""Forms of the appointment pages. They check the shape of the input; the rules (dates, places,
who may hold the appointment) live in ``spie.followup.services.appointments`` so that pages,
API and commands share them. A service error comes back on the field it concerns."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import Appointment
from .services import appointments as services

# Service error keys -> form fields.
FIELD_OF = {"starts_at": "date"}


def add_service_errors(form, exc):
    """Put a service ValidationError on the form's fields (or on the form)."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            field = FIELD_OF.get(key, key)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class AppointmentForm(forms.Form):
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(label="Heure", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duration_minutes = forms.IntegerField(
        label="Durée (minutes)", min_value=services.MIN_DURATION, max_value=services.MAX_DURATION, initial=45,
    )
    mode = forms.ChoiceField(label="Modalité", choices=Appointment.Mode.choices, initial=Appointment.Mode.IN_PERSON)
    place = forms.CharField(
        label="Lieu ou lien", max_length=250, required=False,
        help_text="Adresse pour un rendez-vous sur place ; lien https:// pour une visioconférence.",
    )
    purpose = forms.CharField(
        label="Objet", max_length=200,
        help_text="Pour le suivi : l'objet n'est jamais envoyé à la personne.",
    )
    with_user = forms.TypedChoiceField(label="Avec", coerce=int)
    notify_email = forms.BooleanField(label="Prévenir la personne par courriel", required=False)
    notify_sms = forms.BooleanField(label="Prévenir la personne par SMS", required=False)
    already_happened = forms.BooleanField(
        label="Rendez-vous déjà passé, à enregistrer après coup (aucun message n'est envoyé)", required=False,
    )
    attendance = forms.ChoiceField(
        label="Présence (rendez-vous déjà passé)", required=False,
        choices=[("", "—")] + [(v, label) for v, label in Appointment.Attendance.choices if v != "pending"],
    )

    def __init__(self, *args, person, user, instance=None, **kwargs):
        self.person = person
        self.instance = instance
        channels = services.contact_channels(person)
        followups = services.group_followups(person)
        initial = kwargs.pop("initial", None) or {}
        if instance is not None:
            local = timezone.localtime(instance.starts_at)
            initial = {
                "date": local.date(), "time": local.time().replace(second=0, microsecond=0),
                "duration_minutes": instance.duration_minutes, "mode": instance.mode, "place": instance.place,
                "purpose": instance.purpose, "with_user": instance.with_user_id,
                "notify_email": instance.notify_email, "notify_sms": instance.notify_sms, **initial,
            }
        else:
            default = services.default_with_user(person, user)
            initial = {
                "with_user": default.user_id if default else None,
                "notify_email": channels.email, "notify_sms": channels.sms, **initial,
            }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["with_user"].choices = [
            (f.user_id, f"{f.user} — {f.structure}" + (" (référent unique)" if f.kind == "referent" else ""))
            for f in followups
        ]
        if instance is not None:
            del self.fields["already_happened"]
            del self.fields["attendance"]
        if not channels.email:
            self.fields["notify_email"].help_text = channels.email_reason
        if not channels.sms:
            self.fields["notify_sms"].help_text = channels.sms_reason

    def clean(self):
        cleaned = super().clean()
        day, hour = cleaned.get("date"), cleaned.get("time")
        if day and hour:
            cleaned["starts_at"] = timezone.make_aware(datetime.datetime.combine(day, hour))
        return cleaned

    def service_data(self):
        data = {key: self.cleaned_data.get(key) for key in (
            "starts_at", "duration_minutes", "mode", "place", "purpose", "with_user", "notify_email", "notify_sms",
        )}
        if self.instance is None:
            data["already_happened"] = self.cleaned_data.get("already_happened")
            data["attendance"] = self.cleaned_data.get("attendance")
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Motif de l'annulation", max_length=250,
        help_text="Reste dans le dossier : il n'est envoyé ni à la personne ni dans l'historique.",
    )


class AttendanceForm(forms.Form):
    attendance = forms.ChoiceField(
        label="Présence",
        choices=[(v, label) for v, label in Appointment.Attendance.choices if v != "pending"],
        error_messages={"required": "Indiquez si la personne était présente, absente ou excusée.",
                        "invalid_choice": "Indiquez si la personne était présente, absente ou excusée."},
    )


class PeriodForm(forms.Form):
    """The period of the no-show rates (default: the last 90 days)."""

    DEFAULT_DAYS = 90

    start = forms.DateField(label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        end = cleaned.get("end") or today
        start = cleaned.get("start") or end - datetime.timedelta(days=self.DEFAULT_DAYS)
        if start > end:
            raise ValidationError("La date de début doit précéder la date de fin.")
        if (end - start).days > 731:
            raise ValidationError("Choisissez une période de deux ans au plus.")
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def period(self):
        """``(start, end)``: the cleaned period, or the default one when the input is invalid."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        end = timezone.localdate()
        return end - datetime.timedelta(days=self.DEFAULT_DAYS), end
