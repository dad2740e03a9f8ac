"""Every write on a structure's actions and their sessions. Pages, the API, commands and the
demo call these functions, so one set of rules holds whatever the door.

- :func:`create_action` / :func:`update_action`: the provider's sheet. A change of its content
  dates it (``content_updated_on``, data·inclusion's ``date_maj``, which drives freshness); a
  change of the commune re-derives the coordinates; ``save()`` re-derives the search keys. A
  published action must stay publishable; a model passes its content on to its sites.
- :func:`change_status`: the lifecycle of ``models.ACTION_TRANSITIONS``. Publishing refuses an
  action lacking what the national schema or a référent needs (:func:`publish_problems`); a
  suspension needs its end date. :func:`resume_expired_suspensions` (nightly) publishes again
  the actions whose suspension date has passed.
- :func:`confirm_up_to_date`: "nothing changed", which resets freshness without an edit.
- :func:`instantiate` / :func:`sync_from_model`: a network's action model offered at several
  sites; each site's action copies the model's content (never its place, contact or status).
- :func:`create_session` / :func:`update_session` / :func:`cancel_session`: dated sessions; the
  places are recounted from the referrals (``places.refresh_action``), a capacity never
  goes below the places already taken, and cancelling a session drops its accepted referrals.

Errors are French :class:`ValidationError` (a dict keyed by field names where a field is at
fault) or :class:`PermissionDenied`.
"""

import datetime
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .. import places, policies, workflows
from ..models import (
    ACTION_TRANSITIONS,
    Action,
    ActionSession,
    ActionStatus,
    DropReason,
    MobilisationMode,
    Mobiliser,
    ReceptionMode,
    Referral,
    ReferralStatus,
)
from . import referrals as referral_services

logger = logging.getLogger(__name__)

MANAGE_DENIED = "Seuls les administrateurs et les référents de la structure peuvent gérer ses actions."

# What an action says (the data·inclusion service and its SPIE extensions): a model passes these
# on to its sites (:func:`sync_from_model`).
CONTENT_FIELDS = (
    "name", "summary", "description", "type", "thematiques", "fees", "fees_details", "publics",
    "publics_details", "access_conditions", "prerequisites", "documents", "reception_modes",
    "mobilisation_modes", "mobilisable_by", "mobilisation_details", "mobilisation_link", "weekly_hours",
    "weeks", "spie_kind", "spie_axis", "plan_item", "languages",
)
# What belongs to one site: its place, its contact, its premises and its places.
SITE_FIELDS = (
    "address", "address_complement", "postal_code", "commune", "eligibility_zone", "contact_name", "email",
    "phone", "opening_hours", "capacity", "registration_deadline", "accessibility",
)
EDITABLE_FIELDS = (*CONTENT_FIELDS, *SITE_FIELDS, "is_model")
# Site data given when a model is offered at a new site.
INSTANCE_FIELDS = SITE_FIELDS

LIST_ENUMS = {
    "reception_modes": (ReceptionMode, "mode d'accueil"),
    "mobilisation_modes": (MobilisationMode, "mode de mobilisation"),
    "mobilisable_by": (Mobiliser, "valeur de « mobilisable par »"),
}

S = ActionStatus
VISIBLE_STATUSES = (S.PUBLISHED, S.SUSPENDED)


def status_label(status):
    return S(status).label if status in S.values else str(status)


# --- Policy -----------------------------------------------------------------------------------


def check_can_manage(membership, structure):
    """Raise :class:`PermissionDenied` unless ``membership`` may manage ``structure``'s actions."""
    if not policies.can_manage_actions(membership, structure):
        raise PermissionDenied(MANAGE_DENIED)


# --- Validation -------------------------------------------------------------------------------


def _text(value):
    return str(value or "").strip()


def field_problems(action):
    """Problems any action must not have, draft or not (dict field -> French message)."""
    problems = {}
    for name, (enum, what) in LIST_ENUMS.items():
        unknown = [v for v in getattr(action, name) or () if v not in enum.values]
        if unknown:
            problems[name] = f"Valeur inconnue pour le {what} : « {unknown[0]} »."
    if action.is_model and action.model_id:
        problems["is_model"] = "Une action déclinée d'un modèle ne peut pas être elle-même un modèle."
    if action.weekly_hours is not None and action.weekly_hours < 0:
        problems["weekly_hours"] = "Le nombre d'heures par semaine ne peut pas être négatif."
    if action.capacity is not None and action.pk:
        taken = action.places_taken or 0
        if action.capacity < taken:
            problems["capacity"] = (
                f"La capacité ne peut pas être inférieure aux {taken} place{'s' if taken > 1 else ''} "
                f"déjà prise{'s' if taken > 1 else ''}."
            )
    return problems


