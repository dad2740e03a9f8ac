"""Pages of the end of the pathway and of the support after hiring ("jusque dans l'emploi").

- ``/personnes/<pk>/sortie/``: the exit state and history; the exit form with its bilan (référent
  unique or structure admin: ``followup.policies.can_close``); re-opening;
- ``/personnes/<pk>/sortie/bilan/``: the printable bilan de fin de parcours;
- ``/personnes/<pk>/emploi/``: jobs and their checkpoints at 1, 3 and 6 months, a job start form;
  ``…/emploi/<id>/fin/`` ends a job, ``…/emploi/points/<id>/`` records a checkpoint;
- ``/suivi-emploi/``: the checkpoints to do (due within 7 days or overdue) of my caseload,
  paginated and exportable (CSV, XLSX).

A person the user may not know of is a 404; a record the user may not open is a 403. Every read
of a person's exit or jobs writes the access log (section EXIT or EMPLOYMENT).
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from spie.core.audit import log_access, log_export
from spie.core.exports import export_format, export_response
from spie.core.models import AccessLog
from spie.core.policies import view_policy
from spie.people import policies as people_policies
from spie.people import selectors as people_selectors

from .. import policies
from ..forms_exits import CheckpointForm, EndJobForm, ExitForm, JobForm, ReopenForm
from ..models import Checkpoint, Employment, PathwayExit, PlanAction, PlanObjective
from ..services import employment as employment_services
from ..services import exits as exit_services

PAGE_SIZE = 25
DUE_WITHIN_DAYS = 7
READ_DENIED = "Vous n'avez pas accès au parcours de cette personne."
JOB_PREFIX = "job"


def _load(request, pk):
    """The person and the user's access: 404 when nothing may be known, 403 without the record."""
    person = people_selectors.person_for_record(pk)
    if person is None:
        raise Http404
    access = people_policies.access_for(
        request.user, request.membership, person, followups=person.active_followups, consents=person.all_consents
    )
    if access.relation == people_policies.NONE:
        raise Http404
    if not policies.can_read(access):
        raise PermissionDenied(READ_DENIED)
    return person, access


