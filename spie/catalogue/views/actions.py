"""Pages where a provider structure manages its actions in the catalogue (``/catalogue/mes-actions/``).

- "Nos actions": the active structure's actions with their status, quality score, "mise à jour
  nécessaire" badge, next session and places left; filters by status; paginated; CSV/XLSX
  export (no person data, so no access log).
- The sheet (create / edit) in fieldsets, the lifecycle buttons (each behind a confirmation),
  the quality panel with what to fix, "Confirmer que l'action est à jour", and for a model its
  sites and "Décliner sur un autre site".
- The sessions of an action: list, add, edit, cancel, places taken and left.

Policy: ``policies.can_manage_actions`` (the structure's admins and référents); everyone else
gets a 403 — coordinators read the public catalogue. Every write goes through
``services.actions``.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from spie.core.exports import export_format, export_response
from spie.core.policies import view_policy

from .. import policies
from ..forms_actions import ActionForm, InstantiateForm, SessionForm, StatusForm, term_labels, zone_labels
from ..models import Action, ActionSession, ActionStatus, ReceptionMode, SpieKind
from ..quality import quality
from ..services import actions as services

PAGE_SIZE = 25
SESSIONS_PAGE_SIZE = 20
SITES_PAGE_SIZE = 20
STALE = "a-mettre-a-jour"
MODELS = "modeles"
S = ActionStatus

# What each lifecycle button says, and what its confirmation explains.
BUTTONS = {
    S.PUBLISHED: ("Publier", "L'action apparaîtra dans le catalogue : les référents pourront y orienter "
                             "des personnes."),
    S.SUSPENDED: ("Suspendre", "L'action sort du catalogue jusqu'à la date choisie (incluse) : plus aucune "
                               "orientation d'ici là. Elle est republiée automatiquement le lendemain."),
    S.DRAFT: ("Repasser en brouillon", "L'action disparaît du catalogue ; les orientations en cours continuent."),
    S.ARCHIVED: ("Archiver", "L'action disparaît du catalogue et de votre liste par défaut ; elle pourra être "
                             "rouverte en brouillon."),
}


def managing_membership(request):
    """The active membership, when it may manage its structure's actions; else 403."""
    membership = request.membership
    if not policies.can_manage_actions(membership, membership.structure_id if membership else None):
        raise PermissionDenied(services.MANAGE_DENIED)
    return membership


def load_action(request, uid):
    """The action ``uid`` of a structure the user manages: 404 when unknown, 403 otherwise."""
    action = get_object_or_404(
        Action.objects.select_related("structure__territory", "territory", "commune", "model", "plan_item__theme"),
        uid=uid,
    )
    if not policies.can_manage_actions(request.membership, action.structure):
        raise PermissionDenied(services.MANAGE_DENIED)
    return action


def _add_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _freshness_days(territory):
    return int(territory.setting("catalogue_freshness_days"))


def _link(params, **changes):
    query = params.copy()
    for key in ("page", "format"):
        query.pop(key, None)
    for key, value in changes.items():
        query.pop(key, None)
        if value:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


# --- "Nos actions" ------------------------------------------------------------------------------


