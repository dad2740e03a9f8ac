"""REST API v1 — frameworks (trames) and diagnostics: list, start, answer, complete, result.

Same rules as the pages (``spie.diagnostics.views``): a person the user may not know of (unknown
id, another territory) is a 404, a person whose record the user may not open is a 403; every
write goes through ``spie.diagnostics.services``; every response that carries a person's
diagnostic data writes the access log (section "diagnostic", channel "api"). Answers to the
questions of restricted sections (health) are only shown to those who see the person's health
section; the others get ``restricted_answers_hidden: true`` and may not write them either.

The helpers at the top (loading a person, turning service errors into API errors) are shared
with ``spie.api.pathways``.
"""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from spie.core.audit import log_access
from spie.core.models import AccessLog
from spie.diagnostics import engine, loaders, selectors, services
from spie.diagnostics import policies as diagnostic_policies
from spie.diagnostics.models import Diagnostic, Framework
from spie.people import policies as people_policies
from spie.people import selectors as people_selectors

from .permissions import SpieAPIMixin
from .serializers import ProfessionalRefSerializer, StructureRefSerializer
from .views import FORBIDDEN, NOT_FOUND, PERSON_ID, STRUCTURE_HEADER_PARAMETER

DIAGNOSTIC_NOT_FOUND = "Diagnostic introuvable."
FRAMEWORK_NOT_FOUND = "Trame introuvable."
READ_DENIED = "Vous n'avez pas accès aux diagnostics de cette personne."
START_DENIED = "Seuls les membres du groupe de suivi peuvent commencer un diagnostic."
FILL_DENIED = "Vous ne pouvez pas modifier ce diagnostic."
NOT_COMPLETED = "Ce diagnostic n'est pas terminé : il n'a pas encore de résultat."
ANSWERS_INVALID = "Certaines réponses ne sont pas valides ; les autres réponses sont enregistrées."
UNKNOWN_QUESTION = "Question inconnue « {code} » dans cette version de la trame."
RESTRICTED_QUESTION = (
    "Cette question relève de la section santé à accès restreint : vous ne pouvez pas y répondre."
)
# Same words as the result page for the reasons coming from restricted sections.
RESTRICTED_NOTE = "Précisions réservées à la section santé à accès restreint."

BAD_REQUEST = OpenApiResponse(description="Données invalides (messages en français, par champ).")
CONFLICT = OpenApiResponse(description="État incompatible (ex. diagnostic déjà terminé) : message dans « detail ».")
DIAGNOSTIC_NOT_FOUND_RESPONSE = OpenApiResponse(
    description="Diagnostic inconnu ou d'une personne d'un autre territoire (réponse identique)."
)
DIAGNOSTIC_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Identifiant du diagnostic."
)
PERSON_NOT_FOUND_RESPONSE = OpenApiResponse(
    description="Personne inconnue ou d'un autre territoire (réponse identique)."
)


