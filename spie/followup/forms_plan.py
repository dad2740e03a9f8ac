"""Forms of the plan page. Choices are computed once per page (:class:`PlanChoices`) and given to
every form, so that one form per objective and per action costs no query."""

from dataclasses import dataclass, field

from django import forms

from spie.network.models import Structure
from spie.referentials.models import PathwayItem, PathwayTheme

from .models import PlanStatus
from .services import plan as plan_services

FREE = ""


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


@dataclass
class PlanChoices:
    """Référentiel, group professionals and structures of the territory, loaded once (3 queries)."""

    themes: dict = field(default_factory=dict)  # code -> PathwayTheme
    objective_items: dict = field(default_factory=dict)  # id -> PathwayItem
    action_items: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)  # id -> User
    structures: dict = field(default_factory=dict)  # id -> Structure

    @classmethod
    def load(cls, person):
        themes = {t.code: t for t in PathwayTheme.objects.all()}
        objective_items, action_items = {}, {}
        for item in PathwayItem.objects.filter(
            kind__in=(PathwayItem.Kind.OBJECTIVE, PathwayItem.Kind.ACTION)
        ).order_by("theme__order", "order", "label"):
            item.theme = themes.get(item.theme_id)  # no query per item
            (objective_items if item.kind == PathwayItem.Kind.OBJECTIVE else action_items)[item.pk] = item
        users = {u.pk: u for u in _group_users(person)}
        structures = {
            s.pk: s for s in Structure.objects.filter(territory_id=person.territory_id, is_active=True)
            .only("pk", "name", "territory_id", "is_active").order_by("name")
        }
        return cls(themes, objective_items, action_items, users, structures)

    def grouped(self, items, theme_code=None):
        groups = {}
        for item in items.values():
            if theme_code and item.theme_id != theme_code:
                continue
            groups.setdefault(item.theme.label if item.theme else "", []).append((str(item.pk), item.label))
        if theme_code:
            return [choice for choices in groups.values() for choice in choices]
        return list(groups.items())


def _group_users(person):
    """Professionals of the active follow-up group (prefetched by ``person_for_record``)."""
    followups = getattr(person, "active_followups", None)
    if followups is None:
        return plan_services.group_professionals(person)
    users = {}
    for f in sorted(followups, key=lambda f: (f.kind != "referent", f.user.last_name)):
        users.setdefault(f.user_id, f.user)
    return list(users.values())


class ObjectiveForm(forms.Form):
    item = forms.TypedChoiceField(label="Objectif du référentiel", required=False, coerce=int, empty_value=None)
    theme = forms.ChoiceField(label="Thème (saisie libre)", required=False)
    label = forms.CharField(label="Ou objectif en saisie libre", required=False, max_length=300)

    def __init__(self, *args, choices, **kwargs):
        kwargs.setdefault("prefix", "objective")
        super().__init__(*args, **kwargs)
        self.choices = choices
        self.fields["item"].choices = [(FREE, "— Saisie libre —"), *choices.grouped(choices.objective_items)]
        self.fields["theme"].choices = [(FREE, "— Sans thème —"), *((c, t.label) for c, t in choices.themes.items())]

    def clean(self):
        data = super().clean()
        item_id = data.get("item")
        data["item"] = self.choices.objective_items.get(item_id) if item_id else None
        data["theme"] = self.choices.themes.get(data.get("theme") or "")
        if data["item"] is None and not (data.get("label") or "").strip():
            raise forms.ValidationError("Choisissez un objectif du référentiel ou saisissez l'objectif.")
        return data


class ActionForm(forms.Form):
    item = forms.TypedChoiceField(label="Action du référentiel", required=False, coerce=int, empty_value=None)
    label = forms.CharField(label="Ou action en saisie libre", required=False, max_length=300)
    planned_on = forms.DateField(label="Début prévu", required=False, widget=DateInput())
    due_on = forms.DateField(label="Échéance", required=False, widget=DateInput())
    responsible_user = forms.TypedChoiceField(label="Professionnel en charge", required=False, coerce=int,
                                              empty_value=None)
    responsible_structure = forms.TypedChoiceField(label="Structure en charge", required=False, coerce=int,
                                                   empty_value=None)
    provider = forms.CharField(label="Autre intervenant", required=False, max_length=200,
                               help_text="Organisme ou personne hors du réseau, le cas échéant.")

    def __init__(self, *args, objective, choices, **kwargs):
        kwargs.setdefault("prefix", f"action-{objective.pk}")
        super().__init__(*args, **kwargs)
        self.objective = objective
        self.choices = choices
        self.fields["item"].choices = [
            (FREE, "— Saisie libre —"),
            *choices.grouped(choices.action_items, theme_code=objective.theme_id),
        ] if objective.theme_id else [(FREE, "— Saisie libre —"), *choices.grouped(choices.action_items)]
        self.fields["responsible_user"].choices = [(FREE, "—"), *((str(pk), str(u)) for pk, u in choices.users.items())]
        self.fields["responsible_structure"].choices = [
            (FREE, "—"), *((str(pk), s.name) for pk, s in choices.structures.items())
        ]

    def clean(self):
        data = super().clean()
        item_id = data.get("item")
        data["item"] = self.choices.action_items.get(item_id) if item_id else None
        data["responsible_user"] = self.choices.users.get(data.get("responsible_user"))
        data["responsible_structure"] = self.choices.structures.get(data.get("responsible_structure"))
        if data["item"] is None and not (data.get("label") or "").strip():
            raise forms.ValidationError("Choisissez une action du référentiel ou saisissez l'action.")
        return data


class TransitionForm(forms.Form):
    status = forms.ChoiceField(label="Nouveau statut")
    reason = forms.CharField(label="Motif", required=False, max_length=300,
                             help_text="Obligatoire pour abandonner ou annuler.")

    def __init__(self, *args, current, **kwargs):
        super().__init__(*args, **kwargs)
        # Every status is accepted here so that a refused transition gets the service's clear message;
        # the list offers only the allowed ones.
        self.fields["status"].choices = PlanStatus.choices
        self.fields["status"].widget.choices = [(s.value, s.label) for s in plan_services.allowed_targets(current)]
