"""REST API v1 — appointments with the person: list, schedule, change, cancel, attendance.

Same rules as the pages (``spie.followup.views.appointments``): 404 for a person (or an
appointment of a person) one may not know of, 403 without the record or without the right to
edit it (``spie.followup.policies``); every write goes through
``spie.followup.services.appointments`` (messages to the person leave after commit); every
response carrying a person's appointments writes the access log (section "appointment",
channel "api").

- ``GET|POST persons/{id}/appointments/``;
- ``GET|PATCH appointments/{id}/``;
- ``POST appointments/{id}/attendance/``, ``POST appointments/{id}/cancel/``.
"""

from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from spie.core.models import AccessLog
from spie.followup import policies
from spie.followup.models import Appointment, Notification
from spie.followup.services import appointments as services

from .diagnostics import BAD_REQUEST, PERSON_NOT_FOUND_RESPONSE, Conflict, load_person, log, service_errors
from .permissions import SpieAPIMixin
from .serializers import ProfessionalRefSerializer, StructureRefSerializer
from .views import FORBIDDEN, PERSON_ID, STRUCTURE_HEADER_PARAMETER

READ_DENIED = "Vous n'avez pas accès aux rendez-vous de cette personne."
APPOINTMENT_NOT_FOUND = "Rendez-vous introuvable."
APPOINTMENT_NOT_FOUND_RESPONSE = OpenApiResponse(
    description="Rendez-vous inconnu ou d'une personne d'un autre territoire (réponse identique)."
)
APPOINTMENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH,
                                  description="Identifiant du rendez-vous.")
CONFLICT = OpenApiResponse(description="État incompatible (ex. rendez-vous annulé ou passé) : message dans « detail ».")


# --- Serializers ------------------------------------------------------------------------------


class NotificationSerializer(serializers.Serializer):
    """A message sent to the person: channel, kind and outcome (never its text)."""

    channel = serializers.CharField(help_text="email | sms")
    channel_label = serializers.CharField(source="get_channel_display")
    kind = serializers.CharField(help_text="invitation | reminder | change | cancellation")
    kind_label = serializers.CharField(source="get_kind_display")
    status = serializers.CharField(help_text="sent | failed")
    error = serializers.CharField()
    at = serializers.DateTimeField()


class AppointmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    mode = serializers.CharField(help_text="in_person | phone | video | home")
    mode_label = serializers.CharField(source="get_mode_display")
    place = serializers.CharField(help_text="Adresse (sur place) ou lien https:// (visioconférence).")
    purpose = serializers.CharField(help_text="Objet, jamais envoyé à la personne.")
    with_user = ProfessionalRefSerializer()
    structure = StructureRefSerializer()
    status = serializers.CharField(help_text="scheduled | cancelled")
    status_label = serializers.CharField(source="get_status_display")
    cancel_reason = serializers.CharField()
    attendance = serializers.CharField(help_text="pending | present | absent | excused")
    attendance_label = serializers.CharField(source="get_attendance_display")
    attendance_recorded_at = serializers.DateTimeField(allow_null=True)
    notify_email = serializers.BooleanField()
    notify_sms = serializers.BooleanField()
    invitation_sent_at = serializers.DateTimeField(allow_null=True)
    reminder_sent_at = serializers.DateTimeField(allow_null=True)
    notifications = NotificationSerializer(source="sent_messages", many=True)
    created_at = serializers.DateTimeField()


class AppointmentWriteSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(
        help_text="Date et heure (ISO 8601) ; dans le futur sauf « already_happened »."
    )
    duration_minutes = serializers.IntegerField(required=False, default=45, min_value=services.MIN_DURATION,
                                                max_value=services.MAX_DURATION)
    mode = serializers.ChoiceField(choices=Appointment.Mode.choices, required=False, default=Appointment.Mode.IN_PERSON)
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=250)
    purpose = serializers.CharField(max_length=200)
    with_user = serializers.IntegerField(
        required=False, allow_null=True,
        help_text="Professionnel du groupe de suivi qui tient le rendez-vous (par défaut : vous, sinon le référent).",
    )
    notify_email = serializers.BooleanField(required=False, allow_null=True, default=None,
                                            help_text="Par défaut : oui si la personne a un courriel.")
    notify_sms = serializers.BooleanField(required=False, allow_null=True, default=None,
                                          help_text="Par défaut : oui si la personne a un mobile valide.")
    already_happened = serializers.BooleanField(
        required=False, default=False,
        help_text="Enregistrer après coup un rendez-vous passé (avec « attendance » ; aucun message envoyé).",
    )
    attendance = serializers.ChoiceField(choices=[(v, label) for v, label in Appointment.Attendance.choices
                                                  if v != "pending"], required=False, allow_blank=True)


class AppointmentPatchSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(required=False)
    duration_minutes = serializers.IntegerField(required=False, min_value=services.MIN_DURATION,
                                                max_value=services.MAX_DURATION)
    mode = serializers.ChoiceField(choices=Appointment.Mode.choices, required=False)
    place = serializers.CharField(required=False, allow_blank=True, max_length=250)
    purpose = serializers.CharField(required=False, max_length=200)
    with_user = serializers.IntegerField(required=False)
    notify_email = serializers.BooleanField(required=False)
    notify_sms = serializers.BooleanField(required=False)


class AttendanceSerializer(serializers.Serializer):
    attendance = serializers.ChoiceField(
        choices=[(v, label) for v, label in Appointment.Attendance.choices if v != "pending"],
        help_text="present | absent | excused",
    )


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=250, help_text="Motif (jamais envoyé à la personne).")


# --- Helpers --------------------------------------------------------------------------------


def _with_messages(appointments):
    appointments = list(appointments)
    by_appointment = {}
    for notification in Notification.objects.filter(appointment__in=[a.pk for a in appointments]).order_by("at", "id"):
        by_appointment.setdefault(notification.appointment_id, []).append(notification)
    for appointment in appointments:
        appointment.sent_messages = by_appointment.get(appointment.pk, [])
    return appointments


def _queryset():
    return Appointment.objects.select_related("with_user", "structure")


class AppointmentAccessMixin:
    def person_and_access(self, person_id, *, not_found=None):
        kwargs = {"not_found": not_found} if not_found else {}
        person, access = load_person(self, person_id, **kwargs)
        if not policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        return person, access

    def respond(self, appointment_id, person, *, reason, status_code=status.HTTP_200_OK):
        appointment = _with_messages(_queryset().filter(pk=appointment_id))[0]
        log(self.request, person, AccessLog.Section.APPOINTMENT, reason=reason)
        return Response(AppointmentSerializer(appointment).data, status=status_code)


# --- Views ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Rendez-vous d'une personne (les plus récents d'abord), avec les messages envoyés",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: AppointmentSerializer(many=True), 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    ),
    create=extend_schema(
        summary="Fixer un rendez-vous (la convocation part par courriel et/ou SMS) ou en enregistrer un passé",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=AppointmentWriteSerializer,
        responses={201: AppointmentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    ),
)
class PersonAppointmentViewSet(AppointmentAccessMixin, SpieAPIMixin, viewsets.GenericViewSet):
    """``persons/{id}/appointments/``."""

    spie_policy = "followup.appointments"
    serializer_class = AppointmentSerializer
    queryset = Appointment.objects.none()

    def list(self, request, pk=None):
        person, _access = self.person_and_access(pk)
        log(request, person, AccessLog.Section.APPOINTMENT)
        page = self.paginate_queryset(_queryset().filter(person=person).order_by("-starts_at", "-id"))
        return self.get_paginated_response(AppointmentSerializer(_with_messages(page), many=True).data)

    def create(self, request, pk=None):
        person, access = self.person_and_access(pk)
        if not policies.can_edit(access):
            raise PermissionDenied(services.EDIT_DENIED)
        serializer = AppointmentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("with_user") is None:
            default = services.default_with_user(person, request.user)
            data["with_user"] = default.user_id if default else None
        with service_errors():
            appointment = services.schedule_appointment(person, self.membership, access=access, data=data)
        return self.respond(appointment.pk, person, reason="rendez-vous fixé", status_code=status.HTTP_201_CREATED)


