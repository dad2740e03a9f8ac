"""Every step of a staged import: upload, mapping, validation (the preview), fixing or dropping
rows, commit, cancellation. Views, the API, the ``import_file`` command and the background
tasks all call these functions.

The validation and the commit are long for large files: the pages enqueue them as background
tasks (``spie.imports.tasks``) and poll the progress the job stores every batch of rows. The
commit writes everything inside ONE transaction (bulk inserts, batched updates): when anything
fails, nothing is written and the job says why.
"""

import logging
import time
import uuid
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Count, Q
from django.utils import timezone

from spie.core.audit import client_ip
from spie.core.bulk import fast_insert
from spie.core.models import AccessLog
from spie.core.text import fold
from spie.network.models import Membership, Territory
from spie.network.services import invite_member
from spie.people.models import FollowUpMembership, Person, TimelineEvent

from . import mapping as m
from .models import (
    IMPORT_TRANSITIONS,
    ImportJob,
    ImportKind,
    ImportRow,
    ImportStatus,
    ImportTransition,
    MatchKey,
    RowAction,
    SavedMapping,
)
from .readers import CSV, JSON, XLSX, UnreadableFile, read_table, sniff_format
from .validators import (
    ALL,
    PERSON_FIELDS,
    ActionIndex,
    ActionValidator,
    OpeningValidator,
    PersonIndex,
    PersonValidator,
    ProfessionalValidator,
    action_key,
    action_name_key,
    clean_cells,
    names_key,
    person_key,
)

logger = logging.getLogger(__name__)

MAX_FILE_SIZE = 20 * 1024 * 1024
BATCH = 500  # rows validated, stored and reported per step
COMMIT_BATCH = 2000
ADMIN_ONLY = "L'import de fichiers est réservé aux administrateurs de structure."
REFERENT_ROLES = (Membership.Role.REFERENT, Membership.Role.ADMIN, Membership.Role.ORIENTATION)


# --- Rights and workflow -----------------------------------------------------------------------


COMPANY_KINDS = (ImportKind.OPENINGS,)
KIND_DENIED = "Vous ne pouvez pas importer ce type de fichier."


def is_company_importer(membership):
    """A company user imports the job offers of their own company (``spie.employers``)."""
    if membership is None or membership.role != Membership.Role.EMPLOYER:
        return False
    from spie.employers.policies import company_of

    return company_of(membership) is not None


def can_import(membership):
    """Structure admins (every kind), and company users (their company's offers only)."""
    if membership is None:
        return False
    return membership.role == Membership.Role.ADMIN or is_company_importer(membership)


def importable_kinds(membership):
    if membership is None:
        return ()
    if membership.role == Membership.Role.ADMIN:
        return tuple(ImportKind)
    if is_company_importer(membership):
        return COMPANY_KINDS
    return ()


def can_manage_job(membership, job):
    """Only the importers of the job's structure see or act on it (the others get a 404)."""
    return (can_import(membership) and membership.structure_id == job.structure_id
            and job.kind in importable_kinds(membership))


def transition(job, to, *, by=None, reason="", fields=()):
    """Move ``job`` to ``to`` if the workflow allows it, and log the step."""
    if to not in IMPORT_TRANSITIONS[ImportStatus(job.status)]:
        raise ValidationError(
            f"Étape impossible : l'import est à l'état « {ImportStatus(job.status).label} »."
        )
    ImportTransition.objects.create(job=job, from_status=job.status, to_status=to, by=by, reason=reason[:300])
    job.status = to
    job.save(update_fields=["status", "updated_at", *fields])


def referent_choices(structure):
    """Professionals of the structure who may be référent unique of the persons created."""
    return (
        Membership.objects.filter(structure=structure, is_active=True, role__in=REFERENT_ROLES)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=timezone.localdate()))
        .select_related("user").order_by("user__last_name", "user__first_name")
    )


# --- Upload and mapping ------------------------------------------------------------------------


def _read_headers(path, fmt):
    """Headers and format details without reading a whole workbook (XLSX: first row only)."""
    if fmt == XLSX:
        from openpyxl import load_workbook

        from .readers import _xlsx_text, normalise_headers

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001
            raise UnreadableFile("Ce classeur Excel est illisible ou protégé : enregistrez-le à nouveau en .xlsx.") \
                from exc
        try:
            for values in workbook.worksheets[0].iter_rows(values_only=True):
                cells = [_xlsx_text(v) for v in values]
                if any(cells):
                    while cells and not cells[-1]:
                        cells.pop()
                    return normalise_headers(cells), "", ""
        finally:
            workbook.close()
        raise UnreadableFile("La première feuille du classeur est vide : aucune ligne d'en-têtes n'a été trouvée.")
    table = read_table(path)
    return table.headers, table.encoding, table.separator


