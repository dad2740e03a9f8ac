"""Every write of the positioning workflow ("mises en relation", issue 6 §3). Pages, the API and
commands call these functions, so that one set of rules holds whatever the door.

- :func:`propose`: a professional who may open the person's record puts the person forward for an
  opening, with the person's agreement (also the answer to a company's request);
- :func:`request_positioning`: a company asks to meet a person seen as an anonymous profile;
  :func:`decline_request`: the sending side says the person does not wish it (no reason given to
  the company);
- :func:`answer`: the company answers (interested, interview, hired, refused) in its space or
  through the signed link; "hired" records the job and its 1/3/6-month checkpoints, and fills the
  opening when its last position is taken;
- :func:`withdraw`, :func:`renew_link`, :func:`request_renewal` (at most one e-mail a day);
- :func:`close_live_positionings`: an opening filled or closed ends the positionings still open
  on it (refused "post already filled", pending requests declined).

Each step locks the positioning row, checks :data:`TRANSITIONS`, writes a
:class:`~spie.employers.models.PositioningTransition`, the person's timeline, and the e-mails
(after commit). Errors are French ``ValidationError`` (keyed by form field) or ``PermissionDenied``.
"""

import datetime
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from spie.followup.models import Employment
from spie.followup.services import employment as employment_services
from spie.people import policies as people_policies
from spie.people.services import add_event

from .. import links, notifications, policies
from ..models import (
    ContractType,
    JobOpening,
    JobSearchProfile,
    OpeningStatus,
    Positioning,
    PositioningRefusal,
    PositioningStatus,
    PositioningTransition,
    Proposal,
)

S = PositioningStatus

TRANSITIONS = {
    S.REQUESTED: {S.PROPOSED, S.DECLINED},
    S.PROPOSED: {S.INTERESTED, S.INTERVIEW, S.HIRED, S.REFUSED, S.WITHDRAWN},
    S.INTERESTED: {S.INTERVIEW, S.HIRED, S.REFUSED, S.WITHDRAWN},
    S.INTERVIEW: {S.HIRED, S.REFUSED, S.WITHDRAWN},
    S.HIRED: set(),
    S.REFUSED: set(),
    S.WITHDRAWN: set(),
    S.DECLINED: set(),
}
FINAL_STATES = frozenset({S.HIRED, S.REFUSED, S.WITHDRAWN, S.DECLINED})
# A pair (person, opening) may have one positioning that is not closed (the model's constraint).
CLOSED_STATES = frozenset({S.REFUSED, S.WITHDRAWN, S.DECLINED})
COMPANY_ANSWERS = (S.INTERESTED, S.INTERVIEW, S.HIRED, S.REFUSED)
# Statuses where the company has something to answer (its link works).
AWAITING_COMPANY = frozenset({S.PROPOSED, S.INTERESTED, S.INTERVIEW})
# Positionings still open on an opening (ended when the opening is filled or closed).
LIVE_STATES = frozenset({S.REQUESTED, *AWAITING_COMPANY})
# Answers that need the opening to be open (a refusal is always possible).
OPEN_ANSWERS = frozenset({S.INTERESTED, S.INTERVIEW, S.HIRED})
RENEWAL_THROTTLE = datetime.timedelta(hours=24)

CONTRACTS = {
    ContractType.CDI: Employment.ContractType.CDI,
    ContractType.CDD: Employment.ContractType.CDD,
    ContractType.INTERIM: Employment.ContractType.INTERIM,
    ContractType.APPRENTICESHIP: Employment.ContractType.APPRENTICESHIP,
    ContractType.INSERTION: Employment.ContractType.IAE,
    ContractType.SEASONAL: Employment.ContractType.CDD,
}

MAX_HIRE_DAYS_AHEAD = 92
# An interview is today at the earliest (the company may record it after the fact the same day).
MAX_INTERVIEW_MONTHS = 6
MAX_MESSAGE = 2000
MAX_TEXT = 2000

