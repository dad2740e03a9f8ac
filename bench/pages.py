"""Worker of ``bench/run.py``: times pages in-process with Django's test client.

Runs against the database its environment designates (``SPIE_VAR_DIR`` for SQLite or
``DATABASE_URL``), already migrated and seeded. Progress goes to stderr; the result is one
line ``BENCH_RESULT {json}`` on stdout.

Pages: ``healthz`` (anonymous baseline); ``home``, ``search`` and ``record`` by the demo
référente and a few other référents in turn; ``diagnostic_result`` (the result page of a
completed diagnostic of a person the demo référente is référente unique of, so with the
restricted health section) by the demo référente; ``orientation_queue`` (the chargé
d'orientation's queue) by the demo chargée d'orientation.

    python bench/pages.py --label sqlite [--requests 200] [--warmup 20] [--about-only]
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

OTHER_REFERENTS = 4  # besides the demo référente
BACKEND = "django.contrib.auth.backends.ModelBackend"
MIN_REQUESTS = 50  # timed requests kept on a page that overruns --page-budget (keeps the 20-minute budget)


class BenchError(Exception):
    pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument(
        "--page-budget", type=float, default=120,
        help=f"seconds per page after which timing stops (with at least {MIN_REQUESTS} timed requests)",
    )
    parser.add_argument(
        "--about-only", action="store_true",
        help="time /a-propos/ in place of the people pages (to check the harness while they are missing)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from spie.core.demo import DEMO_ACCOUNTS
    from spie.diagnostics.models import Diagnostic
    from spie.network.models import Membership, User
    from spie.people import policies as people_policies
    from spie.people.models import FollowUpMembership, Person

    if not settings.SPIE_DEMO_SKIP_2FA:
        raise BenchError("SPIE_DEMO_SKIP_2FA=1 est nécessaire : les pages demanderaient le second facteur.")
    rng = random.Random(args.seed)
    persons = Person.objects.count()
    if not persons:
        raise BenchError("Aucune personne en base : lancez seed_demo avant le banc d'essai.")

    # Users: the demo référente and a few other référents with a caseload.
    referente = User.objects.get(email=DEMO_ACCOUNTS[0].email)
    others = list(
        FollowUpMembership.objects.filter(kind="referent", end_date__isnull=True)
        .exclude(user=referente)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    users = [referente] + list(User.objects.filter(pk__in=rng.sample(others, min(OTHER_REFERENTS, len(others)))))
    caseloads = {}
    clients = []
    for user in users:
        client = Client()
        client.force_login(user, backend=BACKEND)
        clients.append((user, client))
        caseloads[user.pk] = list(
            FollowUpMembership.objects.filter(user=user, end_date__isnull=True).values_list("person_id", flat=True)
        )
    # A common last-name prefix: many results, as when a référent types three letters.
    prefixes = Counter(key[:3] for key in Person.objects.values_list("last_name_key", flat=True).iterator())
    prefix = prefixes.most_common(1)[0][0]

    # Completed diagnostics of the persons the demo référente is référente unique of.
    diagnostics = list(
        Diagnostic.objects.filter(
            status=Diagnostic.Status.COMPLETED,
            person__followups__user=referente,
            person__followups__kind=FollowUpMembership.Kind.REFERENT,
            person__followups__end_date__isnull=True,
        ).order_by("pk").values_list("person_id", "pk").distinct()
    )
    if not diagnostics and not args.about_only:
        raise BenchError(f"Aucun diagnostic terminé dans la file active de {referente.email} : seed_demo à jour ?")
    if diagnostics:
        # The premise of the page: as référente unique she sees the restricted (health) sections.
        membership = Membership.objects.filter(user=referente, is_active=True).select_related("structure").first()
        sample = Person.objects.get(pk=diagnostics[0][0])
        if not people_policies.access_for(referente, membership, sample).can_see(people_policies.HEALTH):
            raise BenchError(f"{referente.email} ne voit pas la section santé de la personne {sample.pk}")
    officer = User.objects.get(email=DEMO_ACCOUNTS[2].email)
    officer_client = Client()
    officer_client.force_login(officer, backend=BACKEND)
    referente_client = clients[0]

    def url_for(name, *url_args):
        if args.about_only:
            return "/a-propos/"
        try:
            return reverse(name, args=url_args)
        except NoReverseMatch as exc:
            raise BenchError(f"La page « {name} » n'existe pas (encore) : {exc}") from exc

    home_url = url_for("people:home")
    search_url = url_for("people:search")
    search_page = search_url if args.about_only else f"{search_url}?q={prefix}"
    record_page = "/a-propos/" if args.about_only else url_for("people:record", 0).replace("/0/", "/<id>/")
    result_page = (
        "/a-propos/" if args.about_only
        else url_for("diagnostics:detail", 0, 0).replace("/0/diagnostics/0/", "/<id>/diagnostics/<id>/")
    )
    queue_url = url_for("pathways:queue")

    def pick_diagnostic():  # (person id, diagnostic id)
        return rng.choice(diagnostics) if diagnostics else (0, 0)  # (0, 0) only with --about-only
    anonymous = Client()
    referents = clients
    pages = [  # (name, [(user, client)] taking turns, URL for a user, URL shown)
        ("healthz", [(None, anonymous)], lambda user: "/healthz", "/healthz"),
        ("home", referents, lambda user: home_url, home_url),
        ("search", referents, lambda user: search_page, search_page),
        ("record", referents, lambda user: url_for("people:record", rng.choice(caseloads[user.pk])), record_page),
        ("diagnostic_result", [referente_client], lambda user: url_for("diagnostics:detail", *pick_diagnostic()),
         result_page),
        ("orientation_queue", [(officer, officer_client)], lambda user: queue_url, queue_url),
    ]

    results = {
        "label": args.label, "persons": persons, "search_prefix": prefix, "pages": {},
        "referente_diagnostics": len(diagnostics),
    }
    for name, takers, make_url, shown in pages:
        timings = []
        started = time.perf_counter()
        total = args.warmup + args.requests
        shown_at = started
        for i in range(total):
            user, client = takers[i % len(takers)]
            url = make_url(user)
            t0 = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status_code != 200:
                who = "anonyme" if user is None else user.email
                location = response.get("Location", "")
                detail = f" (redirection vers {location})" if location else ""
                if response.get("Content-Type", "").startswith("application/json"):
                    detail += f" : {response.content.decode()[:300]}"
                raise BenchError(f"{name} : GET {url} ({who}) a répondu {response.status_code}{detail}")
            if time.perf_counter() - shown_at > 30:  # a slow page: show it is still going
                shown_at = time.perf_counter()
                log(f"    [{args.label}] {name} : {i + 1}/{total} requêtes ({shown_at - started:.0f} s)…")
            if i >= args.warmup:
                timings.append(elapsed)
                if len(timings) >= MIN_REQUESTS and time.perf_counter() - started > args.page_budget:
                    log(f"    [{args.label}] {name} : arrêt après {len(timings)} requêtes chronométrées "
                        f"(plus de {args.page_budget:.0f} s sur cette page)")
                    break
        results["pages"][name] = {
            "n": len(timings),
            "p50": percentile(timings, 0.50),
            "p95": percentile(timings, 0.95),
            "max": max(timings),
            "url": shown,
        }
        log(
            f"    [{args.label}] {name:<17} {args.warmup + len(timings)} requêtes en "
            f"{time.perf_counter() - started:5.1f} s "
            f"(p50 {results['pages'][name]['p50']:.1f} ms)"
        )
    print("BENCH_RESULT " + json.dumps(results), flush=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        log(f"ÉCHEC du banc d'essai des pages : {exc}")
        sys.exit(2)