def create_job(*, membership, kind, uploaded_file, name=None):
    """Store the file (private media), read its headers and pre-map its columns."""
    if not can_import(membership):
        raise PermissionDenied(ADMIN_ONLY)
    if kind not in ImportKind.values:
        raise ValidationError({"kind": "Choisissez ce que contient le fichier."})
    if kind not in importable_kinds(membership):
        raise PermissionDenied(KIND_DENIED)
    name = (name or getattr(uploaded_file, "name", "") or "fichier").rsplit("/", 1)[-1][:250]
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > MAX_FILE_SIZE:
        raise ValidationError({"file": "Le fichier dépasse 20 Mo : découpez-le en plusieurs fichiers."})
    if size == 0:
        raise ValidationError({"file": "Le fichier est vide."})
    head = uploaded_file.read(4096)
    uploaded_file.seek(0)
    fmt = sniff_format(head)
    if fmt is None:
        raise ValidationError({"file": "Ce fichier n'est ni un CSV (texte) ni un classeur Excel (.xlsx) ni un fichier "
                                       "JSON. Dans votre tableur : « Enregistrer sous » CSV ou XLSX."})
    if fmt == JSON and kind not in (ImportKind.ACTIONS, ImportKind.OPENINGS):
        raise ValidationError({"file": "Un fichier JSON ne s'importe que pour les actions du catalogue "
                                       "(format data·inclusion) ou les offres d'emploi (France Travail) : pour ce "
                                       "contenu, déposez un CSV ou un XLSX."})
    if fmt == XLSX and not name.lower().endswith((".xlsx", ".xlsm")):
        name = f"{name}.xlsx"
    structure = membership.structure
    job = ImportJob(
        territory=structure.territory, structure=structure, kind=kind, original_name=name,
        file_format=fmt, created_by=membership.user, referent=membership.user,
    )
    job.file.save(f"{uuid.uuid4().hex}.{fmt if fmt in (XLSX, JSON) else CSV}", File(uploaded_file), save=False)
    try:
        headers, encoding, separator = _read_headers(job.file.path, fmt)
    except UnreadableFile as exc:
        job.file.delete(save=False)
        raise ValidationError({"file": str(exc)}) from exc
    job.headers, job.encoding, job.separator = headers, encoding, separator
    saved = SavedMapping.objects.filter(structure=structure, kind=kind, signature=m.signature(headers)).first()
    if saved:
        job.mapping = m.clean_mapping(kind, headers, saved.mapping)
        job.match_key = saved.match_key or job.match_key
    else:
        job.mapping = m.auto_map(kind, headers)
        if kind == ImportKind.PERSONS:
            for key in (MatchKey.INTERNAL_ID, MatchKey.NIR, MatchKey.CAF_NUMBER):
                if key in job.mapping:
                    job.match_key = key
                    break
    with transaction.atomic():
        job.save()
        ImportTransition.objects.create(job=job, from_status=ImportStatus.UPLOADED, to_status=ImportStatus.UPLOADED,
                                        by=membership.user, reason=f"Dépôt du fichier « {name} »"[:300])
    job.mapping_was_saved = bool(saved)
    return job


def set_mapping(*, job, membership, mapping, match_key=None, referent=None, enqueue=True):
    """Record the column mapping (remembered for the structure), then validate in the background."""
    if not can_manage_job(membership, job):
        raise PermissionDenied(ADMIN_ONLY)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.READY, ImportStatus.FAILED):
        raise ValidationError(f"La correspondance ne peut plus changer : l'import est « {job.get_status_display()} ».")
    errors = {}
    mapping = {t: h for t, h in (mapping or {}).items() if h}
    unknown = [h for h in mapping.values() if h not in job.headers]
    if unknown:
        errors["mapping"] = f"Colonne inconnue dans ce fichier : « {unknown[0]} »."
    mapping = m.clean_mapping(job.kind, job.headers, mapping)
    used = {}
    for target, header in mapping.items():
        if header in used:
            labels = m.target_map(job.kind)
            errors["mapping"] = (f"La colonne « {header} » est associée à deux champs "
                                 f"(« {labels[used[header]].label} » et « {labels[target].label} »).")
        used.setdefault(header, target)
    if job.kind == ImportKind.PERSONS:
        match_key = match_key or job.match_key
        if match_key not in MatchKey.values:
            errors["match_key"] = "Choisissez la clé de rapprochement."
        if referent is not None and not referent_choices(job.structure).filter(user=referent).exists():
            errors["referent"] = "Le référent unique doit être un professionnel actif de votre structure."
    else:
        match_key = job.match_key
    missing = m.missing_required(job.kind, mapping, match_key if job.kind == ImportKind.PERSONS else None)
    if missing:
        errors.setdefault("mapping", "Associez une colonne à chaque champ obligatoire : "
                                     + ", ".join(f"« {label} »" for label in missing) + ".")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        job.mapping, job.match_key = mapping, match_key
        if referent is not None:
            job.referent = referent
        job.progress_done = job.progress_total = 0
        job.error_message = ""
        transition(job, ImportStatus.MAPPED, by=membership.user, reason="Correspondance des colonnes",
                   fields=["mapping", "match_key", "referent", "progress_done", "progress_total", "error_message"])
        SavedMapping.objects.update_or_create(
            structure=job.structure, kind=job.kind, signature=m.signature(job.headers),
            defaults={"mapping": mapping, "match_key": match_key if job.kind == ImportKind.PERSONS else ""},
        )
        if enqueue:
            from .tasks import validate_import

            job_id = job.pk
            transaction.on_commit(lambda: validate_import.enqueue(job_id))
    return job