class Conflict(APIException):
    """409: the request does not fit the current state of the object (French ``detail``)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Opération impossible dans l'état actuel."
    default_code = "conflict"


# --- Shared helpers (also used by spie.api.pathways) ------------------------------------------


def load_person(view, person_id, *, not_found=NOT_FOUND):
    """``(person, access)`` of the current user; 404 when nothing may be known of the person.

    An unknown id and a person of another territory give exactly the same answer.
    """
    person = people_selectors.person_for_record(int(person_id))
    if person is None:
        raise NotFound(not_found)
    access = people_policies.access_for(
        view.request.user, view.membership, person,
        followups=person.active_followups, consents=person.all_consents,
    )
    if access.relation == people_policies.NONE:
        raise NotFound(not_found)
    return person, access


def validation_error(exc):
    """A DRF ValidationError from a Django one ("__all__" becomes the non-field key)."""
    detail = serializers.as_serializer_error(exc)
    if "__all__" in detail:
        messages = list(detail.pop("__all__"))
        detail[api_settings.NON_FIELD_ERRORS_KEY] = list(detail.get(api_settings.NON_FIELD_ERRORS_KEY, [])) + messages
    return ValidationError(detail)


@contextmanager
def service_errors():
    """Services raise Django errors with French messages: keep the messages in the API answer."""
    try:
        yield
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from exc
    except DjangoValidationError as exc:
        raise validation_error(exc) from exc


def log(request, person, section, reason=""):
    log_access(request, person, section, channel=AccessLog.Channel.API, reason=reason)


# --- Serializers: frameworks -------------------------------------------------------------------


class FrameworkSummarySerializer(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.IntegerField()
    kind = serializers.CharField(help_text="diagnostic | potentialities")
    kind_label = serializers.CharField(source="get_kind_display")
    title = serializers.CharField()
    description = serializers.CharField()
    is_current = serializers.BooleanField(help_text="Version courante : les nouveaux diagnostics l'utilisent.")
    loaded_at = serializers.DateTimeField()


class FrameworkOptionSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    situation = serializers.CharField(allow_null=True, help_text="Situation du référentiel de parcours.")
    exclusive = serializers.BooleanField()


class FrameworkQuestionSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField(help_text="single | multiple | yes_no | scale | number | date | rome | commune | text")
    label = serializers.CharField()
    help = serializers.CharField()
    required = serializers.BooleanField(help_text="Obligatoire pour terminer le diagnostic.")
    theme = serializers.CharField(allow_null=True)
    restricted = serializers.BooleanField(help_text="Question d'une section santé à accès restreint.")
    options = FrameworkOptionSerializer(many=True)
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    unit = serializers.CharField()
    min_label = serializers.CharField()
    max_label = serializers.CharField()
    max_length = serializers.IntegerField(allow_null=True, help_text="Texte libre : longueur maximale.")
    reminder = serializers.CharField(help_text="Rappel affiché avec le texte libre (pas de données sensibles).")


class FrameworkSectionSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    intro = serializers.CharField()
    theme = serializers.CharField(allow_null=True)
    restricted = serializers.BooleanField()
    questions = FrameworkQuestionSerializer(many=True)


class FrameworkThemeSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class FrameworkDefinitionSerializer(FrameworkSummarySerializer):
    """One framework version as the form shows it (rules stay on the server)."""

    themes = FrameworkThemeSerializer(many=True)
    sections = FrameworkSectionSerializer(many=True)
    restricted_questions = serializers.ListField(child=serializers.CharField())


def _question_data(question):
    return {
        "code": question.code,
        "kind": question.kind,
        "label": question.label,
        "help": question.help or "",
        "required": bool(question.required),
        "theme": question.theme,
        "restricted": bool(question.restricted),
        "options": [
            {"value": o.value, "label": o.label, "situation": o.situation, "exclusive": bool(o.exclusive)}
            for o in question.options
        ],
        "min": question.min if question.kind in engine.NUMERIC_KINDS else None,
        "max": question.max if question.kind in engine.NUMERIC_KINDS else None,
        "unit": question.unit or "",
        "min_label": question.min_label or "",
        "max_label": question.max_label or "",
        "max_length": question.max_length if question.kind == "text" else None,
        "reminder": question.reminder,
    }


def framework_definition(framework, compiled):
    return {
        "code": framework.code,
        "version": framework.version,
        "kind": framework.kind,
        "get_kind_display": framework.get_kind_display(),
        "title": framework.title,
        "description": framework.description,
        "is_current": framework.is_current,
        "loaded_at": framework.loaded_at,
        "themes": [{"code": code, "label": label} for code, label in compiled.themes.items()],
        "sections": [
            {
                "code": section.code,
                "title": section.title,
                "intro": section.intro or "",
                "theme": section.theme,
                "restricted": bool(section.restricted),
                "questions": [_question_data(q) for q in section.questions],
            }
            for section in compiled.sections
        ],
        "restricted_questions": list(compiled.restricted_questions),
    }


# --- Serializers: diagnostics ------------------------------------------------------------------


class FrameworkRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()


class DiagnosticProgressSerializer(serializers.Serializer):
    answered = serializers.IntegerField()
    total = serializers.IntegerField()


class MissingQuestionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


def visible_codes(compiled, restricted):
    """Question codes the user may see: all, or all but the restricted sections'."""
    if restricted:
        return list(compiled.questions)
    hidden = set(compiled.restricted_questions)
    return [code for code in compiled.questions if code not in hidden]


