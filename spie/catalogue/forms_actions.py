"""Forms of a provider's actions: the sheet, its sessions, a new site from a model, a status.

Choices of thématiques and publics come from the data·inclusion vocabularies loaded in
``referentials.DataInclusionTerm`` (the repository's ``data_inclusion_v1.json`` when the table
is still empty, so a fresh install can already describe its actions). Thématiques are grouped
by category and shown as checkboxes in one disclosure per category: large targets on a
tablet, no script needed. Values already stored but unknown to the vocabulary stay selectable
under "Autres", so an edit never drops them silently.

The eligibility zone is typed as codes or names separated by commas or semicolons: a commune
(INSEE code or name), a département (code of 2 or 3 characters, or name) or an EPCI (SIREN of
9 digits, or name), each checked against ``referentials.Commune``.
"""

import json
import re
from functools import lru_cache
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError

from spie.core.text import fold_words
from spie.referentials.models import Commune, DataInclusionTerm, Departement, PathwayItem
from spie.referentials.selectors import AmbiguousCommune, CommuneNotFound, resolve_commune

from .models import Action, ActionSession, ActionStatus, MobilisationMode, Mobiliser, ReceptionMode
from .services.actions import CONTENT_FIELDS, EDITABLE_FIELDS, allowed_targets

VOCABULARIES_FILE = Path(__file__).resolve().parent.parent / "referentials" / "data" / "data_inclusion_v1.json"
DATE = {"type": "date"}


# --- Vocabularies -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _file_terms():
    """``{vocabulary: [(value, label, parent)]}`` from the repository's file (fallback)."""
    document = json.loads(VOCABULARIES_FILE.read_text(encoding="utf-8"))
    return {
        name: [(t["value"], t.get("label") or t["value"], t.get("categorie") or "") for t in terms]
        for name, terms in document.items()
        if isinstance(terms, list) and all(isinstance(t, dict) and "value" in t for t in terms)
    }


def vocabulary(name):
    """``[(value, label, parent)]`` of a data·inclusion vocabulary, sorted by label."""
    rows = list(DataInclusionTerm.objects.filter(vocabulary=name).values_list("value", "label", "parent_value"))
    if not rows:
        rows = _file_terms().get(name, [])
    return sorted(rows, key=lambda row: fold_words(row[1]))


def thematique_choices(extra=()):
    """Grouped choices ``[(category label, [(value, label)])]``, categories by label; values in
    ``extra`` unknown to the vocabulary go to a last group "Autres"."""
    categories = {value: label for value, label, _p in vocabulary("categories_thematiques")}
    groups = {}
    known = set()
    for value, label, parent in vocabulary("thematiques"):
        category = parent or value.split("--")[0]
        groups.setdefault(category, []).append((value, label))
        known.add(value)
    choices = sorted(
        ((categories.get(code, code), options) for code, options in groups.items()),
        key=lambda group: fold_words(group[0]),
    )
    others = [(value, value) for value in extra if value not in known]
    if others:
        choices.append(("Autres", others))
    return choices


def public_choices(extra=()):
    choices = [(value, label) for value, label, _p in vocabulary("publics")]
    known = {value for value, _l in choices}
    return choices + [(value, value) for value in extra if value not in known]


def term_labels(name):
    """``{value: label}`` of a vocabulary (one query)."""
    return {value: label for value, label, _p in vocabulary(name)}


# --- Fields -----------------------------------------------------------------------------------


