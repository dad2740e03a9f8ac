"""The matching report of a territory (``/emploi/rapprochement/``), for coordinators and
structure admins (``policies.can_see_matching_report``): aggregates only, never a name.

- From the latest full :class:`~spie.employers.models.MatchRun` of the viewer's territory
  (when it was computed, how long it took): the congestion figures the engine stored
  (``metrics.congestion_report``: most-exposed opening over the median, Gini of exposure, share
  of open openings shown to nobody, share of persons with no proposal), each with a one-line
  explanation, and the fairness tables (``metrics.fairness_report``: proposal rate and mean
  score by gender, age band, RSA, RQTH and place of residence).
- The current distribution of exposure over the open openings (the proposals stored now, so
  on-demand refreshes since the run are included), as server-rendered SVG bars with numbers.
- Counts for the State, for a calendar year (``?annee=``, this year by default): positionings
  by status, hires, immersions by status, engagements and registrations by kind.

Every table exports to CSV or XLSX (``?format=csv&table=<name>``). The page costs a constant
number of queries (one per block), whatever the size of the territory.
"""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from spie.core.exports import export_format, export_response
from spie.core.policies import view_policy

from .. import policies
from ..models import (
    Engagement,
    EngagementKind,
    Immersion,
    ImmersionStatus,
    JobOpening,
    MatchRun,
    OpeningStatus,
    Positioning,
    PositioningStatus,
    Proposal,
    ProposalKind,
)

CSS = "employers/report.css"
DENIED = "Le rapport de rapprochement est réservé aux coordinateurs et aux administrateurs de structure."
GROUPINGS = ("Genre", "Tranche d'âge", "RSA", "RQTH", "Lieu de résidence")
# Exposure bins: (label, low, high) — an opening proposed to ``n`` persons falls where low <= n <= high.
EXPOSURE_BINS = (
    ("0 (montrée à personne)", 0, 0),
    ("1", 1, 1),
    ("2 à 3", 2, 3),
    ("4 à 5", 4, 5),
    ("6 à 10", 6, 10),
    ("11 à 20", 11, 20),
    ("21 à 50", 21, 50),
    ("plus de 50", 51, None),
)
CHART_ROW_PX = 22
CHART_BAR_X = 180
CHART_BAR_PX = 340
TABLES = ("congestion", "exposure", "fairness", "positionings", "immersions", "engagements")
NNBSP = "\u202f"


# --- Formatting (French) ----------------------------------------------------------------------


def _num(value, digits=0):
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}".replace(",", NNBSP).replace(".", ",")
    return text


def _pct(share, digits=0):
    return "—" if share is None else f"{_num(share * 100, digits)}{NNBSP}%"


def _label(value):
    if value is True:
        return "Oui"
    if value is False:
        return "Non"
    return str(value) if value not in (None, "") else "Non renseigné"


def _bar(share):
    """Width (0–100, in the SVG's user units) of a bar for a share in [0, 1]."""
    share = 0.0 if share is None else max(0.0, min(1.0, float(share)))
    return round(share * 100, 1)


# --- Data ------------------------------------------------------------------------------------


def latest_full_run(territory):
    """The latest finished full recompute of ``territory``, or None."""
    return (
        MatchRun.objects.filter(territory=territory, scope=MatchRun.Scope.FULL)
        .exclude(finished_at=None)
        .order_by("-started_at", "-id")
        .first()
    )


def congestion_rows(run):
    """(key, label, value shown, raw value, explanation) of the run's congestion figures."""
    c = run.congestion or {}
    ratio = c.get("exposure_max_over_median")
    return [
        (
            "exposure_max_over_median",
            "Offre la plus exposée / médiane",
            f"{_num(ratio, 1)}{NNBSP}×" if ratio is not None else "—",
            ratio,
            f"L'offre la plus proposée l'est à {_num(c.get('exposure_max'))} personne(s), pour une médiane de "
            f"{_num(c.get('exposure_median'), 1)} par offre ouverte : plus le rapport est grand, plus quelques "
            "offres concentrent les candidatures.",
        ),
        (
            "exposure_gini",
            "Indice de Gini de l'exposition",
            _num(c.get("exposure_gini"), 2) if c.get("exposure_gini") is not None else "—",
            c.get("exposure_gini"),
            "0 : toutes les offres sont proposées au même nombre de personnes ; proche de 1 : "
            "les propositions se concentrent sur très peu d'offres.",
        ),
        (
            "openings_unexposed_share",
            "Offres ouvertes montrées à personne",
            _pct(c.get("openings_unexposed_share")),
            c.get("openings_unexposed_share"),
            f"Part des {_num(c.get('openings_available'))} offres ouvertes qui ne sont proposées à aucune "
            "personne : métiers, lieux ou conditions sans candidat dans les profils.",
        ),
        (
            "persons_without_proposal_share",
            "Personnes sans aucune proposition",
            _pct(c.get("persons_without_proposal_share")),
            c.get("persons_without_proposal_share"),
            f"Part des {_num(run.persons)} personnes en recherche d'emploi à qui aucune offre n'est proposée"
            + (
                f" ({_pct(c['persons_with_targets_without_proposal_share'])} parmi celles qui ont un métier "
                "recherché)."
                if c.get("persons_with_targets_without_proposal_share") is not None
                else "."
            ),
        ),
    ]


