"""REST API v1 views. Every class names its policy (``spie_policy``); the object-level decision
is made by ``spie.people.policies.access_for`` and every read of a record section is written to
the shared access log (``spie.core.audit.log_access``, channel "api").
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.routers import APIRootView, DefaultRouter

from spie.core.audit import log_access
from spie.core.models import AccessLog
from spie.core.policies import PUBLIC
from spie.network import policies as network_policies
from spie.network import selectors as network_selectors
from spie.network.models import Membership, Structure
from spie.people import policies, selectors, services
from spie.people.models import FollowUpMembership, HealthInfo, Person, TimelineEvent

from . import serializers as api_serializers
from .permissions import STRUCTURE_HEADER, SpieAPIMixin

NOT_FOUND = "Personne introuvable."
RECORD_DENIED = (
    "Vous n'avez pas accès au dossier de cette personne. "
    "Demandez au référent unique à rejoindre son groupe de suivi."
)
HEALTH_DENIED = "Vous n'avez pas accès à la section santé / RQTH de ce dossier."
ACCESS_LOG_DENIED = "Seuls le référent unique et l'administrateur de la structure consultent ce journal."
TIMELINE_DENIED = "Vous n'avez pas accès à l'historique de ce dossier."
EDIT_DENIED = "Vous ne pouvez pas modifier ce dossier."
CREATE_DENIED = "Votre rôle ne permet pas de créer une personne."
SEARCH_DENIED = "Les coordinateurs consultent des données agrégées, pas des dossiers."
DIRECTORY_DENIED = "Vous n'avez pas accès à l'annuaire du réseau."
DUPLICATE = (
    "Cette personne semble déjà exister. Vérifiez les dossiers proposés ; s'il s'agit d'une autre personne, "
    "renvoyez la demande avec « confirm_duplicate »: true (impossible si le NIR est identique)."
)

STRUCTURE_HEADER_PARAMETER = OpenApiParameter(
    STRUCTURE_HEADER, OpenApiTypes.INT, OpenApiParameter.HEADER, required=False,
    description="Identifiant de la structure au titre de laquelle vous agissez (si vous en avez plusieurs).",
)


def choice_param(request, name, choices):
    """A query parameter restricted to ``choices`` ("" when absent); 400 with a French message."""
    value = request.query_params.get(name, "").strip()
    if value and value not in choices:
        raise ValidationError({name: f"Valeur inconnue « {value} ». Valeurs possibles : {', '.join(choices)}."})
    return value


def int_param(request, name):
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 2**63:
        raise ValidationError({name: "Un identifiant numérique est attendu."})
    return int(value)


def as_drf_validation_error(exc):
    return ValidationError(serializers.as_serializer_error(exc))


# --- Schema and router root --------------------------------------------------------------------


class SchemaView(SpectacularAPIView):
    """OpenAPI 3 schema of the API (public documentation, no data)."""

    spie_policy = PUBLIC


class DocsView(SpectacularSwaggerView):
    """Swagger UI, with its assets served locally by drf-spectacular-sidecar."""

    spie_policy = PUBLIC


class SpieAPIRootView(APIRootView):
    spie_policy = "api.root"


class SpieRouter(DefaultRouter):
    APIRootView = SpieAPIRootView
    include_format_suffixes = False


# --- Persons -------------------------------------------------------------------------------

PERSON_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Identifiant de la personne.")
CASELOAD_PARAMETERS = [
    OpenApiParameter(
        "search", OpenApiTypes.STR,
        description=(
            "Recherche dans tout le territoire (noms, date de naissance JJ/MM/AAAA, NIR ou identifiants). "
            "Renvoie des fiches annuaire (PersonCard), y compris de personnes non suivies."
        ),
    ),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=FollowUpMembership.Kind.values,
                     description="Votre rôle dans le groupe de suivi."),
    OpenApiParameter("public", OpenApiTypes.STR, enum=list(selectors.PUBLIC_FILTERS),
                     description="Public (calculé à partir du dossier)."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Début du nom ou du prénom."),
    STRUCTURE_HEADER_PARAMETER,
]
FORBIDDEN = OpenApiResponse(description="Accès refusé (message en français dans « detail »).")
NOT_FOUND_RESPONSE = OpenApiResponse(description="Personne inconnue ou d'un autre territoire (réponse identique).")


@extend_schema_view(
    list=extend_schema(
        summary="Mes personnes accompagnées, ou recherche dans le territoire (?search=)",
        parameters=CASELOAD_PARAMETERS,
        responses=PolymorphicProxySerializer(
            component_name="PersonListItem",
            serializers=[api_serializers.PersonSummarySerializer, api_serializers.PersonCardSerializer],
            resource_type_field_name=None,
            many=True,
        ),
    ),
    retrieve=extend_schema(
        summary="Dossier d'une personne (section « dossier »)",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: api_serializers.PersonRecordSerializer, 403: FORBIDDEN, 404: NOT_FOUND_RESPONSE},
    ),
    create=extend_schema(
        summary="Créer une personne (vous en devenez le référent unique)",
        parameters=[STRUCTURE_HEADER_PARAMETER],
        request=api_serializers.PersonWriteSerializer,
        responses={
            201: api_serializers.PersonRecordSerializer,
            400: OpenApiResponse(description="Données invalides."),
            403: FORBIDDEN,
            409: api_serializers.DuplicatePersonsSerializer,
        },
    ),
    partial_update=extend_schema(
        summary="Modifier le dossier d'une personne",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=api_serializers.PersonWriteSerializer,
        responses={200: api_serializers.PersonRecordSerializer, 400: OpenApiResponse(description="Données invalides."),
                   403: FORBIDDEN, 404: NOT_FOUND_RESPONSE},
    ),
)
class PersonViewSet(SpieAPIMixin, viewsets.GenericViewSet):
    """Persons accompanied: caseload, search cards, the record and its sections."""

    spie_policy = "people.record"
    # The detail sections (health, access-log, timeline) carry a finer name through their
    # @action's ``spie_policy`` (set on the view instance); the meta-test reads the class's.
    queryset = Person.objects.none()
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        return {
            "list": api_serializers.PersonSummarySerializer,
            "create": api_serializers.PersonWriteSerializer,
            "partial_update": api_serializers.PersonWriteSerializer,
            "health": api_serializers.HealthSerializer,
            "access_log": api_serializers.AccessLogEntrySerializer,
            "timeline": api_serializers.TimelineEventSerializer,
        }.get(self.action, api_serializers.PersonRecordSerializer)

    # Loading and checks --------------------------------------------------------------------

    def load(self, pk):
        """The person and the access of the current user; 404 when nothing may be known.

        An unknown id and a person of another territory give exactly the same answer.
        """
        person = selectors.person_for_record(int(pk))
        if person is None:
            raise NotFound(NOT_FOUND)
        access = policies.access_for(
            self.request.user, self.membership, person,
            followups=person.active_followups, consents=person.all_consents,
        )
        if access.relation == policies.NONE:
            raise NotFound(NOT_FOUND)
        return person, access

    @staticmethod
    def require(access, section, message):
        if not access.can_see(section):
            raise PermissionDenied(message)

    def record_response(self, person, access, *, reason="", status_code=status.HTTP_200_OK):
        log_access(self.request, person, AccessLog.Section.RECORD, channel=AccessLog.Channel.API, reason=reason)
        data = api_serializers.PersonRecordSerializer(person, context={"request": self.request, "access": access}).data
        return Response(data, status=status_code)

    # Collection ----------------------------------------------------------------------------

    def list(self, request):
        if "search" in request.query_params:
            return self.search(request.query_params["search"])
        user, membership = request.user, self.membership
        kind = choice_param(request, "kind", FollowUpMembership.Kind.values)
        public = choice_param(request, "public", list(selectors.PUBLIC_FILTERS))
        query = request.query_params.get("q", "").strip()
        qs = selectors.caseload(user, membership, kind=kind or None, public=public or None, query=query)
        mine = FollowUpMembership.objects.filter(user=user, end_date__isnull=True)
        qs = (
            qs.annotate(my_role=Subquery(mine.filter(person=OuterRef("pk")).values("kind")[:1]))
            .select_related("commune")
            .prefetch_related(selectors.active_referent_prefetch())
            .order_by("last_name_key", "first_name_key", "id")
        )
        page = self.paginate_queryset(qs)
        data = api_serializers.PersonSummarySerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    def search(self, query):
        if not policies.can_search_persons(self.membership):
            raise PermissionDenied(SEARCH_DENIED)
        results = selectors.search_persons(self.request.user, self.membership, query)
        page = self.paginate_queryset(results)
        return self.get_paginated_response(api_serializers.PersonCardSerializer(page, many=True).data)

    def create(self, request):
        membership = self.membership
        if not policies.can_create_person(membership):
            raise PermissionDenied(CREATE_DENIED)
        serializer = api_serializers.PersonWriteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        try:
            person = services.create_person(
                membership=membership, data=serializer.person_data(),
                force=serializer.validated_data.get("confirm_duplicate", False),
            )
        except services.DuplicatePerson as exc:
            cards = selectors.search_results_for(request.user, membership, exc.matches)
            body = {"detail": DUPLICATE, "duplicates": api_serializers.PersonCardSerializer(cards, many=True).data}
            return Response(body, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as exc:
            raise as_drf_validation_error(exc) from exc
        person, access = self.load(person.pk)
        return self.record_response(person, access, reason="création", status_code=status.HTTP_201_CREATED)

    # One person ----------------------------------------------------------------------------

    def retrieve(self, request, pk=None):
        person, access = self.load(pk)
        self.require(access, policies.RECORD, RECORD_DENIED)
        return self.record_response(person, access)

    def partial_update(self, request, pk=None):
        person, access = self.load(pk)
        self.require(access, policies.RECORD, RECORD_DENIED)
        if not access.can_edit:
            raise PermissionDenied(EDIT_DENIED)
        serializer = api_serializers.PersonWriteSerializer(
            person, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        try:
            services.update_person(person=person, membership=self.membership, data=serializer.person_data(),
                                   access=access)
        except DjangoValidationError as exc:
            raise as_drf_validation_error(exc) from exc
        person, access = self.load(person.pk)
        return self.record_response(person, access, reason="modification")

    @extend_schema(
        summary="Section santé / RQTH (référent et membres autorisés)",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: api_serializers.HealthSerializer, 403: FORBIDDEN, 404: NOT_FOUND_RESPONSE},
    )
    @action(detail=True, methods=["get"], url_path="health", url_name="health", spie_policy="people.health")
    def health(self, request, pk=None):
        person, access = self.load(pk)
        self.require(access, policies.HEALTH, HEALTH_DENIED)
        log_access(request, person, AccessLog.Section.HEALTH, channel=AccessLog.Channel.API)
        info = HealthInfo.objects.filter(person=person).select_related("updated_by").first() or HealthInfo(
            person=person
        )
        return Response(api_serializers.HealthSerializer(info).data)

    @extend_schema(
        summary="Journal des consultations du dossier (référent unique)",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: api_serializers.AccessLogEntrySerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND_RESPONSE},
    )
    @action(detail=True, methods=["get"], url_path="access-log", url_name="access-log", spie_policy="people.access_log")
    def access_log(self, request, pk=None):
        person, access = self.load(pk)
        self.require(access, policies.ACCESS_LOG, ACCESS_LOG_DENIED)
        log_access(request, person, AccessLog.Section.ACCESS_LOG, channel=AccessLog.Channel.API)
        qs = AccessLog.objects.filter(person=person).select_related("user", "structure").order_by("-at", "-id")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(api_serializers.AccessLogEntrySerializer(page, many=True).data)

    @extend_schema(
        summary="Historique du parcours",
        parameters=[
            PERSON_ID,
            OpenApiParameter("type", OpenApiTypes.STR, description="Type d'événement (ex. created, referent)."),
            STRUCTURE_HEADER_PARAMETER,
        ],
        responses={200: api_serializers.TimelineEventSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND_RESPONSE},
    )
    @action(detail=True, methods=["get"], url_path="timeline", url_name="timeline", spie_policy="people.timeline")
    def timeline(self, request, pk=None):
        person, access = self.load(pk)
        self.require(access, policies.TIMELINE, TIMELINE_DENIED)
        log_access(request, person, AccessLog.Section.TIMELINE, channel=AccessLog.Channel.API)
        qs = TimelineEvent.objects.filter(person=person).select_related("actor", "structure").order_by("-at", "-id")
        kind = request.query_params.get("type", "").strip()
        if kind:
            qs = qs.filter(kind=kind)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(api_serializers.TimelineEventSerializer(page, many=True).data)



# --- Network -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Structures du territoire",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=Structure.Kind.values, description="Type de structure."),
            OpenApiParameter("commune", OpenApiTypes.STR, description="Code INSEE de la commune."),
            OpenApiParameter("q", OpenApiTypes.STR, description="Mots du nom de la structure."),
            STRUCTURE_HEADER_PARAMETER,
        ],
    ),
    retrieve=extend_schema(summary="Une structure du territoire", parameters=[STRUCTURE_HEADER_PARAMETER]),
)
class StructureViewSet(SpieAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Partner structures of the active territory: any professional of the territory."""

    spie_policy = "network.structures"
    serializer_class = api_serializers.StructureSerializer
    queryset = Structure.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if self.is_schema_generation:
            return Structure.objects.none()
        territory = self.membership.structure.territory
        if self.action != "list":
            return network_selectors.structures(territory)
        request = self.request
        kind = choice_param(request, "kind", Structure.Kind.values)
        qs = network_selectors.structures(territory, query=request.query_params.get("q", "").strip(), kind=kind)
        commune = request.query_params.get("commune", "").strip()
        if commune:
            qs = qs.filter(commune_id=commune)
        return qs


