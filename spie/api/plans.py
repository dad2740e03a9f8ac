"""REST API v1 — the person's plan: objectives (by theme of the pathway référentiel) with their
actions, the copy of the signed contract, and status changes along ``PLAN_TRANSITIONS``.

Same rules as the pages (``spie.followup.views.plan``): 404 for a person one may not know of
(and for an objective or action of such a person), 403 without the record or without the right
to write (``spie.followup.policies``); every write goes through ``spie.followup.services.plan``;
every response carrying the plan writes the access log (section "plan", channel "api").
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from spie.core.models import AccessLog
from spie.followup import policies
from spie.followup.models import PlanAction, PlanObjective, PlanStatus, PlanTransition
from spie.followup.services import plan as plan_services
from spie.network.models import Structure, User
from spie.referentials.models import PathwayItem, PathwayTheme

from .diagnostics import BAD_REQUEST, PERSON_NOT_FOUND_RESPONSE, load_person, log, service_errors
from .permissions import SpieAPIMixin
from .serializers import ProfessionalRefSerializer, StructureRefSerializer
from .views import FORBIDDEN, PERSON_ID, STRUCTURE_HEADER_PARAMETER

READ_DENIED = "Vous n'avez pas accès au plan d'action de cette personne."
OBJECTIVE_NOT_FOUND = "Objectif introuvable."
ACTION_NOT_FOUND = "Action introuvable."
OBJECTIVE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Identifiant de l'objectif.")
ACTION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Identifiant de l'action.")
OBJECTIVE_NOT_FOUND_RESPONSE = OpenApiResponse(
    description="Objectif inconnu ou d'une personne d'un autre territoire (réponse identique)."
)
ACTION_NOT_FOUND_RESPONSE = OpenApiResponse(
    description="Action inconnue ou d'une personne d'un autre territoire (réponse identique)."
)


# --- Serializers ------------------------------------------------------------------------------


class PlanTransitionSerializer(serializers.ModelSerializer):
    by = ProfessionalRefSerializer()

    class Meta:
        model = PlanTransition
        fields = ["from_status", "to_status", "by", "at", "reason"]


class ThemeRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class PlanActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    objective = serializers.IntegerField(source="objective_id")
    item = serializers.IntegerField(source="item_id", allow_null=True, help_text="Action du référentiel.")
    label = serializers.CharField()
    status = serializers.CharField(help_text="planned | in_progress | on_hold | done | abandoned | cancelled")
    status_label = serializers.CharField(source="get_status_display")
    planned_on = serializers.DateField(allow_null=True)
    due_on = serializers.DateField(allow_null=True)
    started_on = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)
    responsible_user = ProfessionalRefSerializer(allow_null=True)
    responsible_structure = StructureRefSerializer(allow_null=True)
    provider = serializers.CharField()
    next_statuses = serializers.SerializerMethodField()
    transitions = PlanTransitionSerializer(source="log", many=True)

    def get_next_statuses(self, action) -> list[str]:
        return [str(s) for s in plan_services.allowed_targets(action.status)]


class PlanObjectiveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    theme = ThemeRefSerializer(allow_null=True)
    item = serializers.IntegerField(source="item_id", allow_null=True, help_text="Objectif du référentiel.")
    label = serializers.CharField()
    source = serializers.CharField(help_text="referentiel | contract | free")
    contract = serializers.IntegerField(source="contract_id", allow_null=True)
    contract_position = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(help_text="planned | in_progress | on_hold | done | abandoned | cancelled")
    status_label = serializers.CharField(source="get_status_display")
    started_on = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)
    created_by = ProfessionalRefSerializer()
    structure = StructureRefSerializer()
    created_at = serializers.DateTimeField()
    next_statuses = serializers.SerializerMethodField()
    transitions = PlanTransitionSerializer(source="log", many=True)
    actions = PlanActionSerializer(source="action_list", many=True)

    def get_next_statuses(self, objective) -> list[str]:
        return [str(s) for s in plan_services.allowed_targets(objective.status)]


class ObjectiveCreateSerializer(serializers.Serializer):
    item = serializers.IntegerField(required=False, allow_null=True,
                                    help_text="Objectif du référentiel de parcours (sinon « label »).")
    theme = serializers.CharField(required=False, allow_blank=True, max_length=50,
                                  help_text="Code du thème (saisie libre).")
    label = serializers.CharField(required=False, allow_blank=True, max_length=300,
                                  help_text="Objectif en saisie libre.")


class ActionCreateSerializer(serializers.Serializer):
    item = serializers.IntegerField(required=False, allow_null=True,
                                    help_text="Action du référentiel, du thème de l'objectif (sinon « label »).")
    label = serializers.CharField(required=False, allow_blank=True, max_length=300)
    planned_on = serializers.DateField(required=False, allow_null=True)
    due_on = serializers.DateField(required=False, allow_null=True)
    responsible_user = serializers.IntegerField(required=False, allow_null=True,
                                                help_text="Professionnel du groupe de suivi.")
    responsible_structure = serializers.IntegerField(required=False, allow_null=True,
                                                     help_text="Structure active du territoire.")
    provider = serializers.CharField(required=False, allow_blank=True, max_length=200)


class TransitionRequestSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PlanStatus.choices, help_text="Nouveau statut.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300,
                                   help_text="Obligatoire pour abandoned et cancelled.")


class ImportResultSerializer(serializers.Serializer):
    objectives_created = serializers.IntegerField()
    actions_created = serializers.IntegerField()
    plan = PlanObjectiveSerializer(many=True)


# --- Helpers ----------------------------------------------------------------------------------


class PlanAccessMixin:
    def person_and_access(self, person_id, *, not_found=None):
        kwargs = {"not_found": not_found} if not_found else {}
        person, access = load_person(self, person_id, **kwargs)
        if not policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        return person, access

    @staticmethod
    def require_edit(access):
        if not policies.can_edit(access):
            raise PermissionDenied(plan_services.EDIT_DENIED)

    def load_objective(self, objective_id):
        objective = PlanObjective.objects.filter(pk=int(objective_id)).first()
        if objective is None:
            raise NotFound(OBJECTIVE_NOT_FOUND)
        person, access = self.person_and_access(objective.person_id, not_found=OBJECTIVE_NOT_FOUND)
        objective.person = person
        return objective, person, access

    def load_action(self, action_id):
        action = PlanAction.objects.filter(pk=int(action_id)).first()
        if action is None:
            raise NotFound(ACTION_NOT_FOUND)
        person, access = self.person_and_access(action.person_id, not_found=ACTION_NOT_FOUND)
        action.person = person
        return action, person, access

    def objective_data(self, person, objective_id, reason):
        objective = plan_services.objectives_queryset(person, with_log=True).get(pk=objective_id)
        log(self.request, person, AccessLog.Section.PLAN, reason=reason)
        return PlanObjectiveSerializer(objective).data


# --- Views ------------------------------------------------------------------------------------


class PersonPlanView(PlanAccessMixin, SpieAPIMixin, generics.GenericAPIView):
    """``persons/{id}/plan/``: the objectives with their actions, and adding an objective."""

    spie_policy = "followup.plan"
    serializer_class = PlanObjectiveSerializer
    queryset = PlanObjective.objects.none()

    @extend_schema(
        summary="Plan d'action d'une personne : objectifs (par thème) et leurs actions, journal des statuts",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: PlanObjectiveSerializer(many=True), 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    )
    def get(self, request, pk):
        person, _access = self.person_and_access(pk)
        log(request, person, AccessLog.Section.PLAN)
        page = self.paginate_queryset(plan_services.objectives_queryset(person, with_log=True))
        return self.get_paginated_response(PlanObjectiveSerializer(page, many=True).data)

    @extend_schema(
        summary="Ajouter un objectif : du référentiel (« item ») ou en saisie libre (« label », « theme »)",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=ObjectiveCreateSerializer,
        responses={201: PlanObjectiveSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    )
    def post(self, request, pk):
        person, access = self.person_and_access(pk)
        self.require_edit(access)
        serializer = ObjectiveCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        item = theme = None
        if data.get("item") is not None:
            item = PathwayItem.objects.select_related("theme").filter(pk=data["item"]).first()
            if item is None:
                raise ValidationError({"item": ["Objectif du référentiel inconnu."]})
        if data.get("theme"):
            theme = PathwayTheme.objects.filter(pk=data["theme"]).first()
            if theme is None:
                raise ValidationError({"theme": [f"Thème inconnu « {data['theme']} »."]})
        with service_errors():
            objective = plan_services.add_objective(person, self.membership, item=item, theme=theme,
                                                    label=data.get("label", ""), access=access)
        return Response(self.objective_data(person, objective.pk, "ajout d'un objectif"),
                        status=status.HTTP_201_CREATED)


class ImportContractView(PlanAccessMixin, SpieAPIMixin, generics.GenericAPIView):
    """``persons/{id}/plan/import-contract/``: copy the signed contract's objectives (idempotent)."""

    spie_policy = "followup.plan_edit"
    serializer_class = ImportResultSerializer
    queryset = PlanObjective.objects.none()

    @extend_schema(
        summary="Reprendre les objectifs et actions du contrat d'engagement signé (jamais deux fois les mêmes)",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=None,
        responses={200: ImportResultSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    )
    def post(self, request, pk):
        person, access = self.person_and_access(pk)
        self.require_edit(access)
        with service_errors():
            objectives, actions = plan_services.import_contract(person, self.membership, access=access)
        log(request, person, AccessLog.Section.PLAN, reason="reprise du contrat")
        return Response(ImportResultSerializer({
            "objectives_created": len(objectives), "actions_created": len(actions),
            "plan": list(plan_services.objectives_queryset(person, with_log=True)),
        }).data)


class ObjectiveActionsView(PlanAccessMixin, SpieAPIMixin, generics.GenericAPIView):
    """``plan/objectives/{id}/actions/``: add an action to an objective."""

    spie_policy = "followup.plan_edit"
    serializer_class = PlanActionSerializer
    queryset = PlanAction.objects.none()

    @extend_schema(
        summary="Ajouter une action à un objectif : du référentiel (« item ») ou en saisie libre (« label »)",
        parameters=[OBJECTIVE_ID, STRUCTURE_HEADER_PARAMETER],
        request=ActionCreateSerializer,
        responses={201: PlanObjectiveSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: OBJECTIVE_NOT_FOUND_RESPONSE},
    )
    def post(self, request, pk):
        objective, person, access = self.load_objective(pk)
        self.require_edit(access)
        serializer = ActionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        item = user = structure = None
        if data.get("item") is not None:
            item = PathwayItem.objects.filter(pk=data["item"]).first()
            if item is None:
                raise ValidationError({"item": ["Action du référentiel inconnue."]})
        if data.get("responsible_user") is not None:
            user = User.objects.filter(pk=data["responsible_user"]).first()
            if user is None:
                raise ValidationError({"responsible_user": [
                    "Ce professionnel ne fait pas partie du groupe de suivi de la personne."]})
        if data.get("responsible_structure") is not None:
            structure = Structure.objects.filter(pk=data["responsible_structure"]).first()
            if structure is None:
                raise ValidationError({"responsible_structure": [
                    "Cette structure n'est pas une structure active du territoire."]})
        with service_errors():
            plan_services.add_action(
                objective, self.membership, item=item, label=data.get("label", ""),
                planned_on=data.get("planned_on"), due_on=data.get("due_on"), responsible_user=user,
                responsible_structure=structure, provider=data.get("provider", ""), access=access,
            )
        return Response(self.objective_data(person, objective.pk, "ajout d'une action"),
                        status=status.HTTP_201_CREATED)


class ObjectiveTransitionView(PlanAccessMixin, SpieAPIMixin, generics.GenericAPIView):
    """``plan/objectives/{id}/transition/``: change an objective's status."""

    spie_policy = "followup.plan_edit"
    serializer_class = PlanObjectiveSerializer
    queryset = PlanObjective.objects.none()

    def _transition(self, request, pk):
        objective, person, access = self.load_objective(pk)
        self.require_edit(access)
        serializer = TransitionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            plan_services.change_status(objective, self.membership, serializer.validated_data["status"],
                                        reason=serializer.validated_data.get("reason", ""), access=access)
        return Response(self.objective_data(person, objective.pk, "changement de statut"))

    @extend_schema(
        summary="Changer le statut d'un objectif (transitions autorisées seulement ; motif pour abandon/annulation)",
        parameters=[OBJECTIVE_ID, STRUCTURE_HEADER_PARAMETER],
        request=TransitionRequestSerializer,
        responses={200: PlanObjectiveSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: OBJECTIVE_NOT_FOUND_RESPONSE},
    )
    def post(self, request, pk):
        return self._transition(request, pk)

    @extend_schema(
        summary="Changer le statut d'un objectif (équivalent au POST)",
        parameters=[OBJECTIVE_ID, STRUCTURE_HEADER_PARAMETER],
        request=TransitionRequestSerializer,
        responses={200: PlanObjectiveSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: OBJECTIVE_NOT_FOUND_RESPONSE},
    )
    def patch(self, request, pk):
        return self._transition(request, pk)


class ActionTransitionView(PlanAccessMixin, SpieAPIMixin, generics.GenericAPIView):
    """``plan/actions/{id}/transition/``: change an action's status."""

    spie_policy = "followup.plan_edit"
    serializer_class = PlanObjectiveSerializer
    queryset = PlanAction.objects.none()

    def _transition(self, request, pk):
        action, person, access = self.load_action(pk)
        self.require_edit(access)
        serializer = TransitionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            plan_services.change_status(action, self.membership, serializer.validated_data["status"],
                                        reason=serializer.validated_data.get("reason", ""), access=access)
        return Response(self.objective_data(person, action.objective_id, "changement de statut"))

    @extend_schema(
        summary="Changer le statut d'une action (renvoie son objectif, avec ses actions)",
        parameters=[ACTION_ID, STRUCTURE_HEADER_PARAMETER],
        request=TransitionRequestSerializer,
        responses={200: PlanObjectiveSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: ACTION_NOT_FOUND_RESPONSE},
    )
    def post(self, request, pk):
        return self._transition(request, pk)

    @extend_schema(
        summary="Changer le statut d'une action (équivalent au POST)",
        parameters=[ACTION_ID, STRUCTURE_HEADER_PARAMETER],
        request=TransitionRequestSerializer,
        responses={200: PlanObjectiveSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: ACTION_NOT_FOUND_RESPONSE},
    )
    def patch(self, request, pk):
        return self._transition(request, pk)


urlpatterns = [
    path("persons/<int:pk>/plan/", PersonPlanView.as_view(), name="person-plan"),
    path("persons/<int:pk>/plan/import-contract/", ImportContractView.as_view(), name="person-plan-import"),
    path("plan/objectives/<int:pk>/actions/", ObjectiveActionsView.as_view(), name="plan-objective-actions"),
    path("plan/objectives/<int:pk>/transition/", ObjectiveTransitionView.as_view(), name="plan-objective-transition"),
    path("plan/actions/<int:pk>/transition/", ActionTransitionView.as_view(), name="plan-action-transition"),
]