class WordsField(forms.CharField):
    """Words separated by commas <-> list of strings (languages)."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        value = super().to_python(value)
        words = []
        for part in re.split(r"[,;]", value or ""):
            part = " ".join(part.split())
            if part and part.lower() not in (w.lower() for w in words):
                words.append(part)
        return words


_LABELLED_CODE = re.compile(r"^(?P<name>.*?)\s*\(\s*(?P<code>\w{2,9})\s*\)\s*$")
_DEPARTEMENT = re.compile(r"^(\d{2,3}|2[AB])$", re.IGNORECASE)


class ZoneField(forms.CharField):
    """An eligibility zone: communes, départements or EPCI, typed as codes or names separated by
    commas or semicolons; cleaned to the list of codes (empty: no restriction)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        value = super().to_python(value)
        codes, errors = [], []
        for token in re.split(r"[,;\n]", value or ""):
            token = " ".join(token.split())
            if not token:
                continue
            try:
                code = self.resolve(token)
            except ValidationError as error:
                errors.extend(error.error_list)
                continue
            if code not in codes:
                codes.append(code)
        if errors:
            raise ValidationError(errors)
        return codes

    def resolve(self, token):
        """The code ``token`` stands for; a French error naming it when it is unknown."""
        upper = token.upper()
        if re.fullmatch(r"\d{9}", token):
            if Commune.objects.filter(epci_siren=token).exists():
                return token
            raise ValidationError(f"« {token} » : aucun EPCI connu n'a ce numéro SIREN.", code="zone")
        if re.fullmatch(r"(\d{5}|2[AB]\d{3})", upper):
            if Commune.objects.filter(code_insee=upper).exists():
                return upper
            try:  # a postal code shared by no other commune is understood too
                return resolve_commune(upper).code_insee
            except (CommuneNotFound, AmbiguousCommune):
                raise ValidationError(f"« {token} » : aucune commune connue n'a ce code INSEE.", code="zone") from None
        if _DEPARTEMENT.fullmatch(upper):
            if Commune.objects.filter(departement=upper).exists():
                return upper
            raise ValidationError(f"« {token} » : ce code de département est inconnu.", code="zone")
        if re.fullmatch(r"\d+", token):
            raise ValidationError(
                f"« {token} » n'est ni un code INSEE de commune (5 caractères), ni un code de département "
                "(2 ou 3), ni un SIREN d'EPCI (9 chiffres).", code="zone",
            )
        return self._resolve_name(token)

    def _resolve_name(self, token):
        match = _LABELLED_CODE.match(token)
        if match and match["code"].upper() != token.upper():
            code = match["code"].upper()
            if len(code) == 9 or (_DEPARTEMENT.fullmatch(code) and self._departement_named(match["name"], code)):
                return self.resolve(code)
        try:
            return resolve_commune(token).code_insee
        except AmbiguousCommune as error:
            raise ValidationError(
                f"« {token} » : plusieurs communes portent ce nom ({', '.join(error.labels)}) : "
                "indiquez son code INSEE.", code="zone",
            ) from None
        except CommuneNotFound:
            pass
        folded = fold_words(token)
        for code, name in Departement.objects.values_list("code", "name"):
            if fold_words(name) == folded:
                return code
        epcis = {
            siren for siren, name in Commune.objects.exclude(epci_siren="").filter(epci_name__iexact=token)
            .values_list("epci_siren", "epci_name").distinct()
        }
        if len(epcis) == 1:
            return epcis.pop()
        raise ValidationError(
            f"« {token} » : commune, département ou EPCI inconnu. Saisissez un code INSEE (5), un code de "
            "département (2 ou 3) ou un SIREN d'EPCI (9).", code="zone",
        )

    @staticmethod
    def _departement_named(name, code):
        stored = Departement.objects.filter(code=code).values_list("name", flat=True).first()
        return stored is None or fold_words(stored) == fold_words(name)


def zone_labels(codes):
    """``[(code, "Toulouse (commune)")]`` for an eligibility zone (at most three queries)."""
    codes = list(codes or ())
    communes = dict(Commune.objects.filter(code_insee__in=[c for c in codes if len(c) == 5])
                    .values_list("code_insee", "name"))
    departements = dict(Departement.objects.filter(code__in=[c for c in codes if len(c) in (2, 3)])
                        .values_list("code", "name"))
    epcis = dict(Commune.objects.filter(epci_siren__in=[c for c in codes if len(c) == 9])
                 .values_list("epci_siren", "epci_name").distinct())
    labels = []
    for code in codes:
        if code in communes:
            labels.append((code, f"{communes[code]} (commune)"))
        elif len(code) in (2, 3):
            labels.append((code, f"{departements.get(code, code)} (département)"))
        elif code in epcis:
            labels.append((code, f"{epcis[code]} (EPCI)"))
        else:
            labels.append((code, code))
    return labels


def _formfield(model_field, **kwargs):
    """Model fields' form fields; links without a scheme are taken as https (Django 6 default)."""
    from django.db import models

    if isinstance(model_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return model_field.formfield(**kwargs)


class PlanItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.theme.label} — {obj.label}"


# --- The action's sheet ----------------------------------------------------------------------