POSITION_DENIED = (
    "Vous ne pouvez pas mettre cette personne en relation : il faut pouvoir ouvrir son dossier "
    "(faire partie de son groupe de suivi)."
)
CONSENT_REQUIRED = "Recueillez l'accord de la personne avant de la mettre en relation."
ALL_FILLED = "Tous les postes de cette offre sont déjà pourvus."
ALREADY_DECLINED = "Cette personne a déjà décliné une mise en relation pour cette offre."
ANSWER_DENIED = "Seule l'entreprise (ou qui agit pour elle) peut répondre à cette mise en relation."
WITHDRAW_DENIED = "Seule la structure qui accompagne la personne peut retirer cette candidature."

EVENT_TITLES = {
    S.PROPOSED: "Mise en relation avec l'offre « {title} » ({company})",
    S.REQUESTED: "« {company} » demande une mise en relation pour l'offre « {title} »",
    S.DECLINED: "Demande de mise en relation de « {company} » déclinée (offre « {title} »)",
    S.INTERESTED: "« {company} » est intéressée (offre « {title} »)",
    S.INTERVIEW: "Entretien d'embauche chez « {company} » (offre « {title} »)",
    S.HIRED: "Recrutement par « {company} » (offre « {title} »)",
    S.REFUSED: "Candidature non retenue par « {company} » (offre « {title} »)",
    S.WITHDRAWN: "Mise en relation retirée (offre « {title} », {company})",
}


def allowed(from_status, to_status):
    return to_status in TRANSITIONS.get(from_status, set())


def _text(value, limit=MAX_TEXT):
    return str(value or "").strip()[:limit]


def _checked_text(value, field, *, limit=MAX_TEXT, label="Le motif"):
    """``value`` stripped, or a French ``ValidationError`` keyed ``field`` when it is too long
    (never cut silently: what was typed is kept by the form for a new try)."""
    value = str(value or "").strip()
    if len(value) > limit:
        raise ValidationError({field: [f"{label} ne doit pas dépasser {limit} caractères."]})
    return value


def _title(status, opening):
    return EVENT_TITLES[status].format(title=opening.title, company=opening.company.name)


def _lock(positioning):
    return (
        Positioning.objects.select_for_update(of=("self",))
        .select_related("opening__company", "person", "structure", "proposed_by", "requested_by")
        .get(pk=positioning.pk)
    )


def _log(positioning, from_status, to_status, *, by=None, via_link=False, reason="", at=None):
    return PositioningTransition.objects.create(
        positioning=positioning, from_status=from_status or "", to_status=to_status, by=by, via_link=via_link,
        reason=_text(reason, 500), at=at or timezone.now(),
    )


def _refresh(target, source):
    """Copy the stored fields of ``source`` onto the caller's ``target`` object."""
    if target is source:
        return target
    for field in Positioning._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    return target


def _status_label(status):
    return S(status).label.lower()


def _check_opening(opening, person):
    if opening.territory_id != person.territory_id:
        raise ValidationError({"__all__": ["Cette offre n'appartient pas au territoire de la personne."]})
    if opening.status != OpeningStatus.OPEN:
        raise ValidationError({"__all__": [
            f"Cette offre n'est plus ouverte (« {opening.get_status_display().lower()} ») : "
            "elle ne reçoit plus de candidatures."
        ]})


def live_positioning(person, opening):
    """The positioning of the pair that is not closed (requested, proposed… or hired), or None."""
    return (
        Positioning.objects.filter(person=person, opening=opening).exclude(status__in=CLOSED_STATES)
        .order_by("-created_at", "-id").first()
    )


def _already(existing):
    if existing.status == S.HIRED:
        return "Cette personne a déjà été recrutée sur cette offre."
    when = timezone.localtime(existing.proposed_at or existing.created_at)
    return (
        f"Une mise en relation de cette personne avec cette offre est déjà en cours (statut « "
        f"{_status_label(existing.status)} », depuis le {when:%d/%m/%Y}) : suivez-la plutôt que d'en créer une autre."
    )


