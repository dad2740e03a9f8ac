"""REST API v1 — follow-up notes with their confidentiality class.

Same rules as the pages (``spie.followup.views.notes``): only the notes this professional may
read are listed (``followup.policies.visible_notes_q``); a note one may not read is the same 404
as an unknown one; writing honours ``note_classes_writable``; edit and delete by the author only
(``can_change_note``). Every response carrying notes writes the access log (section "note",
channel "api"); attachments are downloaded through the note's policy only.
"""

from django.db.models import Prefetch
from django.http import FileResponse
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from spie.core.models import AccessLog
from spie.followup import attachments as attachment_checks
from spie.followup import policies
from spie.followup.models import Note, NoteAttachment
from spie.followup.services import notes as note_services

from .diagnostics import BAD_REQUEST, PERSON_NOT_FOUND_RESPONSE, load_person, log, service_errors
from .permissions import SpieAPIMixin
from .serializers import ProfessionalRefSerializer, StructureRefSerializer
from .views import FORBIDDEN, PERSON_ID, STRUCTURE_HEADER_PARAMETER, choice_param

READ_DENIED = "Vous n'avez pas accès aux notes de suivi de cette personne."
NOTE_NOT_FOUND = "Note introuvable."
ATTACHMENT_NOT_FOUND = "Pièce jointe introuvable."
NOTE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Identifiant de la note.")
ATTACHMENT_ID = OpenApiParameter("attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                                 description="Identifiant de la pièce jointe.")
NOTE_NOT_FOUND_RESPONSE = OpenApiResponse(
    description="Note inconnue, que vous ne pouvez pas lire, ou d'une personne d'un autre territoire "
                "(réponse identique)."
)
LIST_PARAMETERS = [
    PERSON_ID,
    OpenApiParameter("kind", OpenApiTypes.STR, enum=Note.Kind.values, description="Nature de la note."),
    OpenApiParameter("confidentiality", OpenApiTypes.STR, enum=Note.Confidentiality.values,
                     description="Classe de confidentialité."),
    STRUCTURE_HEADER_PARAMETER,
]


# --- Serializers ------------------------------------------------------------------------------

KIND_HELP = "Nature : " + ", ".join(f"{value} ({label})" for value, label in Note.Kind.choices) + "."


@extend_schema_field({"type": "string", "description": KIND_HELP})
class NoteKindField(serializers.ChoiceField):
    """The kind of a note. Documented without an enum component: "kind" enums of other models
    (structures) would collide in the schema's enum naming."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"invalid_choice": "Nature inconnue « {input} »."})
        super().__init__(choices=Note.Kind.choices, **kwargs)



class NoteAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Taille en octets.")
    sha256 = serializers.CharField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, item) -> str:
        return reverse("api:note-attachment", args=[item.note_id, item.pk])


class NoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    confidentiality = serializers.CharField(help_text="group | structure | health")
    confidentiality_label = serializers.CharField(source="get_confidentiality_display")
    kind = serializers.CharField(help_text="interview | phone | message | observation | other")
    kind_label = serializers.CharField(source="get_kind_display")
    is_contact = serializers.BooleanField(help_text="Contact avec la personne.")
    body = serializers.CharField()
    author = ProfessionalRefSerializer()
    author_structure = StructureRefSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    attachments = NoteAttachmentSerializer(source="files", many=True)
    can_change = serializers.SerializerMethodField(help_text="Vous pouvez modifier ou supprimer cette note (auteur).")

    def get_can_change(self, note) -> bool:
        return bool(self.context.get("user_id")) and note.author_id == self.context["user_id"] \
            and self.context.get("can_edit", False)


class NoteWriteSerializer(serializers.Serializer):
    confidentiality = serializers.ChoiceField(
        choices=Note.Confidentiality.choices,
        help_text="Qui peut lire la note ; seules les classes que vous pouvez écrire sont acceptées.",
    )
    kind = NoteKindField(default=Note.Kind.OBSERVATION)
    body = serializers.CharField(max_length=note_services.MAX_BODY)
    is_contact = serializers.BooleanField(default=False, help_text="Contact avec la personne.")
    contact_on = serializers.DateField(required=False, allow_null=True,
                                       help_text="Date du contact (aujourd'hui par défaut).")


class NoteCreateSerializer(NoteWriteSerializer):
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=attachment_checks.MAX_ATTACHMENTS,
        help_text=f"En multipart : {attachment_checks.HELP_TEXT}",
    )


class NoteUpdateSerializer(NoteWriteSerializer):
    confidentiality = serializers.ChoiceField(choices=Note.Confidentiality.choices, required=False)
    kind = NoteKindField(required=False)
    body = serializers.CharField(max_length=note_services.MAX_BODY, required=False)
    is_contact = serializers.BooleanField(required=False)


# --- Helpers ----------------------------------------------------------------------------------


def _notes_queryset():
    return Note.objects.select_related("author", "author_structure").prefetch_related(
        Prefetch("attachments", queryset=NoteAttachment.objects.only(
            "pk", "note_id", "original_name", "content_type", "size", "sha256"), to_attr="files")
    )


class NoteAccessMixin:
    def person_and_access(self, person_id, *, not_found=None):
        kwargs = {"not_found": not_found} if not_found else {}
        person, access = load_person(self, person_id, **kwargs)
        if not policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        return person, access

    def load_note(self, note_id):
        """A note this professional may read: unknown, unreadable or of an unknown person is the same 404;
        403 when the record itself is closed to them (as for the other sections of the record)."""
        note = _notes_queryset().filter(pk=int(note_id)).first()
        if note is None:
            raise NotFound(NOTE_NOT_FOUND)
        person, access = load_person(self, note.person_id, not_found=NOTE_NOT_FOUND)
        if not policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        if not policies.can_read_note(self.request.user, self.membership, access, note):
            raise NotFound(NOTE_NOT_FOUND)
        note.person = person
        return note, person, access

    def context_for(self, access):
        return {"user_id": self.request.user.id, "can_edit": policies.can_edit(access)}

    def note_response(self, note_id, person, access, *, reason, status_code=status.HTTP_200_OK):
        note = _notes_queryset().get(pk=note_id)
        log(self.request, person, AccessLog.Section.NOTE, reason=reason)
        return Response(NoteSerializer(note, context=self.context_for(access)).data, status=status_code)


# --- Views ------------------------------------------------------------------------------------


class PersonNotesView(NoteAccessMixin, SpieAPIMixin, generics.GenericAPIView):
    """``persons/{id}/notes/``: the notes one may read, and writing a note."""

    spie_policy = "followup.notes"
    serializer_class = NoteSerializer
    queryset = Note.objects.none()
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="Notes de suivi d'une personne que vous pouvez lire (les plus récentes d'abord)",
        parameters=LIST_PARAMETERS,
        responses={200: NoteSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    )
    def get(self, request, pk):
        person, access = self.person_and_access(pk)
        filters = {}
        kind = choice_param(request, "kind", Note.Kind.values)
        confidentiality = choice_param(request, "confidentiality", Note.Confidentiality.values)
        if kind:
            filters["kind"] = kind
        if confidentiality:
            filters["confidentiality"] = confidentiality
        qs = (_notes_queryset().filter(person=person, **filters)
              .filter(policies.visible_notes_q(request.user, self.membership, access))
              .order_by("-created_at", "-id"))
        log(request, person, AccessLog.Section.NOTE)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(NoteSerializer(page, many=True, context=self.context_for(access)).data)

    @extend_schema(
        summary="Écrire une note (JSON, ou multipart avec jusqu'à 3 pièces jointes)",
        description=(
            "La classe de confidentialité doit être l'une de celles que vous pouvez écrire (groupe, structure ; "
            "santé seulement avec l'accès à la section santé). Un contact avec la personne met à jour la date "
            "du dernier contact."
        ),
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request={"application/json": NoteWriteSerializer, "multipart/form-data": NoteCreateSerializer},
        responses={201: NoteSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    )
    def post(self, request, pk):
        person, access = self.person_and_access(pk)
        if not policies.note_classes_writable(access):
            raise PermissionDenied(note_services.WRITE_DENIED)
        files = request.FILES.getlist("attachments") if request.FILES else []
        serializer = NoteWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        with service_errors():
            note = note_services.add_note(
                person, self.membership, confidentiality=values["confidentiality"], kind=values["kind"],
                body=values["body"], is_contact=values["is_contact"], contact_on=values.get("contact_on"),
                files=files, access=access,
            )
        return self.note_response(note.pk, person, access, reason="ajout d'une note",
                                  status_code=status.HTTP_201_CREATED)


class NoteDetailView(NoteAccessMixin, SpieAPIMixin, generics.GenericAPIView):
    """``notes/{id}/``: read a note; its author edits or deletes it."""

    spie_policy = "followup.note"
    serializer_class = NoteSerializer
    queryset = Note.objects.none()

    @extend_schema(
        summary="Une note de suivi (si vous pouvez la lire)",
        parameters=[NOTE_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: NoteSerializer, 403: FORBIDDEN, 404: NOTE_NOT_FOUND_RESPONSE},
    )
    def get(self, request, pk):
        note, person, access = self.load_note(pk)
        return self.note_response(note.pk, person, access, reason=f"note {note.pk}")

    @extend_schema(
        summary="Modifier une note (auteur seulement)",
        parameters=[NOTE_ID, STRUCTURE_HEADER_PARAMETER],
        request=NoteUpdateSerializer,
        responses={200: NoteSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOTE_NOT_FOUND_RESPONSE},
    )
    def patch(self, request, pk):
        note, person, access = self.load_note(pk)
        if not policies.can_change_note(request.user, access, note):
            raise PermissionDenied(note_services.CHANGE_DENIED)
        serializer = NoteUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        with service_errors():
            note_services.update_note(
                note, self.membership, body=values.get("body", note.body), kind=values.get("kind", note.kind),
                confidentiality=values.get("confidentiality", note.confidentiality),
                is_contact=values.get("is_contact", note.is_contact), contact_on=values.get("contact_on"),
                access=access,
            )
        return self.note_response(note.pk, person, access, reason="modification d'une note")

    @extend_schema(
        summary="Supprimer une note et ses pièces jointes (auteur seulement)",
        parameters=[NOTE_ID, STRUCTURE_HEADER_PARAMETER],
        responses={204: None, 403: FORBIDDEN, 404: NOTE_NOT_FOUND_RESPONSE},
    )
    def delete(self, request, pk):
        note, _person, access = self.load_note(pk)
        if not policies.can_change_note(request.user, access, note):
            raise PermissionDenied(note_services.CHANGE_DENIED)
        with service_errors():
            note_services.delete_note(note, self.membership, access=access)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NoteAttachmentView(NoteAccessMixin, SpieAPIMixin, generics.GenericAPIView):
    """``notes/{id}/attachments/{attachment_id}/``: download a file of a note one may read."""

    spie_policy = "followup.note_attachment"
    serializer_class = NoteAttachmentSerializer
    queryset = NoteAttachment.objects.none()

    @extend_schema(
        summary="Télécharger une pièce jointe d'une note (si vous pouvez lire la note)",
        parameters=[NOTE_ID, ATTACHMENT_ID, STRUCTURE_HEADER_PARAMETER],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 403: FORBIDDEN,
                   404: NOTE_NOT_FOUND_RESPONSE},
    )
    def get(self, request, pk, attachment_id):
        note, person, _access = self.load_note(pk)
        item = NoteAttachment.objects.filter(pk=attachment_id, note=note).first()
        if item is None:
            raise NotFound(ATTACHMENT_NOT_FOUND)
        try:
            handle = item.file.open("rb")
        except FileNotFoundError:
            raise NotFound(ATTACHMENT_NOT_FOUND) from None
        log(request, person, AccessLog.Section.NOTE, reason=f"pièce jointe de la note {note.pk}")
        response = FileResponse(handle, as_attachment=True, filename=item.original_name,
                                content_type=item.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response


urlpatterns = [
    path("persons/<int:pk>/notes/", PersonNotesView.as_view(), name="person-notes"),
    path("notes/<int:pk>/", NoteDetailView.as_view(), name="note-detail"),
    path("notes/<int:pk>/attachments/<int:attachment_id>/", NoteAttachmentView.as_view(), name="note-attachment"),
]