@view_policy("catalogue.my_actions")
def my_actions(request):
    membership = managing_membership(request)
    structure = membership.structure
    today = timezone.localdate()
    freshness_days = _freshness_days(structure.territory)
    stale_limit = today - datetime.timedelta(days=freshness_days)
    stale_q = Q(status__in=services.VISIBLE_STATUSES, content_updated_on__lt=stale_limit)

    current = request.GET.get("statut", "")
    current = current if current in (*S.values, STALE, MODELS) else ""
    query = (request.GET.get("q") or "").strip()[:100]

    base = Action.objects.filter(structure=structure)
    counts = base.order_by().aggregate(
        total=Count("id"), stale=Count("id", filter=stale_q), models=Count("id", filter=Q(is_model=True)),
        **{f"status_{s}": Count("id", filter=Q(status=s)) for s in S.values},
    )
    qs = base
    if current in S.values:
        qs = qs.filter(status=current)
    elif current == STALE:
        qs = qs.filter(stale_q)
    elif current == MODELS:
        qs = qs.filter(is_model=True)
    else:
        qs = qs.exclude(status=S.ARCHIVED)  # archived ones on demand
    if query:
        qs = qs.filter(name__icontains=query)
    qs = qs.order_by("name", "id")

    fmt = export_format(request)
    if fmt:
        return _export(fmt, qs, structure, today, freshness_days)

    paginator = Paginator(
        qs.select_related("commune", "model").annotate(site_count=Count("instances")), PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    for action in page.object_list:
        action.quality = quality(action, today, freshness_days=freshness_days)
        action.stale = action.status in services.VISIBLE_STATUSES and action.content_updated_on < stale_limit
    filters = [("", "En cours", counts["total"] - counts[f"status_{S.ARCHIVED}"])]
    filters += [(s.value, s.label + "s", counts[f"status_{s.value}"]) for s in S]
    filters += [(STALE, "Mise à jour nécessaire", counts["stale"]), (MODELS, "Modèles", counts["models"])]
    return render(request, "catalogue/actions/list.html", {
        "structure": structure,
        "page": page,
        "query": query,
        "current": current,
        "counts": counts,
        "filters": [
            {"code": code, "label": label, "n": n, "active": current == code, "url": _link(request.GET, statut=code)}
            for code, label, n in filters
        ],
        "freshness_days": freshness_days,
    })


EXPORT_HEADER = [
    "Identifiant", "Nom", "Statut", "Suspendue jusqu'au", "Type d'action SPIE", "Modèle ou site", "Commune",
    "Modes d'accueil", "Thématiques", "Score qualité", "Complétude", "Fraîcheur", "Contact",
    "Mise à jour nécessaire", "Mise à jour le", "Publiée le", "Prochaine session", "Places restantes",
    "Heures par semaine", "Semaines",
]


def _export(fmt, qs, structure, today, freshness_days):
    """The structure's actions (no person in them: no access log)."""
    themes = term_labels("thematiques")
    modes = dict(ReceptionMode.choices)
    kinds = dict(SpieKind.choices)

    def rows():
        for action in qs.select_related("commune", "model", "territory").iterator(chunk_size=500):
            q = quality(action, today, freshness_days=freshness_days)
            stale = action.status in services.VISIBLE_STATUSES and (today - action.content_updated_on).days > \
                freshness_days
            yield [
                str(action.uid), action.name, action.get_status_display(), action.suspended_until,
                kinds.get(action.spie_kind, ""),
                "Modèle" if action.is_model else (f"Site du modèle « {action.model.name} »" if action.model_id else ""),
                action.commune.name if action.commune_id else "",
                [modes.get(m, m) for m in action.reception_modes or ()],
                [themes.get(t, t) for t in action.thematiques or ()],
                q.score, q.completeness, q.freshness, q.contact, stale, action.content_updated_on,
                action.published_at, action.next_session_on, action.places_left_total,
                action.weekly_hours, action.weeks,
            ]

    return export_response(fmt, f"actions-{structure.slug}", EXPORT_HEADER, rows(), sheet_title="Nos actions")


# --- The sheet ------------------------------------------------------------------------------------


@view_policy("catalogue.action_create")
def action_create(request):
    membership = managing_membership(request)
    form = ActionForm(request.POST or None, instance=Action(structure=membership.structure,
                                                            territory_id=membership.structure.territory_id))
    if request.method == "POST" and form.is_valid():
        try:
            action = services.create_action(membership=membership, data=form.action_data())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, f"Action « {action.name} » enregistrée en brouillon. Publiez-la quand elle est complète."
            )
            return redirect("catalogue:action_edit", uid=action.uid)
    return render(request, "catalogue/actions/form.html", {"form": form, "creating": True,
                                                           "structure": membership.structure})


