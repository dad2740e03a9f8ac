"""REST API v1 — the employer side (issue 6): companies, job openings, immersion offers,
immersions, company engagements, a person's proposals and the positionings ("mises en relation").

    GET   /api/v1/employers/companies/                    companies of my territory (company user: mine)
    POST  /api/v1/employers/companies/                    create a company (professionals)
    GET   /api/v1/employers/companies/{uid}/              one company
    PATCH /api/v1/employers/companies/{uid}/              edit it (``policies.can_manage_company``)
    GET   /api/v1/employers/openings/?status=&rome=&commune=&contract=&company=&q=
    POST  /api/v1/employers/openings/                     create an opening of a company I manage
    GET   /api/v1/employers/openings/{uid}/               one opening
    PATCH /api/v1/employers/openings/{uid}/               edit it
    POST  /api/v1/employers/openings/{uid}/status/        filled | closed | open (reopen)
    GET   /api/v1/employers/openings/{uid}/candidates/    anonymous profiles (no identity, no person id)
    GET   /api/v1/employers/immersion-offers/             immersion offers (PMSMP) of my territory / company
    GET   /api/v1/employers/immersion-offers/{uid}/
    GET   /api/v1/employers/immersions/                   immersions of the persons whose record I may open
    GET   /api/v1/employers/engagements/                  company engagements, with registrations count
    GET   /api/v1/employers/engagements/{uid}/
    GET   /api/v1/persons/{id}/proposals/                 the engine's stored proposals, reasons, blocked_by
    GET   /api/v1/employers/positionings/?side=sent|received&status=
    POST  /api/v1/employers/positionings/                 put a person forward (consent required)
    GET   /api/v1/employers/positionings/{uid}/
    POST  /api/v1/employers/positionings/{uid}/answer/    the company answers (interested, interview, hired, refused)
    POST  /api/v1/employers/positionings/{uid}/withdraw/  the sender withdraws

Rules (``spie.employers.policies``, the same as the pages): company users see and manage their
own company only and never a person's record (anonymous profiles; a positioning shows them the
person's short name once the référent has proposed them); professionals see the companies
and openings of their territory; coordinators read companies, openings and engagements counts,
and get 403 on every named resource (proposals, immersions, positionings). Every response that
names a person's job search writes the access log (section "jobs", channel "api").

Positionings are written by part C's ``spie.employers.services.positionings`` (imported lazily).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Q
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from spie.core.audit import client_ip
from spie.core.links import request_base_url
from spie.core.models import AccessLog
from spie.core.text import fold_words
from spie.employers import policies
from spie.employers.anonymous import anonymous_profile
from spie.employers.models import (
    Company,
    CompanySize,
    ContractType,
    Engagement,
    EngagementKind,
    HealthDemand,
    Immersion,
    ImmersionOffer,
    ImmersionStatus,
    JobOpening,
    OpeningStatus,
    Positioning,
    PositioningRefusal,
    PositioningStatus,
    Proposal,
    ProposalKind,
    Schedule,
)
from spie.employers.services import companies as company_services
from spie.pathways.notifications import short_name
from spie.people.models import Person
from spie.people.policies import visible_persons_filter
from spie.referentials.models import Commune, NafCode, RomeAppellation, RomeCode

from .diagnostics import BAD_REQUEST, PERSON_NOT_FOUND_RESPONSE, load_person, log, service_errors
from .permissions import SpieAPIMixin
from .serializers import ProfessionalRefSerializer
from .views import FORBIDDEN, STRUCTURE_HEADER_PARAMETER

COMPANY_NOT_FOUND = "Entreprise introuvable."
OPENING_NOT_FOUND = "Offre introuvable."
OFFER_NOT_FOUND = "Offre d'immersion introuvable."
ENGAGEMENT_NOT_FOUND = "Engagement introuvable."
POSITIONING_NOT_FOUND = "Mise en relation introuvable."
COORDINATOR_DENIED = ("Les coordinateurs consultent des données agrégées, pas les propositions, immersions ou "
                      "mises en relation nominatives.")
COMPANY_USER_DENIED = "L'espace entreprise ne donne pas accès aux dossiers des personnes."
LIST_DENIED = "Votre rôle ne donne pas accès aux entreprises du territoire."
CREATE_DENIED = "Seuls les professionnels du territoire créent une entreprise."
MANAGE_DENIED = ("Vous ne pouvez pas modifier cette entreprise ni ses offres (elle a son propre espace, ou n'est pas "
                 "suivie par votre structure).")
PROPOSALS_DENIED = "Vous n'avez pas accès à la recherche d'emploi de cette personne."
POSITION_DENIED = "Vous ne pouvez pas mettre cette personne en relation (il faut pouvoir ouvrir son dossier)."
POSITIONING_DENIED = "Vous n'avez pas accès à cette mise en relation."
ANSWER_DENIED = "Seule l'entreprise (ou qui agit pour elle) répond à une mise en relation."
WITHDRAW_DENIED = "Seule la structure qui a proposé la personne retire une mise en relation."
CANDIDATES_DENIED = "Vous ne voyez pas les candidats de cette offre."

UID = OpenApiParameter("uid", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Identifiant public.")
PERSON_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Identifiant de la personne.")
NOT_FOUND = OpenApiResponse(description="Inconnu, d'un autre territoire ou d'une autre entreprise (réponse identique).")


def _values(choices):
    return ", ".join(value for value, _label in choices)


def _choice(request, name, choices):
    value = request.query_params.get(name, "")
    if value and value not in {v for v, _l in choices}:
        raise ValidationError({name: f"Valeur inconnue « {value[:30]} ». Valeurs possibles : {_values(choices)}."})
    return value


def _codes(values, choices, what):
    allowed = {v for v, _l in choices}
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise serializers.ValidationError(f"{what} inconnu{'s' if len(unknown) > 1 else ''} : "
                                          f"{', '.join(f'« {u} »' for u in unknown)} ({_values(choices)}).")
    return list(dict.fromkeys(values))


def _not_coordinator(membership):
    if policies.is_coordinator(membership):
        raise PermissionDenied(COORDINATOR_DENIED)


def _professional_only(membership):
    _not_coordinator(membership)
    if policies.is_company_user(membership):
        raise PermissionDenied(COMPANY_USER_DENIED)


# --- Serializers -------------------------------------------------------------------------------


class CompanyRefSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    name = serializers.CharField()


class WorkplaceSerializer(serializers.Serializer):
    code = serializers.CharField(source="code_insee")
    name = serializers.CharField()


class CompanySerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    siret = serializers.CharField()
    name = serializers.CharField()
    naf = serializers.CharField(source="naf_id", allow_null=True)
    size = serializers.CharField(help_text=_values(CompanySize.choices))
    commune = WorkplaceSerializer(allow_null=True)
    address = serializers.CharField()
    contact_name = serializers.CharField()
    contact_email = serializers.CharField()
    contact_phone = serializers.CharField()
    description = serializers.CharField()
    is_inclusive = serializers.BooleanField()
    has_account = serializers.SerializerMethodField(help_text="L'entreprise a son propre espace.")
    followed_by = serializers.SerializerMethodField(help_text="Structure qui suit l'entreprise.")
    open_openings = serializers.IntegerField(required=False, help_text="Offres ouvertes.")
    can_manage = serializers.SerializerMethodField(help_text="Vous pouvez modifier l'entreprise et ses offres.")

    def get_has_account(self, company) -> bool:
        return company.account_id is not None

    def get_followed_by(self, company) -> dict | None:
        if company.followed_by_id is None:
            return None
        return {"id": company.followed_by_id, "name": company.followed_by.name}

    def get_can_manage(self, company) -> bool:
        return policies.can_manage_company(self.context["membership"], company)


class CompanyWriteSerializer(serializers.Serializer):
    siret = serializers.CharField(max_length=20, required=False)
    name = serializers.CharField(max_length=200, required=False)
    naf = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="Code NAF (56.10A).")
    size = serializers.CharField(required=False, allow_blank=True, help_text=_values(CompanySize.choices))
    commune = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="Code INSEE.")
    address = serializers.CharField(max_length=250, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    is_inclusive = serializers.BooleanField(required=False)

    def validate_siret(self, value):
        from spie.network.validators import validate_siret

        value = value.replace(" ", "")
        try:
            validate_siret(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value

    def validate_naf(self, value):
        if not value:
            return None
        naf = NafCode.objects.filter(code=value.strip().upper()).first()
        if naf is None:
            raise serializers.ValidationError(f"Code NAF inconnu « {value} ».")
        return naf

    def validate_size(self, value):
        if value and value not in CompanySize.values:
            raise serializers.ValidationError(f"Valeur inconnue « {value} » : {_values(CompanySize.choices)}.")
        return value

    def validate_commune(self, value):
        if not value:
            return None
        commune = Commune.objects.defer("shape").filter(code_insee=value.strip().upper()).first()
        if commune is None:
            raise serializers.ValidationError(f"Commune inconnue : code INSEE « {value} ».")
        return commune

    def validate(self, attrs):
        if not self.partial:
            missing = {name: ["Ce champ est obligatoire."] for name in ("siret", "name") if not attrs.get(name)}
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class OpeningSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    company = CompanyRefSerializer()
    title = serializers.CharField()
    description = serializers.CharField()
    rome = serializers.CharField(source="rome_id")
    rome_label = serializers.CharField(source="rome.label")
    appellation = serializers.CharField(source="appellation_id", allow_null=True, help_text="Code OGR.")
    contract_type = serializers.CharField(help_text=_values(ContractType.choices))
    duration_months = serializers.IntegerField(allow_null=True)
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1)
    schedule = serializers.ListField(child=serializers.CharField(), help_text=_values(Schedule.choices))
    commune = WorkplaceSerializer(allow_null=True)
    remote = serializers.BooleanField()
    positions = serializers.IntegerField()
    requires_licence = serializers.BooleanField()
    qualification = serializers.CharField()
    min_experience_months = serializers.IntegerField()
    languages = serializers.ListField(child=serializers.CharField())
    health_demands = serializers.ListField(child=serializers.CharField(), help_text=_values(HealthDemand.choices))
    offers_training = serializers.BooleanField()
    offers_mentoring = serializers.BooleanField()
    adapted_position = serializers.BooleanField()
    status = serializers.CharField(help_text=_values(OpeningStatus.choices))
    status_label = serializers.CharField(source="get_status_display")
    opened_on = serializers.DateField()
    filled_on = serializers.DateField(allow_null=True)
    closed_on = serializers.DateField(allow_null=True)
    source = serializers.CharField()
    source_id = serializers.CharField()


class OpeningWriteSerializer(serializers.Serializer):
    company = serializers.UUIDField(required=False, help_text="Entreprise (création seulement).")
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    rome = serializers.CharField(required=False, help_text="Code ROME.")
    appellation = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="Code OGR.")
    contract_type = serializers.CharField(required=False, help_text=_values(ContractType.choices))
    duration_months = serializers.IntegerField(min_value=1, max_value=120, required=False, allow_null=True)
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=1, max_value=48,
                                            required=False)
    schedule = serializers.ListField(child=serializers.CharField(), required=False)
    commune = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="Code INSEE.")
    remote = serializers.BooleanField(required=False)
    positions = serializers.IntegerField(min_value=1, max_value=999, required=False)
    requires_licence = serializers.BooleanField(required=False)
    qualification = serializers.CharField(max_length=200, required=False, allow_blank=True)
    min_experience_months = serializers.IntegerField(min_value=0, max_value=600, required=False)
    languages = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    health_demands = serializers.ListField(child=serializers.CharField(), required=False)
    offers_training = serializers.BooleanField(required=False)
    offers_mentoring = serializers.BooleanField(required=False)
    adapted_position = serializers.BooleanField(required=False)

    def validate_rome(self, value):
        rome = RomeCode.objects.filter(code=value.strip().upper()).first()
        if rome is None:
            raise serializers.ValidationError(f"Code ROME inconnu « {value} ».")
        return rome

    def validate_contract_type(self, value):
        if value not in ContractType.values:
            raise serializers.ValidationError(f"Valeur inconnue « {value} » : {_values(ContractType.choices)}.")
        return value

    def validate_schedule(self, value):
        return _codes(value, Schedule.choices, "Horaire")

    def validate_health_demands(self, value):
        return _codes(value, HealthDemand.choices, "Contrainte")

    def validate_commune(self, value):
        return CompanyWriteSerializer.validate_commune(self, value)

    def validate(self, attrs):
        if attrs.get("appellation"):
            appellation = RomeAppellation.objects.filter(code_ogr=attrs["appellation"]).first()
            rome = attrs.get("rome") or getattr(self.instance, "rome", None)
            if appellation is None or (rome is not None and appellation.rome_id != rome.pk):
                raise serializers.ValidationError({"appellation": ["Appellation inconnue pour ce code ROME."]})
            attrs["appellation"] = appellation
        elif "appellation" in attrs:
            attrs["appellation"] = None
        if not self.partial:
            required = ("company", "title", "rome", "contract_type")
            missing = {name: ["Ce champ est obligatoire."] for name in required if not attrs.get(name)}
            if missing:
                raise serializers.ValidationError(missing)
        remote = attrs.get("remote", getattr(self.instance, "remote", False))
        commune = attrs["commune"] if "commune" in attrs else getattr(self.instance, "commune", None)
        if not remote and commune is None:
            raise serializers.ValidationError(
                {"commune": ["Indiquez le lieu de travail, ou cochez « télétravail complet »."]})
        return attrs


class OpeningStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OpeningStatus.choices, help_text="filled | closed | open (rouvrir)",
                                     error_messages={"invalid_choice": "Valeur inconnue « {input} » : filled, "
                                                                       "closed ou open."})
    on = serializers.DateField(required=False, help_text="Date (aujourd'hui par défaut).")


class ImmersionOfferSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    company = CompanyRefSerializer()
    rome = serializers.CharField(source="rome_id")
    rome_label = serializers.CharField(source="rome.label")
    title = serializers.CharField()
    description = serializers.CharField()
    commune = WorkplaceSerializer()
    schedule = serializers.ListField(child=serializers.CharField())
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1)
    places = serializers.IntegerField()
    is_open = serializers.BooleanField()


class ImmersionSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    person = serializers.SerializerMethodField(help_text="Identifiant et prénom + initiale.")
    company = CompanyRefSerializer()
    offer = serializers.SerializerMethodField()
    rome = serializers.CharField(source="rome_id")
    objective = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    tutor_name = serializers.CharField()
    would_hire = serializers.BooleanField(allow_null=True)
    assessed_on = serializers.DateField(allow_null=True)

    def get_person(self, immersion) -> dict:
        return {"id": immersion.person_id, "short_name": short_name(immersion.person)}

    def get_offer(self, immersion) -> str | None:
        return str(immersion.offer.uid) if immersion.offer_id else None


class EngagementSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    kind = serializers.CharField(help_text=_values(EngagementKind.choices))
    kind_label = serializers.CharField(source="get_kind_display")
    title = serializers.CharField()
    description = serializers.CharField()
    date = serializers.DateField()
    company = CompanyRefSerializer(allow_null=True)
    partner = serializers.SerializerMethodField()
    commune = WorkplaceSerializer(allow_null=True)
    remote = serializers.BooleanField()
    capacity = serializers.IntegerField(allow_null=True)
    registrations = serializers.IntegerField(source="registrations_count", help_text="Personnes inscrites.")
    attended = serializers.IntegerField(source="attended_count", help_text="Personnes présentes.")

    def get_partner(self, engagement) -> dict | None:
        return {"id": engagement.partner_id, "name": engagement.partner.name} if engagement.partner_id else None


class JobProposalSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_values(ProposalKind.choices))
    target = serializers.SerializerMethodField(help_text="opening | immersion_offer")
    uid = serializers.SerializerMethodField(help_text="Offre ou offre d'immersion.")
    title = serializers.SerializerMethodField()
    company = serializers.SerializerMethodField()
    rank = serializers.IntegerField()
    score = serializers.FloatField()
    reasons = serializers.ListField(
        child=serializers.JSONField(),
        help_text="Raisons de la proposition : {signal, label, value (0 à 1), text en français, estimate}.")
    blocked_by = serializers.ListField(child=serializers.JSONField(),
                                       help_text="Ce qui bloque (et l'action qui le lèverait), en français.")
    distance_km = serializers.FloatField(allow_null=True)
    travel_minutes = serializers.FloatField(allow_null=True)
    computed_at = serializers.DateTimeField()

    def _target(self, proposal):
        return proposal.opening if proposal.opening_id else proposal.immersion_offer

    def get_target(self, proposal) -> str:
        return "opening" if proposal.opening_id else "immersion_offer"

    def get_uid(self, proposal) -> str:
        return str(self._target(proposal).uid)

    def get_title(self, proposal) -> str:
        return self._target(proposal).title

    def get_company(self, proposal) -> dict:
        company = self._target(proposal).company
        return {"uid": str(company.uid), "name": company.name}


class PositioningTransitionSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    by = ProfessionalRefSerializer(allow_null=True)
    via_link = serializers.BooleanField()
    at = serializers.DateTimeField()
    reason = serializers.CharField()


class PositioningSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    status = serializers.CharField(help_text=_values(PositioningStatus.choices))
    status_label = serializers.CharField(source="get_status_display")
    person = serializers.SerializerMethodField(
        help_text="Côté structure : id et prénom + initiale ; côté entreprise : prénom + initiale une fois la "
                  "personne proposée (avec son accord), rien avant.")
    opening = serializers.SerializerMethodField()
    structure = serializers.SerializerMethodField()
    proposed_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    interview_at = serializers.DateTimeField(allow_null=True)
    hired_on = serializers.DateField(allow_null=True)
    refusal_reason = serializers.CharField(help_text=_values(PositioningRefusal.choices))
    created_at = serializers.DateTimeField()
    side = serializers.SerializerMethodField(help_text="sender | company")

    def _side(self, positioning):
        sides = self.context.get("sides") or {}
        return sides.get(positioning.pk, self.context.get("side"))

    def get_side(self, positioning) -> str | None:
        return self._side(positioning)

    def _company_side_hides(self, positioning):
        """The company side learns who the person is (and from which structure) only once the
        person agreed and was proposed (``proposed_at``), as on the pages."""
        return self._side(positioning) != policies.SENDER and positioning.proposed_at is None

    def get_person(self, positioning) -> dict | None:
        if self._side(positioning) == policies.SENDER:
            return {"id": positioning.person_id, "short_name": short_name(positioning.person)}
        if self._company_side_hides(positioning):
            return None
        return {"short_name": short_name(positioning.person)}

    def get_opening(self, positioning) -> dict:
        opening = positioning.opening
        return {"uid": str(opening.uid), "title": opening.title,
                "company": {"uid": str(opening.company.uid), "name": opening.company.name}}

    def get_structure(self, positioning) -> dict | None:
        if positioning.structure_id is None or self._company_side_hides(positioning):
            return None
        return {"id": positioning.structure_id, "name": positioning.structure.name}


# What the company side may read of the transition log: its own answers and requests (who and
# why); the sending side's steps (decline, withdrawal…) keep their reason and author private.
COMPANY_VISIBLE_TRANSITIONS = frozenset({
    PositioningStatus.REQUESTED, PositioningStatus.INTERESTED, PositioningStatus.INTERVIEW, PositioningStatus.HIRED,
    PositioningStatus.REFUSED,
})
# The sending side's reason for these stays on its side (the company only learns the status).
PRIVATE_STATUS_TEXT = frozenset({PositioningStatus.DECLINED, PositioningStatus.WITHDRAWN})


class PositioningDetailSerializer(PositioningSerializer):
    message = serializers.CharField()
    consent = serializers.BooleanField()
    consent_on = serializers.DateField(allow_null=True)
    status_text = serializers.SerializerMethodField(
        help_text="Commentaire du dernier changement ; vide côté entreprise pour un refus ou un retrait de la "
                  "structure.")
    transitions = serializers.SerializerMethodField(
        help_text="Journal des étapes ; côté entreprise, l'auteur et le motif des étapes de la structure sont "
                  "masqués.")

    def get_status_text(self, positioning) -> str:
        if self._side(positioning) != policies.SENDER and positioning.status in PRIVATE_STATUS_TEXT:
            return ""
        return positioning.status_text

    @extend_schema_field(PositioningTransitionSerializer(many=True))
    def get_transitions(self, positioning) -> list:
        rows = PositioningTransitionSerializer(positioning.log, many=True).data
        if self._side(positioning) == policies.SENDER:
            return rows
        for row, transition in zip(rows, positioning.log, strict=True):
            if transition.to_status not in COMPANY_VISIBLE_TRANSITIONS:
                row["reason"], row["by"] = "", None
        return rows


class PositioningCreateSerializer(serializers.Serializer):
    person = serializers.IntegerField(help_text="Identifiant de la personne.")
    opening = serializers.UUIDField(help_text="Identifiant public de l'offre.")
    consent = serializers.BooleanField(help_text="La personne est d'accord (obligatoire).")
    message = serializers.CharField(required=False, allow_blank=True, help_text="Message à l'entreprise.")


class PositioningAnswerSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="interested | interview | hired | refused")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    interview_at = serializers.DateTimeField(required=False, allow_null=True)
    hired_on = serializers.DateField(required=False, allow_null=True)
    refusal_reason = serializers.CharField(required=False, allow_blank=True,
                                           help_text=_values(PositioningRefusal.choices))


class PositioningWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


# --- Querysets and loading ---------------------------------------------------------------------


def _companies():
    return Company.objects.select_related("commune", "followed_by", "territory")


def _openings():
    return JobOpening.objects.select_related("company", "commune", "rome")


def visible_companies(membership):
    """Companies a membership may list: its own (company user), or its territory's."""
    if policies.is_company_user(membership):
        return _companies().filter(account_id=membership.structure_id)
    if policies.can_list_companies(membership):
        return _companies().filter(territory_id=membership.structure.territory_id)
    return Company.objects.none()


