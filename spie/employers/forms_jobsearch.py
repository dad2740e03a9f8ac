"""Forms of a person's job search: the profile (targets, place, travel, hours, contracts) and
the dismissal of a proposal."""

from django import forms

from spie.diagnostics import selectors as diagnostic_selectors
from spie.referentials.forms import CommuneField
from spie.referentials.models import RomeAppellation, RomeCode

from .models import ContractType, DismissalReason, Schedule, TravelMode

N_TARGETS = 3


def rome_text(rome, appellation=None):
    """What a ROME picker shows for a target: "Commis de cuisine (12345)" or "Label (G1602)"."""
    if appellation is not None:
        return f"{appellation.label} ({appellation.code_ogr})"
    return f"{rome.label} ({rome.code})" if rome is not None else ""


class JobSearchProfileForm(forms.Form):
    commune = CommuneField(label="Commune autour de laquelle la personne cherche", required=False,
                           help_text="Par défaut, la commune de résidence.")
    travel_mode = forms.ChoiceField(label="Moyen de transport", choices=TravelMode.choices, widget=forms.RadioSelect)
    max_travel_minutes = forms.IntegerField(label="Temps de trajet accepté (minutes, aller)", min_value=5,
                                            max_value=240)
    availability = forms.MultipleChoiceField(
        label="Horaires possibles", choices=Schedule.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Sans réponse, tous les horaires sont considérés comme possibles.",
    )
    childcare_conflicts = forms.MultipleChoiceField(
        label="Horaires empêchés par la garde d'enfants", choices=Schedule.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Les offres sur ces horaires apparaîtront comme accessibles avec une solution de garde.",
    )
    contracts = forms.MultipleChoiceField(label="Contrats recherchés", choices=ContractType.choices, required=False,
                                          widget=forms.CheckboxSelectMultiple)
    hours_min = forms.IntegerField(label="Heures par semaine, au moins", min_value=0, max_value=48)
    hours_max = forms.IntegerField(label="Heures par semaine, au plus", min_value=1, max_value=48)
    available_from = forms.DateField(label="Disponible à partir du", required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    skills = forms.CharField(label="Compétences et qualifications (une par ligne)", required=False,
                             widget=forms.Textarea(attrs={"rows": 4}), max_length=3000)
    is_active = forms.BooleanField(label="La personne recherche un emploi", required=False, initial=True)
    visible_to_employers = forms.BooleanField(
        label="La personne accepte que son profil anonyme soit visible des entreprises", required=False,
        help_text="Sans nom, ni date de naissance, ni situation, ni coordonnées.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, N_TARGETS + 1):
            self.fields[f"target_{i}"] = forms.CharField(
                label=f"Métier recherché n° {i}", required=i == 1, max_length=300,
                widget=forms.TextInput(attrs={"list": "rome-options", "autocomplete": "off"}),
            )
            self.fields[f"experience_{i}"] = forms.IntegerField(
                label=f"Expérience dans ce métier (mois) n° {i}", required=False, min_value=0, max_value=600,
            )
        self.fields["target_1"].error_messages["required"] = "Indiquez au moins un métier recherché."

    def target_rows(self):
        return [(self[f"target_{i}"], self[f"experience_{i}"]) for i in range(1, N_TARGETS + 1)]

    def clean(self):
        data = super().clean()
        targets = []
        for i in range(1, N_TARGETS + 1):
            text = (data.get(f"target_{i}") or "").strip()
            if not text:
                continue
            try:
                code = diagnostic_selectors.resolve_rome(text)
            except diagnostic_selectors.RomeNotFound:
                self.add_error(f"target_{i}", "Métier introuvable : choisissez-le dans la liste proposée.")
                continue
            if code.isdigit():
                app = RomeAppellation.objects.select_related("rome").get(code_ogr=code)
                rome, appellation = app.rome, app
            else:
                rome, appellation = RomeCode.objects.get(code=code), None
            targets.append({"rome": rome, "appellation": appellation,
                            "experience_months": data.get(f"experience_{i}") or 0})
        hmin, hmax = data.get("hours_min"), data.get("hours_max")
        if hmin is not None and hmax is not None and hmin > hmax:
            self.add_error("hours_max", "Le maximum doit être au moins égal au minimum.")
        self.targets = targets
        return data

    def service_data(self):
        data = {name: self.cleaned_data.get(name) for name in (
            "commune", "travel_mode", "max_travel_minutes", "availability", "childcare_conflicts", "contracts",
            "hours_min", "hours_max", "available_from", "skills", "is_active", "visible_to_employers",
        )}
        data["skills"] = "\n".join(line.strip() for line in (data["skills"] or "").splitlines() if line.strip())
        return data

    @classmethod
    def initial_from(cls, profile=None, prefill=None):
        """Initial values from a stored profile, then the diagnostic's prefill on top."""
        initial = {"travel_mode": TravelMode.PUBLIC, "max_travel_minutes": 45, "hours_min": 0, "hours_max": 35,
                   "is_active": True}
        targets = []
        if profile is not None:
            for name in ("commune", "travel_mode", "max_travel_minutes", "availability", "childcare_conflicts",
                         "contracts", "hours_min", "hours_max", "available_from", "skills", "is_active",
                         "visible_to_employers"):
                initial[name] = getattr(profile, name)
            targets = [{"rome": t.rome, "appellation": t.appellation, "experience_months": t.experience_months}
                       for t in profile.targets.all()]
        if prefill:
            initial.update(prefill["fields"])
            if prefill["targets"]:
                targets = prefill["targets"]
        for i, target in enumerate(targets[:N_TARGETS], start=1):
            initial[f"target_{i}"] = rome_text(target["rome"], target.get("appellation"))
            initial[f"experience_{i}"] = target.get("experience_months") or 0
        return initial


DISMISS_REASON_REQUIRED = "Choisissez un motif pour écarter la proposition."
MAX_DISMISS_COMMENT = 300


class DismissForm(forms.Form):
    proposal = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={"required": "Cette proposition n'existe plus : actualisez la page.",
                        "invalid": "Cette proposition n'existe plus : actualisez la page."},
    )
    reason = forms.ChoiceField(
        label="Motif", choices=[("", "Choisir un motif…"), *DismissalReason.choices],
        error_messages={"required": DISMISS_REASON_REQUIRED, "invalid_choice": DISMISS_REASON_REQUIRED},
    )
    comment = forms.CharField(
        label="Précision", required=False, max_length=MAX_DISMISS_COMMENT,
        error_messages={"max_length": f"La précision ne doit pas dépasser {MAX_DISMISS_COMMENT} caractères."},
    )

    def error_text(self):
        """Every error of the form, in French, in the order of the fields (for a flash message)."""
        return " ".join(e for errors in self.errors.values() for e in errors)
