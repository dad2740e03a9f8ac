"""The public catalogue: search with filters and counts, a map of the results, an action's sheet.

Both pages are public (``view_policy(..., login=False)``): people and partners browse the offer
without an account. Anonymous visitors see everything but the contact details (name, e-mail,
phone of the action and of its structure: ``policies.can_see_contacts``); logged-in
professionals see everything.

``?personne=<pk>`` turns the search into a search *for* someone (logged in, and allowed to open
the person's record, else 403): the origin is the person's commune, the thématiques are
pre-filled from the barriers of their latest completed diagnostic (the référent may untick
them: once the form has been sent, ``filtre=1`` says the choice is the référent's), the read of
the diagnostic goes to the access log, and each result offers « Orienter ».

The filter form works without JavaScript (a submit button); with htmx, changing a filter
refreshes the results region and the counts of the filters in place (out-of-band swaps of the
count badges only, so the focus stays on the checkbox just ticked).

The map (``vue=carte``) is an inline SVG drawn on the server: no tiles, no network, no script
(strict CSP). The base map (the territory's outline and the borders of its EPCI, from
``referentials.Commune.shape``) is computed once per process; the markers of the page's
in-person results are links to the sheets, numbered like the list beside them: the list is the
content, the map a complement.
"""

import math
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from spie.core.audit import log_access
from spie.core.models import AccessLog
from spie.core.policies import view_policy
from spie.core.text import fold_words
from spie.network.models import Territory
from spie.pathways.notifications import short_name
from spie.referentials.models import Commune, DataInclusionTerm, Departement

from .. import policies
from .. import search as catalogue_search
from ..models import (
    Action,
    ActionSession,
    Fees,
    MobilisationMode,
    Mobiliser,
    ReceptionMode,
    ServiceType,
    SpieAxis,
    SpieKind,
)

PER_PAGE = 20
CSS = "catalogue/search.css"
FILTER_PARAMS = ("q", "commune", "rayon", "thematique", "public", "type", "kind", "frais", "distance", "du", "au",
                 "places")


# --- Helpers ----------------------------------------------------------------------------------


def page_territory(request):
    """The territory asked (``?territoire=31``), else the active membership's, else the
    platform's (``settings.SPIE_TERRITORY``), else the first one."""
    code = (request.GET.get("territoire") or "").strip()
    if code:
        territory = Territory.objects.filter(code=code[:3]).first()
        if territory is None:
            raise Http404("Territoire inconnu.")
        return territory
    membership = getattr(request, "membership", None)
    if membership is not None:
        return membership.structure.territory
    territory = (
        Territory.objects.filter(code=getattr(settings, "SPIE_TERRITORY", "")).first()
        or Territory.objects.order_by("code").first()
    )
    if territory is None:
        raise Http404("Aucun territoire n'est configuré.")
    return territory


def optional_url(name, *args):
    """The URL of a page another part of the catalogue provides, or "" while it does not exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def vocabulary_labels():
    """``{vocabulary: {value: (label, parent)}}`` of the data·inclusion terms (one query), from
    the repository's file when the table is still empty (a fresh install, the tests)."""
    rows = DataInclusionTerm.objects.filter(
        vocabulary__in=("thematiques", "categories_thematiques", "publics")
    ).values_list("vocabulary", "value", "label", "parent_value")
    labels = {}
    for vocabulary, value, label, parent in rows:
        labels.setdefault(vocabulary, {})[value] = (label, parent)
    return labels or _file_labels()


@lru_cache(maxsize=1)
def _file_labels():
    import json

    document = json.loads(catalogue_search.VOCABULARIES_FILE.read_text(encoding="utf-8"))
    return {
        name: {t["value"]: (t.get("label") or t["value"], t.get("categorie") or "") for t in document.get(name, [])}
        for name in ("thematiques", "categories_thematiques", "publics")
    }


def label_of(labels, vocabulary, value):
    entry = labels.get(vocabulary, {}).get(value)
    return entry[0] if entry else value


