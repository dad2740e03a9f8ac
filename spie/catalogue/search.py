"""Search of the catalogue (by need, place, public, type, kind, fees, dates, places, keywords).

Search keys are derived from each action on save (:func:`derive_keys`), so filters are plain,
portable SQL on SQLite and PostgreSQL (DESIGN.md §4):

- ``search_text``: Snowball French stems of name (x3), summary (x2), description and structure
  name, space-separated with a leading and trailing space (the repetition *is* the weighting:
  a word of the name counts three times when ranking);
- ``theme_key`` / ``public_key`` / ``zone_key``: ``|code|code|`` lists for ``LIKE '%|code|%'``;
- ``is_remote`` / ``is_in_person`` from the reception modes; ``lat``/``lon`` from the commune
  when the action has none of its own.

How a search runs (:func:`search`): one SQL query applies every filter that is not counted in a
facet (territory, visibility, eligibility zone, radius, keywords as ``LIKE`` on stems, places
left, an open session in the dates) and reads ten short columns per row (``values_list``
compiled by the ORM, read from the cursor); Python then evaluates the facet filters
(thématique, public, type, kind, fees, reception mode) once per row, so the counts of each
filter among the results matching all the *other* filters come for free, ranks, and mixes
in-person and remote results two to one. No model instance is built before :func:`hits_page`
fetches the 20 rows of the page shown, in one query. At 5,000 actions the search takes about
18 ms at the median on SQLite and PostgreSQL alike (``make bench ONLY=catalogue``).

Ranking: relevance (keywords weighted by where they appear, thématiques matched, public
matched), then the distance band (0–5, 5–15, 15–30, 30+ km), then a rotation key that changes
every day, so equal results do not always show the same providers first (DORA, DESIGN.md §6).
"""

import datetime
import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from spie.core.text import fold_words

from .text import query_terms, terms

VOCABULARIES_FILE = Path(__file__).resolve().parent.parent / "referentials" / "data" / "data_inclusion_v1.json"

IN_PERSON = "en-presentiel"
REMOTE = "a-distance"
EVERYONE = "tous-publics"
MAX_RADIUS_KM = 200
MAX_QUERY_LENGTH = 200
DISTANCE_BANDS = (5, 15, 30)  # km: bands 0–5, 5–15, 15–30, 30+
EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = 111.195
# Relevance weights: a keyword occurrence (name words occur 3 times, summary words twice), a
# thématique asked for and offered, a public asked for and named by the action.
KEYWORD_CAP = 10  # occurrences counted per term: a long description cannot bury a good title
THEME_WEIGHT = 3
PUBLIC_WEIGHT = 2
FACETS = ("thematiques", "publics", "types", "kinds", "fees", "modes")


def _pipe(values):
    values = [str(v) for v in values or () if v]
    return "|" + "|".join(values) + "|" if values else ""


def derive_keys(action):
    """Fill the derived search fields of ``action`` (called by ``Action.save``)."""
    words = []
    words += terms(action.name) * 3
    words += terms(action.summary) * 2
    words += terms(action.description)
    words += terms(action.structure.name if action.structure_id else "")
    action.search_text = " " + " ".join(words) + " " if words else ""
    action.theme_key = _pipe(action.thematiques)
    action.public_key = _pipe(action.publics)
    action.zone_key = _pipe(action.eligibility_zone)
    modes = set(action.reception_modes or ())
    action.is_remote = "a-distance" in modes
    action.is_in_person = "en-presentiel" in modes or not modes
    if (action.lat is None or action.lon is None) and action.commune_id:
        commune = action.commune
        action.lat, action.lon = commune.lat, commune.lon


# --- Vocabularies (validation of the parameters) ----------------------------------------------


