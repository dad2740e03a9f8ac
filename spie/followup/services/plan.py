"""Writes on the person's plan: objectives (by theme of the pathway référentiel), their actions,
the copy of the signed engagement contract, and status changes along ``PLAN_TRANSITIONS``.

Every function checks the right itself (``followup.policies.can_edit``) so that pages, API and
commands share one rule, raises :class:`ValidationError` with French messages, logs each status
change in :class:`PlanTransition` and adds an event to the person's timeline (labels of the plan
only: the plan is read by the same professionals as the timeline).
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from spie.pathways.models import EngagementContract
from spie.people import policies as people_policies
from spie.people import services as people_services
from spie.people.models import FollowUpMembership, Person
from spie.referentials.models import PathwayItem, PathwayTheme

from .. import policies
from ..models import PLAN_TRANSITIONS, PlanAction, PlanObjective, PlanStatus, PlanTransition

EDIT_DENIED = "Vous ne pouvez pas modifier le plan d'action de cette personne."
REASON_REQUIRED_FOR = (PlanStatus.ABANDONED, PlanStatus.CANCELLED)
ENDED_STATUSES = (PlanStatus.DONE, PlanStatus.ABANDONED, PlanStatus.CANCELLED)
CONTRACT_ACTIONS_LABEL = "Actions prévues au contrat d'engagement"


def _access(person, membership):
    return people_policies.access_for(membership.user, membership, person)


def _require_edit(person, membership, access=None):
    access = access or _access(person, membership)
    if not policies.can_edit(access):
        raise PermissionDenied(EDIT_DENIED)
    return access


def _status_label(value):
    return PlanStatus(value).label if value in PlanStatus.values else value


def _same(label):
    return " ".join((label or "").split()).casefold()


def _next_position(person):
    return (PlanObjective.objects.filter(person=person).aggregate(m=Max("position"))["m"] or 0) + 1


def _log_creation(*, objective=None, action=None, by):
    PlanTransition.objects.create(objective=objective, action=action, from_status="", to_status=PlanStatus.PLANNED,
                                  by=by)


# --- Objectives -------------------------------------------------------------------------------


@transaction.atomic
def add_objective(person, membership, *, item=None, theme=None, label="", access=None):
    """Add an objective: a référentiel objective (``item``), or a free ``label`` under ``theme``."""
    _require_edit(person, membership, access)
    label = " ".join((label or "").split())
    if item is not None:
        if item.kind != PathwayItem.Kind.OBJECTIVE:
            raise ValidationError({"item": "Choisissez un objectif du référentiel (pas une situation ni une action)."})
        if theme is not None and theme.pk != item.theme_id:
            raise ValidationError({"theme": f"Cet objectif du référentiel relève du thème « {item.theme} »."})
        theme = item.theme
        label = label or item.label
        source = PlanObjective.Source.REFERENTIAL
    else:
        if not label:
            raise ValidationError({"label": "Choisissez un objectif du référentiel ou saisissez l'objectif."})
        source = PlanObjective.Source.FREE
    if len(label) > 300:
        raise ValidationError({"label": "L'objectif ne doit pas dépasser 300 caractères."})
    open_same = PlanObjective.objects.filter(person=person, theme=theme, status__in=(
        PlanStatus.PLANNED, PlanStatus.IN_PROGRESS, PlanStatus.ON_HOLD))
    if any(_same(o.label) == _same(label) for o in open_same.only("label")):
        raise ValidationError({"label": f"L'objectif « {label} » est déjà en cours dans le plan."})
    objective = PlanObjective.objects.create(
        person=person, theme=theme, item=item, label=label, source=source, position=_next_position(person),
        created_by=membership.user, structure=membership.structure,
    )
    _log_creation(objective=objective, by=membership.user)
    people_services.add_event(
        person, "plan_objective_added", f"Objectif ajouté au plan : {label}",
        actor=membership.user, structure=membership.structure,
    )
    return objective


def latest_signed_contract(person):
    return EngagementContract.objects.filter(
        person=person, status=EngagementContract.Status.SIGNED
    ).order_by("-version").first()


@transaction.atomic
def import_contract(person, membership, *, contract=None, access=None):
    """Copy the signed contract's objectives and actions into the plan; returns ``(objectives, actions)``.

    Idempotent: an objective already in the plan (same theme and wording, whatever the contract
    version it came from) is not added twice, nor an action already under the same theme. An
    action of the contract goes under the plan's objective of its theme (the first one of the
    contract, else any objective of the theme), else under an objective "Actions prévues au
    contrat d'engagement" of that theme.
    """
    _require_edit(person, membership, access)
    contract = contract or latest_signed_contract(person)
    if contract is None or contract.person_id != person.pk or contract.status != EngagementContract.Status.SIGNED:
        raise ValidationError("Aucun contrat d'engagement signé : rien à reprendre dans le plan.")
    Person.objects.select_for_update().filter(pk=person.pk).first()  # serialise concurrent imports
    themes = {t.code: t for t in PathwayTheme.objects.all()}
    existing = list(PlanObjective.objects.filter(person=person).order_by("position", "id"))
    existing_actions = {
        (theme_id, _same(label))
        for theme_id, label in PlanAction.objects.filter(person=person).values_list("objective__theme_id", "label")
    }
    position = max((o.position for o in existing), default=0)
    created_objectives, created_actions = [], []
    user, structure = membership.user, membership.structure

    def theme_of(code):
        return themes.get((code or "").strip()) if code else None

    for index, entry in enumerate(contract.objectives or []):
        if not isinstance(entry, dict) or not str(entry.get("label") or "").strip():
            continue
        theme = theme_of(entry.get("theme"))
        label = " ".join(str(entry["label"]).split())[:300]
        key = (theme.pk if theme else None, _same(label))
        if any((o.theme_id, _same(o.label)) == key for o in existing):
            continue
        position += 1
        objective = PlanObjective.objects.create(
            person=person, theme=theme, label=label, source=PlanObjective.Source.CONTRACT, contract=contract,
            contract_position=index, position=position, created_by=user, structure=structure,
        )
        _log_creation(objective=objective, by=user)
        existing.append(objective)
        created_objectives.append(objective)

    for entry in contract.actions or []:
        if not isinstance(entry, dict) or not str(entry.get("label") or "").strip():
            continue
        theme = theme_of(entry.get("theme"))
        label = " ".join(str(entry["label"]).split())[:300]
        key = (theme.pk if theme else None, _same(label))
        if key in existing_actions:
            continue
        candidates = [o for o in existing if o.theme_id == key[0]]
        objective = next((o for o in candidates if o.contract_id == contract.pk and o.contract_position is not None),
                         None) or (candidates[0] if candidates else None)
        if objective is None:
            position += 1
            objective = PlanObjective.objects.create(
                person=person, theme=theme, label=CONTRACT_ACTIONS_LABEL, source=PlanObjective.Source.CONTRACT,
                contract=contract, position=position, created_by=user, structure=structure,
            )
            _log_creation(objective=objective, by=user)
            existing.append(objective)
            created_objectives.append(objective)
        due_on = None
        if entry.get("due"):
            try:
                due_on = datetime.date.fromisoformat(str(entry["due"]))
            except ValueError:
                due_on = None
        action = PlanAction.objects.create(
            objective=objective, person=person, label=label, due_on=due_on, created_by=user,
            responsible_user=contract.referent if contract.referent_id else None,
            responsible_structure=contract.structure,
        )
        _log_creation(action=action, by=user)
        existing_actions.add(key)
        created_actions.append(action)

    if created_objectives or created_actions:
        people_services.add_event(
            person, "plan_contract_imported",
            f"Plan : objectifs du contrat d'engagement (version {contract.version}) repris "
            f"({len(created_objectives)} objectif{'s' if len(created_objectives) > 1 else ''}, "
            f"{len(created_actions)} action{'s' if len(created_actions) > 1 else ''})",
            actor=user, structure=structure,
        )
    return created_objectives, created_actions


# --- Actions ----------------------------------------------------------------------------------


def group_professionals(person):
    """Users of the active follow-up group (référent first), for "who carries the action"."""
    rows = FollowUpMembership.objects.filter(person=person, end_date__isnull=True).select_related("user")
    users = {}
    for f in sorted(rows, key=lambda f: (f.kind != FollowUpMembership.Kind.REFERENT, f.user.last_name)):
        users.setdefault(f.user_id, f.user)
    return list(users.values())


@transaction.atomic
def add_action(objective, membership, *, item=None, label="", planned_on=None, due_on=None,
               responsible_user=None, responsible_structure=None, provider="", access=None):
    """Add an action to ``objective``: a référentiel action of its theme, or a free ``label``."""
    person = objective.person
    _require_edit(person, membership, access)
    errors = {}
    label = " ".join((label or "").split())
    if item is not None:
        if item.kind != PathwayItem.Kind.ACTION:
            errors["item"] = ["Choisissez une action du référentiel."]
        elif objective.theme_id and item.theme_id != objective.theme_id:
            errors["item"] = [f"Cette action relève d'un autre thème que l'objectif ({objective.theme})."]
        label = label or item.label
    if not label and "item" not in errors:
        errors["label"] = ["Choisissez une action du référentiel ou saisissez l'action."]
    if len(label) > 300:
        errors["label"] = ["L'action ne doit pas dépasser 300 caractères."]
    if planned_on and due_on and due_on < planned_on:
        errors["due_on"] = ["L'échéance ne peut pas précéder le début prévu."]
    if responsible_user is not None and responsible_user.pk not in {u.pk for u in group_professionals(person)}:
        errors["responsible_user"] = ["Ce professionnel ne fait pas partie du groupe de suivi de la personne."]
    if responsible_structure is not None and (
        responsible_structure.territory_id != person.territory_id or not responsible_structure.is_active
    ):
        errors["responsible_structure"] = ["Cette structure n'est pas une structure active du territoire."]
    if objective.status not in (PlanStatus.PLANNED, PlanStatus.IN_PROGRESS, PlanStatus.ON_HOLD):
        errors["__all__"] = [
            f"L'objectif « {objective.label} » est {_status_label(objective.status).lower()} : "
            "rouvrez-le avant d'y ajouter une action."
        ]
    if errors:
        raise ValidationError(errors)
    action = PlanAction.objects.create(
        objective=objective, person=person, item=item, label=label, planned_on=planned_on, due_on=due_on,
        responsible_user=responsible_user, responsible_structure=responsible_structure,
        provider=(provider or "").strip()[:200], created_by=membership.user,
    )
    _log_creation(action=action, by=membership.user)
    people_services.add_event(
        person, "plan_action_added", f"Action ajoutée au plan : {label}",
        actor=membership.user, structure=membership.structure,
    )
    return action


# --- Status changes ---------------------------------------------------------------------------


def allowed_targets(status):
    return sorted(PLAN_TRANSITIONS.get(PlanStatus(status), ()), key=lambda s: PlanStatus.values.index(s))


@transaction.atomic
def change_status(target, membership, to_status, *, reason="", on=None, access=None):
    """Move an objective or an action along ``PLAN_TRANSITIONS``.

    ``started_on`` is set the first time it goes in progress; ``ended_on`` when it is done,
    abandoned or cancelled (cleared when it is reopened). Abandoning or cancelling needs a reason.
    """
    is_action = isinstance(target, PlanAction)
    model = PlanAction if is_action else PlanObjective
    person = target.person
    _require_edit(person, membership, access)
    target = model.objects.select_for_update().get(pk=target.pk)
    reason = " ".join((reason or "").split())
    what = "l'action" if is_action else "l'objectif"
    if to_status not in PlanStatus.values:
        raise ValidationError({"status": "Statut inconnu."})
    current = PlanStatus(target.status)
    if to_status == current:
        raise ValidationError({"status": f"Le statut de {what} est déjà « {current.label} »."})
    if to_status not in PLAN_TRANSITIONS[current]:
        possible = ", ".join(f"« {s.label} »" for s in allowed_targets(current))
        raise ValidationError({"status": (
            f"Impossible de passer {what} de « {current.label} » à « {_status_label(to_status)} ». "
            f"Statuts possibles : {possible}."
        )})
    if to_status in REASON_REQUIRED_FOR and not reason:
        raise ValidationError({"reason": f"Indiquez le motif : {what} sera « {_status_label(to_status).lower()} »."})
    if len(reason) > 300:
        raise ValidationError({"reason": "Le motif ne doit pas dépasser 300 caractères."})
    on = on or timezone.localdate()
    fields = ["status", "updated_at"]
    target.status = to_status
    if to_status == PlanStatus.IN_PROGRESS and target.started_on is None:
        target.started_on = on
        fields.append("started_on")
    if to_status in ENDED_STATUSES:
        target.ended_on = on
        fields.append("ended_on")
    elif target.ended_on is not None:
        target.ended_on = None
        fields.append("ended_on")
    target.save(update_fields=fields)
    PlanTransition.objects.create(
        objective=None if is_action else target, action=target if is_action else None,
        from_status=current, to_status=to_status, by=membership.user, reason=reason,
    )
    noun = "Action" if is_action else "Objectif"
    people_services.add_event(
        person, "plan_action_status" if is_action else "plan_objective_status",
        f"{noun} « {target.label} » : {current.label.lower()} → {_status_label(to_status).lower()}",
        actor=membership.user, structure=membership.structure, detail=reason,
    )
    return target


# --- Reads shared by the page, the API and the record's summary ----------------------------------


def objectives_queryset(person, *, with_log=False):
    """The plan's objectives with their actions (and, if asked, the transition logs): constant queries."""
    from django.db.models import F, Prefetch

    actions = PlanAction.objects.select_related("item", "responsible_user", "responsible_structure", "created_by")
    if with_log:
        actions = actions.prefetch_related(
            Prefetch("transitions", queryset=PlanTransition.objects.select_related("by"), to_attr="log")
        )
    prefetches = [Prefetch("actions", queryset=actions, to_attr="action_list")]
    if with_log:
        prefetches.append(
            Prefetch("transitions", queryset=PlanTransition.objects.select_related("by"), to_attr="log")
        )
    return (
        PlanObjective.objects.filter(person=person)
        .select_related("theme", "item", "created_by", "structure", "contract")
        .prefetch_related(*prefetches)
        .order_by(F("theme__order").asc(nulls_last=True), "position", "id")
    )
