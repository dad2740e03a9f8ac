"""Pages about persons: caseload, search, creation, record and its sections, follow-up group."""

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from spie.core.audit import log_access, log_export
from spie.core.exports import export_format, export_response
from spie.core.models import AccessLog
from spie.core.policies import view_policy
from spie.followup import alerts, caseload
from spie.network.models import Membership, Structure

from . import policies, selectors, services
from .forms import (
    AddMemberForm,
    ChangeReferentForm,
    ConsentForm,
    DecisionForm,
    HealthForm,
    JoinRequestForm,
    PersonForm,
)
from .models import EVENT_LABELS, OTHER_EVENT_LABEL, FollowUpMembership, HealthInfo, JoinRequest, TimelineEvent

PAGE_SIZE = 25


def _load(request, pk):
    """The person and the current user's access; 404 when nothing may be known of them."""
    person = selectors.person_for_record(pk)
    if person is None:
        raise Http404
    access = policies.access_for(
        request.user, request.membership, person, followups=person.active_followups, consents=person.all_consents
    )
    if access.relation == policies.NONE:
        raise Http404
    return person, access


def _require(access, section):
    if not access.can_see(section):
        raise PermissionDenied("Vous n'avez pas accès à cette section du dossier.")


@view_policy("people.caseload")
def home(request):
    """"Mes personnes accompagnées": my alerts, then the caseload with counts by status, public
    and alert (each a filter), sortable columns, pagination and CSV/XLSX export."""
    membership = request.membership
    if membership.role == Membership.Role.EMPLOYER:
        return redirect("employers:company_space")
    if membership.role == Membership.Role.COORDINATOR:
        overview = selectors.territory_overview(membership.structure.territory)
        return render(request, "people/overview.html", {"overview": overview,
                      "public_filters": selectors.PUBLIC_FILTERS})
    filters = caseload.CaseloadFilters.from_query(request.GET)
    scope = alerts.personal_scope(request.user, membership)
    qs = selectors.caseload(request.user, membership, kind=filters.role or None)
    qs = caseload.order(caseload.narrow(qs, filters, scope), filters)
    fmt = export_format(request)
    if fmt:
        return _export_caseload(request, fmt, qs)
    counts = selectors.caseload_counts(request.user, membership)
    summary = alerts.summary(scope)
    paginator = Paginator(qs.select_related("commune"), PAGE_SIZE)
    if not filters.active:
        paginator.count = counts["total"]  # already counted: spare the same COUNT query
    page = paginator.get_page(request.GET.get("page"))
    # Role in the group of the persons shown, fetched once for the page.
    roles = dict(
        FollowUpMembership.objects.filter(
            user=request.user, end_date__isnull=True, person__in=[p.pk for p in page.object_list]
        ).values_list("person_id", "kind")
    )
    for person in page.object_list:
        person.my_role = roles.get(person.pk)
    pending = JoinRequest.objects.filter(
        status=JoinRequest.Status.PENDING,
        person__followups__user=request.user,
        person__followups__kind=FollowUpMembership.Kind.REFERENT,
        person__followups__end_date__isnull=True,
    ).count()
    return render(
        request,
        "people/home.html",
        {
            "page": page,
            "counts": counts,
            "alert_cards": caseload.alert_rows_of(summary),
            **caseload.count_context(request.GET, counts, summary),
            "public_filters": [(key, label) for key, (label, _c) in selectors.PUBLIC_FILTERS.items()],
            "filters": filters,
            "sorts": filters.sort_links(request.GET),
            "pending_requests": pending,
            "can_create": policies.can_create_person(membership),
            "can_see_structure_caseload": caseload.can_see_structure_caseload(membership),
        },
    )


def _export_caseload(request, fmt, qs):
    """The (filtered, sorted) caseload as CSV or XLSX, streamed; every person named is written
    to the access log."""
    my_role = FollowUpMembership.objects.filter(
        person=OuterRef("pk"), user=request.user, end_date__isnull=True
    ).values("kind")[:1]
    qs = qs.annotate(my_role=Subquery(my_role))
    return caseload.export(
        request, fmt, qs, filename="mes-personnes", reason="export de la file active",
        extra_header=["Mon rôle"],
        extra=lambda p: ["Référent unique" if p.my_role == FollowUpMembership.Kind.REFERENT else "Membre"],
    )


