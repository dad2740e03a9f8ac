"""Writes of the company side: companies and their space, openings (with their status dates),
immersion offers, engagements, registrations and attendance.

Every function checks its policy (``spie.employers.policies``), works inside a transaction and
raises ``django.core.exceptions.ValidationError`` with French messages (or ``PermissionDenied``).
``data`` dicts come from the forms' ``*_data()`` methods: model field names to values.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from spie.network import services as network_services
from spie.network.models import Membership, Structure
from spie.people.models import TimelineEvent

from .. import policies
from ..models import (
    Company,
    ContractType,
    Engagement,
    EngagementRegistration,
    ImmersionOffer,
    JobOpening,
    OpeningStatus,
)

CREATE_DENIED = "Seuls les professionnels du territoire enregistrent une entreprise."
MANAGE_DENIED = "Vous ne gérez pas cette entreprise : seuls ses utilisateurs ou la structure qui la suit le peuvent."
ACCOUNT_DENIED = "Seule la structure qui suit l'entreprise peut lui ouvrir un espace."
ENGAGEMENT_DENIED = "Seul l'organisateur de cet événement peut le modifier ou noter les présences."
REGISTER_DENIED = "Vous ne pouvez inscrire que les personnes dont vous pouvez ouvrir le dossier."

COMPANY_FIELDS = (
    "siret", "name", "naf", "size", "commune", "address", "contact_name", "contact_email", "contact_phone",
    "description", "is_inclusive",
)
OPENING_FIELDS = (
    "title", "description", "rome", "appellation", "contract_type", "duration_months", "weekly_hours", "schedule",
    "commune", "remote", "positions", "requires_licence", "qualification", "min_experience_months", "languages",
    "health_demands", "offers_training", "offers_mentoring", "adapted_position", "opened_on",
)
IMMERSION_OFFER_FIELDS = (
    "title", "description", "rome", "appellation", "commune", "schedule", "weekly_hours", "places", "is_open",
)
ENGAGEMENT_FIELDS = ("kind", "title", "description", "date", "commune", "remote", "capacity", "partner")

# Status targets of an opening and the verb of the confirmation message.
OPENING_TARGETS = {
    OpeningStatus.FILLED: "pourvue",
    OpeningStatus.CLOSED: "fermée",
    OpeningStatus.OPEN: "rouverte",
}


def _apply(instance, data, fields):
    """Set ``fields`` of ``instance`` from ``data``; the names of the fields that changed."""
    changed = []
    for name in fields:
        if name not in data:
            continue
        value = data[name]
        field = instance._meta.get_field(name)
        if field.is_relation:  # compare ids: an unset required relation cannot be read
            current, new = getattr(instance, field.attname), (value.pk if value is not None else None)
        else:
            current, new = getattr(instance, name), value
        if current != new:
            setattr(instance, name, value)
            changed.append(name)
    return changed


# --- Companies -------------------------------------------------------------------------------------


def _check_siret_unique(company):
    duplicate = (
        Company.objects.filter(territory_id=company.territory_id, siret=company.siret).exclude(pk=company.pk).first()
    )
    if duplicate is not None:
        raise ValidationError(
            {"siret": f"Une entreprise de ce SIRET existe déjà dans le territoire : « {duplicate} »."})


def _save_company(company, data):
    if "siret" in data:
        data = {**data, "siret": (data["siret"] or "").replace(" ", "")}
    creating = company.pk is None
    changed = _apply(company, data, COMPANY_FIELDS)
    _check_siret_unique(company)
    company.full_clean(exclude=["partners", "account", "followed_by", "created_by", "territory"],
                       validate_unique=False, validate_constraints=False)
    company.save()
    if "partners" in data:
        before = set() if creating else set(company.partners.values_list("pk", flat=True))
        wanted = {p.pk for p in data["partners"]}
        if before != wanted:
            company.partners.set(data["partners"])
            changed.append("partners")
    return changed


@transaction.atomic
def create_company(*, membership, data):
    """A company of the membership's territory, followed by the membership's structure."""
    if not policies.can_create_company(membership):
        raise PermissionDenied(CREATE_DENIED)
    company = Company(
        territory_id=membership.structure.territory_id, created_by=membership.user, followed_by=membership.structure
    )
    _save_company(company, data)
    return company


@transaction.atomic
def update_company(company, *, membership, data):
    """Save the company's identity; returns the names of the fields that changed."""
    if not policies.can_manage_company(membership, company):
        raise PermissionDenied(MANAGE_DENIED)
    return _save_company(company, data)


