"""Worker of ``bench/run.py``: times ``rescore`` of 100,000 completed diagnostics.

Runs against the database its environment designates (``SPIE_VAR_DIR`` for SQLite or
``DATABASE_URL``), already migrated and seeded by ``seed_demo`` (about 61 % of the persons
have a completed diagnostic at 100,000 persons). Not timed, in order:

1. bring the number of completed diagnostics to exactly ``--count`` by duplicating existing
   completed diagnostics (same framework version, answers, result) onto random persons, with
   plain inserts (``spie.core.bulk.fast_insert``; a person may get several diagnostics and
   the copies get no Barrier rows). With more than ``--count`` already, only the first
   ``--count`` by primary key are re-scored;
2. invalidate every stored result with one UPDATE that adds a marker key (the stored
   context is kept), so that the re-score finds every row changed and really writes
   results and barriers.

Then ``spie.diagnostics.services.rescore`` runs on them, timed. Progress goes to stderr;
the result is one line ``BENCH_RESULT {json}`` on stdout.

    python bench/diagnostics.py --label sqlite [--count 100000] [--seed 31]
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spie.settings")

STALE_KEY = "bench_stale"  # the marker added to every stored result before the re-score
PAGE = 5000  # rows read (and copies inserted) per transaction while duplicating
COPIED = (
    "framework_id", "answers", "person_words", "result", "proposed_orientation", "started_by_id",
    "structure_id", "completed_by_id", "completed_at",
)


def log(message):
    print(message, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--count", type=int, default=100_000, help="diagnostics terminés à re-noter")
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--batch-size", type=int, default=2000, help="batch_size de rescore (défaut : 2000)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction

    from spie.core.bulk import fast_insert
    from spie.diagnostics.models import Barrier, Diagnostic
    from spie.diagnostics.services import rescore
    from spie.people.models import Person

    label = args.label
    rng = random.Random(f"{args.seed}-bench-rescore")
    completed = Diagnostic.objects.filter(status=Diagnostic.Status.COMPLETED)
    before = completed.count()
    if not before:
        raise BenchError("Aucun diagnostic terminé en base : lancez seed_demo (à jour) avant le banc d'essai.")
    result = {"label": label, "completed_before": before, "duplicated": 0, "duplicate_s": 0.0}

    # 1. Exactly --count completed diagnostics.
    missing = args.count - before
    if missing > 0:
        log(f"    [{label}] {before} diagnostics terminés : {missing} copies à insérer (non chronométrées)…")
        started = time.perf_counter()
        person_ids = list(Person.objects.values_list("pk", flat=True))
        source_ids = list(completed.order_by("pk").values_list("pk", flat=True))
        copies = {}  # source pk → number of copies
        for pk in rng.choices(source_ids, k=missing):
            copies[pk] = copies.get(pk, 0) + 1
        last_pk, top_pk, inserted = 0, source_ids[-1], 0
        while True:
            # Keyset pages bounded by the last source: the copies (higher keys) are never read back.
            rows = list(
                completed.filter(pk__gt=last_pk, pk__lte=top_pk).order_by("pk").values("pk", *COPIED)[:PAGE]
            )
            if not rows:
                break
            last_pk = rows[-1]["pk"]
            objs = []
            for row in rows:
                for _ in range(copies.get(row["pk"], 0)):
                    values = {field: row[field] for field in COPIED}
                    objs.append(Diagnostic(
                        person_id=rng.choice(person_ids), status=Diagnostic.Status.COMPLETED, **values,
                    ))
            if objs:
                with transaction.atomic():
                    fast_insert(Diagnostic, objs)
                inserted += len(objs)
        result["duplicated"] = inserted
        result["duplicate_s"] = time.perf_counter() - started
        log(f"    [{label}] {inserted} copies insérées en {result['duplicate_s']:.1f} s")
    queryset = completed
    total = completed.count()
    if total > args.count:
        cutoff = completed.order_by("pk").values_list("pk", flat=True)[args.count - 1]
        queryset = completed.filter(pk__lte=cutoff)
        log(f"    [{label}] {total} diagnostics terminés : seuls les {args.count} premiers seront re-notés")
    count = queryset.count()
    if count != args.count:
        raise BenchError(f"{count} diagnostics terminés au lieu de {args.count} après la copie")

    # 2. Invalidate the stored results (one UPDATE; the stored context is kept).
    started = time.perf_counter()
    meta = Diagnostic._meta
    quote = connection.ops.quote_name
    table, column = quote(meta.db_table), quote(meta.get_field("result").column)
    ids = queryset.order_by().values("pk")
    with transaction.atomic():
        if connection.vendor == "sqlite":
            sql, params = ids.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {column} = json_set({column}, '$.{STALE_KEY}', 1) "  # noqa: S608
                    f"WHERE {quote(meta.pk.column)} IN ({sql})",
                    params,
                )
                stale = cursor.rowcount
        elif connection.vendor == "postgresql":
            sql, params = ids.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {column} = {column} || %s::jsonb "  # noqa: S608
                    f"WHERE {quote(meta.pk.column)} IN ({sql})",
                    [json.dumps({STALE_KEY: 1}), *params],
                )
                stale = cursor.rowcount
        else:  # loses the stored context: rescore recomputes it from the person
            stale = Diagnostic.objects.filter(pk__in=ids).update(result={STALE_KEY: 1})
    if connection.vendor == "postgresql":
        # As autovacuum would after the bulk copy and the UPDATE (dead rows, planner statistics).
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {table}, {quote(Barrier._meta.db_table)}")
    result["invalidate_s"] = time.perf_counter() - started
    result["invalidated"] = stale
    barriers_before = Barrier.objects.filter(diagnostic__in=ids).count()
    log(
        f"    [{label}] {stale} résultats invalidés (clé « {STALE_KEY} ») en {result['invalidate_s']:.1f} s ; "
        f"{barriers_before} freins en base pour ces diagnostics"
    )

    # 3. The timed re-score.
    done = [0]
    step = max(args.count // 10, 1)
    started = time.perf_counter()

    def progress(n):
        before_step = done[0] // step
        done[0] += n
        if done[0] // step != before_step or done[0] == count:
            log(f"    [{label}] rescore {done[0]:>7}/{count}  {time.perf_counter() - started:6.1f} s")

    log(f"    [{label}] rescore de {count} diagnostics terminés (batch_size {args.batch_size})…")
    outcome = rescore(queryset, batch_size=args.batch_size, progress=progress)
    result["rescore_s"] = time.perf_counter() - started
    result.update(outcome)
    result["barriers_after"] = Barrier.objects.filter(diagnostic__in=ids).count()
    result["left_stale"] = queryset.filter(result__has_key=STALE_KEY).count()
    log(
        f"    [{label}] rescore : {outcome['scored']} notés, {outcome['changed']} modifiés en "
        f"{result['rescore_s']:.1f} s ; {result['barriers_after']} freins après"
    )
    if outcome["scored"] != count or outcome["changed"] != count or result["left_stale"]:
        raise BenchError(
            f"rescore incomplet : {outcome['scored']} notés, {outcome['changed']} modifiés sur {count}, "
            f"{result['left_stale']} résultats encore marqués"
        )
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        log(f"ÉCHEC du banc d'essai des diagnostics : {exc}")
        sys.exit(2)