def _edit_context(request, action, *, form=None, status_form=None):
    today = timezone.localdate()
    freshness_days = _freshness_days(action.territory)
    sites = None
    if action.is_model:
        sites = Paginator(
            action.instances.select_related("structure", "commune").order_by("commune__name", "id"), SITES_PAGE_SIZE
        ).get_page(request.GET.get("sites"))
    buttons = []
    for target in services.allowed_targets(action):
        label, explanation = BUTTONS[target]
        buttons.append({"status": target.value, "label": label, "explanation": explanation,
                        "needs_until": target == S.SUSPENDED, "danger": target == S.ARCHIVED})
    return {
        "action": action,
        "form": form or ActionForm(instance=action),
        "status_form": status_form,
        "buttons": buttons,
        "quality": quality(action, today, freshness_days=freshness_days),
        "needs_update": action.needs_update(today) if action.status in services.VISIBLE_STATUSES else False,
        "freshness_days": freshness_days,
        "problems": services.publish_problems(action) if action.status == S.DRAFT else {},
        "zone": zone_labels(action.eligibility_zone),
        "sites": sites,
        "tomorrow": today + datetime.timedelta(days=1),
        "can_manage_model": bool(action.model_id) and policies.can_manage_actions(
            request.membership, action.model.structure_id),
    }


@view_policy("catalogue.action_edit")
def action_edit(request, uid):
    action = load_action(request, uid)
    form = None
    if request.method == "POST":
        # The form works on its own copy: the service compares it with the stored action.
        form = ActionForm(request.POST, instance=load_action(request, uid))
        if form.is_valid():
            try:
                changed = services.update_action(action=action, membership=request.membership,
                                                 data=form.action_data())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                if changed:
                    extra = ""
                    if action.is_model and set(changed) & set(services.CONTENT_FIELDS):
                        n = action.instances.count()
                        extra = f" Ses {n} site{'s' if n > 1 else ''} ont repris le contenu." if n else ""
                    messages.success(request, f"Action « {action.name} » enregistrée.{extra}")
                else:
                    messages.info(request, "Aucune modification.")
                return redirect("catalogue:action_edit", uid=action.uid)
    return render(request, "catalogue/actions/form.html", _edit_context(request, action, form=form))