def _add_errors(form, exc):
    """Put a service's ValidationError on the form: on its fields when it has them."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- Exit -----------------------------------------------------------------------------------


def _render_exit(request, person, access, *, form=None, job_form=None, reopen_form=None, status=200):
    exits = list(
        PathwayExit.objects.filter(person=person).select_related("created_by", "structure", "cancelled_by")
    )
    current = next((e for e in exits if e.cancelled_at is None), None)
    can_close = policies.can_close(access)
    context = {
        "person": person,
        "access": access,
        "current": current,
        "past_exits": [e for e in exits if e.cancelled_at is not None],
        "can_close": can_close,
        "can_edit": policies.can_edit(access),
        "job_reasons": [str(r.label) for r in exit_services.JOB_REASONS],
    }
    if can_close and current is None:
        context["form"] = form or ExitForm()
        context["job_form"] = job_form or JobForm(prefix=JOB_PREFIX)
        context["appointments"] = exit_services.future_appointments(person)
    if can_close and current is not None:
        context["reopen_form"] = reopen_form or ReopenForm()
    log_access(request, person, AccessLog.Section.EXIT)
    return render(request, "followup/exits/exit.html", context, status=status)


@view_policy("followup.exit")
def exit_view(request, pk):
    """GET: the exit state (or the form); POST: close the pathway with its bilan."""
    person, access = _load(request, pk)
    if request.method != "POST":
        return _render_exit(request, person, access)
    if not policies.can_close(access):
        raise PermissionDenied(exit_services.CLOSE_DENIED)
    current = exit_services.active_exit(person)
    if current is not None:  # e.g. a second tab: say so rather than re-show a form that cannot succeed
        messages.error(request, f"Le parcours est déjà clos (sortie du {current.exit_date:%d/%m/%Y}). "
                                "Rouvrez-le d'abord pour enregistrer une autre sortie.")
        return redirect("followup:exit", pk=person.pk)
    form = ExitForm(request.POST)
    record_job = request.POST.get("record_job") == "on"
    if record_job:
        job_form = JobForm(request.POST, prefix=JOB_PREFIX)
    else:  # shown again with what was typed, without errors: nothing is lost
        job_form = JobForm(prefix=JOB_PREFIX, initial={
            name: request.POST.get(f"{JOB_PREFIX}-{name}", "") for name in JobForm.base_fields
        })
    valid = form.is_valid()
    job_valid = job_form.is_valid() if record_job else True
    if valid:
        try:
            exit_services.clean_exit(person, form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        if record_job and form.cleaned_data.get("reason") not in exit_services.JOB_REASONS:
            form.add_error("record_job", "Un emploi ne s'enregistre avec la sortie que pour un motif d'emploi "
                                         "ou de création d'entreprise : décochez la case ou changez le motif.")
    if record_job and job_valid:
        try:
            employment_services.clean_job(job_form.cleaned_data)
        except ValidationError as exc:
            _add_errors(job_form, exc)
    if form.is_valid() and (not record_job or job_form.is_valid()):
        try:
            exit_ = exit_services.close_pathway(
                person, request.membership, access=access, data=form.cleaned_data,
                job=job_form.cleaned_data if record_job else None,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            text = f"Le parcours est clos (sortie du {exit_.exit_date:%d/%m/%Y})."
            if exit_.employment is not None:
                text += " L'emploi est enregistré : les points de suivi à 1, 3 et 6 mois sont programmés."
            messages.success(request, text)
            return redirect("followup:exit", pk=person.pk)
    return _render_exit(request, person, access, form=form, job_form=job_form)


@require_POST
@view_policy("followup.exit_reopen")
def exit_reopen(request, pk):
    person, access = _load(request, pk)
    if not policies.can_close(access):
        raise PermissionDenied(exit_services.REOPEN_DENIED)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            exit_services.reopen_pathway(person, request.membership, access=access,
                                         reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Le parcours est rouvert.")
            return redirect("followup:exit", pk=person.pk)
    return _render_exit(request, person, access, reopen_form=form)


def _entry_dates(person):
    """Orientation decided and contract signed: the dates of the pathway shown in the bilan."""
    from spie.pathways.models import EngagementContract, Orientation
    from spie.pathways.selectors import local_day, signature_day

    decided = (
        Orientation.objects.filter(person=person, status=Orientation.Status.DECIDED, decided_at__isnull=False)
        .order_by("-decided_at").only("decided_at").first()
    )
    signed = (
        EngagementContract.objects.filter(person=person, status=EngagementContract.Status.SIGNED)
        .only("signed_at", "signed_by_person_on", "signed_by_referent_on").order_by("-version").first()
    )
    return local_day(decided.decided_at) if decided else None, signature_day(signed) if signed else None


@view_policy("followup.exit_report")
def exit_report(request, pk):
    """The printable bilan de fin de parcours (the active exit, or else the latest one)."""
    person, _access = _load(request, pk)
    exits = list(PathwayExit.objects.filter(person=person).select_related("created_by", "structure"))
    exit_ = next((e for e in exits if e.cancelled_at is None), None) or (exits[0] if exits else None)
    if exit_ is None:
        messages.info(request, "Aucune sortie n'est enregistrée : il n'y a pas encore de bilan.")
        return redirect("followup:exit", pk=person.pk)
    oriented_on, signed_on = _entry_dates(person)
    objectives = list(
        PlanObjective.objects.filter(person=person).select_related("theme")
        .prefetch_related(Prefetch("actions", queryset=PlanAction.objects.order_by("planned_on", "id")))
    )
    jobs = list(Employment.objects.filter(person=person).prefetch_related("checkpoints"))
    log_access(request, person, AccessLog.Section.EXIT, reason="bilan imprimable")
    return render(request, "followup/exits/bilan.html", {
        "person": person, "exit": exit_, "oriented_on": oriented_on, "signed_on": signed_on,
        "objectives": objectives, "jobs": jobs, "today": timezone.localdate(),
        "referent": next((f for f in person.active_followups if f.kind == "referent"), None),
    })


# --- Employment -----------------------------------------------------------------------------


def _render_employment(request, person, access, *, job_form=None, status=200):
    today = timezone.localdate()
    jobs = list(
        Employment.objects.filter(person=person).select_related("created_by", "structure")
        .prefetch_related(Prefetch("checkpoints", queryset=Checkpoint.objects.select_related("done_by")))
    )
    can_edit = policies.can_edit(access)
    log_access(request, person, AccessLog.Section.EMPLOYMENT)
    return render(request, "followup/employment/employment.html", {
        "person": person, "access": access, "jobs": jobs, "today": today, "can_edit": can_edit,
        "job_form": (job_form or JobForm()) if can_edit else None,
    }, status=status)


@view_policy("followup.employment")
def employment(request, pk):
    """GET: jobs and checkpoints; POST: record a job start (group members who may edit)."""
    person, access = _load(request, pk)
    if request.method != "POST":
        return _render_employment(request, person, access)
    if not policies.can_edit(access):
        raise PermissionDenied(employment_services.EDIT_DENIED)
    form = JobForm(request.POST)
    if form.is_valid():
        try:
            job = employment_services.record_job(person, request.membership, access=access, data=form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Emploi enregistré : {job}. Points de suivi programmés à 1, 3 et 6 mois.")
            return redirect("followup:employment", pk=person.pk)
    return _render_employment(request, person, access, job_form=form)


@view_policy("followup.employment_end")
def employment_end(request, pk, employment_id):
    person, access = _load(request, pk)
    if not policies.can_edit(access):
        raise PermissionDenied(employment_services.EDIT_DENIED)
    job = get_object_or_404(Employment, pk=employment_id, person=person)
    if job.ended_on is not None:
        messages.info(request, f"Cet emploi est déjà terminé (le {job.ended_on:%d/%m/%Y}).")
        return redirect("followup:employment", pk=person.pk)
    form = EndJobForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employment_services.end_job(job, request.membership, access=access,
                                        ended_on=form.cleaned_data["ended_on"], reason=form.cleaned_data["end_reason"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"La fin de l'emploi « {job} » est enregistrée.")
            return redirect("followup:employment", pk=person.pk)
    log_access(request, person, AccessLog.Section.EMPLOYMENT, reason="fin d'emploi")
    return render(request, "followup/employment/end.html", {"person": person, "job": job, "form": form})


@view_policy("followup.checkpoint")
def checkpoint(request, pk, checkpoint_id):
    """Record a post-hiring checkpoint of this person (the id must belong to this person)."""
    person, access = _load(request, pk)
    if not policies.can_edit(access):
        raise PermissionDenied(employment_services.EDIT_DENIED)
    point = get_object_or_404(Checkpoint.objects.select_related("employment"), pk=checkpoint_id, person=person)
    if point.done_on is not None:
        messages.info(request, f"Ce point de suivi est déjà renseigné (le {point.done_on:%d/%m/%Y}).")
        return redirect("followup:employment", pk=person.pk)
    form = CheckpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employment_services.record_checkpoint(point, request.membership, access=access, data=form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            data = form.cleaned_data
            messages.success(request, f"Point de suivi à {point.month} mois enregistré.")
            if data["outcome"] == Checkpoint.Outcome.JOB_ENDED and not data.get("end_job") \
                    and point.employment.ended_on is None:
                messages.warning(request, "La personne n'est plus en emploi : pensez à enregistrer la fin de l'emploi.")
            elif data["outcome"] == Checkpoint.Outcome.CHANGED_JOB:
                messages.info(request, "La personne a changé d'emploi : enregistrez la fin de l'ancien emploi "
                                       "et le nouvel emploi pour programmer ses points de suivi.")
            return redirect("followup:employment", pk=person.pk)
    log_access(request, person, AccessLog.Section.EMPLOYMENT, reason=f"point à {point.month} mois")
    return render(request, "followup/employment/checkpoint.html", {
        "person": person, "point": point, "job": point.employment, "form": form,
    })


# --- Checkpoints to do ----------------------------------------------------------------------


def due_checkpoints(user, membership, *, today=None):
    """Open checkpoints of ongoing jobs of persons in my caseload, due within 7 days or overdue,
    the most overdue first. One row per checkpoint (one active follow-up row per user and person)."""
    today = today or timezone.localdate()
    caseload = people_policies.visible_persons_filter(user, membership)
    return (
        Checkpoint.objects.filter(
            done_on__isnull=True, due_on__lte=today + datetime.timedelta(days=DUE_WITHIN_DAYS),
            employment__ended_on__isnull=True,
            **{f"person__{key}": value for key, value in caseload.items()},
        )
        .select_related("person", "employment")
        .order_by("due_on", "id")
    )


@view_policy("followup.checkpoints")
def checkpoints(request):
    today = timezone.localdate()
    qs = due_checkpoints(request.user, request.membership, today=today)
    fmt = export_format(request)
    if fmt:
        log_export(request, qs.order_by().values_list("person_id", flat=True).distinct().iterator(),
                   reason="export des points de suivi dans l'emploi à faire")
        header = ["Nom", "Prénom", "Point à (mois)", "À faire le", "Jours de retard", "Poste", "Employeur",
                  "Type de contrat", "Début de l'emploi"]
        rows = (
            [c.person.last_name.upper(), c.person.first_name, c.month, c.due_on, max(0, (today - c.due_on).days),
             c.employment.job_title, c.employment.employer_name, c.employment.get_contract_type_display(),
             c.employment.started_on]
            for c in qs.iterator(chunk_size=500)
        )
        return export_response(fmt, "points-de-suivi-emploi", header, rows, sheet_title="Points de suivi")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "followup/employment/checkpoints.html", {
        "page": page, "today": today, "within": DUE_WITHIN_DAYS,
    })


urlpatterns = [
    path("personnes/<int:pk>/sortie/", exit_view, name="exit"),
    path("personnes/<int:pk>/sortie/rouvrir/", exit_reopen, name="exit_reopen"),
    path("personnes/<int:pk>/sortie/bilan/", exit_report, name="exit_report"),
    path("personnes/<int:pk>/emploi/", employment, name="employment"),
    path("personnes/<int:pk>/emploi/<int:employment_id>/fin/", employment_end, name="employment_end"),
    path("personnes/<int:pk>/emploi/points/<int:checkpoint_id>/", checkpoint, name="checkpoint"),
    path("suivi-emploi/", checkpoints, name="checkpoints"),
]
