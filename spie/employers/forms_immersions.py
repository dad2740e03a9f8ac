"""Forms of a person's immersion (PMSMP): the request (with an offer, or a company and a job
chosen by the professional), the agreement, the assessment, the cancellation and the list filter.

The forms check the shape of the input; the rules (one month at most, places, who may act…)
are the service's (``services.immersions``), whose French errors are put back on the fields.
"""

from django import forms

from .forms_companies import DATE, RomeField
from .models import Company, Immersion, ImmersionStatus
from .services.immersions import CONSENT_REQUIRED, MAX_SKILLS

OBJECTIVE_CHOICES = Immersion._meta.get_field("objective").choices
YES_NO = [("yes", "Oui"), ("no", "Non")]


class ImmersionRequestForm(forms.Form):
    """With an ``offer`` the company and the job come from it; without one, both are chosen."""

    company = forms.ModelChoiceField(
        label="Entreprise d'accueil", queryset=Company.objects.none(),
        empty_label="— Choisissez l'entreprise —",
        error_messages={"required": "Choisissez l'entreprise qui accueillerait la personne.",
                        "invalid_choice": "Choisissez une entreprise du territoire dans la liste."},
    )
    metier = RomeField(label="Métier à découvrir (ROME)")
    objective = forms.ChoiceField(
        label="Objet de l'immersion", choices=OBJECTIVE_CHOICES, initial="discover", widget=forms.RadioSelect,
        error_messages={"required": "Choisissez l'objet de l'immersion.",
                        "invalid_choice": "Choisissez l'objet de l'immersion dans la liste."},
    )
    start_date = forms.DateField(label="Début souhaité", required=False, widget=DATE)
    end_date = forms.DateField(label="Fin souhaitée", required=False, widget=DATE,
                               help_text="Une immersion dure au plus un mois (renouvelable une fois).")
    message = forms.CharField(
        label="Message à l'entreprise", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "Le message ne doit pas dépasser 2 000 caractères."},
        help_text="Transmis à l'entreprise avec le prénom et l'initiale du nom de la personne : n'y mettez ni sa "
                  "situation ni sa santé.",
    )
    consent = forms.BooleanField(
        label="La personne est d'accord pour que son prénom et l'objet de l'immersion soient transmis à "
              "l'entreprise",
        error_messages={"required": CONSENT_REQUIRED},
    )

    def __init__(self, *args, offer=None, territory_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer = offer
        self.fields["metier"].error_messages["required"] = "Choisissez le métier à découvrir."
        if offer is not None:
            del self.fields["company"]
            del self.fields["metier"]
        else:
            self.fields["company"].queryset = Company.objects.filter(territory_id=territory_id).order_by("name", "id")

    def service_kwargs(self):
        data = self.cleaned_data
        kwargs = {"objective": data["objective"], "start_date": data.get("start_date"),
                  "end_date": data.get("end_date"), "message": data.get("message", ""),
                  "consent": bool(data.get("consent"))}
        if self.offer is not None:
            kwargs["offer"] = self.offer
        else:
            kwargs["company"] = data["company"]
            kwargs["rome"] = data["metier"][0]
        return kwargs


class AgreementForm(forms.Form):
    start_date = forms.DateField(label="Début", widget=DATE,
                                 error_messages={"required": "Indiquez la date de début de l'immersion."})
    end_date = forms.DateField(label="Fin", widget=DATE,
                               error_messages={"required": "Indiquez la date de fin de l'immersion."},
                               help_text="Au plus un mois (renouvelable une fois).")
    tutor_name = forms.CharField(
        label="Tuteur dans l'entreprise", max_length=150,
        error_messages={"required": "Indiquez le nom du tuteur qui accompagnera la personne dans l'entreprise.",
                        "max_length": "Le nom du tuteur ne doit pas dépasser 150 caractères."})
    tutor_email = forms.EmailField(label="Courriel du tuteur", required=False,
                                   error_messages={"invalid": "Saisissez une adresse électronique valide pour le "
                                                              "tuteur."})

    def service_kwargs(self):
        return {name: self.cleaned_data[name] for name in ("start_date", "end_date", "tutor_name", "tutor_email")}


class AssessmentForm(forms.Form):
    skills_observed = forms.CharField(
        label="Compétences observées", widget=forms.Textarea(attrs={"rows": 5}),
        help_text=f"Une par ligne, {MAX_SKILLS} au plus (par exemple : ponctualité, travail en équipe, lecture de "
                  "plans). Elles alimenteront le passeport emploi de la personne.",
        error_messages={"required": "Indiquez au moins une compétence observée pendant l'immersion."},
    )
    would_hire = forms.ChoiceField(
        label="L'entreprise recruterait-elle la personne ?", choices=YES_NO, widget=forms.RadioSelect,
        error_messages={"required": "Indiquez si l'entreprise recruterait la personne (oui ou non).",
                        "invalid_choice": "Indiquez si l'entreprise recruterait la personne (oui ou non)."},
    )
    comment = forms.CharField(label="Commentaire", required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              error_messages={"max_length": "Le commentaire ne doit pas dépasser 4 000 caractères."})

    def service_kwargs(self):
        data = self.cleaned_data
        return {"skills_observed": data["skills_observed"].splitlines(), "would_hire": data["would_hire"] == "yes",
                "comment": data.get("comment", "")}


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Motif de l'annulation", max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Transmis à l'autre partie : n'y mettez ni la situation ni la santé de la personne.",
        error_messages={"required": "Indiquez le motif de l'annulation.",
                        "max_length": "Le motif ne doit pas dépasser 500 caractères."},
    )


class ImmersionFilterForm(forms.Form):
    statut = forms.ChoiceField(label="Statut", required=False,
                               choices=[("", "Tous les statuts"), *ImmersionStatus.choices])
