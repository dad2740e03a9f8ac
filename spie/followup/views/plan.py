"""Pages of the person's plan: ``/personnes/<pk>/plan/`` and its forms.

Objectives grouped by theme of the pathway référentiel, with their actions, statuses, dates and
who carries them; forms to add an objective, take over the signed contract's objectives, add an
action, and change a status along ``PLAN_TRANSITIONS``. Read = ``followup.policies.can_read``,
write = ``can_edit``; every read writes the access log (section PLAN); the export (CSV, XLSX)
writes the person's access log as an export.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from spie.core.audit import log_access, log_export
from spie.core.exports import export_format, export_response
from spie.core.models import AccessLog
from spie.core.policies import view_policy
from spie.people import policies as people_policies
from spie.people import selectors as people_selectors

from .. import policies
from ..forms_plan import ActionForm, ObjectiveForm, PlanChoices, TransitionForm
from ..models import OPEN_PLAN_STATUSES, PlanAction, PlanObjective, PlanStatus
from ..services import plan as plan_services

READ_DENIED = "Vous n'avez pas accès au plan d'action de cette personne."


def load(request, pk):
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


def _require_edit(access):
    if not policies.can_edit(access):
        raise PermissionDenied(plan_services.EDIT_DENIED)


def group_by_theme(objectives):
    """``[(theme or None, [objectives])]`` in the référentiel's order, objectives without theme last."""
    groups = {}
    for objective in objectives:
        groups.setdefault(objective.theme_id, (objective.theme, []))[1].append(objective)
    return sorted(groups.values(), key=lambda g: (g[0] is None, g[0].order if g[0] else 0, g[0].label if g[0] else ""))


def _render(request, person, access, *, bound=None, status=200):
    bound = bound or {}
    can_edit = policies.can_edit(access)
    objectives = list(plan_services.objectives_queryset(person, with_log=True))
    choices = PlanChoices.load(person) if can_edit else None
    counts = {s: 0 for s in PlanStatus.values}
    for objective in objectives:
        objective.status_open = ("objective", objective.pk) in bound
        objective.action_open = ("action", objective.pk) in bound
        if can_edit:
            objective.status_form = bound.get(("objective", objective.pk)) or TransitionForm(
                current=objective.status, prefix=f"objective-status-{objective.pk}"
            )
            if objective.status in OPEN_PLAN_STATUSES:
                objective.action_form = bound.get(("action", objective.pk)) or ActionForm(
                    objective=objective, choices=choices
                )
        for action in objective.action_list:
            counts[action.status] += 1
            action.status_open = ("action_status", action.pk) in bound
            if can_edit:
                action.status_form = bound.get(("action_status", action.pk)) or TransitionForm(
                    current=action.status, prefix=f"action-status-{action.pk}"
                )
    signed = plan_services.latest_signed_contract(person) if can_edit else None
    log_access(request, person, AccessLog.Section.PLAN)
    return render(request, "followup/plan/plan.html", {
        "person": person,
        "access": access,
        "can_edit": can_edit,
        "groups": group_by_theme(objectives),
        "objective_count": len(objectives),
        "action_counts": [(PlanStatus(s).label, s, n) for s, n in counts.items() if n],
        "objective_form": (bound.get("objective") or ObjectiveForm(choices=choices)) if can_edit else None,
        "signed_contract": signed,
        "objective_open": "objective" in bound,
    }, status=status)


@view_policy("followup.plan")
def plan(request, pk):
    person, access = load(request, pk)
    fmt = export_format(request)
    if fmt:
        return _export(request, person, fmt)
    return _render(request, person, access)


def _responsible(action):
    return " / ".join(str(x) for x in (action.responsible_user, action.responsible_structure, action.provider) if x)


def _export(request, person, fmt):
    log_export(request, [person.pk], reason="export du plan d'action")
    header = ["Thème", "Objectif", "Origine", "Statut de l'objectif", "Objectif commencé le", "Objectif terminé le",
              "Action", "Statut de l'action", "Début prévu", "Échéance", "Action commencée le", "Action terminée le",
              "En charge"]

    def rows():
        for objective in plan_services.objectives_queryset(person).iterator(chunk_size=200):
            head = [objective.theme.label if objective.theme else "", objective.label,
                    objective.get_source_display(), objective.get_status_display(), objective.started_on,
                    objective.ended_on]
            if not objective.action_list:
                yield [*head, "", "", None, None, None, None, ""]
            for action in objective.action_list:
                yield [*head, action.label, action.get_status_display(), action.planned_on, action.due_on,
                       action.started_on, action.ended_on, _responsible(action)]

    return export_response(fmt, f"plan-{person.pk}", header, rows(), sheet_title="Plan d'action")