def distance_label(hit):
    if not hit.in_person:
        return "à distance"
    if hit.distance_km is None:
        return ""
    if hit.distance_km < 1:
        return "à moins d'1 km"
    return f"à {hit.distance_km:.0f} km"


def _person_for_search(request, raw_pk):
    """The person searched for, after checking the user may open their record (403 else)."""
    from spie.people import policies as people_policies
    from spie.people import selectors as people_selectors

    if not request.user.is_authenticated or getattr(request, "membership", None) is None:
        raise PermissionDenied("Connectez-vous avec un compte professionnel pour chercher pour une personne.")
    try:
        pk = int(raw_pk)
    except (TypeError, ValueError):
        raise Http404("Personne introuvable.") from None
    person = people_selectors.person_for_record(pk)
    if person is None:
        raise Http404("Personne introuvable.")
    access = people_policies.access_for(
        request.user, request.membership, person, followups=person.active_followups, consents=person.all_consents
    )
    if access.relation == people_policies.NONE:
        raise Http404("Personne introuvable.")
    if not access.can_open_record:
        raise PermissionDenied("Vous n'avez pas accès au dossier de cette personne.")
    return person, access


def diagnostic_thematiques(person):
    """``(diagnostic, thématiques)`` suggested by the barriers of the person's latest completed
    diagnostic, in the order of the barriers (the most severe first)."""
    from spie.diagnostics import selectors as diagnostic_selectors
    from spie.diagnostics.models import Diagnostic

    diagnostic = (
        Diagnostic.objects.filter(person=person, status=Diagnostic.Status.COMPLETED)
        .select_related("framework").defer("framework__definition", "answers")
        .order_by("-completed_at", "-id").first()
    )
    if diagnostic is None:
        return None, ()
    result = diagnostic_selectors.full_result(diagnostic) or {}
    suggestions = {s.get("theme"): s for s in result.get("suggestions", []) if isinstance(s, dict)}
    found = []
    for barrier in result.get("barriers", []):
        for value in suggestions.get(barrier.get("theme"), {}).get("thematiques", []) or []:
            if value in catalogue_search.known_thematiques() and value not in found:
                found.append(value)
    return diagnostic, tuple(found)


# --- Filters of the side form -------------------------------------------------------------------


def _option(name, value, label, counts, chosen):
    return {
        "name": name, "value": value, "label": label, "count": counts.get(value, 0), "checked": value in chosen,
        "id": f"f-{name}-{value}",
    }


def filter_groups(params, facets, labels):
    """What the side form shows: every value with its count among the results of the other filters."""
    theme_counts = facets["thematiques"]
    categories = labels.get("categories_thematiques", {})
    by_category = {}
    for value, (label, parent) in labels.get("thematiques", {}).items():
        by_category.setdefault(parent or value.split("--", 1)[0], []).append((value, label))
    chosen = set(params.thematiques)
    theme_groups = []
    for code, options in by_category.items():
        items = [_option("thematique", value, label, theme_counts, chosen)
                 for value, label in sorted(options, key=lambda o: fold_words(o[1]))]
        whole = _option("thematique", code, "Toute la thématique", theme_counts, chosen)
        theme_groups.append({
            "code": code, "label": categories.get(code, (code, ""))[0], "count": theme_counts.get(code, 0),
            "whole": whole, "options": items, "open": whole["checked"] or any(o["checked"] for o in items),
            "selected": sum(o["checked"] for o in items) + whole["checked"],
        })
    theme_groups.sort(key=lambda g: fold_words(g["label"]))
    publics = sorted(
        (_option("public", value, label, facets["publics"], set(params.publics))
         for value, (label, _p) in labels.get("publics", {}).items()),
        key=lambda o: (o["value"] != catalogue_search.EVERYONE, fold_words(o["label"])),
    )
    return {
        "themes": theme_groups,
        "publics": publics,
        "types": [_option("type", v, label, facets["types"], set(params.types)) for v, label in ServiceType.choices],
        "kinds": [_option("kind", v, label, facets["kinds"], set(params.kinds)) for v, label in SpieKind.choices],
        "fees": [_option("frais", v, label, facets["fees"], {params.fees}) for v, label in Fees.choices],
        "modes": [_option("distance", v, label, facets["modes"], {params.mode}) for v, label in ReceptionMode.choices],
    }


