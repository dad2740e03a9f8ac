"""Pages of orientations and engagement contracts.

- ``/orientations/``: the chargé d'orientation's queue ("À orienter", "Contrats à signer");
- ``/personnes/<pk>/orientation/``: a person's orientations, their logs, and the workflow forms;
- ``/personnes/<pk>/contrat/…``: the contract, its versions, edition, signature, scan, print.

Every view declares its policy; every read of a person's data writes the access log
(section ORIENTATION or CONTRACT). A person the user may not know of is a 404; a person whose
record the user may not open is a 403, before anything is read.
"""

import mimetypes

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from spie.core.audit import log_access, log_export
from spie.core.exports import export_format, export_response
from spie.core.links import request_base_url
from spie.core.models import AccessLog
from spie.core.policies import view_policy
from spie.diagnostics import selectors as diagnostic_selectors
from spie.diagnostics.models import Diagnostic
from spie.people import policies as people_policies
from spie.people import selectors as people_selectors
from spie.people.selectors import PUBLIC_FILTERS
from spie.referentials.models import PathwayTheme

from . import forms as pathway_forms
from . import policies, scans, selectors, services
from .models import EngagementContract, Orientation

PAGE_SIZE = 25



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
        raise PermissionDenied("Vous n'avez pas accès aux orientations et au contrat de cette personne.")
    return person, access


# --- Queue ----------------------------------------------------------------------------------


@view_policy("pathways.queue")
def queue(request):
    """The chargé d'orientation's queue: who waits for a decision, who waits for a contract."""
    membership = request.membership
    if not policies.is_orientation_officer(membership):
        raise PermissionDenied("La file des orientations est réservée aux chargés d'orientation.")
    territory = membership.structure.territory
    today = timezone.localdate()
    filters = selectors.QueueFilters.from_query(request.GET)
    tab = "contrats" if request.GET.get("onglet") == "contrats" else "orienter"
    fmt = export_format(request)
    if fmt:
        return _export_queue(request, fmt, territory, filters, tab, today)
    if tab == "orienter":
        qs = selectors.orientation_queue(territory, filters, today=today)
        counts, queue_total = selectors.queue_counts(territory, today=today)
        contracts_total = selectors.awaiting_contract(territory, today=today).count()
        paginator = Paginator(qs, PAGE_SIZE)
        if not filters.active:
            paginator.count = queue_total  # already counted: spare the same COUNT query
        page = paginator.get_page(request.GET.get("page"))
        page.object_list = selectors.decorate_queue(page.object_list, territory, today=today)
        target = territory.orientation_delay_days
    else:
        qs = selectors.awaiting_contract(territory, filters, today=today)
        counts, contracts_total = selectors.contract_counts(territory, today=today)
        queue_total = selectors.orientation_queue(territory, today=today).count()
        paginator = Paginator(qs, PAGE_SIZE)
        if not filters.active:
            paginator.count = contracts_total
        page = paginator.get_page(request.GET.get("page"))
        page.object_list = selectors.decorate_contracts(page.object_list, territory, today=today)
        target = territory.contract_delay_days
    return render(request, "pathways/queue.html", {
        "tab": tab,
        "page": page,
        "filters": filters,
        "structures": pathway_forms.active_structures(territory).only("pk", "name"),
        "public_filters": [(key, label) for key, (label, _c) in PUBLIC_FILTERS.items()],
        "counts": counts,
        "counts_max": max((c.count for c in counts), default=0),
        "queue_total": queue_total,
        "contracts_total": contracts_total,
        "target": target,
    })


