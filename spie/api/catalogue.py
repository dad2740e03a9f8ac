"""REST API v1 — the shared bank of actions (catalogue) and the referrals to its actions.

    GET   /api/v1/catalogue/search/                         open search (no login, no personal data)
    GET   /api/v1/catalogue/actions/                        actions of my territory (+ my structure's drafts)
    POST  /api/v1/catalogue/actions/                        create a draft action of my structure
    GET   /api/v1/catalogue/actions/{uid}/                  one action
    PATCH /api/v1/catalogue/actions/{uid}/                  edit it (its structure's admins and référents)
    POST  /api/v1/catalogue/actions/{uid}/status/           publish, suspend, archive, back to draft
    GET   /api/v1/catalogue/actions/{uid}/sessions/         its sessions (places left)
    POST  /api/v1/catalogue/actions/{uid}/sessions/         add a session
    PATCH /api/v1/catalogue/actions/{uid}/sessions/{id}/    edit a session
    POST  /api/v1/catalogue/actions/{uid}/sessions/{id}/cancel/
    GET   /api/v1/catalogue/referrals/?side=sent|received   referrals sent / received by my structure
    POST  /api/v1/catalogue/referrals/                      refer a person to an action
    GET   /api/v1/catalogue/referrals/{uid}/                one referral (each side sees its share)
    POST  /api/v1/catalogue/referrals/{uid}/status/         answer, start, complete, drop, cancel

Same rules and services as the pages: actions are written by ``spie.catalogue.services.actions``
(policy ``catalogue.policies.can_manage_actions``), referrals by
``spie.catalogue.services.referrals`` (``send_referral``, ``move``), the search is
``spie.catalogue.search``. Every response naming a person (a referral's detail) writes the access
log, section "orientation vers une action", channel "api"; the lists show the person's short name
only. The open search ignores any person parameter and hides the contacts from anonymous callers.
"""

from django.conf import settings
from django.db.models import Q
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from spie.catalogue import interop, policies, workflows
from spie.catalogue.models import (
    Action,
    ActionSession,
    ActionStatus,
    DropReason,
    Fees,
    PreferredContact,
    Referral,
    ReferralStatus,
    RefusalReason,
    ServiceType,
    SpieAxis,
    SpieKind,
)
from spie.core.links import request_base_url
from spie.core.models import AccessLog
from spie.followup.models import OPEN_PLAN_STATUSES, PlanObjective
from spie.network.models import Membership, Territory
from spie.pathways.notifications import short_name
from spie.people import policies as people_policies
from spie.referentials.models import Commune, PathwayItem

from .diagnostics import BAD_REQUEST, PERSON_NOT_FOUND_RESPONSE, load_person, log, service_errors
from .permissions import SpieAPIMixin, get_membership
from .serializers import ProfessionalRefSerializer
from .views import FORBIDDEN, STRUCTURE_HEADER_PARAMETER

ACTION_NOT_FOUND = "Action introuvable."
SESSION_NOT_FOUND = "Session introuvable."
REFERRAL_NOT_FOUND = "Orientation introuvable."
REFERRAL_DENIED = "Vous n'avez pas accès à cette orientation."
ANSWER_DENIED = "Vous ne pouvez pas répondre pour la structure qui porte l'action."
COORDINATOR_DENIED = "Les coordinateurs consultent des données agrégées, pas les orientations nominatives."
MANAGE_DENIED = "Seuls les administrateurs et les référents de la structure peuvent gérer ses actions."

ACTION_UID = OpenApiParameter("uid", OpenApiTypes.UUID, OpenApiParameter.PATH,
                              description="Identifiant public de l'action.")
SESSION_ID = OpenApiParameter("session_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                              description="Identifiant de la session.")
REFERRAL_UID = OpenApiParameter("uid", OpenApiTypes.UUID, OpenApiParameter.PATH,
                                description="Identifiant public de l'orientation.")
ACTION_NOT_FOUND_RESPONSE = OpenApiResponse(
    description="Action inconnue, d'un autre territoire, ou brouillon d'une autre structure (réponse identique).")
REFERRAL_NOT_FOUND_RESPONSE = OpenApiResponse(description="Orientation inconnue.")


def _values(choices):
    return ", ".join(value for value, _label in choices)


# --- Serializers: actions ----------------------------------------------------------------------


class ActionStructureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class ActionSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)
    start_time = serializers.TimeField(allow_null=True)
    place = serializers.CharField()
    capacity = serializers.IntegerField()
    places_taken = serializers.IntegerField()
    places_left = serializers.IntegerField()
    registration_deadline = serializers.DateField(allow_null=True)
    is_cancelled = serializers.BooleanField()
    is_open = serializers.SerializerMethodField()

    def get_is_open(self, session) -> bool:
        return session.is_open()


