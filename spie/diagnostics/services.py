"""Every write on diagnostics: start, save answers, complete, re-score.

Views, the API, commands and tasks call these. Scoring is done by the pure-Python engine
(``engine.py``) on the compiled framework version the diagnostic was started with; a
completed diagnostic keeps its version and its frozen result for ever (only ``rescore`` may
recompute the result, with that same version, when the engine itself changes).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.utils import timezone

from spie.core.bulk import fast_insert
from spie.people.models import Person
from spie.people.services import add_event

from . import engine, loaders, policies, selectors
from .models import Barrier, Diagnostic, Framework, OrientationType

FROZEN_MESSAGE = "Ce diagnostic est terminé : il ne peut plus être modifié."


class MissingAnswers(ValidationError):
    """Completion refused: required questions are unanswered. ``codes`` and ``labels`` say which."""

    def __init__(self, codes, labels):
        self.codes = list(codes)
        self.labels = list(labels)
        super().__init__(
            "Le diagnostic ne peut pas être terminé : réponses obligatoires manquantes ("
            + " ; ".join(self.labels)
            + ")."
        )


# --- Context: facts about the person the rules may use ------------------------------------


def person_context(person, on=None):
    """Facts passed to the engine (FRAMEWORKS.md, ``{context: key, equals: v}``).

    Computed at completion and stored in the result, so that a re-score gives the same
    answer whatever happened to the person since (age, children, rights).
    """
    on = on or timezone.localdate()
    age = person.age(on)
    return {
        "under_26": age < 26,
        "over_50": age >= 50,
        "child_under_3": any(on.year - int(year) < 3 for year in person.children_birth_years or []),
        "rsa": bool(person.rsa),
        "lone_parent": bool(person.lone_parent),
        "driving_licence": person.driving_licence in {Person.Licence.B, Person.Licence.OTHER},
        "has_vehicle": bool(person.has_vehicle),
    }


def question_labels(framework):
    """``{question_code: label}`` of a framework version, in form order."""
    return {code: question.label for code, question in _compiled(framework).questions.items()}


def _compiled(framework):
    return loaders.compiled_for(framework)


# --- Start ---------------------------------------------------------------------------------


@transaction.atomic
def start_diagnostic(person, by_membership, framework_code="spie"):
    """A draft on the current version of ``framework_code``, pre-filled from the previous one.

    Any member of the follow-up group may start one (``access.can_edit``). When a draft of
    the same framework already exists it is returned instead (one open draft per framework:
    a double click or two colleagues never split a diagnostic in two). Answers of the previous
    completed diagnostic whose questions still exist in the current version are copied.
    """
    access = policies.access_for_membership(by_membership, person)
    if not policies.can_start(access):
        raise PermissionDenied("Seuls les membres du groupe de suivi peuvent commencer un diagnostic.")
    try:
        framework = loaders.current_framework(framework_code)
    except Framework.DoesNotExist:
        raise ValidationError(f"Aucune trame « {framework_code} » n'est chargée.") from None
    # Serialise concurrent starts for the same person.
    Person.objects.select_for_update().filter(pk=person.pk).first()
    draft = selectors.open_draft(person, framework_code)
    if draft is not None:
        return draft
    previous = selectors.previous_completed(person, framework_code)
    answers = {}
    if previous is not None:
        answers = carry_over_answers(previous, framework)
    diagnostic = Diagnostic.objects.create(
        person=person,
        framework=framework,
        answers=answers,
        previous=previous,
        started_by=by_membership.user,
        structure=by_membership.structure,
    )
    title = "Diagnostic commencé"
    if framework.kind == Framework.Kind.POTENTIALITIES:
        title += " : grille des potentialités"
    detail = f"{framework.title} (version {framework.version})"
    if previous is not None:
        detail += f", pré-rempli avec le diagnostic du {timezone.localtime(previous.completed_at):%d/%m/%Y}"
    add_event(
        person, "diagnostic_started", title, actor=by_membership.user, structure=by_membership.structure,
        detail=detail,
    )
    return diagnostic


def carry_over_answers(previous, framework):
    """The answers of ``previous`` still valid in ``framework`` (a possibly newer version).

    Questions removed or whose answer no longer validates (an option removed, a bound
    changed) are left out: the professional answers them again with the person.
    """
    compiled = _compiled(framework)
    kept = {code: value for code, value in (previous.answers or {}).items() if code in compiled.questions}
    if previous.framework_id == framework.pk or not kept:
        return kept
    # Stored values are valid input of clean_answers (bools, numbers, lists, ISO dates).
    cleaned, _errors = engine.clean_answers(compiled, kept)
    return cleaned


# --- Save ----------------------------------------------------------------------------------


def _check_fillable(diagnostic, access):
    if diagnostic.is_completed:
        raise ValidationError(FROZEN_MESSAGE)
    if access is not None and not policies.can_fill(access, diagnostic):
        raise PermissionDenied("Vous ne pouvez pas modifier ce diagnostic.")


@transaction.atomic
def save_answers(diagnostic, raw, by, person_words=None, *, questions=None, access=None):
    """Merge the valid answers of ``raw`` into the draft; return ``{question_code: message}``.

    ``raw`` maps question codes to submitted values (str, or list of str for multiple choice
    and ROME). ``questions`` lists the codes shown on the submitted step: a code there
    without a value in ``raw`` is cleared (an unticked checkbox sends nothing). An invalid
    value never erases the stored answer nor the other valid ones; the form shows it again
    with its French message. Refused on a completed diagnostic.
    """
    locked = Diagnostic.objects.select_for_update().get(pk=diagnostic.pk)
    _check_fillable(locked, access)
    compiled = _compiled(diagnostic.framework)
    known = set(compiled.questions)
    if access is not None and not policies.can_see_restricted(access):
        known -= set(compiled.restricted_questions)
    submitted = {code: value for code, value in raw.items() if code in known}
    cleaned, errors = engine.clean_answers(compiled, submitted)
    answers = dict(locked.answers or {})
    shown = set(questions) if questions is not None else set(submitted)
    for code in shown & known:
        if code in errors:
            continue
        if code in cleaned and not _is_empty(cleaned[code]):
            answers[code] = cleaned[code]
        else:
            answers.pop(code, None)
    fields = ["answers", "updated_at"]
    locked.answers = answers
    if person_words is not None:
        locked.person_words = person_words.strip()
        fields.append("person_words")
    locked.save(update_fields=fields)
    diagnostic.answers = locked.answers
    diagnostic.person_words = locked.person_words
    diagnostic.updated_at = locked.updated_at
    return errors


def _is_empty(value):
    return value is None or value == "" or value == []


# --- Complete ------------------------------------------------------------------------------


def missing_required(diagnostic):
    """``[(code, label)]`` of the required questions still unanswered."""
    compiled = _compiled(diagnostic.framework)
    labels = question_labels(diagnostic.framework)
    return [(code, labels.get(code, code)) for code in engine.missing_required(compiled, diagnostic.answers or {})]


@transaction.atomic
def complete_diagnostic(diagnostic, by, *, access=None, structure=None):
    """Score and freeze the draft: result, proposed orientation, barriers, timeline.

    Refused (:class:`MissingAnswers`) while required questions are unanswered. Once
    completed, every further save is refused.
    """
    locked = Diagnostic.objects.select_for_update().select_related("framework", "person").get(pk=diagnostic.pk)
    _check_fillable(locked, access)
    missing = missing_required(locked)
    if missing:
        raise MissingAnswers([c for c, _ in missing], [label for _, label in missing])
    now = timezone.now()
    context = person_context(locked.person, on=timezone.localdate(now))
    result = score(locked.framework, locked.answers or {}, context)
    locked.result = result
    locked.proposed_orientation = _orientation_type(result)
    locked.status = Diagnostic.Status.COMPLETED
    locked.completed_by = by
    locked.completed_at = now
    locked.save(
        update_fields=["result", "proposed_orientation", "status", "completed_by", "completed_at", "updated_at"]
    )
    Barrier.objects.bulk_create(_barrier_rows(locked.pk, locked.person_id, result))
    if locked.framework.kind == Framework.Kind.POTENTIALITIES:
        title = "Grille des potentialités terminée"
    elif locked.proposed_orientation:
        label = OrientationType(locked.proposed_orientation).label.lower()
        title = f"Diagnostic terminé : orientation proposée {label}"
    else:
        title = "Diagnostic terminé"
    themes = ", ".join(b["label"] for b in result.get("barriers", [])[:5])
    add_event(
        locked.person, "diagnostic_completed", title, actor=by,
        structure=structure or locked.structure,
        detail=f"Freins : {themes}" if themes else "Aucun frein relevé",
    )
    for field in ("result", "proposed_orientation", "status", "completed_by", "completed_at", "updated_at"):
        setattr(diagnostic, field, getattr(locked, field))
    return diagnostic


def score(framework, answers, context):
    """The engine's result for ``answers``, with the context it was computed with."""
    result = engine.score(_compiled(framework), answers, context)
    return {**engine.storable(result), "context": context}


