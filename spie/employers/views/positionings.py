"""Pages of positionings ("mises en relation", issue 6 §3): put a person forward for an opening
(with the person's agreement), the lists of each side, a positioning's page with the company's
answer or the sender's withdraw / decline, a company's request from an anonymous profile, and the
company's signed-link page (no account).

Who sees what (``policies.positioning_side``): the sending side (who may open the person's
record, the sending structure) sees the person's name and the log, and each page it opens is
written to the access log (section JOBS); the company side (``policies.can_manage_company``)
sees the person's first name and initial once proposed (an anonymous profile reference while it
is only a request), the référent's message and contact, never the record. Coordinators see
aggregates only (403 here). Lists are paginated (25), with a constant number of queries, and
export to CSV / XLSX (first name and initial only; the sending side's exports are logged).
"""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from spie.core.audit import log_access, log_export
from spie.core.exports import export_format, export_response
from spie.core.links import request_base_url
from spie.core.models import AccessLog
from spie.core.policies import view_policy
from spie.pathways.notifications import short_name
from spie.people import policies as people_policies
from spie.people import selectors as people_selectors
from spie.people.models import Person

from .. import anonymous, links, policies
from ..models import (
    JobOpening,
    OpeningStatus,
    Positioning,
    PositioningRefusal,
    PositioningStatus,
    PositioningTransition,
    Proposal,
)
from ..services import positionings as services

S = PositioningStatus
PAGE_SIZE = 25
CSS = "employers/companies.css"
DENIED = "Vous n'avez pas accès à cette mise en relation."
COORDINATOR_DENIED = "Les coordinateurs consultent des données agrégées, pas les mises en relation nominatives."
COMPANY_DENIED = "Seuls les professionnels qui accompagnent la personne peuvent la mettre en relation."
ANSWER_DENIED = "Seule l'entreprise (ou qui agit pour elle) peut répondre à cette mise en relation."
SENDER_DENIED = "Seule la structure qui accompagne la personne peut faire cela."
REQUEST_DENIED = "Vous ne pouvez pas demander de mise en relation pour cette offre."
LIST_DENIED = "Les mises en relation sont réservées aux professionnels et aux entreprises."
WITHDRAWABLE = (S.PROPOSED, S.INTERESTED, S.INTERVIEW)

TABS = {
    "envoyees": "Envoyées par ma structure",
    "recues": "Reçues pour les entreprises que je suis",
}


# --- Forms ----------------------------------------------------------------------------------------


class ProposeForm(forms.Form):
    consent = forms.BooleanField(
        label="La personne est d'accord pour que son profil soit transmis à l'entreprise",
        error_messages={"required": services.CONSENT_REQUIRED},
    )
    message = forms.CharField(
        label="Message à l'entreprise", required=False, max_length=services.MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": f"Le message ne doit pas dépasser {services.MAX_MESSAGE} caractères."},
        help_text="Ce que l'entreprise lira : ne mentionnez ni la santé, ni la situation sociale, "
                  "ni le nom de famille.",
    )


class AnswerForm(forms.Form):
    status = forms.ChoiceField(label="Votre réponse", widget=forms.RadioSelect,
                               error_messages={"required": "Choisissez votre réponse.",
                                               "invalid_choice": "Choisissez une réponse dans la liste."})
    interview_at = forms.DateTimeField(
        label="Date et heure de l'entretien", required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Indiquez une date et une heure valides (jj/mm/aaaa hh:mm)."},
    )
    hired_on = forms.DateField(
        label="Date d'embauche", required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Aujourd'hui si vous laissez vide ; au plus tard dans 3 mois.",
        error_messages={"invalid": "Indiquez une date valide (jj/mm/aaaa)."},
    )
    refusal_reason = forms.ChoiceField(
        label="Motif du refus", required=False, choices=[("", "—")] + list(PositioningRefusal.choices),
        error_messages={"invalid_choice": "Choisissez le motif du refus dans la liste."},
    )
    comment = forms.CharField(
        label="Précisions", required=False, max_length=services.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"La précision ne doit pas dépasser {services.MAX_TEXT} caractères."},
    )

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(t, S(t).label) for t in targets]

    def service_kwargs(self):
        data = self.cleaned_data
        return {"reason": data.get("comment", ""), "interview_at": data.get("interview_at"),
                "hired_on": data.get("hired_on"), "refusal_reason": data.get("refusal_reason", "")}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Motif (reste sur la plateforme, n'est pas transmis à l'entreprise)", required=False,
        max_length=services.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": f"Le motif ne doit pas dépasser {services.MAX_TEXT} caractères."},
    )


