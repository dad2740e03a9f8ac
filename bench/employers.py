"""Worker of ``bench/run.py``: the matching engine through Django (issue 6), and its pages.

Runs against the database its environment designates (``SPIE_VAR_DIR`` for SQLite or
``DATABASE_URL``), already migrated and seeded by ``seed_demo`` (which seeds the demo employer
side: companies, about 200 openings, profiles for ~70 % of the persons).

1. Setup, not timed: exactly ``--persons`` (20,000) active job-search profiles in the territory
   (profiles added with ``demo_employers.seed_profiles`` when there are fewer, the ones beyond
   deactivated when there are more: the demo référente's persons are kept first) and at least
   ``--openings`` (5,000) open openings (``demo_employers.seed_openings`` over the demo companies,
   consistent with their sector).
2. ``matching_adapter.recompute_territory`` end to end (arrays from the database, the engine,
   the ``Proposal`` rows replaced in bulk, the ``MatchRun``), twice (the second run, on warm
   caches, is the figure; both are printed). The engine's own time is measured inside the same
   runs (``recompute_all`` wrapped with a timer), so database loading and storing = total - engine.
3. Baseline for the storing: ``Proposal.save()`` row by row, timed on a sample of 2,000 rows (in a
   transaction rolled back) and scaled to the number of rows of the run (the output says so).
4. Pages with Django's test client (``SPIE_DEMO_SKIP_2FA=1``): a person's job search
   (``employers:jobsearch``) of persons of the demo référente's caseload with a profile, and the
   candidates of an opening (``employers:candidates``) as the demo référente (named) and as the
   demo company's user (anonymous profiles, its own openings).

Progress goes to stderr; the result is one line ``BENCH_RESULT {json}`` on stdout.

    python bench/employers.py --label sqlite [--persons 20000] [--openings 5000] [--requests 100]
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

from common import log, percentile  # bench/ is on sys.path (scripts run as python bench/<name>.py)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spie.settings")

TERRITORY = "31"
BACKEND = "django.contrib.auth.backends.ModelBackend"
SAVE_SAMPLE = 2000


class BenchError(Exception):
    pass


def summary(timings, url):
    return {"n": len(timings), "p50": percentile(timings, 0.5), "p95": percentile(timings, 0.95),
            "max": max(timings), "url": url}


def prepare(territory, args, label):
    """Exactly ``args.persons`` active profiles and at least ``args.openings`` open openings."""
    from django.db import transaction
    from django.utils import timezone

    from spie.core import demo_employers
    from spie.employers.models import Company, JobOpening, JobSearchProfile
    from spie.people.models import FollowUpMembership, Person

    rng = random.Random(f"{args.seed}-bench-employers")
    today = timezone.localdate()
    if not Company.objects.filter(territory=territory).exists():
        log(f"    [{label}] aucune entreprise : seed_employers (sans calcul)…")
        demo_employers.seed_employers(territory, seed=args.seed, log=log, recompute=False)
    live = JobSearchProfile.objects.filter(person__territory=territory).exclude(person__status=Person.Status.EXITED)
    with transaction.atomic():
        missing = args.persons - live.count()
        if missing > 0:
            persons = list(
                Person.objects.filter(territory=territory, job_search__isnull=True)
                .exclude(status=Person.Status.EXITED).order_by("pk")
                .values("pk", "commune_id", "driving_licence", "has_vehicle", "children_birth_years", "birth_date",
                        "created_by_id")[:missing]
            )
            log(f"    [{label}] {len(persons)} profils de recherche d'emploi ajoutés…")
            demo_employers.seed_profiles(territory, rng=rng, today=today, share=1.0, persons=persons)
        # The demo référente's persons first, then by pk: the first ``persons`` profiles are active.
        referente = set(demo_employers._referente_persons(territory))
        rows = list(live.order_by("pk").values_list("pk", "person_id"))
        rows.sort(key=lambda row: (row[1] not in referente, row[0]))
        keep = [pk for pk, _ in rows[:args.persons]]
        drop = [pk for pk, _ in rows[args.persons:]]
        for start in range(0, len(keep), 5000):
            JobSearchProfile.objects.filter(pk__in=keep[start:start + 5000]).update(is_active=True)
        for start in range(0, len(drop), 5000):
            JobSearchProfile.objects.filter(pk__in=drop[start:start + 5000]).update(is_active=False)
        open_now = JobOpening.objects.filter(territory=territory, status="open").count()
        if open_now < args.openings:
            companies = demo_employers.company_sectors(territory)
            if not companies:
                raise BenchError("aucune entreprise de démonstration avec un secteur connu")
            log(f"    [{label}] {args.openings - open_now} offres ouvertes ajoutées…")
            demo_employers.seed_openings(territory, companies, args.openings - open_now, rng=rng, today=today,
                                         closed_share=0)
    demo_employers._analyze()
    active = live.filter(is_active=True).count()
    openings = JobOpening.objects.filter(territory=territory, status="open").count()
    caseload = list(
        FollowUpMembership.objects.filter(user__email=demo_employers.REFERENTE_EMAIL, kind="referent", end_date=None,
                                          person__job_search__is_active=True)
        .exclude(person__status=Person.Status.EXITED).values_list("person_id", flat=True)
    )
    return active, openings, caseload


def time_recompute(territory, label):
    """Two full recomputes; engine time measured inside them. Returns a dict."""
    import spie.matching
    import spie.matching.engine
    from spie.employers import matching_adapter

    engine_calls = []
    original = spie.matching.engine.recompute_all
    depth = [0]

    def timed(*args, **kwargs):
        depth[0] += 1
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                engine_calls.append(time.perf_counter() - started)

    # Wherever the adapter reaches the engine's function (module attribute or imported name).
    for module in (matching_adapter, spie.matching, spie.matching.engine):
        for name, value in list(vars(module).items()):
            if value is original:
                setattr(module, name, timed)
    runs = []
    for attempt in (1, 2):
        engine_calls.clear()
        started = time.perf_counter()
        run = matching_adapter.recompute_territory(territory)
        total = time.perf_counter() - started
        engine = sum(engine_calls) if engine_calls else None  # None: the adapter bypassed recompute_all
        runs.append({"total_s": total, "engine_s": engine, "engine_calls": len(engine_calls),
                     "persons": run.persons, "openings": run.openings, "proposals": run.proposals,
                     "blocked": run.blocked, "run_duration_s": run.duration_s})
        engine_text = "moteur non mesuré"
        if engine is not None:
            engine_text = f"moteur {engine:.1f} s, {len(engine_calls)} appel(s)"
        log(f"    [{label}] recompute_territory n° {attempt} : {total:.1f} s ({engine_text}) ; "
            f"{run.persons} personnes, {run.openings} offres, "
            f"{run.proposals} propositions, {run.blocked} bloquées")
    return runs


def time_save_baseline(territory, rows_total):
    """``Proposal.save()`` row by row on a sample, rolled back; scaled to ``rows_total`` rows."""
    from django.db import transaction

    from spie.employers.models import Proposal

    sample = list(Proposal.objects.filter(person__territory=territory).order_by("pk")[:SAVE_SAMPLE])
    if not sample:
        return None
    with transaction.atomic():
        started = time.perf_counter()
        for proposal in sample:
            proposal.pk = None
            proposal.save()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return {"sample": len(sample), "sample_s": elapsed, "scaled_s": elapsed / len(sample) * rows_total}


def time_pages(args, label, caseload):
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from spie.core import demo_employers
    from spie.employers.models import JobOpening, Proposal
    from spie.network.models import User

    rng = random.Random(args.seed)
    referente = User.objects.get(email=demo_employers.REFERENTE_EMAIL)
    ref_client = Client()
    ref_client.force_login(referente, backend=BACKEND)
    company_user = User.objects.filter(email=demo_employers.COMPANY_EMAIL).first()
    company_client = Client()
    if company_user is not None:
        company_client.force_login(company_user, backend=BACKEND)
    territory_openings = list(
        JobOpening.objects.filter(territory__code=TERRITORY, status="open", proposals__isnull=False)
        .order_by("pk").values_list("uid", flat=True).distinct()[:2000]
    ) or list(JobOpening.objects.filter(territory__code=TERRITORY, status="open").values_list("uid", flat=True)[:2000])
    own = list(JobOpening.objects.filter(company__account__memberships__user=company_user, status="open")
               .values_list("uid", flat=True)) if company_user else []
    with_proposals = set(Proposal.objects.filter(person_id__in=caseload).values_list("person_id", flat=True))
    persons = [pk for pk in caseload if pk in with_proposals] or caseload
    if not persons:
        raise BenchError("la référente de démonstration n'a aucune personne avec un profil de recherche")

    def url(name, *url_args):
        try:
            return reverse(name, args=url_args)
        except NoReverseMatch:
            return None

    pages = []
    if url("employers:jobsearch", 1):
        pages.append(("jobsearch_page", ref_client, lambda: url("employers:jobsearch", rng.choice(persons)),
                      url("employers:jobsearch", 0).replace("/0/", "/<id>/")))
    if territory_openings and url("employers:candidates", territory_openings[0]):
        shown = "/emploi/offres/<uid>/candidats/"
        pages.append(("candidates_page", ref_client,
                      lambda: url("employers:candidates", rng.choice(territory_openings)), shown))
        if own:
            pages.append(("candidates_company_page", company_client,
                          lambda: url("employers:candidates", rng.choice(own)), shown + " (entreprise)"))
    results = {}
    for name, client, make_url, shown in pages:
        timings = []
        for i in range(args.warmup + args.requests):
            target = make_url()
            started = time.perf_counter()
            response = client.get(target)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise BenchError(f"{name} : GET {target} a répondu {response.status_code}")
            if i >= args.warmup:
                timings.append(elapsed)
        results[name] = summary(timings, shown)
        log(f"    [{label}] {name:<24} p50 {results[name]['p50']:.1f} ms, p95 {results[name]['p95']:.1f} ms "
            f"({len(timings)} requêtes)")
    missing = {"jobsearch_page", "candidates_page"} - set(results)
    if missing:
        log(f"    [{label}] pages absentes (pas encore de route) : {', '.join(sorted(missing))}")
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--openings", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from spie.network.models import Territory

    if not settings.SPIE_DEMO_SKIP_2FA:
        raise BenchError("SPIE_DEMO_SKIP_2FA=1 est nécessaire : les pages demanderaient le second facteur.")
    try:
        from spie.employers import matching_adapter  # noqa: F401
    except ImportError as exc:
        raise BenchError(f"spie.employers.matching_adapter absent ({exc})") from exc
    territory = Territory.objects.filter(code=TERRITORY).first()
    if territory is None:
        raise BenchError("territoire 31 absent : lancez seed_demo avant le banc d'essai.")
    started = time.monotonic()
    active, openings, caseload = prepare(territory, args, args.label)
    setup_s = time.monotonic() - started
    log(f"    [{args.label}] {active} profils actifs, {openings} offres ouvertes, {len(caseload)} personnes de la "
        f"référente avec profil ; préparation {setup_s:.1f} s")
    runs = time_recompute(territory, args.label)
    last = runs[-1]
    baseline = time_save_baseline(territory, last["proposals"] + last["blocked"])
    if baseline:
        log(f"    [{args.label}] save() ligne à ligne : {baseline['sample']} lignes en {baseline['sample_s']:.2f} s "
            f"→ {baseline['scaled_s']:.1f} s extrapolées pour {last['proposals'] + last['blocked']} lignes")
    pages = time_pages(args, args.label, caseload)
    result = {"label": args.label, "profiles": active, "openings": openings, "setup_s": setup_s, "runs": runs,
              "save_baseline": baseline, "pages": pages}
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        log(f"ÉCHEC : {exc}")
        sys.exit(1)