@require_POST
@view_policy("followup.plan_edit")
def objective_add(request, pk):
    person, access = load(request, pk)
    _require_edit(access)
    form = ObjectiveForm(request.POST, choices=PlanChoices.load(person))
    if form.is_valid():
        data = form.cleaned_data
        try:
            objective = plan_services.add_objective(
                person, request.membership, item=data["item"], theme=data["theme"], label=data["label"],
                access=access,
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, f"Objectif « {objective.label} » ajouté au plan.")
            return redirect("followup:plan", pk=person.pk)
    return _render(request, person, access, bound={"objective": form})


@require_POST
@view_policy("followup.plan_edit")
def import_contract(request, pk):
    person, access = load(request, pk)
    _require_edit(access)
    try:
        objectives, actions = plan_services.import_contract(person, request.membership, access=access)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if objectives or actions:
            parts = [f"{n} {word}{'s' if n > 1 else ''}" for n, word in
                     ((len(objectives), "objectif"), (len(actions), "action")) if n]
            messages.success(request, "Repris du contrat signé : " + " et ".join(parts) + ".")
        else:
            messages.info(request, "Les objectifs et actions du contrat signé sont déjà tous dans le plan.")
    return redirect("followup:plan", pk=person.pk)


@require_POST
@view_policy("followup.plan_edit")
def action_add(request, pk, objective_id):
    person, access = load(request, pk)
    _require_edit(access)
    objective = get_object_or_404(PlanObjective.objects.select_related("theme"), pk=objective_id, person=person)
    objective.person = person
    form = ActionForm(request.POST, objective=objective, choices=PlanChoices.load(person))
    if form.is_valid():
        data = form.cleaned_data
        try:
            action = plan_services.add_action(
                objective, request.membership, item=data["item"], label=data["label"], planned_on=data["planned_on"],
                due_on=data["due_on"], responsible_user=data["responsible_user"],
                responsible_structure=data["responsible_structure"], provider=data["provider"], access=access,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Action « {action.label} » ajoutée.")
            return redirect("followup:plan", pk=person.pk)
    return _render(request, person, access, bound={("action", objective.pk): form})


def _add_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _transition(request, pk, model, target_id, key):
    person, access = load(request, pk)
    _require_edit(access)
    target = get_object_or_404(model, pk=target_id, person=person)
    target.person = person
    prefix = f"objective-status-{target.pk}" if model is PlanObjective else f"action-status-{target.pk}"
    form = TransitionForm(request.POST, current=target.status, prefix=prefix)
    if form.is_valid():
        try:
            plan_services.change_status(
                target, request.membership, form.cleaned_data["status"], reason=form.cleaned_data["reason"],
                access=access,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            label = PlanStatus(form.cleaned_data["status"]).label
            messages.success(request, f"« {target.label} » : statut « {label} ».")
            return redirect("followup:plan", pk=person.pk)
    return _render(request, person, access, bound={(key, target.pk): form})


@require_POST
@view_policy("followup.plan_edit")
def objective_status(request, pk, objective_id):
    return _transition(request, pk, PlanObjective, objective_id, "objective")


@require_POST
@view_policy("followup.plan_edit")
def action_status(request, pk, action_id):
    return _transition(request, pk, PlanAction, action_id, "action_status")


urlpatterns = [
    path("personnes/<int:pk>/plan/", plan, name="plan"),
    path("personnes/<int:pk>/plan/objectifs/ajouter/", objective_add, name="plan_objective_add"),
    path("personnes/<int:pk>/plan/reprendre-contrat/", import_contract, name="plan_import_contract"),
    path("personnes/<int:pk>/plan/objectifs/<int:objective_id>/actions/ajouter/", action_add, name="plan_action_add"),
    path("personnes/<int:pk>/plan/objectifs/<int:objective_id>/statut/", objective_status,
         name="plan_objective_status"),
    path("personnes/<int:pk>/plan/actions/<int:action_id>/statut/", action_status, name="plan_action_status"),
]