@view_policy("people.search")
def search(request):
    if not policies.can_search_persons(request.membership):
        raise PermissionDenied("Les coordinateurs consultent des données agrégées, pas des dossiers.")
    query = request.GET.get("q", "").strip()
    results = selectors.search_persons(request.user, request.membership, query) if query else []
    template = "people/_search_results.html" if request.htmx else "people/search.html"
    return render(request, template, {"query": query, "results": results,
                                      "can_create": policies.can_create_person(request.membership)})


@view_policy("people.create")
def create(request):
    if not policies.can_create_person(request.membership):
        raise PermissionDenied("Votre rôle ne permet pas de créer une personne.")
    form = PersonForm(request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        try:
            person = services.create_person(
                membership=request.membership, data=form.person_data(), force=bool(request.POST.get("confirm"))
            )
        except services.DuplicatePerson as exc:
            duplicates = selectors.search_results_for(request.user, request.membership, exc.matches)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Le dossier de {person.full_name} est créé. Vous en êtes le référent unique.")
            return redirect("people:record", pk=person.pk)
    return render(request, "people/person_form.html", {"form": form, "duplicates": duplicates, "creating": True})


@view_policy("people.record")
def record(request, pk):
    person, access = _load(request, pk)
    if not access.can_see(policies.RECORD):
        log_access(request, person, AccessLog.Section.CARD)
        referent = next((f for f in person.active_followups if f.kind == FollowUpMembership.Kind.REFERENT), None)
        pending = JoinRequest.objects.filter(
            person=person, requester=request.user, status=JoinRequest.Status.PENDING
        ).exists()
        return render(
            request,
            "people/card.html",
            {"person": person, "access": access, "referent": referent, "pending": pending,
             "form": JoinRequestForm()},
            status=200,
        )
    log_access(request, person, AccessLog.Section.RECORD)
    followups = sorted(person.active_followups, key=lambda f: (f.kind != FollowUpMembership.Kind.REFERENT, f.id))
    context = {
        "person": person,
        "access": access,
        "followups": followups,
        "consents": person.all_consents,
        "timeline": selectors.recent_timeline(person) if access.can_see(policies.TIMELINE) else [],
        "access_log": selectors.recent_access_log(person) if access.can_see(policies.ACCESS_LOG) else [],
        "join_requests": selectors.pending_join_requests(person) if access.can_manage_group else [],
        "has_health": access.can_see(policies.HEALTH),
    }
    return render(request, "people/record.html", context)


@view_policy("people.edit")
def edit(request, pk):
    person, access = _load(request, pk)
    if not access.can_edit:
        raise PermissionDenied("Vous ne pouvez pas modifier ce dossier.")
    form = PersonForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_person(person=person, membership=request.membership, data=form.person_data(),
                                   access=access)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Dossier mis à jour.")
            return redirect("people:record", pk=person.pk)
    else:
        log_access(request, person, AccessLog.Section.RECORD, reason="modification")
    return render(request, "people/person_form.html", {"form": form, "person": person, "creating": False})


@view_policy("people.health")
def health(request, pk):
    person, access = _load(request, pk)
    _require(access, policies.HEALTH)
    info = HealthInfo.objects.filter(person=person).first() or HealthInfo(person=person)
    form = HealthForm(request.POST or None, instance=info)
    if request.method == "POST" and form.is_valid():
        services.save_health(person=person, membership=request.membership, access=access, data=form.cleaned_data)
        messages.success(request, "Section santé enregistrée.")
        return redirect("people:health", pk=person.pk)
    log_access(request, person, AccessLog.Section.HEALTH)
    return render(request, "people/health.html", {"person": person, "form": form, "info": info})


@view_policy("people.access_log")
def access_log(request, pk):
    person, access = _load(request, pk)
    _require(access, policies.ACCESS_LOG)
    qs = AccessLog.objects.filter(person=person).select_related("user", "structure")
    fmt = export_format(request)
    if fmt:
        log_export(request, [person.pk], reason="export du journal des consultations")
        header = ["Date", "Professionnel", "Structure", "Section", "Canal", "Motif"]
        rows = ([a.at, str(a.user), str(a.structure or ""), a.get_section_display(), a.get_channel_display(),
                 a.reason] for a in qs.iterator(chunk_size=1000))
        return export_response(fmt, "consultations", header, rows, sheet_title="Consultations")
    log_access(request, person, AccessLog.Section.ACCESS_LOG)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "people/access_log.html", {"person": person, "page": page})


