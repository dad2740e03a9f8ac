"""Forms of the exit (with its bilan), of jobs and of post-hiring checkpoints.

The forms check types and required fields; the rules (dates, "other" needs a detail, who was
contacted…) live in ``spie.followup.services.exits`` / ``employment``, whose errors are keyed by
the same field names, so a view adds them back to the form with ``form.add_error(None, exc)``.
"""

from django import forms
from django.utils import timezone

from .models import Checkpoint, Employment, ExitReason

DATE_WIDGET = {"type": "date"}


def date_input():
    return forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")


def textarea(rows=3):
    return forms.Textarea(attrs={"rows": rows})


class FieldsetsMixin:
    FIELDSETS = ()

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]


class ExitForm(FieldsetsMixin, forms.Form):
    reason = forms.ChoiceField(label="Motif de sortie", choices=[("", "— Choisir —"), *ExitReason.choices])
    reason_detail = forms.CharField(
        label="Précision", max_length=250, required=False,
        help_text="Obligatoire pour « Autre motif ».",
    )
    exit_date = forms.DateField(label="Date de sortie", widget=date_input())
    achievements = forms.CharField(label="Ce qui a été réalisé", required=False, widget=textarea(4))
    difficulties = forms.CharField(label="Difficultés rencontrées", required=False, widget=textarea())
    person_words = forms.CharField(label="Ce que la personne en dit", required=False, widget=textarea())
    next_steps = forms.CharField(label="Suites et relais", required=False, widget=textarea())
    written_with_person = forms.BooleanField(
        label="Bilan rédigé avec la personne", required=False,
        help_text="Compte comme un contact avec la personne à la date de sortie.",
    )
    record_job = forms.BooleanField(
        label="Enregistrer l'emploi en même temps (motifs d'emploi ou création d'entreprise)", required=False,
        help_text="Ouvre le suivi dans l'emploi : points à 1, 3 et 6 mois.",
    )

    FIELDSETS = (
        ("Sortie", ("reason", "reason_detail", "exit_date")),
        ("Bilan de fin de parcours", ("achievements", "difficulties", "person_words", "next_steps",
                                      "written_with_person")),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"exit_date": timezone.localdate()})
        super().__init__(*args, **kwargs)


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="Motif de la réouverture", max_length=250,
        help_text="Par exemple : la personne revient après une fin de contrat.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "reopen")
        super().__init__(*args, **kwargs)


class JobForm(FieldsetsMixin, forms.Form):
    employer_name = forms.CharField(label="Employeur", max_length=200)
    employer_siret = forms.CharField(label="SIRET de l'employeur", max_length=20, required=False,
                                     help_text="Facultatif : 14 chiffres.")
    employer_contact = forms.CharField(label="Contact chez l'employeur", max_length=200, required=False,
                                       help_text="Nom, fonction, téléphone ou courriel.")
    job_title = forms.CharField(label="Poste", max_length=200)
    contract_type = forms.ChoiceField(label="Type de contrat",
                                      choices=[("", "— Choisir —"), *Employment.ContractType.choices])
    weekly_hours = forms.DecimalField(label="Heures par semaine", max_digits=4, decimal_places=1, required=False,
                                      min_value=0, max_value=48)
    started_on = forms.DateField(label="Début", widget=date_input())
    planned_end_on = forms.DateField(label="Fin prévue", required=False, widget=date_input(),
                                     help_text="Pour un CDD, une mission ou un contrat aidé.")

    FIELDSETS = (
        ("Employeur", ("employer_name", "employer_siret", "employer_contact")),
        ("Emploi", ("job_title", "contract_type", "weekly_hours", "started_on", "planned_end_on")),
    )


class EndJobForm(forms.Form):
    ended_on = forms.DateField(label="Fin effective", widget=date_input())
    end_reason = forms.CharField(label="Motif de fin", max_length=250,
                                 help_text="Fin de contrat, démission, rupture de la période d'essai…")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"ended_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class CheckpointForm(FieldsetsMixin, forms.Form):
    done_on = forms.DateField(label="Date du point", widget=date_input())
    contacted_person = forms.BooleanField(label="Contact avec la personne", required=False)
    contacted_employer = forms.BooleanField(label="Contact avec l'employeur", required=False)
    outcome = forms.ChoiceField(label="Situation", choices=[("", "— Choisir —"), *Checkpoint.Outcome.choices])
    difficulties = forms.CharField(label="Difficultés signalées", required=False, widget=textarea())
    comment = forms.CharField(label="Commentaire", required=False, widget=textarea())
    end_job = forms.BooleanField(
        label="Enregistrer la fin de l'emploi", required=False,
        help_text="Seulement si la situation est « N'est plus en emploi ».",
    )
    ended_on = forms.DateField(label="Fin effective de l'emploi", required=False, widget=date_input(),
                               help_text="Par défaut : la date du point.")
    end_reason = forms.CharField(label="Motif de fin de l'emploi", max_length=250, required=False)

    FIELDSETS = (
        ("Point de suivi", ("done_on", "contacted_person", "contacted_employer", "outcome", "difficulties",
                            "comment")),
        ("Fin de l'emploi", ("end_job", "ended_on", "end_reason")),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"done_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
