"""Every write on orientations and engagement contracts. Views, API, commands and tasks call these.

Each step checks its policy (``spie.pathways.policies``), goes through the workflow table
(``spie.pathways.workflows``) for orientations, adds an event to the person's timeline, and
sends its e-mails after commit (``spie.pathways.notifications``). Errors are French
:class:`ValidationError` / :class:`PermissionDenied` messages.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from spie.diagnostics.models import Diagnostic, OrientationType
from spie.followup.services.contacts import record_contact
from spie.followup.services.status import refresh_status
from spie.network.models import Membership
from spie.people import policies as people_policies
from spie.people import services as people_services
from spie.people.models import FollowUpMembership

from . import notifications, policies, scans, workflows
from .models import EngagementContract, Orientation

DEFAULT_WEEKLY_HOURS = Decimal("15")
MAX_WEEKLY_HOURS = Decimal("48")


def _access(person, by_membership):
    return people_policies.access_for(by_membership.user, by_membership, person)


def _type_label(value):
    return dict(OrientationType.choices).get(value, value)


def _check_type(value):
    if value not in OrientationType.values:
        raise ValidationError("Choisissez le type d'orientation (professionnelle, socio-professionnelle ou sociale).")
    return value


def _check_structure(structure, person, *, required=False):
    if structure is None:
        if required:
            raise ValidationError("Choisissez la structure d'accompagnement.")
        return None
    if structure.territory_id != person.territory_id or not structure.is_active:
        raise ValidationError("Cette structure n'est pas une structure active du territoire.")
    return structure


def _pending_exists(person):
    return Orientation.objects.filter(person=person, status=Orientation.Status.PROPOSED).exists()


def _pending_count(territory):
    return Orientation.objects.filter(person__territory=territory, status=Orientation.Status.PROPOSED).count()


def _active_referent(person):
    return (
        FollowUpMembership.objects.filter(
            person=person, kind=FollowUpMembership.Kind.REFERENT, end_date__isnull=True
        )
        .select_related("user", "structure")
        .first()
    )


def _create_orientation(person, by_membership, *, kind, type, structure, reason, diagnostic, base_url):
    if _pending_exists(person):
        raise ValidationError(
            "Une demande d'orientation est déjà en attente de décision pour cette personne : "
            "attendez la décision ou annulez la demande en cours."
        )
    orientation = Orientation(
        person=person, kind=kind, status=Orientation.Status.PROPOSED, diagnostic=diagnostic,
        proposed_type=type, proposed_structure=structure, proposal_reason=reason,
        proposed_by=by_membership.user, proposed_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            orientation.save()
    except IntegrityError:  # a concurrent proposal won the race (one pending per person)
        raise ValidationError(
            "Une demande d'orientation est déjà en attente de décision pour cette personne."
        ) from None
    workflows.record_creation(orientation, by_membership.user, reason)
    notifications.proposal_received(orientation, pending_count=_pending_count(person.territory), base_url=base_url)
    return orientation


@transaction.atomic
def propose_orientation(person, by_membership, *, type, structure=None, reason="", diagnostic=None, base_url=""):
    """A référent, a group member or a chargé d'orientation proposes an orientation.

    One pending request per person (also a database constraint). Once an orientation has
    been decided, a change goes through a réorientation request by the référent unique.
    """
    access = _access(person, by_membership)
    if not policies.can_propose(access, by_membership, person):
        raise PermissionDenied("Vous ne pouvez pas proposer d'orientation pour cette personne.")
    _check_type(type)
    _check_structure(structure, person)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif de la proposition.")
    if diagnostic is not None and (
        diagnostic.person_id != person.pk or diagnostic.status != Diagnostic.Status.COMPLETED
    ):
        raise ValidationError("Ce diagnostic n'est pas un diagnostic terminé de cette personne.")
    if Orientation.objects.filter(person=person, status=Orientation.Status.DECIDED).exists():
        raise ValidationError(
            "Une orientation a déjà été décidée pour cette personne : "
            "le référent unique peut demander une réorientation."
        )
    orientation = _create_orientation(
        person, by_membership, kind=Orientation.Kind.ORIENTATION, type=type, structure=structure,
        reason=reason, diagnostic=diagnostic, base_url=base_url,
    )
    where = f" — {structure}" if structure else ""
    people_services.add_event(
        person, "orientation_proposed", f"Orientation proposée : {_type_label(type)}{where}",
        actor=by_membership.user, structure=by_membership.structure, detail=reason,
    )
    return orientation


@transaction.atomic
def request_reorientation(person, by_membership, *, type, structure=None, reason="", base_url=""):
    """The référent unique asks for another orientation (type and structure), with a reason."""
    access = _access(person, by_membership)
    if not policies.can_request_reorientation(access, by_membership, person):
        raise PermissionDenied("Seul le référent unique peut demander une réorientation.")
    _check_type(type)
    _check_structure(structure, person)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif de la demande de réorientation.")
    if not Orientation.objects.filter(person=person, status=Orientation.Status.DECIDED).exists():
        raise ValidationError(
            "Aucune orientation n'a encore été décidée pour cette personne : proposez une orientation."
        )
    orientation = _create_orientation(
        person, by_membership, kind=Orientation.Kind.REORIENTATION, type=type, structure=structure,
        reason=reason, diagnostic=None, base_url=base_url,
    )
    where = f" — {structure}" if structure else ""
    people_services.add_event(
        person, "reorientation_requested", f"Réorientation demandée : {_type_label(type)}{where}",
        actor=by_membership.user, structure=by_membership.structure, detail=reason,
    )
    return orientation


def referent_membership(user, structure):
    """The current membership making ``user`` eligible as référent unique in ``structure``, or None."""
    today = timezone.localdate()
    return (
        Membership.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today),
            user=user, structure=structure, is_active=True, start_date__lte=today,
            role__in=policies.REFERENT_ROLES, user__is_active=True,
        )
        .select_related("user", "structure")
        .first()
    )


def _take_over_group(person, *, user, structure, by, reason):
    """Make ``user`` (for ``structure``) référent unique; the previous one stays a member.

    Goes through ``spie.people.services`` so that the group history is kept and the
    timeline says who joined and who became référent.
    """
    existing = FollowUpMembership.objects.filter(person=person, user=user, end_date__isnull=True).first()
    if existing is not None and existing.kind == FollowUpMembership.Kind.REFERENT:
        return existing
    if existing is not None and existing.structure_id != structure.pk:
        # Followed until now on behalf of another structure: the new role is for the chosen one.
        people_services.end_membership(
            followup=existing, by=by, reason="Désigné référent unique pour une autre structure"
        )
        existing = None
    if existing is None:
        existing = people_services.add_member(person=person, user=user, structure=structure, by=by, reason=reason)
    return people_services.change_referent(person=person, new_followup=existing, by=by, reason=reason)


@transaction.atomic
def decide_orientation(orientation, by_membership, *, type, structure, referent_user, reason="", base_url=""):
    """A chargé d'orientation decides: type, structure and référent unique, who takes over the group."""
    person = orientation.person
    if not policies.can_decide(by_membership, person):
        raise PermissionDenied("Seul un chargé d'orientation du territoire décide d'une orientation.")
    _check_type(type)
    _check_structure(structure, person, required=True)
    if referent_user is None:
        raise ValidationError("Choisissez le référent unique.")
    if referent_membership(referent_user, structure) is None:
        raise ValidationError(
            f"{referent_user} n'est pas un professionnel actif de la structure « {structure} » : "
            "choisissez un référent de cette structure."
        )
    reason = (reason or "").strip()
    if type != orientation.proposed_type and not reason:
        raise ValidationError("Indiquez le motif : l'orientation décidée diffère de la proposition.")
    workflows.transition(orientation, Orientation.Status.DECIDED, by_membership.user, reason)
    now = timezone.now()
    orientation.decided_type = type
    orientation.decided_structure = structure
    orientation.decided_referent = referent_user
    orientation.decision_reason = reason
    orientation.decided_by = by_membership.user
    orientation.decided_at = now
    orientation.save(update_fields=[
        "decided_type", "decided_structure", "decided_referent", "decision_reason", "decided_by", "decided_at",
    ])
    what = "Réorientation" if orientation.kind == Orientation.Kind.REORIENTATION else "Orientation"
    people_services.add_event(
        person, "orientation_decided", f"{what} décidée : {_type_label(type)} — {structure}",
        actor=by_membership.user, structure=by_membership.structure, detail=reason, at=now,
    )
    _take_over_group(
        person, user=referent_user, structure=structure, by=by_membership.user,
        reason=f"Décision d'orientation ({_type_label(type)})",
    )
    refresh_status(person)
    notifications.orientation_decided(orientation, base_url=base_url)
    return orientation


