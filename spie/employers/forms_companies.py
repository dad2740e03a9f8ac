"""Forms of the company side: a company, its space, openings and their status, immersion offers,
engagements, registrations and attendance, and the filters of the lists.

Pickers reuse the platform's: communes with ``referentials.forms.CommuneField`` (a text input
with a ``<datalist>`` refreshed by htmx from ``referentials:commune_options``), ROME codes and
appellations with the diagnostic's endpoint ``diagnostics:rome_options`` read back by
``diagnostics.selectors.resolve_rome``; the NAF code is a text input with the list of the NAF
sub-classes (``referentials.NafCode``) as suggestions, checked against it. Without JavaScript
every picker is a plain text input that still understands a typed code or label.
Schedule and physical demands are checkbox lists. The SIRET is checked by the model's
validator (Luhn key), with its French message.
"""

import re
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from spie.catalogue.forms_actions import WordsField
from spie.diagnostics import selectors as rome_selectors
from spie.network.models import Structure
from spie.referentials.forms import CommuneField
from spie.referentials.models import NafCode, RomeAppellation, RomeCode

from .models import (
    Company,
    ContractType,
    Engagement,
    EngagementKind,
    HealthDemand,
    ImmersionOffer,
    JobOpening,
    OpeningStatus,
    Schedule,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Structures a company may be a partner of (federations and clubs, GEIQ, chambers, SIAE).
PARTNER_KINDS = (Structure.Kind.EMPLOYERS, Structure.Kind.GEIQ, Structure.Kind.CHAMBER, Structure.Kind.SIAE)
_NAF = re.compile(r"^\s*(\d{2})\.?(\d{2})\s*([A-Za-z])\b")


def partner_structures(territory_id):
    return Structure.objects.filter(territory_id=territory_id, kind__in=PARTNER_KINDS, is_active=True).order_by(
        "name", "id")


def schedule_labels(codes):
    labels = dict(Schedule.choices)
    return [labels.get(c, c) for c in codes or ()]


def health_labels(codes):
    labels = dict(HealthDemand.choices)
    return [labels.get(c, c) for c in codes or ()]


# --- Pickers -----------------------------------------------------------------------------------------


class NafInput(forms.TextInput):
    """Text input with the NAF sub-classes as ``<datalist>`` suggestions (about 730, one query)."""

    template_name = "employers/companies/naf_input.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        datalist_id = f"{context['widget']['attrs'].get('id') or 'id_' + name}-naf"
        context["widget"]["attrs"].setdefault("list", datalist_id)
        context["widget"]["attrs"].setdefault("autocomplete", "off")
        context["widget"]["datalist_id"] = datalist_id
        context["widget"]["options"] = [f"{code} — {label}" for code, label in
                                        NafCode.objects.order_by("code").values_list("code", "label")]
        return context


class NafField(forms.CharField):
    """A NAF code typed as "56.10A", "5610A" or chosen as "56.10A — Restauration traditionnelle";
    cleaned to the :class:`NafCode` (None when empty)."""

    widget = NafInput

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Code NAF")
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 300)
        kwargs.setdefault("help_text", "Le code d'activité (APE) de l'établissement, par exemple 56.10A.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, NafCode):
            return f"{value.code} — {value.label}"
        if isinstance(value, str) and value and not self._typed(value):
            naf = NafCode.objects.filter(code=value).first()
            return f"{naf.code} — {naf.label}" if naf else value
        return value

    @staticmethod
    def _typed(value):
        return "—" in value

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        match = _NAF.match(value)
        code = f"{match[1]}.{match[2]}{match[3].upper()}" if match else None
        naf = NafCode.objects.filter(code=code).first() if code else None
        if naf is None:
            raise ValidationError(
                f"Code NAF inconnu : « {value} ». Saisissez un code de la nomenclature, par exemple 56.10A.",
                code="naf")
        return naf


class RomeInput(forms.TextInput):
    """Text input suggesting ROME codes and appellations (htmx, ``diagnostics:rome_options``)."""

    template_name = "employers/companies/rome_input.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        datalist_id = f"{widget_attrs.get('id') or 'id_' + name}-rome"
        widget_attrs.setdefault("list", datalist_id)
        widget_attrs.setdefault("autocomplete", "off")
        widget_attrs.setdefault("hx-get", f"{reverse('diagnostics:rome_options')}?{urlencode({'field': name})}")
        widget_attrs.setdefault("hx-trigger", "input changed delay:250ms")
        widget_attrs.setdefault("hx-target", f"#{datalist_id}")
        widget_attrs.setdefault("hx-swap", "innerHTML")
        widget_attrs.setdefault("hx-sync", "this:replace")
        context["widget"]["datalist_id"] = datalist_id
        return context


class RomeField(forms.CharField):
    """A job typed as a ROME code ("G1602"), an appellation code or label, or chosen in the
    suggestions ("Commis de cuisine (12345)"); cleaned to ``(RomeCode, RomeAppellation | None)``."""

    widget = RomeInput

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Métier (ROME)")
        kwargs.setdefault("max_length", 300)
        kwargs.setdefault("help_text", "Commencez à taper un métier ou un code ROME, puis choisissez dans la liste.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, RomeAppellation):
            return f"{value.label} ({value.code_ogr})"
        if isinstance(value, RomeCode):
            return f"{value.label} ({value.code})"
        return value

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            code = rome_selectors.resolve_rome(value)
        except rome_selectors.RomeNotFound:
            raise ValidationError(
                f"Métier introuvable : « {value} ». Choisissez un métier dans la liste ou saisissez un code ROME "
                "(une lettre et quatre chiffres, par exemple G1602).", code="rome") from None
        if rome_selectors.ROME_CODE.match(code):
            return RomeCode.objects.get(code=code), None
        appellation = RomeAppellation.objects.select_related("rome").get(code_ogr=code)
        return appellation.rome, appellation


def _checkboxes(choices, label, required=False, help_text=""):
    return forms.MultipleChoiceField(label=label, choices=choices, required=required, help_text=help_text,
                                     widget=forms.CheckboxSelectMultiple)


class FieldsetsMixin:
    FIELDSETS = []

    def fieldsets(self):
        return [(legend, [self[name] for name in names if name in self.fields]) for legend, names in self.FIELDSETS]


# --- Company -----------------------------------------------------------------------------------------


class CompanyForm(FieldsetsMixin, forms.ModelForm):
    FIELDSETS = [
        ("Identité", ["name", "siret", "naf", "size", "description", "is_inclusive"]),
        ("Adresse", ["commune", "address"]),
        ("Contact", ["contact_name", "contact_email", "contact_phone"]),
        ("Partenaires employeurs du SPIE", ["partners"]),
    ]

    naf = NafField()
    commune = CommuneField(required=False, label="Commune de l'établissement")
    partners = forms.ModelMultipleChoiceField(
        label="Partenaires employeurs", queryset=Structure.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Les réseaux d'employeurs du SPIE avec lesquels l'entreprise travaille.",
    )

    class Meta:
        model = Company
        fields = ["name", "siret", "naf", "size", "description", "is_inclusive", "commune", "address",
                  "contact_name", "contact_email", "contact_phone", "partners"]
        help_texts = {"siret": "14 chiffres, sans espace (la clé de contrôle est vérifiée)."}

    def __init__(self, *args, territory_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partners"].queryset = partner_structures(territory_id)
        self.fields["siret"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean_siret(self):
        return (self.cleaned_data.get("siret") or "").replace(" ", "")

    def company_data(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CompanyAccountForm(forms.Form):
    first_name = forms.CharField(label="Prénom", max_length=100)
    last_name = forms.CharField(label="Nom", max_length=100)
    email = forms.EmailField(label="Adresse électronique professionnelle")
    job_title = forms.CharField(label="Fonction", max_length=150, required=False,
                                help_text="Par exemple : responsable des ressources humaines.")


# --- Openings ----------------------------------------------------------------------------------------


class OpeningForm(FieldsetsMixin, forms.ModelForm):
    FIELDSETS = [
        ("Le poste", ["metier", "title", "description", "contract_type", "duration_months", "positions",
                      "opened_on"]),
        ("Horaires et lieu", ["weekly_hours", "schedule", "commune", "remote"]),
        ("Ce que le poste demande", ["requires_licence", "qualification", "min_experience_months", "languages",
                                     "health_demands"]),
        ("Ce que l'entreprise propose", ["offers_training", "offers_mentoring", "adapted_position"]),
    ]

    metier = RomeField()
    schedule = _checkboxes(Schedule.choices, "Horaires du poste", required=True)
    commune = CommuneField(required=False, label="Lieu de travail",
                           help_text="Obligatoire sauf en télétravail complet.")
    languages = WordsField(label="Langues exigées", required=False, max_length=300,
                           help_text="Séparées par des virgules ; laissez vide si le français suffit.")
    health_demands = _checkboxes(HealthDemand.choices, "Contraintes physiques du poste",
                                 help_text="Elles servent à ne pas proposer le poste à qui ne peut pas les assumer ; "
                                           "aucune information de santé n'est montrée à l'entreprise.")

    class Meta:
        model = JobOpening
        fields = ["title", "description", "contract_type", "duration_months", "positions", "opened_on",
                  "weekly_hours", "schedule", "commune", "remote", "requires_licence", "qualification",
                  "min_experience_months", "languages", "health_demands", "offers_training", "offers_mentoring",
                  "adapted_position"]
        widgets = {"opened_on": DATE, "description": forms.Textarea(attrs={"rows": 5})}
        error_messages = {"schedule": {"required": "Cochez au moins un horaire."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk and instance.rome_id and "metier" not in self.initial:
            self.initial["metier"] = instance.appellation or instance.rome
        self.fields["schedule"].error_messages["required"] = "Cochez au moins un horaire."

    def clean(self):
        data = super().clean()
        contract = data.get("contract_type")
        if contract in (ContractType.CDD, ContractType.INTERIM, ContractType.SEASONAL) and not data.get(
                "duration_months"):
            self.add_error("duration_months", "Indiquez la durée du contrat (en mois).")
        return data

    def opening_data(self):
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        rome, appellation = self.cleaned_data["metier"]
        data["rome"], data["appellation"] = rome, appellation
        return data


class OpeningStatusForm(forms.Form):
    status = forms.ChoiceField(label="Statut", choices=OpeningStatus.choices,
                               error_messages={"required": "Choisissez le statut.",
                                               "invalid_choice": "Choisissez un statut de la liste."})
    on = forms.DateField(label="Date", required=False, widget=DATE)

    def clean_on(self):
        from django.utils import timezone

        on = self.cleaned_data.get("on")
        if on and on > timezone.localdate():
            raise ValidationError("La date ne peut pas être dans le futur.")
        return on


# --- Immersion offers ----------------------------------------------------------------------------------


class ImmersionOfferForm(FieldsetsMixin, forms.ModelForm):
    FIELDSETS = [
        ("L'immersion", ["metier", "title", "description", "places", "is_open"]),
        ("Horaires et lieu", ["weekly_hours", "schedule", "commune"]),
    ]

    metier = RomeField()
    schedule = _checkboxes(Schedule.choices, "Horaires", required=True)
    commune = CommuneField(label="Lieu de l'immersion")

    class Meta:
        model = ImmersionOffer
        fields = ["title", "description", "places", "is_open", "weekly_hours", "schedule", "commune"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk and instance.rome_id and "metier" not in self.initial:
            self.initial["metier"] = instance.appellation or instance.rome
        self.fields["schedule"].error_messages["required"] = "Cochez au moins un horaire."

    def offer_data(self):
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["rome"], data["appellation"] = self.cleaned_data["metier"]
        return data


# --- Engagements ---------------------------------------------------------------------------------------


class EngagementForm(FieldsetsMixin, forms.ModelForm):
    FIELDSETS = [
        ("L'événement", ["kind", "title", "description", "date", "capacity", "partner"]),
        ("Lieu", ["commune", "remote"]),
    ]

    commune = CommuneField(required=False, label="Lieu", help_text="Obligatoire sauf à distance.")

    class Meta:
        model = Engagement
        fields = ["kind", "title", "description", "date", "capacity", "partner", "commune", "remote"]
        widgets = {"date": DATE, "description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"capacity": "Laissez vide si le nombre de places n'est pas limité."}

    def __init__(self, *args, territory_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partner_structures(territory_id)
        self.fields["partner"].required = False

    def clean(self):
        data = super().clean()
        if not data.get("remote") and not data.get("commune") and "commune" not in self.errors:
            self.add_error("commune", "Indiquez le lieu, ou cochez « à distance ».")
        return data

    def engagement_data(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class RegistrationForm(forms.Form):
    person = forms.ModelChoiceField(label="Personne à inscrire", queryset=None,
                                    empty_label="— Choisissez une personne que vous suivez —",
                                    error_messages={"invalid_choice": "Choisissez une personne que vous suivez."})

    def __init__(self, *args, persons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = persons
        self.fields["person"].label_from_instance = lambda p: f"{p.last_name.upper()} {p.first_name}"


ATTENDANCE_CHOICES = [("", "Non renseigné"), ("yes", "Présent(e)"), ("no", "Absent(e)")]
ATTENDANCE_VALUES = {"": None, "yes": True, "no": False}


class AttendanceForm(forms.Form):
    """One radio group per registration (``r<pk>``)."""

    def __init__(self, *args, registrations, **kwargs):
        super().__init__(*args, **kwargs)
        self.registrations = list(registrations)
        for registration in self.registrations:
            initial = {None: "", True: "yes", False: "no"}[registration.attended]
            self.fields[f"r{registration.pk}"] = forms.ChoiceField(
                label=registration.display_name, choices=ATTENDANCE_CHOICES, required=False, initial=initial,
                widget=forms.RadioSelect)

    def rows(self):
        return [(registration, self[f"r{registration.pk}"]) for registration in self.registrations]

    def attendance(self):
        return {r.pk: ATTENDANCE_VALUES[self.cleaned_data[f"r{r.pk}"]] for r in self.registrations}


# --- Filters ---------------------------------------------------------------------------------------


class CompanyFilterForm(forms.Form):
    q = forms.CharField(label="Nom ou SIRET", required=False, max_length=100)
    section = forms.ChoiceField(label="Secteur (section NAF)", required=False)
    commune = CommuneField(required=False, label="Commune")
    epci = forms.ChoiceField(label="Intercommunalité (EPCI)", required=False)
    partenaire = forms.ChoiceField(label="Partenaire employeur", required=False)

    def __init__(self, *args, territory_id, **kwargs):
        super().__init__(*args, **kwargs)
        sections = NafCode.objects.values_list("section_code", "section_label").distinct().order_by("section_code")
        self.fields["section"].choices = [("", "Tous")] + [(c, f"{c} — {label.capitalize()}") for c, label in sections]
        from spie.referentials.models import Commune

        epcis = (Commune.objects.filter(departement__in=_territory_departements(territory_id))
                 .exclude(epci_siren="").values_list("epci_siren", "epci_name").distinct().order_by("epci_name"))
        self.fields["epci"].choices = [("", "Toutes")] + list(epcis)
        self.fields["partenaire"].choices = [("", "Tous")] + [
            (str(pk), name) for pk, name in partner_structures(territory_id).values_list("pk", "name")]


def _territory_departements(territory_id):
    from spie.network.models import Territory

    code = Territory.objects.filter(pk=territory_id).values_list("code", flat=True).first()
    return [code] if code else []


class OpeningFilterForm(forms.Form):
    ALL = "toutes"
    q = forms.CharField(label="Métier, code ROME ou mot-clé", required=False, max_length=100)
    contrat = forms.ChoiceField(label="Contrat", required=False, choices=[("", "Tous"), *ContractType.choices])
    commune = CommuneField(required=False, label="Commune")
    statut = forms.ChoiceField(label="Statut", required=False,
                               choices=[("", "Ouvertes"), (OpeningStatus.FILLED, "Pourvues"),
                                        (OpeningStatus.CLOSED, "Fermées"), (ALL, "Toutes")])


class ImmersionOfferFilterForm(forms.Form):
    q = forms.CharField(label="Métier, code ROME ou mot-clé", required=False, max_length=100)
    commune = CommuneField(required=False, label="Commune")
    toutes = forms.BooleanField(label="Inclure les offres fermées", required=False)


class EngagementFilterForm(forms.Form):
    type = forms.ChoiceField(label="Type", required=False, choices=[("", "Tous"), *EngagementKind.choices])
    du = forms.DateField(label="Du", required=False, widget=DATE)
    au = forms.DateField(label="Au", required=False, widget=DATE)