# --- Proposing ----------------------------------------------------------------------------------


@transaction.atomic
def propose(person, opening, *, by, membership, consent, message="", positioning=None, base_url=None):
    """Put ``person`` forward for ``opening`` on behalf of ``membership`` (the person agreed).

    ``positioning``: a company's request (status "requested") this proposal answers; without it,
    a pending request of the same pair is answered too. Returns the positioning (status
    "proposed"); the company is e-mailed its signed answer link after commit.
    """
    access = people_policies.access_for(by, membership, person)
    if not policies.can_position(membership, access):
        raise PermissionDenied(POSITION_DENIED)
    errors = {}
    if consent is not True:
        errors["consent"] = [CONSENT_REQUIRED]
    message = _text(message, MAX_MESSAGE + 1)
    if len(message) > MAX_MESSAGE:
        errors["message"] = [f"Le message ne doit pas dépasser {MAX_MESSAGE} caractères."]
    if errors:
        raise ValidationError(errors)
    # Serialise the proposals on one opening (double click, API retry, the last position).
    opening = JobOpening.objects.select_for_update(of=("self",)).select_related("company").get(pk=opening.pk)
    _check_opening(opening, person)
    existing = live_positioning(person, opening)
    if positioning is None and existing is not None and existing.status == S.REQUESTED:
        positioning = existing
    if positioning is not None:
        locked = _lock(positioning)
        if locked.person_id != person.pk or locked.opening_id != opening.pk:
            raise ValidationError({"__all__": ["Cette demande ne concerne pas cette personne ou cette offre."]})
        if locked.status != S.REQUESTED:
            raise ValidationError({"__all__": [
                f"Cette demande a déjà reçu une réponse (« {_status_label(locked.status)} »)."
            ]})
    elif existing is not None:
        raise ValidationError({"__all__": [_already(existing)]})
    else:
        locked = Positioning(person=person, opening=opening, status="")

    now, today = timezone.now(), timezone.localdate()
    proposal = Proposal.objects.filter(person=person, opening=opening).order_by("-computed_at", "-id").first()
    from_status = locked.status
    locked.status = S.PROPOSED
    locked.structure = membership.structure
    locked.proposed_by = by
    locked.consent, locked.consent_on = True, today
    locked.message = message
    locked.proposed_at = now
    locked.proposal_score = proposal.score if proposal is not None else None
    locked.link_expires_at = links.new_expiry(now)
    if locked.pk is None:
        locked.save()
    else:
        locked.save(update_fields=["status", "structure", "proposed_by", "consent", "consent_on", "message",
                                   "proposed_at", "proposal_score", "link_expires_at", "updated_at"])
    _log(locked, from_status, S.PROPOSED, by=by, at=now)
    add_event(person, "positioning_proposed", _title(S.PROPOSED, opening), actor=by, structure=membership.structure)
    notifications.positioning_proposed(locked, base_url=base_url)
    return _refresh(positioning, locked) if positioning is not None else locked


@transaction.atomic
def request_positioning(opening, person, *, by, base_url=None):
    """A company (or the professional acting for a company without an account) asks to meet a
    person seen as an anonymous profile. The person's référent(s) are e-mailed; they propose the
    person (with the agreement) or decline."""
    profile = JobSearchProfile.objects.filter(person=person).first()
    if profile is None or not profile.visible_to_employers or not profile.is_active:
        raise ValidationError({"__all__": ["Ce profil n'est plus visible des entreprises."]})
    opening = JobOpening.objects.select_for_update(of=("self",)).select_related("company").get(pk=opening.pk)
    _check_opening(opening, person)
    existing = live_positioning(person, opening)
    if existing is not None:
        raise ValidationError({"__all__": [
            "Une mise en relation avec ce profil est déjà en cours pour cette offre."
        ]})
    if Positioning.objects.filter(person=person, opening=opening, status=S.DECLINED).exists():
        raise ValidationError({"__all__": [ALREADY_DECLINED]})
    now = timezone.now()
    positioning = Positioning.objects.create(
        person=person, opening=opening, status=S.REQUESTED, requested_by=by, structure=None, created_at=now,
    )
    _log(positioning, "", S.REQUESTED, by=by, at=now)
    add_event(person, "positioning_requested", _title(S.REQUESTED, opening), structure=opening.company.account)
    notifications.positioning_requested(positioning, base_url=base_url)
    return positioning