def publish_problems(action):
    """What a published action must have (dict field -> French message), empty when it may be
    published: the national schema's required fields (name of 3 to 150 characters, a
    description) and what a référent needs to send someone (a thématique, a reception mode, a
    place when it is held in person, a way to mobilise it that can actually be used)."""
    problems = {}
    name = _text(action.name)
    if not 3 <= len(name) <= 150:
        problems["name"] = "Le nom doit compter entre 3 et 150 caractères."
    if len(_text(action.description)) < 5:
        problems["description"] = "Ajoutez une description de l'action."
    if not action.thematiques:
        problems["thematiques"] = "Choisissez au moins une thématique."
    modes = set(action.reception_modes or ())
    if not modes:
        problems["reception_modes"] = "Indiquez au moins un mode d'accueil (en présentiel ou à distance)."
    elif ReceptionMode.IN_PERSON in modes and not action.commune_id:
        problems["commune"] = "Indiquez la commune du lieu d'accueil : l'action se déroule en présentiel."
    mobilisation = set(action.mobilisation_modes or ())
    if not mobilisation:
        problems["mobilisation_modes"] = (
            "Indiquez comment mobiliser l'action (courriel, téléphone, se présenter ou lien de mobilisation)."
        )
    else:
        if MobilisationMode.LINK in mobilisation and not _text(action.mobilisation_link):
            problems["mobilisation_link"] = "Ajoutez le lien de mobilisation, ou retirez ce mode de mobilisation."
        if MobilisationMode.EMAIL in mobilisation and not _text(action.email):
            problems["email"] = "Ajoutez le courriel à utiliser pour mobiliser l'action."
        if MobilisationMode.PHONE in mobilisation and not _text(action.phone):
            problems["phone"] = "Ajoutez le téléphone à appeler pour mobiliser l'action."
        if MobilisationMode.WALK_IN in mobilisation and not (action.commune_id and _text(action.address)):
            problems.setdefault("address", "Ajoutez l'adresse où se présenter.")
    problems.update(field_problems(action))
    return problems


def _assign(action, data, allowed):
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"Champs non modifiables : {', '.join(sorted(unknown))}")
    changed = []
    for name, value in data.items():
        if isinstance(value, str) and name not in ("description", "access_conditions", "prerequisites",
                                                   "documents", "mobilisation_details"):
            value = value.strip()
        field = Action._meta.get_field(name)
        current = getattr(action, field.attname if field.is_relation else name)
        new = getattr(value, "pk", value) if field.is_relation else value
        if current != new:
            setattr(action, name, value)
            changed.append(name)
    return changed


# --- Actions ----------------------------------------------------------------------------------


@transaction.atomic
def create_action(*, membership, data, structure=None):
    """A new draft action of ``structure`` (the membership's by default), written by ``membership``."""
    structure = structure or membership.structure
    check_can_manage(membership, structure)
    action = Action(
        territory_id=structure.territory_id, structure=structure, created_by=membership.user,
        status=S.DRAFT, content_updated_on=timezone.localdate(),
    )
    _assign(action, data, EDITABLE_FIELDS)
    problems = field_problems(action)
    if problems:
        raise ValidationError(problems)
    action.save()
    places.refresh_action(action)
    return action


@transaction.atomic
def update_action(*, action, membership, data):
    """Change the sheet of ``action``; return the names of the fields changed.

    Content changes date the sheet (freshness); a new commune moves the coordinates; a visible
    action must stay publishable; a model passes its new content on to its sites."""
    check_can_manage(membership, action.structure)
    locked = Action.objects.select_for_update().only("places_taken", "status").get(pk=action.pk)
    action.places_taken, action.status = locked.places_taken, locked.status
    changed = _assign(action, data, EDITABLE_FIELDS)
    problems = publish_problems(action) if action.status in VISIBLE_STATUSES else field_problems(action)
    if problems:
        if action.status in VISIBLE_STATUSES:
            problems.setdefault(
                "__all__", "Une action publiée ou suspendue doit rester complète : corrigez les points signalés "
                           "ou repassez-la en brouillon.")
        raise ValidationError(problems)
    if not changed:
        return []
    if "commune" in changed:
        action.lat = action.lon = None  # re-derived from the new commune by save()
    action.content_updated_on = timezone.localdate()
    action.save()
    if "capacity" in changed:
        places.refresh_action(action)
    if action.is_model and set(changed) & set(CONTENT_FIELDS):
        sync_from_model(action)
    return changed