OTHER_KINDS = "autre"  # the filter value of the kinds without a French name


class TimelineFilterForm(forms.Form):
    """Filters of a person's timeline: event type, period, actor's structure."""

    type = forms.ChoiceField(label="Type d'événement", required=False)
    du = forms.DateField(label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                         error_messages={"invalid": "Saisissez une date valide (jj/mm/aaaa)."})
    au = forms.DateField(label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                         error_messages={"invalid": "Saisissez une date valide (jj/mm/aaaa)."})
    structure = forms.TypedChoiceField(label="Structure de l'auteur", required=False, coerce=int, empty_value=None)

    def __init__(self, data, *, kinds, structures):
        super().__init__(data)
        # Known kinds by their French name; unknown codes share one "Autre événement" entry.
        known = sorted((k for k in kinds if k in EVENT_LABELS), key=lambda k: EVENT_LABELS[k])
        choices = [("", "Tous")] + [(k, EVENT_LABELS[k]) for k in known]
        if any(k not in EVENT_LABELS for k in kinds):
            choices.append((OTHER_KINDS, OTHER_EVENT_LABEL))
        self.fields["type"].choices = choices
        self.fields["structure"].choices = [("", "Toutes")] + [(s.pk, s.name) for s in structures]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end and start > end:
            self.add_error("au", "La date de fin doit être postérieure ou égale à la date de début.")
            cleaned.pop("au", None)
        return cleaned


def _day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@view_policy("people.timeline")
def timeline(request, pk):
    """Every event of the pathway, newest first, filtered by type, period and structure."""
    person, access = _load(request, pk)
    _require(access, policies.TIMELINE)
    events = TimelineEvent.objects.filter(person=person)
    kinds = list(events.values_list("kind", flat=True).distinct().order_by("kind"))
    structures = Structure.objects.filter(
        pk__in=events.filter(structure__isnull=False).values("structure_id")
    ).only("pk", "name").order_by("name")
    form = TimelineFilterForm(request.GET, kinds=kinds, structures=structures)
    form.is_valid()  # errors are shown; only the valid filters apply
    values = form.cleaned_data
    qs = events.select_related("actor", "structure")
    if values.get("type") == OTHER_KINDS:
        qs = qs.exclude(kind__in=list(EVENT_LABELS))
    elif values.get("type"):
        qs = qs.filter(kind=values["type"])
    if values.get("du"):
        qs = qs.filter(at__gte=_day_start(values["du"]))
    if values.get("au"):
        qs = qs.filter(at__lt=_day_start(values["au"] + datetime.timedelta(days=1)))
    if values.get("structure"):
        qs = qs.filter(structure_id=values["structure"])
    fmt = export_format(request)
    if fmt:
        log_export(request, [person.pk], reason="export de l'historique du parcours")
        header = ["Date", "Type", "Événement", "Détail", "Par", "Structure"]
        rows = ([e.at, e.kind_label, e.title, e.detail, str(e.actor or ""), str(e.structure or "")]
                for e in qs.iterator(chunk_size=1000))
        return export_response(fmt, f"historique-{person.pk}", header, rows, sheet_title="Historique")
    log_access(request, person, AccessLog.Section.TIMELINE)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    filtered = any(values.get(key) for key in ("type", "du", "au", "structure"))
    return render(request, "people/timeline.html", {
        "person": person, "page": page, "form": form, "filtered": filtered,
    })