def _unique_slug(name):
    base = (slugify(name) or "entreprise")[:200]
    slug, n = base, 1
    while Structure.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def open_company_space(company, *, membership, email, first_name, last_name, job_title="", base_url=""):
    """Open the company's own space (a structure of kind "company", created once) and invite a
    user with the role "employer" through the network's invitation (e-mail with a link to set a
    password, sent on commit). The inviting structure keeps following the company. Returns the
    new membership."""
    company = Company.objects.select_for_update(of=("self",)).select_related("account", "commune").get(pk=company.pk)
    if not policies.can_give_account(membership, company):
        raise PermissionDenied(ACCOUNT_DENIED)
    if not (email or "").strip():
        raise ValidationError({"email": "Indiquez l'adresse électronique de la personne à inviter."})
    # A company account is for the company's own staff: never an address already used elsewhere
    # on the platform (a professional of the network, or the user of another company).
    elsewhere = Membership.objects.filter(user__email__iexact=email.strip(), is_active=True)
    if company.account_id:
        elsewhere = elsewhere.exclude(structure_id=company.account_id)
    if elsewhere.exists():
        raise ValidationError({"email": "Cette adresse est déjà utilisée sur la plateforme par une autre structure "
                                        "ou une autre entreprise : invitez une adresse de l'entreprise."})
    structure = company.account
    if structure is None:
        structure = Structure.objects.create(
            territory_id=company.territory_id, name=company.name[:200], slug=_unique_slug(company.name),
            kind=Structure.Kind.COMPANY, siret=company.siret, address=company.address,
            commune_id=company.commune_id, email=company.contact_email, phone=company.contact_phone,
        )
        company.account = structure
        if company.followed_by_id is None:
            company.followed_by_id = membership.structure_id
        company.save(update_fields=["account", "followed_by", "updated_at"])
    # The structure that follows the company opens its space (checked above with can_give_account).
    return network_services.invite_member(
        by_membership=membership, structure=structure, email=email, first_name=first_name, last_name=last_name,
        role=Membership.Role.EMPLOYER, job_title=job_title, base_url=base_url, authorized=True,
    )


# --- Openings --------------------------------------------------------------------------------------


# A publication date is at most this old (an imported offer keeps its own).
MAX_OPENING_AGE_DAYS = 5 * 365
# An engagement is dated within this many days from today, either way.
MAX_ENGAGEMENT_DAYS = 2 * 366
CONTRACTS_WITH_DURATION = (ContractType.CDD, ContractType.INTERIM, ContractType.SEASONAL)


def _check_opening(opening):
    """Rules of an opening entered by hand (page or API); imports have their own checks."""
    errors = {}
    if not opening.schedule:
        errors["schedule"] = "Cochez au moins un horaire."
    if opening.contract_type in CONTRACTS_WITH_DURATION and not opening.duration_months:
        errors["duration_months"] = "Indiquez la durée du contrat (en mois)."
    today = timezone.localdate()
    if opening.opened_on and opening.opened_on > today:
        errors["opened_on"] = "La date de publication ne peut pas être dans le futur."
    elif opening.opened_on and (today - opening.opened_on).days > MAX_OPENING_AGE_DAYS:
        errors["opened_on"] = "La date de publication ne peut pas remonter à plus de 5 ans."
    if errors:
        raise ValidationError(errors)


def _save_opening(opening, data):
    changed = _apply(opening, data, OPENING_FIELDS)
    _check_opening(opening)
    if opening.appellation_id and opening.appellation.rome_id != opening.rome_id:
        raise ValidationError({"appellation": "Cette appellation ne relève pas du métier ROME choisi."})
    opening.full_clean(exclude=["company", "territory", "created_by"], validate_constraints=False)
    opening.save()
    return changed