class ActionForm(forms.ModelForm):
    """The sheet of an action, in the fieldsets of the page (the order of a référent's questions:
    what is it, for whom, on what conditions, where, how to mobilise it, when and how long)."""

    FIELDSETS = [
        ("Présentation", ["name", "summary", "description", "type", "spie_kind"]),
        ("Thématiques et publics", ["thematiques", "publics", "publics_details"]),
        ("Conditions d'accès", ["access_conditions", "prerequisites", "documents", "fees", "fees_details",
                                "eligibility_zone"]),
        ("Lieu et modes d'accueil", ["reception_modes", "commune", "address", "address_complement", "postal_code",
                                     "opening_hours", "accessibility"]),
        ("Contact et mobilisation", ["contact_name", "email", "phone", "mobilisation_modes", "mobilisable_by",
                                     "mobilisation_details", "mobilisation_link"]),
        ("Durée et places", ["weekly_hours", "weeks", "capacity", "registration_deadline"]),
        ("Spécificités SPIE", ["spie_axis", "plan_item", "languages", "is_model"]),
    ]
    # Fields rendered by the template itself (grouped checkboxes).
    CUSTOM = ("thematiques",)

    thematiques = forms.MultipleChoiceField(
        label="Thématiques", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Au moins une pour publier. Ouvrez une catégorie pour voir ses thématiques.",
    )
    publics = forms.MultipleChoiceField(label="Publics", required=False, widget=forms.CheckboxSelectMultiple)
    reception_modes = forms.MultipleChoiceField(
        label="Modes d'accueil", required=False, choices=ReceptionMode.choices, widget=forms.CheckboxSelectMultiple,
    )
    mobilisation_modes = forms.MultipleChoiceField(
        label="Comment mobiliser l'action", required=False, choices=MobilisationMode.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    mobilisable_by = forms.MultipleChoiceField(
        label="Qui peut la mobiliser", required=False, choices=Mobiliser.choices, widget=forms.CheckboxSelectMultiple,
    )
    eligibility_zone = ZoneField(
        label="Zone d'éligibilité",
        help_text="Vide : pas de restriction. Codes ou noms séparés par des virgules : commune (code INSEE ou nom), "
                  "département (31) ou EPCI (SIREN à 9 chiffres ou nom).",
    )
    languages = WordsField(label="Langues", required=False, max_length=300,
                           help_text="Séparées par des virgules, ex. français, anglais, arabe")
    commune = None  # replaced in __init__ by the referentials' CommuneField

    class Meta:
        model = Action
        fields = list(EDITABLE_FIELDS)
        formfield_callback = _formfield
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 6}),
            "access_conditions": forms.Textarea(attrs={"rows": 3}),
            "prerequisites": forms.Textarea(attrs={"rows": 3}),
            "documents": forms.Textarea(attrs={"rows": 2}),
            "mobilisation_details": forms.Textarea(attrs={"rows": 3}),
            "registration_deadline": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        }
        help_texts = {
            "name": "Entre 3 et 150 caractères.",
            "summary": "Une ou deux phrases, montrées dans les résultats de recherche.",
            "is_model": "Une action qu'un réseau propose sur plusieurs sites : chaque site la décline avec son lieu "
                        "et son contact, et reprend son contenu à chaque mise à jour.",
            "capacity": "Sans sessions : nombre de places ouvertes. Avec des sessions, les places se comptent "
                        "par session.",
            "email": "Visible des professionnels connectés seulement.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from spie.referentials.forms import CommuneField

        instance = self.instance
        self.fields["thematiques"].choices = thematique_choices(instance.thematiques or ())
        self.fields["publics"].choices = public_choices(instance.publics or ())
        self.fields["commune"] = CommuneField(
            label="Commune du lieu d'accueil", required=False,
            initial=instance.commune if instance.commune_id else None,
            help_text="Obligatoire pour une action en présentiel.",
        )
        self.fields["plan_item"] = PlanItemChoiceField(
            label="Action du référentiel de parcours servie", required=False,
            queryset=PathwayItem.objects.filter(kind=PathwayItem.Kind.ACTION).select_related("theme")
            .order_by("theme__order", "order", "label"),
            initial=instance.plan_item_id,
        )
        self.fields["name"].widget.attrs.update({"minlength": 3, "maxlength": 150})
        self.order_fields([name for _legend, names in self.FIELDSETS for name in names])
        if instance.model_id:  # a site's content comes from its model
            for name in CONTENT_FIELDS:
                if name in self.fields:
                    self.fields[name].disabled = True
            self.fields["is_model"].disabled = True
            self.fields["name"].help_text = "Repris du modèle : modifiez le modèle pour changer le contenu."

    def fieldsets(self):
        return [(legend, [self[name] for name in names if name not in self.CUSTOM])
                for legend, names in self.FIELDSETS]

    def thematique_groups(self):
        """``[(category label, [subwidgets], selected count)]`` for the grouped checkboxes."""
        selected = set(self["thematiques"].value() or ())
        groups, index = [], {}
        choices = self.fields["thematiques"].choices
        for label, options in choices:
            index.update({value: label for value, _l in options})
            groups.append((label, []))
        by_label = {label: items for label, items in groups}
        for widget in self["thematiques"].subwidgets:
            by_label[index[widget.data["value"]]].append(widget)
        return [(label, items, sum(1 for w in items if w.data["value"] in selected)) for label, items in groups]

    def clean_name(self):
        name = " ".join((self.cleaned_data.get("name") or "").split())
        if len(name) < 3:
            raise ValidationError("Le nom doit compter au moins 3 caractères.")
        return name

    def clean_postal_code(self):
        code = (self.cleaned_data.get("postal_code") or "").replace(" ", "")
        if code and not re.fullmatch(r"\d{5}", code):
            raise ValidationError("Le code postal compte 5 chiffres.")
        return code

    def clean(self):
        data = super().clean()
        commune = data.get("commune")
        if commune and "postal_code" in data:
            code = data["postal_code"]
            if not code:
                data["postal_code"] = commune.main_postal_code
            elif commune.postal_codes and code not in commune.postal_codes.split():
                self.add_error("postal_code", f"Le code postal {code} n'est pas celui de {commune.name} "
                                              f"({', '.join(commune.postal_codes.split())}).")
        if MobilisationMode.LINK in (data.get("mobilisation_modes") or ()) and not data.get("mobilisation_link"):
            self.add_error("mobilisation_link", "Ajoutez le lien de mobilisation, ou décochez ce mode.")
        return data

    def action_data(self):
        """Changes for ``services.actions`` (a site's content fields are left to its model)."""
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS
                if name in self.cleaned_data and not self.fields[name].disabled}


