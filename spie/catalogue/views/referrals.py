"""Pages of referrals ("prescriptions"): send a person to an action, the lists of my structure
(sent and received), a referral's page for each side, and the provider's signed-link page.

Who sees what (``catalogue.policies.referral_side``): the sending side (the sender's structure,
and whoever may open the person's record) sees everything, health detail only with the health
right; the receiving structure sees only what the referral carries, never the record. Every
page that names the person writes the access log (section "orientation vers une action"); the
signed-link page, read without an account, writes it with the link's channel and the holding
structure. Lists are paginated, with a constant number of queries, and export to CSV / XLSX
(each person named is written to the access log as an export).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
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
from spie.followup.models import OPEN_PLAN_STATUSES, PlanObjective
from spie.network.models import Membership
from spie.pathways.notifications import short_name
from spie.people import policies as people_policies
from spie.people import selectors as people_selectors
from spie.people.models import Person

from .. import links, policies, workflows
from ..forms_referrals import ReferralForm, add_service_errors, move_forms, open_sessions
from ..models import Action, PreferredContact, Referral, ReferralStatus, ReferralTransition
from ..services import referrals as referral_services

S = ReferralStatus
PAGE_SIZE = 25
DENIED = "Vous n'avez pas accès à cette orientation."
COORDINATOR_DENIED = "Les coordinateurs consultent des données agrégées, pas les orientations nominatives."
CSS = "catalogue/referrals.css"



def _require_not_coordinator(membership):
    if membership.role == Membership.Role.COORDINATOR:
        raise PermissionDenied(COORDINATOR_DENIED)


def _days(start, end):
    return (end - start).days if start and end else None


def decorate(referral, now):
    """Delays shown in lists and pages: days since sending, days the answer took (or has waited)."""
    referral.days_since_sent = _days(referral.sent_at, now)
    referral.days_to_answer = _days(referral.sent_at, referral.answered_at)
    referral.waiting = referral.status == S.SENT
    referral.short_name = short_name(referral.person)
    return referral


# --- Sending ----------------------------------------------------------------------------------


def _followed_persons(request):
    """Persons whose group the user is in, for "whom to refer" (names only, one query)."""
    return (
        Person.objects.filter(**people_policies.visible_persons_filter(request.user, request.membership))
        .only("pk", "first_name", "last_name").distinct().order_by("last_name", "first_name")[:500]
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@view_policy("catalogue.referral_new")
def referral_new(request, uid):
    """``?personne=<pk>[&session=<id>]``: the sending form; without a person, choose one first."""
    membership = request.membership
    _require_not_coordinator(membership)
    action = get_object_or_404(Action.objects.select_related("structure", "commune", "territory"), uid=uid)
    if not action.is_visible:
        raise Http404("Cette action n'est pas ouverte aux orientations.")
    person_pk = _int(request.GET.get("personne"))
    if person_pk is None:
        return render(request, "catalogue/referrals/choose_person.html", {
            "action": action, "persons": _followed_persons(request), "session": request.GET.get("session", ""),
            "css": CSS,
        })
    person = people_selectors.person_for_record(person_pk)
    if person is None:
        raise Http404
    access = people_policies.access_for(
        request.user, membership, person, followups=person.active_followups, consents=person.all_consents
    )
    if access.relation == people_policies.NONE:
        raise Http404
    if not policies.can_refer(membership, access):
        raise PermissionDenied(referral_services.REFER_DENIED)
    sessions = open_sessions(action)
    objectives = list(PlanObjective.objects.filter(person=person, status__in=OPEN_PLAN_STATUSES)
                      .order_by("position", "id").only("pk", "label", "person_id", "status"))
    initial_session = _int(request.GET.get("session"))
    form = ReferralForm(
        request.POST or None, sessions=sessions, objectives=objectives, can_share_health=access.can_see_health,
        initial={"session": initial_session} if initial_session in {s.pk for s in sessions} else {},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                referral = referral_services.send_referral(
                    person=person, action=action, membership=membership, access=access, data=form.service_data(),
                    session=form.chosen_session, plan_objective=form.chosen_objective,
                    base_url=request_base_url(request),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Orientation de {short_name(person)} vers « {action.name} » envoyée à "
                                          f"« {action.structure} ».")
                return redirect("catalogue:referral_detail", uid=referral.uid)
        status = 400
    open_referral = Referral.objects.filter(person=person, action=action, status__in=workflows.OPEN_STATES).first()
    log_access(request, person, AccessLog.Section.REFERRAL, reason="orientation vers une action")
    return render(request, "catalogue/referrals/new.html", {
        "action": action, "person": person, "form": form, "access": access, "sessions": sessions,
        "open_referral": open_referral, "session_missing": initial_session and initial_session not in
        {s.pk for s in sessions}, "css": CSS,
    }, status=status)


# --- Lists ------------------------------------------------------------------------------------

LIST_SIDES = {
    "sent": {"field": "from_structure", "title": "Orientations envoyées par ma structure",
             "filename": "orientations-envoyees", "url": "catalogue:referrals_sent"},
    "received": {"field": "to_structure", "title": "Orientations reçues par ma structure",
                 "filename": "orientations-recues", "url": "catalogue:referrals_received"},
}


def _list(request, side):
    membership = request.membership
    _require_not_coordinator(membership)
    conf = LIST_SIDES[side]
    base = Referral.objects.filter(**{conf["field"]: membership.structure})
    status = request.GET.get("statut", "")
    status = status if status in S.values else ""
    counts = dict(base.order_by().values_list("status").annotate(n=Count("id")))
    qs = base.filter(status=status) if status else base
    qs = qs.select_related("person", "action", "session", "from_structure", "to_structure", "sent_by").order_by(
        "-sent_at", "-id"
    )
    now = timezone.now()
    fmt = export_format(request)
    if fmt:
        log_export(request, qs.order_by().values_list("person_id", flat=True).distinct().iterator(),
                   reason=f"export des {conf['title'].lower()}")
        header = ["Envoyée le", "Personne", "Action", "Session", "Structure qui oriente", "Orienté par",
                  "Structure qui porte l'action", "Statut", "Jours depuis l'envoi", "Réponse le",
                  "Jours pour répondre", "Motif", "Commencée le", "Terminée le"]

        def rows():
            for r in qs.iterator(chunk_size=500):
                decorate(r, now)
                motive = r.get_refusal_reason_display() or r.get_drop_reason_display()
                yield [r.sent_at, r.short_name, r.action.name, str(r.session) if r.session else "",
                       r.from_structure.name, str(r.sent_by), r.to_structure.name, r.get_status_display(),
                       r.days_since_sent, r.answered_at, r.days_to_answer, motive, r.started_on, r.ended_on]

        return export_response(fmt, conf["filename"], header, rows(), sheet_title=conf["title"][:31])
    paginator = Paginator(qs, PAGE_SIZE)
    paginator.count = sum(counts.get(s, 0) for s in ([status] if status else S.values))
    page = paginator.get_page(request.GET.get("page"))
    for referral in page.object_list:
        decorate(referral, now)
    return render(request, "catalogue/referrals/list.html", {
        "side": side, "title": conf["title"], "page": page, "status": status,
        "tabs": [(code, label, counts.get(code, 0)) for code, label in S.choices],
        "total": sum(counts.values()), "css": CSS,
        "late_days": membership.structure.territory.setting("referral_reminder_days"),
        "other_url": LIST_SIDES["received" if side == "sent" else "sent"]["url"],
    })


@view_policy("catalogue.referrals_sent")
def referrals_sent(request):
    return _list(request, "sent")


@view_policy("catalogue.referrals_received")
def referrals_received(request):
    return _list(request, "received")


# --- A referral's page ------------------------------------------------------------------------


def _referral_queryset():
    return Referral.objects.select_related(
        "person__territory", "action__structure", "action__commune", "session", "from_structure", "to_structure",
        "sent_by", "answered_by", "plan_action",
    ).prefetch_related(Prefetch("transitions", queryset=ReferralTransition.objects.select_related("by"),
                                to_attr="log"))


def _load(request, uid):
    referral = _referral_queryset().filter(uid=uid).first()
    if referral is None:
        raise Http404
    access = people_policies.access_for(request.user, request.membership, referral.person)
    side = policies.referral_side(request.membership, referral, access)
    if side is None:
        raise PermissionDenied(DENIED)
    return referral, access, side


def contact_of(referral):
    """What the provider may use to reach the person, following the preferred contact."""
    person, sender = referral.person, referral.sent_by
    kind = referral.preferred_contact
    if kind in (PreferredContact.PHONE, PreferredContact.SMS):
        return [("Téléphone", person.phone or "non renseigné")]
    if kind == PreferredContact.EMAIL:
        return [("Courriel", person.email or "non renseigné")]
    return [("Référent", f"{sender} ({referral.from_structure})"), ("Courriel du référent", sender.email),
            ("Téléphone du référent", sender.phone or "non renseigné")]


def _targets(referral, actor):
    return workflows.allowed_targets(referral, actor)


def _context(referral, *, actor, bound_form=None):
    """The page's context; ``bound_form``, the form just posted with its errors, takes its place."""
    forms = move_forms(_targets(referral, actor), sessions=open_sessions(referral.action),
                       current_session=referral.session)
    if bound_form is not None:
        forms = [bound_form if form.target == bound_form.target else form for form in forms]
    return {
        "referral": decorate(referral, timezone.now()),
        "forms": forms,
        "contact": contact_of(referral),
        "log": getattr(referral, "log", None) or list(referral.transitions.select_related("by")),
        "can_renew": referral.status in (S.SENT, S.ACCEPTED),
        "link_alive": bool(referral.link_expires_at and referral.link_expires_at > timezone.now()),
        "css": CSS,
    }