def facet_badges(groups):
    """Every count badge of the form (id, count): swapped out of band after an htmx refresh."""
    badges = []
    for group in groups["themes"]:
        badges.append((group["whole"]["id"], group["whole"]["count"]))
        badges.extend((o["id"], o["count"]) for o in group["options"])
    for name in ("publics", "types", "kinds", "fees", "modes"):
        badges.extend((o["id"], o["count"]) for o in groups[name])
    return badges


# --- Map (inline SVG, no network) -------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """Equirectangular projection of a box onto an SVG of ``width`` units (good enough for a
    département: the error is far below a marker's size)."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    width: float = 600.0

    @property
    def kx(self):
        return self.width / max(1e-6, (self.lon_max - self.lon_min))

    @property
    def ky(self):
        mid = math.radians((self.lat_min + self.lat_max) / 2)
        return self.kx / max(0.01, math.cos(mid))

    @property
    def height(self):
        return round((self.lat_max - self.lat_min) * self.ky, 1)

    def point(self, lat, lon):
        return round((lon - self.lon_min) * self.kx, 1), round((self.lat_max - lat) * self.ky, 1)

    def contains(self, lat, lon):
        return self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max

    def km(self, distance_km):
        return distance_km / catalogue_search.KM_PER_DEGREE * self.ky


@dataclass(frozen=True)
class BaseMap:
    projection: Projection | None
    outline: str  # SVG path data
    borders: str  # EPCI borders inside the territory
    towns: tuple  # ((x, y, name), …)


_BASE_MAPS = {}


def _rings(geometry):
    if not isinstance(geometry, dict):
        return []
    coordinates = geometry.get("coordinates") or []
    if geometry.get("type") == "Polygon":
        return list(coordinates)
    if geometry.get("type") == "MultiPolygon":
        return [ring for polygon in coordinates for ring in polygon]
    return []


def _chain(edges):
    """Join undirected segments ``{(a, b)}`` into as few polylines as possible."""
    neighbours = {}
    for a, b in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    used = set()
    lines = []
    for start in list(neighbours):
        for first in neighbours[start]:
            if (start, first) in used:
                continue
            line = [start]
            current, nxt = start, first
            while True:
                used.add((current, nxt))
                used.add((nxt, current))
                line.append(nxt)
                current = nxt
                nxt = next((p for p in neighbours[current] if (current, p) not in used), None)
                if nxt is None:
                    break
            lines.append(line)
    return lines


def _path(lines, projection):
    parts = []
    for line in lines:
        points = [projection.point(lat, lon) for lon, lat in line]
        compact = [points[0]] + [p for prev, p in zip(points, points[1:], strict=False) if p != prev]
        if len(compact) < 2:
            continue
        parts.append("M" + " L".join(f"{x:g} {y:g}" for x, y in compact))
    return " ".join(parts)


def base_map(territory):
    """The territory's base map, computed once per process (and again if its communes change)."""
    shaped = Commune.objects.filter(departement=territory.code, shape__isnull=False)
    key = (territory.code, shaped.count())
    cached = _BASE_MAPS.get(key)
    if cached is not None:
        return cached
    edges = {}
    lats, lons = [], []
    for epci, shape in shaped.values_list("epci_siren", "shape"):
        for ring in _rings(shape):
            points = [(round(p[0], 4), round(p[1], 4)) for p in ring if len(p) >= 2]
            for a, b in zip(points, points[1:], strict=False):
                if a == b:
                    continue
                edges.setdefault((a, b) if a < b else (b, a), []).append(epci)
            lons.extend(p[0] for p in points)
            lats.extend(p[1] for p in points)
    if not edges:
        result = BaseMap(None, "", "", ())
    else:
        margin_lat = (max(lats) - min(lats)) * 0.03
        margin_lon = (max(lons) - min(lons)) * 0.03
        projection = Projection(min(lats) - margin_lat, max(lats) + margin_lat,
                                min(lons) - margin_lon, max(lons) + margin_lon)
        outline = [edge for edge, owners in edges.items() if len(owners) == 1]
        borders = [edge for edge, owners in edges.items() if len(owners) > 1 and len(set(owners)) > 1]
        towns = _towns(territory, projection)
        result = BaseMap(projection, _path(_chain(outline), projection), _path(_chain(borders), projection), towns)
    _BASE_MAPS.clear()  # one territory in practice: keep only the newest
    _BASE_MAPS[key] = result
    return result


