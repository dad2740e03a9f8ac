"""REST API v1 — staged imports (same services and rules as the pages, ``spie.imports``).

    GET  /api/v1/imports/                       the active structure's imports (admins)
    POST /api/v1/imports/                       upload (multipart: kind, file)
    GET  /api/v1/imports/{id}/                  status, progress, counts
    POST /api/v1/imports/{id}/mapping/          column mapping → validation in the background
    GET  /api/v1/imports/{id}/rows/?status=…    the preview's rows (error, create, update, unchanged, dropped)
    PATCH /api/v1/imports/{id}/rows/{row_id}/   fix cells (``values``) or drop / restore (``dropped``)
    POST /api/v1/imports/{id}/commit/           import the valid rows (background, one transaction)

Only the admins of a structure import, into that structure (``X-SPIE-Structure`` picks it): a
non-admin gets 403 on the list, and any job of another structure is a 404.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from spie.imports import services
from spie.imports.models import ImportJob, ImportKind, ImportRow, MatchKey, RowAction
from spie.network.models import User

from .permissions import SpieAPIMixin, get_membership
from .views import STRUCTURE_HEADER_PARAMETER

JOB_NOT_FOUND = OpenApiResponse(description="Import inconnu ou d'une autre structure (réponse identique).")
FORBIDDEN = OpenApiResponse(description="Réservé aux administrateurs de la structure.")
BAD_REQUEST = OpenApiResponse(description="Données invalides : messages en français par champ.")
JOB_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Identifiant de l'import.")
ROW_ID = OpenApiParameter("row_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Identifiant de la ligne.")


class ImportJobSerializer(serializers.ModelSerializer):
    # Plain strings: a choice field named "kind" collides with other enums of the schema.
    kind = serializers.CharField(help_text="persons | professionals | memberships")
    status_label = serializers.CharField(source="get_status_display")
    kind_label = serializers.CharField(source="get_kind_display")
    progress_percent = serializers.IntegerField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "kind_label", "original_name", "file_format", "encoding", "separator", "headers",
            "mapping", "match_key", "referent", "status", "status_label", "progress_done", "progress_total",
            "progress_percent", "rows_count", "valid_count", "error_count", "dropped_count", "create_count",
            "update_count", "unchanged_count", "error_message", "created_at", "committed_at",
        ]
        read_only_fields = fields


class ImportRowSerializer(serializers.ModelSerializer):
    errors = serializers.DictField(child=serializers.CharField(), help_text="{champ: message en français}")
    diff = serializers.DictField(child=serializers.ListField(), help_text="{champ: [ancienne, nouvelle valeur]}")

    class Meta:
        model = ImportRow
        fields = ["id", "line", "raw", "cleaned", "errors", "action", "target_id", "diff", "fixed"]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="persons (personnes accompagnées) | professionals | memberships")
    file = serializers.FileField(help_text="CSV (UTF-8 ou Windows-1252 ; « ; », « , » ou tabulation) ou XLSX, 20 Mo.")


    def validate_kind(self, value):
        if value not in ImportKind.values:
            raise serializers.ValidationError(f"Valeur inconnue « {value} ». Valeurs possibles : "
                                              f"{', '.join(ImportKind.values)}.")
        return value


class MappingSerializer(serializers.Serializer):
    mapping = serializers.DictField(child=serializers.CharField(allow_blank=True),
                                    help_text="{champ de la plateforme: nom de la colonne du fichier}")
    match_key = serializers.ChoiceField(choices=MatchKey.choices, required=False)
    referent = serializers.IntegerField(required=False, help_text="Référent unique des personnes créées.")


class RowPatchSerializer(serializers.Serializer):
    values = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False,
                                   help_text="{champ: texte corrigé}")
    dropped = serializers.BooleanField(required=False, help_text="true : écarter la ligne ; false : la rétablir.")


def _django_errors(exc):
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})


class ImportAPIMixin(SpieAPIMixin):
    def admin_membership(self):
        membership = get_membership(self.request)
        if not services.can_import(membership):
            raise PermissionDenied(services.ADMIN_ONLY)
        return membership

    def get_job(self, pk):
        job = ImportJob.objects.select_related("structure", "territory").filter(pk=pk).first()
        if job is None or not services.can_manage_job(get_membership(self.request), job):
            raise Http404
        return job


class ImportListView(ImportAPIMixin, generics.GenericAPIView):
    spie_policy = "imports.api.list"
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Imports de ma structure", parameters=[STRUCTURE_HEADER_PARAMETER],
                   responses={200: ImportJobSerializer(many=True), 403: FORBIDDEN})
    def get(self, request):
        membership = self.admin_membership()
        jobs = ImportJob.objects.filter(structure_id=membership.structure_id)
        page = self.paginate_queryset(jobs)
        return self.get_paginated_response(ImportJobSerializer(page, many=True).data)

    @extend_schema(summary="Déposer un fichier", request={"multipart/form-data": UploadSerializer},
                   parameters=[STRUCTURE_HEADER_PARAMETER],
                   responses={201: ImportJobSerializer, 400: BAD_REQUEST, 403: FORBIDDEN})
    def post(self, request):
        membership = self.admin_membership()
        data = UploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = services.create_job(membership=membership, kind=data.validated_data["kind"],
                                      uploaded_file=data.validated_data["file"])
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)


class ImportDetailView(ImportAPIMixin, APIView):
    spie_policy = "imports.api.detail"

    @extend_schema(summary="État d'un import", parameters=[JOB_ID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: ImportJobSerializer, 404: JOB_NOT_FOUND})
    def get(self, request, pk):
        return Response(ImportJobSerializer(self.get_job(pk)).data)


class ImportMappingView(ImportAPIMixin, APIView):
    spie_policy = "imports.api.mapping"
    parser_classes = [JSONParser]

    @extend_schema(summary="Associer les colonnes (puis vérification en tâche de fond)", request=MappingSerializer,
                   parameters=[JOB_ID, STRUCTURE_HEADER_PARAMETER],
                   responses={202: ImportJobSerializer, 400: BAD_REQUEST, 404: JOB_NOT_FOUND})
    def post(self, request, pk):
        job = self.get_job(pk)
        data = MappingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referent = None
        if data.validated_data.get("referent"):
            referent = User.objects.filter(pk=data.validated_data["referent"]).first()
            if referent is None:
                raise ValidationError({"referent": "Professionnel inconnu."})
        try:
            job = services.set_mapping(job=job, membership=get_membership(request),
                                       mapping=data.validated_data["mapping"],
                                       match_key=data.validated_data.get("match_key"), referent=referent)
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportRowsView(ImportAPIMixin, generics.GenericAPIView):
    spie_policy = "imports.api.rows"
    serializer_class = ImportRowSerializer

    @extend_schema(
        summary="Lignes de l'aperçu",
        parameters=[JOB_ID, STRUCTURE_HEADER_PARAMETER,
                    OpenApiParameter("status", OpenApiTypes.STR, enum=RowAction.values,
                                     description="Ne garder que les lignes de cet état.")],
        responses={200: ImportRowSerializer(many=True), 404: JOB_NOT_FOUND},
    )
    def get(self, request, pk):
        job = self.get_job(pk)
        rows = ImportRow.objects.filter(job=job).order_by("line")
        wanted = request.query_params.get("status", "")
        if wanted:
            if wanted not in RowAction.values:
                raise ValidationError({"status": f"Valeur inconnue « {wanted} ». Valeurs possibles : "
                                                 f"{', '.join(RowAction.values)}."})
            rows = rows.filter(action=wanted)
        page = self.paginate_queryset(rows)
        # Update and unchanged rows reveal stored values (the diff): written to the access log.
        services.log_preview_reads(request, get_membership(request), job, page,
                                   reason=f"aperçu de l'import {job.pk} (API)")
        return self.get_paginated_response(ImportRowSerializer(page, many=True).data)


class ImportRowView(ImportAPIMixin, APIView):
    spie_policy = "imports.api.row"
    parser_classes = [JSONParser]

    @extend_schema(summary="Corriger, écarter ou rétablir une ligne", request=RowPatchSerializer,
                   parameters=[JOB_ID, ROW_ID, STRUCTURE_HEADER_PARAMETER],
                   responses={200: ImportRowSerializer, 400: BAD_REQUEST, 404: JOB_NOT_FOUND})
    def patch(self, request, pk, row_id):
        job = self.get_job(pk)
        row = ImportRow.objects.filter(pk=row_id, job=job).first()
        if row is None:
            raise Http404
        data = RowPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = get_membership(request)
        try:
            if data.validated_data.get("dropped") is True:
                row = services.drop_row(job=job, row=row, membership=membership)
            elif data.validated_data.get("dropped") is False and row.action == RowAction.DROPPED:
                row = services.restore_row(job=job, row=row, membership=membership)
            if "values" in data.validated_data:
                row = services.fix_row(job=job, row=row, membership=membership,
                                       values=data.validated_data["values"])
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        services.log_preview_reads(request, membership, job, [row],
                                   reason=f"correction d'une ligne de l'import {job.pk}")
        return Response(ImportRowSerializer(row).data)


class ImportCommitView(ImportAPIMixin, APIView):
    spie_policy = "imports.api.commit"

    @extend_schema(summary="Importer les lignes valides (tâche de fond, une seule transaction)", request=None,
                   parameters=[JOB_ID, STRUCTURE_HEADER_PARAMETER],
                   responses={202: ImportJobSerializer, 400: BAD_REQUEST, 404: JOB_NOT_FOUND})
    def post(self, request, pk):
        job = self.get_job(pk)
        try:
            job = services.request_commit(job=job, membership=get_membership(request),
                                          site_url=request.build_absolute_uri("/")[:-1])
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("imports/", ImportListView.as_view(), name="imports"),
    path("imports/<int:pk>/", ImportDetailView.as_view(), name="import-detail"),
    path("imports/<int:pk>/mapping/", ImportMappingView.as_view(), name="import-mapping"),
    path("imports/<int:pk>/rows/", ImportRowsView.as_view(), name="import-rows"),
    path("imports/<int:pk>/rows/<int:row_id>/", ImportRowView.as_view(), name="import-row"),
    path("imports/<int:pk>/commit/", ImportCommitView.as_view(), name="import-commit"),
]