def _add_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = {"status": "status", "reason": "comment"}.get(name, name)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- Helpers --------------------------------------------------------------------------------------



def _require_not_coordinator(membership):
    if policies.is_coordinator(membership):
        raise PermissionDenied(COORDINATOR_DENIED)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _queryset():
    return Positioning.objects.select_related(
        "person__territory", "opening__company", "opening__commune", "structure", "proposed_by", "requested_by",
    )


def _with_log(qs):
    return qs.prefetch_related(Prefetch("transitions", queryset=PositioningTransition.objects.select_related("by"),
                                        to_attr="log"))


def candidate_label(positioning, side):
    """How a side names the person: first name and initial for the sending side and, once the
    person agreed (proposed), for the company; an anonymous profile reference before that."""
    if side == policies.SENDER or positioning.proposed_at is not None:
        return short_name(positioning.person)
    return anonymous.reference_label(positioning.person_id)


def _load(request, uid):
    """``(positioning, access, side)``: 404 unknown, 403 on neither side (coordinators included)."""
    membership = request.membership
    _require_not_coordinator(membership)
    positioning = _with_log(_queryset()).filter(uid=uid).first()
    if positioning is None:
        raise Http404
    access = None
    if policies.is_professional(membership):
        access = people_policies.access_for(request.user, membership, positioning.person)
    side = policies.positioning_side(membership, positioning, access)
    if side is None:
        raise PermissionDenied(DENIED)
    return positioning, access, side


# --- Proposing ------------------------------------------------------------------------------------