TOWNS = 7
TOWN_SPACING_KM = 20


def _towns(territory, projection):
    """A few landmarks: the most populated communes, at least 20 km apart so their names do
    not overlap (Toulouse, not its five suburbs)."""
    chosen = []
    rows = (Commune.objects.filter(departement=territory.code, lat__isnull=False, population__isnull=False)
            .order_by("-population").values_list("name", "lat", "lon")[:200])
    for name, lat, lon in rows:
        if all(catalogue_search.haversine_km(lat, lon, other_lat, other_lon) >= TOWN_SPACING_KM
               for _n, other_lat, other_lon in chosen):
            chosen.append((name, lat, lon))
            if len(chosen) == TOWNS:
                break
    return tuple((*projection.point(lat, lon), name) for name, lat, lon in chosen)


def _spread(points, gap=18.0):
    """Markers closer than ``gap`` (actions placed near their commune's centre) moved out on a
    small spiral around their spot until free, so each number stays visible and clickable."""
    placed = []
    for x, y in points:
        k, nx, ny = 0, x, y
        while any((nx - px) ** 2 + (ny - py) ** 2 < gap * gap for px, py in placed) and k < 200:
            k += 1
            angle = k * 2.4  # golden angle: successive places never line up
            radius = gap * 0.6 * math.sqrt(k)
            nx, ny = x + radius * math.cos(angle), y + radius * math.sin(angle)
        placed.append((round(nx, 1), round(ny, 1)))
    return placed


def _fallback_projection(points):
    """Without a base map (communes without shapes): a box around the points shown."""
    lats = [lat for lat, _lon in points] or [43.6]
    lons = [lon for _lat, lon in points] or [1.44]
    pad_lat = max(0.05, (max(lats) - min(lats)) * 0.1)
    pad_lon = max(0.05, (max(lons) - min(lons)) * 0.1)
    return Projection(min(lats) - pad_lat, max(lats) + pad_lat, min(lons) - pad_lon, max(lons) + pad_lon)


def map_context(territory, markers, origin=None, radius_km=None):
    """What ``_map.html`` draws. ``markers``: ``[(number, lat, lon, title, url)]``."""
    base = base_map(territory)
    points = [(lat, lon) for _n, lat, lon, _t, _u in markers if lat is not None and lon is not None]
    if origin is not None and origin.lat is not None:
        points.append((origin.lat, origin.lon))
        if radius_km:  # the whole search circle in the frame
            lat_min, lat_max, lon_min, lon_max = catalogue_search.bounding_box(origin.lat, origin.lon, radius_km)
            points += [(lat_min, lon_min), (lat_max, lon_max)]
    projection = base.projection or _fallback_projection(points)
    inside = [m for m in markers if m[1] is not None and m[2] is not None and projection.contains(m[1], m[2])]
    positions = _spread([projection.point(lat, lon) for _n, lat, lon, _t, _u in inside])
    drawn = [
        {"number": number, "x": x, "y": y, "title": title, "url": url}
        for (number, _lat, _lon, title, url), (x, y) in zip(inside, positions, strict=True)
    ]
    outside = len(markers) - len(inside)
    origin_point = None
    if origin is not None and origin.lat is not None and projection.contains(origin.lat, origin.lon):
        x, y = projection.point(origin.lat, origin.lon)
        origin_point = {"x": x, "y": y, "rx": round(x - 7, 1), "ry": round(y - 7, 1), "name": origin.name,
                        "r": round(projection.km(radius_km), 1) if radius_km else None}
    return {
        "width": projection.width, "height": projection.height, "outline": base.outline, "borders": base.borders,
        "towns": base.towns, "markers": drawn, "origin": origin_point, "outside": outside,
    }