@require_POST
@view_policy("catalogue.action_status")
def action_status(request, uid):
    action = load_action(request, uid)
    form = StatusForm(request.POST, action=action)
    if form.is_valid():
        target = form.cleaned_data["status"]
        try:
            services.change_status(action, target, by=request.membership, until=form.cleaned_data["until"],
                                   reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            done = {
                S.PUBLISHED: "est publiée dans le catalogue",
                S.SUSPENDED: f"est suspendue jusqu'au {action.suspended_until:%d/%m/%Y}"
                if action.suspended_until else "est suspendue",
                S.DRAFT: "est repassée en brouillon",
                S.ARCHIVED: "est archivée",
            }[S(target)]
            messages.success(request, f"L'action « {action.name} » {done}.")
            return redirect("catalogue:action_edit", uid=action.uid)
    return render(request, "catalogue/actions/form.html", _edit_context(request, action, status_form=form))


@require_POST
@view_policy("catalogue.action_confirm")
def action_confirm(request, uid):
    action = load_action(request, uid)
    services.confirm_up_to_date(action, membership=request.membership)
    messages.success(request, f"Merci : l'action « {action.name} » est confirmée à jour.")
    if request.POST.get("retour") == "liste":
        return redirect("catalogue:my_actions")
    return redirect("catalogue:action_edit", uid=action.uid)


# --- Sessions -------------------------------------------------------------------------------------


def _sessions_page(request, action, *, form=None, status=200):
    today = timezone.localdate()
    show_all = request.GET.get("toutes") == "1"
    sessions = action.sessions.all()
    if not show_all:
        sessions = sessions.filter(starts_on__gte=today)
    page = Paginator(sessions.order_by("starts_on", "start_time", "id"), SESSIONS_PAGE_SIZE).get_page(
        request.GET.get("page"))
    for session in page.object_list:
        session.open_now = session.is_open(today)
        session.past = (session.ends_on or session.starts_on) < today
    return render(request, "catalogue/actions/sessions.html", {
        "action": action,
        "page": page,
        "show_all": show_all,
        "form": form or SessionForm(initial={"place": action.address}),
    }, status=status)


@view_policy("catalogue.action_sessions")
def action_sessions(request, uid):
    action = load_action(request, uid)
    if request.method == "POST":
        form = SessionForm(request.POST, instance=ActionSession(action=action))
        if form.is_valid():
            try:
                session = services.create_session(action, membership=request.membership, data=form.session_data())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Session du {session.starts_on:%d/%m/%Y} ajoutée.")
                return redirect("catalogue:action_sessions", uid=action.uid)
        return _sessions_page(request, action, form=form)
    return _sessions_page(request, action)


@view_policy("catalogue.action_session_edit")
def action_session_edit(request, uid, session_id):
    action = load_action(request, uid)
    session = get_object_or_404(ActionSession, pk=session_id, action=action)
    session.action = action
    form = None
    if request.method == "POST":
        if request.POST.get("annuler") == "1":
            try:
                dropped = services.cancel_session(session, membership=request.membership)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                text = f"Session du {session.starts_on:%d/%m/%Y} annulée."
                if dropped:
                    many = dropped > 1
                    text += (f" {dropped} personne{'s' if many else ''} y avai{'ent' if many else 't'} une place : "
                             f"{'leurs orientations sont passées' if many else 'son orientation est passée'} en "
                             "« abandonnée » (motif : session annulée) et les référents qui les ont "
                             f"orienté{'es' if many else 'e'} ont été prévenus par courriel.")
                messages.success(request, text)
            return redirect("catalogue:action_sessions", uid=action.uid)
        form = SessionForm(request.POST, instance=get_object_or_404(ActionSession, pk=session_id, action=action))
        if form.is_valid():
            try:
                services.update_session(session, membership=request.membership, data=form.session_data())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Session enregistrée.")
                return redirect("catalogue:action_sessions", uid=action.uid)
    return render(request, "catalogue/actions/session_edit.html", {
        "action": action,
        "session": session,
        "form": form or SessionForm(instance=session),
        "held": services.places_held(session),
    })


# --- A model offered at another site ---------------------------------------------------------------


@view_policy("catalogue.action_instantiate")
def action_instantiate(request, uid):
    membership = managing_membership(request)
    model = get_object_or_404(Action.objects.select_related("structure", "commune"), uid=uid, is_model=True)
    own = model.structure_id == membership.structure_id
    if model.territory_id != membership.structure.territory_id or (
        not own and model.status not in services.VISIBLE_STATUSES
    ):
        raise Http404
    form = InstantiateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            action = services.instantiate(model, membership=membership, data=form.site_data())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, f"Nouveau site de « {model.name} » à {action.commune.name} créé en brouillon : "
                         "vérifiez-le puis publiez-le.")
            return redirect("catalogue:action_edit", uid=action.uid)
    return render(request, "catalogue/actions/instantiate.html", {"model": model, "form": form,
                                                                  "structure": membership.structure})


urlpatterns = [
    path("mes-actions/", my_actions, name="my_actions"),
    path("mes-actions/nouvelle/", action_create, name="action_create"),
    path("mes-actions/<uuid:uid>/", action_edit, name="action_edit"),
    path("mes-actions/<uuid:uid>/statut/", action_status, name="action_status"),
    path("mes-actions/<uuid:uid>/a-jour/", action_confirm, name="action_confirm"),
    path("mes-actions/<uuid:uid>/sessions/", action_sessions, name="action_sessions"),
    path("mes-actions/<uuid:uid>/sessions/<int:session_id>/", action_session_edit, name="action_session_edit"),
    path("mes-actions/<uuid:uid>/decliner/", action_instantiate, name="action_instantiate"),
]
