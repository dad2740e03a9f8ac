"""Pages of the staged imports (structure admins, their own structure's imports; company users
import their company's job offers only).

- ``/imports/``: the structure's imports;
- ``/imports/nouveau/``: upload (CSV or XLSX, checked by content; data·inclusion JSON for actions);
- ``/imports/<id>/correspondance/``: column mapping, match key, référent of the persons created;
- ``/imports/<id>/``: progress while the background task runs (polled with htmx), then the
  preview (counts, filter, rows with their errors per cell, fix or drop a row, commit), then
  the result; ``?format=csv|xlsx`` exports the rows in error.

An import of another structure, or any import for a non-admin, is a 404 (its existence is not
disclosed); the list and upload pages answer 403 to non-admins. The preview shows, for a person
already recorded, only the fields of the file that change (never the record): each display is
written to the access log (section "import").
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from spie.core.audit import log_export
from spie.core.exports import export_format, export_response
from spie.core.policies import view_policy
from spie.network.models import User

from . import mapping as m
from . import services
from .forms import MappingForm, RowForm, UploadForm
from .models import ImportJob, ImportKind, ImportRow, ImportStatus, RowAction
from .validators import ALL

PAGE_SIZE = 25
FILTERS = {
    "erreurs": (RowAction.ERROR, "En erreur"),
    "a-creer": (RowAction.CREATE, "À créer"),
    "a-mettre-a-jour": (RowAction.UPDATE, "À mettre à jour"),
    "inchangees": (RowAction.UNCHANGED, "Inchangées"),
    "ecartees": (RowAction.DROPPED, "Écartées"),
}


def _require_admin(request):
    if not services.can_import(request.membership):
        raise PermissionDenied(services.ADMIN_ONLY)


def _job(request, pk):
    job = get_object_or_404(ImportJob.objects.select_related("structure", "territory", "created_by", "referent"),
                            pk=pk)
    if not services.can_manage_job(request.membership, job):
        raise Http404
    return job


@view_policy("imports.list")
def job_list(request):
    _require_admin(request)
    jobs = ImportJob.objects.filter(structure=request.membership.structure).select_related("created_by")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "imports/list.html", {"page": page})


@view_policy("imports.upload")
def upload(request):
    _require_admin(request)
    form = UploadForm(request.POST or None, request.FILES or None,
                      kinds=services.importable_kinds(request.membership))
    if request.method == "POST" and form.is_valid():
        try:
            job = services.create_job(membership=request.membership, kind=form.cleaned_data["kind"],
                                      uploaded_file=form.cleaned_data["file"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if getattr(job, "mapping_was_saved", False):
                messages.success(request, "Ce modèle de fichier est connu : la correspondance des colonnes de votre "
                                          "dernier import a été reprise. Vérifiez-la.")
            return redirect("imports:mapping", job.pk)
    from spie.employers.interop import CSV_HEADER

    return render(request, "imports/upload.html", {"form": form, "offer_columns": CSV_HEADER})


@view_policy("imports.mapping")
def mapping_view(request, pk):
    job = _job(request, pk)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.READY, ImportStatus.FAILED):
        messages.warning(request, "La correspondance ne peut plus changer : "
                                  f"l'import est « {job.get_status_display()} ».")
        return redirect("imports:detail", job.pk)
    form = MappingForm(request.POST or None, job=job)
    if request.method == "POST" and form.is_valid():
        referent = None
        if "referent" in form.cleaned_data:
            referent = User.objects.filter(pk=form.cleaned_data["referent"]).first()
        try:
            services.set_mapping(job=job, membership=request.membership, mapping=form.mapping(),
                                 match_key=form.cleaned_data.get("match_key"), referent=referent)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("imports:detail", job.pk)
    samples = {}
    try:  # the first data rows help to recognise the columns (read from the file's first 64 kB)
        from .readers import read_csv_bytes, read_table

        table = None
        if job.file_format == "csv":
            with open(job.file.path, "rb") as handle:
                head = handle.read(65536)
            table = read_csv_bytes(head.rsplit(b"\n", 1)[0] if len(head) == 65536 else head)
        elif job.file_format == "json":
            table = read_table(job.file.path)  # a JSON list is read whole (20 MB at most)
        if table is not None:
            for index, header in enumerate(table.headers):
                samples[header] = [cells[index][:80] for _l, cells in table.rows[:3] if index < len(cells)]
    except Exception:  # noqa: BLE001 - samples are a help only
        samples = {}
    return render(request, "imports/mapping.html", {
        "job": job, "form": form, "samples": samples,
        "required": [t.label for t in m.targets(job.kind) if t.required],
    })


def _error_rows_export(request, job, fmt):
    rows = ImportRow.objects.filter(job=job, action=RowAction.ERROR).order_by("line")
    if job.kind == ImportKind.PERSONS:
        log_export(request, rows.filter(target_id__isnull=False).values_list("target_id", flat=True).iterator(),
                   reason=f"export des lignes en erreur de l'import {job.pk}")
    targets = [t for t in m.targets(job.kind) if t.name in job.mapping]
    header = ["Ligne", *[job.mapping[t.name] for t in targets], "Erreurs"]

    def lines():
        for line, raw, errors in rows.values_list("line", "raw", "errors").iterator(chunk_size=2000):
            messages_ = ([errors[ALL]] if ALL in errors else []) + [v for k, v in errors.items() if k != ALL]
            yield [line, *[raw.get(t.name, "") for t in targets], " ; ".join(messages_)]

    return export_response(fmt, f"import-{job.pk}-lignes-en-erreur", header, lines(), sheet_title="Lignes en erreur")


@view_policy("imports.detail")
def detail(request, pk):
    job = _job(request, pk)
    fmt = export_format(request)
    if fmt:
        return _error_rows_export(request, job, fmt)
    context = {"job": job, "filters": [(key, label) for key, (_a, label) in FILTERS.items()]}
    if job.status in (ImportStatus.READY, ImportStatus.COMMITTED):
        chosen = request.GET.get("filtre", "")
        if chosen not in FILTERS:
            chosen = "erreurs" if job.status == ImportStatus.READY and job.error_count else ""
        rows = ImportRow.objects.filter(job=job).order_by("line")
        if chosen:
            rows = rows.filter(action=FILTERS[chosen][0])
        elif job.status == ImportStatus.COMMITTED:
            rows = rows.filter(action__in=[RowAction.CREATE, RowAction.UPDATE])
        paginator = Paginator(rows, PAGE_SIZE)
        counts = {RowAction.ERROR: job.error_count, RowAction.CREATE: job.create_count,
                  RowAction.UPDATE: job.update_count, RowAction.UNCHANGED: job.unchanged_count,
                  RowAction.DROPPED: job.dropped_count}
        paginator.count = counts[FILTERS[chosen][0]] if chosen else (
            job.create_count + job.update_count if job.status == ImportStatus.COMMITTED else job.rows_count)
        page = paginator.get_page(request.GET.get("page"))
        targets = [t for t in m.targets(job.kind) if t.name in job.mapping]
        labels = {t.name: t.label for t in m.targets(job.kind)} | {"membership": "Rattachement"}
        if job.kind == ImportKind.ACTIONS:
            from spie.catalogue.interop import ACTION_FIELD_LABELS

            labels |= ACTION_FIELD_LABELS
        elif job.kind == ImportKind.OPENINGS:
            from spie.employers.interop import FIELD_LABELS

            labels |= FIELD_LABELS
        shown = []
        for row in page.object_list:
            row.messages = services.error_messages(row)
            row.cells = [(t, row.raw.get(t.name, ""), (row.errors or {}).get(t.name)) for t in targets]
            row.changes = [(labels.get(k, k), old, new) for k, (old, new) in (row.diff or {}).items()]
            if job.status == ImportStatus.READY and (row.action == RowAction.ERROR or row.fixed):
                row.form = RowForm(job=job, row=row, prefix=f"r{row.pk}")
            shown.append(row)
        services.log_preview_reads(request, request.membership, job, shown, reason=f"aperçu de l'import {job.pk}")
        if job.kind == ImportKind.ACTIONS:
            _link_actions(shown)
        elif job.kind == ImportKind.OPENINGS:
            _link_openings(shown)
        context.update({"page": page, "rows": shown, "chosen": chosen, "targets": targets,
                        "persons": job.kind == ImportKind.PERSONS,
                        "actions": job.kind in (ImportKind.ACTIONS, ImportKind.OPENINGS)})
    return render(request, "imports/detail.html", context)


def _link_actions(rows):
    """The edit page of each action a shown row created or updates (one query for the page)."""
    from django.urls import NoReverseMatch, reverse

    from spie.catalogue.models import Action

    uids = dict(Action.objects.filter(pk__in=[r.target_id for r in rows if r.target_id]).values_list("pk", "uid"))
    for row in rows:
        row.link = ""
        if row.target_id in uids:
            try:
                row.link = reverse("catalogue:action_edit", args=[uids[row.target_id]])
            except NoReverseMatch:  # the actions pages are another part of the catalogue
                row.link = ""


def _link_openings(rows):
    """The page of each opening a shown row created or updates (one query for the page)."""
    from django.urls import NoReverseMatch, reverse

    from spie.employers.models import JobOpening

    uids = dict(JobOpening.objects.filter(pk__in=[r.target_id for r in rows if r.target_id])
                .values_list("pk", "uid"))
    for row in rows:
        row.link = ""
        if row.target_id in uids:
            try:
                row.link = reverse("employers:opening_detail", args=[uids[row.target_id]])
            except NoReverseMatch:  # the openings pages are another part of the employer side
                row.link = ""


@view_policy("imports.progress")
def progress(request, pk):
    """The progress fragment the page polls; once the step is over the page reloads."""
    job = _job(request, pk)
    response = render(request, "imports/_progress.html", {"job": job})
    if not job.is_running and request.htmx:
        response["HX-Refresh"] = "true"
    return response


def _back(request, job):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("imports:detail", job.pk)


@require_POST
@view_policy("imports.row")
def row_action(request, pk, row_id):
    job = _job(request, pk)
    row = get_object_or_404(ImportRow, pk=row_id, job=job)
    action = request.POST.get("action", "fix")
    try:
        if action == "drop":
            services.drop_row(job=job, row=row, membership=request.membership)
            messages.success(request, f"Ligne {row.line} écartée : elle ne sera pas importée.")
        elif action == "restore":
            row = services.restore_row(job=job, row=row, membership=request.membership)
            messages.success(request, f"Ligne {row.line} rétablie.")
        else:
            form = RowForm(request.POST, job=job, row=row, prefix=f"r{row.pk}")
            form.is_valid()
            values = {name: form.cleaned_data.get(name, "") for name in form.fields}
            row = services.fix_row(job=job, row=row, membership=request.membership, values=values)
            if row.action == RowAction.ERROR:
                messages.error(request, f"Ligne {row.line} : encore à corriger — " + " ; ".join(
                    services.error_messages(row)))
            else:
                messages.success(request, f"Ligne {row.line} corrigée : {row.get_action_display().lower()}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, job)


@require_POST
@view_policy("imports.commit")
def commit(request, pk):
    job = _job(request, pk)
    try:
        services.request_commit(job=job, membership=request.membership,
                                site_url=request.build_absolute_uri("/")[:-1])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("imports:detail", job.pk)


@require_POST
@view_policy("imports.cancel")
def cancel(request, pk):
    job = _job(request, pk)
    try:
        services.cancel(job=job, membership=request.membership)
        messages.success(request, "Import annulé : rien n'a été enregistré.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("imports:list")