@transaction.atomic
def decline_request(positioning, *, by, membership, reason="", base_url=None):
    """The sending side answers a company's request: the person does not wish it. The company
    only learns that the person did not follow up; ``reason`` stays on the platform."""
    locked = _lock(positioning)
    access = people_policies.access_for(by, membership, locked.person)
    if not policies.can_position(membership, access):
        raise PermissionDenied(POSITION_DENIED)
    if locked.status != S.REQUESTED:
        raise ValidationError({"__all__": [
            f"Seule une demande en attente peut être déclinée (statut « {_status_label(locked.status)} »)."
        ]})
    now = timezone.now()
    reason = _checked_text(reason, "reason")
    locked.status = S.DECLINED
    locked.structure = membership.structure
    locked.status_text = reason
    locked.answered_at = now
    locked.link_version += 1
    locked.save(update_fields=["status", "structure", "status_text", "answered_at", "link_version", "updated_at"])
    _log(locked, S.REQUESTED, S.DECLINED, by=by, reason=reason, at=now)
    add_event(locked.person, "positioning_declined", _title(S.DECLINED, locked.opening), actor=by,
              structure=membership.structure)
    notifications.request_declined(locked, base_url=base_url)
    return _refresh(positioning, locked)


# --- The company's answers ----------------------------------------------------------------------


def _aware(value):
    if isinstance(value, datetime.datetime) and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _clean_answer(locked, status, *, interview_at, hired_on, refusal_reason, reason, today):
    errors = {}
    if len(reason) > MAX_TEXT:
        errors["reason"] = [f"La précision ne doit pas dépasser {MAX_TEXT} caractères."]
    if status == S.INTERVIEW:
        interview_at = _aware(interview_at)
        if not isinstance(interview_at, datetime.datetime):
            errors["interview_at"] = ["Indiquez la date et l'heure de l'entretien."]
        elif timezone.localtime(interview_at).date() < today:
            errors["interview_at"] = ["La date de l'entretien ne peut pas être passée."]
        elif timezone.localtime(interview_at).date() > employment_services.add_months(today, MAX_INTERVIEW_MONTHS):
            errors["interview_at"] = [
                f"La date de l'entretien ne peut pas être à plus de {MAX_INTERVIEW_MONTHS} mois."
            ]
    if status == S.REFUSED:
        if refusal_reason not in PositioningRefusal.values:
            errors["refusal_reason"] = ["Choisissez le motif du refus dans la liste."]
        elif refusal_reason == PositioningRefusal.OTHER and not reason:
            errors["reason"] = ["Précisez le motif du refus."]
    if status == S.HIRED:
        hired_on = hired_on or today
        if isinstance(hired_on, datetime.datetime):
            hired_on = hired_on.date()
        proposed_on = timezone.localtime(locked.proposed_at).date() if locked.proposed_at else None
        if not isinstance(hired_on, datetime.date):
            errors["hired_on"] = ["Indiquez la date d'embauche."]
        elif hired_on > today + datetime.timedelta(days=MAX_HIRE_DAYS_AHEAD):
            errors["hired_on"] = ["La date d'embauche ne peut pas être à plus de 3 mois (92 jours)."]
        elif proposed_on and hired_on < proposed_on:
            errors["hired_on"] = [
                f"La date d'embauche ne peut pas précéder la mise en relation ({proposed_on:%d/%m/%Y})."
            ]
    if errors:
        raise ValidationError(errors)
    return interview_at, hired_on