@require_POST
@view_policy("people.join_request")
def join(request, pk):
    person, access = _load(request, pk)
    form = JoinRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Expliquez pourquoi vous devez accompagner cette personne.")
        return redirect("people:record", pk=pk)
    try:
        services.request_to_join(person=person, membership=request.membership,
                                 reason=form.cleaned_data["reason"], access=access)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Votre demande a été envoyée au référent unique.")
    return redirect("people:record", pk=pk)


@require_POST
@view_policy("people.manage_group")
def join_decide(request, pk, join_id):
    person, access = _load(request, pk)
    join_request = get_object_or_404(JoinRequest, pk=join_id, person=person)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez d'accepter ou de refuser.")
        return redirect("people:record", pk=pk)
    try:
        services.decide_join(join=join_request, by=request.user, accept=form.cleaned_data["decision"] == "accept",
                             reason=form.cleaned_data["reason"], access=access)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Décision enregistrée.")
    return redirect("people:record", pk=pk)


@view_policy("people.manage_group")
def group(request, pk):
    """Manage the follow-up group: add a member, change the référent, grant health, remove."""
    person, access = _load(request, pk)
    if not access.can_manage_group:
        raise PermissionDenied("Seuls le référent unique et l'administrateur de la structure gèrent le groupe.")
    add_form = AddMemberForm(territory=person.territory)
    referent_form = ChangeReferentForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add":
                add_form = AddMemberForm(request.POST, territory=person.territory)
                if add_form.is_valid():
                    m = add_form.membership
                    services.add_member(person=person, user=m.user, structure=m.structure, by=request.user,
                                        reason=add_form.cleaned_data["reason"])
                    messages.success(request, f"{m.user} a rejoint le groupe de suivi.")
                    return redirect("people:group", pk=pk)
            elif action == "referent":
                referent_form = ChangeReferentForm(request.POST)
                if referent_form.is_valid():
                    followup = _active_followup(person, referent_form.cleaned_data["followup"])
                    services.change_referent(person=person, new_followup=followup, by=request.user,
                                             reason=referent_form.cleaned_data["reason"])
                    messages.success(request, f"{followup.user} est désormais référent unique.")
                    return redirect("people:group", pk=pk)
            elif action in {"grant_health", "revoke_health"}:
                followup = _active_followup(person, request.POST.get("followup"))
                services.set_health_grant(followup=followup, granted=action == "grant_health", by=request.user)
                messages.success(request, "Accès à la section santé mis à jour.")
                return redirect("people:group", pk=pk)
            elif action == "remove":
                followup = _active_followup(person, request.POST.get("followup"))
                services.end_membership(followup=followup, by=request.user,
                                        reason=request.POST.get("reason", "") or "Retiré par le référent")
                messages.success(request, f"{followup.user} ne fait plus partie du groupe de suivi.")
                return redirect("people:group", pk=pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    log_access(request, person, AccessLog.Section.RECORD, reason="groupe de suivi")
    followups = sorted(person.active_followups, key=lambda f: (f.kind != FollowUpMembership.Kind.REFERENT, f.id))
    return render(request, "people/group.html", {
        "person": person, "followups": followups, "history": selectors.followup_history(person),
        "add_form": add_form, "referent_form": referent_form,
    })


def _active_followup(person, followup_id):
    try:
        followup_id = int(followup_id)
    except (TypeError, ValueError):
        raise Http404 from None
    followup = next((f for f in person.active_followups if f.pk == followup_id), None)
    if followup is None:
        raise Http404
    return followup


@view_policy("people.consents")
def consents(request, pk):
    person, access = _load(request, pk)
    if not access.can_edit:
        raise PermissionDenied("Vous ne pouvez pas modifier les consentements de cette personne.")
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.record_consent(person=person, by=request.user, on=form.cleaned_data["given_on"],
                                **{k: form.cleaned_data[k] for k in ("scope", "status", "channel")})
        messages.success(request, "Consentement enregistré.")
        return redirect(reverse("people:record", args=[pk]) + "#consentements")
    return render(request, "people/consents.html", {"person": person, "form": form})