def _export_queue(request, fmt, territory, filters, tab, today):
    """The queue tab as CSV or XLSX (all rows, filters applied); each person named is written to
    the access log (ids streamed from a ``values_list`` iterator), rows are decorated by chunks."""
    if tab == "orienter":
        qs = selectors.orientation_queue(territory, filters, today=today)
        log_export(request, qs.values_list("pk", flat=True).iterator(chunk_size=2000),
                   reason="export de la file des orientations")
        header = ["Nom", "Prénom", "Droits et devoirs", "En attente depuis", "Jours", "Délai dépassé",
                  "Demande", "Structure proposée ou du référent"]

        def line(p):
            o = p.pending_orientation
            structure = (o.proposed_structure if o and o.proposed_structure
                         else p.referent_followup.structure if p.referent_followup else "")
            return [p.last_name.upper(), p.first_name, p.rsa_droits_devoirs, p.waiting_since, p.delay.days,
                    p.delay.over, f"{o.get_kind_display()} {o.get_proposed_type_display().lower()}" if o else "",
                    str(structure)]

        rows = (line(p) for chunk in _chunks(qs.iterator(chunk_size=500), 500)
                for p in selectors.decorate_queue(chunk, territory, today=today))
        return export_response(fmt, "file-orientations", header, rows, sheet_title="File des orientations")
    qs = selectors.awaiting_contract(territory, filters, today=today)
    log_export(request, qs.values_list("person_id", flat=True).iterator(chunk_size=2000),
               reason="export des contrats à signer")
    header = ["Nom", "Prénom", "Décidée le", "Jours", "Délai dépassé", "Orientation", "Référent unique", "Structure"]
    rows = (
        [o.person.last_name.upper(), o.person.first_name, o.decided_at, o.delay.days, o.delay.over,
         o.get_decided_type_display(), str(o.decided_referent or ""), str(o.decided_structure or "")]
        for chunk in _chunks(qs.iterator(chunk_size=500), 500)
        for o in selectors.decorate_contracts(chunk, territory, today=today)
    )
    return export_response(fmt, "contrats-a-signer", header, rows, sheet_title="Contrats à signer")


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- A person's orientations --------------------------------------------------------------


def _diagnostic_prefill(request, person):
    """Initial proposal from ``?diagnostic=<id>``: a completed diagnostic of this person only."""
    try:
        diagnostic_id = int(request.GET.get("diagnostic") or 0)
    except ValueError:
        diagnostic_id = 0
    if not diagnostic_id:
        return None, {}
    diagnostic = Diagnostic.objects.filter(
        pk=diagnostic_id, person=person, status=Diagnostic.Status.COMPLETED
    ).first()
    if diagnostic is None:
        return None, {}
    result = diagnostic.result if isinstance(diagnostic.result, dict) else {}
    orientation = result.get("orientation") if isinstance(result.get("orientation"), dict) else {}
    initial = {
        "type": diagnostic.proposed_orientation or orientation.get("type") or "",
        # Health reasons never go into a proposal: everyone who opens the record reads it.
        "reason": "\n".join(diagnostic_selectors.shareable_reasons(diagnostic)),
        "diagnostic": diagnostic.pk,
    }
    return diagnostic, initial


def _render_orientations(request, person, access, *, bound=None):
    """The orientation page; ``bound`` replaces a default form by a bound one with its errors."""
    bound = bound or {}
    membership = request.membership
    orientations = selectors.person_orientations(person)
    pending = next((o for o in orientations if o.status == Orientation.Status.PROPOSED), None)
    decided = max(
        (o for o in orientations if o.status == Orientation.Status.DECIDED and o.decided_at),
        key=lambda o: (o.decided_at, o.pk), default=None,
    )
    can = {
        "propose": pending is None and decided is None and policies.can_propose(access, membership, person),
        "reorient": pending is None and decided is not None
        and policies.can_request_reorientation(access, membership, person),
        "decide": pending is not None and policies.can_decide(membership, person),
        "refuse": pending is not None and pending.kind == Orientation.Kind.REORIENTATION
        and policies.can_decide(membership, person),
        "cancel": pending is not None and policies.can_cancel(pending, access, membership, person),
    }
    territory = person.territory
    forms = {}
    diagnostic = None
    if can["propose"]:
        diagnostic, initial = _diagnostic_prefill(request, person)
        forms["propose"] = bound.get("propose") or pathway_forms.ProposalForm(territory=territory, initial=initial)
    if can["reorient"]:
        forms["reorient"] = bound.get("reorient") or pathway_forms.ReorientationForm(territory=territory)
    if can["decide"]:
        forms["decide"] = bound.get("decide") or pathway_forms.DecisionForm(
            territory=territory,
            initial={"type": pending.proposed_type, "structure": pending.proposed_structure_id},
        )
    if can["refuse"]:
        forms["refuse"] = bound.get("refuse") or pathway_forms.ReasonForm(
            label="Motif du refus", prefix="refuse"
        )
    if can["cancel"]:
        forms["cancel"] = bound.get("cancel") or pathway_forms.ReasonForm(
            label="Motif de l'annulation", prefix="cancel"
        )
    log_access(request, person, AccessLog.Section.ORIENTATION)
    return render(request, "pathways/orientations.html", {
        "person": person,
        "access": access,
        "orientations": orientations,
        "pending": pending,
        "decided": decided,
        "delay": selectors.orientation_delay(person, orientations),
        "can": can,
        "forms": forms,
        "diagnostic": diagnostic,
    })