# --- Status -----------------------------------------------------------------------------------


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Nouveau statut", choices=ActionStatus.choices)
    until = forms.DateField(label="Suspendue jusqu'au (inclus)", required=False,
                            widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    reason = forms.CharField(label="Motif (facultatif)", required=False, max_length=300)

    def __init__(self, *args, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        if action is not None:
            targets = allowed_targets(action)
            self.fields["status"].choices = [(s.value, s.label) for s in targets]


# --- Sessions ---------------------------------------------------------------------------------


class SessionForm(forms.ModelForm):
    class Meta:
        model = ActionSession
        fields = ["label", "starts_on", "ends_on", "start_time", "place", "capacity", "registration_deadline"]
        widgets = {
            "starts_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "registration_deadline": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "label": "Facultatif, ex. « Session de printemps ».",
            "place": "Si différent du lieu de l'action.",
            "capacity": "Ne peut pas descendre sous le nombre de places déjà prises.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capacity"].min_value = 1
        self.fields["capacity"].widget.attrs["min"] = 1

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "La date de fin ne peut pas précéder la date de début.")
        return data

    def session_data(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


# --- A new site from a model ------------------------------------------------------------------


class InstantiateForm(forms.Form):
    """The place and contact of a new site of an action model."""

    commune = None  # replaced in __init__
    address = forms.CharField(label="Adresse", max_length=250, required=False)
    address_complement = forms.CharField(label="Complément d'adresse", max_length=250, required=False)
    postal_code = forms.CharField(label="Code postal", max_length=5, required=False)
    opening_hours = forms.CharField(label="Horaires d'accueil", max_length=250, required=False)
    contact_name = forms.CharField(label="Contact", max_length=150, required=False)
    email = forms.EmailField(label="Courriel", required=False)
    phone = forms.CharField(label="Téléphone", max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel"}))
    capacity = forms.IntegerField(label="Places", min_value=0, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from spie.referentials.forms import CommuneField

        self.fields["commune"] = CommuneField(label="Commune du site", required=True)
        self.order_fields(["commune", "address", "address_complement", "postal_code"])

    def clean_postal_code(self):
        code = (self.cleaned_data.get("postal_code") or "").replace(" ", "")
        if code and not re.fullmatch(r"\d{5}", code):
            raise ValidationError("Le code postal compte 5 chiffres.")
        return code

    def site_data(self):
        data = dict(self.cleaned_data)
        if data.get("commune") and not data.get("postal_code"):
            data["postal_code"] = data["commune"].main_postal_code
        return data