class ActionSerializer(serializers.Serializer):
    """An action as the catalogue shows it: the data·inclusion fields, the SPIE's extensions and
    its lifecycle. The contact fields are null for anonymous callers of the open search."""

    uid = serializers.UUIDField()
    data_inclusion_id = serializers.SerializerMethodField(help_text="Identifiant du service data·inclusion.")
    structure = ActionStructureSerializer()
    name = serializers.CharField()
    summary = serializers.CharField()
    description = serializers.CharField()
    type = serializers.CharField(help_text=_values(ServiceType.choices))
    thematiques = serializers.ListField(child=serializers.CharField())
    fees = serializers.CharField(help_text="gratuit | payant")
    fees_details = serializers.CharField()
    publics = serializers.ListField(child=serializers.CharField())
    publics_details = serializers.CharField()
    access_conditions = serializers.CharField()
    prerequisites = serializers.CharField()
    documents = serializers.CharField()
    reception_modes = serializers.ListField(child=serializers.CharField(), help_text="en-presentiel, a-distance")
    address = serializers.CharField()
    address_complement = serializers.CharField()
    postal_code = serializers.CharField()
    commune = serializers.CharField(source="commune_id", allow_null=True, help_text="Code INSEE.")
    commune_name = serializers.SerializerMethodField()
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    eligibility_zone = serializers.ListField(child=serializers.CharField(),
                                             help_text="Communes, départements, EPCI ; vide : aucune restriction.")
    contact_name = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    mobilisation_modes = serializers.ListField(child=serializers.CharField())
    mobilisable_by = serializers.ListField(child=serializers.CharField())
    mobilisation_details = serializers.CharField()
    mobilisation_link = serializers.CharField()
    opening_hours = serializers.CharField()
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    weeks = serializers.IntegerField(allow_null=True)
    spie_kind = serializers.CharField(help_text=_values(SpieKind.choices))
    spie_axis = serializers.CharField(help_text=_values(SpieAxis.choices))
    plan_item = serializers.IntegerField(source="plan_item_id", allow_null=True,
                                         help_text="Action du référentiel de parcours servie.")
    capacity = serializers.IntegerField(allow_null=True)
    places_left = serializers.IntegerField(source="places_left_total", allow_null=True,
                                           help_text="Places restantes (null : sans limite).")
    next_session_on = serializers.DateField(allow_null=True)
    registration_deadline = serializers.DateField(allow_null=True)
    languages = serializers.ListField(child=serializers.CharField())
    accessibility = serializers.CharField()
    is_model = serializers.BooleanField()
    model = serializers.SerializerMethodField(help_text="Modèle dont l'action est déclinée (uid).")
    status = serializers.CharField(help_text=_values(ActionStatus.choices))
    status_label = serializers.CharField(source="get_status_display")
    suspended_until = serializers.DateField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    content_updated_on = serializers.DateField()
    needs_update = serializers.SerializerMethodField(help_text="Mise à jour nécessaire (fiche trop ancienne).")

    def get_data_inclusion_id(self, action) -> str:
        return interop.service_id(action)

    def get_commune_name(self, action) -> str | None:
        return action.commune.name if action.commune_id else None

    def get_model(self, action) -> str | None:
        if not action.model_id:
            return None
        known = self.context.get("model_uids")  # fetched once for a page of search results
        return str(known[action.model_id] if known is not None else action.model.uid)

    def get_needs_update(self, action) -> bool:
        return action.needs_update()

    def to_representation(self, action):
        data = super().to_representation(action)
        if not self.context.get("with_contacts", True):
            data.update(contact_name=None, email=None, phone=None)
        return data


