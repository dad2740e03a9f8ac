"""REST API v1 — orientations (proposal, decision, refusal, cancellation, réorientation, the
chargé d'orientation's queue) and engagement contracts (versions, draft, signature).

Same rules as the pages (``spie.pathways.views``): 404 for a person one may not know of, 403
without the record or without the right for the step (``spie.pathways.policies``); every write
goes through ``spie.pathways.services``; every response carrying a person's orientations or
contract writes the access log (section "orientation" or "contract", channel "api"). The queue
is a list of cards, like the caseload: no log per row.
"""

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from spie.core.models import AccessLog
from spie.diagnostics import selectors as diagnostic_selectors
from spie.diagnostics.models import Diagnostic, OrientationType
from spie.network.models import Structure, User
from spie.pathways import policies, selectors, services, workflows
from spie.pathways.models import EngagementContract, Orientation, OrientationTransition
from spie.people.selectors import PUBLIC_FILTERS

from .diagnostics import (
    BAD_REQUEST,
    PERSON_NOT_FOUND_RESPONSE,
    Conflict,
    load_person,
    log,
    service_errors,
)
from .permissions import SpieAPIMixin
from .serializers import ProfessionalRefSerializer, StructureRefSerializer
from .views import FORBIDDEN, PERSON_ID, STRUCTURE_HEADER_PARAMETER, choice_param, int_param

READ_DENIED = "Vous n'avez pas accès aux orientations et au contrat de cette personne."
PROPOSE_DENIED = "Vous ne pouvez pas proposer d'orientation pour cette personne."
REORIENT_DENIED = "Seul le référent unique peut demander une réorientation."
DECIDE_DENIED = "Seul un chargé d'orientation du territoire décide d'une orientation."
REFUSE_DENIED = "Seul un chargé d'orientation du territoire répond à une demande de réorientation."
CANCEL_DENIED = "Vous ne pouvez pas annuler cette demande."
QUEUE_DENIED = "La file des orientations est réservée aux chargés d'orientation."
CONTRACT_CREATE_DENIED = "Seul le référent unique établit le contrat d'engagement."
CONTRACT_EDIT_DENIED = "Seul le référent unique modifie le contrat d'engagement."
CONTRACT_SIGN_DENIED = "Seul le référent unique signe le contrat d'engagement avec la personne."
ORIENTATION_NOT_FOUND = "Orientation introuvable."
CONTRACT_NOT_FOUND = "Contrat introuvable."
NOT_PENDING = "Cette demande n'est plus en attente de décision (statut : {status})."
DRAFT_ONLY = (
    "Seul un brouillon se modifie : la version {version} est {status}. "
    "Créez une nouvelle version (POST /api/v1/persons/{person}/contracts/)."
)
SIGN_DRAFT_ONLY = "Seul un brouillon peut être signé : cette version l'est déjà ou a été remplacée."
STRUCTURE_INVALID = "Cette structure n'est pas une structure active du territoire."
DIAGNOSTIC_INVALID = "Ce diagnostic n'est pas un diagnostic terminé de cette personne."
TYPE_REQUIRED = "Choisissez le type d'orientation (ou indiquez le diagnostic dont elle découle)."

ORIENTATION_NOT_FOUND_RESPONSE = OpenApiResponse(
    description="Orientation inconnue ou d'une personne d'un autre territoire (réponse identique)."
)
CONTRACT_NOT_FOUND_RESPONSE = OpenApiResponse(
    description="Contrat inconnu ou d'une personne d'un autre territoire (réponse identique)."
)
ORIENTATION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH,
                                  description="Identifiant de l'orientation.")
CONTRACT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH,
                               description="Identifiant de la version du contrat.")
CONFLICT = OpenApiResponse(description="État incompatible (ex. demande déjà décidée) : message dans « detail ».")


def _type_label(value):
    return dict(OrientationType.choices).get(value, "") if value else ""


# --- Serializers: orientations ---------------------------------------------------------------