class DiagnosticSummarySerializer(serializers.Serializer):
    """A diagnostic in a person's list. Context: ``restricted`` (may see health answers)."""

    id = serializers.IntegerField()
    status = serializers.CharField(help_text="draft (brouillon) | completed (terminé)")
    status_label = serializers.CharField(source="get_status_display")
    framework = FrameworkRefSerializer()
    started_at = serializers.DateTimeField()
    started_by = ProfessionalRefSerializer()
    structure = StructureRefSerializer()
    updated_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    completed_by = ProfessionalRefSerializer(allow_null=True)
    proposed_orientation = serializers.CharField(
        help_text="Orientation proposée par le résultat : professionnelle | socio_professionnelle | sociale (vide "
                  "pour un brouillon ou une grille des potentialités)."
    )
    proposed_orientation_label = serializers.SerializerMethodField()
    previous = serializers.IntegerField(source="previous_id", allow_null=True,
                                        help_text="Diagnostic précédent dont les réponses ont été reprises.")
    progress = serializers.SerializerMethodField()

    def get_proposed_orientation_label(self, diagnostic) -> str:
        return diagnostic.get_proposed_orientation_display() if diagnostic.proposed_orientation else ""

    @extend_schema_field(DiagnosticProgressSerializer)
    def get_progress(self, diagnostic):
        compiled = loaders.compiled_for(diagnostic.framework)
        codes = visible_codes(compiled, self.context.get("restricted", False))
        answers = diagnostic.answers or {}
        answered = sum(1 for code in codes if answers.get(code) not in (None, "", []))
        return {"answered": answered, "total": len(codes)}


class DiagnosticDetailSerializer(DiagnosticSummarySerializer):
    """A diagnostic with its answers. Context: ``restricted`` and ``can_fill``."""

    answers = serializers.SerializerMethodField()
    restricted_answers_hidden = serializers.SerializerMethodField()
    person_words = serializers.CharField(help_text="Avec les mots de la personne.")
    missing_required = serializers.SerializerMethodField()
    can_fill = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DictField(
        help_text="Réponses {code de question: valeur} (voir la définition de la trame pour les types)."
    ))
    def get_answers(self, diagnostic):
        compiled = loaders.compiled_for(diagnostic.framework)
        answers = diagnostic.answers or {}
        return {code: answers[code] for code in visible_codes(compiled, self.context.get("restricted", False))
                if code in answers}

    def get_restricted_answers_hidden(self, diagnostic) -> bool:
        return not self.context.get("restricted", False)

    @extend_schema_field(MissingQuestionSerializer(many=True))
    def get_missing_required(self, diagnostic):
        if diagnostic.is_completed:
            return []
        return [{"code": code, "label": label} for code, label in services.missing_required(diagnostic)]

    def get_can_fill(self, diagnostic) -> bool:
        return bool(self.context.get("can_fill", False))


class DiagnosticStartSerializer(serializers.Serializer):
    framework = serializers.CharField(
        default="spie", max_length=50,
        help_text="Code de la trame : « spie » (diagnostic) ou « potentialites » (grille des potentialités).",
    )

    def validate_framework(self, value):
        if value not in selectors.current_frameworks():
            raise serializers.ValidationError(f"Trame inconnue « {value} ».")
        return value


class DiagnosticAnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(
        required=False,
        help_text="{code de question: valeur}. Une valeur vide (null, \"\", []) efface la réponse ; "
                  "les questions absentes ne changent pas.",
    )
    person_words = serializers.CharField(required=False, allow_blank=True, max_length=10000,
                                         help_text="Avec les mots de la personne.")


class AnswerErrorsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    answers = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                    help_text="{code de question: [message]}")
    saved = serializers.ListField(child=serializers.CharField(), help_text="Questions enregistrées.")


class MissingAnswersSerializer(serializers.Serializer):
    detail = serializers.CharField()
    missing = MissingQuestionSerializer(many=True)


class ResultBarrierSerializer(serializers.Serializer):
    theme = serializers.CharField()
    label = serializers.CharField()
    severity = serializers.CharField(help_text="light | strong | blocking")
    reasons = serializers.ListField(child=serializers.CharField())


class ResultStrengthSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class ResultOrientationSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="professionnelle | socio_professionnelle | sociale")
    label = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    themes = serializers.ListField(child=serializers.CharField())


class ResultSuggestionSerializer(serializers.Serializer):
    theme = serializers.CharField()
    label = serializers.CharField()
    objectives = serializers.ListField(child=serializers.CharField())
    actions = serializers.ListField(child=serializers.CharField())
    thematiques = serializers.ListField(child=serializers.CharField(), help_text="Thématiques data·inclusion.")


class ResultSituationSerializer(serializers.Serializer):
    theme = serializers.CharField()
    label = serializers.CharField()