# --- Validation (the preview) -----------------------------------------------------------------


def _validator(job):
    if job.kind == ImportKind.PERSONS:
        return PersonValidator(job, index=PersonIndex(job.territory, job.match_key, structure=job.structure))
    if job.kind == ImportKind.ACTIONS:
        return ActionValidator(job)
    if job.kind == ImportKind.OPENINGS:
        return OpeningValidator(job)
    return ProfessionalValidator(job)


def _row(job, line, raw, result):
    return ImportRow(
        job_id=job.pk, line=line, raw=raw, cleaned=result.cleaned, errors=result.errors, action=result.action,
        target_id=result.target_id, diff=result.diff, key=result.key[:250], nir=result.nir,
    )


def refresh_counts(job):
    counts = dict(ImportRow.objects.filter(job=job).values_list("action").annotate(n=Count("id")).order_by())
    job.create_count = counts.get(RowAction.CREATE, 0)
    job.update_count = counts.get(RowAction.UPDATE, 0)
    job.unchanged_count = counts.get(RowAction.UNCHANGED, 0)
    job.error_count = counts.get(RowAction.ERROR, 0)
    job.dropped_count = counts.get(RowAction.DROPPED, 0)
    job.valid_count = job.create_count + job.update_count + job.unchanged_count
    job.rows_count = job.valid_count + job.error_count + job.dropped_count
    job.save(update_fields=["create_count", "update_count", "unchanged_count", "error_count", "dropped_count",
                            "valid_count", "rows_count", "updated_at"])
    return job


def run_validation(job_id, *, progress=None):
    """Read the file, validate every row into the preview, count. Progress saved every batch."""
    job = ImportJob.objects.select_related("territory", "structure", "created_by").get(pk=job_id)
    if job.status != ImportStatus.MAPPED:
        return job
    started = time.monotonic()
    transition(job, ImportStatus.VALIDATING, reason="Vérification des lignes")
    try:
        table = read_table(job.file.path)
        ImportRow.objects.filter(job=job).delete()
        columns = {h: i for i, h in enumerate(table.headers)}
        wanted = [(target, columns[header]) for target, header in job.mapping.items() if header in columns]
        total = len(table.rows)
        ImportJob.objects.filter(pk=job.pk).update(progress_total=total, progress_done=0)
        validator = _validator(job)
        done = 0
        for start in range(0, total, BATCH):
            batch = []
            for line, cells in table.rows[start:start + BATCH]:
                batch.append((line, {t: (cells[i] if i < len(cells) else "") for t, i in wanted}))
            results = validator.validate_batch(batch)
            fast_insert(ImportRow, [_row(job, line, raw, r) for (line, raw), r in zip(batch, results, strict=True)])
            done += len(batch)
            ImportJob.objects.filter(pk=job.pk).update(progress_done=done)
            if progress:
                progress("validate", done, total)
        job.progress_total = job.progress_done = total
        job.validate_seconds = round(time.monotonic() - started, 3)
        refresh_counts(job)
        transition(job, ImportStatus.READY, reason=f"Lignes vérifiées : {total}",
                   fields=["progress_total", "progress_done", "validate_seconds"])
    except UnreadableFile as exc:
        _fail(job, str(exc))
    except Exception:  # noqa: BLE001 - the job must say it failed, whatever happened
        logger.exception("Validation of import %s failed", job.pk)
        _fail(job, "La vérification du fichier a échoué (erreur inattendue). Réessayez ou contactez l'assistance.")
    return job


def _fail(job, message):
    job.refresh_from_db(fields=["status"])
    job.error_message = message
    transition(job, ImportStatus.FAILED, reason=message, fields=["error_message"])