@transaction.atomic
def change_status(action, to, *, by, until=None, reason=""):
    """Move ``action`` to status ``to`` along ``ACTION_TRANSITIONS`` (``by``: the membership
    acting, None for the platform itself). Publishing checks :func:`publish_problems` and dates
    the first publication; a suspension needs ``until``, a date in the future."""
    if by is not None:
        check_can_manage(by, action.structure)
    current = Action.objects.select_for_update().only("status").get(pk=action.pk).status
    action.status = current
    if to not in S.values:
        raise ValidationError("Statut inconnu.")
    if to == current:
        raise ValidationError(f"L'action est déjà « {status_label(to)} ».")
    if to not in ACTION_TRANSITIONS[S(current)]:
        raise ValidationError(
            f"Une action « {status_label(current)} » ne peut pas passer à « {status_label(to)} »."
        )
    today = timezone.localdate()
    if to == S.PUBLISHED:
        problems = publish_problems(action)
        if problems:
            raise ValidationError(["L'action ne peut pas être publiée :", *problems.values()])
        if action.published_at is None or current == S.DRAFT:
            action.published_at = timezone.now()
        action.suspended_until = None
    elif to == S.SUSPENDED:
        if until is None:
            raise ValidationError({"until": "Indiquez jusqu'à quelle date l'action est suspendue."})
        if isinstance(until, datetime.datetime):
            until = until.date()
        if until <= today:
            raise ValidationError({"until": "La date de fin de suspension doit être dans le futur."})
        action.suspended_until = until
    else:
        action.suspended_until = None
    action.status = to
    action.save(update_fields=["status", "suspended_until", "published_at", "updated_at"])
    logger.info(
        "catalogue action %s: %s -> %s by %s%s", action.uid, current, to,
        getattr(by, "user_id", None) or "system", f" ({_text(reason)[:200]})" if _text(reason) else "",
    )
    return action


def allowed_targets(action):
    """Statuses ``action`` may move to, in a stable order for the buttons."""
    targets = ACTION_TRANSITIONS[S(action.status)]
    return [s for s in (S.PUBLISHED, S.SUSPENDED, S.DRAFT, S.ARCHIVED) if s in targets]


@transaction.atomic
def confirm_up_to_date(action, *, membership=None, today=None):
    """The provider checked the sheet and nothing changed: it is fresh again."""
    if membership is not None:
        check_can_manage(membership, action.structure)
    today = today or timezone.localdate()
    action.content_updated_on = today
    Action.objects.filter(pk=action.pk).update(content_updated_on=today, updated_at=timezone.now())
    return action


def resume_expired_suspensions(today=None, *, territories=None):
    """Publish again the suspended actions whose suspension date has passed (of ``territories``
    when given); return how many.

    A suspension "jusqu'au 12/05" covers the 12th: the action comes back on the 13th (the same
    rule as ``Action.is_visible``)."""
    today = today or timezone.localdate()
    due = Action.objects.filter(status=S.SUSPENDED, suspended_until__lt=today)
    if territories is not None:
        due = due.filter(territory__in=territories)
    return due.update(status=S.PUBLISHED, suspended_until=None, updated_at=timezone.now())


def stale_actions(territory, today=None):
    """Visible actions of ``territory`` whose content is older than its freshness period."""
    today = today or timezone.localdate()
    limit = today - datetime.timedelta(days=int(territory.setting("catalogue_freshness_days")))
    return Action.objects.filter(territory=territory, status__in=VISIBLE_STATUSES, content_updated_on__lt=limit)


# --- Models offered at several sites ------------------------------------------------------------


@transaction.atomic
def instantiate(model_action, *, membership, structure=None, data):
    """A new site's action (draft) from the model ``model_action``, for ``structure`` (the
    membership's by default): the model's content, the site's place and contact from ``data``
    (``address``, ``postal_code``, ``commune`` — required —, ``contact_name``, ``email``,
    ``phone``…)."""
    structure = structure or membership.structure
    check_can_manage(membership, structure)
    if not model_action.is_model:
        raise ValidationError("Cette action n'est pas un modèle : elle ne peut pas être déclinée sur un autre site.")
    if model_action.territory_id != structure.territory_id:
        raise ValidationError("Ce modèle appartient à un autre territoire.")
    if model_action.structure_id != structure.pk and model_action.status not in VISIBLE_STATUSES:
        raise ValidationError("Ce modèle n'est pas publié : seule la structure qui le porte peut le décliner.")
    if model_action.status == S.ARCHIVED:
        raise ValidationError("Ce modèle est archivé : il ne peut plus être décliné.")
    if not data.get("commune"):
        raise ValidationError({"commune": "Indiquez la commune du site."})
    action = Action(
        territory_id=structure.territory_id, structure=structure, created_by=membership.user, model=model_action,
        is_model=False, status=S.DRAFT, content_updated_on=timezone.localdate(),
    )
    for name in CONTENT_FIELDS:
        attname = Action._meta.get_field(name).attname
        setattr(action, attname, _copy(getattr(model_action, attname)))
    _assign(action, data, INSTANCE_FIELDS)
    problems = field_problems(action)
    if problems:
        raise ValidationError(problems)
    action.save()
    places.refresh_action(action)
    return action


