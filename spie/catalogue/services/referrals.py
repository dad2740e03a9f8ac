"""Every write on referrals ("prescriptions"): sending, each transition, the provider's link,
reminders and expiry. Pages, the API, the task and the command all call these functions, so
that one set of rules holds whatever the door.

- :func:`send_referral` checks the right to refer, the person's consent, the action and its
  session, refuses a second open referral of the same person to the same action, keeps health
  detail out unless it may leave the restricted section, and links the referral to the
  person's plan when asked.
- :func:`move` is the one entry point of every transition (``workflows.TRANSITIONS``): it
  validates reasons and sessions, sets the dates, recounts places, kills the older signed links
  when the answer is final or the link was used, keeps the linked plan action in step, writes
  the person's timeline and sends the e-mails after commit.
- :func:`renew_link`, :func:`expire_due`, :func:`send_due_reminders`: the link's lifetime and
  the deadlines of the territory (``referral_link_days``, ``referral_reminder_days``,
  ``referral_expiry_days``).
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from spie.core.audit import client_ip
from spie.core.models import AccessLog
from spie.followup.models import OPEN_PLAN_STATUSES, PLAN_TRANSITIONS, PlanAction, PlanStatus
from spie.followup.services import plan as plan_services
from spie.network.models import Territory
from spie.people import policies as people_policies
from spie.people import services as people_services
from spie.people.models import Person

from .. import notifications, places, policies, workflows
from ..models import (
    Action,
    ActionSession,
    DropReason,
    PreferredContact,
    Referral,
    ReferralStatus,
    RefusalReason,
)

S = ReferralStatus

REFER_DENIED = (
    "Vous ne pouvez pas orienter cette personne : il faut faire partie de son groupe de suivi "
    "(ou être chargé d'orientation du territoire) et pouvoir ouvrir son dossier."
)
RENEW_DENIED = "Seules la structure qui oriente et la structure qui porte l'action peuvent renouveler le lien."

# Status of the linked plan action for each referral status (accepted: still "planned").
PLAN_STATUS_FOR = {
    S.ACCEPTED: PlanStatus.PLANNED,
    S.STARTED: PlanStatus.IN_PROGRESS,
    S.COMPLETED: PlanStatus.DONE,
    S.DROPPED: PlanStatus.ABANDONED,
    S.REFUSED: PlanStatus.CANCELLED,
    S.EXPIRED: PlanStatus.CANCELLED,
    S.CANCELLED: PlanStatus.CANCELLED,
}

EVENT_TITLES = {
    S.ACCEPTED: "acceptée par la structure",
    S.REFUSED: "refusée par la structure",
    S.STARTED: "entrée dans l'action",
    S.COMPLETED: "action terminée",
    S.DROPPED: "action abandonnée",
    S.EXPIRED: "expirée sans réponse",
    S.CANCELLED: "annulée",
}


def _clean(text):
    return " ".join(str(text or "").split()) if text is not None else ""


def _text(text):
    """Free text keeps its line breaks, loses its surrounding blanks."""
    return str(text or "").strip()


def link_days(referral_or_territory):
    territory = getattr(referral_or_territory, "territory", None) or referral_or_territory
    return int(territory.setting("referral_link_days"))


def _territory_of(referral):
    return referral.person.territory


# --- Sending ----------------------------------------------------------------------------------


def _check_session(session, action, today):
    if session.action_id != action.pk:
        return "Cette session n'appartient pas à l'action choisie."
    if not session.is_open(today):
        if session.is_cancelled:
            return f"La session « {session} » est annulée : choisissez-en une autre."
        if session.places_left <= 0:
            return f"La session « {session} » est complète : choisissez-en une autre."
        return f"Les inscriptions à la session « {session} » sont closes : choisissez-en une autre."
    return None


@transaction.atomic
def send_referral(*, person, action, membership, access, data, session=None, plan_objective=None, base_url=None):
    """Send ``person`` to ``action`` (or one of its sessions) on behalf of ``membership``.

    ``data`` holds ``consent`` (must be True), ``motivation`` (required), ``availability``,
    ``preferred_contact`` (a :class:`PreferredContact` value), ``provider_info``, ``share_health``
    and ``health_info`` (kept only when ``access.can_see_health`` and ``share_health``: health
    detail leaves the restricted section only by an explicit choice of someone who may read it).
    ``plan_objective``, an open objective of the person's plan, gets a plan action carried by
    the provider and linked to the referral. Raises ``PermissionDenied`` or a French
    ``ValidationError`` (a dict keyed by the form's field names).
    """
    if not policies.can_refer(membership, access):
        raise PermissionDenied(REFER_DENIED)
    today = timezone.localdate()
    errors = {}
    if data.get("consent") is not True:
        errors["consent"] = [
            "L'accord de la personne est obligatoire : vérifiez avec elle qu'elle souhaite participer à cette action "
            "et que ses coordonnées soient transmises à la structure."
        ]
    motivation = _text(data.get("motivation"))
    if not motivation:
        errors["motivation"] = ["Indiquez pourquoi cette action est proposée à la personne."]
    availability = _clean(data.get("availability"))
    if len(availability) > 300:
        errors["availability"] = ["Les disponibilités ne doivent pas dépasser 300 caractères."]
    preferred = data.get("preferred_contact") or PreferredContact.PHONE
    if preferred not in PreferredContact.values:
        errors["preferred_contact"] = ["Choisissez le moyen de contact préféré dans la liste."]
    if action.territory_id != person.territory_id:
        errors["__all__"] = ["Cette action n'appartient pas au territoire de la personne."]
    elif not action.is_visible:
        errors["__all__"] = ["Cette action n'est pas ouverte aux orientations (brouillon, suspendue ou archivée)."]
    elif action.registration_deadline and action.registration_deadline < today and session is None:
        errors["__all__"] = [
            f"Les inscriptions à cette action sont closes depuis le {action.registration_deadline:%d/%m/%Y}."
        ]
    if session is not None:
        problem = _check_session(session, action, today)
        if problem:
            errors["session"] = [problem]
    if plan_objective is not None and (
        plan_objective.person_id != person.pk or plan_objective.status not in OPEN_PLAN_STATUSES
    ):
        errors["plan_objective"] = ["Choisissez un objectif en cours du plan d'action de la personne."]
    if errors:
        raise ValidationError(errors)

    # Serialise two sendings for the same person (double click, API retry).
    Person.objects.select_for_update().filter(pk=person.pk).first()
    open_one = Referral.objects.filter(person=person, action=action, status__in=workflows.OPEN_STATES).first()
    if open_one is not None:
        raise ValidationError({"__all__": [
            f"Une orientation de cette personne vers « {action.name} » est déjà en cours "
            f"(statut « {open_one.get_status_display().lower()} », envoyée le "
            f"{timezone.localtime(open_one.sent_at):%d/%m/%Y}) : suivez-la plutôt que d'en envoyer une autre."
        ]})

    share = bool(data.get("share_health")) and access.can_see_health
    health_info = _text(data.get("health_info")) if share else ""
    now = timezone.now()
    referral = Referral.objects.create(
        person=person, action=action, session=session,
        from_structure=membership.structure, to_structure=action.structure, sent_by=membership.user,
        consent=True, consent_on=today, motivation=motivation, availability=availability,
        preferred_contact=preferred, provider_info=_text(data.get("provider_info")),
        health_shared=bool(health_info), health_info=health_info,
        sent_at=now, link_expires_at=now + datetime.timedelta(days=link_days(person.territory)),
    )
    workflows.record_creation(referral, membership.user)

    if plan_objective is not None:
        responsible = action.structure if action.structure.territory_id == person.territory_id else None
        plan_action = plan_services.add_action(
            plan_objective, membership, label=action.name[:300], responsible_structure=responsible,
            provider=action.structure.name, planned_on=session.starts_on if session else None, access=access,
        )
        referral.plan_action = plan_action
        Referral.objects.filter(pk=referral.pk).update(plan_action=plan_action)

    people_services.add_event(
        person, "referral_sent", f"Orientation vers l'action « {action.name} » ({action.structure})",
        actor=membership.user, structure=membership.structure,
    )
    notifications.referral_sent(referral, base_url=base_url)
    return referral


# --- Transitions ------------------------------------------------------------------------------


def _lock_places(action, session, today):
    """Check, under lock, that ``session`` (or the action without sessions) still has a place."""
    Action.objects.select_for_update().filter(pk=action.pk).first()
    if session is not None:
        session = ActionSession.objects.select_for_update().get(pk=session.pk)
        problem = _check_session(session, action, today)
        if problem:
            raise ValidationError({"session": [problem]})
        return session
    if action.capacity is not None and not ActionSession.objects.filter(action=action).exists():
        taken = Referral.objects.filter(action=action, session__isnull=True,
                                        status__in=places.HOLDING_ACTION_PLACE).count()
        if taken >= action.capacity:
            raise ValidationError({"__all__": [
                f"Plus de place disponible sur cette action ({action.capacity} place"
                f"{'s' if action.capacity > 1 else ''}, toutes prises)."
            ]})
    return None


def _plan_path(current, target):
    """Steps along ``PLAN_TRANSITIONS`` from ``current`` to ``target`` (empty when none fits).

    A plan action abandoned before it started is cancelled rather than put in progress first.
    """
    current = PlanStatus(current)
    if current == target:
        return []
    allowed = PLAN_TRANSITIONS[current]
    if target in allowed:
        return [target]
    if target == PlanStatus.ABANDONED and PlanStatus.CANCELLED in allowed:
        return [PlanStatus.CANCELLED]
    for middle in sorted(allowed):
        if target in PLAN_TRANSITIONS[middle]:
            return [middle, target]
    return []


def _sync_plan(referral, to_status, *, by, structure, log_reason, on):
    """Move the plan action linked to ``referral`` through the plan's own service, so the plan's
    log and the timeline tell the same story. The plan log needs a user: for an answer through
    the link or by the system, the referral's sender stands in (the reason says what happened)."""
    if not referral.plan_action_id:
        return
    plan_action = PlanAction.objects.filter(pk=referral.plan_action_id).first()
    if plan_action is None:
        return
    steps = _plan_path(plan_action.status, PLAN_STATUS_FOR[to_status])
    if not steps:
        return
    acting = SimpleNamespace(user=by or referral.sent_by, structure=structure or referral.from_structure)
    access = people_policies.Access("referral", frozenset({people_policies.RECORD}), can_edit=True)
    reason = f"Orientation vers l'action : {EVENT_TITLES[to_status]}" + (f" ({log_reason})" if log_reason else "")
    for step in steps:
        plan_action = plan_services.change_status(plan_action, acting, step, reason=reason[:300], on=on,
                                                  access=access)


@transaction.atomic
def move(referral, to_status, *, actor, by=None, via_link=False, reason="", text="", session=None, start_date=None,
         on=None, base_url=None):
    """Move ``referral`` to ``to_status`` for ``actor`` (``workflows.SENDER``, ``PROVIDER`` or ``SYSTEM``).

    ``reason``: a :class:`RefusalReason` (refused) or :class:`DropReason` (dropped) value, or the
    free motive of a cancellation; ``text``: details. ``session`` / ``start_date``: on acceptance.
    ``on``: the date of a start, an end or a drop (today by default). The caller has checked that
    ``by`` acts for ``actor``'s side. Raises a French ``ValidationError``.
    """
    locked = Referral.objects.select_for_update(of=("self",)).select_related("action", "person__territory").get(
        pk=referral.pk
    )
    from_status = locked.status
    if to_status not in S.values:
        raise ValidationError({"__all__": ["Statut inconnu."]})
    workflows.check(from_status, to_status, actor, reason="-")  # table and actor first, reasons below
    now, today = timezone.now(), timezone.localdate()
    on = on or today
    reason, text = _clean(reason), _text(text)
    fields, log_reason = {}, ""
    if to_status in (S.STARTED, S.COMPLETED, S.DROPPED) and on > today:
        raise ValidationError({"on": ["La date ne peut pas être dans le futur."]})
    sent_on = timezone.localtime(locked.sent_at).date()
    if to_status == S.STARTED and on < sent_on:
        raise ValidationError({"on": [f"L'entrée dans l'action ne peut pas précéder l'envoi ({sent_on:%d/%m/%Y})."]})
    if to_status in (S.COMPLETED, S.DROPPED) and on < (locked.started_on or sent_on):
        since = locked.started_on or sent_on
        raise ValidationError({"on": [f"La date de fin ne peut pas précéder le {since:%d/%m/%Y}."]})
    if to_status == S.ACCEPTED and start_date is not None and start_date < sent_on:
        raise ValidationError({"start_date": [
            f"La date de début ne peut pas précéder l'envoi de l'orientation ({sent_on:%d/%m/%Y})."
        ]})
    if to_status == S.REFUSED:
        if reason not in RefusalReason.values:
            raise ValidationError({"reason": ["Choisissez le motif du refus dans la liste."]})
        fields.update(refusal_reason=reason, status_text=text)
        log_reason = RefusalReason(reason).label
    elif to_status == S.DROPPED:
        if reason not in DropReason.values:
            raise ValidationError({"reason": ["Choisissez le motif de l'abandon dans la liste."]})
        fields.update(drop_reason=reason, status_text=text, ended_on=on)
        log_reason = DropReason(reason).label
    elif to_status == S.CANCELLED:
        motive = _text(text or reason)
        if not motive:
            raise ValidationError({"reason": ["Indiquez le motif de l'annulation."]})
        fields["status_text"] = motive
        log_reason = motive
    elif to_status == S.ACCEPTED:
        session = session or locked.session
        held = _lock_places(locked.action, session, today)
        fields.update(session=held, start_date=start_date or (held.starts_on if held else None))
    elif to_status == S.STARTED:
        fields["started_on"] = on
    elif to_status == S.COMPLETED:
        fields["ended_on"] = on
    if to_status in (S.ACCEPTED, S.REFUSED):
        fields.update(answered_at=now, answered_by=by, answered_via_link=via_link)

    final = to_status in workflows.FINAL_STATES
    next_link = via_link and not final
    if final or via_link:
        fields["link_version"] = locked.link_version + 1
    if next_link:
        fields["link_expires_at"] = now + datetime.timedelta(days=link_days(locked.person.territory))
    workflows.transition(referral, to_status, actor=actor, by=by, via_link=via_link, reason=log_reason, **fields)

    places.refresh_action(locked.action)  # every session of the action too, the former one included
    structure = {workflows.PROVIDER: referral.to_structure, workflows.SENDER: referral.from_structure}.get(actor)
    _sync_plan(referral, to_status, by=by, structure=structure, log_reason=log_reason, on=on)
    people_services.add_event(
        referral.person, f"referral_{to_status}",
        f"Orientation vers l'action « {referral.action.name} » : {EVENT_TITLES[to_status]}",
        actor=by, structure=structure,
        detail=log_reason if to_status in (S.REFUSED, S.DROPPED) else "",
    )
    notifications.referral_moved(referral, to_status, actor=actor, via_link=via_link, next_link=next_link,
                                 base_url=base_url)
    return referral


# --- The provider's link ----------------------------------------------------------------------


def user_side(user, referral):
    """``workflows.SENDER``, ``PROVIDER`` or None for ``user`` whatever their active structure."""
    if user is None or not user.is_authenticated:
        return None
    memberships = list(user.active_memberships())
    sides = set()
    for membership in memberships:
        access = None
        if membership.structure.territory_id == referral.person.territory_id:
            access = people_policies.access_for(user, membership, referral.person)
        side = policies.referral_side(membership, referral, access)
        if side:
            sides.add(side)
    if policies.SENDER in sides:
        return workflows.SENDER
    return workflows.PROVIDER if policies.PROVIDER in sides else None


@transaction.atomic
def renew_link(referral, *, by, base_url=None):
    """A new link for the provider (sender or provider side, while sent or accepted): new expiry,
    new version (older links stop working), e-mailed to the provider."""
    if user_side(by, referral) is None:
        raise PermissionDenied(RENEW_DENIED)
    locked = Referral.objects.select_for_update(of=("self",)).select_related("person__territory").get(pk=referral.pk)
    if locked.status not in (S.SENT, S.ACCEPTED):
        raise ValidationError(
            f"Le lien ne peut plus être renouvelé : l'orientation est « {locked.get_status_display().lower()} »."
        )
    expires = timezone.now() + datetime.timedelta(days=link_days(locked.person.territory))
    Referral.objects.filter(pk=referral.pk).update(link_expires_at=expires, link_version=locked.link_version + 1)
    referral.link_expires_at, referral.link_version = expires, locked.link_version + 1
    notifications.link_renewed(referral, base_url=base_url)
    return referral


def request_renewal(referral, *, base_url=None):
    """The holder of an expired link asks for a new one: the sender is e-mailed (nothing changes)."""
    if referral.status not in (S.SENT, S.ACCEPTED):
        raise ValidationError("Cette orientation est close : il n'y a plus de réponse à donner.")
    notifications.renewal_requested(referral, base_url=base_url)


def log_link_read(referral, request, token=""):
    """The access log of a read through the signed link: no user, the structure holding the link.
    The token is kept out of the logged path (it opens the referral)."""
    path = request.path.replace(token, "…") if token else request.path
    return AccessLog.objects.create(
        user=None, structure=referral.to_structure, person=referral.person, section=AccessLog.Section.REFERRAL,
        channel=AccessLog.Channel.LINK, path=path[:300], ip_address=client_ip(request),
    )


# --- Deadlines --------------------------------------------------------------------------------


def _due(setting, now, **filters):
    """``(territory, pks)`` of sent referrals older than the territory's ``setting`` (in days)."""
    for territory in Territory.objects.all():
        cutoff = now - datetime.timedelta(days=int(territory.setting(setting)))
        pks = list(
            Referral.objects.filter(status=S.SENT, sent_at__lt=cutoff, person__territory=territory, **filters)
            .order_by("sent_at").values_list("pk", flat=True)
        )
        if pks:
            yield territory, pks


def expire_due(now=None, *, base_url=None):
    """Referrals sent for more than the territory's ``referral_expiry_days`` without an answer
    become "expired" (by the system); returns how many. A referral answered meanwhile is skipped."""
    now = now or timezone.now()
    count = 0
    for _territory, pks in _due("referral_expiry_days", now):
        for pk in pks:
            referral = Referral.objects.select_related(
                "person", "action", "to_structure", "from_structure", "sent_by"
            ).get(pk=pk)
            try:
                move(referral, S.EXPIRED, actor=workflows.SYSTEM, base_url=base_url)
            except ValidationError:
                continue
            count += 1
    return count


def send_due_reminders(now=None, *, base_url=None):
    """Sent, unanswered referrals older than the territory's ``referral_reminder_days`` and not yet
    reminded: the provider gets a fresh link, the sender a note; returns how many. Each referral
    is claimed by one UPDATE, so a second or concurrent run sends nothing twice."""
    now = now or timezone.now()
    count = 0
    for territory, pks in _due("referral_reminder_days", now, answered_at__isnull=True,
                               reminder_sent_at__isnull=True):
        expires = now + datetime.timedelta(days=link_days(territory))
        for pk in pks:
            with transaction.atomic():
                claimed = Referral.objects.filter(pk=pk, status=S.SENT, reminder_sent_at__isnull=True).update(
                    reminder_sent_at=now, link_expires_at=expires, link_version=F("link_version") + 1,
                )
                if not claimed:
                    continue
                referral = Referral.objects.select_related(
                    "person", "action__commune", "to_structure", "from_structure", "sent_by"
                ).get(pk=pk)
                notifications.reminder(referral, base_url=base_url)
            count += 1
    return count


# --- Reads shared by the pages, the contract and the API ----------------------------------------


def weekly_hours_of(person):
    """Hours a week of the actions the person is accepted in or attends (toward the contract's 15 h)."""
    total = Referral.objects.filter(person=person, status__in=(S.ACCEPTED, S.STARTED)).aggregate(
        total=Sum("action__weekly_hours")
    )["total"]
    return Decimal(total) if total is not None else Decimal("0")