@transaction.atomic
def create_opening(company, *, membership, data):
    if not policies.can_manage_company(membership, company):
        raise PermissionDenied(MANAGE_DENIED)
    opening = JobOpening(company=company, territory_id=company.territory_id, created_by=membership.user)
    _save_opening(opening, data)
    return opening


@transaction.atomic
def update_opening(opening, *, membership, data):
    """Save an opening's fields (not its status); returns the names of the fields that changed."""
    if not policies.can_manage_company(membership, opening.company):
        raise PermissionDenied(MANAGE_DENIED)
    return _save_opening(opening, data)


@transaction.atomic
def change_opening_status(opening, to, *, membership, on=None, base_url=None):
    """``filled`` (sets ``filled_on``), ``closed`` (sets ``closed_on``) or ``open`` (reopen: both
    dates cleared). A filled or closed opening ends its live positionings (refused "poste pourvu",
    the senders told; pending company requests declined)."""
    if not policies.can_manage_company(membership, opening.company):
        raise PermissionDenied(MANAGE_DENIED)
    if to not in OPENING_TARGETS:
        raise ValidationError("Statut inconnu.")
    if to == opening.status:
        raise ValidationError(f"L'offre est déjà « {opening.get_status_display().lower()} ».")
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError({"on": "La date ne peut pas être dans le futur."})
    if on < opening.opened_on and to != OpeningStatus.OPEN:
        raise ValidationError("La date ne peut pas précéder la publication de l'offre.")
    opening.status = to
    if to == OpeningStatus.FILLED:
        opening.filled_on, opening.closed_on = on, None
    elif to == OpeningStatus.CLOSED:
        opening.closed_on, opening.filled_on = on, None
    else:
        opening.filled_on = opening.closed_on = None
    opening.save(update_fields=["status", "filled_on", "closed_on", "updated_at"])
    if to != OpeningStatus.OPEN:
        from .positionings import close_live_positionings

        close_live_positionings(opening, by=membership.user, base_url=base_url)
    return opening


# --- Immersion offers -------------------------------------------------------------------------------


def _save_immersion_offer(offer, data):
    changed = _apply(offer, data, IMMERSION_OFFER_FIELDS)
    if offer.appellation_id and offer.appellation.rome_id != offer.rome_id:
        raise ValidationError({"appellation": "Cette appellation ne relève pas du métier ROME choisi."})
    offer.full_clean(exclude=["company", "territory"])
    offer.save()
    return changed


@transaction.atomic
def create_immersion_offer(company, *, membership, data):
    if not policies.can_manage_company(membership, company):
        raise PermissionDenied(MANAGE_DENIED)
    offer = ImmersionOffer(company=company, territory_id=company.territory_id)
    _save_immersion_offer(offer, data)
    return offer


@transaction.atomic
def update_immersion_offer(offer, *, membership, data):
    if not policies.can_manage_company(membership, offer.company):
        raise PermissionDenied(MANAGE_DENIED)
    return _save_immersion_offer(offer, data)


# --- Engagements -------------------------------------------------------------------------------------


def _save_engagement(engagement, data):
    changed = _apply(engagement, data, ENGAGEMENT_FIELDS)
    if not engagement.remote and engagement.commune_id is None:
        raise ValidationError({"commune": "Indiquez le lieu, ou cochez « à distance »."})
    if engagement.date and abs((engagement.date - timezone.localdate()).days) > MAX_ENGAGEMENT_DAYS:
        raise ValidationError({"date": "La date doit être comprise entre il y a deux ans et dans deux ans."})
    if engagement.capacity is not None and engagement.pk:
        taken = engagement.registrations.count()
        if engagement.capacity < taken:
            raise ValidationError({"capacity": f"{taken} personnes sont déjà inscrites : indiquez au moins {taken} "
                                               "places."})
    engagement.full_clean(exclude=["company", "territory", "created_by", "partner"])
    engagement.save()
    return changed