class ResultSerializer(serializers.Serializer):
    barriers = ResultBarrierSerializer(many=True)
    profile = serializers.DictField(child=serializers.IntegerField(),
                                    help_text="{thème: rang} (0 aucun, 1 léger, 2 fort, 3 bloquant).")
    strengths = ResultStrengthSerializer(many=True)
    orientation = ResultOrientationSerializer(allow_null=True)
    suggestions = ResultSuggestionSerializer(many=True)
    situations = ResultSituationSerializer(many=True)
    framework = serializers.DictField()
    context = serializers.DictField(help_text="Faits sur la personne au moment du diagnostic.")


class DiagnosticResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    framework = FrameworkRefSerializer()
    completed_at = serializers.DateTimeField()
    completed_by = ProfessionalRefSerializer(allow_null=True)
    proposed_orientation = serializers.CharField()
    restricted_details_hidden = serializers.BooleanField(
        help_text="Les motifs issus de la section santé sont remplacés par une mention (accès restreint)."
    )
    result = ResultSerializer()


def visible_result(diagnostic, compiled, *, restricted):
    """The frozen result (with its suggestions), the restricted themes' details hidden when needed.

    As on the result page: without the health section, the severity of a restricted theme stays
    visible, its reasons (and the situations of that theme) do not.
    """
    result = dict(selectors.full_result(diagnostic) or {})
    if restricted:
        return result
    hidden = compiled.restricted_themes
    if not hidden:
        return result
    labels = dict(compiled.themes)
    for barrier in result.get("barriers", []):
        labels.setdefault(barrier["theme"], barrier.get("label", barrier["theme"]))
    result["barriers"] = [
        {**b, "reasons": [RESTRICTED_NOTE]} if b.get("theme") in hidden else b for b in result.get("barriers", [])
    ]
    orientation = result.get("orientation")
    if orientation:
        prefixes = tuple(f"{labels.get(t, t)} : " for t in hidden)
        reasons = []
        for reason in orientation.get("reasons", []):
            if reason.startswith(prefixes):
                reason = reason.split(" : ", 1)[0] + " : " + RESTRICTED_NOTE.lower()
            if reason not in reasons:
                reasons.append(reason)
        result["orientation"] = {**orientation, "reasons": reasons}
    result["situations"] = [s for s in result.get("situations", []) if s.get("theme") not in hidden]
    return result


# --- Views -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Trames de diagnostic : versions courantes et anciennes",
        parameters=[STRUCTURE_HEADER_PARAMETER],
    ),
)
class FrameworkViewSet(SpieAPIMixin, viewsets.GenericViewSet):
    """Framework versions: any professional with an active membership; no person data, no log."""

    spie_policy = "diagnostics.frameworks"
    serializer_class = FrameworkSummarySerializer
    queryset = Framework.objects.none()

    def get_queryset(self):
        return Framework.objects.defer("definition").order_by("code", "-version")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(FrameworkSummarySerializer(page, many=True).data)

    @extend_schema(
        summary="Définition d'une version de trame : thèmes, étapes, questions et options",
        parameters=[STRUCTURE_HEADER_PARAMETER],
        responses={200: FrameworkDefinitionSerializer, 404: OpenApiResponse(description="Trame inconnue.")},
    )
    def definition(self, request, code=None, version=None):
        framework = Framework.objects.filter(code=code, version=version).first()
        if framework is None:
            raise NotFound(FRAMEWORK_NOT_FOUND)
        data = framework_definition(framework, loaders.compiled_for(framework))
        return Response(FrameworkDefinitionSerializer(data).data)


class DiagnosticAccessMixin:
    """Loading a diagnostic under its person and checking the diagnostics policies."""

    def person_and_access(self, person_id):
        person, access = load_person(self, person_id)
        if not diagnostic_policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        return person, access

    def load_diagnostic(self, pk):
        """``(diagnostic, person, access)``; 404 for an unknown id or a person one may not know of."""
        diagnostic = (
            Diagnostic.objects.select_related("framework", "started_by", "completed_by", "structure")
            .defer("framework__definition")
            .filter(pk=int(pk))
            .first()
        )
        if diagnostic is None:
            raise NotFound(DIAGNOSTIC_NOT_FOUND)
        person, access = load_person(self, diagnostic.person_id, not_found=DIAGNOSTIC_NOT_FOUND)
        if not diagnostic_policies.can_read(access):
            raise PermissionDenied(READ_DENIED)
        diagnostic.person = person
        return diagnostic, person, access

    def detail_response(self, diagnostic, access, *, status_code=status.HTTP_200_OK):
        context = {
            "restricted": diagnostic_policies.can_see_restricted(access),
            "can_fill": diagnostic_policies.can_fill(access, diagnostic),
        }
        return Response(DiagnosticDetailSerializer(diagnostic, context=context).data, status=status_code)