def _record_job(positioning, hired_on):
    """The Employment and its 1/3/6-month checkpoints, through the follow-up's own service, on
    behalf of the référent who proposed the person (the company never opens the record)."""
    opening = positioning.opening
    data = {
        "employer_name": opening.company.name,
        "employer_siret": opening.company.siret,
        "employer_contact": opening.company.contact_name,
        "job_title": opening.title,
        "contract_type": CONTRACTS.get(opening.contract_type, Employment.ContractType.OTHER),
        "weekly_hours": opening.weekly_hours,
        "started_on": hired_on,
    }
    if opening.duration_months and opening.contract_type != ContractType.CDI:
        data["planned_end_on"] = employment_services.add_months(hired_on, opening.duration_months)
    acting = SimpleNamespace(user=positioning.proposed_by, structure=positioning.structure)
    access = people_policies.Access("positioning", frozenset({people_policies.RECORD}), can_edit=True)
    try:
        return employment_services.record_job(positioning.person, acting, access=access, data=data)
    except ValidationError as exc:
        messages = exc.messages
        raise ValidationError({"hired_on": messages}) from exc


def _hired_count(opening):
    return Positioning.objects.filter(opening=opening, status=S.HIRED).count()


def _fill_if_complete(opening, today, *, by=None, base_url=None):
    """Fill the (locked) opening when its last position is taken, and end the positionings
    still open on it."""
    if opening.status == OpeningStatus.OPEN and _hired_count(opening) >= opening.positions:
        opening.status = OpeningStatus.FILLED
        opening.filled_on = max(today, opening.opened_on)
        opening.closed_on = None
        opening.save(update_fields=["status", "filled_on", "closed_on", "updated_at"])
        close_live_positionings(opening, by=by, base_url=base_url)
    return opening


def _check_answer_opening(opening, status):
    """A positive answer needs an open opening; "hired" needs a position left."""
    if status not in OPEN_ANSWERS:
        return
    if opening.status == OpeningStatus.FILLED or (status == S.HIRED and _hired_count(opening) >= opening.positions):
        raise ValidationError({"status": [ALL_FILLED]})
    if opening.status != OpeningStatus.OPEN:
        raise ValidationError({"status": [
            f"Cette offre est « {opening.get_status_display().lower()} » : seul un refus est encore possible."
        ]})