def _orientation_type(result):
    orientation = result.get("orientation") or {}
    value = orientation.get("type") or ""
    return value if value in OrientationType.values else ""


def _barrier_rows(diagnostic_id, person_id, result):
    return [
        Barrier(diagnostic_id=diagnostic_id, person_id=person_id, theme=b["theme"], severity=b["severity"])
        for b in result.get("barriers", [])
        if b.get("severity") and b["severity"] != "none"
    ]


# --- Re-score ------------------------------------------------------------------------------


def rescore(queryset, batch_size=2000, progress=None):
    """Recompute result and barriers of the completed diagnostics of ``queryset``.

    Each diagnostic is scored with its *own* framework version (never the current one) and
    the context stored at completion (computed from the person for older rows). Reads go by
    primary-key ranges of ``batch_size`` rows (``values()``, no model instances; keyset
    pagination rather than a server-side cursor, so writing while reading is safe on SQLite
    too), scoring runs in Python, and each batch writes only what changed, in one
    transaction: one ``executemany`` UPDATE of the results and a bulk replacement of their
    barriers. Safe to interrupt and run again. ``progress(n)`` is called after each batch
    with the number of diagnostics it scored.

    Returns ``{"scored": n, "changed": m}``.
    """
    qs = queryset.filter(status=Diagnostic.Status.COMPLETED).order_by("pk")
    compiled_by_framework = {}
    scored = changed = 0
    last_pk = 0
    fields = (
        "pk", "framework_id", "person_id", "answers", "result", "proposed_orientation", "completed_at",
        "person__birth_date", "person__children_birth_years", "person__rsa", "person__lone_parent",
        "person__driving_licence", "person__has_vehicle",
    )
    while True:
        rows = list(qs.filter(pk__gt=last_pk).values(*fields)[:batch_size])
        if not rows:
            break
        last_pk = rows[-1]["pk"]
        ids = [row["pk"] for row in rows]
        stored_barriers = {}
        for diagnostic_id, theme, severity in Barrier.objects.filter(diagnostic_id__in=ids).values_list(
            "diagnostic_id", "theme", "severity"
        ):
            stored_barriers.setdefault(diagnostic_id, set()).add((theme, severity))
        updates, new_barriers = [], []
        for row in rows:
            framework_id = row["framework_id"]
            if framework_id not in compiled_by_framework:
                compiled_by_framework[framework_id] = _compiled(Framework.objects.get(pk=framework_id))
            compiled = compiled_by_framework[framework_id]
            stored = row["result"] or {}
            context = stored.get("context") or _context_from_row(row)
            result = {**engine.storable(engine.score(compiled, row["answers"] or {}, context)), "context": context}
            barrier_set = {
                (b["theme"], b["severity"]) for b in result["barriers"] if b.get("severity", "none") != "none"
            }
            orientation = _orientation_type(result)
            if (
                result != stored
                or orientation != row["proposed_orientation"]
                or barrier_set != stored_barriers.get(row["pk"], set())
            ):
                updates.append((row["pk"], result, orientation))
                new_barriers.extend(_barrier_rows(row["pk"], row["person_id"], result))
        if updates:
            with transaction.atomic(using=qs.db):
                _write_results(updates, qs.db)
                Barrier.objects.using(qs.db).filter(diagnostic_id__in=[pk for pk, _r, _o in updates]).delete()
                fast_insert(Barrier, new_barriers)
        scored += len(rows)
        changed += len(updates)
        if progress is not None:
            progress(len(rows))
    return {"scored": scored, "changed": changed}