@view_policy("pathways.orientations")
def orientations(request, pk):
    person, access = _load(request, pk)
    return _render_orientations(request, person, access)


def _pending_of(person, orientation_id):
    return get_object_or_404(Orientation, pk=orientation_id, person=person, status=Orientation.Status.PROPOSED)


@require_POST
@view_policy("pathways.propose")
def propose(request, pk):
    person, access = _load(request, pk)
    if not policies.can_propose(access, request.membership, person):
        raise PermissionDenied("Vous ne pouvez pas proposer d'orientation pour cette personne.")
    form = pathway_forms.ProposalForm(request.POST, territory=person.territory)
    if form.is_valid():
        diagnostic = None
        if form.cleaned_data.get("diagnostic"):
            diagnostic = Diagnostic.objects.filter(pk=form.cleaned_data["diagnostic"], person=person).first()
        try:
            services.propose_orientation(
                person, request.membership, type=form.cleaned_data["type"],
                structure=form.cleaned_data["structure"], reason=form.cleaned_data["reason"],
                diagnostic=diagnostic, base_url=request_base_url(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "La proposition d'orientation est transmise aux chargés d'orientation.")
            return redirect("pathways:orientations", pk=person.pk)
    return _render_orientations(request, person, access, bound={"propose": form})


@require_POST
@view_policy("pathways.reorient")
def reorient(request, pk):
    person, access = _load(request, pk)
    if not policies.can_request_reorientation(access, request.membership, person):
        raise PermissionDenied("Seul le référent unique peut demander une réorientation.")
    form = pathway_forms.ReorientationForm(request.POST, territory=person.territory)
    if form.is_valid():
        try:
            services.request_reorientation(
                person, request.membership, type=form.cleaned_data["type"],
                structure=form.cleaned_data["structure"], reason=form.cleaned_data["reason"],
                base_url=request_base_url(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "La demande de réorientation est transmise aux chargés d'orientation.")
            return redirect("pathways:orientations", pk=person.pk)
    return _render_orientations(request, person, access, bound={"reorient": form})


@require_POST
@view_policy("pathways.decide")
def decide(request, pk, orientation_id):
    person, access = _load(request, pk)
    if not policies.can_decide(request.membership, person):
        raise PermissionDenied("Seul un chargé d'orientation du territoire décide d'une orientation.")
    orientation = _pending_of(person, orientation_id)
    form = pathway_forms.DecisionForm(request.POST, territory=person.territory)
    if form.is_valid():
        try:
            services.decide_orientation(
                orientation, request.membership, type=form.cleaned_data["type"],
                structure=form.cleaned_data["structure"], referent_user=form.cleaned_data["referent"].user,
                reason=form.cleaned_data["reason"], base_url=request_base_url(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, f"Orientation décidée : {form.cleaned_data['referent'].user} devient référent unique."
            )
            return redirect("pathways:orientations", pk=person.pk)
    return _render_orientations(request, person, access, bound={"decide": form})


@require_POST
@view_policy("pathways.refuse")
def refuse(request, pk, orientation_id):
    person, access = _load(request, pk)
    if not policies.can_decide(request.membership, person):
        raise PermissionDenied("Seul un chargé d'orientation du territoire répond à une demande de réorientation.")
    orientation = _pending_of(person, orientation_id)
    form = pathway_forms.ReasonForm(request.POST, label="Motif du refus", prefix="refuse")
    if form.is_valid():
        try:
            services.refuse(orientation, request.membership, form.cleaned_data["reason"],
                            base_url=request_base_url(request))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "La demande de réorientation est refusée.")
            return redirect("pathways:orientations", pk=person.pk)
    return _render_orientations(request, person, access, bound={"refuse": form})


@require_POST
@view_policy("pathways.cancel")
def cancel(request, pk, orientation_id):
    person, access = _load(request, pk)
    orientation = _pending_of(person, orientation_id)
    if not policies.can_cancel(orientation, access, request.membership, person):
        raise PermissionDenied("Vous ne pouvez pas annuler cette demande.")
    form = pathway_forms.ReasonForm(request.POST, label="Motif de l'annulation", prefix="cancel")
    if form.is_valid():
        try:
            services.cancel(orientation, request.membership, form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "La demande est annulée.")
            return redirect("pathways:orientations", pk=person.pk)
    return _render_orientations(request, person, access, bound={"cancel": form})


# --- Contract -------------------------------------------------------------------------------


def _contracts(person):
    return list(
        EngagementContract.objects.filter(person=person)
        .select_related("referent", "structure", "orientation__decided_structure")
        .order_by("-version")
    )


def _themes():
    return dict(PathwayTheme.objects.values_list("code", "label"))


def _contract_context(request, person, access, contracts, shown):
    membership = request.membership
    orientations = list(Orientation.objects.filter(person=person).only(
        "pk", "person_id", "status", "decided_at", "kind"
    ))
    draft = next((c for c in contracts if c.status == EngagementContract.Status.DRAFT), None)
    return {
        "person": person,
        "access": access,
        "contracts": contracts,
        "contract": shown,
        "draft": draft,
        "can_edit": policies.can_edit_contract(access, membership, person),
        "can_sign": policies.can_sign_contract(access, membership, person),
        "orientation_delay": selectors.orientation_delay(person, orientations),
        "contract_delay": selectors.contract_delay(person, orientations, contracts),
        "default_hours": services.default_weekly_hours(person.territory),
        "scan_form": pathway_forms.ScanForm(),
        "themes": _themes(),
    }


@view_policy("pathways.contract")
def contract(request, pk):
    """The current contract (the draft in progress, or else the signed version) and its versions."""
    person, access = _load(request, pk)
    contracts = _contracts(person)
    shown = next((c for c in contracts if c.status == EngagementContract.Status.DRAFT), None) or next(
        (c for c in contracts if c.status == EngagementContract.Status.SIGNED), None
    ) or (contracts[0] if contracts else None)
    log_access(request, person, AccessLog.Section.CONTRACT)
    return render(request, "pathways/contract.html", _contract_context(request, person, access, contracts, shown))


@view_policy("pathways.contract")
def contract_version(request, pk, version):
    person, access = _load(request, pk)
    contracts = _contracts(person)
    shown = next((c for c in contracts if c.version == version), None)
    if shown is None:
        raise Http404
    log_access(request, person, AccessLog.Section.CONTRACT, reason=f"version {version}")
    return render(request, "pathways/contract.html", _contract_context(request, person, access, contracts, shown))


@view_policy("pathways.contract_print")
def contract_print(request, pk, version):
    person, access = _load(request, pk)
    contract = get_object_or_404(
        EngagementContract.objects.select_related("referent", "structure", "orientation__decided_structure"),
        person=person, version=version,
    )
    log_access(request, person, AccessLog.Section.CONTRACT, reason=f"impression de la version {version}")
    return render(request, "pathways/contract_print.html", {
        "person": person, "contract": contract, "today": timezone.localdate(),
        "default_hours": services.default_weekly_hours(person.territory),
        "themes": _themes(),
    })


@view_policy("pathways.contract_edit")
def contract_edit(request, pk):
    """Write the contract: edits the draft, or prepares the next version from the signed one."""
    person, access = _load(request, pk)
    if not policies.can_edit_contract(access, request.membership, person):
        raise PermissionDenied("Seul le référent unique établit le contrat d'engagement.")
    contracts = _contracts(person)
    draft = next((c for c in contracts if c.status == EngagementContract.Status.DRAFT), None)
    signed = next((c for c in contracts if c.status == EngagementContract.Status.SIGNED), None)
    base = draft or signed
    default_hours = services.default_weekly_hours(person.territory)
    prefill = base
    suggested_from = None
    if base is None:
        diagnostic = services.latest_completed_diagnostic(person)
        objectives, actions = services.suggestions_from_diagnostic(diagnostic)
        prefill = EngagementContract(person=person, objectives=objectives, actions=actions, weekly_hours=default_hours)
        suggested_from = diagnostic if (objectives or actions) else None
    data = request.POST if request.method == "POST" else None
    form, objectives_fs, actions_fs = pathway_forms.contract_forms(data, contract=prefill, default_hours=default_hours)
    if request.method == "POST" and form.is_valid() and objectives_fs.is_valid() and actions_fs.is_valid():
        payload = pathway_forms.contract_data(form, objectives_fs, actions_fs)
        try:
            if base is None:
                saved = services.create_contract(person, request.membership, data=payload)
            else:
                saved = services.update_contract(base, request.membership, payload)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and set(exc.error_dict) - set(form.fields) - {"__all__"}:
                form.add_error(None, exc.messages)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, f"Contrat enregistré (version {saved.version}, brouillon).")
            return redirect("pathways:contract", pk=person.pk)
    if request.method != "POST":
        log_access(request, person, AccessLog.Section.CONTRACT, reason="modification")
    return render(request, "pathways/contract_edit.html", {
        "person": person, "form": form, "objectives": objectives_fs, "actions": actions_fs,
        "base": base, "draft": draft, "suggested_from": suggested_from, "default_hours": default_hours,
        "next_version": (contracts[0].version + 1) if contracts else 1,
    })


@view_policy("pathways.contract_sign")
def contract_sign(request, pk, version):
    person, access = _load(request, pk)
    if not policies.can_sign_contract(access, request.membership, person):
        raise PermissionDenied("Seul le référent unique signe le contrat d'engagement avec la personne.")
    contract = get_object_or_404(EngagementContract, person=person, version=version)
    if contract.status != EngagementContract.Status.DRAFT:
        messages.error(request, "Seul un brouillon peut être signé.")
        return redirect("pathways:contract", pk=person.pk)
    form = pathway_forms.SignatureForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_contract(
                contract, request.membership,
                person_signed_on=form.cleaned_data["person_signed_on"],
                referent_signed_on=form.cleaned_data["referent_signed_on"],
                scan=form.cleaned_data.get("scan"),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Contrat d'engagement signé (version {contract.version}).")
            return redirect("pathways:contract", pk=person.pk)
    if request.method != "POST":
        log_access(request, person, AccessLog.Section.CONTRACT, reason="signature")
    return render(request, "pathways/contract_sign.html", {"person": person, "contract": contract, "form": form})


@require_POST
@view_policy("pathways.contract_sign")
def contract_scan_upload(request, pk, version):
    person, access = _load(request, pk)
    if not policies.can_sign_contract(access, request.membership, person):
        raise PermissionDenied("Seul le référent unique joint le scan du contrat signé.")
    contract = get_object_or_404(EngagementContract, person=person, version=version)
    form = pathway_forms.ScanForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_scan(contract, request.membership, form.cleaned_data["scan"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Le scan du contrat signé est joint.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("pathways:contract_version", pk=person.pk, version=version)


@view_policy("pathways.contract_scan")
def contract_scan(request, pk, version):
    """The signed scan, only through the contract read policy, and logged."""
    person, _access = _load(request, pk)
    contract = get_object_or_404(EngagementContract, person=person, version=version)
    if not contract.signed_scan:
        raise Http404
    scan_format = scans.format_for_name(contract.signed_scan.name)
    try:
        handle = contract.signed_scan.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    log_access(request, person, AccessLog.Section.CONTRACT, reason=f"scan de la version {version}")
    extension = scan_format.extension if scan_format else "bin"
    content_type = scan_format.content_type if scan_format else (
        mimetypes.guess_type(contract.signed_scan.name)[0] or "application/octet-stream"
    )
    response = FileResponse(
        handle, as_attachment=True, filename=f"contrat-engagement-v{version}.{extension}", content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
