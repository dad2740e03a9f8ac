"""Forms of the orientation and contract pages (French labels, server-side checks)."""

from django import forms
from django.db.models import Q
from django.utils import timezone

from spie.diagnostics.models import OrientationType
from spie.network.models import Membership, Structure
from spie.referentials.models import PathwayItem, PathwayTheme

from . import policies, scans

DATE_WIDGET = {"type": "date"}


def active_structures(territory):
    return Structure.objects.filter(territory=territory, is_active=True).order_by("name")


def referent_memberships(territory):
    """Current référent (or admin) memberships of the territory's active structures."""
    today = timezone.localdate()
    return (
        Membership.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today),
            structure__territory=territory, structure__is_active=True, is_active=True,
            start_date__lte=today, role__in=policies.REFERENT_ROLES, user__is_active=True,
        )
        .select_related("user", "structure")
        .order_by("structure__name", "user__last_name", "user__first_name", "pk")
    )


class StructureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ProposalForm(forms.Form):
    """Propose an orientation (référent, group member or chargé d'orientation)."""

    type = forms.ChoiceField(label="Orientation proposée", choices=[("", "—")] + OrientationType.choices)
    structure = StructureChoiceField(
        label="Structure proposée", required=False, queryset=Structure.objects.none(),
        empty_label="— Pas de structure particulière —",
        help_text="Facultatif : le chargé d'orientation choisira la structure.",
    )
    reason = forms.CharField(
        label="Motif de la proposition", widget=forms.Textarea(attrs={"rows": 4}), max_length=3000,
        help_text="Ce qui justifie cette orientation. N'écrivez pas ici de détails de santé.",
    )
    diagnostic = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, territory=None, prefix="propose", **kwargs):
        super().__init__(*args, prefix=prefix, **kwargs)
        self.fields["structure"].queryset = active_structures(territory)


class ReorientationForm(ProposalForm):
    def __init__(self, *args, prefix="reorient", **kwargs):
        super().__init__(*args, prefix=prefix, **kwargs)
        self.fields["type"].label = "Orientation demandée"
        self.fields["structure"].label = "Structure demandée"
        self.fields["reason"].label = "Motif de la demande de réorientation"
        del self.fields["diagnostic"]


class ReferentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.user.get_full_name() or obj.user.email} — {obj.structure.name}"


class DecisionForm(forms.Form):
    """A chargé d'orientation decides: type, structure, référent unique, reason."""

    type = forms.ChoiceField(label="Orientation décidée", choices=[("", "—")] + OrientationType.choices)
    structure = StructureChoiceField(label="Structure d'accompagnement", queryset=Structure.objects.none(),
                                     empty_label="— Choisir —")
    referent = ReferentChoiceField(
        label="Référent unique désigné", queryset=Membership.objects.none(), empty_label="— Choisir —",
        help_text="Un professionnel de la structure choisie : il devient référent unique de la personne.",
    )
    reason = forms.CharField(
        label="Motif de la décision", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=3000,
        help_text="Obligatoire si l'orientation décidée diffère de la proposition.",
    )

    def __init__(self, *args, territory=None, prefix="decide", **kwargs):
        super().__init__(*args, prefix=prefix, **kwargs)
        self.fields["structure"].queryset = active_structures(territory)
        self.fields["referent"].queryset = referent_memberships(territory)

    def clean(self):
        data = super().clean()
        structure, membership = data.get("structure"), data.get("referent")
        if structure and membership and membership.structure_id != structure.pk:
            self.add_error("referent", f"Ce référent n'appartient pas à la structure « {structure.name} ».")
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Motif", widget=forms.Textarea(attrs={"rows": 3}), max_length=3000)

    def __init__(self, *args, label="Motif", prefix=None, **kwargs):
        super().__init__(*args, prefix=prefix, **kwargs)
        self.fields["reason"].label = label


# --- Contract -------------------------------------------------------------------------------


def objective_choices():
    """Référentiel objectives grouped by theme, as select choices, plus a lookup by id (one query)."""
    groups, by_id = {}, {}
    for item in PathwayItem.objects.filter(kind=PathwayItem.Kind.OBJECTIVE).select_related("theme"):
        groups.setdefault(item.theme.label, []).append((str(item.pk), item.label))
        by_id[str(item.pk)] = item
    return [("", "— Objectif libre (à saisir) —")] + list(groups.items()), by_id


def theme_choices():
    return [("", "—")] + [(t.code, t.label) for t in PathwayTheme.objects.order_by("order")]