class DelaySerializer(serializers.Serializer):
    since = serializers.DateField(allow_null=True, help_text="Début du délai.")
    until = serializers.DateField(allow_null=True, help_text="Fin du délai (null tant qu'on attend).")
    target = serializers.IntegerField(help_text="Délai cible en jours (décret 2024-1244).")
    days = serializers.IntegerField(allow_null=True)
    over_delay = serializers.BooleanField(source="over")
    remaining = serializers.IntegerField(allow_null=True)
    done = serializers.BooleanField()


class TransitionSerializer(serializers.ModelSerializer):
    by = ProfessionalRefSerializer()

    class Meta:
        model = OrientationTransition
        fields = ["from_status", "to_status", "by", "at", "reason"]


class OrientationSerializer(serializers.Serializer):
    """An orientation with its transition log (``log`` prefetched)."""

    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    kind = serializers.CharField(help_text="orientation | reorientation")
    kind_label = serializers.CharField(source="get_kind_display")
    status = serializers.CharField(help_text="proposed (à décider) | decided | refused | cancelled")
    status_label = serializers.CharField(source="get_status_display")
    diagnostic = serializers.IntegerField(source="diagnostic_id", allow_null=True)
    proposed_type = serializers.CharField(help_text="professionnelle | socio_professionnelle | sociale")
    proposed_type_label = serializers.SerializerMethodField()
    proposed_structure = StructureRefSerializer(allow_null=True)
    proposal_reason = serializers.CharField()
    proposed_by = ProfessionalRefSerializer()
    proposed_at = serializers.DateTimeField()
    decided_type = serializers.CharField()
    decided_type_label = serializers.SerializerMethodField()
    decided_structure = StructureRefSerializer(allow_null=True)
    decided_referent = ProfessionalRefSerializer(allow_null=True)
    decision_reason = serializers.CharField()
    decided_by = ProfessionalRefSerializer(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    transitions = TransitionSerializer(source="log", many=True)
    next_statuses = serializers.SerializerMethodField()

    def get_proposed_type_label(self, orientation) -> str:
        return _type_label(orientation.proposed_type)

    def get_decided_type_label(self, orientation) -> str:
        return _type_label(orientation.decided_type)

    def get_next_statuses(self, orientation) -> list[str]:
        return [str(s) for s in workflows.allowed_targets(orientation)]


class AllowedActionsSerializer(serializers.Serializer):
    propose = serializers.BooleanField()
    reorient = serializers.BooleanField()
    decide = serializers.BooleanField()
    refuse = serializers.BooleanField()
    cancel = serializers.BooleanField()


class PersonOrientationsSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    orientation_delay = DelaySerializer(help_text="Des droits ouverts (ou de l'entrée) à la décision.")
    contract_delay = DelaySerializer(allow_null=True, help_text="De la décision au contrat signé.")
    pending = serializers.IntegerField(allow_null=True, help_text="Demande en attente de décision.")
    allowed = AllowedActionsSerializer(help_text="Ce que vous pouvez faire maintenant.")
    orientations = OrientationSerializer(many=True)


class ProposalSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=OrientationType.choices, required=False,
        help_text="Facultatif avec « diagnostic » : l'orientation proposée par son résultat.",
    )
    structure = serializers.IntegerField(required=False, allow_null=True, help_text="Structure proposée.")
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=3000,
        help_text="Motif. Avec « diagnostic » et sans motif : les motifs du résultat (hors santé).",
    )
    diagnostic = serializers.IntegerField(required=False, allow_null=True,
                                          help_text="Diagnostic terminé dont découle la proposition.")


class ReorientationSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=OrientationType.choices)
    structure = serializers.IntegerField(required=False, allow_null=True, help_text="Structure demandée.")
    reason = serializers.CharField(max_length=3000, help_text="Motif de la demande de réorientation.")


class DecisionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=OrientationType.choices)
    structure = serializers.IntegerField(help_text="Structure d'accompagnement.")
    referent = serializers.IntegerField(help_text="Identifiant du professionnel désigné référent unique.")
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=3000,
        help_text="Obligatoire si l'orientation décidée diffère de la proposition.",
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=3000)


class PendingOrientationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    proposed_type = serializers.CharField()
    proposed_type_label = serializers.SerializerMethodField()
    proposed_structure = StructureRefSerializer(allow_null=True)
    proposed_at = serializers.DateTimeField()

    def get_proposed_type_label(self, orientation) -> str:
        return _type_label(orientation.proposed_type)