def visible_openings(membership):
    if policies.is_company_user(membership):
        return _openings().filter(company__account_id=membership.structure_id)
    if policies.can_list_companies(membership):
        return _openings().filter(territory_id=membership.structure.territory_id)
    return JobOpening.objects.none()


class EmployersAPIMixin(SpieAPIMixin):
    def load_company(self, uid):
        company = visible_companies(self.membership).filter(uid=uid).first()
        if company is None or not policies.can_see_company(self.membership, company):
            raise NotFound(COMPANY_NOT_FOUND)
        return company

    def managed_company(self, uid):
        company = self.load_company(uid)
        if not policies.can_manage_company(self.membership, company):
            raise PermissionDenied(MANAGE_DENIED)
        return company

    def load_opening(self, uid):
        opening = visible_openings(self.membership).filter(uid=uid).first()
        if opening is None or not policies.can_see_opening(self.membership, opening):
            raise NotFound(OPENING_NOT_FOUND)
        return opening

    def managed_opening(self, uid):
        opening = self.load_opening(uid)
        if not policies.can_manage_company(self.membership, opening.company):
            raise PermissionDenied(MANAGE_DENIED)
        return opening

    def context(self):
        return {"membership": self.membership}


def log_many(request, membership, person_ids, *, reason):
    """One access-log row (section "jobs", channel "api") per person named in a list page, in one insert."""
    person_ids = list(dict.fromkeys(person_ids))
    if not person_ids:
        return
    common = {"user": request.user, "structure_id": membership.structure_id if membership else None,
              "section": AccessLog.Section.JOBS, "channel": AccessLog.Channel.API, "reason": reason[:200],
              "path": request.get_full_path()[:300], "ip_address": client_ip(request)}
    AccessLog.objects.bulk_create([AccessLog(person_id=pk, **common) for pk in person_ids])