@view_policy("employers.positioning_new")
def positioning_new(request, uid):
    """``?personne=<pk>[&demande=<uid>]``: put the person forward (the consent box is required)."""
    membership = request.membership
    _require_not_coordinator(membership)
    if not policies.is_professional(membership):
        raise PermissionDenied(COMPANY_DENIED)
    opening = get_object_or_404(JobOpening.objects.select_related("company", "commune", "rome"), uid=uid)
    person_pk = _int(request.GET.get("personne"))
    if person_pk is None:
        messages.info(request, "Choisissez d'abord la personne à mettre en relation parmi les candidats.")
        return redirect("employers:candidates", uid=opening.uid)
    person = people_selectors.person_for_record(person_pk)
    if person is None:
        raise Http404
    access = people_policies.access_for(
        request.user, membership, person, followups=person.active_followups, consents=person.all_consents
    )
    if access.relation == people_policies.NONE:
        raise Http404
    if not policies.can_position(membership, access):
        raise PermissionDenied(services.POSITION_DENIED)
    demand = None
    if request.GET.get("demande"):
        demand = Positioning.objects.filter(uid=request.GET["demande"], person=person, opening=opening).first() \
            if _is_uuid(request.GET["demande"]) else None
        if demand is None:
            raise Http404
    form = ProposeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                positioning = services.propose(
                    person, opening, by=request.user, membership=membership, consent=form.cleaned_data["consent"],
                    message=form.cleaned_data["message"], positioning=demand, base_url=request_base_url(request),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Candidature de {short_name(person)} transmise à « {opening.company} ».")
                return redirect("employers:positioning_detail", uid=positioning.uid)
        status = 400
    proposal = Proposal.objects.filter(person=person, opening=opening).order_by("-computed_at", "-id").first()
    live = services.live_positioning(person, opening)
    log_access(request, person, AccessLog.Section.JOBS, reason="mise en relation avec une offre")
    return render(request, "employers/positionings/new.html", {
        "opening": opening, "person": person, "person_name": short_name(person), "form": form,
        "proposal": proposal, "reasons": [r for r in (proposal.reasons if proposal else []) if isinstance(r, dict)],
        "score_pct": round(proposal.score * 100) if proposal else None,
        "live": live if live is not None and (demand is None or live.pk != demand.pk) else None,
        "demand": demand, "opening_closed": opening.status != OpeningStatus.OPEN, "css": CSS,
        "title": f"Mettre {short_name(person)} en relation avec « {opening.title} »",
    }, status=status)


def _is_uuid(value):
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- Lists ----------------------------------------------------------------------------------------


def _sent_filter(request, membership):
    """The structure's positionings that the user proposed or whose person's record the user may
    open (never a colleague's person the user does not follow), and the companies' pending requests
    for the persons the user follows."""
    visible = Person.objects.filter(**people_policies.visible_persons_filter(request.user, membership)).values("pk")
    own = Q(structure_id=membership.structure_id) & (Q(proposed_by=request.user) | Q(person_id__in=visible))
    return own | Q(structure__isnull=True, status=S.REQUESTED, person_id__in=visible)


def _received_filter(membership):
    """Companies the structure acts for: followed by it, or without an account nor follower in its territory."""
    return Q(opening__company__followed_by_id=membership.structure_id) | Q(
        opening__company__account__isnull=True, opening__company__followed_by__isnull=True,
        opening__company__territory_id=membership.structure.territory_id,
    )


@view_policy("employers.positionings")
def positioning_list(request):
    membership = request.membership
    _require_not_coordinator(membership)
    company = None
    if policies.is_company_user(membership):
        company = policies.company_of(membership)
        if company is None:
            raise PermissionDenied(LIST_DENIED)
        tab, side = "", policies.COMPANY
        base = Positioning.objects.filter(opening__company=company)
        title = f"Mises en relation reçues par {company.name}"
    elif policies.is_professional(membership):
        tab = request.GET.get("onglet", "envoyees")
        tab = tab if tab in TABS else "envoyees"
        if tab == "envoyees":
            side, base = policies.SENDER, Positioning.objects.filter(_sent_filter(request, membership))
        else:
            side, base = policies.COMPANY, Positioning.objects.filter(_received_filter(membership))
        title = f"Mises en relation — {TABS[tab].lower()}"
    else:
        raise PermissionDenied(LIST_DENIED)
    status = request.GET.get("statut", "")
    status = status if status in S.values else ""
    counts = dict(base.order_by().values_list("status").annotate(n=Count("id")))
    qs = (base.filter(status=status) if status else base).select_related(
        "person", "opening__company", "structure", "proposed_by"
    ).order_by("-created_at", "-id")
    fmt = export_format(request)
    if fmt:
        return _export(request, fmt, qs, side, tab)
    paginator = Paginator(qs, PAGE_SIZE)
    paginator.count = sum(counts.get(s, 0) for s in ([status] if status else S.values))
    page = paginator.get_page(request.GET.get("page"))
    for p in page.object_list:
        p.label = candidate_label(p, side)
        p.awaiting_company = p.status in services.AWAITING_COMPANY
    return render(request, "employers/positionings/list.html", {
        "page": page, "status": status, "tab": tab, "tabs": TABS.items() if tab else [], "side": side,
        "is_sender": side == policies.SENDER, "company": company, "title": title,
        "statuses": [(code, label, counts.get(code, 0)) for code, label in S.choices],
        "total": sum(counts.values()), "css": CSS,
    })


def _export(request, fmt, qs, side, tab):
    is_sender = side == policies.SENDER
    if is_sender:
        log_export(request, qs.order_by().values_list("person_id", flat=True).distinct().iterator(),
                   reason="export des mises en relation envoyées")
    header = ["Créée le", "Personne", "Offre", "Entreprise", "Structure qui accompagne", "Proposée par",
              "Proposée le", "Statut", "Réponse le", "Entretien le", "Embauche le", "Motif du refus"]

    def rows():
        for p in qs.iterator(chunk_size=500):
            # The company side learns the sending structure only once the person agreed (proposed).
            sender_known = is_sender or p.proposed_at is not None
            yield [p.created_at, candidate_label(p, side), p.opening.title, p.opening.company.name,
                   p.structure.name if p.structure_id and sender_known else "",
                   str(p.proposed_by) if p.proposed_by_id and sender_known else "",
                   p.proposed_at, p.get_status_display(), p.answered_at, p.interview_at, p.hired_on,
                   p.get_refusal_reason_display()]

    name = "mises-en-relation" + (f"-{tab}" if tab else "")
    return export_response(fmt, name, header, rows(), sheet_title="Mises en relation")


# --- A positioning's page -------------------------------------------------------------------------


def _answer_targets(positioning):
    return [t for t in services.COMPANY_ANSWERS if services.allowed(positioning.status, t)]


def _referent_contact(positioning):
    user = positioning.proposed_by
    if user is None:
        return None
    return {"name": str(user), "structure": positioning.structure, "email": user.email, "phone": user.phone}


def _render_detail(request, positioning, access, side, *, answer_form=None, reason_form=None, status=200):
    membership = request.membership
    is_sender = side == policies.SENDER
    can_answer = (policies.can_manage_company(membership, positioning.opening.company)
                  and positioning.status in services.AWAITING_COMPANY)
    targets = _answer_targets(positioning)
    now = timezone.now()
    for t in positioning.log:
        t.to_label = S(t.to_status).label if t.to_status in S.values else t.to_status
        if t.via_link:
            t.who = "l'entreprise (lien de réponse)"
        elif t.by_id is None:
            t.who = "—"
        elif is_sender or t.to_status in services.COMPANY_ANSWERS or t.to_status == S.REQUESTED:
            t.who = str(t.by)
        else:
            t.who = "la structure qui accompagne la personne"
    context = {
        "positioning": positioning, "opening": positioning.opening, "company": positioning.opening.company,
        "is_sender": is_sender, "is_company": not is_sender, "label": candidate_label(positioning, side),
        "can_open_record": is_sender and access is not None and access.can_open_record,
        "log": positioning.log, "contact": _referent_contact(positioning),
        "answer_form": (answer_form or AnswerForm(targets=targets)) if can_answer else None,
        "can_withdraw": is_sender and positioning.status in WITHDRAWABLE,
        "can_decline": is_sender and positioning.status == S.REQUESTED,
        "propose_url": (reverse("employers:positioning_new", args=[positioning.opening.uid])
                        + f"?personne={positioning.person_id}&demande={positioning.uid}")
        if is_sender and positioning.status == S.REQUESTED else "",
        "can_renew": is_sender and positioning.status in services.AWAITING_COMPANY,
        "link_alive": bool(positioning.link_expires_at and positioning.link_expires_at > now),
        "reason_form": reason_form or ReasonForm(), "css": CSS,
        "show_status_text": bool(positioning.status_text) and (
            is_sender or positioning.status not in (S.DECLINED, S.WITHDRAWN)),
    }
    log_access(request, positioning.person, AccessLog.Section.JOBS,
               reason="mise en relation" if is_sender else "mise en relation (entreprise)")
    return render(request, "employers/positionings/detail.html", context, status=status)


@view_policy("employers.positioning_detail")
def positioning_detail(request, uid):
    positioning, access, side = _load(request, uid)
    return _render_detail(request, positioning, access, side)


@require_POST
@view_policy("employers.positioning_answer")
def positioning_answer(request, uid):
    positioning, access, side = _load(request, uid)
    if not policies.can_manage_company(request.membership, positioning.opening.company):
        raise PermissionDenied(ANSWER_DENIED)
    form = AnswerForm(request.POST, targets=_answer_targets(positioning))
    if form.is_valid():
        target = form.cleaned_data["status"]
        try:
            services.answer(positioning, target, by=request.user, membership=request.membership,
                            base_url=request_base_url(request), **form.service_kwargs())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Réponse enregistrée : {S(target).label.lower()}.")
            return redirect("employers:positioning_detail", uid=positioning.uid)
    if not _answer_targets(positioning):
        messages.error(request, f"Cette mise en relation n'attend plus de réponse (« "
                                f"{positioning.get_status_display().lower()} »).")
    return _render_detail(request, positioning, access, side, answer_form=form, status=400)


def _sender_post(request, uid, action, success, *, form_statuses):
    """A step of the sending side (withdraw, decline) with its reason: an invalid reason or a
    refusal of the service re-renders the page with the error and the typed reason (400);
    nothing changes. A step no longer possible (its form is gone) says why at the top."""
    positioning, access, side = _load(request, uid)
    if side != policies.SENDER:
        raise PermissionDenied(SENDER_DENIED)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            action(positioning, form.cleaned_data["reason"])
        except ValidationError as exc:
            _add_reason_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect("employers:positioning_detail", uid=positioning.uid)
    if positioning.status not in form_statuses:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return _render_detail(request, positioning, access, side, reason_form=form, status=400)


def _add_reason_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error("reason" if name == "reason" else None, errors)
    else:
        form.add_error(None, exc.messages)


@require_POST
@view_policy("employers.positioning_withdraw")
def positioning_withdraw(request, uid):
    def withdraw(p, reason):
        services.withdraw(p, by=request.user, membership=request.membership, reason=reason,
                          base_url=request_base_url(request))

    return _sender_post(request, uid, withdraw, "La mise en relation est retirée ; l'entreprise en est informée.",
                        form_statuses=WITHDRAWABLE)


@require_POST
@view_policy("employers.positioning_decline")
def positioning_decline(request, uid):
    def decline(p, reason):
        services.decline_request(p, by=request.user, membership=request.membership, reason=reason,
                                 base_url=request_base_url(request))

    return _sender_post(request, uid, decline, "La demande est déclinée ; l'entreprise sait seulement que la "
                                               "personne n'a pas donné suite.", form_statuses=(S.REQUESTED,))


@require_POST
@view_policy("employers.positioning_renew")
def positioning_renew(request, uid):
    positioning, access, side = _load(request, uid)
    if side != policies.SENDER:
        raise PermissionDenied(SENDER_DENIED)
    try:
        services.renew_link(positioning, by=request.user, base_url=request_base_url(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Un nouveau lien a été envoyé à l'entreprise ; les liens précédents ne "
                                  "fonctionnent plus.")
    return redirect("employers:positioning_detail", uid=positioning.uid)


# --- A company's request (from an anonymous profile) ----------------------------------------------


@require_POST
@view_policy("employers.positioning_request")
def positioning_request(request, uid):
    membership = request.membership
    _require_not_coordinator(membership)
    opening = get_object_or_404(JobOpening.objects.select_related("company"), uid=uid)
    if not policies.can_manage_company(membership, opening.company):
        raise PermissionDenied(REQUEST_DENIED)
    try:
        person_id = anonymous.read_profile_token(request.POST.get("profile", ""), opening)
    except ValueError as exc:
        messages.error(request, f"{exc} Rechargez la page des profils et recommencez.")
        return redirect("employers:candidates", uid=opening.uid)
    person = Person.objects.filter(pk=person_id, territory_id=opening.territory_id).first()
    if person is None:
        messages.error(request, "Ce profil n'est plus disponible.")
        return redirect("employers:candidates", uid=opening.uid)
    try:
        positioning = services.request_positioning(opening, person, by=request.user, base_url=request_base_url(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("employers:candidates", uid=opening.uid)
    messages.success(request, f"Votre demande pour le {anonymous.reference_label(person.pk).lower()} est transmise "
                              "à son référent, qui vous répondra avec l'accord de la personne.")
    return redirect("employers:positioning_detail", uid=positioning.uid)


# --- The signed link (no account) -----------------------------------------------------------------


def _private(response):
    """Pages opened by the token: never cached, and the token never leaves in a Referer header
    (``same-origin``: with ``no-referrer`` browsers post with ``Origin: null`` and CSRF fails)."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _link_problem(request, *, token="", positioning=None, invalid=False, status=410, **extra):
    return _private(render(request, "employers/positionings/link_expired.html", {
        "token": token, "positioning": positioning, "invalid": invalid, "css": CSS,
        "can_ask": positioning is not None and positioning.status in services.AWAITING_COMPANY, **extra,
    }, status=404 if invalid else status))


def _render_link(request, token, positioning, *, form=None, status=200, done=None):
    targets = _answer_targets(positioning)
    services.log_link_read(positioning, request, token)
    return _private(render(request, "employers/positionings/link.html", {
        "token": token, "positioning": positioning, "opening": positioning.opening,
        "company": positioning.opening.company, "label": short_name(positioning.person),
        "contact": _referent_contact(positioning), "done": done,
        "answer_form": (form or AnswerForm(targets=targets)) if targets else None, "css": CSS,
    }, status=status))


@view_policy("employers.positioning_link", login=False)
def positioning_link(request, token):
    """The company's page behind the signed link: the offer, the candidate's first name and
    initial, the référent's message and contact, and the answer."""
    try:
        positioning = links.read_token(token)
    except links.LinkExpired as exc:
        return _link_problem(request, token=token, positioning=exc.positioning)
    except links.LinkInvalid:
        return _link_problem(request, invalid=True)
    if request.method != "POST":
        return _render_link(request, token, positioning)
    form = AnswerForm(request.POST, targets=_answer_targets(positioning))
    if form.is_valid():
        target = form.cleaned_data["status"]
        try:
            services.answer(positioning, target, by=None, via_link=True, base_url=request_base_url(request),
                            **form.service_kwargs())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            positioning = _queryset().get(pk=positioning.pk)
            if target in services.FINAL_STATES:
                services.log_link_read(positioning, request, token)
                return _private(render(request, "employers/positionings/link.html", {
                    "positioning": positioning, "opening": positioning.opening, "company": positioning.opening.company,
                    "label": short_name(positioning.person), "done": S(target).label, "final": True, "css": CSS,
                }))
            return _render_link(request, token, positioning, done=S(target).label)
    return _render_link(request, token, positioning, form=form, status=400)


@require_POST
@view_policy("employers.positioning_link_renew", login=False)
def positioning_link_renew(request, token):
    """An expired link asks the sending side for a new one (a valid link simply opens the page).
    The sender is e-mailed at most once a day; a repeated request gets the same answer."""
    try:
        links.read_token(token)
    except links.LinkExpired as exc:
        try:
            services.request_renewal(exc.positioning, base_url=request_base_url(request))
        except ValidationError as error:
            return _link_problem(request, positioning=exc.positioning, error=" ".join(error.messages), status=400)
        return _link_problem(request, positioning=exc.positioning, renewal_asked=True, status=200)
    except links.LinkInvalid:
        return _link_problem(request, invalid=True)
    return redirect("employers:positioning_link", token=token)


urlpatterns = [
    path("offres/<uuid:uid>/mettre-en-relation/", positioning_new, name="positioning_new"),
    path("offres/<uuid:uid>/demander/", positioning_request, name="positioning_request"),
    path("mises-en-relation/", positioning_list, name="positionings"),
    path("mises-en-relation/<uuid:uid>/", positioning_detail, name="positioning_detail"),
    path("mises-en-relation/<uuid:uid>/reponse/", positioning_answer, name="positioning_answer"),
    path("mises-en-relation/<uuid:uid>/retirer/", positioning_withdraw, name="positioning_withdraw"),
    path("mises-en-relation/<uuid:uid>/decliner/", positioning_decline, name="positioning_decline"),
    path("mises-en-relation/<uuid:uid>/nouveau-lien/", positioning_renew, name="positioning_renew"),
    path("reponse/<str:token>/", positioning_link, name="positioning_link"),
    path("reponse/<str:token>/nouveau-lien/", positioning_link_renew, name="positioning_link_renew"),
]