def _seed_seen(validator, job, row, key, nir):
    """Tell a one-row validator which other rows of the file already hold its key or NIR."""
    others = ImportRow.objects.filter(job=job).exclude(pk=row.pk).exclude(action=RowAction.DROPPED)
    conflicting = Q(pk__in=[])
    if key:
        conflicting |= Q(key=key)
    if nir:
        conflicting |= Q(nir=nir)
    for line, other_key, other_nir, action in others.filter(conflicting).values_list("line", "key", "nir", "action"):
        if line < row.line or action != RowAction.ERROR:
            if key and other_key == key:
                validator.seen_keys.setdefault(key, line)
            if nir and other_nir == nir:
                validator.seen_nirs.setdefault(nir, line)


def revalidate_row(job, row, raw):
    """Validate one row again (after a fix) against the database and the file's other rows."""
    if job.kind == ImportKind.PERSONS:
        cleaned, _errors = clean_cells(job.kind, row.line, raw, job.mapping)
        key = person_key(job.match_key, cleaned)
        validator = PersonValidator(
            job, index=PersonIndex.for_row(job.territory, job.match_key, cleaned, structure=job.structure))
        _seed_seen(validator, job, row, key, cleaned.get("nir", ""))
    elif job.kind in (ImportKind.ACTIONS, ImportKind.OPENINGS):
        validator_class = ActionValidator if job.kind == ImportKind.ACTIONS else OpeningValidator
        validator = validator_class(job)
        probe = validator.validate_batch([(row.line, raw)])[0]
        validator = validator_class(job)
        _seed_seen(validator, job, row, probe.key, "")
    else:
        validator = ProfessionalValidator(job)
        probe = validator.validate_batch([(row.line, raw)])[0]
        validator = ProfessionalValidator(job)
        _seed_seen(validator, job, row, probe.key, "")
    return validator.validate_batch([(row.line, raw)])[0]


def _check_editable(job, membership):
    if not can_manage_job(membership, job):
        raise PermissionDenied(ADMIN_ONLY)
    if job.status != ImportStatus.READY:
        raise ValidationError(f"Les lignes ne se modifient plus : l'import est « {job.get_status_display()} ».")


@transaction.atomic
def fix_row(*, job, row, membership, values):
    """Replace some cells of ``row`` (by target field) and validate it again at once."""
    _check_editable(job, membership)
    allowed = set(job.mapping)
    raw = {**row.raw, **{k: str(v if v is not None else "").strip() for k, v in values.items() if k in allowed}}
    result = revalidate_row(job, row, raw)
    row.raw, row.cleaned, row.errors, row.action = raw, result.cleaned, result.errors, result.action
    row.target_id, row.diff, row.key, row.nir, row.fixed = (
        result.target_id, result.diff, result.key[:250], result.nir, True)
    row.save()
    refresh_counts(job)
    return row


@transaction.atomic
def drop_row(*, job, row, membership):
    _check_editable(job, membership)
    row.action = RowAction.DROPPED
    row.save(update_fields=["action"])
    refresh_counts(job)
    return row


@transaction.atomic
def restore_row(*, job, row, membership):
    """Bring a dropped row back (validated again)."""
    _check_editable(job, membership)
    return fix_row(job=job, row=row, membership=membership, values={})


@transaction.atomic
def cancel(*, job, membership):
    if not can_manage_job(membership, job):
        raise PermissionDenied(ADMIN_ONLY)
    transition(job, ImportStatus.CANCELLED, by=membership.user, reason="Import annulé")
    discard_contents(job)
    return job


def _delete_stored_file(storage, name):
    try:
        storage.delete(name)
    except OSError:
        logger.warning("Could not delete the file %s of an import", name, exc_info=True)


def discard_contents(job):
    """Once an import is over (committed or cancelled), keep only what it did, not what the file
    said: the stored file (NIRs, addresses…) is deleted and the rows keep their line, action,
    errors and target; their cells, cleaned values, diff, key and NIR are blanked (one UPDATE)."""
    ImportRow.objects.filter(job=job).update(raw={}, cleaned={}, diff={}, key="", nir="")
    name = job.file.name
    if name:
        storage = job.file.storage
        ImportJob.objects.filter(pk=job.pk).update(file="")
        job.file.name = ""
        # The file goes only once the database agrees (a rolled-back step keeps its file).
        transaction.on_commit(lambda: _delete_stored_file(storage, name))


# --- Commit ------------------------------------------------------------------------------------