@transaction.atomic
def refuse(orientation, by_membership, reason, *, base_url=""):
    """A chargé d'orientation refuses a réorientation request, with a reason."""
    person = orientation.person
    if not policies.can_decide(by_membership, person):
        raise PermissionDenied("Seul un chargé d'orientation du territoire répond à une demande de réorientation.")
    reason = (reason or "").strip()
    workflows.transition(orientation, Orientation.Status.REFUSED, by_membership.user, reason)
    orientation.decided_by = by_membership.user
    orientation.decided_at = timezone.now()
    orientation.decision_reason = reason
    orientation.save(update_fields=["decided_by", "decided_at", "decision_reason"])
    people_services.add_event(
        person, "reorientation_refused", "Demande de réorientation refusée",
        actor=by_membership.user, structure=by_membership.structure, detail=reason,
    )
    current = _active_referent(person)
    notifications.reorientation_refused(
        orientation, current_referent=current.user if current else None, base_url=base_url
    )
    return orientation


@transaction.atomic
def cancel(orientation, by_membership, reason):
    """Its author, the référent unique or a chargé d'orientation withdraws a pending request."""
    person = orientation.person
    access = _access(person, by_membership)
    if not policies.can_cancel(orientation, access, by_membership, person):
        raise PermissionDenied("Vous ne pouvez pas annuler cette demande.")
    workflows.transition(orientation, Orientation.Status.CANCELLED, by_membership.user, reason)
    what = "Réorientation" if orientation.kind == Orientation.Kind.REORIENTATION else "Demande d'orientation"
    people_services.add_event(
        person, "orientation_cancelled", f"{what} annulée",
        actor=by_membership.user, structure=by_membership.structure, detail=(reason or "").strip(),
    )
    return orientation