class ObjectiveRowForm(forms.Form):
    item = forms.ChoiceField(label="Objectif du référentiel", required=False)
    label = forms.CharField(label="ou objectif libre", required=False, max_length=300)
    theme = forms.ChoiceField(label="Thème (objectif libre)", required=False)

    def __init__(self, *args, item_choices=(), items_by_id=None, themes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = item_choices
        self.fields["theme"].choices = themes
        self.items_by_id = items_by_id or {}

    def clean(self):
        data = super().clean()
        if data.get("item") and (data.get("label") or "").strip():
            raise forms.ValidationError(
                "Choisissez un objectif du référentiel ou saisissez un objectif libre, pas les deux."
            )
        return data

    def value(self):
        data = self.cleaned_data
        if data.get("item"):
            item = self.items_by_id.get(data["item"])
            if item is None:
                return None
            return {"theme": item.theme_id, "label": item.label, "source": "referentiel"}
        label = (data.get("label") or "").strip()
        if not label:
            return None
        return {"theme": data.get("theme") or "", "label": label, "source": "free"}


class ActionRowForm(forms.Form):
    label = forms.CharField(label="Action prévue", required=False, max_length=300)
    theme = forms.ChoiceField(label="Thème", required=False)
    hours = forms.DecimalField(label="Heures par semaine", required=False, min_value=0, max_value=48,
                               max_digits=4, decimal_places=1)
    due = forms.DateField(label="Échéance", required=False, widget=forms.DateInput(attrs=DATE_WIDGET,
                                                                                    format="%Y-%m-%d"))

    def __init__(self, *args, themes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = themes

    def clean(self):
        data = super().clean()
        has_details = data.get("hours") is not None or data.get("due") or data.get("theme")
        if has_details and not (data.get("label") or "").strip():
            self.add_error("label", "Décrivez l'action.")
        return data

    def value(self):
        data = self.cleaned_data
        label = (data.get("label") or "").strip()
        if not label:
            return None
        hours = data.get("hours")
        return {
            "label": label, "theme": data.get("theme") or "",
            "hours": float(hours) if hours is not None else None,
            "due": data["due"].isoformat() if data.get("due") else "",
        }


ObjectiveFormSet = forms.formset_factory(ObjectiveRowForm, extra=2, max_num=30, validate_max=True)
ActionFormSet = forms.formset_factory(ActionRowForm, extra=2, max_num=30, validate_max=True)


class ContractForm(forms.Form):
    weekly_hours = forms.DecimalField(
        label="Heures d'activité par semaine", min_value=0, max_value=48, max_digits=4, decimal_places=1,
        help_text="15 h par défaut. Une durée réduite ou une dispense (0 h) demande un motif.",
    )
    hours_reason = forms.CharField(
        label="Motif d'une durée réduite ou d'une dispense", required=False,
        widget=forms.Textarea(attrs={"rows": 2}), max_length=1000,
        help_text="Sans détail de santé : « raison de santé attestée » suffit.",
    )
    review_date = forms.DateField(label="Date de révision", required=False,
                                  widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"))


def contract_forms(data=None, *, contract=None, default_hours=None):
    """The contract form and its two row formsets, built with two queries for the choices."""
    item_choices, items_by_id = objective_choices()
    themes = theme_choices()
    ids_by_label = {(item.theme_id, item.label): key for key, item in items_by_id.items()}
    initial_objectives, initial_actions, initial = [], [], {"weekly_hours": default_hours}
    if contract is not None:
        for objective in contract.objectives or []:
            key = ids_by_label.get((objective.get("theme"), objective.get("label")))
            if key and objective.get("source") == "referentiel":
                initial_objectives.append({"item": key})
            else:
                initial_objectives.append({"label": objective.get("label", ""), "theme": objective.get("theme", "")})
        for action in contract.actions or []:
            initial_actions.append({
                "label": action.get("label", ""), "theme": action.get("theme", ""),
                "hours": action.get("hours"), "due": action.get("due") or None,
            })
        initial = {"weekly_hours": contract.weekly_hours, "hours_reason": contract.hours_reason,
                   "review_date": contract.review_date}
    if data is not None:
        # Bound rows are read from the data only: an extra row equal to some initial value
        # must not be taken for an untouched, empty one.
        initial_objectives, initial_actions = [], []
    form = ContractForm(data, initial=initial)
    objectives = ObjectiveFormSet(
        data, prefix="objectifs", initial=initial_objectives,
        form_kwargs={"item_choices": item_choices, "items_by_id": items_by_id, "themes": themes},
    )
    actions = ActionFormSet(data, prefix="actions", initial=initial_actions, form_kwargs={"themes": themes})
    return form, objectives, actions


def contract_data(form, objectives, actions):
    """The service's ``data`` dict from valid forms (empty rows dropped)."""
    return {
        "objectives": [v for v in (f.value() for f in objectives.forms if f.cleaned_data) if v],
        "actions": [v for v in (f.value() for f in actions.forms if f.cleaned_data) if v],
        "weekly_hours": form.cleaned_data["weekly_hours"],
        "hours_reason": form.cleaned_data.get("hours_reason", ""),
        "review_date": form.cleaned_data.get("review_date"),
    }


class SignatureForm(forms.Form):
    person_signed_on = forms.DateField(label="Signé par la personne le",
                                       widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"))
    referent_signed_on = forms.DateField(label="Signé par le référent unique le",
                                         widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"))
    scan = forms.FileField(
        label="Contrat signé scanné (facultatif)", required=False,
        widget=forms.FileInput(attrs={"accept": scans.ACCEPT_ATTRIBUTE}),
        help_text="PDF, JPEG ou PNG, 5 Mo au maximum.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"person_signed_on": timezone.localdate(),
                                      "referent_signed_on": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def clean_scan(self):
        scan = self.cleaned_data.get("scan")
        if scan:
            scans.validate_scan(scan)
        return scan or None


class ScanForm(forms.Form):
    scan = forms.FileField(
        label="Contrat signé scanné",
        widget=forms.FileInput(attrs={"accept": scans.ACCEPT_ATTRIBUTE}),
        help_text="PDF, JPEG ou PNG, 5 Mo au maximum.",
    )

    def clean_scan(self):
        scan = self.cleaned_data["scan"]
        scans.validate_scan(scan)
        return scan