def _render_detail(request, referral, access, side, *, bound_form=None, status=200):
    actor = workflows.SENDER if side == policies.SENDER else workflows.PROVIDER
    is_sender = actor == workflows.SENDER
    can_act = is_sender or policies.can_answer(request.membership, referral)
    context = _context(referral, actor=actor, bound_form=bound_form)
    if not can_act:
        context["forms"] = []
    context.update({
        "is_sender": is_sender,
        "is_provider": not is_sender,
        "access": access,
        "can_open_record": is_sender and access.can_open_record,
        "show_health": referral.health_shared and (access.can_see_health if is_sender else True),
        "move_url": reverse("catalogue:referral_move", args=[referral.uid]),
        "renew_url": reverse("catalogue:referral_renew", args=[referral.uid]),
    })
    log_access(request, referral.person, AccessLog.Section.REFERRAL,
               reason="orientation envoyée" if is_sender else "orientation reçue")
    return render(request, "catalogue/referrals/detail.html", context, status=status)


@view_policy("catalogue.referral_detail")
def referral_detail(request, uid):
    referral, access, side = _load(request, uid)
    return _render_detail(request, referral, access, side)


@require_POST
@view_policy("catalogue.referral_move")
def referral_move(request, uid):
    referral, access, side = _load(request, uid)
    actor = workflows.SENDER if side == policies.SENDER else workflows.PROVIDER
    if actor == workflows.PROVIDER and not policies.can_answer(request.membership, referral):
        raise PermissionDenied("Vous ne pouvez pas répondre pour la structure qui porte l'action.")
    target = request.POST.get("statut", "")
    if target not in _targets(referral, actor):
        messages.error(request, f"Cette étape n'est pas possible : l'orientation est « "
                                f"{referral.get_status_display().lower()} ».")
        return _render_detail(request, referral, access, side, status=400)
    form = move_forms([target], data=request.POST, bound_target=target, sessions=open_sessions(referral.action),
                      current_session=referral.session)[0]
    if form.is_valid():
        try:
            referral_services.move(referral, target, actor=actor, by=request.user, base_url=request_base_url(request),
                                   **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Orientation : {S(target).label.lower()}.")
            return redirect("catalogue:referral_detail", uid=referral.uid)
    referral = _referral_queryset().get(pk=referral.pk)
    return _render_detail(request, referral, access, side, bound_form=form, status=400)


@require_POST
@view_policy("catalogue.referral_renew")
def referral_renew(request, uid):
    referral, _access, side = _load(request, uid)
    if side == policies.PROVIDER and not policies.can_answer(request.membership, referral):
        raise PermissionDenied(referral_services.RENEW_DENIED)
    try:
        referral_services.renew_link(referral, by=request.user, base_url=request_base_url(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Un nouveau lien a été envoyé par courriel à la structure qui porte l'action ; "
                                  "les liens précédents ne fonctionnent plus.")
    return redirect("catalogue:referral_detail", uid=referral.uid)


# --- The signed link (no account) ---------------------------------------------------------------


def _private(response):
    """Pages opened by the token: never cached, and the token never leaves for another site in a
    Referer header. ``same-origin`` rather than ``no-referrer``: with ``no-referrer`` browsers post
    the page's forms with ``Origin: null`` and Django's CSRF check refuses the answer."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _invalid(request):
    return render(request, "catalogue/referrals/link_invalid.html", {"css": CSS}, status=404)


def _expired(request, token, referral):
    return _private(render(request, "catalogue/referrals/link_expired.html", {
        "token": token, "action": referral.action, "css": CSS,
        "can_ask": referral.status in (S.SENT, S.ACCEPTED),
    }, status=410))


def _render_answer(request, token, referral, *, bound_form=None, status=200):
    context = _context(referral, actor=workflows.PROVIDER, bound_form=bound_form)
    # Health detail is never shown through the link (it may reach a shared mailbox): the provider
    # reads it once logged in to its space.
    context.update({"token": token, "show_health": False, "health_behind_login": referral.health_shared,
                    "is_provider": True,
                    "via_link": True})
    referral_services.log_link_read(referral, request, token)
    return _private(render(request, "catalogue/referrals/answer.html", context, status=status))


@view_policy("catalogue.referral_answer", login=False)
def referral_answer(request, token):
    """The provider's page behind the signed link: what the referral carries, and the answer."""
    try:
        referral = links.read_token(token)
    except links.LinkExpired as exc:
        return _expired(request, token, exc.referral)
    except links.LinkInvalid:
        return _invalid(request)
    if request.method != "POST":
        return _render_answer(request, token, referral)
    target = request.POST.get("statut", "")
    if target not in _targets(referral, workflows.PROVIDER):
        return _render_answer(request, token, referral, status=400)
    form = move_forms([target], data=request.POST, bound_target=target, sessions=open_sessions(referral.action),
                      current_session=referral.session)[0]
    if form.is_valid():
        try:
            referral_services.move(referral, target, actor=workflows.PROVIDER, by=None, via_link=True,
                                   base_url=request_base_url(request), **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _private(render(request, "catalogue/referrals/answer_done.html", {
                "referral": referral, "status_label": S(target).label.lower(), "css": CSS,
                "more_to_come": target not in workflows.FINAL_STATES,
            }))
    referral = links.read_token(token)
    return _render_answer(request, token, referral, bound_form=form, status=400)


@require_POST
@view_policy("catalogue.referral_answer_renew", login=False)
def referral_answer_renew(request, token):
    """An expired link asks the sender for a new one (a valid link simply opens the page)."""
    try:
        links.read_token(token)
    except links.LinkExpired as exc:
        try:
            referral_services.request_renewal(exc.referral, base_url=request_base_url(request))
        except ValidationError as error:
            return render(request, "catalogue/referrals/renewal_requested.html",
                          {"error": " ".join(error.messages), "css": CSS}, status=400)
        return render(request, "catalogue/referrals/renewal_requested.html", {"css": CSS})
    except links.LinkInvalid:
        return _invalid(request)
    return redirect("catalogue:referral_answer", token=token)


urlpatterns = [
    path("actions/<uuid:uid>/orienter/", referral_new, name="referral_new"),
    path("orientations/envoyees/", referrals_sent, name="referrals_sent"),
    path("orientations/recues/", referrals_received, name="referrals_received"),
    path("orientations/<uuid:uid>/", referral_detail, name="referral_detail"),
    path("orientations/<uuid:uid>/statut/", referral_move, name="referral_move"),
    path("orientations/<uuid:uid>/nouveau-lien/", referral_renew, name="referral_renew"),
    path("reponse/<str:token>/", referral_answer, name="referral_answer"),
    path("reponse/<str:token>/nouveau-lien/", referral_answer_renew, name="referral_answer_renew"),
]
