"""REST API v1 — end of the pathway (exit with its bilan, re-opening) and support after hiring
(jobs and their checkpoints at 1, 3 and 6 months).

Same rules as the pages (``spie.followup.views.exits``): 404 for a person one may not know of,
403 without the record or without the right for the step (``spie.followup.policies``: closing
and re-opening for the référent unique or a structure admin of the group, jobs and checkpoints
for whoever may edit the record); every write goes through ``spie.followup.services``; every
response carrying a person's exit or jobs writes the access log (section "exit" or
"employment", channel "api").

- ``GET|POST persons/{id}/exit/``, ``POST persons/{id}/exit/reopen/``;
- ``GET|POST persons/{id}/employments/``;
- ``POST checkpoints/{id}/``: record a checkpoint.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from spie.core.models import AccessLog
from spie.followup import policies
from spie.followup.models import Checkpoint, Employment, ExitReason, PathwayExit
from spie.followup.services import employment as employment_services
from spie.followup.services import exits as exit_services

from .diagnostics import BAD_REQUEST, PERSON_NOT_FOUND_RESPONSE, Conflict, load_person, log, service_errors
from .permissions import SpieAPIMixin
from .serializers import ProfessionalRefSerializer, StructureRefSerializer
from .views import FORBIDDEN, PERSON_ID, STRUCTURE_HEADER_PARAMETER

READ_DENIED = "Vous n'avez pas accès au parcours de cette personne."
CHECKPOINT_NOT_FOUND = "Point de suivi introuvable."
ALREADY_CLOSED = (
    "Le parcours de cette personne est déjà clos (sortie du {date}). Rouvrez-le d'abord (POST …/exit/reopen/)."
)
NOT_CLOSED = "Le parcours de cette personne n'est pas clos : il n'y a rien à rouvrir."
ALREADY_DONE = "Ce point de suivi est déjà renseigné (le {date})."

CONFLICT = OpenApiResponse(description="État incompatible (ex. parcours déjà clos) : message dans « detail ».")
CHECKPOINT_NOT_FOUND_RESPONSE = OpenApiResponse(
    description="Point de suivi inconnu ou d'une personne d'un autre territoire (réponse identique)."
)
CHECKPOINT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH,
                                 description="Identifiant du point de suivi.")


# --- Serializers ----------------------------------------------------------------------------


class CheckpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    employment = serializers.IntegerField(source="employment_id")
    month = serializers.IntegerField(help_text="1, 3 ou 6 mois après le début de l'emploi.")
    due_on = serializers.DateField()
    done_on = serializers.DateField(allow_null=True)
    done_by = ProfessionalRefSerializer(allow_null=True)
    contacted_person = serializers.BooleanField()
    contacted_employer = serializers.BooleanField()
    outcome = serializers.CharField(help_text="in_job | changed_job | job_ended | unreachable (vide si à faire)")
    outcome_label = serializers.CharField(source="get_outcome_display")
    difficulties = serializers.CharField()
    comment = serializers.CharField()
    overdue = serializers.SerializerMethodField()

    def get_overdue(self, checkpoint) -> bool:
        return checkpoint.done_on is None and checkpoint.due_on < timezone.localdate()


class EmploymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    employer_name = serializers.CharField()
    employer_siret = serializers.CharField()
    employer_contact = serializers.CharField()
    job_title = serializers.CharField()
    contract_type = serializers.CharField()
    contract_type_label = serializers.CharField(source="get_contract_type_display")
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False, allow_null=True)
    started_on = serializers.DateField()
    planned_end_on = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)
    end_reason = serializers.CharField()
    created_by = ProfessionalRefSerializer()
    structure = StructureRefSerializer()
    created_at = serializers.DateTimeField()
    checkpoints = CheckpointSerializer(many=True)


class EmploymentWriteSerializer(serializers.Serializer):
    employer_name = serializers.CharField(max_length=200)
    employer_siret = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                           help_text="Facultatif ; vérifié (14 chiffres, clé de Luhn).")
    employer_contact = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    job_title = serializers.CharField(max_length=200)
    contract_type = serializers.ChoiceField(choices=Employment.ContractType.choices)
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1, required=False, allow_null=True,
                                            coerce_to_string=False)
    started_on = serializers.DateField()
    planned_end_on = serializers.DateField(required=False, allow_null=True)


class ExitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    reason = serializers.CharField()
    reason_label = serializers.CharField(source="get_reason_display")
    reason_detail = serializers.CharField()
    exit_date = serializers.DateField()
    achievements = serializers.CharField()
    difficulties = serializers.CharField()
    person_words = serializers.CharField()
    next_steps = serializers.CharField()
    written_with_person = serializers.BooleanField()
    created_by = ProfessionalRefSerializer()
    structure = StructureRefSerializer()
    created_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True, help_text="Sortie annulée (parcours rouvert).")
    cancelled_by = ProfessionalRefSerializer(allow_null=True)
    cancel_reason = serializers.CharField()


class AllowedExitActionsSerializer(serializers.Serializer):
    close = serializers.BooleanField()
    reopen = serializers.BooleanField()


class PersonExitSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    status = serializers.CharField(help_text="Situation dans le parcours (exited après une sortie).")
    current = ExitSerializer(allow_null=True, help_text="La sortie active, ou null si le parcours est en cours.")
    cancelled = ExitSerializer(many=True, help_text="Sorties annulées (réouvertures).")
    future_appointments = serializers.IntegerField(help_text="Rendez-vous prévus à venir (à annuler en cas de sortie).")
    allowed = AllowedExitActionsSerializer(help_text="Ce que vous pouvez faire maintenant.")


class ExitWriteSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ExitReason.choices)
    reason_detail = serializers.CharField(max_length=250, required=False, allow_blank=True, default="",
                                          help_text="Obligatoire pour « other ».")
    exit_date = serializers.DateField(required=False,
                                      help_text="Par défaut aujourd'hui ; ni future, ni avant l'entrée.")
    achievements = serializers.CharField(required=False, allow_blank=True, default="")
    difficulties = serializers.CharField(required=False, allow_blank=True, default="")
    person_words = serializers.CharField(required=False, allow_blank=True, default="")
    next_steps = serializers.CharField(required=False, allow_blank=True, default="")
    written_with_person = serializers.BooleanField(required=False, default=False)
    job = EmploymentWriteSerializer(
        required=False, allow_null=True,
        help_text="Emploi à enregistrer avec la sortie (motifs sustainable_job, short_job, business_creation).",
    )


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=250, help_text="Motif de la réouverture.")


class CheckpointWriteSerializer(serializers.Serializer):
    done_on = serializers.DateField(required=False, help_text="Par défaut aujourd'hui.")
    contacted_person = serializers.BooleanField(required=False, default=False)
    contacted_employer = serializers.BooleanField(required=False, default=False)
    outcome = serializers.ChoiceField(choices=Checkpoint.Outcome.choices)
    difficulties = serializers.CharField(required=False, allow_blank=True, default="")
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    end_job = serializers.BooleanField(required=False, default=False,
                                       help_text="Avec outcome job_ended : enregistrer la fin de l'emploi.")
    ended_on = serializers.DateField(required=False, allow_null=True, help_text="Par défaut la date du point.")
    end_reason = serializers.CharField(required=False, allow_blank=True, default="")


# --- Helpers --------------------------------------------------------------------------------


def _exits_queryset():
    return PathwayExit.objects.select_related("created_by", "structure", "cancelled_by")


def _employments_queryset():
    return Employment.objects.select_related("created_by", "structure").prefetch_related(
        Prefetch("checkpoints", queryset=Checkpoint.objects.select_related("done_by"))
    )


class FollowupAccessMixin:
    def person_and_access(self, person_id):
        person, access = load_person(self, person_id)
        if not policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        return person, access


# --- Views ----------------------------------------------------------------------------------


class PersonExitViewSet(FollowupAccessMixin, SpieAPIMixin, viewsets.GenericViewSet):
    """``persons/{id}/exit/`` (read, close) and ``persons/{id}/exit/reopen/``."""

    spie_policy = "followup.exit"
    serializer_class = PersonExitSerializer
    queryset = PathwayExit.objects.none()

    def overview_response(self, person, access, *, reason="", status_code=status.HTTP_200_OK):
        person.refresh_from_db(fields=["status", "exited_on", "last_contact_on"])
        exits = list(_exits_queryset().filter(person=person))
        current = next((e for e in exits if e.cancelled_at is None), None)
        can_close = policies.can_close(access)
        data = {
            "person": person.pk,
            "status": person.status,
            "current": current,
            "cancelled": [e for e in exits if e.cancelled_at is not None],
            "future_appointments": len(exit_services.future_appointments(person)),
            "allowed": {"close": can_close and current is None, "reopen": can_close and current is not None},
        }
        log(self.request, person, AccessLog.Section.EXIT, reason=reason)
        return Response(PersonExitSerializer(data).data, status=status_code)

    @extend_schema(
        summary="Sortie du parcours d'une personne : sortie active et bilan, sorties annulées",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: PersonExitSerializer, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    )
    def overview(self, request, pk=None):
        person, access = self.person_and_access(pk)
        return self.overview_response(person, access)

    @extend_schema(
        summary="Clore le parcours avec son bilan (référent unique ou administrateur de sa structure)",
        description=(
            "Avec « job » (motifs sustainable_job, short_job, business_creation), l'emploi est enregistré en même "
            "temps et ses points de suivi à 1, 3 et 6 mois sont programmés."
        ),
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=ExitWriteSerializer,
        responses={201: PersonExitSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE,
                   409: CONFLICT},
    )
    def close(self, request, pk=None):
        person, access = self.person_and_access(pk)
        if not policies.can_close(access):
            raise PermissionDenied(exit_services.CLOSE_DENIED)
        current = exit_services.active_exit(person)
        if current is not None:
            raise Conflict(ALREADY_CLOSED.format(date=f"{current.exit_date:%d/%m/%Y}"))
        serializer = ExitWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        job = data.pop("job", None)
        if job is not None:
            if data["reason"] not in exit_services.JOB_REASONS:
                raise ValidationError({"job": [
                    "Un emploi ne s'enregistre avec la sortie que pour un motif d'emploi ou de création d'entreprise."
                ]})
            try:
                employment_services.clean_job(job)
            except DjangoValidationError as exc:
                raise ValidationError({"job": exc.message_dict}) from exc
        with service_errors():
            exit_services.close_pathway(person, self.membership, access=access, data=data, job=job)
        return self.overview_response(person, access, reason="sortie", status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rouvrir le parcours : la sortie active est annulée, avec un motif",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=ReopenSerializer,
        responses={200: PersonExitSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE,
                   409: CONFLICT},
    )
    def reopen(self, request, pk=None):
        person, access = self.person_and_access(pk)
        if not policies.can_close(access):
            raise PermissionDenied(exit_services.REOPEN_DENIED)
        if exit_services.active_exit(person) is None:
            raise Conflict(NOT_CLOSED)
        serializer = ReopenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            exit_services.reopen_pathway(person, self.membership, access=access,
                                         reason=serializer.validated_data["reason"])
        return self.overview_response(person, access, reason="réouverture")


@extend_schema_view(
    list=extend_schema(
        summary="Emplois d'une personne et leurs points de suivi à 1, 3 et 6 mois (le plus récent d'abord)",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: EmploymentSerializer(many=True), 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    ),
    create=extend_schema(
        summary="Enregistrer une reprise d'emploi : programme les points de suivi à 1, 3 et 6 mois",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=EmploymentWriteSerializer,
        responses={201: EmploymentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    ),
)
class PersonEmploymentViewSet(FollowupAccessMixin, SpieAPIMixin, viewsets.GenericViewSet):
    """``persons/{id}/employments/``."""

    spie_policy = "followup.employment"
    serializer_class = EmploymentSerializer
    queryset = Employment.objects.none()

    def list(self, request, pk=None):
        person, _access = self.person_and_access(pk)
        log(request, person, AccessLog.Section.EMPLOYMENT)
        page = self.paginate_queryset(_employments_queryset().filter(person=person))
        return self.get_paginated_response(EmploymentSerializer(page, many=True).data)

    def create(self, request, pk=None):
        person, access = self.person_and_access(pk)
        if not policies.can_edit(access):
            raise PermissionDenied(employment_services.EDIT_DENIED)
        serializer = EmploymentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            job = employment_services.record_job(person, self.membership, access=access,
                                                 data=dict(serializer.validated_data))
        log(request, person, AccessLog.Section.EMPLOYMENT, reason="reprise d'emploi")
        return Response(EmploymentSerializer(_employments_queryset().get(pk=job.pk)).data,
                        status=status.HTTP_201_CREATED)


class CheckpointViewSet(SpieAPIMixin, viewsets.GenericViewSet):
    """``checkpoints/{id}/``: record a post-hiring checkpoint."""

    spie_policy = "followup.checkpoint"
    serializer_class = CheckpointSerializer
    queryset = Checkpoint.objects.none()

    @extend_schema(
        summary="Renseigner un point de suivi dans l'emploi (personne et/ou employeur contactés, situation)",
        description=(
            "Au moins un contact (personne ou employeur), sauf situation « unreachable ». Un contact avec la "
            "personne met à jour son dernier contact. Avec outcome « job_ended » et end_job, la fin de l'emploi "
            "est enregistrée (ended_on, end_reason)."
        ),
        parameters=[CHECKPOINT_ID, STRUCTURE_HEADER_PARAMETER],
        request=CheckpointWriteSerializer,
        responses={200: CheckpointSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: CHECKPOINT_NOT_FOUND_RESPONSE,
                   409: CONFLICT},
    )
    def record(self, request, pk=None):
        point = Checkpoint.objects.filter(pk=int(pk)).first()
        if point is None:
            raise NotFound(CHECKPOINT_NOT_FOUND)
        person, access = load_person(self, point.person_id, not_found=CHECKPOINT_NOT_FOUND)
        if not policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        if not policies.can_edit(access):
            raise PermissionDenied(employment_services.EDIT_DENIED)
        if point.done_on is not None:
            raise Conflict(ALREADY_DONE.format(date=f"{point.done_on:%d/%m/%Y}"))
        serializer = CheckpointWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.setdefault("done_on", timezone.localdate())
        with service_errors():
            employment_services.record_checkpoint(point, self.membership, access=access, data=data)
        log(request, person, AccessLog.Section.EMPLOYMENT, reason=f"point à {point.month} mois")
        point = Checkpoint.objects.select_related("done_by").get(pk=point.pk)
        return Response(CheckpointSerializer(point).data)


urlpatterns = [
    path("persons/<int:pk>/exit/", PersonExitViewSet.as_view({"get": "overview", "post": "close"}),
         name="person-exit"),
    path("persons/<int:pk>/exit/reopen/",
         PersonExitViewSet.as_view({"post": "reopen"}, spie_policy="followup.exit_reopen"),
         name="person-exit-reopen"),
    path("persons/<int:pk>/employments/", PersonEmploymentViewSet.as_view({"get": "list", "post": "create"}),
         name="person-employments"),
    path("checkpoints/<int:pk>/", CheckpointViewSet.as_view({"post": "record"}), name="checkpoint-record"),
]