@lru_cache(maxsize=1)
def vocabularies():
    """``{vocabulary: frozenset(values)}`` of the data·inclusion file kept in the repository
    (the same file ``referentials.DataInclusionTerm`` is loaded from): validating a parameter
    costs no query."""
    document = json.loads(VOCABULARIES_FILE.read_text(encoding="utf-8"))
    return {
        name: frozenset(t["value"] for t in values)
        for name, values in document.items()
        if isinstance(values, list) and all(isinstance(t, dict) and "value" in t for t in values)
    }


def known_thematiques():
    vocab = vocabularies()
    return vocab.get("thematiques", frozenset()) | vocab.get("categories_thematiques", frozenset())


def known_publics():
    return vocabularies().get("publics", frozenset())


# --- Parameters ----------------------------------------------------------------------------------


@dataclass
class SearchParams:
    """What a search asks. ``commune`` is the origin (distance and eligibility zone);
    ``today`` is the day of the rotation (and of "open session"), today by default."""

    territory: object
    q: str = ""
    commune: object = None
    radius_km: float | None = None
    thematiques: tuple = ()
    publics: tuple = ()
    types: tuple = ()
    kinds: tuple = ()
    fees: str = ""
    mode: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    places_only: bool = False
    today: datetime.date | None = None

    def __post_init__(self):
        if self.radius_km is None:
            self.radius_km = float(self.territory.setting("catalogue_radius_km"))
        if self.today is None:
            self.today = timezone.localdate()
        for name in ("thematiques", "publics", "types", "kinds"):
            setattr(self, name, tuple(dict.fromkeys(v for v in getattr(self, name) or () if v)))


TRUE_VALUES = {"1", "on", "oui", "true", "yes"}
MODE_ALIASES = {
    "en-presentiel": IN_PERSON, "presentiel": IN_PERSON, "en presentiel": IN_PERSON,
    "a-distance": REMOTE, "distance": REMOTE, "a distance": REMOTE,
}


