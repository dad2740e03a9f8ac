"""A person's job search (profile, proposals with their reasons, near-matches and the catalogue
actions that lift them, dismissed proposals) and the candidates of an opening.

Who: the professionals who may open the person's record (``Access.can_open_record``); never
coordinators (aggregates only) nor company users (anonymous profiles only, on the candidates
page of their own openings). Every page naming a person writes the access log (section
"Recherche d'emploi et mises en relation"). The page reads the proposals stored by the last
computation; "Actualiser" recomputes the person now.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from spie.core.audit import log_access, log_reads
from spie.core.models import AccessLog
from spie.core.policies import view_policy
from spie.pathways.notifications import short_name
from spie.people import policies as people_policies
from spie.people.models import Person

from .. import anonymous, matching_adapter, policies
from ..forms_jobsearch import DismissForm, JobSearchProfileForm
from ..models import (
    ContractType,
    Dismissal,
    DismissalReason,
    Immersion,
    JobOpening,
    JobSearchProfile,
    Positioning,
    PositioningStatus,
    Proposal,
    ProposalKind,
    Schedule,
    TargetJob,
)
from ..services import matching as matching_services
from ..services import profiles as profile_services
from .common import person_and_access

CSS = "employers/jobsearch.css"
PAGE_SIZE = 20
DENIED = "Vous n'avez pas accès à la recherche d'emploi de cette personne."
COORDINATOR_DENIED = "Les coordinateurs consultent des données agrégées, pas les recherches nominatives."
CANDIDATES_DENIED = "Vous n'avez pas accès aux candidats de cette offre."
RECENT = 20


def _person_and_access(request, pk):
    return person_and_access(request, pk, allowed=lambda _membership, access: access.can_open_record,
                             denied=DENIED, coordinator_denied=COORDINATOR_DENIED)


def _profile_of(person):
    return (
        JobSearchProfile.objects.filter(person=person)
        .select_related("commune")
        .prefetch_related(Prefetch("targets", queryset=TargetJob.objects.select_related("rome", "appellation")))
        .first()
    )


def _labels(codes, choices):
    labels = dict(choices)
    return [labels.get(c, c) for c in codes or []]


def _profile_summary(person, profile):
    if profile is None:
        return None
    commune = profile.commune or person.commune
    return {
        "targets": [
            {"label": t.appellation.label if t.appellation_id else t.rome.label, "code": t.rome_id,
             "experience_months": t.experience_months}
            for t in profile.targets.all()
        ],
        "commune": commune.name if commune else "",
        "travel_mode": profile.get_travel_mode_display(),
        "max_travel_minutes": profile.max_travel_minutes,
        "availability": _labels(profile.availability, Schedule.choices) or ["tous horaires"],
        "childcare": _labels(profile.childcare_conflicts, Schedule.choices),
        "contracts": _labels(profile.contracts, ContractType.choices),
        "hours_min": profile.hours_min,
        "hours_max": profile.hours_max,
        "available_from": profile.available_from,
        "is_active": profile.is_active,
        "visible_to_employers": profile.visible_to_employers,
        "skills": [line for line in profile.skills.splitlines() if line.strip()],
    }


def _decorate(proposal, person):
    target = proposal.opening or proposal.immersion_offer
    proposal.target = target
    proposal.score_pct = round(proposal.score * 100)
    if proposal.opening_id:
        proposal.positioning_url = reverse("employers:positioning_new", args=[proposal.opening.uid])
        if proposal.positioning_url:
            proposal.positioning_url += f"?personne={person.pk}"
        proposal.detail_url = reverse("employers:opening_detail", args=[proposal.opening.uid])
    else:
        proposal.immersion_url = reverse("employers:immersion_new", args=[person.pk])
        if proposal.immersion_url:
            proposal.immersion_url += f"?offre={proposal.immersion_offer.uid}"
        proposal.detail_url = reverse("employers:immersion_offer_detail", args=[proposal.immersion_offer.uid])
    return proposal


def _stored_proposals(person):
    return list(
        Proposal.objects.filter(person=person)
        .select_related("opening__company", "opening__commune", "immersion_offer__company",
                        "immersion_offer__commune")
        .order_by("kind", "rank", "id")
    )


def jobsearch_context(request, person, access, *, dismiss_form=None):
    profile = _profile_of(person)
    proposals = [_decorate(p, person) for p in _stored_proposals(person)]
    eligible = [p for p in proposals if p.kind == ProposalKind.ELIGIBLE and p.opening_id]
    immersions = [p for p in proposals if p.kind == ProposalKind.ELIGIBLE and p.immersion_offer_id]
    blocked = [p for p in proposals if p.kind == ProposalKind.BLOCKED]
    lifters = matching_adapter.lifting_actions(person, [item for p in blocked for item in p.blocked_by])
    for p in blocked:
        p.lifts = []
        for item in p.blocked_by:
            p.lifts.append({**item, "actions": lifters.get(item.get("constraint"), [])})
    computed_at = max((p.computed_at for p in proposals), default=None)
    dismissals = Paginator(
        Dismissal.objects.filter(person=person)
        .select_related("opening__company", "immersion_offer__company", "by", "structure", "restored_by")
        .order_by("-at", "-id"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    # The most recent ones (a person rarely has more; the lists of the structure have them all).
    positionings = list(
        Positioning.objects.filter(person=person).select_related("opening__company", "opening__commune")
        .order_by("-created_at", "-id")[:RECENT]
    )
    immersion_rows = list(
        Immersion.objects.filter(person=person).select_related("company", "offer", "rome")
        .order_by("-created_at", "-id")[:RECENT]
    )
    more = any(len(rows) == RECENT for rows in (positionings, immersion_rows))
    has_diagnostic = profile is None and profile_services.last_completed_diagnostic(person) is not None
    return {
        "person": person, "person_name": short_name(person), "access": access, "profile": profile,
        "summary": _profile_summary(person, profile), "eligible": eligible, "immersions_proposed": immersions,
        "blocked": blocked, "computed_at": computed_at, "dismissals": dismissals,
        "positionings": positionings, "immersions": immersion_rows, "has_diagnostic": has_diagnostic,
        "recent": RECENT if more else None,
        "dismiss_form": dismiss_form or DismissForm(), "reasons": DismissalReason.choices, "css": CSS,
        "title": f"Recherche d'emploi de {short_name(person)}",
    }


@view_policy("employers.jobsearch")
def jobsearch(request, pk):
    person, access = _person_and_access(request, pk)
    context = jobsearch_context(request, person, access)
    log_access(request, person, AccessLog.Section.JOBS, reason="recherche d'emploi et offres adaptées")
    return render(request, "employers/jobsearch/page.html", context)


@view_policy("employers.profile_edit")
def profile_edit(request, pk):
    """The job-search profile; ``?prefill=1`` fills the form from the last completed diagnostic."""
    person, access = _person_and_access(request, pk)
    if not access.can_edit:
        raise PermissionDenied(DENIED)
    profile = _profile_of(person)
    prefill = None
    if request.method != "POST" and request.GET.get("prefill"):
        prefill = profile_services.prefill_from_diagnostic(person)
        if prefill is None:
            messages.warning(request, "Aucun diagnostic terminé : le profil ne peut pas être prérempli.")
    form = JobSearchProfileForm(request.POST or None, initial=JobSearchProfileForm.initial_from(profile, prefill))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                profile_services.save_profile(
                    person, form.service_data(), form.targets, user=request.user,
                    structure=request.membership.structure,
                )
            except ValidationError as exc:
                for field, errors in (exc.message_dict.items() if hasattr(exc, "error_dict") else
                                      [(None, exc.messages)]):
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                matching_adapter.refresh_person(person)
                messages.success(request, "Profil enregistré, propositions actualisées.")
                return redirect("employers:jobsearch", pk=person.pk)
        status = 400
    log_access(request, person, AccessLog.Section.JOBS, reason="profil de recherche d'emploi")
    return render(request, "employers/jobsearch/profile_form.html", {
        "person": person, "person_name": short_name(person), "form": form, "profile": profile,
        "prefill": prefill, "css": CSS, "title": f"Profil de recherche d'emploi de {short_name(person)}",
        "has_diagnostic": profile_services.last_completed_diagnostic(person) is not None,
    }, status=status)


@require_POST
@view_policy("employers.proposal_dismiss")
def proposal_dismiss(request, pk):
    person, access = _person_and_access(request, pk)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            matching_services.dismiss_proposal(
                person, form.cleaned_data["proposal"], reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"], user=request.user, structure=request.membership.structure,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Proposition écartée : elle ne sera plus proposée.")
            return redirect("employers:jobsearch", pk=person.pk)
    else:
        # The real errors (a missing reason, a too long precision…), never a generic one.
        error = form.error_text()
    # The page again, the proposal's form open with what was typed and the error beside it.
    failed = {"proposal": str(request.POST.get("proposal", "")), "reason": request.POST.get("reason", ""),
              "comment": request.POST.get("comment", ""), "error": error}
    context = jobsearch_context(request, person, access)
    context["dismiss_failed"] = failed
    log_access(request, person, AccessLog.Section.JOBS, reason="recherche d'emploi et offres adaptées")
    return render(request, "employers/jobsearch/page.html", context, status=400)


@require_POST
@view_policy("employers.dismissal_restore")
def dismissal_restore(request, pk):
    person, access = _person_and_access(request, pk)
    try:
        matching_services.restore_dismissal(person, request.POST.get("dismissal"), user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, "La proposition pourra être proposée de nouveau au prochain calcul.")
    return redirect("employers:jobsearch", pk=person.pk)


@require_POST
@view_policy("employers.jobsearch_refresh")
def jobsearch_refresh(request, pk):
    person, access = _person_and_access(request, pk)
    run = matching_services.refresh(person)
    messages.success(request, f"Propositions actualisées : {run.proposals} offre(s) adaptée(s).")
    return redirect("employers:jobsearch", pk=person.pk)


# --- Candidates of an opening -------------------------------------------------------------------


def _log_many(request, person_ids, reason):
    log_reads(request, person_ids, AccessLog.Section.JOBS, reason=reason)


@view_policy("employers.candidates")
def candidates(request, uid):
    membership = request.membership
    opening = get_object_or_404(JobOpening.objects.select_related("company", "commune", "rome"), uid=uid)
    if policies.is_company_user(membership):
        if not policies.can_manage_company(membership, opening.company):
            raise PermissionDenied(CANDIDATES_DENIED)
        return _anonymous_candidates(request, opening)
    if not policies.can_see_named_candidates(membership, opening):
        raise PermissionDenied(CANDIDATES_DENIED)
    allowed = set(
        Person.objects.filter(**people_policies.visible_persons_filter(request.user, membership))
        .values_list("pk", flat=True).distinct()
    )
    rows = matching_adapter.candidates_for_opening(opening, allowed_person_ids=allowed)
    persons = Person.objects.select_related("commune").in_bulk([r["person_id"] for r in rows])
    for row in rows:
        row["person"] = persons.get(row["person_id"])
        row["name"] = short_name(row["person"]) if row["person"] else ""
        row["score_pct"] = round(row["score"] * 100)
        row["positioning_url"] = reverse("employers:positioning_new", args=[opening.uid])
    rows = [r for r in rows if r["person"] is not None]
    _log_many(request, [r["person_id"] for r in rows], f"candidats de l'offre « {opening.title} »")
    return render(request, "employers/candidates/named.html", {
        "opening": opening, "eligible": [r for r in rows if r["kind"] == ProposalKind.ELIGIBLE],
        "blocked": [r for r in rows if r["kind"] == ProposalKind.BLOCKED], "css": CSS,
        "title": f"Candidats pour « {opening.title} »",
        "opening_url": reverse("employers:opening_detail", args=[opening.uid]),
    })


ANONYMOUS_LIMIT = 50


def _anonymous_rows(opening):
    """The opening's candidates among the profiles visible to companies, best first: the stored
    proposals of the last nightly run (rebalanced, one indexed query) when the opening was part of
    it, else computed now (an opening published since)."""
    full = matching_adapter.last_full_run(opening.territory_id)
    if full is not None and opening.created_at <= full.started_at:
        settled = Positioning.objects.filter(opening=opening).exclude(status=PositioningStatus.WITHDRAWN)
        return [
            {"person_id": p.person_id, "score": p.score, "reasons": p.reasons}
            for p in Proposal.objects.filter(
                opening=opening, kind=ProposalKind.ELIGIBLE, person__job_search__visible_to_employers=True,
                person__job_search__is_active=True,
            ).exclude(person_id__in=settled.values("person_id")).order_by("-score", "person_id")[:ANONYMOUS_LIMIT]
        ]
    visible = set(
        JobSearchProfile.objects.filter(visible_to_employers=True, is_active=True,
                                        person__territory_id=opening.territory_id)
        .values_list("person_id", flat=True)
    )
    return [r for r in matching_adapter.candidates_for_opening(opening, allowed_person_ids=visible,
                                                               k=ANONYMOUS_LIMIT)
            if r["kind"] == ProposalKind.ELIGIBLE]


def _anonymous_candidates(request, opening):
    rows = _anonymous_rows(opening)
    profiles = {
        p.person_id: p
        for p in JobSearchProfile.objects.filter(person_id__in=[r["person_id"] for r in rows])
        .select_related("commune", "person__commune")
        .prefetch_related(Prefetch("targets", queryset=TargetJob.objects.select_related("rome")))
    }
    request_url = reverse("employers:positioning_request", args=[opening.uid])
    cards, shown = [], []
    for row in rows:
        profile = profiles.get(row["person_id"])
        if profile is None:
            continue
        card = anonymous.anonymous_profile(profile.person, profile, row)
        card["token"] = anonymous.profile_token(row["person_id"], opening.pk)
        card["score_pct"] = round(card["score"] * 100)
        cards.append(card)
        shown.append(row["person_id"])
    # Anonymous, but still read from each person's job search: each read is logged.
    _log_many(request, shown, f"profil anonyme (candidats de l'offre « {opening.title} »)")
    return render(request, "employers/candidates/anonymous.html", {
        "opening": opening, "cards": cards, "request_url": request_url, "css": CSS,
        "title": f"Profils pour « {opening.title} »",
        "opening_url": reverse("employers:opening_detail", args=[opening.uid]),
    })


urlpatterns = [
    path("personnes/<int:pk>/", jobsearch, name="jobsearch"),
    path("personnes/<int:pk>/profil/", profile_edit, name="profile_edit"),
    path("personnes/<int:pk>/ecarter/", proposal_dismiss, name="proposal_dismiss"),
    path("personnes/<int:pk>/retablir/", dismissal_restore, name="dismissal_restore"),
    path("personnes/<int:pk>/actualiser/", jobsearch_refresh, name="jobsearch_refresh"),
    path("offres/<uuid:uid>/candidats/", candidates, name="candidates"),
]