# --- Engagement contract -------------------------------------------------------------------


def default_weekly_hours(territory):
    """15 h a week by default; a territory may set ``contract_weekly_hours`` in its settings."""
    value = territory.setting("contract_weekly_hours")
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return DEFAULT_WEEKLY_HOURS


def latest_completed_diagnostic(person):
    return (
        person.diagnostics.filter(status=Diagnostic.Status.COMPLETED, completed_at__isnull=False)
        .order_by("-completed_at", "-id")
        .first()
    )


def suggestions_from_diagnostic(diagnostic):
    """Objectives and actions suggested by a completed diagnostic, read defensively.

    ``result["suggestions"]`` is ``[{"theme", "objectives": [...], "actions": [...]}]``; anything
    else (missing keys, other types) is skipped rather than trusted.
    """
    from spie.diagnostics.selectors import full_result

    result = full_result(diagnostic) if getattr(diagnostic, "result", None) else None
    suggestions = result.get("suggestions") if isinstance(result, dict) else None
    objectives, actions, seen = [], [], set()
    if not isinstance(suggestions, list):
        return objectives, actions
    for suggestion in suggestions:
        if not isinstance(suggestion, dict):
            continue
        theme = suggestion.get("theme")
        theme = theme if isinstance(theme, str) else ""
        for key, target in (("objectives", objectives), ("actions", actions)):
            labels = suggestion.get(key)
            if not isinstance(labels, list):
                continue
            for label in labels:
                if not isinstance(label, str) or not label.strip() or (key, theme, label.strip()) in seen:
                    continue
                seen.add((key, theme, label.strip()))
                if key == "objectives":
                    target.append({"theme": theme, "label": label.strip(), "source": "referentiel"})
                else:
                    target.append({"label": label.strip(), "theme": theme, "hours": None, "due": ""})
    return objectives, actions


def clean_objectives(objectives):
    cleaned = []
    for item in objectives or []:
        label = str((item or {}).get("label") or "").strip()
        if not label:
            continue
        source = item.get("source") if item.get("source") in ("referentiel", "free") else "free"
        cleaned.append({"theme": str(item.get("theme") or ""), "label": label[:300], "source": source})
    return cleaned


def clean_actions(actions):
    cleaned = []
    for item in actions or []:
        label = str((item or {}).get("label") or "").strip()
        if not label:
            continue
        hours = item.get("hours")
        if hours in ("", None):
            hours = None
        else:
            try:
                hours = float(Decimal(str(hours)))
            except (InvalidOperation, ValueError):
                raise ValidationError(f"Action « {label} » : le nombre d'heures n'est pas valide.") from None
            if hours < 0 or hours > float(MAX_WEEKLY_HOURS):
                raise ValidationError(f"Action « {label} » : le nombre d'heures doit être compris entre 0 et 48.")
        due = item.get("due") or ""
        if isinstance(due, datetime.date):
            due = due.isoformat()
        cleaned.append({"label": label[:300], "theme": str(item.get("theme") or ""), "hours": hours, "due": str(due)})
    return cleaned