# --- Search page --------------------------------------------------------------------------------


@view_policy("catalogue.search", login=False)
def search(request):
    territory = page_territory(request)
    params, errors = catalogue_search.params_from_query(request.GET, territory)
    person = diagnostic = None
    prefilled = False
    if request.GET.get("personne"):
        person, _access = _person_for_search(request, request.GET["personne"])
        log_access(request, person, AccessLog.Section.DIAGNOSTIC, reason="recherche d'actions")
        if not request.GET.get("commune") and person.commune_id:
            params.commune = person.commune
        # Pre-fill from the diagnostic until the référent sends the form (``filtre=1``).
        if not request.GET.get("filtre") and not request.GET.getlist("thematique"):
            diagnostic, thematiques = diagnostic_thematiques(person)
            if thematiques:
                params.thematiques = thematiques
                prefilled = True

    result = catalogue_search.search(params)
    view = "carte" if request.GET.get("vue") == "carte" else "liste"
    page = catalogue_search.hits_page(result, request.GET.get("page"), PER_PAGE)
    labels = vocabulary_labels()
    groups = filter_groups(params, result.facets, labels)
    logged_in = request.user.is_authenticated
    membership = getattr(request, "membership", None)
    may_refer = person is not None and membership is not None and membership.role in policies.REFERRING_ROLES
    today = params.today
    person_query = f"?{urlencode({'personne': person.pk})}" if person is not None else ""

    items = []
    for number, (action, hit) in enumerate(page.object_list, start=page.start_index()):
        refer = optional_url("catalogue:referral_new", action.uid) if may_refer else ""
        items.append({
            "number": number, "action": action, "hit": hit, "distance": distance_label(hit),
            "url": reverse("catalogue:action_detail", args=[action.uid]) + person_query,
            "refer_url": refer + person_query if refer else "",
            "stale": action.needs_update(today),
            "type_label": action.get_type_display(), "kind_label": action.get_spie_kind_display(),
            "themes": [label_of(labels, "thematiques", t) for t in action.thematiques[:3]],
            "more_themes": max(0, len(action.thematiques) - 3),
        })

    query = request.GET.copy()
    for key in ("page", "vue"):
        query.pop(key, None)
    if prefilled:
        query.setlist("thematique", list(params.thematiques))
        query["filtre"] = "1"
    base_query = query.urlencode()
    context = {
        "params": params, "errors": errors, "result": result, "page": page, "items": items, "groups": groups,
        "view": view, "territory_obj": territory, "person": person,
        "person_label": short_name(person) if person is not None else "", "diagnostic": diagnostic,
        "prefilled": prefilled, "logged_in": logged_in, "base_query": base_query,
        "list_url": f"?{base_query}" if base_query else "?",
        "map_url": f"?{base_query}&vue=carte" if base_query else "?vue=carte",
        "page_query": f"{base_query}&vue={view}&" if base_query else f"vue={view}&",
        "origin_name": params.commune.name if params.commune is not None else "",
        "commune_value": request.GET.get("commune") or (params.commune.code_insee if params.commune else ""),
        "radius": f"{params.radius_km:g}", "badges": facet_badges(groups),
        "chosen_themes": [label_of(labels, "thematiques", t) if "--" in t
                          else label_of(labels, "categories_thematiques", t) for t in params.thematiques],
        "export_url": optional_url("catalogue:export"), "css": CSS,
    }
    if view == "carte":
        markers = [
            (item["number"], item["hit"].lat, item["hit"].lon,
             f"{item['number']}. {item['action'].name} — {item['distance']}", item["url"])
            for item in items if item["hit"].in_person
        ]
        context["map"] = map_context(territory, markers, result.origin, params.radius_km)
        context["in_person_items"] = [item for item in items if item["hit"].in_person]
        context["remote_items"] = [item for item in items if not item["hit"].in_person]
    template = "catalogue/_results.html" if request.htmx and not request.htmx.boosted else "catalogue/search.html"
    return render(request, template, context)