class ActionWriteSerializer(serializers.Serializer):
    """The provider's sheet. Codes follow the data·inclusion vocabularies; the commune is its
    INSEE code; the eligibility zone lists communes, départements or EPCI (SIREN)."""

    name = serializers.CharField(max_length=150, required=False)
    summary = serializers.CharField(max_length=280, required=False, allow_blank=True)
    description = serializers.CharField(required=False)
    type = serializers.CharField(required=False, allow_blank=True, help_text=_values(ServiceType.choices))
    thematiques = serializers.ListField(child=serializers.CharField(), required=False,
                                        help_text="Codes data·inclusion « categorie--sous-thematique ».")
    fees = serializers.CharField(required=False, allow_blank=True, help_text="gratuit | payant")
    fees_details = serializers.CharField(max_length=300, required=False, allow_blank=True)
    publics = serializers.ListField(child=serializers.CharField(), required=False)
    publics_details = serializers.CharField(max_length=500, required=False, allow_blank=True)
    access_conditions = serializers.CharField(required=False, allow_blank=True)
    prerequisites = serializers.CharField(required=False, allow_blank=True)
    documents = serializers.CharField(required=False, allow_blank=True)
    reception_modes = serializers.ListField(child=serializers.CharField(), required=False,
                                            help_text="en-presentiel, a-distance")
    address = serializers.CharField(max_length=250, required=False, allow_blank=True)
    address_complement = serializers.CharField(max_length=250, required=False, allow_blank=True)
    postal_code = serializers.RegexField(r"^\d{5}$", required=False, allow_blank=True,
                                         error_messages={"invalid": "Code postal à 5 chiffres."})
    commune = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="Code INSEE.")
    eligibility_zone = serializers.ListField(child=serializers.CharField(), required=False)
    contact_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    mobilisation_modes = serializers.ListField(child=serializers.CharField(), required=False)
    mobilisable_by = serializers.ListField(child=serializers.CharField(), required=False)
    mobilisation_details = serializers.CharField(required=False, allow_blank=True)
    mobilisation_link = serializers.URLField(max_length=500, required=False, allow_blank=True)
    opening_hours = serializers.CharField(max_length=250, required=False, allow_blank=True)
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=0, required=False,
                                            allow_null=True)
    weeks = serializers.IntegerField(min_value=1, max_value=32767, required=False, allow_null=True)
    spie_kind = serializers.CharField(required=False, allow_blank=True, help_text=_values(SpieKind.choices))
    spie_axis = serializers.CharField(required=False, allow_blank=True, help_text=_values(SpieAxis.choices))
    plan_item = serializers.IntegerField(required=False, allow_null=True,
                                         help_text="Action du référentiel de parcours servie.")
    capacity = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, allow_null=True)
    registration_deadline = serializers.DateField(required=False, allow_null=True)
    languages = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    accessibility = serializers.CharField(max_length=500, required=False, allow_blank=True)
    is_model = serializers.BooleanField(required=False)

    @staticmethod
    def _choice(value, choices, what):
        if value and value not in {v for v, _l in choices}:
            raise serializers.ValidationError(f"Valeur inconnue « {value} » pour {what} : {_values(choices)}.")
        return value

    @staticmethod
    def _codes(values, allowed, what):
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise serializers.ValidationError(f"{what} inconnue{'s' if len(unknown) > 1 else ''} : "
                                              f"{', '.join(f'« {u} »' for u in unknown)}.")
        return list(dict.fromkeys(values))

    def validate_type(self, value):
        return self._choice(value, ServiceType.choices, "le type")

    def validate_fees(self, value):
        return self._choice(value, Fees.choices, "les frais")

    def validate_spie_kind(self, value):
        return self._choice(value, SpieKind.choices, "le type d'action SPIE")

    def validate_spie_axis(self, value):
        return self._choice(value, SpieAxis.choices, "l'axe du plan SPIE")

    def validate_thematiques(self, value):
        return self._codes(value, set(interop.enum("Thematique")), "Thématique")

    def validate_publics(self, value):
        value = self._codes(value, set(interop.enum("Public")), "Valeur de public")
        if "tous-publics" in value and len(value) > 1:
            raise serializers.ValidationError("« tous-publics » ne se combine pas avec d'autres publics.")
        return value

    def validate_reception_modes(self, value):
        return self._codes(value, set(interop.enum("ModeAccueil")), "Mode d'accueil")

    def validate_mobilisation_modes(self, value):
        return self._codes(value, set(interop.enum("ModeMobilisation")), "Mode de mobilisation")

    def validate_mobilisable_by(self, value):
        return self._codes(value, set(interop.enum("PersonneMobilisatrice")), "Valeur de « mobilisable par »")

    def validate_commune(self, value):
        if not value:
            return None
        commune = Commune.objects.defer("shape").filter(code_insee=value.strip().upper()).first()
        if commune is None:
            raise serializers.ValidationError(f"Commune inconnue : code INSEE « {value} ».")
        return commune

    def validate_eligibility_zone(self, value):
        zone, problem = interop.check_zone(value)
        if problem:
            raise serializers.ValidationError(problem[:1].upper() + problem[1:] + ".")
        return zone

    def validate_plan_item(self, value):
        if value is None:
            return None
        item = PathwayItem.objects.filter(pk=value, kind=PathwayItem.Kind.ACTION).first()
        if item is None:
            raise serializers.ValidationError("Action du référentiel de parcours inconnue.")
        return item

    def validate(self, attrs):
        if not self.partial:
            missing = {name: ["Ce champ est obligatoire."] for name in ("name", "description") if not attrs.get(name)}
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class ActionStatusSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="published | suspended | archived | draft")
    until = serializers.DateField(required=False, allow_null=True, help_text="Fin de la suspension (suspended).")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class SessionWriteSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=150, required=False, allow_blank=True)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False, allow_null=True)
    start_time = serializers.TimeField(required=False, allow_null=True)
    place = serializers.CharField(max_length=250, required=False, allow_blank=True)
    capacity = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    registration_deadline = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        if not self.partial:
            missing = {name: ["Ce champ est obligatoire."] for name in ("starts_on", "capacity") if name not in attrs}
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


# --- Serializers: search -----------------------------------------------------------------------


class SearchResult:
    """One result of the search: the action's attributes, plus the distance and the way it is
    offered to this search (in person within the radius, or remote)."""

    def __init__(self, action, hit):
        self._action = action
        distance = getattr(hit, "distance_km", None)
        self.distance_km = round(distance, 1) if distance is not None else None
        self.in_person = bool(getattr(hit, "in_person", distance is not None))

    def __getattr__(self, name):
        return getattr(self._action, name)


class SearchHitSerializer(ActionSerializer):
    """A public result: the action without its lifecycle internals, with its distance."""

    HIDDEN = ("status", "status_label", "suspended_until", "published_at")
    distance_km = serializers.FloatField(allow_null=True, help_text="Distance depuis la commune (km).")
    in_person = serializers.BooleanField(help_text="Résultat en présentiel (sinon : à distance).")

    def get_fields(self):
        fields = super().get_fields()
        for name in self.HIDDEN:
            fields.pop(name, None)
        return fields


class SearchResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Nombre total de résultats.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.CharField(),
                                   help_text="Paramètres ignorés, avec la raison (en français).")
    facets = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()),
                                   help_text="Nombre de résultats par valeur de chaque filtre.")
    results = SearchHitSerializer(many=True)


# --- Serializers: referrals --------------------------------------------------------------------


class RefActionSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    name = serializers.CharField()


class RefStructureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RefSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    starts_on = serializers.DateField()


class ReferralTransitionSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    by = ProfessionalRefSerializer(allow_null=True)
    via_link = serializers.BooleanField()
    at = serializers.DateTimeField()
    reason = serializers.CharField()


class ReferralSerializer(serializers.Serializer):
    """A referral as both sides list it: the person's short name only."""

    uid = serializers.UUIDField()
    status = serializers.CharField(help_text=_values(ReferralStatus.choices))
    status_label = serializers.CharField(source="get_status_display")
    person = serializers.SerializerMethodField(help_text="Prénom et initiale ; l'id pour la structure qui oriente.")
    action = RefActionSerializer()
    session = RefSessionSerializer(allow_null=True)
    from_structure = RefStructureSerializer()
    to_structure = RefStructureSerializer()
    sent_by = ProfessionalRefSerializer()
    sent_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    days_since_sent = serializers.SerializerMethodField()
    days_to_answer = serializers.SerializerMethodField()
    start_date = serializers.DateField(allow_null=True)
    started_on = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)
    refusal_reason = serializers.CharField(help_text=_values(RefusalReason.choices))
    drop_reason = serializers.CharField(help_text=_values(DropReason.choices))
    status_text = serializers.CharField()

    def _membership(self):
        return self.context.get("membership")

    def get_person(self, referral) -> dict:
        membership = self._membership()
        data = {"short_name": short_name(referral.person)}
        access = self.context.get("access")
        if access is not None:  # the detail: only for who may open the record
            if access.can_open_record:
                data["id"] = referral.person_id
        elif membership is not None and membership.structure_id == referral.from_structure_id:
            data["id"] = referral.person_id  # the sent list: an identifier only, the record keeps its policy
        return data

    def get_days_since_sent(self, referral) -> int:
        return (timezone.now() - referral.sent_at).days

    def get_days_to_answer(self, referral) -> int | None:
        return (referral.answered_at - referral.sent_at).days if referral.answered_at else None


class ReferralDetailSerializer(ReferralSerializer):
    """What one side may read: the sending side everything, the provider what the referral carries
    (motivation, availability, how to reach the person following the preferred contact)."""

    consent = serializers.BooleanField()
    consent_on = serializers.DateField(allow_null=True)
    motivation = serializers.CharField()
    availability = serializers.CharField()
    preferred_contact = serializers.CharField(help_text=_values(PreferredContact.choices))
    contact = serializers.SerializerMethodField(help_text="Comment joindre la personne (selon le contact préféré).")
    provider_info = serializers.CharField()
    health_info = serializers.SerializerMethodField(help_text="Information de santé partagée (si partagée).")
    link_expires_at = serializers.DateTimeField(allow_null=True)
    side = serializers.SerializerMethodField(help_text="sender (structure qui oriente) | provider")
    next_statuses = serializers.SerializerMethodField(help_text="Étapes possibles pour vous.")
    transitions = ReferralTransitionSerializer(many=True, source="log")

    def get_side(self, referral) -> str:
        return self.context["actor"]

    def get_contact(self, referral) -> dict:
        person, sender = referral.person, referral.sent_by
        kind = referral.preferred_contact
        access = self.context.get("access")
        if self.context["actor"] == workflows.SENDER and access is not None and access.can_open_record:
            return {"phone": person.phone, "email": person.email}
        if kind in (PreferredContact.PHONE, PreferredContact.SMS):
            return {"phone": person.phone}
        if kind == PreferredContact.EMAIL:
            return {"email": person.email}
        return {"referent": str(sender), "referent_email": sender.email, "referent_phone": sender.phone}

    def get_health_info(self, referral) -> str | None:
        if not referral.health_shared:
            return None
        if self.context["actor"] == workflows.SENDER and not self.context["access"].can_see_health:
            return None
        return referral.health_info

    def get_next_statuses(self, referral) -> list[str]:
        return [str(s) for s in self.context.get("targets", [])]


class ReferralCreateSerializer(serializers.Serializer):
    person = serializers.IntegerField(help_text="Identifiant de la personne.")
    action = serializers.UUIDField(help_text="Identifiant public de l'action.")
    session = serializers.IntegerField(required=False, allow_null=True)
    plan_objective = serializers.IntegerField(required=False, allow_null=True,
                                              help_text="Objectif en cours du plan d'action de la personne.")
    consent = serializers.BooleanField(help_text="La personne est d'accord (obligatoire).")
    motivation = serializers.CharField()
    availability = serializers.CharField(required=False, allow_blank=True, max_length=300)
    preferred_contact = serializers.CharField(required=False, help_text=_values(PreferredContact.choices))
    provider_info = serializers.CharField(required=False, allow_blank=True)
    share_health = serializers.BooleanField(required=False, default=False)
    health_info = serializers.CharField(required=False, allow_blank=True)