def hours_label(value):
    """15 → "15", 7.5 → "7,5" (French decimal comma)."""
    text = f"{Decimal(str(value)).normalize():f}"
    return text.replace(".", ",")


def check_hours(weekly_hours, hours_reason, territory):
    """15 h a week by default; fewer hours (or 0, a dispense) require a reason."""
    try:
        hours = Decimal(str(weekly_hours))
    except (InvalidOperation, ValueError):
        raise ValidationError({"weekly_hours": "Indiquez un nombre d'heures par semaine."}) from None
    if hours < 0 or hours > MAX_WEEKLY_HOURS:
        raise ValidationError({"weekly_hours": "Le nombre d'heures par semaine doit être compris entre 0 et 48."})
    default = default_weekly_hours(territory)
    if hours < default and not (hours_reason or "").strip():
        if hours == 0:
            message = "Indiquez le motif de la dispense (0 h par semaine)."
        else:
            message = f"Indiquez le motif de la durée réduite (moins de {hours_label(default)} h par semaine)."
        raise ValidationError({"hours_reason": message})
    return hours


CONTRACT_FIELDS = ("objectives", "actions", "weekly_hours", "hours_reason", "review_date")


def _apply(contract, data, territory):
    if "objectives" in data:
        contract.objectives = clean_objectives(data["objectives"])
    if "actions" in data:
        contract.actions = clean_actions(data["actions"])
    if "weekly_hours" in data:
        contract.weekly_hours = data["weekly_hours"]
    if "hours_reason" in data:
        contract.hours_reason = (data["hours_reason"] or "").strip()
    if "review_date" in data:
        contract.review_date = data["review_date"]
    contract.weekly_hours = check_hours(contract.weekly_hours, contract.hours_reason, territory)
    if contract.weekly_hours >= default_weekly_hours(territory):
        contract.hours_reason = ""  # the reason only explains fewer hours than the default


def _latest_decided(person):
    return (
        Orientation.objects.filter(person=person, status=Orientation.Status.DECIDED)
        .order_by("-decided_at", "-id")
        .first()
    )


@transaction.atomic
def create_contract(person, by_membership, *, orientation=None, data=None):
    """A new draft version (last + 1), pre-filled from the previous version, or else from the
    suggestions of the latest completed diagnostic. ``data`` (optional) is applied on top."""
    access = _access(person, by_membership)
    if not policies.can_edit_contract(access, by_membership, person):
        raise PermissionDenied("Seul le référent unique établit le contrat d'engagement.")
    draft = EngagementContract.objects.filter(person=person, status=EngagementContract.Status.DRAFT).first()
    if draft is not None:
        raise ValidationError(f"Un brouillon (version {draft.version}) est déjà en cours : modifiez-le.")
    if orientation is not None and orientation.person_id != person.pk:
        raise ValidationError("Cette orientation ne concerne pas cette personne.")
    orientation = orientation or _latest_decided(person)
    previous = EngagementContract.objects.filter(person=person).order_by("-version").first()
    referent = _active_referent(person)
    contract = EngagementContract(
        person=person,
        version=(previous.version + 1) if previous else 1,
        status=EngagementContract.Status.DRAFT,
        orientation=orientation,
        referent=by_membership.user,
        structure=referent.structure if referent else by_membership.structure,
        created_by=by_membership.user,
        weekly_hours=default_weekly_hours(person.territory),
    )
    if previous is not None:
        contract.objectives = list(previous.objectives or [])
        contract.actions = list(previous.actions or [])
        contract.weekly_hours = previous.weekly_hours
        contract.hours_reason = previous.hours_reason
        if previous.review_date and previous.review_date >= timezone.localdate():
            contract.review_date = previous.review_date
    else:
        contract.objectives, contract.actions = suggestions_from_diagnostic(latest_completed_diagnostic(person))
    _apply(contract, data or {}, person.territory)
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError:
        raise ValidationError("Une autre version du contrat vient d'être créée : rechargez la page.") from None
    people_services.add_event(
        person, "contract_created", f"Contrat d'engagement : version {contract.version} en préparation",
        actor=by_membership.user, structure=by_membership.structure,
    )
    return contract