def _company_data(membership, company):
    company = _companies().annotate(
        open_openings=Count("openings", filter=Q(openings__status=OpeningStatus.OPEN))).get(pk=company.pk)
    return CompanySerializer(company, context={"membership": membership}).data


def _opening_data(opening):
    return OpeningSerializer(_openings().get(pk=opening.pk)).data


# --- Views: companies --------------------------------------------------------------------------


class CompanyListView(EmployersAPIMixin, generics.GenericAPIView):
    spie_policy = "employers.api.companies"
    serializer_class = CompanySerializer
    queryset = Company.objects.none()

    @extend_schema(
        summary="Entreprises de mon territoire (espace entreprise : la mienne)",
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Nom ou SIRET."),
                    OpenApiParameter("inclusive", OpenApiTypes.BOOL, description="Entreprises inclusives seulement."),
                    STRUCTURE_HEADER_PARAMETER],
        responses={200: CompanySerializer(many=True), 403: FORBIDDEN},
    )
    def get(self, request):
        membership = self.membership
        if not (policies.is_company_user(membership) or policies.can_list_companies(membership)):
            raise PermissionDenied(LIST_DENIED)
        companies = visible_companies(membership).annotate(
            open_openings=Count("openings", filter=Q(openings__status=OpeningStatus.OPEN))).order_by("name", "id")
        query = fold_words(request.query_params.get("q", ""))
        if query:
            companies = companies.filter(search_key__contains=query)
        if request.query_params.get("inclusive") in ("1", "true", "oui"):
            companies = companies.filter(is_inclusive=True)
        page = self.paginate_queryset(companies)
        return self.get_paginated_response(CompanySerializer(page, many=True, context=self.context()).data)

    @extend_schema(summary="Créer une entreprise (suivie par ma structure)", request=CompanyWriteSerializer,
                   parameters=[STRUCTURE_HEADER_PARAMETER],
                   responses={201: CompanySerializer, 400: BAD_REQUEST, 403: FORBIDDEN})
    def post(self, request):
        if not policies.can_create_company(self.membership):
            raise PermissionDenied(CREATE_DENIED)
        data = CompanyWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            company = company_services.create_company(membership=self.membership, data=dict(data.validated_data))
        return Response(_company_data(self.membership, company), status=status.HTTP_201_CREATED)


