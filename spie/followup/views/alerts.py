"""Pages: the alerts of my caseload (``/alertes/``) and a structure's caseload for its admins
(``/structure/file-active/``).

Alerts are computed at each request (:mod:`spie.followup.alerts`); lists are paginated and
exported in CSV and XLSX, each person named by an export being written to the access log.
"""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path

from spie.core.audit import log_export
from spie.core.exports import export_format, export_response
from spie.core.policies import view_policy
from spie.network.models import Membership
from spie.people.models import FollowUpMembership

from .. import alerts, caseload

ALERTS_PAGE_SIZE = 50
CASELOAD_PAGE_SIZE = 25


@view_policy("followup.alerts")
def alert_list(request):
    """The alerts of the persons I follow, oldest first, filtered by kind."""
    membership = request.membership
    if membership.role == Membership.Role.COORDINATOR:
        raise PermissionDenied("Les coordinateurs consultent des données agrégées, pas des dossiers.")
    kind = request.GET.get("type", "")
    kind = kind if kind in alerts.KINDS else ""
    scope = alerts.personal_scope(request.user, membership)
    rows = alerts.AlertRows(scope, kind or None)
    fmt = export_format(request)
    if fmt:
        log_export(request, rows.person_ids(), reason="export des alertes")
        header = ["Nom", "Prénom", "Alerte", "Date", "Jours", "Situation dans le parcours"]
        lines = (
            [a.person.last_name.upper(), a.person.first_name, a.label, a.since, a.days,
             a.person.get_status_display()]
            for a in rows
        )
        return export_response(fmt, "alertes", header, lines, sheet_title="Alertes")
    summary = alerts.summary(scope)
    paginator = Paginator(rows, ALERTS_PAGE_SIZE)
    paginator.count = summary[kind][0] if kind else sum(n for n, _p in summary.values())
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "followup/alerts/list.html", {
        "page": page,
        "kind": kind,
        "kind_label": alerts.label(kind) if kind else "",
        "cards": caseload.alert_rows_of(summary),
        "territory_days": membership.structure.territory.setting("no_contact_alert_days"),
    })


@view_policy("followup.structure_caseload")
def structure_caseload(request):
    """The caseload of my structure (admins only): counts by status, public, alert and
    professional; filters, sort, pagination and export like the home page."""
    membership = request.membership
    if not caseload.can_see_structure_caseload(membership):
        raise PermissionDenied("La file active de la structure est réservée à ses administrateurs.")
    filters = caseload.CaseloadFilters.from_query(request.GET)
    base = caseload.structure_caseload(membership)
    scope = alerts.structure_scope(membership, base)
    qs = caseload.narrow(base, filters, scope)
    if filters.professional:
        qs = qs.filter(pk__in=FollowUpMembership.objects.filter(
            structure_id=membership.structure_id, user_id=filters.professional, end_date__isnull=True,
        ).values("person_id"))
    qs = caseload.order(qs, filters)
    fmt = export_format(request)
    if fmt:
        return caseload.export(request, fmt, qs, filename="file-active-structure",
                               reason="export de la file active de la structure")
    counts = base.order_by().aggregate(**caseload.count_aggregates())
    summary = alerts.summary(scope)
    professionals = caseload.per_professional(membership, base)
    paginator = Paginator(qs.select_related("commune"), CASELOAD_PAGE_SIZE)
    if not filters.active:
        paginator.count = counts["total"]
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "followup/caseload/structure.html", {
        "structure": membership.structure,
        "page": page,
        "filters": filters,
        "sorts": filters.sort_links(request.GET),
        "counts": counts,
        **caseload.count_context(request.GET, counts, summary),
        "professionals": [
            {"user": user, "n": n, "active": filters.professional == user.pk,
             "url": caseload.link(request.GET, pro="" if filters.professional == user.pk else user.pk)}
            for user, n in professionals
        ],
        "professionals_max": max((n for _u, n in professionals), default=0),
    })


urlpatterns = [
    path("alertes/", alert_list, name="alerts"),
    path("structure/file-active/", structure_caseload, name="structure_caseload"),
]