# Groups smaller than this are shown without their figures (they would describe individuals).
MIN_GROUP = 10


def fairness_tables(run):
    """[(grouping, [row dict with display values and bar widths])] in the report's order."""
    fairness = run.fairness or {}
    names = [g for g in GROUPINGS if g in fairness] + [g for g in fairness if g not in GROUPINGS]
    tables = []
    for name in names:
        rows = []
        for item in fairness.get(name) or []:
            score = item.get("mean_score") or 0.0
            if item.get("persons", 0) < MIN_GROUP:
                # Too few persons: the rates would describe individuals (statistical secrecy).
                rows.append({"label": _label(item.get("label")), "persons": None, "suppressed": True,
                             "persons_shown": f"moins de {MIN_GROUP}", "proposal_rate": None, "mean_proposals": None,
                             "mean_score": None, "mean_top_score": None})
                continue
            rows.append({
                "label": _label(item.get("label")),
                "persons": item.get("persons", 0),
                "persons_shown": _num(item.get("persons", 0)),
                "proposal_rate": item.get("proposal_rate", 0.0),
                "proposal_rate_shown": _pct(item.get("proposal_rate", 0.0)),
                "proposal_rate_bar": _bar(item.get("proposal_rate", 0.0)),
                "mean_proposals": item.get("mean_proposals", 0.0),
                "mean_proposals_shown": _num(item.get("mean_proposals", 0.0), 1),
                "mean_score": score,
                "mean_score_shown": _num(score, 2),
                "mean_score_bar": _bar(score),
                "mean_top_score": item.get("mean_top_score", 0.0),
                "mean_top_score_shown": _num(item.get("mean_top_score", 0.0), 2),
            })
        tables.append((name, rows))
    return tables