@transaction.atomic
def update_contract(contract, by_membership, data):
    """Edit a draft. A signed version is immutable: editing it creates the next draft version."""
    person = contract.person
    access = _access(person, by_membership)
    if not policies.can_edit_contract(access, by_membership, person):
        raise PermissionDenied("Seul le référent unique modifie le contrat d'engagement.")
    if contract.status == EngagementContract.Status.SUPERSEDED:
        raise ValidationError("Cette version a été remplacée par une version plus récente : elle ne change plus.")
    if contract.status == EngagementContract.Status.SIGNED:
        return create_contract(person, by_membership, orientation=contract.orientation, data=data)
    contract = EngagementContract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != EngagementContract.Status.DRAFT:
        raise ValidationError("Cette version vient d'être signée : elle ne peut plus être modifiée.")
    _apply(contract, data, person.territory)
    contract.save(update_fields=list(CONTRACT_FIELDS))
    people_services.add_event(
        person, "contract_updated", f"Contrat d'engagement : brouillon de la version {contract.version} modifié",
        actor=by_membership.user, structure=by_membership.structure,
    )
    return contract


def _check_signature_date(value, label):
    if value is None:
        raise ValidationError({label: "Indiquez la date de signature."})
    if value > timezone.localdate():
        raise ValidationError({label: "La date de signature ne peut pas être dans le futur."})
    return value


def _store_scan(contract, scan):
    scan_format = scans.validate_scan(scan)
    contract.signed_scan.save(scans.storage_name(contract, scan_format), scan, save=False)


@transaction.atomic
def sign_contract(contract, by_membership, *, person_signed_on, referent_signed_on, scan=None):
    """Sign a draft (dates of both signatures, optional scan); the previous signed version is superseded."""
    person = contract.person
    access = _access(person, by_membership)
    if not policies.can_sign_contract(access, by_membership, person):
        raise PermissionDenied("Seul le référent unique signe le contrat d'engagement avec la personne.")
    contract = EngagementContract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != EngagementContract.Status.DRAFT:
        raise ValidationError("Seul un brouillon peut être signé : cette version l'est déjà ou a été remplacée.")
    errors = {}
    for label, value in (("person_signed_on", person_signed_on), ("referent_signed_on", referent_signed_on)):
        try:
            _check_signature_date(value, label)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not contract.objectives:
        errors.setdefault("__all__", []).append("Ajoutez au moins un objectif avant la signature.")
    try:
        check_hours(contract.weekly_hours, contract.hours_reason, person.territory)
    except ValidationError as exc:
        errors.setdefault("__all__", []).extend(exc.messages)
    if scan is not None:
        try:
            scans.validate_scan(scan)
        except ValidationError as exc:
            errors["scan"] = exc.messages
    if errors:
        raise ValidationError(errors)
    EngagementContract.objects.filter(person=person, status=EngagementContract.Status.SIGNED).update(
        status=EngagementContract.Status.SUPERSEDED
    )
    contract.status = EngagementContract.Status.SIGNED
    contract.signed_by_person_on = person_signed_on
    contract.signed_by_referent_on = referent_signed_on
    contract.signed_at = timezone.now()
    if scan is not None:
        _store_scan(contract, scan)
    try:
        contract.save(update_fields=[
            "status", "signed_by_person_on", "signed_by_referent_on", "signed_at", "signed_scan",
        ])
    except Exception:
        if contract.signed_scan:
            contract.signed_scan.delete(save=False)
        raise
    people_services.add_event(
        person, "contract_signed",
        f"Contrat d'engagement signé (version {contract.version}, {hours_label(contract.weekly_hours)} h par semaine)",
        actor=by_membership.user, structure=by_membership.structure, at=contract.signed_at,
    )
    refresh_status(person)
    record_contact(person, max(filter(None, [person_signed_on, referent_signed_on]), default=None))
    return contract


@transaction.atomic
def attach_scan(contract, by_membership, scan):
    """Join the scan of a contract signed on paper, once: the signed version stays otherwise unchanged."""
    person = contract.person
    access = _access(person, by_membership)
    if not policies.can_sign_contract(access, by_membership, person):
        raise PermissionDenied("Seul le référent unique joint le scan du contrat signé.")
    contract = EngagementContract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != EngagementContract.Status.SIGNED:
        raise ValidationError("Le scan se joint à la version signée en cours.")
    if contract.signed_scan:
        raise ValidationError("Un scan est déjà joint à cette version.")
    try:
        _store_scan(contract, scan)
    except ValidationError as exc:
        raise ValidationError({"scan": exc.messages}) from None
    contract.save(update_fields=["signed_scan"])
    people_services.add_event(
        person, "contract_scan", f"Scan du contrat signé joint (version {contract.version})",
        actor=by_membership.user, structure=by_membership.structure,
    )
    return contract