@extend_schema_view(
    list=extend_schema(
        summary="Diagnostics d'une personne (du plus récent au plus ancien)",
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: DiagnosticSummarySerializer(many=True), 403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    ),
    create=extend_schema(
        summary="Commencer un diagnostic (ou reprendre le brouillon en cours de la même trame)",
        description=(
            "Crée un brouillon sur la version courante de la trame, pré-rempli avec le dernier diagnostic "
            "terminé. Si un brouillon de cette trame existe déjà, il est renvoyé (200) au lieu d'en créer un."
        ),
        parameters=[PERSON_ID, STRUCTURE_HEADER_PARAMETER],
        request=DiagnosticStartSerializer,
        responses={201: DiagnosticDetailSerializer, 200: DiagnosticDetailSerializer, 400: BAD_REQUEST,
                   403: FORBIDDEN, 404: PERSON_NOT_FOUND_RESPONSE},
    ),
)
class PersonDiagnosticViewSet(DiagnosticAccessMixin, SpieAPIMixin, viewsets.GenericViewSet):
    """``persons/{id}/diagnostics/``: a person's diagnostics, and starting one."""

    spie_policy = "diagnostics.person"
    serializer_class = DiagnosticSummarySerializer
    queryset = Diagnostic.objects.none()

    def list(self, request, pk=None):
        person, access = self.person_and_access(pk)
        log(request, person, AccessLog.Section.DIAGNOSTIC)
        page = self.paginate_queryset(selectors.person_diagnostics(person))
        context = {"restricted": diagnostic_policies.can_see_restricted(access)}
        return self.get_paginated_response(DiagnosticSummarySerializer(page, many=True, context=context).data)

    def create(self, request, pk=None):
        person, access = self.person_and_access(pk)
        if not diagnostic_policies.can_start(access):
            raise PermissionDenied(START_DENIED)
        serializer = DiagnosticStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = serializer.validated_data["framework"]
        existing = selectors.open_draft(person, code)
        with service_errors():
            started = services.start_diagnostic(person, self.membership, framework_code=code)
        resumed = existing is not None and existing.pk == started.pk
        diagnostic, person, access = self.load_diagnostic(started.pk)
        log(request, person, AccessLog.Section.DIAGNOSTIC, reason="reprise du brouillon" if resumed else "création")
        return self.detail_response(
            diagnostic, access, status_code=status.HTTP_200_OK if resumed else status.HTTP_201_CREATED
        )