class ReferralMoveSerializer(serializers.Serializer):
    status = serializers.CharField(help_text=_values(ReferralStatus.choices))
    reason = serializers.CharField(required=False, allow_blank=True,
                                   help_text="Motif : refused → " + _values(RefusalReason.choices)
                                   + " ; dropped → " + _values(DropReason.choices) + " ; cancelled → texte libre.")
    text = serializers.CharField(required=False, allow_blank=True)
    session = serializers.IntegerField(required=False, allow_null=True, help_text="Session (acceptation).")
    start_date = serializers.DateField(required=False, allow_null=True, help_text="Début prévu (acceptation).")
    on = serializers.DateField(required=False, allow_null=True, help_text="Date du début, de la fin ou de l'abandon.")


# --- Helpers -----------------------------------------------------------------------------------


def _actions_queryset():
    return Action.objects.select_related("structure", "commune", "territory", "model")


def _territory_actions(membership):
    """Visible actions of the membership's territory, and every action of its own structure."""
    return _actions_queryset().filter(
        interop.visible_filter() | Q(structure_id=membership.structure_id),
        territory_id=membership.structure.territory_id,
    )


def _can_manage(membership, action):
    return policies.can_manage_actions(membership, action.structure_id)



class CatalogueAPIMixin(SpieAPIMixin):
    def load_action(self, uid):
        action = _territory_actions(self.membership).filter(uid=uid).first()
        if action is None:
            raise NotFound(ACTION_NOT_FOUND)
        return action

    def managed_action(self, uid):
        action = self.load_action(uid)
        if not _can_manage(self.membership, action):
            raise PermissionDenied(MANAGE_DENIED)
        return action

    def action_data(self, action):
        action = _actions_queryset().get(pk=action.pk)
        return ActionSerializer(action, context={"with_contacts": True}).data


# --- Views: actions ----------------------------------------------------------------------------