def request_commit(*, job, membership, site_url="", enqueue=True):
    """Check the preview can be imported and start the commit (background task)."""
    if not can_manage_job(membership, job):
        raise PermissionDenied(ADMIN_ONLY)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.READY:
            raise ValidationError(f"Cet import ne peut pas être lancé : il est « {job.get_status_display()} ».")
        if job.error_count:
            raise ValidationError(
                f"{job.error_count} ligne{'s sont' if job.error_count > 1 else ' est'} en erreur : corrigez-les ou "
                "écartez-les avant d'importer."
            )
        if not job.to_commit_count:
            raise ValidationError(
                "Aucune ligne à importer : le fichier ne contient aucune ligne valide à créer ou à mettre à jour."
            )
        job.site_url = site_url[:200]
        job.progress_done, job.progress_total = 0, job.to_commit_count
        transition(job, ImportStatus.COMMITTING, by=membership.user,
                   reason=f"Import de {job.to_commit_count} ligne{'s' if job.to_commit_count > 1 else ''}",
                   fields=["site_url", "progress_done", "progress_total"])
        if enqueue:
            from .tasks import commit_import

            job_id, user_id = job.pk, membership.user_id
            transaction.on_commit(lambda: commit_import.enqueue(job_id, user_id))
    return job


class StalePreview(Exception):  # noqa: N818 - a state, not a programming error
    """The database changed since the preview in a way that makes it wrong: nothing is written."""


STALE_CREATES = ("Des personnes de ce fichier ont été créées depuis la vérification : relancez la vérification.")
STALE_UPDATES = ("Des personnes de ce fichier ne sont plus suivies par votre structure depuis la vérification : "
                 "relancez la vérification.")


def run_commit(job_id, user_id, *, progress=None):
    """Write the preview's rows in ONE transaction; on any error nothing is written."""
    job = ImportJob.objects.select_related("territory", "structure", "created_by", "referent").get(pk=job_id)
    if job.status != ImportStatus.COMMITTING:
        return job
    started = time.monotonic()
    try:
        with transaction.atomic():
            if job.kind == ImportKind.PERSONS:
                _commit_persons(job, user_id, progress)
            elif job.kind == ImportKind.ACTIONS:
                _commit_actions(job, user_id, progress)
            elif job.kind == ImportKind.OPENINGS:
                _commit_openings(job, user_id, progress)
            else:
                _commit_professionals(job, user_id)
    except StalePreview as exc:
        _fail(job, f"{exc} L'import n'a rien enregistré.")
        return job
    except IntegrityError:
        logger.warning("Commit of import %s refused by the database", job.pk, exc_info=True)
        _fail(job, "L'import a échoué et n'a rien enregistré : un NIR ou un identifiant a été enregistré pour une "
                   "autre personne depuis la vérification. Relancez la vérification (« Modifier la correspondance ») "
                   "puis importez à nouveau.")
        return job
    except ValidationError as exc:
        _fail(job, "L'import a échoué et n'a rien enregistré : " + " ".join(exc.messages))
        return job
    except Exception:  # noqa: BLE001
        logger.exception("Commit of import %s failed", job.pk)
        _fail(job, "L'import a échoué et n'a rien enregistré (erreur inattendue). Réessayez ou contactez l'assistance.")
        return job
    job.commit_seconds = round(time.monotonic() - started, 3)
    job.committed_at = timezone.now()
    job.committed_by_id = user_id
    job.progress_done = job.progress_total
    with transaction.atomic():
        transition(job, ImportStatus.COMMITTED, by=job.committed_by,
                   reason=f"{job.create_count} création(s), {job.update_count} mise(s) à jour",
                   fields=["commit_seconds", "committed_at", "committed_by", "progress_done"])
        discard_contents(job)
    return job


def _model_value(name, value):
    if name in {"birth_date", "rsa_rights_opened_on"}:
        return date.fromisoformat(value) if value else None
    return value


def _person_kwargs(cleaned):
    kwargs = {}
    for name in PERSON_FIELDS:
        if name not in cleaned:
            continue
        if name == "commune":
            kwargs["commune_id"] = cleaned[name]
        else:
            kwargs[name] = _model_value(name, cleaned[name])
    return kwargs


