"""Benchmarks of the SPIE platform (``make bench``), never part of ``make test``.

Groups:

- ``seed``: ``seed_demo --persons 100000`` on a fresh SQLite database in a temporary directory
  (migrate and load_referentials first, not timed) → ``BENCH seed_100k_s``.
- ``pages``: the référent's home, the person search and person records, a diagnostic's result
  page (demo référente) and the orientation queue (demo chargée d'orientation), timed
  in-process with Django's test client (``bench/pages.py``) on SQLite (the database seeded
  above, or a new one) and on PostgreSQL (a throw-away database ``spie_bench_<pid>`` on
  ``BENCH_PG_URL``, default ``postgres://postgres@127.0.0.1:5432``; skipped with a message when
  unreachable), plus ``/healthz`` as a baseline to compare noisy machines
  → ``BENCH <page>_p50_ms[<db>]`` …
- ``diagnostics``: the scoring engine alone (``bench/diagnostics_engine.py``, no database)
  → ``BENCH diagnostic_engine_100k_s``; then ``rescore`` of exactly 100,000 completed
  diagnostics whose stored results were all invalidated (``bench/diagnostics.py``: copies of
  the seeded diagnostics fill up to 100,000, not timed) on the SQLite database above (or a new
  one) and on the PostgreSQL one of the pages group (or a new one)
  → ``BENCH diagnostic_rescore_100k_s[<db>]``. It runs last: it adds diagnostics to the
  databases the pages were timed on.
- ``followup``: the demo référente's home with its alerts (``bench/followup.py``; the seed gives
  her at least one alert of every kind), ``/healthz`` beside it as the baseline, on the seeded
  SQLite and PostgreSQL databases → ``BENCH home_alerts_p50_ms[<db>]``, ``…_p95_ms[<db>]`` and
  the headlines ``BENCH home_alerts_p50_ms`` / ``…_p95_ms`` (SQLite). Target: under 150 ms.
- ``exports``: the caseload export (``/?format=csv`` and ``xlsx``) of a bench professional member
  of every person's group, each in a fresh process, its peak resident memory and seconds
  (``bench/exports.py``, SQLite) → ``BENCH export_100k_csv_peak_mb``, ``…_xlsx_peak_mb``
  (target: under 300 MB), ``BENCH export_100k_csv_s``, ``…_xlsx_s``.
- ``catalogue``: the catalogue search (``bench/catalogue.py``) on the seeded SQLite and PostgreSQL
  databases, the demo catalogue topped up to 5,000 actions first (``seed_catalogue``, not timed):
  ``--requests`` (200) realistic searches (an origin commune of the 31 weighted by population,
  50 km, one or two thématiques, keywords one time in three, places left one time in three)
  through ``search.search`` + ``search.hits_page`` (the work of the page, without the
  template), the same queries through a plain ORM baseline (``icontains`` filters, full
  objects, distance in Python), and 50 GETs of the whole page for the record
  → ``BENCH catalogue_search_p50_ms[<db>]``, ``…_p95_ms[<db>]``,
  ``BENCH catalogue_search_baseline_p95_ms[<db>]`` and the headlines without ``[<db>]``
  (SQLite). Target: p50 under 30 ms, p95 under 80 ms.
- ``matching``: the matching engine alone (``bench/matching.py``, numpy, no database): full
  recompute 40,000 persons × 10,000 openings with rebalancing against a plain-Python baseline
  (timed on a sample and scaled, the output says so), one person's top 20, one opening's top 50,
  and 1,000,000 openings in memory → ``BENCH match_full_s``, ``match_full_baseline_s``,
  ``match_person_p50_ms``, ``match_person_p95_ms``, ``match_opening_p95_ms``,
  ``match_national_person_p95_ms``, ``match_national_peak_mb``.
- ``employers``: the matching engine through Django (``bench/employers.py``) on the seeded SQLite
  and PostgreSQL databases: exactly ``--match-persons`` (20,000) active job-search profiles and
  ``--match-openings`` (5,000) open openings (added to the demo's, not timed), then
  ``matching_adapter.recompute_territory`` end to end twice (arrays from the database, engine,
  bulk storing; the second run is the figure), the engine's own time measured inside the same
  runs, a baseline storing with ``Proposal.save()`` row by row (timed on 2,000 rows and scaled,
  the output says so), and the job-search and candidates pages (test client)
  → ``BENCH match_db_full_s[<db>]``, ``match_db_engine_s[<db>]``, ``match_db_load_store_s[<db>]``,
  ``match_db_save_baseline_s[<db>]``, ``jobsearch_page_p50_ms[<db>]``, ``…_p95_ms[<db>]``,
  ``candidates_page_p50_ms[<db>]``, ``…_p95_ms[<db>]`` and the headlines without ``[<db>]``
  (SQLite). The engine-only figures are the ``matching`` group's.
- ``imports``: ``manage.py import_file`` of a 50,000-row persons CSV, validated and committed
  (``bench/imports.py``), on the seeded SQLite and PostgreSQL databases
  → ``BENCH import_50k_s[<db>]`` (the command's validate_s + commit_s) and the headline
  ``BENCH import_50k_s`` (SQLite). Target: under 60 s. It adds 50,000 persons: it runs last.

The groups run in this order: seed, pages, followup, exports, catalogue, matching, employers,
diagnostics, imports; the SQLite
and PostgreSQL databases seeded by the first group that needs them are shared by the others.

    .venv/bin/python bench/run.py [--only seed|pages|diagnostics|followup|exports|catalogue|matching|employers|imports]
        [--persons 100000]
        [--requests 200]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GROUPS = ("seed", "pages", "diagnostics", "followup", "exports", "catalogue", "matching", "employers", "imports")
BUDGET_S = 19 * 60  # the whole run must end within 20 minutes
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
SEED = 31
PAGES = ("healthz", "home", "search", "record", "diagnostic_result", "orientation_queue")
HEADLINE_PAGES = ("diagnostic_result",)  # also printed without the database (SQLite), as the issue names them
IMPORT_ROWS = 50_000
CATALOGUE_ACTIONS = 5000
MATCH_PERSONS = 20_000
MATCH_OPENINGS = 5_000

_started = time.monotonic()


class BenchFailure(Exception):
    pass


def elapsed():
    return time.monotonic() - _started


def say(message):
    minutes, seconds = divmod(int(elapsed()), 60)
    print(f"[{minutes:02d}:{seconds:02d}] {message}", flush=True)


def remaining():
    left = BUDGET_S - elapsed()
    if left <= 10:
        raise BenchFailure("budget de temps du banc d'essai (20 minutes) épuisé")
    return left


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SPIE_VAR_DIR"}}
    env.update({"DJANGO_SETTINGS_MODULE": "spie.settings", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def manage(env, *args, quiet=True):
    """Run a management command; its output is shown only on failure when ``quiet``."""
    command = [PYTHON, str(ROOT / "manage.py"), *args]
    try:
        completed = subprocess.run(
            command, cwd=ROOT, env=env, timeout=remaining(), text=True,
            capture_output=quiet,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchFailure(f"« manage.py {' '.join(args)} » n'a pas fini dans le temps imparti") from exc
    if completed.returncode != 0:
        if quiet:
            sys.stdout.write(completed.stdout or "")
            sys.stderr.write(completed.stderr or "")
        raise BenchFailure(f"« manage.py {' '.join(args)} » a échoué (code {completed.returncode})")


class Database:
    def __init__(self, label, env, cleanup=None):
        self.label = label
        self.env = env
        self.cleanup = cleanup
        self.seeded = False
        self.seed_seconds = None

    def prepare(self):
        say(f"{self.label} : migrate + load_referentials (non chronométrés)…")
        started = time.monotonic()
        manage(self.env, "migrate", "--noinput", "-v", "0")
        manage(self.env, "load_referentials")
        say(f"{self.label} : base prête en {time.monotonic() - started:.1f} s")

    def seed(self, persons):
        say(f"{self.label} : seed_demo --persons {persons} --seed {SEED}…")
        started = time.monotonic()
        manage(self.env, "seed_demo", "--persons", str(persons), "--seed", str(SEED), quiet=False)
        self.seed_seconds = time.monotonic() - started
        self.seeded = True
        say(f"{self.label} : {persons} personnes créées en {self.seed_seconds:.1f} s")


def sqlite_database(tmp):
    return Database("sqlite", base_env(SPIE_VAR_DIR=str(tmp / "sqlite")))


def postgresql_database(tmp):
    """A fresh database on the PostgreSQL server, or None (with a message) when unreachable."""
    server = os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL).rstrip("/")
    try:
        import psycopg
    except ImportError:
        say("PostgreSQL ignoré : psycopg n'est pas installé.")
        return None
    try:
        with psycopg.connect(f"{server}/postgres", connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        say(f"PostgreSQL ignoré : serveur injoignable sur {server} ({str(exc).strip().splitlines()[0]}).")
        return None
    name = f"spie_bench_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    say(f"postgresql : base {name} créée sur {server}")

    def drop():
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        say(f"postgresql : base {name} supprimée")

    env = base_env(SPIE_VAR_DIR=str(tmp / "postgresql"), DATABASE_URL=f"{server}/{name}")
    return Database("postgresql", env, cleanup=drop)


def run_pages(db, args):
    say(f"{db.label} : pages, {args.requests} requêtes chacune après {args.warmup} de chauffe…")
    worker_args = ["--requests", str(args.requests), "--warmup", str(args.warmup), "--seed", str(SEED)]
    if args.about_only:
        worker_args.append("--about-only")
    env = dict(db.env, SPIE_DEMO_SKIP_2FA="1", DEBUG="0")
    return run_worker(db.label, env, "pages.py", worker_args, "le banc d'essai des pages")


def run_worker(label, env, script, args, what):
    """Run a worker script of bench/ (progress on stderr); its ``BENCH_RESULT`` line, decoded."""
    command = [PYTHON, str(ROOT / "bench" / script), "--label", label, *args]
    try:
        completed = subprocess.run(
            command, cwd=ROOT, env=env, timeout=remaining(), text=True, stdout=subprocess.PIPE
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchFailure(f"{label} : {what} n'a pas fini dans le temps imparti") from exc
    lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if completed.returncode != 0 or not lines:
        raise BenchFailure(f"{label} : {what} a échoué (code {completed.returncode})")
    return json.loads(lines[-1].removeprefix("BENCH_RESULT "))


def run_matching():
    """``bench/matching.py`` (no database, synthetic arrays): its table and BENCH lines, as printed."""
    say("moteur de rapprochement : 40000 personnes × 10000 offres, puis 1000000 d'offres (sans base)…")
    try:
        completed = subprocess.run(
            [PYTHON, str(ROOT / "bench" / "matching.py")], cwd=ROOT, env=base_env(),
            timeout=remaining(), text=True, stdout=subprocess.PIPE,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchFailure("le banc d'essai du rapprochement n'a pas fini dans le temps imparti") from exc
    if completed.returncode != 0 or "BENCH match_full_s " not in completed.stdout:
        raise BenchFailure(f"le banc d'essai du rapprochement a échoué (code {completed.returncode})")
    print(completed.stdout, end="")
    sys.stdout.flush()


def run_engine():
    """``bench/diagnostics_engine.py`` (no database): its seconds for 100,000 answer sets."""
    say("moteur de notation : 100000 jeux de réponses (sans base de données)…")
    try:
        completed = subprocess.run(
            [PYTHON, str(ROOT / "bench" / "diagnostics_engine.py")], cwd=ROOT, env=base_env(),
            timeout=remaining(), text=True, stdout=subprocess.PIPE,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchFailure("le banc d'essai du moteur n'a pas fini dans le temps imparti") from exc
    lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCH diagnostic_engine_100k_s ")]
    if completed.returncode != 0 or not lines:
        raise BenchFailure(f"le banc d'essai du moteur a échoué (code {completed.returncode})")
    return float(lines[-1].split()[-1])


def run_rescore(db, args):
    say(f"{db.label} : rescore de {args.diagnostics} diagnostics terminés…")
    result = run_worker(
        db.label, db.env, "diagnostics.py", ["--count", str(args.diagnostics), "--seed", str(SEED)],
        "le rescore des diagnostics",
    )
    say(
        f"{db.label} : {result['changed']} diagnostics modifiés sur {result['scored']} notés en "
        f"{result['rescore_s']:.1f} s"
    )
    return result


def print_diagnostics(engine_s, results, count):
    size = "100k" if count == 100_000 else str(count)
    header = ("base", "terminés (seed)", "copiés", "notés", "modifiés", "freins après", "rescore s", "diag./s")
    rows = [
        (
            r["label"], str(r["completed_before"]), str(r["duplicated"]), str(r["scored"]), str(r["changed"]),
            str(r["barriers_after"]), f"{r['rescore_s']:.1f}", f"{r['scored'] / r['rescore_s']:.0f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    print()
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print(f"(moteur seul, sans base : {engine_s:.2f} s pour 100000 jeux de réponses)")
    print()
    print(f"BENCH diagnostic_engine_100k_s {engine_s:.2f}")
    for r in results:
        print(f"BENCH diagnostic_rescore_{size}_s[{r['label']}] {r['rescore_s']:.1f}")
        print(f"BENCH diagnostic_rescore_changed[{r['label']}] {r['changed']}")
    for r in results:
        if r["label"] == "sqlite":
            print(f"BENCH diagnostic_rescore_{size}_s {r['rescore_s']:.1f}")
    sys.stdout.flush()


def print_pages(results, bench_lines=True):
    header = ("page", "base", "personnes", "p50 ms", "p95 ms", "max ms", "n", "URL")
    rows = []
    for result in results:
        for page in PAGES:
            data = result["pages"][page]
            rows.append((
                page, result["label"], str(result["persons"]), f"{data['p50']:.1f}", f"{data['p95']:.1f}",
                f"{data['max']:.1f}", str(data["n"]), data["url"],
            ))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            cell.ljust(width) if i in (0, 1, 7) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    print()
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print()
    if not bench_lines:
        print("(--about-only : /a-propos/ a remplacé les pages des personnes, aucune ligne BENCH émise)")
        return
    for result in results:
        label = result["label"]
        print(f"BENCH persons[{label}] {result['persons']}")
        for page in PAGES:
            data = result["pages"][page]
            print(f"BENCH {page}_p50_ms[{label}] {data['p50']:.1f}")
            if page != "healthz":
                print(f"BENCH {page}_p95_ms[{label}] {data['p95']:.1f}")
    for result in results:
        if result["label"] == "sqlite":
            for page in HEADLINE_PAGES:
                print(f"BENCH {page}_p95_ms {result['pages'][page]['p95']:.1f}")
    sys.stdout.flush()


def _table(header, rows, left=(0,)):
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    print()
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print()


def run_followup(db, args):
    say(f"{db.label} : accueil du référent avec alertes, {args.requests} requêtes après {args.warmup} de chauffe…")
    worker_args = ["--requests", str(args.requests), "--warmup", str(args.warmup)]
    return run_worker(db.label, dict(db.env, DEBUG="0"), "followup.py", worker_args, "le banc d'essai du suivi")


def print_followup(results):
    header = ("page", "base", "personnes", "file active", "p50 ms", "p95 ms", "max ms", "n", "URL")
    rows = []
    for result in results:
        for page in ("healthz", "home_alerts"):
            data = result["pages"][page]
            rows.append((
                page, result["label"], str(result["persons"]), str(result["caseload"]), f"{data['p50']:.1f}",
                f"{data['p95']:.1f}", f"{data['max']:.1f}", str(data["n"]), data["url"],
            ))
    _table(header, rows, left=(0, 1, 8))
    for result in results:
        alerts = ", ".join(f"{kind} {n}" for kind, n in result["alerts"].items())
        print(f"(alertes de la référente [{result['label']}] : {alerts})")
    for result in results:
        label, data = result["label"], result["pages"]
        print(f"BENCH home_alerts_p50_ms[{label}] {data['home_alerts']['p50']:.1f}")
        print(f"BENCH home_alerts_p95_ms[{label}] {data['home_alerts']['p95']:.1f}")
        print(f"BENCH healthz_baseline_p50_ms[{label}] {data['healthz']['p50']:.1f}")
    for result in results:
        if result["label"] == "sqlite":
            print(f"BENCH home_alerts_p50_ms {result['pages']['home_alerts']['p50']:.1f}")
            print(f"BENCH home_alerts_p95_ms {result['pages']['home_alerts']['p95']:.1f}")
    sys.stdout.flush()


def run_exports(db):
    say(f"{db.label} : exports CSV et XLSX de la file active (mémoire de pointe)…")
    return run_worker(db.label, dict(db.env, DEBUG="0"), "exports.py", [], "le banc d'essai des exports")


def print_exports(result, persons):
    size = "100k" if persons == 100_000 else str(persons)
    header = ("format", "base", "lignes", "Mo", "secondes", "RSS avant Mo", "pic RSS Mo", "pic - avant Mo", "flux")
    rows = [
        (
            fmt, result["label"], str(data["rows"]), f"{data['bytes'] / 2**20:.1f}", f"{data['seconds']:.1f}",
            f"{data['baseline_mb']:.0f}", f"{data['peak_mb']:.0f}", f"{data['peak_mb'] - data['baseline_mb']:.0f}",
            "oui" if data["streamed"] else "non",
        )
        for fmt, data in result["exports"].items()
    ]
    _table(header, rows, left=(0, 1))
    for fmt, data in result["exports"].items():
        print(f"BENCH export_{size}_{fmt}_peak_mb {data['peak_mb']:.0f}")
        print(f"BENCH export_{size}_{fmt}_s {data['seconds']:.1f}")
        print(f"BENCH export_{size}_{fmt}_rows {data['rows']}")
    sys.stdout.flush()


def run_catalogue(db, args):
    say(f"{db.label} : recherche dans le catalogue ({CATALOGUE_ACTIONS} actions), {args.requests} requêtes après "
        f"{args.warmup} de chauffe, puis la même chose en ORM simple…")
    worker_args = ["--actions", str(CATALOGUE_ACTIONS), "--queries", str(args.requests), "--warmup", str(args.warmup),
                   "--seed", str(SEED)]
    return run_worker(db.label, dict(db.env, DEBUG="0"), "catalogue.py", worker_args,
                      "le banc d'essai du catalogue")


def print_catalogue(results):
    header = ("mesure", "base", "personnes", "actions", "à distance", "p50 ms", "p95 ms", "max ms", "n",
              "résultats moy.")
    rows = []
    for r in results:
        common = (r["label"], str(r["persons"]), str(r["actions"]), f"{r['remote_share']:.0%}")
        for name, key, results_key in (
            ("recherche (search + hits_page)", "search", "mean_results"),
            ("  dont requêtes avec mots-clés", "keywords", None),
            ("ORM simple (même requête)", "baseline", "mean_baseline_results"),
            ("page complète /catalogue/", "page", None),
        ):
            data = r.get(key)
            if not data:
                continue
            rows.append((name, *common, f"{data['p50']:.1f}", f"{data['p95']:.1f}", f"{data['max']:.1f}",
                         str(data["n"]), f"{r[results_key]:.0f}" if results_key else ""))
    _table(header, rows, left=(0, 1))
    for r in results:
        print(f"(catalogue [{r['label']}] : {r['visible']} actions visibles, {r['sessions']} sessions, "
              f"{r['empty_results']} requêtes sans résultat ; remplissage {r['seed_s']:.1f} s)")
    for r in results:
        label = r["label"]
        print(f"BENCH catalogue_search_p50_ms[{label}] {r['search']['p50']:.1f}")
        print(f"BENCH catalogue_search_p95_ms[{label}] {r['search']['p95']:.1f}")
        print(f"BENCH catalogue_search_baseline_p50_ms[{label}] {r['baseline']['p50']:.1f}")
        print(f"BENCH catalogue_search_baseline_p95_ms[{label}] {r['baseline']['p95']:.1f}")
        print(f"BENCH catalogue_page_p50_ms[{label}] {r['page']['p50']:.1f}")
    for r in results:
        if r["label"] == "sqlite":
            print(f"BENCH catalogue_search_p50_ms {r['search']['p50']:.1f}")
            print(f"BENCH catalogue_search_p95_ms {r['search']['p95']:.1f}")
            print(f"BENCH catalogue_search_baseline_p95_ms {r['baseline']['p95']:.1f}")
    sys.stdout.flush()


def run_employers(db, args):
    say(f"{db.label} : rapprochement par Django, {args.match_persons} profils × {args.match_openings} offres, puis "
        "pages recherche d'emploi et candidats…")
    worker_args = ["--persons", str(args.match_persons), "--openings", str(args.match_openings),
                   "--requests", str(max(50, args.requests // 2)), "--warmup", str(min(args.warmup, 10)),
                   "--seed", str(SEED)]
    env = dict(db.env, SPIE_DEMO_SKIP_2FA="1", DEBUG="0")
    return run_worker(db.label, env, "employers.py", worker_args, "le banc d'essai du rapprochement par Django")


def print_employers(results):
    header = ("mesure", "base", "profils", "offres", "propositions", "secondes / ms")
    rows = []
    for r in results:
        common = (r["label"], str(r["profiles"]), str(r["openings"]))
        for i, run in enumerate(r["runs"], 1):
            rows.append((f"recompute_territory n° {i} (total)", *common, str(run["proposals"] + run["blocked"]),
                         f"{run['total_s']:.1f} s"))
            if run["engine_s"] is not None:
                rows.append((f"  dont moteur (recompute_all, {run['engine_calls']} appel(s))", *common, "",
                             f"{run['engine_s']:.1f} s"))
        if r["save_baseline"]:
            b = r["save_baseline"]
            rows.append((f"save() ligne à ligne (extrapolé de {b['sample']} lignes)", *common,
                         str(r["runs"][-1]["proposals"] + r["runs"][-1]["blocked"]), f"{b['scaled_s']:.1f} s"))
        for name, data in r["pages"].items():
            rows.append((f"{name} p50 / p95", *common, "", f"{data['p50']:.1f} / {data['p95']:.1f} ms"))
    _table(header, rows, left=(0, 1))
    print("(le chiffre retenu est le second calcul, caches chauds ; « moteur » est mesuré dans les mêmes calculs, "
          "le reste est la lecture de la base et l'écriture des propositions ; la référence save() est chronométrée "
          "sur un échantillon puis extrapolée)")
    for r in results:
        label, run = r["label"], r["runs"][-1]
        print(f"BENCH match_db_full_s[{label}] {run['total_s']:.1f}")
        if run["engine_s"] is not None:
            print(f"BENCH match_db_engine_s[{label}] {run['engine_s']:.1f}")
            print(f"BENCH match_db_load_store_s[{label}] {run['total_s'] - run['engine_s']:.1f}")
        if r["save_baseline"]:
            print(f"BENCH match_db_save_baseline_s[{label}] {r['save_baseline']['scaled_s']:.1f}")
        for name, data in r["pages"].items():
            print(f"BENCH {name}_p50_ms[{label}] {data['p50']:.1f}")
            print(f"BENCH {name}_p95_ms[{label}] {data['p95']:.1f}")
    for r in results:
        if r["label"] == "sqlite":
            print(f"BENCH match_db_full_s {r['runs'][-1]['total_s']:.1f}")
            for name in ("jobsearch_page", "candidates_page"):
                if name in r["pages"]:
                    print(f"BENCH {name}_p95_ms {r['pages'][name]['p95']:.1f}")
    sys.stdout.flush()


def run_imports(db, args):
    say(f"{db.label} : import_file de {args.import_rows} personnes (vérification + import)…")
    worker_args = ["--rows", str(args.import_rows), "--seed", str(SEED), "--timeout", str(max(60, remaining() - 30))]
    return run_worker(db.label, dict(db.env, DEBUG="0"), "imports.py", worker_args, "le banc d'essai des imports")


def print_imports(results, rows_count):
    size = "50k" if rows_count == 50_000 else str(rows_count)
    header = ("base", "personnes avant", "lignes", "valides", "erreurs", "créées", "mises à jour", "vérif. s",
              "import s", "total s", "commande s")
    rows = [
        (
            r["label"], str(r["persons_before"]), str(r.get("rows")), str(r.get("valid")), str(r.get("errors")),
            str(r.get("created")), str(r.get("updated")), f"{r.get('validate_s', 0):.1f}",
            f"{r.get('commit_s', 0):.1f}", f"{r['import_s']:.1f}", f"{r['wall_s']:.1f}",
        )
        for r in results
    ]
    _table(header, rows, left=(0,))
    print("(total = validate_s + commit_s de la commande ; « commande » : durée du processus, démarrage compris)")
    for r in results:
        print(f"BENCH import_{size}_s[{r['label']}] {r['import_s']:.1f}")
        print(f"BENCH import_{size}_wall_s[{r['label']}] {r['wall_s']:.1f}")
    for r in results:
        if r["label"] == "sqlite":
            print(f"BENCH import_{size}_s {r['import_s']:.1f}")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description="Bancs d'essai de la plateforme SPIE")
    parser.add_argument("--only", choices=GROUPS, help="ne lancer qu'un groupe")
    parser.add_argument("--persons", type=int, default=100_000, help="personnes à créer (défaut : 100000)")
    parser.add_argument("--requests", type=int, default=200, help="requêtes chronométrées par page (défaut : 200)")
    parser.add_argument("--warmup", type=int, default=20, help="requêtes de chauffe par page (défaut : 20)")
    parser.add_argument(
        "--no-postgresql", action="store_true",
        help="pages, diagnostics, followup, catalogue, employers, imports : SQLite seulement"
    )
    parser.add_argument(
        "--match-persons", type=int, default=MATCH_PERSONS,
        help=f"employers : profils de recherche d'emploi actifs (défaut : {MATCH_PERSONS})",
    )
    parser.add_argument(
        "--match-openings", type=int, default=MATCH_OPENINGS,
        help=f"employers : offres ouvertes (défaut : {MATCH_OPENINGS})",
    )
    parser.add_argument(
        "--import-rows", type=int, default=IMPORT_ROWS, help=f"imports : lignes du fichier (défaut : {IMPORT_ROWS})"
    )
    parser.add_argument(
        "--diagnostics", type=int, default=100_000,
        help="diagnostics : diagnostics terminés à re-noter (défaut : 100000)",
    )
    parser.add_argument(
        "--about-only", action="store_true",
        help="pages : chronométrer /a-propos/ à la place des pages des personnes (vérifier le banc lui-même)",
    )
    args = parser.parse_args()
    groups = [args.only] if args.only else list(GROUPS)
    tmp = Path(tempfile.mkdtemp(prefix="spie-bench-"))
    databases = []
    failed = False
    try:
        say(f"Bancs d'essai : {', '.join(groups)} — dossier temporaire {tmp}")
        sqlite = sqlite_database(tmp)
        databases.append(sqlite)
        if "seed" in groups:
            sqlite.prepare()
            sqlite.seed(args.persons)
            label = "seed_100k_s" if args.persons == 100_000 else f"seed_{args.persons}_s"
            print(f"BENCH {label} {sqlite.seed_seconds:.1f}", flush=True)
        postgresql = None  # built by the first group that needs it (pages, else diagnostics), then reused
        pg_tried = args.no_postgresql

        def seeded_postgresql():
            nonlocal postgresql, pg_tried
            if not pg_tried:
                pg_tried = True
                postgresql = postgresql_database(tmp)
                if postgresql is not None:
                    databases.append(postgresql)
                    postgresql.prepare()
                    postgresql.seed(args.persons)
                    print(f"(seed PostgreSQL : {postgresql.seed_seconds:.1f} s)", flush=True)
            return postgresql if postgresql is not None and postgresql.seeded else None

        if "pages" in groups:
            if not sqlite.seeded:
                sqlite.prepare()
                sqlite.seed(args.persons)
            results = [run_pages(sqlite, args)]
            if seeded_postgresql() is not None:
                results.append(run_pages(postgresql, args))
            print_pages(results, bench_lines=not args.about_only)
        if "followup" in groups:
            if not sqlite.seeded:
                sqlite.prepare()
                sqlite.seed(args.persons)
            results = [run_followup(sqlite, args)]
            if seeded_postgresql() is not None:
                results.append(run_followup(postgresql, args))
            print_followup(results)
        if "exports" in groups:
            if not sqlite.seeded:
                sqlite.prepare()
                sqlite.seed(args.persons)
            print_exports(run_exports(sqlite), args.persons)
        if "catalogue" in groups:
            if not sqlite.seeded:
                sqlite.prepare()
                sqlite.seed(args.persons)
            results = [run_catalogue(sqlite, args)]
            if seeded_postgresql() is not None:
                results.append(run_catalogue(postgresql, args))
            print_catalogue(results)
        if "matching" in groups:
            run_matching()
        if "employers" in groups:
            if not sqlite.seeded:
                sqlite.prepare()
                sqlite.seed(args.persons)
            results = [run_employers(sqlite, args)]
            if seeded_postgresql() is not None:
                results.append(run_employers(postgresql, args))
            print_employers(results)
        if "diagnostics" in groups:
            engine_s = run_engine()
            say(f"moteur de notation : {engine_s:.2f} s pour 100000 jeux de réponses")
            if not sqlite.seeded:
                sqlite.prepare()
                sqlite.seed(args.persons)
            results = [run_rescore(sqlite, args)]
            if seeded_postgresql() is not None:
                results.append(run_rescore(postgresql, args))
            print_diagnostics(engine_s, results, args.diagnostics)
        if "imports" in groups:
            if not sqlite.seeded:
                sqlite.prepare()
                sqlite.seed(args.persons)
            results = [run_imports(sqlite, args)]
            if seeded_postgresql() is not None:
                results.append(run_imports(postgresql, args))
            print_imports(results, args.import_rows)
    except BenchFailure as exc:
        say(f"ÉCHEC : {exc}")
        failed = True
    except KeyboardInterrupt:
        say("Interrompu.")
        failed = True
    finally:
        for db in databases:
            if db.cleanup:
                try:
                    db.cleanup()
                except Exception as exc:  # noqa: BLE001 - report and go on cleaning
                    say(f"{db.label} : nettoyage impossible ({exc})")
        shutil.rmtree(tmp, ignore_errors=True)
    say("Terminé." if not failed else "Terminé avec des erreurs.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