@transaction.atomic
def create_engagement(*, membership, data, company=None):
    """An engagement of ``company`` (managed by the membership) or, without company, organised by
    a professional of the territory (with a partner structure, optional)."""
    if company is not None:
        if not policies.can_manage_company(membership, company):
            raise PermissionDenied(MANAGE_DENIED)
        territory_id = company.territory_id
    else:
        if not policies.is_professional(membership):
            raise PermissionDenied(ENGAGEMENT_DENIED)
        territory_id = membership.structure.territory_id
    engagement = Engagement(territory_id=territory_id, company=company, created_by=membership.user)
    _save_engagement(engagement, data)
    return engagement


@transaction.atomic
def update_engagement(engagement, *, membership, data):
    if not policies.can_manage_engagement(membership, engagement):
        raise PermissionDenied(ENGAGEMENT_DENIED)
    return _save_engagement(engagement, data)


@transaction.atomic
def register_person(engagement, person, *, membership, access):
    """Register ``person`` (whose ``Access`` the caller computed) to ``engagement``: the
    professional must be able to open the record; places are checked under a row lock; a person
    registers once."""
    if not policies.can_register_person(membership, access):
        raise PermissionDenied(REGISTER_DENIED)
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
    if engagement.territory_id != person.territory_id:
        raise ValidationError("Cet événement n'a pas lieu dans le territoire de la personne.")
    if engagement.date < timezone.localdate():
        raise ValidationError("Cet événement est passé : on ne peut plus s'y inscrire.")
    if EngagementRegistration.objects.filter(engagement=engagement, person=person).exists():
        raise ValidationError("Cette personne est déjà inscrite à cet événement.")
    if engagement.capacity is not None and engagement.registrations.count() >= engagement.capacity:
        raise ValidationError("Cet événement est complet : plus aucune place disponible.")
    try:
        with transaction.atomic():
            registration = EngagementRegistration.objects.create(
                engagement=engagement, person=person, registered_by=membership.user, structure=membership.structure
            )
    except IntegrityError:
        raise ValidationError("Cette personne est déjà inscrite à cet événement.") from None
    TimelineEvent.objects.create(
        person=person, kind="engagement_registered", actor=membership.user, structure=membership.structure,
        title=f"Inscription : {engagement.get_kind_display()} « {engagement.title} » le {engagement.date:%d/%m/%Y}",
    )
    return registration


@transaction.atomic
def unregister_person(registration, *, membership, access):
    if not policies.can_register_person(membership, access):
        raise PermissionDenied(REGISTER_DENIED)
    if registration.attended is not None:
        raise ValidationError("La présence a déjà été notée : l'inscription ne peut plus être annulée.")
    engagement = registration.engagement
    registration.delete()
    TimelineEvent.objects.create(
        person=registration.person, kind="engagement_unregistered", actor=membership.user,
        structure=membership.structure,
        title=f"Désinscription : {engagement.get_kind_display()} « {engagement.title} » du {engagement.date:%d/%m/%Y}",
    )


@transaction.atomic
def mark_attendance(engagement, *, membership, attendance):
    """``attendance``: ``{registration pk: True | False | None}`` (present, absent, not noted).
    Only the organiser marks it, from the day of the event. Returns the number of changes."""
    if not policies.can_manage_engagement(membership, engagement):
        raise PermissionDenied(ENGAGEMENT_DENIED)
    if engagement.date > timezone.localdate():
        raise ValidationError("Les présences se notent à partir du jour de l'événement.")
    registrations = {r.pk: r for r in engagement.registrations.filter(pk__in=list(attendance))}
    unknown = set(attendance) - set(registrations)
    if unknown:
        raise ValidationError("Une inscription n'appartient pas à cet événement.")
    changed = []
    for pk, value in attendance.items():
        registration = registrations[pk]
        if registration.attended != value:
            registration.attended = value
            changed.append(registration)
    if changed:
        EngagementRegistration.objects.bulk_update(changed, ["attended"])
    return len(changed)