@transaction.atomic
def answer(positioning, status, *, by=None, via_link=False, reason="", interview_at=None, hired_on=None,
           refusal_reason="", base_url=None, membership=None):
    """The company answers ``positioning``: ``status`` among interested, interview (needs
    ``interview_at``, from today to 6 months ahead), hired (``hired_on``, today by default, not
    before the proposal, at most 92 days ahead) and refused (``refusal_reason``, a
    :class:`PositioningRefusal`; "other" needs ``reason``). ``reason``: the company's comment.
    With ``membership``, checks that it manages the opening's company; without it, the caller has
    checked that ``by`` acts for the company (``by`` is None through the link). Interested,
    interview and hired need an open opening, and hired a position left."""
    if status not in COMPANY_ANSWERS:
        raise ValidationError({"status": ["Choisissez une réponse dans la liste."]})
    # The opening first (the order of propose()): two "hired" on its last position are serialised.
    opening = (JobOpening.objects.select_for_update(of=("self",)).select_related("company")
               .get(pk=positioning.opening_id))
    if membership is not None and not policies.can_manage_company(membership, opening.company):
        raise PermissionDenied(ANSWER_DENIED)
    locked = _lock(positioning)
    locked.opening = opening
    if not allowed(locked.status, status):
        raise ValidationError({"status": [
            f"Cette réponse n'est pas possible : la mise en relation est « {_status_label(locked.status)} »."
        ]})
    _check_answer_opening(opening, status)
    now, today = timezone.now(), timezone.localdate()
    reason = str(reason or "").strip()
    interview_at, hired_on = _clean_answer(locked, status, interview_at=interview_at, hired_on=hired_on,
                                           refusal_reason=refusal_reason, reason=reason, today=today)
    from_status = locked.status
    fields = ["status", "answered_at", "status_text", "updated_at"]
    locked.status, locked.answered_at = status, now
    if reason:
        locked.status_text = reason
    log_reason = reason
    if status == S.INTERVIEW:
        locked.interview_at = interview_at
        fields.append("interview_at")
        log_reason = f"Entretien le {timezone.localtime(interview_at):%d/%m/%Y à %H:%M}" + (
            f" — {reason}" if reason else "")
    elif status == S.REFUSED:
        locked.refusal_reason = refusal_reason
        fields.append("refusal_reason")
        log_reason = PositioningRefusal(refusal_reason).label + (f" — {reason}" if reason else "")
    elif status == S.HIRED:
        locked.hired_on = hired_on
        locked.employment = _record_job(locked, hired_on)
        fields += ["hired_on", "employment"]
        log_reason = f"Embauche le {hired_on:%d/%m/%Y}" + (f" — {reason}" if reason else "")
    if status in FINAL_STATES:
        locked.link_version += 1
        fields.append("link_version")
    locked.save(update_fields=fields)
    _log(locked, from_status, status, by=by, via_link=via_link, reason=log_reason, at=now)
    detail = PositioningRefusal(refusal_reason).label if status == S.REFUSED else ""
    add_event(locked.person, f"positioning_{status}", _title(status, locked.opening), actor=by,
              structure=locked.opening.company.account, detail=detail)
    notifications.answer_given(locked, status, base_url=base_url)
    if status == S.HIRED:
        _fill_if_complete(opening, today, by=by, base_url=base_url)
    return _refresh(positioning, locked)


CLOSED_OPENING_TITLES = {
    OpeningStatus.FILLED: "L'offre « {title} » ({company}) est pourvue : {what}",
    OpeningStatus.CLOSED: "L'offre « {title} » ({company}) est fermée : {what}",
}


@transaction.atomic
def close_live_positionings(opening, *, by=None, base_url=None):
    """End the positionings still open on ``opening`` once it is filled or closed (call it after
    the new status is saved; nothing happens while the opening is open): proposed, interested and
    interview become refused ("post already filled"), the sender is e-mailed; pending requests
    become declined (nobody was proposed). Each gets its transition and a timeline event; older
    answer links stop working. Returns the positionings ended."""
    opening = JobOpening.objects.select_for_update(of=("self",)).select_related("company").get(pk=opening.pk)
    if opening.status == OpeningStatus.OPEN:
        return []
    live = list(
        Positioning.objects.select_for_update(of=("self",))
        .select_related("person", "structure", "proposed_by")
        .filter(opening=opening, status__in=LIVE_STATES).order_by("created_at", "id")
    )
    now = timezone.now()
    state = opening.get_status_display().lower()
    for locked in live:
        locked.opening = opening
        from_status = locked.status
        requested = from_status == S.REQUESTED
        to = S.DECLINED if requested else S.REFUSED
        locked.status, locked.answered_at = to, now
        locked.link_version += 1
        fields = ["status", "answered_at", "link_version", "updated_at"]
        if not requested:
            locked.refusal_reason = PositioningRefusal.FILLED
            fields.append("refusal_reason")
        locked.save(update_fields=fields)
        _log(locked, from_status, to, by=by, reason=f"Offre {state}", at=now)
        what = "demande de mise en relation close" if requested else "candidature close"
        title = CLOSED_OPENING_TITLES.get(opening.status, CLOSED_OPENING_TITLES[OpeningStatus.CLOSED])
        add_event(locked.person, f"positioning_{to}",
                  title.format(title=opening.title, company=opening.company.name, what=what),
                  actor=by, structure=opening.company.account,
                  detail="" if requested else PositioningRefusal.FILLED.label)
        if not requested:
            notifications.opening_ended(locked, base_url=base_url)
    return live


