from django import forms

from spie.network.models import Membership

from .models import Consent, HealthInfo, Person
from .validators import validate_nir

PERSON_FIELDS = [
    "first_name", "last_name", "birth_name", "birth_date", "sex", "address", "phone", "email",
    "nir", "caf_number", "msa_number", "france_travail_id", "internal_id",
    "lone_parent", "children_birth_years",
    "rsa", "rsa_rights_opened_on", "rsa_droits_devoirs", "are", "ass", "aah", "prime_activite",
    "education_level", "languages", "driving_licence", "has_vehicle",
]


class YearsField(forms.CharField):
    """Comma-separated years ("2019, 2024") <-> list of ints."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        years = []
        for part in (value or "").replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or not 1900 < int(part) < 2100:
                raise forms.ValidationError(f"« {part} » n'est pas une année valide (ex. 2019, 2024).")
            years.append(int(part))
        return sorted(years)


class WordsField(forms.CharField):
    """Comma-separated words <-> list of strings."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        return [part.strip() for part in (value or "").split(",") if part.strip()]


class PersonForm(forms.ModelForm):
    FIELDSETS = [
        ("Identité", ["first_name", "last_name", "birth_name", "birth_date", "sex"]),
        ("Adresse et contact", ["commune", "address", "phone", "email"]),
        ("Identifiants", ["nir", "caf_number", "msa_number", "france_travail_id", "internal_id"]),
        ("Foyer", ["lone_parent", "children_birth_years"]),
        ("Droits", ["rsa", "rsa_rights_opened_on", "rsa_droits_devoirs", "are", "ass", "aah", "prime_activite"]),
        ("Formation, langues et mobilité", ["education_level", "languages", "driving_licence", "has_vehicle"]),
    ]
    commune = None  # replaced in __init__ by the referentials' CommuneField
    children_birth_years = YearsField(
        label="Années de naissance des enfants", required=False, help_text="Séparées par des virgules, ex. 2016, 2024"
    )
    languages = WordsField(label="Langues parlées", required=False, help_text="Ex. français, arabe, anglais")
    nir = forms.CharField(
        label="NIR", required=False, max_length=21,
        help_text="Facultatif. 15 caractères (espaces acceptés), la clé est vérifiée.",
    )

    class Meta:
        model = Person
        fields = PERSON_FIELDS
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "rsa_rights_opened_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "nir": "Facultatif. 15 caractères, la clé est vérifiée.",
            "rsa_rights_opened_on": "Sert au calcul du délai d'orientation.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from spie.referentials.forms import CommuneField

        self.fields["commune"] = CommuneField(
            label="Commune de résidence", required=False,
            initial=self.instance.commune if self.instance.pk else None,
        )
        order = ["first_name", "last_name", "birth_name", "birth_date", "sex", "commune"]
        self.order_fields(order)
        for name in ("first_name", "last_name"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def clean_nir(self):
        nir = (self.cleaned_data.get("nir") or "").replace(" ", "").upper()
        if nir:
            validate_nir(nir)
        return nir

    def clean(self):
        data = super().clean()
        if data.get("rsa_rights_opened_on") and not data.get("rsa"):
            self.add_error("rsa", "Cochez « bénéficiaire du RSA » si des droits RSA sont ouverts.")
        return data

    def person_data(self):
        data = {field: self.cleaned_data[field] for field in PERSON_FIELDS}
        data["commune"] = self.cleaned_data.get("commune")
        return data


class HealthForm(forms.ModelForm):
    restriction_flags = forms.MultipleChoiceField(
        label="Contre-indications pour un poste", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Cochez seulement ce que la personne ne peut pas faire. Le rapprochement avec les offres "
                  "n'en tient compte qu'en oui/non : ni l'entreprise ni les autres professionnels ne voient ces "
                  "cases, ni la raison médicale.",
        error_messages={"invalid_choice": "Choisissez dans la liste."},
    )

    class Meta:
        model = HealthInfo
        fields = ["rqth", "rqth_until", "work_restrictions", "restriction_flags", "notes"]
        widgets = {"rqth_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The physical demands of a job, the same codes as the openings' (employers app).
        from spie.employers.models import HealthDemand

        self.fields["restriction_flags"].choices = HealthDemand.choices


class JoinRequestForm(forms.Form):
    reason = forms.CharField(
        label="Pourquoi devez-vous accompagner cette personne ?", widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accepter"), ("refuse", "Refuser")])
    reason = forms.CharField(label="Motif", required=False, max_length=250)


class ConsentForm(forms.ModelForm):
    class Meta:
        model = Consent
        fields = ["scope", "status", "channel", "given_on"]
        widgets = {"given_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class AddMemberForm(forms.Form):
    email = forms.EmailField(label="Adresse électronique du professionnel")
    reason = forms.CharField(label="Motif", max_length=250)

    def __init__(self, *args, territory=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.territory = territory

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        membership = (
            Membership.objects.filter(
                user__email=email, user__is_active=True, is_active=True, structure__territory=self.territory
            )
            .exclude(role__in=[Membership.Role.EMPLOYER, Membership.Role.COORDINATOR])
            .select_related("user", "structure")
            .first()
        )
        if membership is None:
            raise forms.ValidationError("Aucun professionnel actif du territoire avec cette adresse.")
        self.membership = membership
        return email


class ChangeReferentForm(forms.Form):
    followup = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label="Motif du changement", max_length=250)