# --- Action sheet -----------------------------------------------------------------------------------


def _zone_labels(codes):
    """Readable names of an eligibility zone's codes (communes, EPCI, départements)."""
    codes = [str(c) for c in codes or ()]
    if not codes:
        return []
    communes = dict(Commune.objects.filter(code_insee__in=[c for c in codes if len(c) == 5])
                    .values_list("code_insee", "name"))
    epcis = dict(Commune.objects.filter(epci_siren__in=[c for c in codes if len(c) == 9]).order_by()
                 .values_list("epci_siren", "epci_name").distinct())
    departements = dict(Departement.objects.filter(code__in=[c for c in codes if len(c) in (2, 3)])
                        .values_list("code", "name"))
    labels = []
    for code in codes:
        if code in communes:
            labels.append(f"{communes[code]} ({code})")
        elif code in epcis:
            labels.append(epcis[code] or code)
        elif code in departements:
            labels.append(f"{departements[code]} ({code})")
        else:
            labels.append(code)
    return labels


@view_policy("catalogue.action_detail", login=False)
def action_detail(request, uid):
    action = get_object_or_404(
        Action.objects.select_related("structure", "structure__commune", "commune", "territory", "plan_item", "model"),
        uid=uid,
    )
    membership = getattr(request, "membership", None)
    can_manage = policies.can_manage_actions(membership, action.structure)
    if not action.is_visible and not can_manage:
        raise Http404("Cette action n'est pas publiée.")
    today = timezone.localdate()
    person_pk = request.GET.get("personne", "")
    person_query = f"?{urlencode({'personne': person_pk})}" if person_pk.isdigit() else ""
    refer_url = ""
    if membership is not None and membership.role in policies.REFERRING_ROLES and action.is_visible:
        refer_url = optional_url("catalogue:referral_new", action.uid)
    sessions = list(
        ActionSession.objects.filter(action=action, is_cancelled=False, starts_on__gte=today)
        .order_by("starts_on", "start_time", "id")[:30]
    )
    for session in sessions:
        session.open_now = session.is_open(today)
    labels = vocabulary_labels()
    point = None
    if action.is_in_person and action.lat is not None and action.lon is not None:
        point = map_context(action.territory, [(1, action.lat, action.lon, action.name, "")])
    context = {
        "action": action, "sessions": sessions, "can_see_contacts": policies.can_see_contacts(request.user),
        "can_manage": can_manage, "edit_url": optional_url("catalogue:action_edit", action.uid) if can_manage else "",
        "refer_url": refer_url + person_query if refer_url else "",
        "themes": [label_of(labels, "thematiques", t) for t in action.thematiques],
        "publics": [label_of(labels, "publics", p) for p in action.publics],
        "modes": [dict(ReceptionMode.choices).get(m, m) for m in action.reception_modes],
        "mobilisation": [dict(MobilisationMode.choices).get(m, m) for m in action.mobilisation_modes],
        "mobilisable_by": [dict(Mobiliser.choices).get(m, m) for m in action.mobilisable_by],
        "axis": dict(SpieAxis.choices).get(action.spie_axis, ""),
        "zone": _zone_labels(action.eligibility_zone), "stale": action.needs_update(today),
        "map": point, "back_url": reverse("catalogue:search") + person_query, "css": CSS,
    }
    return render(request, "catalogue/action_detail.html", context)


urlpatterns = [
    path("", search, name="search"),
    path("actions/<uuid:uid>/", action_detail, name="action_detail"),
]