def _insert_with_ids(model, objs, territory):
    """Insert persons and give the instances their primary keys.

    SQLite: ``fast_insert`` (executemany); the transaction is IMMEDIATE, so it holds the write
    lock and the new rows are exactly those above the previous maximum, in insertion order.
    PostgreSQL: ``bulk_create`` returns the ids (RETURNING).
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "sqlite":
        model.objects.bulk_create(objs, batch_size=1000)
        return
    before = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    fast_insert(model, objs)
    ids = list(model.objects.filter(pk__gt=before, territory=territory).order_by("pk").values_list("pk", flat=True))
    if len(ids) != len(objs):
        raise IntegrityError("Concurrent inserts while importing persons.")
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk


def _set_targets(pairs):
    """``UPDATE … SET target_id`` for many rows: one prepared statement (``bulk_update``'s CASE
    expressions are far slower for thousands of rows)."""
    connection = connections[router.db_for_write(ImportRow)]
    table = connection.ops.quote_name(ImportRow._meta.db_table)
    with connection.cursor() as cursor:
        # Only the quoted table name from the model's metadata goes into the SQL; values are parameters.
        cursor.executemany(f"UPDATE {table} SET target_id = %s WHERE id = %s", pairs)  # noqa: S608


def _field_labels(names):
    labels = m.target_map(ImportKind.PERSONS)
    return ", ".join(labels[n].label.lower() if n in labels else n for n in names)


def _created_since(index, match_key, key, nir, cleaned):
    """True when a row validated as a creation now matches a recorded person (another import, or
    a record created by hand, since the preview): creating it would make a duplicate."""
    if (key and key in index.by_key) or (nir and nir in index.nir_owner):
        return True
    if match_key != MatchKey.NAMES_BIRTH_DATE and all(cleaned.get(f) for f in ("last_name", "first_name",
                                                                                "birth_date")):
        return names_key(cleaned["last_name"], cleaned["first_name"], cleaned["birth_date"]) in index.by_names
    return False


def _commit_persons(job, user_id, progress):
    structure, territory = job.structure, job.territory
    referent = job.referent or job.created_by
    # Imports of a territory commit one at a time (PostgreSQL; SQLite's write lock already does
    # it), and the preview is checked again against the database as it is now.
    list(Territory.objects.select_for_update().filter(pk=territory.pk).values_list("pk", flat=True))
    index = PersonIndex(territory, job.match_key, structure=structure)
    now = timezone.now()
    source = f"import de fichier par {structure}"[:250]
    done = 0
    # Creations, in batches: persons, their référent unique, their timeline.
    creates = ImportRow.objects.filter(job=job, action=RowAction.CREATE).order_by("line")
    row_ids = list(creates.values_list("pk", flat=True))
    for start in range(0, len(row_ids), COMMIT_BATCH):
        chunk = list(ImportRow.objects.filter(pk__in=row_ids[start:start + COMMIT_BATCH])
                     .order_by("line").values_list("pk", "cleaned", "key", "nir"))
        persons = []
        for _pk, cleaned, key, nir in chunk:
            if _created_since(index, job.match_key, key, nir, cleaned):
                raise StalePreview(STALE_CREATES)
            person = Person(territory=territory, created_by_id=user_id, **_person_kwargs(cleaned))
            person.last_name_key = fold(person.last_name)
            person.first_name_key = fold(person.first_name)
            person.nir = (person.nir or "").replace(" ", "").upper()
            persons.append(person)
        _insert_with_ids(Person, persons, territory)
        fast_insert(FollowUpMembership, [
            FollowUpMembership(person_id=p.pk, user_id=referent.pk, structure_id=structure.pk,
                               kind=FollowUpMembership.Kind.REFERENT, reason="Import de fichier", added_by_id=user_id)
            for p in persons
        ])
        # One event per person naming the référent (the creation page writes two: half the inserts).
        title = f"Entrée dans le parcours — référent unique : {referent} ({structure})"[:250]
        fast_insert(TimelineEvent, [
            TimelineEvent(person_id=p.pk, at=now, kind="created", title=title, detail=source, actor_id=user_id,
                          structure_id=structure.pk)
            for p in persons
        ])
        _set_targets([(p.pk, row_pk) for (row_pk, *_values), p in zip(chunk, persons, strict=True)])
        done += len(chunk)
        if progress:
            progress("commit", done, job.to_commit_count)
    # Updates: only the cells that differ (the diff), batched.
    updates = list(ImportRow.objects.filter(job=job, action=RowAction.UPDATE).order_by("line")
                   .values_list("target_id", "diff"))
    if any(target_id not in index.updatable for target_id, _diff in updates):
        raise StalePreview(STALE_UPDATES)
    for start in range(0, len(updates), COMMIT_BATCH):
        chunk = updates[start:start + COMMIT_BATCH]
        persons = Person.objects.in_bulk([t for t, _d in chunk])
        changed_fields, events, touched = set(), [], []
        for target_id, diff in chunk:
            person = persons.get(target_id)
            if person is None:
                raise ValidationError("une personne à mettre à jour a été supprimée depuis la vérification.")
            for name, (_old, new) in diff.items():
                if name == "commune":
                    person.commune_id = new
                    changed_fields.add("commune")
                else:
                    setattr(person, name, _model_value(name, new))
                    changed_fields.add(name)
            person.last_name_key = fold(person.last_name)
            person.first_name_key = fold(person.first_name)
            person.updated_at = now
            touched.append(person)
            events.append(TimelineEvent(person_id=person.pk, at=now, kind="updated",
                                        title=f"Dossier mis à jour par import ({_field_labels(diff)})"[:250],
                                        detail=source, actor_id=user_id, structure_id=structure.pk))
        if touched:
            Person.objects.bulk_update(
                touched, sorted(changed_fields | {"last_name_key", "first_name_key", "updated_at"}), batch_size=500)
            fast_insert(TimelineEvent, events)
        done += len(chunk)
        if progress:
            progress("commit", done, job.to_commit_count)


def _commit_professionals(job, user_id):
    admin_memberships = {
        ms.structure_id: ms
        for ms in Membership.objects.filter(user_id=user_id, role=Membership.Role.ADMIN, is_active=True)
        .select_related("user", "structure")
    }
    from spie.network.models import Structure

    rows = ImportRow.objects.filter(job=job, action__in=[RowAction.CREATE, RowAction.UPDATE]).order_by("line")
    structures = Structure.objects.in_bulk({r.cleaned.get("structure_id") for r in rows})
    for row in rows:
        c = row.cleaned
        structure = structures.get(c.get("structure_id"))
        by = admin_memberships.get(c.get("structure_id"))
        if structure is None or by is None:
            raise PermissionDenied(ADMIN_ONLY)
        try:
            membership = invite_member(
                by_membership=by, structure=structure, email=c["email"], first_name=c.get("first_name", ""),
                last_name=c.get("last_name", ""), role=c["role"], job_title=c.get("job_title", ""),
                base_url=getattr(job, "site_url", "") or "",
            )
        except ValidationError as exc:
            raise ValidationError(f"ligne {row.line} : {' '.join(exc.messages)}") from exc
        row.target_id = membership.user_id
        row.save(update_fields=["target_id"])


STALE_ACTION_CREATES = ("Des actions de ce fichier ont été créées dans votre structure depuis la vérification : "
                        "relancez la vérification.")
STALE_ACTION_PUBLISHED = ("Une action de ce fichier a été publiée depuis la vérification et ne serait plus complète "
                          "après l'import : relancez la vérification.")
STALE_ACTION_UPDATES = ("Des actions de ce fichier ont été supprimées ou ne sont plus à votre structure depuis la "
                        "vérification : relancez la vérification.")


def _commit_actions(job, user_id, progress):
    """Create the new actions (drafts: the structure publishes them once reviewed) and update the
    matched ones with the cells that changed. Actions are few (hundreds): one save each keeps the
    derived search keys right (``Action.save``)."""
    from spie.catalogue import interop, places
    from spie.catalogue.models import Action, ActionStatus
    from spie.catalogue.services.actions import VISIBLE_STATUSES, publish_problems, sync_from_model
    from spie.referentials.models import Commune

    structure, territory = job.structure, job.territory
    index = ActionIndex(structure)
    rows = list(ImportRow.objects.filter(job=job, action__in=[RowAction.CREATE, RowAction.UPDATE])
                .order_by("line").values_list("pk", "line", "action", "cleaned", "target_id", "diff"))
    codes = {cleaned.get("commune_id") for _pk, _l, _a, cleaned, _t, _d in rows if cleaned.get("commune_id")}
    communes = Commune.objects.defer("shape").in_bulk(codes)
    updated = Action.objects.select_related("structure", "commune").in_bulk(
        [target for _pk, _l, kind, _c, target, _d in rows if kind == RowAction.UPDATE])
    today = timezone.localdate()
    targets, done = [], 0
    for row_pk, _line, kind, cleaned, target_id, diff in rows:
        values = interop.model_values(cleaned)
        commune = communes.get(values.pop("commune_id", None))
        if kind == RowAction.CREATE:
            key = action_key(cleaned)
            if key and (index.by_source.get((cleaned.get("source", ""), cleaned.get("source_id")))
                        or (not cleaned.get("source_id") and action_name_key(
                            cleaned.get("name", ""), cleaned.get("commune_id")) in index.by_name)):
                raise StalePreview(STALE_ACTION_CREATES)
            action = Action(territory=territory, structure=structure, status=ActionStatus.DRAFT,
                            created_by_id=user_id, commune=commune, **values)
            action.content_updated_on = values.get("content_updated_on") or today
            action.save()
        else:
            action = updated.get(target_id)
            if action is None or action.structure_id != structure.pk:
                raise StalePreview(STALE_ACTION_UPDATES)
            changed = {name: values[name] for name in diff if name in values}
            if "commune_id" in diff:
                action.commune = commune
                if "lat" not in diff and "lon" not in diff:
                    action.lat = action.lon = None  # placed again from the new commune (``Action.save``)
            for name, value in changed.items():
                setattr(action, name, value)
            if action.status in VISIBLE_STATUSES and publish_problems(action):
                raise StalePreview(STALE_ACTION_PUBLISHED)  # published since the preview: the checks no longer hold
            if "content_updated_on" not in diff:
                action.content_updated_on = today
            action.save()
            if action.is_model:
                sync_from_model(action)  # a model passes its content on to its sites, as from the sheet's page
        if action.capacity is not None or (kind == RowAction.UPDATE and "capacity" in diff):
            places.refresh_action(action)
        targets.append((action.pk, row_pk))
        done += 1
        if progress:
            progress("commit", done, job.to_commit_count)
    _set_targets(targets)


STALE_OPENING_CREATES = ("Des offres de ce fichier ont été enregistrées depuis la vérification : relancez la "
                         "vérification.")
STALE_OPENING_UPDATES = ("Des offres de ce fichier ont été supprimées ou ont changé d'entreprise depuis la "
                         "vérification : relancez la vérification.")


def _commit_openings(job, user_id, progress):
    """Create the new openings (open) and their new companies (found again by SIRET: two rows of
    one new company create it once), and update the matched openings with the fields that
    changed (their status, company and publication date are kept)."""
    from spie.employers import interop
    from spie.employers.models import Company, JobOpening
    from spie.referentials.models import NafCode

    territory, structure = job.territory, job.structure
    rows = list(ImportRow.objects.filter(job=job, action__in=[RowAction.CREATE, RowAction.UPDATE])
                .order_by("line").values_list("pk", "action", "cleaned", "target_id", "diff"))
    companies = {c.siret: c for c in Company.objects.filter(territory=territory)}
    updated = JobOpening.objects.in_bulk([target for _pk, kind, _c, target, _d in rows if kind == RowAction.UPDATE])
    nafs = set(NafCode.objects.filter(code__in={(c.get("new_company") or {}).get("naf") for _p, _k, c, _t, _d
                                                in rows} - {None, ""}).values_list("code", flat=True))
    targets, done = [], 0
    for row_pk, kind, cleaned, target_id, diff in rows:
        values = interop.model_values(cleaned)
        if kind == RowAction.CREATE:
            if cleaned.get("source_id") and JobOpening.objects.filter(
                    territory=territory, source=cleaned["source"], source_id=cleaned["source_id"]).exists():
                raise StalePreview(STALE_OPENING_CREATES)
            company_id = cleaned.get("company_id")
            new = cleaned.get("new_company")
            if company_id is None and new:
                company = companies.get(new["siret"])
                if company is None:
                    company = Company(territory=territory, siret=new["siret"], name=new["name"],
                                      description=new.get("description", ""), commune_id=values.get("commune_id"),
                                      naf_id=new.get("naf") if new.get("naf") in nafs else None,
                                      followed_by=structure if not structure.kind == "company" else None,
                                      created_by_id=user_id)
                    company.full_clean(exclude=["partners"])
                    company.save()
                    companies[company.siret] = company
                company_id = company.pk
            opening = JobOpening(territory=territory, company_id=company_id, created_by_id=user_id,
                                 source=cleaned.get("source", ""), source_id=cleaned.get("source_id", ""), **values)
            opening.full_clean(exclude=["company", "territory", "rome", "appellation", "commune"])
            opening.save()
        else:
            opening = updated.get(target_id)
            if opening is None or opening.company_id != cleaned.get("company_id", opening.company_id):
                raise StalePreview(STALE_OPENING_UPDATES)
            for name in diff:
                if name in values:
                    setattr(opening, name, values[name])
            opening.save()
        targets.append((opening.pk, row_pk))
        done += 1
        if progress:
            progress("commit", done, job.to_commit_count)
    _set_targets(targets)


# --- Reading helpers for pages and API ---------------------------------------------------------


def log_preview_reads(request, membership, job, rows, *, reason):
    """Write one access-log row (section "import") per recorded person whose stored values the
    shown ``rows`` reveal (an update's diff, an unchanged row's cells): pages and API alike."""
    if job.kind != ImportKind.PERSONS:
        return
    ids = sorted({r.target_id for r in rows if r.target_id and r.action in (RowAction.UPDATE, RowAction.UNCHANGED)})
    if not ids:
        return
    AccessLog.objects.bulk_create([
        AccessLog(user=request.user, structure_id=membership.structure_id, person_id=pk,
                  section=AccessLog.Section.IMPORT, reason=reason[:200], path=request.get_full_path()[:300],
                  ip_address=client_ip(request))
        for pk in ids
    ])


def error_messages(row):
    """The row's French error sentences, whole-row ones first."""
    errors = row.errors or {}
    return ([errors[ALL]] if ALL in errors else []) + [v for k, v in errors.items() if k != ALL]