def _copy(value):
    return list(value) if isinstance(value, list) else value


@transaction.atomic
def sync_from_model(model_action):
    """Copy the model's content to each of its sites (place, contact, places and status stay the
    site's own); return how many sites changed."""
    count = 0
    for instance in model_action.instances.select_related("structure"):
        changed = False
        for name in CONTENT_FIELDS:
            field = Action._meta.get_field(name)
            attname = field.attname
            value = getattr(model_action, attname)
            if getattr(instance, attname) != value:
                setattr(instance, attname, _copy(value))
                changed = True
        if changed:
            instance.content_updated_on = timezone.localdate()
            instance.save()
            count += 1
    return count


# --- Sessions ---------------------------------------------------------------------------------

SESSION_FIELDS = ("label", "starts_on", "ends_on", "start_time", "place", "capacity", "registration_deadline")


def places_held(session):
    """Referrals holding a place in ``session`` (counted, not trusted from the stored figure)."""
    if not session.pk:
        return 0
    return session.referrals.filter(status__in=places.HOLDING_PLACE).count()


def _session_problems(session, *, creating, today):
    problems = {}
    if session.starts_on is None:
        problems["starts_on"] = "Indiquez la date de début de la session."
        return problems
    if creating and session.starts_on < today:
        problems["starts_on"] = "Une nouvelle session commence aujourd'hui ou plus tard."
    if session.ends_on and session.ends_on < session.starts_on:
        problems["ends_on"] = "La date de fin ne peut pas précéder la date de début."
    if session.registration_deadline and session.registration_deadline > (session.ends_on or session.starts_on):
        problems["registration_deadline"] = "La date limite d'inscription ne peut pas suivre la fin de la session."
    if session.capacity is None or session.capacity < 1:
        problems["capacity"] = "Indiquez au moins une place."
    else:
        taken = places_held(session)
        if session.capacity < taken:
            problems["capacity"] = (
                f"La capacité ne peut pas être inférieure aux {taken} place{'s' if taken > 1 else ''} "
                f"déjà prise{'s' if taken > 1 else ''}."
            )
    return problems


def _session_assign(session, data):
    unknown = set(data) - set(SESSION_FIELDS)
    if unknown:
        raise ValueError(f"Champs non modifiables : {', '.join(sorted(unknown))}")
    for name, value in data.items():
        setattr(session, name, value.strip() if isinstance(value, str) else value)


@transaction.atomic
def create_session(action, *, membership, data):
    check_can_manage(membership, action.structure)
    if action.status == S.ARCHIVED:
        raise ValidationError("Cette action est archivée : repassez-la en brouillon avant d'ajouter une session.")
    session = ActionSession(action=action)
    _session_assign(session, data)
    problems = _session_problems(session, creating=True, today=timezone.localdate())
    if problems:
        raise ValidationError(problems)
    session.save()
    places.refresh_action(action)
    return session


@transaction.atomic
def update_session(session, *, membership, data):
    action = session.action
    check_can_manage(membership, action.structure)
    session = ActionSession.objects.select_for_update().get(pk=session.pk)
    if session.is_cancelled:
        raise ValidationError("Cette session est annulée : elle ne peut plus être modifiée.")
    _session_assign(session, data)
    problems = _session_problems(session, creating=False, today=timezone.localdate())
    if problems:
        raise ValidationError(problems)
    session.save()
    places.refresh_action(action)
    return session


@transaction.atomic
def cancel_session(session, *, membership):
    """Cancel ``session``; return how many accepted referrals it dropped.

    The people accepted in it cannot take part any more: each such referral is dropped by the
    provider through the referral workflow (``referrals.move``), so places, the linked plan
    action, the timeline and the e-mails to the sending référent follow the usual rules instead
    of the provider having to warn everyone by hand. Referrals already started stay as they are:
    the person has begun and their référent and the provider settle the rest together."""
    action = session.action
    check_can_manage(membership, action.structure)
    session = ActionSession.objects.select_for_update().get(pk=session.pk)
    if session.is_cancelled:
        raise ValidationError("Cette session est déjà annulée.")
    session.is_cancelled = True
    session.save(update_fields=["is_cancelled"])
    places.refresh_action(action)
    when = f"{session.starts_on:%d/%m/%Y}"
    what = f"« {session.label} » du {when}" if session.label else f"session du {when}"
    text = f"Session annulée par la structure : {what}."
    accepted = Referral.objects.filter(session=session, status=ReferralStatus.ACCEPTED).order_by("sent_at", "pk")
    dropped = 0
    for referral in accepted:
        referral_services.move(referral, ReferralStatus.DROPPED, actor=workflows.PROVIDER, by=membership.user,
                               reason=DropReason.OTHER, text=text)
        dropped += 1
    return dropped