def _write_results(updates, using):
    """One parameterised UPDATE run for every ``(pk, result, orientation)`` (``executemany``).

    ``bulk_update`` builds a CASE expression per field and row, which costs more than the
    scoring itself on large batches; the JSON value is adapted by the field for each database.
    """
    connection = connections[using]
    meta = Diagnostic._meta
    quote = connection.ops.quote_name
    result_field = meta.get_field("result")
    # Identifiers come from the model and are quoted; every value is a parameter.
    table, result_column, orientation_column, pk_column = (
        quote(meta.db_table), quote(result_field.column), quote(meta.get_field("proposed_orientation").column),
        quote(meta.pk.column),
    )
    sql = f"UPDATE {table} SET {result_column} = %s, {orientation_column} = %s WHERE {pk_column} = %s"  # noqa: S608
    params = [
        (result_field.get_db_prep_save(result, connection), orientation, pk) for pk, result, orientation in updates
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _context_from_row(row):
    """The context of a diagnostic completed before contexts were stored in results."""
    person = Person(
        birth_date=row["person__birth_date"],
        children_birth_years=row["person__children_birth_years"],
        rsa=row["person__rsa"],
        lone_parent=row["person__lone_parent"],
        driving_licence=row["person__driving_licence"],
        has_vehicle=row["person__has_vehicle"],
    )
    on = timezone.localdate(row["completed_at"]) if row["completed_at"] else None
    return person_context(person, on=on)