class AppointmentViewSet(AppointmentAccessMixin, SpieAPIMixin, viewsets.GenericViewSet):
    """``appointments/{id}/`` (read, change) and its ``attendance/`` and ``cancel/`` steps."""

    spie_policy = "followup.appointment"
    serializer_class = AppointmentSerializer
    queryset = Appointment.objects.none()

    def load(self, pk, *, edit):
        appointment = Appointment.objects.filter(pk=int(pk)).first()
        if appointment is None:
            raise NotFound(APPOINTMENT_NOT_FOUND)
        person, access = self.person_and_access(appointment.person_id, not_found=APPOINTMENT_NOT_FOUND)
        if edit and not policies.can_edit(access):
            raise PermissionDenied(services.EDIT_DENIED)
        appointment.person = person
        return appointment, person, access

    @staticmethod
    def require_open(appointment):
        if appointment.status != Appointment.Status.SCHEDULED:
            raise Conflict(services.NOT_SCHEDULED)
        if appointment.attendance != Appointment.Attendance.PENDING:
            raise Conflict(services.ATTENDANCE_RECORDED)

    @extend_schema(
        summary="Un rendez-vous, avec les messages envoyés à la personne",
        parameters=[APPOINTMENT_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: AppointmentSerializer, 403: FORBIDDEN, 404: APPOINTMENT_NOT_FOUND_RESPONSE},
    )
    def retrieve(self, request, pk=None):
        appointment, person, _access = self.load(pk, edit=False)
        return self.respond(appointment.pk, person, reason="")

    @extend_schema(
        summary="Modifier un rendez-vous à venir (un changement de date, lieu ou professionnel prévient la personne)",
        parameters=[APPOINTMENT_ID, STRUCTURE_HEADER_PARAMETER],
        request=AppointmentPatchSerializer,
        responses={200: AppointmentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                   404: APPOINTMENT_NOT_FOUND_RESPONSE, 409: CONFLICT},
    )
    def partial_update(self, request, pk=None):
        appointment, person, access = self.load(pk, edit=True)
        self.require_open(appointment)
        if appointment.starts_at <= timezone.now():
            raise Conflict(services.ALREADY_STARTED)
        serializer = AppointmentPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.update_appointment(appointment, self.membership, access=access,
                                        data=dict(serializer.validated_data))
        return self.respond(appointment.pk, person, reason="modification")

    @extend_schema(
        summary="Renseigner la présence : present (compte comme un contact), absent, excused",
        parameters=[APPOINTMENT_ID, STRUCTURE_HEADER_PARAMETER],
        request=AttendanceSerializer,
        responses={200: AppointmentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                   404: APPOINTMENT_NOT_FOUND_RESPONSE, 409: CONFLICT},
    )
    def attendance(self, request, pk=None):
        appointment, person, access = self.load(pk, edit=True)
        if appointment.status != Appointment.Status.SCHEDULED:
            raise Conflict("Ce rendez-vous est annulé : sa présence ne se renseigne pas.")
        if appointment.starts_at > timezone.now():
            raise Conflict(services.NOT_YET)
        serializer = AttendanceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.record_attendance(appointment, self.membership, access=access,
                                       attendance=serializer.validated_data["attendance"])
        return self.respond(appointment.pk, person, reason="présence")

    @extend_schema(
        summary="Annuler un rendez-vous avec un motif (un rendez-vous à venir prévient la personne, sans le motif)",
        parameters=[APPOINTMENT_ID, STRUCTURE_HEADER_PARAMETER],
        request=CancelSerializer,
        responses={200: AppointmentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN,
                   404: APPOINTMENT_NOT_FOUND_RESPONSE, 409: CONFLICT},
    )
    def cancel(self, request, pk=None):
        appointment, person, access = self.load(pk, edit=True)
        self.require_open(appointment)
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.cancel_appointment(appointment, self.membership, access=access,
                                        reason=serializer.validated_data["reason"])
        return self.respond(appointment.pk, person, reason="annulation")


urlpatterns = [
    path("persons/<int:pk>/appointments/",
         PersonAppointmentViewSet.as_view({"get": "list", "post": "create"}), name="person-appointments"),
    path("appointments/<int:pk>/",
         AppointmentViewSet.as_view({"get": "retrieve", "patch": "partial_update"}), name="appointment-detail"),
    path("appointments/<int:pk>/attendance/",
         AppointmentViewSet.as_view({"post": "attendance"}, spie_policy="followup.appointment_attendance"),
         name="appointment-attendance"),
    path("appointments/<int:pk>/cancel/",
         AppointmentViewSet.as_view({"post": "cancel"}, spie_policy="followup.appointment_cancel"),
         name="appointment-cancel"),
]