class QueueCardSerializer(serializers.Serializer):
    """A person waiting for a decision: a card, not the record."""

    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    birth_year = serializers.SerializerMethodField()
    commune_name = serializers.SerializerMethodField()
    referent_structure_name = serializers.SerializerMethodField()
    waiting_since = serializers.DateField(allow_null=True)
    days_waiting = serializers.IntegerField(source="delay.days", allow_null=True)
    target_days = serializers.IntegerField(source="delay.target")
    over_delay = serializers.BooleanField(source="delay.over")
    pending_orientation = PendingOrientationSerializer(allow_null=True)

    def get_birth_year(self, person) -> int:
        return person.birth_date.year

    def get_commune_name(self, person) -> str | None:
        return person.commune.name if person.commune_id else None

    def get_referent_structure_name(self, person) -> str | None:
        followup = person.referent_followup
        return followup.structure.name if followup else None


# --- Serializers: contracts ------------------------------------------------------------------


class ContractObjectiveSerializer(serializers.Serializer):
    theme = serializers.CharField(required=False, allow_blank=True, default="", max_length=50,
                                  help_text="Code de thème du référentiel de parcours.")
    label = serializers.CharField(max_length=300)
    source = serializers.ChoiceField(choices=[("referentiel", "Référentiel"), ("free", "Libre")], default="free")


class ContractActionSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=300)
    theme = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    hours = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=48,
                                   help_text="Heures par semaine.")
    due = serializers.CharField(required=False, allow_blank=True, default="", help_text="Échéance AAAA-MM-JJ.")

    def validate_due(self, value):
        if value:
            field = serializers.DateField()
            return field.to_internal_value(value).isoformat()
        return ""


class ContractSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    version = serializers.IntegerField()
    status = serializers.CharField(help_text="draft (brouillon) | signed | superseded (remplacée)")
    status_label = serializers.CharField(source="get_status_display")
    orientation = serializers.IntegerField(source="orientation_id", allow_null=True)
    objectives = ContractObjectiveSerializer(many=True)
    actions = ContractActionSerializer(many=True)
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False)
    hours_reason = serializers.CharField()
    review_date = serializers.DateField(allow_null=True)
    referent = ProfessionalRefSerializer()
    structure = StructureRefSerializer()
    signed_by_person_on = serializers.DateField(allow_null=True)
    signed_by_referent_on = serializers.DateField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    has_scan = serializers.SerializerMethodField()
    created_by = ProfessionalRefSerializer()
    created_at = serializers.DateTimeField()

    def get_has_scan(self, contract) -> bool:
        return bool(contract.signed_scan)


class ContractWriteSerializer(serializers.Serializer):
    objectives = ContractObjectiveSerializer(many=True, required=False)
    actions = ContractActionSerializer(many=True, required=False)
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=0, max_value=48,
                                            coerce_to_string=False, required=False, help_text="15 h par défaut.")
    hours_reason = serializers.CharField(required=False, allow_blank=True, max_length=3000,
                                         help_text="Motif d'une durée réduite ou d'une dispense.")
    review_date = serializers.DateField(required=False, allow_null=True)


class ContractCreateSerializer(ContractWriteSerializer):
    orientation = serializers.IntegerField(required=False, allow_null=True,
                                           help_text="Orientation décidée (par défaut la dernière).")


class SignatureSerializer(serializers.Serializer):
    person_signed_on = serializers.DateField(required=False, allow_null=True)
    referent_signed_on = serializers.DateField(required=False, allow_null=True)
    scan = serializers.FileField(required=False, allow_null=True,
                                 help_text="Scan du contrat signé (PDF, JPEG ou PNG, 5 Mo au plus).")


# --- Helpers ---------------------------------------------------------------------------------


def _orientations_queryset():
    return Orientation.objects.select_related(
        "proposed_structure", "proposed_by", "decided_structure", "decided_referent", "decided_by",
    ).prefetch_related(
        Prefetch("transitions", queryset=OrientationTransition.objects.select_related("by"), to_attr="log")
    )


def _contracts_queryset():
    return EngagementContract.objects.select_related("referent", "structure", "created_by")


