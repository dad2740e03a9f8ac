"""Every write of a person's immersion (PMSMP): the request, the agreement (convention), the
end-of-immersion assessment and the cancellation. Pages (and later the API) call these
functions, so one set of rules holds whatever the door.

States and transitions (:data:`TRANSITIONS`): ``requested`` → ``agreed`` → ``done``, and
``requested``/``agreed`` → ``cancelled``. Who acts:

- the *sender side*: a professional who may open the person's record, or the professional who
  asked for the immersion (``requested_by``, still in the structure that asked), even after
  leaving the person's follow-up group. A mere colleague of that structure is not on it
  (need to know);
- the *company side*: who manages the company (``policies.can_manage_company``: its users, or
  the professional who acts for a company without an account).

Coordinators are never on a side. A request needs the person's agreement (``consent``, recorded
with its date), since the company receives the first name and the objective. Rules of the PMSMP:
an immersion lasts at most one month (renewable once, by a new convention), so an agreement
covers at most :data:`MAX_DAYS` days; an offer's ``places`` is the number of *agreed* immersions
it hosts at once (requests do not consume a place). Every step writes the person's timeline and
sends its e-mails after commit (``notifications_immersions``). Errors are French
``ValidationError`` (dicts keyed by the forms' field names) or ``PermissionDenied``.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from spie.people import policies as people_policies
from spie.people import services as people_services
from spie.people.models import Person

from .. import notifications_immersions as notifications
from .. import policies
from ..models import Immersion, ImmersionOffer, ImmersionStatus

S = ImmersionStatus
SENDER = policies.SENDER
COMPANY = policies.COMPANY
MAX_DAYS = 31
MAX_SKILLS = 10
OPEN_STATES = (S.REQUESTED, S.AGREED)
TRANSITIONS = {
    S.REQUESTED: {S.AGREED, S.CANCELLED},
    S.AGREED: {S.DONE, S.CANCELLED},
    S.DONE: set(),
    S.CANCELLED: set(),
}
OBJECTIVES = dict(Immersion._meta.get_field("objective").choices)

REQUEST_DENIED = (
    "Vous ne pouvez pas demander d'immersion pour cette personne : il faut être un professionnel qui peut "
    "ouvrir son dossier."
)
ACT_DENIED = (
    "Seuls le professionnel qui a demandé l'immersion, les professionnels qui suivent la personne et l'entreprise "
    "peuvent agir."
)
CONSENT_REQUIRED = "Recueillez l'accord de la personne avant de demander l'immersion."
DURATION_ERROR = "Une immersion dure au plus un mois (renouvelable une fois)."


def _clean(text):
    return " ".join(str(text or "").split())


def _text(text):
    return str(text or "").strip()


def _access(membership, person, access=None):
    if access is not None:
        return access
    return people_policies.access_for(membership.user, membership, person)


def sides(membership, immersion, access=None):
    """The sides (``{"sender", "company"}``) ``membership`` may act on for ``immersion``.

    Sender side: (same structure AND (the one who asked OR may open the record)) OR may open the
    record, i.e. the one who asked (from the structure that asked) or who may open the record.
    ``access`` (the viewer's ``Access`` on the person) is computed when not given and needed. A
    professional acting for a company without an account may be on both sides.
    """
    result = set()
    if membership is None or policies.is_coordinator(membership):
        return result
    if policies.is_professional(membership):
        asked = (membership.structure_id == immersion.structure_id
                 and immersion.requested_by_id == membership.user_id)
        if asked or _access(membership, immersion.person, access).can_open_record:
            result.add(SENDER)
    if policies.can_manage_company(membership, immersion.company):
        result.add(COMPANY)
    return result


def _check_dates(start_date, end_date, *, required):
    errors = {}
    if required and not start_date:
        errors["start_date"] = ["Indiquez la date de début de l'immersion."]
    if required and not end_date:
        errors["end_date"] = ["Indiquez la date de fin de l'immersion."]
    if start_date and end_date:
        if end_date < start_date:
            errors["end_date"] = ["La date de fin doit suivre la date de début."]
        elif (end_date - start_date).days + 1 > MAX_DAYS:
            errors["end_date"] = [DURATION_ERROR]
    elif end_date and not start_date and not required:
        errors["start_date"] = ["Indiquez aussi la date de début souhaitée."]
    return errors


def places_taken(offer, start_date, end_date, *, exclude=None):
    """Agreed immersions of ``offer`` whose dates overlap ``[start_date, end_date]``."""
    qs = Immersion.objects.filter(offer=offer, status=S.AGREED, start_date__lte=end_date, end_date__gte=start_date)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.count()


def places_left(offer, *, on=None):
    """Places of ``offer`` not taken by an agreed immersion running on or after ``on`` (today)."""
    on = on or timezone.localdate()
    taken = Immersion.objects.filter(offer=offer, status=S.AGREED, end_date__gte=on).count()
    return max(offer.places - taken, 0)


def _lock(immersion):
    """The immersion's row, locked, with what the checks and e-mails read."""
    return (
        Immersion.objects.select_for_update(of=("self",))
        .select_related("person", "company__account", "company__followed_by", "offer", "rome", "requested_by",
                        "structure")
        .get(pk=immersion.pk)
    )


def _check_transition(immersion, target):
    if target not in TRANSITIONS[immersion.status]:
        raise ValidationError({"__all__": [
            f"Cette immersion est « {immersion.get_status_display().lower()} » : elle ne peut pas être "
            + {S.AGREED: "conventionnée", S.DONE: "évaluée", S.CANCELLED: "annulée"}[target] + "."
        ]})


def _refresh(immersion, locked):
    """Copy the locked row's values onto the caller's instance."""
    for field in Immersion._meta.concrete_fields:
        setattr(immersion, field.attname, getattr(locked, field.attname))
    return immersion


# --- Request ---------------------------------------------------------------------------------------


@transaction.atomic
def request_immersion(person, *, membership, objective, consent, offer=None, company=None, rome=None,
                      start_date=None, end_date=None, message="", access=None, base_url=None):
    """Ask ``company`` (or the company of ``offer``) to host ``person`` for an immersion.

    ``consent`` must be ``True``: the person agreed that their first name and the objective be
    sent to the company (recorded with today's date). With an offer, the company and the job come
    from it; the offer must be open and have a place left. Without one, ``company`` (of the
    person's territory) and ``rome`` are required. Dates are optional wishes (the agreement
    fixes them).
    """
    if not policies.is_professional(membership):
        raise PermissionDenied(REQUEST_DENIED)
    access = _access(membership, person, access)
    if not policies.can_position(membership, access):
        raise PermissionDenied(REQUEST_DENIED)
    today = timezone.localdate()
    errors = {}
    if consent is not True:
        errors["consent"] = [CONSENT_REQUIRED]
    if offer is not None:
        offer = ImmersionOffer.objects.select_for_update(of=("self",)).select_related("company", "rome") \
            .get(pk=offer.pk)
        company, rome = offer.company, offer.rome
        if offer.territory_id != person.territory_id:
            errors["__all__"] = ["Cette offre d'immersion n'est pas du territoire de la personne."]
        elif not offer.is_open:
            errors["__all__"] = [f"L'offre d'immersion « {offer.title} » est fermée."]
        elif places_left(offer) <= 0:
            errors["__all__"] = [
                f"L'offre d'immersion « {offer.title} » n'a plus de place : toutes ses immersions à la fois "
                f"({offer.places}) sont conventionnées."
            ]
    else:
        if company is None:
            errors["company"] = ["Choisissez l'entreprise qui accueillerait la personne."]
        elif company.territory_id != person.territory_id:
            errors["company"] = ["Choisissez une entreprise du territoire de la personne."]
        if rome is None:
            errors["metier"] = ["Choisissez le métier à découvrir."]
    if objective not in OBJECTIVES:
        errors["objective"] = ["Choisissez l'objet de l'immersion dans la liste."]
    errors.update(_check_dates(start_date, end_date, required=False))
    if start_date and start_date < today and "start_date" not in errors:
        errors["start_date"] = ["La date de début souhaitée ne peut pas être passée."]
    message = _text(message)
    if len(message) > 2000:
        errors["message"] = ["Le message ne doit pas dépasser 2 000 caractères."]
    if errors:
        raise ValidationError(errors)

    # Serialise two requests for the same person (double click).
    Person.objects.select_for_update().filter(pk=person.pk).first()
    open_one = Immersion.objects.filter(person=person, company=company, rome=rome, status__in=OPEN_STATES).first()
    if open_one is not None:
        raise ValidationError({"__all__": [
            f"Une immersion de cette personne chez {company.name} pour ce métier est déjà en cours "
            f"(« {open_one.get_status_display().lower()} ») : suivez-la plutôt que d'en demander une autre."
        ]})
    immersion = Immersion.objects.create(
        person=person, company=company, offer=offer, rome=rome, objective=objective, status=S.REQUESTED,
        start_date=start_date, end_date=end_date, requested_by=membership.user, structure=membership.structure,
        message=message, consent=True, consent_on=today,
    )
    immersion.person, immersion.company, immersion.rome = person, company, rome
    immersion.requested_by, immersion.structure = membership.user, membership.structure
    people_services.add_event(
        person, "immersion_requested", f"Immersion demandée chez {company.name} ({rome.label})",
        actor=membership.user, structure=membership.structure,
        detail=f"Objet : {OBJECTIVES[objective]}" + (f"\n{message}" if message else ""),
    )
    notifications.immersion_requested(immersion, message=message, base_url=base_url)
    return immersion


# --- Agreement ---------------------------------------------------------------------------------------


@transaction.atomic
def agree(immersion, *, membership, start_date, end_date, tutor_name, tutor_email="", access=None, base_url=None):
    """Record the agreement (convention): dates (at most one month) and tutor; requested → agreed."""
    locked = _lock(immersion)
    if not sides(membership, locked, access):
        raise PermissionDenied(ACT_DENIED)
    _check_transition(locked, S.AGREED)
    errors = _check_dates(start_date, end_date, required=True)
    today = timezone.localdate()
    if start_date and start_date < today and "start_date" not in errors:
        errors["start_date"] = ["La convention se signe avant l'immersion : la date de début ne peut pas être passée."]
    tutor_name = _clean(tutor_name)
    tutor_email = _clean(tutor_email)
    if not tutor_name:
        errors["tutor_name"] = ["Indiquez le nom du tuteur qui accompagnera la personne dans l'entreprise."]
    elif len(tutor_name) > 150:
        errors["tutor_name"] = ["Le nom du tuteur ne doit pas dépasser 150 caractères."]
    if tutor_email:
        try:
            validate_email(tutor_email)
        except ValidationError:
            errors["tutor_email"] = ["Saisissez une adresse électronique valide pour le tuteur."]
    if not errors and locked.offer_id is not None:
        offer = ImmersionOffer.objects.select_for_update(of=("self",)).get(pk=locked.offer_id)
        if places_taken(offer, start_date, end_date, exclude=locked) >= offer.places:
            errors["__all__"] = [
                f"Toutes les places de l'offre « {offer.title} » ({offer.places} à la fois) sont prises sur ces "
                "dates : choisissez d'autres dates."
            ]
    if errors:
        raise ValidationError(errors)
    locked.status = S.AGREED
    locked.start_date, locked.end_date = start_date, end_date
    locked.tutor_name, locked.tutor_email = tutor_name, tutor_email
    locked.save(update_fields=["status", "start_date", "end_date", "tutor_name", "tutor_email", "updated_at"])
    people_services.add_event(
        locked.person, "immersion_agreed",
        f"Convention d'immersion chez {locked.company.name} du {start_date:%d/%m/%Y} au {end_date:%d/%m/%Y}",
        actor=membership.user, structure=membership.structure, detail=f"Tuteur : {tutor_name}",
    )
    notifications.immersion_agreed(locked, actor=membership.user, base_url=base_url)
    return _refresh(immersion, locked)


# --- Assessment ------------------------------------------------------------------------------------


def clean_skills(skills):
    """Stripped, deduplicated (case-insensitive) skills, in their order."""
    if isinstance(skills, str):
        skills = skills.splitlines()
    seen, result = set(), []
    for skill in skills or []:
        skill = _clean(skill)
        if skill and skill.lower() not in seen:
            seen.add(skill.lower())
            result.append(skill)
    return result


@transaction.atomic
def assess(immersion, *, membership, skills_observed, would_hire, comment="", access=None, base_url=None):
    """The end-of-immersion assessment (skills observed, would hire); agreed → done."""
    locked = _lock(immersion)
    if not sides(membership, locked, access):
        raise PermissionDenied(ACT_DENIED)
    _check_transition(locked, S.DONE)
    today = timezone.localdate()
    if locked.start_date and locked.start_date > today:
        raise ValidationError({"__all__": [
            f"Le bilan se fait une fois l'immersion commencée, à partir du {locked.start_date:%d/%m/%Y}."
        ]})
    errors = {}
    skills = clean_skills(skills_observed)
    if not skills:
        errors["skills_observed"] = ["Indiquez au moins une compétence observée pendant l'immersion."]
    elif len(skills) > MAX_SKILLS:
        errors["skills_observed"] = [f"Indiquez au plus {MAX_SKILLS} compétences observées (une par ligne)."]
    elif any(len(s) > 150 for s in skills):
        errors["skills_observed"] = ["Chaque compétence tient en 150 caractères au plus."]
    if would_hire not in (True, False):
        errors["would_hire"] = ["Indiquez si l'entreprise recruterait la personne (oui ou non)."]
    comment = _text(comment)
    if len(comment) > 4000:
        errors["comment"] = ["Le commentaire ne doit pas dépasser 4 000 caractères."]
    if errors:
        raise ValidationError(errors)
    locked.status = S.DONE
    locked.skills_observed, locked.would_hire = skills, would_hire
    locked.assessment_comment, locked.assessed_on = comment, today
    locked.save(update_fields=["status", "skills_observed", "would_hire", "assessment_comment", "assessed_on",
                               "updated_at"])
    people_services.add_event(
        locked.person, "immersion_assessed",
        f"Bilan de l'immersion chez {locked.company.name} : recrutement envisagé {'oui' if would_hire else 'non'}",
        actor=membership.user, structure=membership.structure,
        detail="Compétences observées : " + ", ".join(skills) + (f"\n{comment}" if comment else ""),
    )
    notifications.immersion_assessed(locked, actor=membership.user, base_url=base_url)
    return _refresh(immersion, locked)


# --- Cancellation --------------------------------------------------------------------------------------


@transaction.atomic
def cancel(immersion, *, membership, reason, access=None, base_url=None):
    """Cancel a requested or agreed immersion (either side), with a reason.

    The reason is kept for the sender side (the timeline, the page). Cancelled by the sender
    side, the company only reads a neutral line: the professional's free text may tell the
    person's situation.
    """
    locked = _lock(immersion)
    acting = sides(membership, locked, access)
    if not acting:
        raise PermissionDenied(ACT_DENIED)
    _check_transition(locked, S.CANCELLED)
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": ["Indiquez le motif de l'annulation."]})
    if len(reason) > 500:
        raise ValidationError({"reason": ["Le motif ne doit pas dépasser 500 caractères."]})
    locked.status = S.CANCELLED
    locked.cancel_reason = reason
    locked.save(update_fields=["status", "cancel_reason", "updated_at"])
    people_services.add_event(
        locked.person, "immersion_cancelled", f"Immersion chez {locked.company.name} annulée",
        actor=membership.user, structure=membership.structure, detail=f"Motif : {reason}",
    )
    notifications.immersion_cancelled(locked, actor=membership.user, reason=reason, by_sender=SENDER in acting,
                                      base_url=base_url)
    return _refresh(immersion, locked)


def duration_days(immersion):
    if immersion.start_date and immersion.end_date:
        return (immersion.end_date - immersion.start_date).days + 1
    return None