@extend_schema_view(list=extend_schema(summary="Mes rattachements (toutes structures, actifs ou non)"))
class OwnMembershipViewSet(SpieAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The current user's own memberships, to choose the ``X-SPIE-Structure`` to act for.

    Open to any authenticated user, even without an active membership (they see why).
    """

    spie_policy = "network.own_memberships"
    permission_classes = [permissions.IsAuthenticated]  # no active membership needed
    serializer_class = api_serializers.OwnMembershipSerializer
    queryset = Membership.objects.none()

    def get_queryset(self):
        if self.is_schema_generation:
            return Membership.objects.none()
        return (
            Membership.objects.filter(user=self.request.user)
            .select_related("structure__territory")
            .order_by("-is_active", "structure__name", "role", "id")
        )


@extend_schema_view(
    list=extend_schema(
        summary="Annuaire des professionnels du territoire",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Nom, structure ou fonction."),
            OpenApiParameter("structure", OpenApiTypes.INT, description="Identifiant de structure."),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=Structure.Kind.values, description="Type de structure."),
            OpenApiParameter("role", OpenApiTypes.STR, enum=Membership.Role.values, description="Rôle."),
            OpenApiParameter("theme", OpenApiTypes.STR, description="Code de thématique."),
            OpenApiParameter("public", OpenApiTypes.STR, description="Code de public (data·inclusion)."),
            STRUCTURE_HEADER_PARAMETER,
        ],
    ),
)
class DirectoryViewSet(SpieAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The network directory: current memberships of the active territory."""

    spie_policy = "network.directory"
    serializer_class = api_serializers.DirectoryEntrySerializer
    queryset = Membership.objects.none()

    def get_queryset(self):
        if self.is_schema_generation:
            return Membership.objects.none()
        membership = self.membership
        if not network_policies.can_see_directory(membership):
            raise PermissionDenied(DIRECTORY_DENIED)
        request = self.request
        params = request.query_params
        qs = network_selectors.directory(
            membership.structure.territory,
            query=params.get("q", "").strip(),
            kind=choice_param(request, "kind", Structure.Kind.values),
            role=choice_param(request, "role", Membership.Role.values),
            theme=params.get("theme", "").strip(),
            public=params.get("public", "").strip(),
        )
        today = timezone.localdate()
        qs = qs.filter(Q(end_date__isnull=True) | Q(end_date__gte=today), start_date__lte=today)
        structure = int_param(request, "structure")
        if structure is not None:
            qs = qs.filter(structure_id=structure)
        return qs