def _structure_of(person, structure_id, field="structure"):
    if structure_id is None:
        return None
    structure = Structure.objects.filter(pk=structure_id, territory_id=person.territory_id, is_active=True).first()
    if structure is None:
        raise ValidationError({field: [STRUCTURE_INVALID]})
    return structure


class PathwayAccessMixin:
    def person_and_access(self, person_id):
        person, access = load_person(self, person_id)
        if not policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        return person, access

    def base_url(self):
        return self.request.build_absolute_uri("/")[:-1]


# --- Views: orientations ---------------------------------------------------------------------




class PersonOrientationViewSet(PathwayAccessMixin, SpieAPIMixin, viewsets.GenericViewSet):
    """``persons/{id}/orientations/`` (read, propose) and ``persons/{id}/reorientation/``."""

    spie_policy = "pathways.orientations"
    serializer_class = PersonOrientationsSerializer
    queryset = Orientation.objects.none()

    def orientation_response(self, orientation_id, person, *, reason, status_code=status.HTTP_200_OK):
        orientation = _orientations_queryset().get(pk=orientation_id)
        log(self.request, person, AccessLog.Section.ORIENTATION, reason=reason)
        return Response(OrientationSerializer(orientation).data, status=status_code)

    @extend_schema(
        summary="Orientations d'une personne : demandes, décisions, journal des transitions et délais",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: PersonOrientationsSerializer, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    )
    def overview(self, request, pk=None):
        person, access = self.person_and_access(pk)
        membership = self.membership
        orientations = list(_orientations_queryset().filter(person=person).order_by("-proposed_at", "-id"))
        contracts = list(
            EngagementContract.objects.filter(person=person).only(
                "pk", "person_id", "signed_at", "signed_by_person_on", "signed_by_referent_on"
            )
        )
        pending = next((o for o in orientations if o.status == Orientation.Status.PROPOSED), None)
        decided = any(o.status == Orientation.Status.DECIDED for o in orientations)
        allowed = {
            "propose": pending is None and not decided and policies.can_propose(access, membership, person),
            "reorient": pending is None and decided
            and policies.can_request_reorientation(access, membership, person),
            "decide": pending is not None and policies.can_decide(membership, person),
            "refuse": pending is not None and pending.kind == Orientation.Kind.REORIENTATION
            and policies.can_decide(membership, person),
            "cancel": pending is not None and policies.can_cancel(pending, access, membership, person),
        }
        log(request, person, AccessLog.Section.ORIENTATION)
        data = {
            "person": person.pk,
            "orientation_delay": selectors.orientation_delay(person, orientations),
            "contract_delay": selectors.contract_delay(person, orientations, contracts),
            "pending": pending.pk if pending else None,
            "allowed": allowed,
            "orientations": orientations,
        }
        return Response(PersonOrientationsSerializer(data).data)

    @extend_schema(
        summary="Proposer une orientation (référent, membre du groupe ou chargé d'orientation)",
        description=(
            "Avec « diagnostic » (un diagnostic terminé de la personne), le type et le motif peuvent être omis : "
            "ceux du résultat sont repris (sans les motifs issus de la section santé)."
        ),
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=ProposalSerializer,
        responses={201: OrientationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    )
    def propose(self, request, pk=None):
        person, access = self.person_and_access(pk)
        membership = self.membership
        if not policies.can_propose(access, membership, person):
            raise PermissionDenied(PROPOSE_DENIED)
        serializer = ProposalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        diagnostic = None
        if data.get("diagnostic") is not None:
            diagnostic = (
                Diagnostic.objects.select_related("framework").defer("framework__definition")
                .filter(pk=data["diagnostic"], person=person, status=Diagnostic.Status.COMPLETED)
                .first()
            )
            if diagnostic is None:
                raise ValidationError({"diagnostic": [DIAGNOSTIC_INVALID]})
        kind = data.get("type") or (diagnostic.proposed_orientation if diagnostic else "")
        if not kind:
            raise ValidationError({"type": [TYPE_REQUIRED]})
        reason = (data.get("reason") or "").strip()
        if not reason and diagnostic is not None:
            reason = "\n".join(diagnostic_selectors.shareable_reasons(diagnostic))
        structure = _structure_of(person, data.get("structure"))
        with service_errors():
            orientation = services.propose_orientation(
                person, membership, type=kind, structure=structure, reason=reason, diagnostic=diagnostic,
                base_url=self.base_url(),
            )
        return self.orientation_response(orientation.pk, person, reason="proposition",
                                         status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Demander une réorientation (référent unique)",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=ReorientationSerializer,
        responses={201: OrientationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    )
    def reorient(self, request, pk=None):
        person, access = self.person_and_access(pk)
        membership = self.membership
        if not policies.can_request_reorientation(access, membership, person):
            raise PermissionDenied(REORIENT_DENIED)
        serializer = ReorientationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        structure = _structure_of(person, data.get("structure"))
        with service_errors():
            orientation = services.request_reorientation(
                person, membership, type=data["type"], structure=structure, reason=data["reason"],
                base_url=self.base_url(),
            )
        return self.orientation_response(orientation.pk, person, reason="demande de réorientation",
                                         status_code=status.HTTP_201_CREATED)


QUEUE_PARAMETERS = [
    OpenApiParameter("structure", OpenApiTypes.INT,
                     description="Structure proposée (ou, à défaut, celle du référent unique)."),
    OpenApiParameter("public", OpenApiTypes.STR, enum=list(PUBLIC_FILTERS), description="Public."),
    OpenApiParameter("over_delay", OpenApiTypes.BOOL, description="Seulement les personnes au-delà du délai."),
    STRUCTURE_HEADER_PARAMETER,
]


class OrientationViewSet(PathwayAccessMixin, SpieAPIMixin, viewsets.GenericViewSet):
    """``orientations/{id}/decide|refuse|cancel/`` and ``orientations/queue/``."""

    spie_policy = "pathways.orientation"
    serializer_class = OrientationSerializer
    queryset = Orientation.objects.none()
    lookup_value_regex = r"\d+"

    def load_orientation(self, pk):
        orientation = Orientation.objects.filter(pk=int(pk)).first()
        if orientation is None:
            raise NotFound(ORIENTATION_NOT_FOUND)
        person, access = load_person(self, orientation.person_id, not_found=ORIENTATION_NOT_FOUND)
        if not policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        orientation.person = person
        return orientation, person, access

    @staticmethod
    def require_pending(orientation):
        if orientation.status != Orientation.Status.PROPOSED:
            raise Conflict(NOT_PENDING.format(status=orientation.get_status_display().lower()))

    def respond(self, orientation, person, reason):
        orientation = _orientations_queryset().get(pk=orientation.pk)
        log(self.request, person, AccessLog.Section.ORIENTATION, reason=reason)
        return Response(OrientationSerializer(orientation).data)

    @extend_schema(
        summary="Décider d'une orientation : type, structure, référent unique (chargé d'orientation)",
        description="Le référent désigné devient référent unique de la personne et reprend son groupe de suivi.",
        parameters=[ORIENTATION_ID, STRUCTURE_HEADER_PARAMETER],
        request=DecisionSerializer,
        responses={200: OrientationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                   404: ORIENTATION_NOT_FOUND_RESPONSE, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="decide", url_name="decide", spie_policy="pathways.decide")
    def decide(self, request, pk=None):
        orientation, person, _access = self.load_orientation(pk)
        membership = self.membership
        if not policies.can_decide(membership, person):
            raise PermissionDenied(DECIDE_DENIED)
        self.require_pending(orientation)
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        structure = _structure_of(person, data["structure"])
        referent = User.objects.filter(pk=data["referent"], memberships__structure=structure).distinct().first()
        if referent is None:
            raise ValidationError({"referent": [
                f"Ce professionnel n'est pas référent de la structure « {structure.name} » : "
                "choisissez un référent de cette structure."
            ]})
        with service_errors():
            services.decide_orientation(
                orientation, membership, type=data["type"], structure=structure, referent_user=referent,
                reason=data.get("reason", ""), base_url=self.base_url(),
            )
        return self.respond(orientation, person, "décision")

    @extend_schema(
        summary="Refuser une demande de réorientation, avec un motif (chargé d'orientation)",
        parameters=[ORIENTATION_ID, STRUCTURE_HEADER_PARAMETER],
        request=ReasonSerializer,
        responses={200: OrientationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                   404: ORIENTATION_NOT_FOUND_RESPONSE, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="refuse", url_name="refuse", spie_policy="pathways.refuse")
    def refuse(self, request, pk=None):
        orientation, person, _access = self.load_orientation(pk)
        if not policies.can_decide(self.membership, person):
            raise PermissionDenied(REFUSE_DENIED)
        self.require_pending(orientation)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.refuse(orientation, self.membership, serializer.validated_data["reason"],
                            base_url=self.base_url())
        return self.respond(orientation, person, "refus")

    @extend_schema(
        summary="Annuler une demande en attente, avec un motif (auteur, référent unique ou chargé d'orientation)",
        parameters=[ORIENTATION_ID, STRUCTURE_HEADER_PARAMETER],
        request=ReasonSerializer,
        responses={200: OrientationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                   404: ORIENTATION_NOT_FOUND_RESPONSE, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="cancel", url_name="cancel", spie_policy="pathways.cancel")
    def cancel(self, request, pk=None):
        orientation, person, access = self.load_orientation(pk)
        if not policies.can_cancel(orientation, access, self.membership, person):
            raise PermissionDenied(CANCEL_DENIED)
        self.require_pending(orientation)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.cancel(orientation, self.membership, serializer.validated_data["reason"])
        return self.respond(orientation, person, "annulation")

    @extend_schema(
        summary="File des personnes à orienter (chargé d'orientation), les plus en attente d'abord",
        description="Des fiches, pas des dossiers : aucune consultation de dossier n'est journalisée par ligne.",
        parameters=QUEUE_PARAMETERS,
        responses={200: QueueCardSerializer(many=True), 403: FORBIDDEN},
    )
    @action(detail=False, methods=["get"], url_path="queue", url_name="queue", spie_policy="pathways.queue")
    def queue(self, request):
        membership = self.membership
        if not policies.is_orientation_officer(membership):
            raise PermissionDenied(QUEUE_DENIED)
        territory = membership.structure.territory
        today = timezone.localdate()
        filters = selectors.QueueFilters(
            structure=int_param(request, "structure"),
            over_only=choice_param(request, "over_delay", ["true", "false", "1", "0"]) in ("true", "1"),
            public=choice_param(request, "public", list(PUBLIC_FILTERS)) or None,
        )
        qs = selectors.orientation_queue(territory, filters, today=today).select_related("commune")
        page = self.paginate_queryset(qs)
        persons = selectors.decorate_queue(page, territory, today=today)
        return self.get_paginated_response(QueueCardSerializer(persons, many=True).data)


# --- Views: contracts ------------------------------------------------------------------------


class ContractAccessMixin(PathwayAccessMixin):
    def contract_response(self, contract_id, person, *, reason, status_code=status.HTTP_200_OK):
        contract = _contracts_queryset().get(pk=contract_id)
        log(self.request, person, AccessLog.Section.CONTRACT, reason=reason)
        return Response(ContractSerializer(contract).data, status=status_code)


@extend_schema_view(
    list=extend_schema(
        summary="Versions du contrat d'engagement d'une personne (la plus récente d'abord)",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: ContractSerializer(many=True), 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    ),
    create=extend_schema(
        summary="Préparer une nouvelle version du contrat (brouillon) — référent unique",
        description=(
            "Pré-remplie avec la version précédente, ou à défaut avec les objectifs et actions suggérés par le "
            "dernier diagnostic terminé ; les champs envoyés s'appliquent par-dessus."
        ),
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=ContractCreateSerializer,
        responses={201: ContractSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    ),
)
class PersonContractViewSet(ContractAccessMixin, SpieAPIMixin, viewsets.GenericViewSet):
    """``persons/{id}/contracts/``: versions of the engagement contract, and a new draft."""

    spie_policy = "pathways.contracts"
    serializer_class = ContractSerializer
    queryset = EngagementContract.objects.none()

    def list(self, request, pk=None):
        person, _access = self.person_and_access(pk)
        log(request, person, AccessLog.Section.CONTRACT)
        page = self.paginate_queryset(_contracts_queryset().filter(person=person).order_by("-version"))
        return self.get_paginated_response(ContractSerializer(page, many=True).data)

    def create(self, request, pk=None):
        person, access = self.person_and_access(pk)
        membership = self.membership
        if not policies.can_edit_contract(access, membership, person):
            raise PermissionDenied(CONTRACT_CREATE_DENIED)
        serializer = ContractCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        orientation_id = data.pop("orientation", None)
        orientation = None
        if orientation_id is not None:
            orientation = Orientation.objects.filter(
                pk=orientation_id, person=person, status=Orientation.Status.DECIDED
            ).first()
            if orientation is None:
                raise ValidationError({"orientation": ["Cette orientation n'est pas une orientation décidée de "
                                                       "cette personne."]})
        with service_errors():
            contract = services.create_contract(person, membership, orientation=orientation, data=data)
        return self.contract_response(contract.pk, person, reason="création",
                                      status_code=status.HTTP_201_CREATED)


@extend_schema_view(
    retrieve=extend_schema(
        summary="Une version du contrat d'engagement",
        parameters=[CONTRACT_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: ContractSerializer, 403: FORBIDDEN, 404: CONTRACT_NOT_FOUND_RESPONSE},
    ),
    partial_update=extend_schema(
        summary="Modifier le brouillon du contrat (référent unique)",
        parameters=[CONTRACT_ID, STRUCTURE_HEADER_PARAMETER],
        request=ContractWriteSerializer,
        responses={200: ContractSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: CONTRACT_NOT_FOUND_RESPONSE,
                   409: CONFLICT},
    ),
)
class ContractViewSet(ContractAccessMixin, SpieAPIMixin, viewsets.GenericViewSet):
    """``contracts/{id}/`` (read, edit the draft) and ``contracts/{id}/sign/``."""

    spie_policy = "pathways.contract"
    serializer_class = ContractSerializer
    queryset = EngagementContract.objects.none()
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def load_contract(self, pk):
        contract = EngagementContract.objects.filter(pk=int(pk)).first()
        if contract is None:
            raise NotFound(CONTRACT_NOT_FOUND)
        person, access = load_person(self, contract.person_id, not_found=CONTRACT_NOT_FOUND)
        if not policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        contract.person = person
        return contract, person, access

    def retrieve(self, request, pk=None):
        contract, person, _access = self.load_contract(pk)
        return self.contract_response(contract.pk, person, reason=f"version {contract.version}")

    def partial_update(self, request, pk=None):
        contract, person, access = self.load_contract(pk)
        membership = self.membership
        if not policies.can_edit_contract(access, membership, person):
            raise PermissionDenied(CONTRACT_EDIT_DENIED)
        if contract.status != EngagementContract.Status.DRAFT:
            raise Conflict(DRAFT_ONLY.format(
                version=contract.version, status=contract.get_status_display().lower(), person=person.pk
            ))
        serializer = ContractWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.update_contract(contract, membership, dict(serializer.validated_data))
        return self.contract_response(contract.pk, person, reason="modification")

    @extend_schema(
        summary="Signer le brouillon : dates des deux signatures, scan signé facultatif (multipart)",
        parameters=[CONTRACT_ID, STRUCTURE_HEADER_PARAMETER],
        request={"multipart/form-data": SignatureSerializer, "application/json": SignatureSerializer},
        responses={200: ContractSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: CONTRACT_NOT_FOUND_RESPONSE,
                   409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="sign", url_name="sign", spie_policy="pathways.contract_sign",
            parser_classes=[MultiPartParser, FormParser, JSONParser])
    def sign(self, request, pk=None):
        contract, person, access = self.load_contract(pk)
        membership = self.membership
        if not policies.can_sign_contract(access, membership, person):
            raise PermissionDenied(CONTRACT_SIGN_DENIED)
        if contract.status != EngagementContract.Status.DRAFT:
            raise Conflict(SIGN_DRAFT_ONLY)
        serializer = SignatureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors():
            services.sign_contract(
                contract, membership,
                person_signed_on=data.get("person_signed_on"), referent_signed_on=data.get("referent_signed_on"),
                scan=data.get("scan"),
            )
        return self.contract_response(contract.pk, person, reason="signature")