def parse_date(text):
    """A date from ``<input type=date>`` (2025-03-31) or typed in French (31/03/2025)."""
    text = (text or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _choices(values, allowed, message, errors):
    """The known values among ``values``; ``message`` (with ``{}`` for the value) for the others."""
    kept = []
    for value in values:
        value = (value or "").strip()
        if not value:
            continue
        if value in allowed:
            kept.append(value)
        else:
            errors.append(message.format(value[:60]) + " : filtre ignoré.")
    return tuple(dict.fromkeys(kept))


def params_from_query(querydict, territory, *, today=None):
    """``(SearchParams, errors)`` from the query string of the search page or API.

    A bad value is reported in French and dropped; the rest of the search still runs.
    Names of the parameters: ``q``, ``commune`` (INSEE code, postal code or name), ``rayon``
    (km), ``thematique``, ``public``, ``type``, ``kind``, ``frais``, ``distance``, ``du``,
    ``au``, ``places``.
    """
    from spie.referentials.selectors import AmbiguousCommune, CommuneNotFound, resolve_commune

    from .models import Fees, ServiceType, SpieKind

    errors = []
    q = " ".join((querydict.get("q") or "").split())
    if len(q) > MAX_QUERY_LENGTH:
        errors.append(f"Les mots-clés sont limités à {MAX_QUERY_LENGTH} caractères : la fin a été ignorée.")
        q = q[:MAX_QUERY_LENGTH]

    commune = None
    commune_text = (querydict.get("commune") or "").strip()
    if commune_text:
        try:
            commune = resolve_commune(commune_text[:120], territory=territory.code)
        except AmbiguousCommune as exc:
            errors.append(
                f"Plusieurs communes correspondent à « {commune_text[:60]} » ("
                + ", ".join(exc.labels) + ") : précisez le code postal ou le code INSEE."
            )
        except CommuneNotFound:
            errors.append(f"Commune « {commune_text[:60]} » introuvable : la distance n'est pas prise en compte.")

    radius = None
    radius_text = (querydict.get("rayon") or "").strip().replace(",", ".")
    if radius_text:
        try:
            radius = float(radius_text)
        except ValueError:
            radius = None
        if radius is None or not math.isfinite(radius) or not 1 <= radius <= MAX_RADIUS_KM:
            errors.append(
                f"Le rayon doit être un nombre de kilomètres entre 1 et {MAX_RADIUS_KM} : "
                f"rayon par défaut de {territory.setting('catalogue_radius_km')} km appliqué."
            )
            radius = None

    thematiques = _choices(querydict.getlist("thematique"), known_thematiques(), "Thématique « {} » inconnue", errors)
    publics = _choices(querydict.getlist("public"), known_publics(), "Public « {} » inconnu", errors)
    types = _choices(querydict.getlist("type"), set(ServiceType.values), "Type « {} » inconnu", errors)
    kinds = _choices(querydict.getlist("kind"), set(SpieKind.values), "Type d'action SPIE « {} » inconnu", errors)

    fees = (querydict.get("frais") or "").strip()
    if fees and fees not in Fees.values:
        errors.append(f"Frais « {fees[:30]} » inconnus : choisissez gratuit ou payant.")
        fees = ""

    mode = ""
    mode_text = fold_words(querydict.get("distance") or "")
    if mode_text:
        mode = MODE_ALIASES.get(mode_text) or MODE_ALIASES.get(mode_text.replace(" ", "-"), "")
        if not mode:
            errors.append("Mode d'accueil inconnu : choisissez « en présentiel » ou « à distance ».")

    dates = {}
    for key, label in (("du", "de début"), ("au", "de fin")):
        text = (querydict.get(key) or "").strip()
        dates[key] = parse_date(text) if text else None
        if text and dates[key] is None:
            errors.append(f"Date {label} « {text[:20]} » non reconnue (format attendu : JJ/MM/AAAA).")
    if dates["du"] and dates["au"] and dates["du"] > dates["au"]:
        errors.append("La date de début est après la date de fin : les dates ont été inversées.")
        dates["du"], dates["au"] = dates["au"], dates["du"]

    params = SearchParams(
        territory=territory, q=q, commune=commune, radius_km=radius, thematiques=thematiques, publics=publics,
        types=types, kinds=kinds, fees=fees, mode=mode, date_from=dates["du"], date_to=dates["au"],
        places_only=(querydict.get("places") or "").strip().lower() in TRUE_VALUES, today=today,
    )
    return params, errors


# --- Results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One result: the action's key, its distance from the origin (None when remote or without
    origin), its relevance and the list it belongs to (in person or remote). ``lat``/``lon``
    are kept for the map."""

    action_id: int
    distance_km: float | None
    score: float
    in_person: bool
    lat: float | None = None
    lon: float | None = None

    @property
    def band(self):
        return distance_band(self.distance_km)


@dataclass
class SearchResult:
    hits: list
    total: int
    facets: dict
    params: SearchParams | None = None
    origin: object = None
    in_person_total: int = 0
    remote_total: int = 0


def distance_band(distance_km):
    if distance_km is None:
        return 0
    for band, limit in enumerate(DISTANCE_BANDS):
        if distance_km < limit:
            return band
    return len(DISTANCE_BANDS)


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat, lon, radius_km):
    """``(lat_min, lat_max, lon_min, lon_max)`` containing the circle: a prefilter for SQL."""
    dlat = radius_km / KM_PER_DEGREE
    dlon = radius_km / (KM_PER_DEGREE * max(0.01, math.cos(math.radians(lat))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


_MASK = (1 << 64) - 1


def day_seed(day):
    """A 64-bit number drawn from the day: the rotation changes every day, is stable within it."""
    return int.from_bytes(hashlib.blake2b(f"spie-rotation:{day.isoformat()}".encode(), digest_size=8).digest(), "big")


def rotation_key(action_id, seed):
    """A stable hash of (action id, day) — splitmix64 of the id mixed with the day's seed:
    cheap enough for thousands of rows per search, well spread so equal results shuffle."""
    z = (action_id * 0x9E3779B97F4A7C15 + seed) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def mix(in_person, remote, ratio=2):
    """Two in-person results, then one remote, and so on; when a list runs out the other goes on."""
    mixed = []
    i = j = 0
    while i < len(in_person) or j < len(remote):
        for _ in range(ratio):
            if i < len(in_person):
                mixed.append(in_person[i])
                i += 1
        if j < len(remote):
            mixed.append(remote[j])
            j += 1
    return mixed


def visible_q(today):
    """Published, or suspended until a day already past (same rule as ``Action.is_visible``)."""
    from .models import ActionStatus

    return Q(status=ActionStatus.PUBLISHED) | Q(status=ActionStatus.SUSPENDED, suspended_until__lt=today)


def _split(key):
    return tuple(key[1:-1].split("|")) if key else ()


def _theme_matcher(wanted):
    """A function ``themes -> number of wanted thématiques matched``: a category matches its
    sub-thématiques (``mobilite`` matches ``mobilite--preparer-un-permis``)."""
    exact = {w for w in wanted if "--" in w}
    categories = {w for w in wanted if "--" not in w}

    def matched(themes):
        n = 0
        for theme in themes:
            if theme in exact or theme in categories or theme.split("--", 1)[0] in categories:
                n += 1
        return n

    return matched


_COLUMNS = ("id", "lat", "lon", "near", "is_remote", "theme_key", "public_key", "type", "spie_kind", "fees")


def _candidates(params, keyword_terms):
    """The SQL part: every filter that is not counted in a facet (territory, visibility, zone,
    radius, keywords, places, dates); a few columns per row, never the model instances.

    The radius is tested in SQL with plain arithmetic: the squared distance on the tangent
    plane at the origin (``dx² + dy²``, with ``cos(latitude)`` computed here), which differs
    from the great-circle distance by far less than a kilometre at these ranges, on any
    database. ``near`` is true for an in-person action within the radius. The reception mode
    itself is a facet: it is applied in Python.
    """
    from django.db.models import BooleanField, Case, ExpressionWrapper, FloatField, Value, When

    from .models import Action, ActionSession

    today = params.today
    qs = Action.objects.filter(territory=params.territory).filter(visible_q(today))
    origin = params.commune
    if origin is not None:
        codes = [c for c in (origin.code_insee, origin.epci_siren, origin.departement) if c]
        zone = Q(zone_key="")
        for code in codes:
            zone |= Q(zone_key__contains=f"|{code}|")
        qs = qs.filter(zone)
    if origin is not None and origin.lat is not None and origin.lon is not None:
        radius = params.radius_km
        lat_min, lat_max, lon_min, lon_max = bounding_box(origin.lat, origin.lon, radius)
        ky = KM_PER_DEGREE
        kx = KM_PER_DEGREE * math.cos(math.radians(origin.lat))
        dy = (F("lat") - Value(origin.lat)) * Value(ky)
        dx = (F("lon") - Value(origin.lon)) * Value(kx)
        qs = qs.alias(d2=ExpressionWrapper(dx * dx + dy * dy, output_field=FloatField())).annotate(
            near=Case(
                When(Q(is_in_person=True, lat__gte=lat_min, lat__lte=lat_max, lon__gte=lon_min, lon__lte=lon_max,
                       d2__lte=radius * radius), then=Value(True)),
                default=Value(False), output_field=BooleanField(),
            )
        ).filter(Q(near=True) | Q(is_remote=True))
    else:
        qs = qs.annotate(near=F("is_in_person"))
    for term in keyword_terms[:-1]:
        qs = qs.filter(search_text__contains=f" {term} ")
    if keyword_terms:
        qs = qs.filter(search_text__contains=f" {keyword_terms[-1]}")
    if params.places_only:
        qs = qs.filter(Q(places_left_total__isnull=True) | Q(places_left_total__gt=0))
    if params.date_from or params.date_to:
        sessions = ActionSession.objects.filter(
            action_id=OuterRef("pk"), is_cancelled=False, places_taken__lt=F("capacity"),
            starts_on__gte=max(params.date_from or today, today),
        ).filter(Q(registration_deadline__gte=today) | Q(registration_deadline__isnull=True))
        if params.date_to:
            sessions = sessions.filter(starts_on__lte=params.date_to)
        qs = qs.filter(Exists(sessions))
    columns = _COLUMNS + (("search_text",) if keyword_terms else ())
    return qs.order_by().values_list(*columns)


def _fetch(queryset):
    """The rows of a ``values_list`` query, read straight from the cursor.

    The SQL is the ORM's (portable); only the per-value converters are skipped, a quarter of
    the time at 5,000 rows. None of these columns needs one: numbers and text come as they
    are, booleans are only tested for truth (SQLite gives 0/1).
    """
    try:
        sql, sql_params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, sql_params)
        return cursor.fetchall()


def _keyword_score(text, keyword_terms):
    score = 0.0
    last = len(keyword_terms) - 1
    for index, term in enumerate(keyword_terms):
        exact = text.count(f" {term} ")
        if index == last:
            prefixed = text.count(f" {term}") - exact  # "atel" typed, "atelier" stored: half a point
            score += min(KEYWORD_CAP, exact + prefixed * 0.5)
        else:
            score += min(KEYWORD_CAP, exact)
    return score


def search(params):
    """Run the search described by ``params``: ranked, mixed hits and facet counts.

    Each row gets one flag per facet filter (does it pass?). A row failing none is a result
    and counts in every facet; a row failing exactly one counts only in that filter's facet
    (the counts are "among the results of all the other filters"); the others are dropped.
    The theme and public keys repeat a lot, so their parsing is cached per search and their
    facet counts are tallied per key, then spread over the values once at the end.
    """
    keyword_terms = query_terms(params.q)
    origin = params.commune
    has_origin = origin is not None and origin.lat is not None and origin.lon is not None
    seed = day_seed(params.today)
    wanted_themes = params.thematiques
    theme_matcher = _theme_matcher(wanted_themes)
    wanted_publics = set(params.publics)
    public_fallback = bool(wanted_publics - {EVERYONE})  # a universal action matches these
    wanted_types = set(params.types)
    wanted_kinds = set(params.kinds)
    wanted_fees = params.fees
    wanted_mode = params.mode

    theme_info = {}  # theme_key -> number of wanted thématiques it matches
    public_info = {}  # public_key -> (universal, names a wanted public)
    theme_keys, public_keys = {}, {}  # facet tallies per key, spread over values at the end
    type_f, kind_f, fees_f, mode_f = {}, {}, {}, {}
    in_person, remote = [], []

    for row in _fetch(_candidates(params, keyword_terms)):
        pk, lat, lon, near, is_remote, theme_key, public_key, type_, kind, fees = row[:10]
        matched = theme_info.get(theme_key)
        if matched is None:
            matched = theme_info[theme_key] = theme_matcher(_split(theme_key)) if wanted_themes else 0
        public = public_info.get(public_key)
        if public is None:
            publics = _split(public_key)
            universal = not publics or EVERYONE in publics
            public = public_info[public_key] = (universal, not wanted_publics.isdisjoint(publics))
        universal, public_specific = public
        ok_theme = not wanted_themes or matched > 0
        # "tous-publics" (or no public named) matches everyone; asking for "tous-publics"
        # itself finds the actions that say so.
        ok_public = not wanted_publics or public_specific or (universal and public_fallback)
        ok_type = not wanted_types or type_ in wanted_types
        ok_kind = not wanted_kinds or kind in wanted_kinds
        ok_fees = not wanted_fees or fees == wanted_fees
        in_person_ok = bool(near)  # with an origin: within the radius (so with coordinates)
        if not in_person_ok and not is_remote:
            continue
        ok_mode = not wanted_mode or (in_person_ok if wanted_mode == IN_PERSON else bool(is_remote))
        failing = (not ok_theme) + (not ok_public) + (not ok_type) + (not ok_kind) + (not ok_fees) + (not ok_mode)
        if failing > 1:
            continue
        if failing == 0 or not ok_theme:
            theme_keys[theme_key] = theme_keys.get(theme_key, 0) + 1
        if failing == 0 or not ok_public:
            public_keys[public_key] = public_keys.get(public_key, 0) + 1
        if (failing == 0 or not ok_type) and type_:
            type_f[type_] = type_f.get(type_, 0) + 1
        if (failing == 0 or not ok_kind) and kind:
            kind_f[kind] = kind_f.get(kind, 0) + 1
        if (failing == 0 or not ok_fees) and fees:
            fees_f[fees] = fees_f.get(fees, 0) + 1
        if failing == 0 or not ok_mode:
            if in_person_ok:
                mode_f[IN_PERSON] = mode_f.get(IN_PERSON, 0) + 1
            if is_remote:
                mode_f[REMOTE] = mode_f.get(REMOTE, 0) + 1
        if failing:
            continue

        score = THEME_WEIGHT * matched + (PUBLIC_WEIGHT if public_specific else 0)
        if keyword_terms:
            score += _keyword_score(row[10], keyword_terms)
        listed_in_person = in_person_ok and wanted_mode != REMOTE
        distance = None
        if listed_in_person and has_origin:
            distance = round(haversine_km(origin.lat, origin.lon, lat, lon), 1)
        hit = Hit(pk, distance, float(score), listed_in_person, lat, lon)
        key = (-score, distance_band(distance), rotation_key(pk, seed))
        (in_person if listed_in_person else remote).append((key, hit))

    in_person.sort(key=_first)
    remote.sort(key=_first)
    hits = mix([hit for _k, hit in in_person], [hit for _k, hit in remote])
    facets = {
        "thematiques": _theme_counts(theme_keys), "publics": _public_counts(public_keys), "types": type_f,
        "kinds": kind_f, "fees": fees_f, "modes": mode_f,
    }
    return SearchResult(
        hits=hits, total=len(hits), facets=facets, params=params, origin=origin if has_origin else None,
        in_person_total=len(in_person), remote_total=len(remote),
    )


def _theme_counts(per_key):
    """``{thématique or category: actions}`` from the tallies per ``theme_key``; an action
    counts once for a category however many of its sub-thématiques it has."""
    counts = {}
    for key, n in per_key.items():
        themes = _split(key)
        categories = {theme.split("--", 1)[0] for theme in themes}
        for value in set(themes) | categories:
            counts[value] = counts.get(value, 0) + n
    return counts


def _public_counts(per_key):
    """``{public: actions}``; an action open to everyone ("tous-publics", or no public named)
    counts for every public, since choosing any of them finds it."""
    counts = {}
    universal = 0
    for key, n in per_key.items():
        publics = _split(key)
        if not publics or EVERYONE in publics:
            universal += n
            if publics:
                counts[EVERYONE] = counts.get(EVERYONE, 0) + n
        else:
            for value in set(publics):
                counts[value] = counts.get(value, 0) + n
    if universal:
        for value in known_publics() | set(counts):
            if value != EVERYONE:
                counts[value] = counts.get(value, 0) + universal
    return counts


def _first(pair):
    return pair[0]


def hits_page(result, page_number, per_page=20):
    """The page ``page_number`` of ``result`` (clamped to the pages there are), whose items are
    ``(Action, Hit)``; the actions are fetched in one query with their structure and commune."""
    from .models import Action

    page = Paginator(result.hits, per_page).get_page(page_number)
    hits = list(page.object_list)
    actions = Action.objects.select_related("structure", "commune", "territory").in_bulk(
        [hit.action_id for hit in hits]
    )
    page.object_list = [(actions[hit.action_id], hit) for hit in hits if hit.action_id in actions]
    return page