class CompanyDetailView(EmployersAPIMixin, APIView):
    spie_policy = "employers.api.company"

    @extend_schema(summary="Une entreprise", parameters=[UID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: CompanySerializer, 404: NOT_FOUND})
    def get(self, request, uid):
        return Response(_company_data(self.membership, self.load_company(uid)))

    @extend_schema(summary="Modifier une entreprise", parameters=[UID, STRUCTURE_HEADER_PARAMETER],
                   request=CompanyWriteSerializer,
                   responses={200: CompanySerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND})
    def patch(self, request, uid):
        company = self.managed_company(uid)
        data = CompanyWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with service_errors():
            company_services.update_company(company, membership=self.membership, data=dict(data.validated_data))
        return Response(_company_data(self.membership, company))


# --- Views: openings ---------------------------------------------------------------------------


class OpeningListView(EmployersAPIMixin, generics.GenericAPIView):
    spie_policy = "employers.api.openings"
    serializer_class = OpeningSerializer
    queryset = JobOpening.objects.none()

    @extend_schema(
        summary="Offres d'emploi de mon territoire (espace entreprise : celles de mon entreprise)",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=OpeningStatus.values, description="Statut."),
            OpenApiParameter("rome", OpenApiTypes.STR, description="Code ROME."),
            OpenApiParameter("commune", OpenApiTypes.STR, description="Code INSEE du lieu de travail."),
            OpenApiParameter("contract", OpenApiTypes.STR, enum=ContractType.values, description="Contrat."),
            OpenApiParameter("company", OpenApiTypes.UUID, description="Entreprise."),
            OpenApiParameter("q", OpenApiTypes.STR, description="Mot de l'intitulé."),
            STRUCTURE_HEADER_PARAMETER,
        ],
        responses={200: OpeningSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def get(self, request):
        membership = self.membership
        if not (policies.is_company_user(membership) or policies.can_list_companies(membership)):
            raise PermissionDenied(LIST_DENIED)
        openings = visible_openings(membership)
        wanted = _choice(request, "status", OpeningStatus.choices)
        if wanted:
            openings = openings.filter(status=wanted)
        contract = _choice(request, "contract", ContractType.choices)
        if contract:
            openings = openings.filter(contract_type=contract)
        if request.query_params.get("rome"):
            openings = openings.filter(rome_id=request.query_params["rome"].strip().upper())
        if request.query_params.get("commune"):
            openings = openings.filter(commune_id=request.query_params["commune"].strip().upper())
        if request.query_params.get("company"):
            try:
                openings = openings.filter(company__uid=serializers.UUIDField().to_internal_value(
                    request.query_params["company"]))
            except serializers.ValidationError as exc:
                raise ValidationError({"company": ["Identifiant d'entreprise invalide."]}) from exc
        if request.query_params.get("q"):
            openings = openings.filter(title__icontains=request.query_params["q"].strip()[:100])
        page = self.paginate_queryset(openings.order_by("-opened_on", "-id"))
        return self.get_paginated_response(OpeningSerializer(page, many=True).data)

    @extend_schema(summary="Créer une offre d'une entreprise que je gère", request=OpeningWriteSerializer,
                   parameters=[STRUCTURE_HEADER_PARAMETER],
                   responses={201: OpeningSerializer, 400: BAD_REQUEST, 403: FORBIDDEN})
    def post(self, request):
        data = OpeningWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        company = visible_companies(self.membership).filter(uid=values.pop("company")).first()
        if company is None:
            raise ValidationError({"company": [COMPANY_NOT_FOUND]})
        with service_errors():
            opening = company_services.create_opening(company, membership=self.membership, data=values)
        return Response(_opening_data(opening), status=status.HTTP_201_CREATED)


class OpeningDetailView(EmployersAPIMixin, APIView):
    spie_policy = "employers.api.opening"

    @extend_schema(summary="Une offre d'emploi", parameters=[UID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: OpeningSerializer, 404: NOT_FOUND})
    def get(self, request, uid):
        return Response(OpeningSerializer(self.load_opening(uid)).data)

    @extend_schema(summary="Modifier une offre", parameters=[UID, STRUCTURE_HEADER_PARAMETER],
                   request=OpeningWriteSerializer,
                   responses={200: OpeningSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND})
    def patch(self, request, uid):
        opening = self.managed_opening(uid)
        data = OpeningWriteSerializer(opening, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("company", None)  # an opening never changes company
        with service_errors():
            company_services.update_opening(opening, membership=self.membership, data=values)
        return Response(_opening_data(opening))


class OpeningStatusView(EmployersAPIMixin, APIView):
    spie_policy = "employers.api.opening_status"

    @extend_schema(summary="Offre pourvue, fermée ou rouverte", parameters=[UID, STRUCTURE_HEADER_PARAMETER],
                   request=OpeningStatusSerializer,
                   responses={200: OpeningSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND})
    def post(self, request, uid):
        opening = self.managed_opening(uid)
        data = OpeningStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            company_services.change_opening_status(opening, data.validated_data["status"], membership=self.membership,
                                                   on=data.validated_data.get("on"), base_url=request_base_url(request))
        return Response(_opening_data(opening))


class OpeningCandidatesView(EmployersAPIMixin, generics.GenericAPIView):
    """Anonymous profiles of the persons the engine proposes for an opening (no identity, no
    situation, no person id): for the company and for the professionals of the territory. Only the
    persons whose job search is active and visible to employers, of the opening's territory."""

    spie_policy = "employers.api.candidates"
    queryset = Proposal.objects.none()

    @extend_schema(summary="Profils anonymes proposés pour une offre", parameters=[UID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: OpenApiTypes.OBJECT, 403: FORBIDDEN, 404: NOT_FOUND})
    def get(self, request, uid):
        # As the page: an unknown opening is a 404, another company's (or territory's) a 403.
        opening = _openings().filter(uid=uid).first()
        if opening is None:
            raise NotFound(OPENING_NOT_FOUND)
        if not policies.can_see_anonymous_candidates(self.membership, opening):
            raise PermissionDenied(CANDIDATES_DENIED)
        proposals = (Proposal.objects.filter(opening=opening, kind=ProposalKind.ELIGIBLE,
                                             person__territory_id=opening.territory_id,
                                             person__job_search__visible_to_employers=True,
                                             person__job_search__is_active=True)
                     .select_related("person__commune", "person__job_search__commune")
                     .prefetch_related("person__job_search__targets__rome")
                     .order_by("-score", "id"))
        page = self.paginate_queryset(proposals)
        return self.get_paginated_response(
            [anonymous_profile(p.person, p.person.job_search, p) for p in page])


# --- Views: immersion offers, immersions, engagements -----------------------------------------


def visible_immersion_offers(membership):
    qs = ImmersionOffer.objects.select_related("company", "commune", "rome")
    if policies.is_company_user(membership):
        return qs.filter(company__account_id=membership.structure_id)
    if policies.can_list_companies(membership):
        return qs.filter(territory_id=membership.structure.territory_id)
    return qs.none()


class ImmersionOfferListView(EmployersAPIMixin, generics.GenericAPIView):
    spie_policy = "employers.api.immersion_offers"
    serializer_class = ImmersionOfferSerializer
    queryset = ImmersionOffer.objects.none()

    @extend_schema(summary="Offres d'immersion (PMSMP) de mon territoire (ou de mon entreprise)",
                   parameters=[OpenApiParameter("open", OpenApiTypes.BOOL, description="Ouvertes seulement."),
                               OpenApiParameter("rome", OpenApiTypes.STR, description="Code ROME."),
                               STRUCTURE_HEADER_PARAMETER],
                   responses={200: ImmersionOfferSerializer(many=True), 403: FORBIDDEN})
    def get(self, request):
        membership = self.membership
        if not (policies.is_company_user(membership) or policies.can_list_companies(membership)):
            raise PermissionDenied(LIST_DENIED)
        offers = visible_immersion_offers(membership)
        if request.query_params.get("open") in ("1", "true", "oui"):
            offers = offers.filter(is_open=True)
        if request.query_params.get("rome"):
            offers = offers.filter(rome_id=request.query_params["rome"].strip().upper())
        page = self.paginate_queryset(offers.order_by("-created_at", "-id"))
        return self.get_paginated_response(ImmersionOfferSerializer(page, many=True).data)


class ImmersionOfferDetailView(EmployersAPIMixin, APIView):
    spie_policy = "employers.api.immersion_offer"

    @extend_schema(summary="Une offre d'immersion", parameters=[UID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: ImmersionOfferSerializer, 404: NOT_FOUND})
    def get(self, request, uid):
        offer = visible_immersion_offers(self.membership).filter(uid=uid).first()
        if offer is None:
            raise NotFound(OFFER_NOT_FOUND)
        return Response(ImmersionOfferSerializer(offer).data)


class ImmersionListView(EmployersAPIMixin, generics.GenericAPIView):
    """Immersions of the persons whose record the caller may open (their follow-up group)."""

    spie_policy = "employers.api.immersions"
    serializer_class = ImmersionSerializer
    queryset = Immersion.objects.none()

    @extend_schema(summary="Immersions des personnes que je suis",
                   parameters=[OpenApiParameter("status", OpenApiTypes.STR, description="Statut."),
                               OpenApiParameter("person", OpenApiTypes.INT, description="Une personne."),
                               STRUCTURE_HEADER_PARAMETER],
                   responses={200: ImmersionSerializer(many=True), 403: FORBIDDEN})
    def get(self, request):
        membership = self.membership
        _professional_only(membership)
        persons = Person.objects.filter(**visible_persons_filter(request.user, membership)).values("pk")
        immersions = (Immersion.objects.filter(person_id__in=persons)
                      .select_related("person", "company", "offer").order_by("-created_at", "-id"))
        wanted = _choice(request, "status", ImmersionStatus.choices)
        if wanted:
            immersions = immersions.filter(status=wanted)
        person = request.query_params.get("person", "")
        if person:
            if not person.isdigit():
                raise ValidationError({"person": ["Un identifiant numérique est attendu."]})
            immersions = immersions.filter(person_id=int(person))
        page = self.paginate_queryset(immersions)
        log_many(request, membership, [i.person_id for i in page], reason="immersions (API)")
        return self.get_paginated_response(ImmersionSerializer(page, many=True).data)


def visible_engagements(membership):
    qs = Engagement.objects.select_related("company", "partner", "commune").annotate(
        registrations_count=Count("registrations", distinct=True),
        attended_count=Count("registrations", filter=Q(registrations__attended=True), distinct=True),
    )
    if policies.is_company_user(membership):
        return qs.filter(company__account_id=membership.structure_id)
    if policies.can_list_companies(membership):
        return qs.filter(territory_id=membership.structure.territory_id)
    return qs.none()


class EngagementListView(EmployersAPIMixin, generics.GenericAPIView):
    spie_policy = "employers.api.engagements"
    serializer_class = EngagementSerializer
    queryset = Engagement.objects.none()

    @extend_schema(summary="Engagements des entreprises (visites, job datings…) avec le nombre d'inscrits",
                   parameters=[OpenApiParameter("kind", OpenApiTypes.STR, enum=EngagementKind.values),
                               OpenApiParameter("from", OpenApiTypes.DATE, description="À partir du."),
                               STRUCTURE_HEADER_PARAMETER],
                   responses={200: EngagementSerializer(many=True), 403: FORBIDDEN})
    def get(self, request):
        membership = self.membership
        if not (policies.is_company_user(membership) or policies.can_list_companies(membership)):
            raise PermissionDenied(LIST_DENIED)
        engagements = visible_engagements(membership).order_by("-date", "-id")
        kind = _choice(request, "kind", EngagementKind.choices)
        if kind:
            engagements = engagements.filter(kind=kind)
        if request.query_params.get("from"):
            try:
                start = serializers.DateField().to_internal_value(request.query_params["from"])
            except serializers.ValidationError as exc:
                raise ValidationError({"from": ["Date attendue au format AAAA-MM-JJ."]}) from exc
            engagements = engagements.filter(date__gte=start)
        page = self.paginate_queryset(engagements)
        return self.get_paginated_response(EngagementSerializer(page, many=True).data)


class EngagementDetailView(EmployersAPIMixin, APIView):
    spie_policy = "employers.api.engagement"

    @extend_schema(summary="Un engagement d'entreprise", parameters=[UID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: EngagementSerializer, 404: NOT_FOUND})
    def get(self, request, uid):
        engagement = visible_engagements(self.membership).filter(uid=uid).first()
        if engagement is None:
            raise NotFound(ENGAGEMENT_NOT_FOUND)
        return Response(EngagementSerializer(engagement).data)


# --- View: a person's proposals ----------------------------------------------------------------


class PersonProposalsView(EmployersAPIMixin, generics.GenericAPIView):
    """The proposals the engine stored for a person (openings and immersion offers), eligible and
    blocked, with their reasons and what blocks them; written to the access log."""

    spie_policy = "employers.api.person_proposals"
    serializer_class = JobProposalSerializer
    queryset = Proposal.objects.none()

    @extend_schema(summary="Propositions d'emploi et d'immersion d'une personne (raisons, blocages)",
                   parameters=[PERSON_ID, OpenApiParameter("kind", OpenApiTypes.STR, enum=ProposalKind.values),
                               STRUCTURE_HEADER_PARAMETER],
                   responses={200: JobProposalSerializer(many=True), 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE})
    def get(self, request, pk):
        _professional_only(self.membership)
        person, access = load_person(self, pk)
        if not access.can_open_record:
            raise PermissionDenied(PROPOSALS_DENIED)
        proposals = (Proposal.objects.filter(person=person)
                     .select_related("opening__company", "immersion_offer__company").order_by("kind", "rank", "id"))
        kind = _choice(request, "kind", ProposalKind.choices)
        if kind:
            proposals = proposals.filter(kind=kind)
        page = self.paginate_queryset(proposals)
        log(request, person, AccessLog.Section.JOBS, reason="propositions d'emploi (API)")
        return self.get_paginated_response(JobProposalSerializer(page, many=True).data)


# --- Views: positionings -----------------------------------------------------------------------


def _positionings():
    return Positioning.objects.select_related("person", "opening__company", "structure")



def _positioning_services():
    from spie.employers.services import positionings

    return positionings


class PositioningAPIMixin(EmployersAPIMixin):
    def load_positioning(self, uid):
        """``(positioning, access, side)``: 404 unknown, 403 when on neither side."""
        from spie.people.policies import access_for

        _not_coordinator(self.membership)
        positioning = _positionings().filter(uid=uid).first()
        if positioning is None:
            raise NotFound(POSITIONING_NOT_FOUND)
        access = None
        if policies.is_professional(self.membership):
            access = access_for(self.request.user, self.membership, positioning.person)
        side = policies.positioning_side(self.membership, positioning, access)
        if side is None:
            raise PermissionDenied(POSITIONING_DENIED)
        return positioning, access, side

    def detail_data(self, positioning, side, reason):
        positioning = _positionings().get(pk=positioning.pk)
        positioning.log = list(positioning.transitions.select_related("by"))
        log(self.request, positioning.person, AccessLog.Section.JOBS, reason=reason)
        return PositioningDetailSerializer(positioning, context={"side": side}).data


class PositioningListView(PositioningAPIMixin, generics.GenericAPIView):
    spie_policy = "employers.api.positionings"
    serializer_class = PositioningSerializer
    queryset = Positioning.objects.none()

    @extend_schema(
        summary="Mises en relation envoyées par ma structure (sent) ou reçues par mon entreprise (received)",
        parameters=[OpenApiParameter("side", OpenApiTypes.STR, enum=["sent", "received"],
                                     description="sent (par défaut pour une structure) | received (entreprise)"),
                    OpenApiParameter("status", OpenApiTypes.STR, enum=PositioningStatus.values),
                    STRUCTURE_HEADER_PARAMETER],
        responses={200: PositioningSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def get(self, request):
        membership = self.membership
        _not_coordinator(membership)
        company_user = policies.is_company_user(membership)
        side = request.query_params.get("side", "received" if company_user else "sent")
        if side not in ("sent", "received"):
            raise ValidationError({"side": ["Indiquez « sent » (envoyées) ou « received » (reçues)."]})
        if side == "sent":
            if company_user:
                raise PermissionDenied(COMPANY_USER_DENIED)
            # The structure's positionings whose person the caller may open, or that the caller proposed
            # (a colleague outside the person's follow-up group sees neither the person nor the positioning).
            visible = Person.objects.filter(**visible_persons_filter(request.user, membership)).values("pk")
            positionings = _positionings().filter(
                Q(structure_id=membership.structure_id, proposed_by=request.user)
                | Q(structure_id=membership.structure_id, person__in=visible))
            api_side = policies.SENDER
        else:
            if company_user:
                positionings = _positionings().filter(opening__company__account_id=membership.structure_id)
            elif policies.is_professional(membership):
                # Companies the structure acts for: followed by it, or without an account in its territory.
                positionings = _positionings().filter(
                    Q(opening__company__followed_by_id=membership.structure_id)
                    | Q(opening__company__account__isnull=True,
                        opening__company__territory_id=membership.structure.territory_id,
                        opening__company__followed_by__isnull=True))
            else:
                raise PermissionDenied(POSITIONING_DENIED)
            api_side = policies.COMPANY
        wanted = _choice(request, "status", PositioningStatus.choices)
        if wanted:
            positionings = positionings.filter(status=wanted)
        page = self.paginate_queryset(positionings.order_by("-created_at", "-id"))
        if api_side == policies.SENDER:  # the company side gets short names at most, never a record
            log_many(request, membership, [p.person_id for p in page], reason="mises en relation envoyées (API)")
        return self.get_paginated_response(PositioningSerializer(page, many=True, context={"side": api_side}).data)

    @extend_schema(summary="Mettre une personne en relation avec une offre (avec son accord)",
                   request=PositioningCreateSerializer, parameters=[STRUCTURE_HEADER_PARAMETER],
                   responses={201: PositioningDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                              404: PERSON_NOT_FOUND_RESPONSE})
    def post(self, request):
        _professional_only(self.membership)
        data = PositioningCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        person, access = load_person(self, values["person"])
        if not policies.can_position(self.membership, access):
            raise PermissionDenied(POSITION_DENIED)
        opening = _openings().filter(uid=values["opening"], territory_id=person.territory_id).first()
        if opening is None:
            raise ValidationError({"opening": [OPENING_NOT_FOUND]})
        with service_errors():
            positioning = _positioning_services().propose(
                person, opening, by=request.user, membership=self.membership, consent=values["consent"],
                message=values.get("message", ""), base_url=request_base_url(request))
        return Response(self.detail_data(positioning, policies.SENDER, "mise en relation envoyée (API)"),
                        status=status.HTTP_201_CREATED)


class PositioningDetailView(PositioningAPIMixin, APIView):
    spie_policy = "employers.api.positioning"

    @extend_schema(summary="Une mise en relation", parameters=[UID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: PositioningDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND})
    def get(self, request, uid):
        positioning, _access, side = self.load_positioning(uid)
        return Response(self.detail_data(positioning, side, "mise en relation (API)"))


class PositioningAnswerView(PositioningAPIMixin, APIView):
    spie_policy = "employers.api.positioning_answer"

    @extend_schema(summary="Réponse de l'entreprise (intéressée, entretien, recrutée, refusée)",
                   parameters=[UID, STRUCTURE_HEADER_PARAMETER], request=PositioningAnswerSerializer,
                   responses={200: PositioningDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND})
    def post(self, request, uid):
        positioning, _access, side = self.load_positioning(uid)
        if not policies.can_manage_company(self.membership, positioning.opening.company):
            raise PermissionDenied(ANSWER_DENIED)
        data = PositioningAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with service_errors():
            _positioning_services().answer(
                positioning, values["status"], by=request.user, reason=values.get("reason", ""),
                interview_at=values.get("interview_at"), hired_on=values.get("hired_on"),
                refusal_reason=values.get("refusal_reason", ""), base_url=request_base_url(request))
        return Response(self.detail_data(positioning, policies.COMPANY, "réponse à une mise en relation (API)"))


class PositioningWithdrawView(PositioningAPIMixin, APIView):
    spie_policy = "employers.api.positioning_withdraw"

    @extend_schema(summary="Retirer une mise en relation (structure qui a proposé la personne)",
                   parameters=[UID, STRUCTURE_HEADER_PARAMETER], request=PositioningWithdrawSerializer,
                   responses={200: PositioningDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND})
    def post(self, request, uid):
        positioning, _access, side = self.load_positioning(uid)
        if side != policies.SENDER:
            raise PermissionDenied(WITHDRAW_DENIED)
        data = PositioningWithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            _positioning_services().withdraw(positioning, by=request.user,
                                             reason=data.validated_data.get("reason", ""),
                                             base_url=request_base_url(request))
        return Response(self.detail_data(positioning, side, "retrait d'une mise en relation (API)"))


urlpatterns = [
    path("employers/companies/", CompanyListView.as_view(), name="employers-companies"),
    path("employers/companies/<uuid:uid>/", CompanyDetailView.as_view(), name="employers-company"),
    path("employers/openings/", OpeningListView.as_view(), name="employers-openings"),
    path("employers/openings/<uuid:uid>/", OpeningDetailView.as_view(), name="employers-opening"),
    path("employers/openings/<uuid:uid>/status/", OpeningStatusView.as_view(), name="employers-opening-status"),
    path("employers/immersion-offers/", ImmersionOfferListView.as_view(), name="employers-immersion-offers"),
    path("employers/immersion-offers/<uuid:uid>/", ImmersionOfferDetailView.as_view(),
         name="employers-immersion-offer"),
    path("employers/immersions/", ImmersionListView.as_view(), name="employers-immersions"),
    path("employers/engagements/", EngagementListView.as_view(), name="employers-engagements"),
    path("employers/engagements/<uuid:uid>/", EngagementDetailView.as_view(), name="employers-engagement"),
    path("employers/positionings/", PositioningListView.as_view(), name="employers-positionings"),
    path("employers/positionings/<uuid:uid>/", PositioningDetailView.as_view(), name="employers-positioning"),
    path("employers/positionings/<uuid:uid>/answer/", PositioningAnswerView.as_view(),
         name="employers-positioning-answer"),
    path("employers/positionings/<uuid:uid>/withdraw/", PositioningWithdrawView.as_view(),
         name="employers-positioning-withdraw"),
    path("employers/openings/<uuid:uid>/candidates/", OpeningCandidatesView.as_view(),
         name="employers-opening-candidates"),
    path("persons/<int:pk>/proposals/", PersonProposalsView.as_view(), name="person-proposals"),
]
