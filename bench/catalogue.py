"""Worker of ``bench/run.py``: searching a catalogue of 5,000 actions (issue 5 §5).

Runs against the database its environment designates (``SPIE_VAR_DIR`` for SQLite or
``DATABASE_URL``), already migrated and seeded by ``seed_demo`` (100,000 persons in the run).

1. Setup, not timed: the demo catalogue is topped up to ``--actions`` actions (5,000) with
   ``spie.core.demo_catalogue.seed_catalogue``: the demo structures' actions across every
   thématique and kind, on communes of the 31 (coordinates read once from the communes), about
   a quarter offered remotely, with their dated sessions; rows are bulk-inserted with their
   search keys filled by ``search.derive_keys``. Running it again adds nothing.
2. ``--queries`` (200) realistic searches, drawn once from a fixed seed: an origin commune of
   the 31 (weighted by population: people live where people live), a 50 km radius, one or two
   thématiques among those the catalogue offers, keywords one time in three, "places left
   only" one time in three. Each is timed through ``search.search`` + ``search.hits_page``
   (page 1, its 20 actions read with their structure and commune): the real work of the page
   without the template.
3. The same queries through a plain ORM baseline: ``Action.objects.filter`` on the territory,
   visibility, ``thematiques__icontains`` and keywords ``icontains`` on name/summary/description,
   full objects loaded with their structure and commune, eligibility zone and haversine
   distance in Python, sorted by distance: what one would write without the search keys.
4. ``--page-requests`` (50) GETs of the whole page (``/catalogue/?…``, template included,
   anonymous) for the record.

Progress goes to stderr; the result is one line ``BENCH_RESULT {json}`` on stdout.

    python bench/catalogue.py --label sqlite [--actions 5000] [--queries 200] [--warmup 20]
"""

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

from common import log, percentile  # bench/ is on sys.path (scripts run as python bench/<name>.py)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spie.settings")

TERRITORY = "31"
RADIUS_KM = 50
KEYWORDS = (
    "atelier", "permis", "CV", "numérique", "entretien d'embauche", "garde d'enfants", "mobilité", "formation",
    "immersion", "logement", "visite entreprise", "confiance", "français", "webinaire", "accompagnement",
)


class BenchError(Exception):
    pass


def summary(timings):
    return {"n": len(timings), "p50": percentile(timings, 0.5), "p95": percentile(timings, 0.95), "max": max(timings)}


def draw_queries(territory, count, seed):
    """``count`` query dicts (what the page would receive), from a fixed seed."""
    from spie.catalogue.models import Action
    from spie.referentials.models import Commune

    rng = random.Random(seed)
    communes = list(
        Commune.objects.filter(departement=TERRITORY, lat__isnull=False, population__isnull=False)
        .order_by("code_insee").values_list("code_insee", "population")
    )
    if not communes:
        raise BenchError("aucune commune du 31 avec coordonnées : load_referentials a-t-il tourné ?")
    codes = [code for code, _p in communes]
    weights = [max(1, population) for _c, population in communes]
    themes = Counter()
    for values in Action.objects.filter(territory=territory).values_list("thematiques", flat=True).iterator():
        themes.update(values or ())
    theme_values = sorted(themes)
    theme_weights = [themes[value] for value in theme_values]
    queries = []
    for _ in range(count):
        query = {"commune": rng.choices(codes, weights)[0], "rayon": str(RADIUS_KM)}
        query["thematique"] = sorted(set(rng.choices(theme_values, theme_weights, k=rng.choice((1, 2)))))
        if rng.random() < 1 / 3:
            query["q"] = rng.choice(KEYWORDS)
        if rng.random() < 1 / 3:
            query["places"] = "1"
        queries.append(query)
    return queries


def querydict(query):
    from django.http import QueryDict

    result = QueryDict(mutable=True)
    for key, value in query.items():
        if isinstance(value, list):
            result.setlist(key, value)
        else:
            result[key] = value
    return result