def exposure_distribution(territory):
    """Open openings of ``territory`` by number of persons they are currently proposed to
    (two queries): [(label, openings, share, bar width)], and the number of open openings."""
    open_openings = JobOpening.objects.filter(territory=territory, status=OpeningStatus.OPEN)
    total = open_openings.count()
    exposures = (
        Proposal.objects.filter(
            kind=ProposalKind.ELIGIBLE, opening__territory=territory, opening__status=OpeningStatus.OPEN
        )
        .order_by()
        .values("opening_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    counts = [0] * len(EXPOSURE_BINS)
    exposed = 0
    for n in exposures:
        exposed += 1
        for i, (_name, low, high) in enumerate(EXPOSURE_BINS):
            if n >= low and (high is None or n <= high):
                counts[i] += 1
                break
    counts[0] = max(0, total - exposed)
    biggest = max(counts) if any(counts) else 1
    rows = []
    for i, ((label, _low, _high), n) in enumerate(zip(EXPOSURE_BINS, counts, strict=True)):
        bar_px = round(CHART_BAR_PX * n / biggest)
        rows.append({
            "label": label,
            "openings": n,
            "openings_shown": _num(n),
            "share": n / total if total else 0.0,
            "share_shown": _pct(n / total if total else 0.0),
            "bar": _bar(n / biggest),
            # SVG geometry of the chart (user units; integers, so no localised decimal separator).
            "y": i * CHART_ROW_PX,
            "text_y": i * CHART_ROW_PX + 15,
            "bar_px": bar_px,
            "value_x": CHART_BAR_X + bar_px + 6,
        })
    return rows, total


def state_counts(territory, year):
    """Counts of the year for the State: positionings by status (and hires), immersions by
    status, engagements and registrations by kind. Four queries."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    positionings = dict(
        Positioning.objects.filter(
            opening__territory=territory, created_at__date__gte=start, created_at__date__lt=end
        )
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    hires = Positioning.objects.filter(
        opening__territory=territory, status=PositioningStatus.HIRED, hired_on__gte=start, hired_on__lt=end
    ).count()
    immersions = dict(
        Immersion.objects.filter(company__territory=territory, created_at__date__gte=start, created_at__date__lt=end)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    year_engagements = Engagement.objects.filter(territory=territory, date__gte=start, date__lt=end)
    engagements = {
        kind: (n, regs, attended)
        for kind, n, regs, attended in year_engagements.order_by()
        .values("kind")
        .annotate(
            n=Count("id", distinct=True),
            regs=Count("registrations", distinct=True),
            attended=Count("registrations", filter=Q(registrations__attended=True), distinct=True),
        )
        .values_list("kind", "n", "regs", "attended")
    }
    return {
        "positionings": [(code, label, positionings.get(code, 0)) for code, label in PositioningStatus.choices],
        "positionings_total": sum(positionings.values()),
        "hires": hires,
        "immersions": [(code, label, immersions.get(code, 0)) for code, label in ImmersionStatus.choices],
        "immersions_total": sum(immersions.values()),
        "engagements": [
            (code, label, *engagements.get(code, (0, 0, 0))) for code, label in EngagementKind.choices
        ],
        "engagements_total": sum(v[0] for v in engagements.values()),
        "registrations_total": sum(v[1] for v in engagements.values()),
        "attended_total": sum(v[2] for v in engagements.values()),
    }


# --- Exports ---------------------------------------------------------------------------------


def _export(fmt, table, *, run, territory, year):
    if table not in TABLES:
        raise Http404("Tableau inconnu.")
    if table in ("congestion", "fairness") and run is None:
        raise Http404("Aucun calcul complet des propositions pour ce territoire.")
    code = territory.code
    if table == "congestion":
        header = ["Indicateur", "Valeur", "Explication", "Calcul du"]
        rows = [(label, raw, text, run.finished_at) for _key, label, _shown, raw, text in congestion_rows(run)]
        return export_response(fmt, f"rapprochement-congestion-{code}", header, rows, sheet_title="Congestion")
    if table == "exposure":
        bins, _total = exposure_distribution(territory)
        header = ["Personnes à qui l'offre est proposée", "Offres ouvertes", "Part des offres ouvertes"]
        rows = [(b["label"], b["openings"], round(b["share"], 4)) for b in bins]
        return export_response(fmt, f"rapprochement-exposition-{code}", header, rows, sheet_title="Exposition")
    if table == "fairness":
        header = ["Regroupement", "Groupe", "Personnes", "Taux de proposition", "Propositions par personne",
                  "Score moyen", "Meilleur score moyen"]
        rows = [
            (name, r["label"], r["persons_shown"], "", "", "", "") if r.get("suppressed") else
            (name, r["label"], r["persons"], round(r["proposal_rate"], 4), round(r["mean_proposals"], 2),
             round(r["mean_score"], 4), round(r["mean_top_score"], 4))
            for name, table_rows in fairness_tables(run)
            for r in table_rows
        ]
        return export_response(fmt, f"rapprochement-equite-{code}", header, rows, sheet_title="Équité")
    counts = state_counts(territory, year)
    if table == "positionings":
        header = ["Année", "Statut", "Mises en relation"]
        rows = [(year, label, n) for _code, label, n in counts["positionings"]]
        rows.append((year, "Total", counts["positionings_total"]))
        rows.append((year, "Embauches (date d'embauche dans l'année)", counts["hires"]))
        return export_response(fmt, f"mises-en-relation-{code}-{year}", header, rows, sheet_title="Mises en relation")
    if table == "immersions":
        header = ["Année", "Statut", "Immersions"]
        rows = [(year, label, n) for _code, label, n in counts["immersions"]]
        rows.append((year, "Total", counts["immersions_total"]))
        return export_response(fmt, f"immersions-{code}-{year}", header, rows, sheet_title="Immersions")
    header = ["Année", "Type", "Événements", "Inscriptions", "Présences"]
    rows = [(year, label, n, regs, attended) for _code, label, n, regs, attended in counts["engagements"]]
    rows.append((year, "Total", counts["engagements_total"], counts["registrations_total"], counts["attended_total"]))
    return export_response(fmt, f"engagements-entreprises-{code}-{year}", header, rows, sheet_title="Engagements")


# --- View ------------------------------------------------------------------------------------


def _year(request):
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("annee", this_year))
    except (TypeError, ValueError):
        return this_year
    return year if 2000 <= year <= this_year + 1 else this_year


@view_policy("employers.report")
def report(request):
    membership = request.membership
    if not policies.can_see_matching_report(membership):
        raise PermissionDenied(DENIED)
    territory = membership.structure.territory
    year = _year(request)
    run = latest_full_run(territory)
    fmt = export_format(request)
    if fmt:
        return _export(fmt, request.GET.get("table", ""), run=run, territory=territory, year=year)
    exposure, open_total = exposure_distribution(territory)
    this_year = timezone.localdate().year
    context = {
        "css": CSS,
        "territory": territory,
        "run": run,
        "congestion": congestion_rows(run) if run else [],
        "fairness": fairness_tables(run) if run else [],
        "exposure": exposure,
        "exposure_height": CHART_ROW_PX * len(exposure),
        "open_total": open_total,
        "year": year,
        "years": list(range(this_year, this_year - 4, -1)),
        "counts": state_counts(territory, year),
        "duration": _num(run.duration_s, 1) if run else "",
    }
    return render(request, "employers/report/report.html", context)


urlpatterns = [
    path("rapprochement/", report, name="report"),
]