# --- The sending side ---------------------------------------------------------------------------


@transaction.atomic
def withdraw(positioning, *, by, reason="", base_url=None, membership=None):
    """The sending side withdraws the candidate (the person found another job, changed her
    mind…). With ``membership``, checks that it is on the sending side; without it, the caller
    has checked. The company is told, without the reason."""
    locked = _lock(positioning)
    if membership is not None:
        access = (people_policies.access_for(by, membership, locked.person)
                  if policies.is_professional(membership) else None)
        if policies.positioning_side(membership, locked, access) != policies.SENDER:
            raise PermissionDenied(WITHDRAW_DENIED)
    if not allowed(locked.status, S.WITHDRAWN):
        raise ValidationError({"__all__": [
            f"Cette mise en relation ne peut plus être retirée (« {_status_label(locked.status)} »)."
        ]})
    now = timezone.now()
    reason = _checked_text(reason, "reason")
    from_status = locked.status
    locked.status = S.WITHDRAWN
    locked.status_text = reason or locked.status_text
    locked.link_version += 1
    locked.save(update_fields=["status", "status_text", "link_version", "updated_at"])
    _log(locked, from_status, S.WITHDRAWN, by=by, reason=reason, at=now)
    add_event(locked.person, "positioning_withdrawn", _title(S.WITHDRAWN, locked.opening), actor=by,
              structure=locked.structure)
    notifications.positioning_withdrawn(locked, base_url=base_url)
    return _refresh(positioning, locked)


@transaction.atomic
def renew_link(positioning, *, by=None, base_url=None):
    """A new answer link for the company (new expiry, new version: older links stop working),
    e-mailed to the company; while the company still has something to answer."""
    locked = _lock(positioning)
    if locked.status not in AWAITING_COMPANY:
        raise ValidationError(
            f"Le lien ne peut plus être renouvelé : la mise en relation est « {_status_label(locked.status)} »."
        )
    locked.link_expires_at = links.new_expiry()
    locked.link_version += 1
    locked.save(update_fields=["link_expires_at", "link_version", "updated_at"])
    notifications.link_renewed(locked, base_url=base_url)
    return _refresh(positioning, locked)


@transaction.atomic
def request_renewal(positioning, *, base_url=None):
    """The holder of an expired link asks for a new one: the sending side is e-mailed, at most
    once in 24 hours (anyone holding an old link could otherwise flood the référent). Returns
    True when the e-mail goes, False when the request is ignored (the caller answers the same)."""
    locked = _lock(positioning)
    if locked.status not in AWAITING_COMPANY:
        raise ValidationError("Cette mise en relation est close : il n'y a plus de réponse à donner.")
    now = timezone.now()
    if locked.renewal_requested_at is not None and now - locked.renewal_requested_at < RENEWAL_THROTTLE:
        _refresh(positioning, locked)
        return False
    locked.renewal_requested_at = now
    locked.save(update_fields=["renewal_requested_at", "updated_at"])
    notifications.renewal_requested(locked, base_url=base_url)
    _refresh(positioning, locked)
    return True


def log_link_read(positioning, request, token=""):
    """The access log of a read through the signed link (no user; the company's space if any).
    The token is kept out of the logged path."""
    from spie.core.audit import client_ip
    from spie.core.models import AccessLog

    path = request.path.replace(token, "…") if token else request.path
    return AccessLog.objects.create(
        user=None, structure_id=positioning.opening.company.account_id, person=positioning.person,
        section=AccessLog.Section.JOBS, channel=AccessLog.Channel.LINK, path=path[:300],
        ip_address=client_ip(request), reason="mise en relation (lien de réponse)",
    )