@extend_schema_view(
    retrieve=extend_schema(
        summary="Un diagnostic et ses réponses",
        description=(
            "Les réponses aux questions des sections à accès restreint (santé) ne sont données qu'aux "
            "professionnels qui voient la section santé du dossier ; sinon elles sont omises et "
            "« restricted_answers_hidden » vaut true."
        ),
        parameters=[DIAGNOSTIC_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: DiagnosticDetailSerializer, 403: FORBIDDEN, 404: DIAGNOSTIC_NOT_FOUND_RESPONSE},
    ),
    partial_update=extend_schema(
        summary="Enregistrer des réponses (brouillon) et les mots de la personne",
        description=(
            "Les réponses valides sont enregistrées même si d'autres sont refusées (400, un message par "
            "question). Une valeur vide efface la réponse."
        ),
        parameters=[DIAGNOSTIC_ID, STRUCTURE_HEADER_PARAMETER],
        request=DiagnosticAnswersSerializer,
        responses={200: DiagnosticDetailSerializer, 400: AnswerErrorsSerializer, 403: FORBIDDEN,
                   404: DIAGNOSTIC_NOT_FOUND_RESPONSE, 409: CONFLICT},
    ),
)
class DiagnosticViewSet(DiagnosticAccessMixin, SpieAPIMixin, viewsets.GenericViewSet):
    """``diagnostics/{id}/``: read, answer, complete; ``result/`` once completed."""

    spie_policy = "diagnostics.detail"
    serializer_class = DiagnosticDetailSerializer
    queryset = Diagnostic.objects.none()
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def retrieve(self, request, pk=None):
        diagnostic, person, access = self.load_diagnostic(pk)
        reason = "résultat" if diagnostic.is_completed else "brouillon"
        log(request, person, AccessLog.Section.DIAGNOSTIC, reason=reason)
        return self.detail_response(diagnostic, access)

    def check_fillable(self, diagnostic, access):
        if not access.can_edit:
            raise PermissionDenied(FILL_DENIED)
        if diagnostic.is_completed:
            raise Conflict(services.FROZEN_MESSAGE)

    def partial_update(self, request, pk=None):
        diagnostic, person, access = self.load_diagnostic(pk)
        self.check_fillable(diagnostic, access)
        serializer = DiagnosticAnswersSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = dict(serializer.validated_data.get("answers") or {})
        person_words = serializer.validated_data.get("person_words")
        compiled = loaders.compiled_for(diagnostic.framework)
        restricted = diagnostic_policies.can_see_restricted(access)
        errors = {}
        for code in list(raw):
            if code not in compiled.questions:
                errors[code] = UNKNOWN_QUESTION.format(code=code)
            elif not restricted and code in compiled.restricted_questions:
                errors[code] = RESTRICTED_QUESTION
            else:
                continue
            raw.pop(code)
        with service_errors():
            errors.update(services.save_answers(
                diagnostic, raw, request.user, person_words=person_words, questions=list(raw), access=access,
            ))
        diagnostic.refresh_from_db(fields=["answers", "person_words", "updated_at"])
        log(request, person, AccessLog.Section.DIAGNOSTIC, reason="saisie")
        if errors:
            body = {
                "detail": ANSWERS_INVALID,
                "answers": {code: [message] for code, message in errors.items()},
                "saved": [code for code in raw if code not in errors],
            }
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return self.detail_response(diagnostic, access)

    @extend_schema(
        summary="Terminer le diagnostic : calcul du résultat, figé ensuite",
        parameters=[DIAGNOSTIC_ID, STRUCTURE_HEADER_PARAMETER],
        request=None,
        responses={200: DiagnosticDetailSerializer, 400: MissingAnswersSerializer, 403: FORBIDDEN,
                   404: DIAGNOSTIC_NOT_FOUND_RESPONSE, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="complete", url_name="complete",
            spie_policy="diagnostics.complete")
    def complete(self, request, pk=None):
        diagnostic, person, access = self.load_diagnostic(pk)
        self.check_fillable(diagnostic, access)
        missing = None
        with service_errors():
            try:
                services.complete_diagnostic(diagnostic, request.user, access=access,
                                             structure=self.membership.structure)
            except services.MissingAnswers as exc:
                missing = exc
        if missing is not None:
            body = {
                "detail": missing.messages[0],
                "missing": [
                    {"code": code, "label": label}
                    for code, label in zip(missing.codes, missing.labels, strict=True)
                ],
            }
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        diagnostic, person, access = self.load_diagnostic(diagnostic.pk)
        log(request, person, AccessLog.Section.DIAGNOSTIC, reason="fin du diagnostic")
        return self.detail_response(diagnostic, access)

    @extend_schema(
        summary="Résultat figé d'un diagnostic terminé : freins, atouts, orientation proposée, suggestions",
        description=(
            "Sans accès à la section santé, la sévérité d'un thème à accès restreint reste visible mais ses "
            "motifs sont remplacés par une mention (« restricted_details_hidden »: true)."
        ),
        parameters=[DIAGNOSTIC_ID, STRUCTURE_HEADER_PARAMETER],
        responses={200: DiagnosticResultSerializer, 403: FORBIDDEN, 404: DIAGNOSTIC_NOT_FOUND_RESPONSE,
                   409: CONFLICT},
    )
    @action(detail=True, methods=["get"], url_path="result", url_name="result", spie_policy="diagnostics.result")
    def result(self, request, pk=None):
        diagnostic, person, access = self.load_diagnostic(pk)
        if not diagnostic.is_completed:
            raise Conflict(NOT_COMPLETED)
        restricted = diagnostic_policies.can_see_restricted(access)
        compiled = loaders.compiled_for(diagnostic.framework)
        log(request, person, AccessLog.Section.DIAGNOSTIC, reason="résultat")
        data = {
            "id": diagnostic.pk,
            "framework": diagnostic.framework,
            "completed_at": diagnostic.completed_at,
            "completed_by": diagnostic.completed_by,
            "proposed_orientation": diagnostic.proposed_orientation,
            "restricted_details_hidden": not restricted,
            "result": visible_result(diagnostic, compiled, restricted=restricted),
        }
        return Response(DiagnosticResultSerializer(data).data)