class ActionListView(CatalogueAPIMixin, generics.GenericAPIView):
    spie_policy = "catalogue.api.actions"
    serializer_class = ActionSerializer
    queryset = Action.objects.none()

    @extend_schema(
        summary="Actions du catalogue de mon territoire (et tous les brouillons de ma structure)",
        parameters=[
            OpenApiParameter("mine", OpenApiTypes.BOOL, description="Seulement les actions de ma structure."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=ActionStatus.values, description="Statut."),
            OpenApiParameter("structure", OpenApiTypes.INT, description="Actions de cette structure."),
            STRUCTURE_HEADER_PARAMETER,
        ],
        responses={200: ActionSerializer(many=True)},
    )
    def get(self, request):
        membership = self.membership
        actions = _territory_actions(membership).order_by("name", "id")
        if request.query_params.get("mine") in ("1", "true", "oui"):
            actions = actions.filter(structure_id=membership.structure_id)
        wanted = request.query_params.get("status", "")
        if wanted:
            if wanted not in ActionStatus.values:
                raise ValidationError({"status": f"Valeur inconnue « {wanted} ». Valeurs possibles : "
                                                 f"{', '.join(ActionStatus.values)}."})
            actions = actions.filter(status=wanted)
        structure = request.query_params.get("structure", "")
        if structure:
            if not structure.isdigit():
                raise ValidationError({"structure": "Un identifiant numérique est attendu."})
            actions = actions.filter(structure_id=int(structure))
        page = self.paginate_queryset(actions)
        return self.get_paginated_response(ActionSerializer(page, many=True, context={"with_contacts": True}).data)

    @extend_schema(
        summary="Créer une action (brouillon) de ma structure",
        parameters=[STRUCTURE_HEADER_PARAMETER], request=ActionWriteSerializer,
        responses={201: ActionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def post(self, request):
        from spie.catalogue.services import actions as action_services

        membership = self.membership
        if not policies.can_manage_actions(membership, membership.structure_id):
            raise PermissionDenied(MANAGE_DENIED)
        data = ActionWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            action = action_services.create_action(membership=membership, data=dict(data.validated_data))
        return Response(self.action_data(action), status=status.HTTP_201_CREATED)


class ActionDetailView(CatalogueAPIMixin, APIView):
    spie_policy = "catalogue.api.action"

    @extend_schema(summary="Une action du catalogue", parameters=[ACTION_UID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: ActionSerializer, 404: ACTION_NOT_FOUND_RESPONSE})
    def get(self, request, uid):
        return Response(ActionSerializer(self.load_action(uid), context={"with_contacts": True}).data)

    @extend_schema(summary="Modifier une action (structure qui la porte)",
                   parameters=[ACTION_UID, STRUCTURE_HEADER_PARAMETER], request=ActionWriteSerializer,
                   responses={200: ActionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                              404: ACTION_NOT_FOUND_RESPONSE})
    def patch(self, request, uid):
        from spie.catalogue.services import actions as action_services

        action = self.managed_action(uid)
        data = ActionWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with service_errors():
            action_services.update_action(action=action, membership=self.membership, data=dict(data.validated_data))
        return Response(self.action_data(action))


class ActionStatusView(CatalogueAPIMixin, APIView):
    spie_policy = "catalogue.api.action_status"

    @extend_schema(summary="Changer le statut d'une action (publier, suspendre, archiver, brouillon)",
                   parameters=[ACTION_UID, STRUCTURE_HEADER_PARAMETER], request=ActionStatusSerializer,
                   responses={200: ActionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                              404: ACTION_NOT_FOUND_RESPONSE})
    def post(self, request, uid):
        from spie.catalogue.services import actions as action_services

        action = self.managed_action(uid)
        data = ActionStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            action_services.change_status(action, data.validated_data["status"], by=self.membership,
                                          until=data.validated_data.get("until"),
                                          reason=data.validated_data.get("reason", ""))
        return Response(self.action_data(action))


class ActionSessionsView(CatalogueAPIMixin, APIView):
    spie_policy = "catalogue.api.sessions"

    @extend_schema(summary="Sessions d'une action (places restantes)",
                   parameters=[ACTION_UID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: ActionSessionSerializer(many=True), 404: ACTION_NOT_FOUND_RESPONSE})
    def get(self, request, uid):
        action = self.load_action(uid)
        sessions = ActionSession.objects.filter(action=action).order_by("starts_on", "start_time", "id")
        return Response(ActionSessionSerializer(sessions, many=True).data)

    @extend_schema(summary="Ajouter une session", parameters=[ACTION_UID, STRUCTURE_HEADER_PARAMETER],
                   request=SessionWriteSerializer,
                   responses={201: ActionSessionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                              404: ACTION_NOT_FOUND_RESPONSE})
    def post(self, request, uid):
        from spie.catalogue.services import actions as action_services

        action = self.managed_action(uid)
        data = SessionWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            session = action_services.create_session(action, membership=self.membership,
                                                     data=dict(data.validated_data))
        return Response(ActionSessionSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionAPIMixin(CatalogueAPIMixin):
    def managed_session(self, uid, session_id):
        action = self.managed_action(uid)
        session = ActionSession.objects.select_related("action__structure").filter(
            pk=session_id, action=action).first()
        if session is None:
            raise NotFound(SESSION_NOT_FOUND)
        return session


class ActionSessionView(SessionAPIMixin, APIView):
    spie_policy = "catalogue.api.session"

    @extend_schema(summary="Modifier une session", parameters=[ACTION_UID, SESSION_ID, STRUCTURE_HEADER_PARAMETER],
                   request=SessionWriteSerializer,
                   responses={200: ActionSessionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                              404: ACTION_NOT_FOUND_RESPONSE})
    def patch(self, request, uid, session_id):
        from spie.catalogue.services import actions as action_services

        session = self.managed_session(uid, session_id)
        data = SessionWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with service_errors():
            session = action_services.update_session(session, membership=self.membership,
                                                     data=dict(data.validated_data))
        return Response(ActionSessionSerializer(session).data)


class ActionSessionCancelView(SessionAPIMixin, APIView):
    spie_policy = "catalogue.api.session_cancel"

    @extend_schema(summary="Annuler une session (les personnes inscrites sont à prévenir)", request=None,
                   parameters=[ACTION_UID, SESSION_ID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: ActionSessionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                              404: ACTION_NOT_FOUND_RESPONSE})
    def post(self, request, uid, session_id):
        from spie.catalogue.services import actions as action_services

        session = self.managed_session(uid, session_id)
        with service_errors():
            action_services.cancel_session(session, membership=self.membership)
        session.refresh_from_db()
        return Response(ActionSessionSerializer(session).data)


# --- View: open search -------------------------------------------------------------------------

# Parameters of the open search: a person's pre-fill (``personne``) is never taken here.
SEARCH_IGNORED = ("personne", "page", "format", "territoire", "par_page")
SEARCH_PARAMETERS = [
    OpenApiParameter("territoire", OpenApiTypes.STR, description="Code du territoire (31 par défaut)."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Mots-clés (sans accents ni pluriels nécessaires)."),
    OpenApiParameter("commune", OpenApiTypes.STR, description="Code INSEE de la commune d'origine."),
    OpenApiParameter("rayon", OpenApiTypes.INT, description="Rayon en km (50 par défaut)."),
    OpenApiParameter("thematique", OpenApiTypes.STR, many=True, description="Thématique(s) data·inclusion."),
    OpenApiParameter("public", OpenApiTypes.STR, many=True, description="Public(s) data·inclusion."),
    OpenApiParameter("type", OpenApiTypes.STR, many=True, description="Type(s) de service."),
    OpenApiParameter("kind", OpenApiTypes.STR, many=True, description="Type(s) d'action SPIE."),
    OpenApiParameter("frais", OpenApiTypes.STR, description="gratuit | payant"),
    OpenApiParameter("distance", OpenApiTypes.STR, description="en-presentiel | a-distance"),
    OpenApiParameter("du", OpenApiTypes.DATE, description="Session à partir du (AAAA-MM-JJ)."),
    OpenApiParameter("au", OpenApiTypes.DATE, description="Session jusqu'au (AAAA-MM-JJ)."),
    OpenApiParameter("places", OpenApiTypes.STR, description="1 : seulement les actions avec des places."),
    OpenApiParameter("page", OpenApiTypes.INT, description="Page de résultats."),
    OpenApiParameter("par_page", OpenApiTypes.INT, description="Résultats par page (20 par défaut, 100 au plus)."),
]


def search_territory(request):
    code = (request.query_params.get("territoire") or "").strip()
    if code:
        territory = Territory.objects.filter(code=code).first()
        if territory is None:
            raise NotFound("Territoire inconnu.")
        return territory
    membership = get_membership(request) if request.user and request.user.is_authenticated else None
    if membership is not None:
        return membership.structure.territory
    territory = (Territory.objects.filter(code=settings.SPIE_TERRITORY).first()
                 or Territory.objects.order_by("code").first())
    if territory is None:
        raise NotFound("Aucun territoire.")
    return territory


def _page_items(page):
    return list(getattr(page, "object_list", page))


class CatalogueSearchView(APIView):
    """The open search of the published catalogue (no login): the same search as the public
    page. Nothing personal goes in or out; the actions' contacts only for logged-in callers."""

    spie_policy = "catalogue.api.search"
    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="Recherche dans le catalogue (ouverte, sans connexion)", parameters=SEARCH_PARAMETERS,
                   responses={200: SearchResponseSerializer})
    def get(self, request):
        from spie.catalogue import search

        territory = search_territory(request)
        query = request.query_params.copy()
        for name in SEARCH_IGNORED:
            query.pop(name, None)
        params, errors = search.params_from_query(query, territory)
        errors = list(errors)
        page_number = request.query_params.get("page", "1")
        if not page_number.isdigit() or int(page_number) < 1:
            errors.append(f"Page invalide « {page_number[:20]} » : première page affichée.")
            page_number = "1"
        per_page = request.query_params.get("par_page", "20")
        per_page = min(100, int(per_page)) if per_page.isdigit() and int(per_page) > 0 else 20
        result = search.search(params)
        page = search.hits_page(result, int(page_number), per_page=per_page)
        with_contacts = policies.can_see_contacts(request.user)
        paginator = getattr(page, "paginator", None)
        items = _page_items(page)
        model_ids = {action.model_id for action, _hit in items if action.model_id}
        model_uids = dict(Action.objects.filter(pk__in=model_ids).values_list("pk", "uid")) if model_ids else {}
        return Response({
            "count": result.total,
            "page": getattr(page, "number", int(page_number)),
            "pages": getattr(paginator, "num_pages", 1),
            "errors": errors,
            "facets": result.facets,
            "results": SearchHitSerializer([SearchResult(action, hit) for action, hit in items], many=True,
                                           context={"with_contacts": with_contacts, "model_uids": model_uids}).data,
        })


# --- Views: referrals --------------------------------------------------------------------------


def _referrals_queryset():
    return Referral.objects.select_related(
        "person__territory", "action__structure", "action__commune", "session", "from_structure", "to_structure",
        "sent_by", "answered_by",
    )


class ReferralAPIMixin(SpieAPIMixin):
    def not_coordinator(self):
        if self.membership.role == Membership.Role.COORDINATOR:
            raise PermissionDenied(COORDINATOR_DENIED)

    def load_referral(self, uid):
        """``(referral, access, actor)``: 404 unknown, 403 when neither side (as the pages)."""
        referral = _referrals_queryset().filter(uid=uid).first()
        if referral is None:
            raise NotFound(REFERRAL_NOT_FOUND)
        access = people_policies.access_for(self.request.user, self.membership, referral.person)
        side = policies.referral_side(self.membership, referral, access)
        if side is None:
            raise PermissionDenied(REFERRAL_DENIED)
        actor = workflows.SENDER if side == policies.SENDER else workflows.PROVIDER
        return referral, access, actor

    def detail_data(self, referral, access, actor, reason):
        """The referral as ``actor``'s side reads it; the read is written to the access log."""
        referral = _referrals_queryset().get(pk=referral.pk)
        referral.log = list(referral.transitions.select_related("by"))
        can_act = actor == workflows.SENDER or policies.can_answer(self.membership, referral)
        targets = workflows.allowed_targets(referral, actor) if can_act else []
        log(self.request, referral.person, AccessLog.Section.REFERRAL, reason=reason)
        return ReferralDetailSerializer(referral, context={
            "membership": self.membership, "actor": actor, "access": access, "targets": targets,
        }).data


class ReferralListView(ReferralAPIMixin, generics.GenericAPIView):
    spie_policy = "catalogue.api.referrals"
    serializer_class = ReferralSerializer
    queryset = Referral.objects.none()

    @extend_schema(
        summary="Orientations envoyées (side=sent) ou reçues (side=received) par ma structure",
        parameters=[
            OpenApiParameter("side", OpenApiTypes.STR, enum=["sent", "received"], required=True,
                             description="sent : envoyées par ma structure ; received : reçues."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=ReferralStatus.values, description="Statut."),
            STRUCTURE_HEADER_PARAMETER,
        ],
        responses={200: ReferralSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def get(self, request):
        self.not_coordinator()
        membership = self.membership
        side = request.query_params.get("side", "")
        if side not in ("sent", "received"):
            raise ValidationError({"side": "Indiquez « sent » (envoyées) ou « received » (reçues)."})
        field = "from_structure_id" if side == "sent" else "to_structure_id"
        referrals = _referrals_queryset().filter(**{field: membership.structure_id}).order_by("-sent_at", "-id")
        wanted = request.query_params.get("status", "")
        if wanted:
            if wanted not in ReferralStatus.values:
                raise ValidationError({"status": f"Valeur inconnue « {wanted} ». Valeurs possibles : "
                                                 f"{', '.join(ReferralStatus.values)}."})
            referrals = referrals.filter(status=wanted)
        page = self.paginate_queryset(referrals)
        return self.get_paginated_response(
            ReferralSerializer(page, many=True, context={"membership": membership}).data)

    @extend_schema(
        summary="Orienter une personne vers une action (ou une session)",
        parameters=[STRUCTURE_HEADER_PARAMETER], request=ReferralCreateSerializer,
        responses={201: ReferralDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    )
    def post(self, request):
        from spie.catalogue.services import referrals as referral_services

        self.not_coordinator()
        data = ReferralCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        person, access = load_person(self, values["person"])
        action = _actions_queryset().filter(uid=values["action"], territory_id=person.territory_id).first()
        if action is None:
            raise ValidationError({"action": [ACTION_NOT_FOUND]})
        session = None
        if values.get("session"):
            session = ActionSession.objects.filter(pk=values["session"], action=action).first()
            if session is None:
                raise ValidationError({"session": ["Cette session n'appartient pas à l'action choisie."]})
        objective = None
        if values.get("plan_objective"):
            objective = PlanObjective.objects.filter(pk=values["plan_objective"], person=person,
                                                     status__in=OPEN_PLAN_STATUSES).first()
            if objective is None:
                raise ValidationError({"plan_objective": [
                    "Choisissez un objectif en cours du plan d'action de la personne."]})
        service_data = {name: values[name] for name in (
            "consent", "motivation", "availability", "preferred_contact", "provider_info", "share_health",
            "health_info") if name in values}
        with service_errors():
            referral = referral_services.send_referral(
                person=person, action=action, membership=self.membership, access=access, data=service_data,
                session=session, plan_objective=objective, base_url=request_base_url(request),
            )
        return Response(self.detail_data(referral, access, workflows.SENDER, "orientation envoyée (API)"),
                        status=status.HTTP_201_CREATED)


class ReferralDetailView(ReferralAPIMixin, APIView):
    spie_policy = "catalogue.api.referral"

    @extend_schema(summary="Une orientation (chaque côté voit ce qui le concerne)",
                   parameters=[REFERRAL_UID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: ReferralDetailSerializer, 403: FORBIDDEN, 404: REFERRAL_NOT_FOUND_RESPONSE})
    def get(self, request, uid):
        referral, access, actor = self.load_referral(uid)
        reason = "orientation envoyée (API)" if actor == workflows.SENDER else "orientation reçue (API)"
        return Response(self.detail_data(referral, access, actor, reason))


class ReferralMoveView(ReferralAPIMixin, APIView):
    spie_policy = "catalogue.api.referral_move"

    @extend_schema(summary="Faire avancer une orientation (accepter, refuser, commencer, terminer, abandonner, "
                           "annuler)",
                   parameters=[REFERRAL_UID, STRUCTURE_HEADER_PARAMETER], request=ReferralMoveSerializer,
                   responses={200: ReferralDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                              404: REFERRAL_NOT_FOUND_RESPONSE})
    def post(self, request, uid):
        from spie.catalogue.services import referrals as referral_services

        referral, access, actor = self.load_referral(uid)
        if actor == workflows.PROVIDER and not policies.can_answer(self.membership, referral):
            raise PermissionDenied(ANSWER_DENIED)
        data = ReferralMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        session = None
        if values.get("session"):
            session = ActionSession.objects.filter(pk=values["session"], action_id=referral.action_id).first()
            if session is None:
                raise ValidationError({"session": ["Cette session n'appartient pas à l'action."]})
        with service_errors():
            referral_services.move(
                referral, values["status"], actor=actor, by=request.user, reason=values.get("reason", ""),
                text=values.get("text", ""), session=session, start_date=values.get("start_date"),
                on=values.get("on"), base_url=request_base_url(request),
            )
        return Response(self.detail_data(referral, access, actor, "suivi d'une orientation (API)"))


urlpatterns = [
    path("catalogue/search/", CatalogueSearchView.as_view(), name="catalogue-search"),
    path("catalogue/actions/", ActionListView.as_view(), name="catalogue-actions"),
    path("catalogue/actions/<uuid:uid>/", ActionDetailView.as_view(), name="catalogue-action"),
    path("catalogue/actions/<uuid:uid>/status/", ActionStatusView.as_view(), name="catalogue-action-status"),
    path("catalogue/actions/<uuid:uid>/sessions/", ActionSessionsView.as_view(), name="catalogue-action-sessions"),
    path("catalogue/actions/<uuid:uid>/sessions/<int:session_id>/", ActionSessionView.as_view(),
         name="catalogue-action-session"),
    path("catalogue/actions/<uuid:uid>/sessions/<int:session_id>/cancel/", ActionSessionCancelView.as_view(),
         name="catalogue-action-session-cancel"),
    path("catalogue/referrals/", ReferralListView.as_view(), name="catalogue-referrals"),
    path("catalogue/referrals/<uuid:uid>/", ReferralDetailView.as_view(), name="catalogue-referral"),
    path("catalogue/referrals/<uuid:uid>/status/", ReferralMoveView.as_view(), name="catalogue-referral-status"),
]