def baseline(params, today):
    """The plain ORM way: filter with ``icontains``, load full objects, distance in Python."""
    from django.db.models import Q

    from spie.catalogue.models import Action
    from spie.catalogue.search import haversine_km, visible_q

    qs = Action.objects.filter(territory=params.territory).filter(visible_q(today)).select_related(
        "structure", "commune"
    )
    if params.thematiques:
        themes = Q()
        for value in params.thematiques:
            themes |= Q(thematiques__icontains=value)
        qs = qs.filter(themes)
    for word in params.q.split():
        qs = qs.filter(Q(name__icontains=word) | Q(summary__icontains=word) | Q(description__icontains=word))
    if params.places_only:
        qs = qs.filter(Q(places_left_total__isnull=True) | Q(places_left_total__gt=0))
    origin = params.commune
    codes = {origin.code_insee, origin.epci_siren, origin.departement}
    near, remote = [], []
    for action in qs:
        if action.eligibility_zone and not codes.intersection(action.eligibility_zone):
            continue
        if "en-presentiel" in (action.reception_modes or ["en-presentiel"]) and action.lat is not None:
            distance = haversine_km(origin.lat, origin.lon, action.lat, action.lon)
            if distance <= params.radius_km:
                near.append((distance, action.name, action))
                continue
        if "a-distance" in (action.reception_modes or ()):
            remote.append((0, action.name, action))
    near.sort(key=lambda item: (item[0], item[1]))
    remote.sort(key=lambda item: item[1])
    ranked = near + remote
    return [(a.name, a.structure.name, a.commune.name if a.commune else "") for _d, _n, a in ranked[:20]], len(ranked)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--actions", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--page-requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from spie.catalogue import search
    from spie.catalogue.models import Action, ActionSession
    from spie.network.models import Territory
    from spie.people.models import Person

    territory = Territory.objects.filter(code=TERRITORY).first()
    if territory is None:
        raise BenchError("territoire 31 absent : lancez seed_demo avant le banc d'essai.")
    persons = Person.objects.count()
    before = Action.objects.filter(territory=territory).count()
    started = time.monotonic()
    if before < args.actions:
        from spie.core.demo_catalogue import seed_catalogue

        seed_catalogue(territory, count=args.actions, seed=args.seed, log=log)
    seed_s = time.monotonic() - started
    actions = Action.objects.filter(territory=territory)
    total = actions.count()
    if total < args.actions:
        raise BenchError(f"{total} actions seulement après le remplissage (attendu : {args.actions})")
    visible = actions.filter(search.visible_q(timezone.localdate())).count()
    remote_share = actions.filter(is_remote=True).count() / total
    sessions = ActionSession.objects.filter(action__territory=territory).count()
    log(f"    [{args.label}] {persons} personnes, {total} actions ({visible} visibles, {remote_share:.0%} à distance, "
        f"{sessions} sessions) ; remplissage {seed_s:.1f} s")

    today = timezone.localdate()
    queries = draw_queries(territory, args.queries + args.warmup, args.seed)
    prepared = []
    for query in queries:
        params, errors = search.params_from_query(querydict(query), territory, today=today)
        if errors or params.commune is None:
            raise BenchError(f"requête du banc refusée : {query} → {errors}")
        prepared.append(params)

    def run_search(params):
        result = search.search(params)
        page = search.hits_page(result, 1)
        rows = [(a.name, a.structure.name, a.commune.name if a.commune else "") for a, _hit in page.object_list]
        return rows, result.total

    timings, base_timings, totals, base_totals, keyword_timings = [], [], [], [], []
    for i, params in enumerate(prepared):
        t0 = time.perf_counter()
        _rows, n = run_search(params)
        elapsed = (time.perf_counter() - t0) * 1000
        if i >= args.warmup:
            timings.append(elapsed)
            totals.append(n)
            if params.q:
                keyword_timings.append(elapsed)
    for i, params in enumerate(prepared):
        t0 = time.perf_counter()
        _rows, n = baseline(params, today)
        elapsed = (time.perf_counter() - t0) * 1000
        if i >= args.warmup:
            base_timings.append(elapsed)
            base_totals.append(n)

    page_timings = []
    client = Client()
    from django.utils.http import urlencode

    for i, query in enumerate(queries[: args.page_requests + 5]):
        url = "/catalogue/?" + urlencode(query, doseq=True)
        t0 = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise BenchError(f"GET {url} a répondu {response.status_code}")
        if i >= 5:
            page_timings.append(elapsed)

    result = {
        "label": args.label, "vendor": connection.vendor, "persons": persons, "actions": total, "visible": visible,
        "remote_share": remote_share, "sessions": sessions, "seed_s": seed_s,
        "search": summary(timings), "baseline": summary(base_timings), "page": summary(page_timings),
        "keywords": summary(keyword_timings) if keyword_timings else None,
        "mean_results": sum(totals) / len(totals), "mean_baseline_results": sum(base_totals) / len(base_totals),
        "empty_results": sum(1 for n in totals if n == 0),
    }
    log(
        f"    [{args.label}] recherche p50 {result['search']['p50']:.1f} ms, p95 {result['search']['p95']:.1f} ms ; "
        f"ORM simple p50 {result['baseline']['p50']:.1f} ms, p95 {result['baseline']['p95']:.1f} ms ; "
        f"page p50 {result['page']['p50']:.1f} ms"
    )
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        log(f"ÉCHEC du banc d'essai du catalogue : {exc}")
        sys.exit(2)
