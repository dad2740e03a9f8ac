"""Worker of ``bench/run.py``: the référent's home with its alerts (issue 4 §5).

Runs against the database its environment designates (``SPIE_VAR_DIR`` for SQLite or
``DATABASE_URL``), already migrated and seeded by ``seed_demo`` (100,000 persons in the run).
Times ``GET /`` (alert cards, then the caseload with its counts) as the demo référente, whose
caseload the seed gives at least one alert of every kind (checked first with
``spie.followup.alerts.alert_counts``: a home without alerts would time nothing useful), and
``/healthz`` (anonymous) as the baseline of the same run on the same noisy machine. The client is
logged in with the second factor marked verified, as ``tests/conftest.py`` does.

Progress goes to stderr; the result is one line ``BENCH_RESULT {json}`` on stdout.

    python bench/followup.py --label sqlite [--requests 200] [--warmup 20]
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

from common import log, percentile  # bench/ is on sys.path (scripts run as python bench/<name>.py)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spie.settings")

BACKEND = "django.contrib.auth.backends.ModelBackend"
REFERENTE = "referente.demo@spie31.example"


class BenchError(Exception):
    pass


def verified_client(user):
    """A test client logged in as ``user`` with the second factor passed (tests/conftest.py)."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user, backend=BACKEND)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="banc d'essai", confirmed=True
    )
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def time_url(label, name, client, url, requests, warmup, expect=200):
    timings = []
    for i in range(warmup + requests):
        t0 = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != expect:
            location = response.get("Location", "")
            raise BenchError(f"{name} : GET {url} a répondu {response.status_code} {location}".strip())
        if i >= warmup:
            timings.append(elapsed)
    result = {
        "n": len(timings), "p50": percentile(timings, 0.5), "p95": percentile(timings, 0.95), "max": max(timings),
        "url": url,
    }
    log(f"    [{label}] {name:<12} p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms ({len(timings)} requêtes)")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client
    from django.urls import reverse

    from spie.followup import alerts
    from spie.network.models import Membership, User
    from spie.people.models import FollowUpMembership, Person

    persons = Person.objects.count()
    if not persons:
        raise BenchError("Aucune personne en base : lancez seed_demo avant le banc d'essai.")
    referente = User.objects.filter(email=REFERENTE).first()
    if referente is None:
        raise BenchError(f"{REFERENTE} absent : seed_demo à jour ?")
    membership = Membership.objects.filter(user=referente, is_active=True).select_related("structure").first()
    counts = alerts.alert_counts(referente, membership)
    missing = [kind for kind, n in counts.items() if not n]
    if missing:
        raise BenchError(f"{REFERENTE} n'a pas d'alerte de type {', '.join(missing)} : seed_demo à jour ?")
    caseload = FollowUpMembership.objects.filter(user=referente, end_date__isnull=True).count()
    log(f"    [{args.label}] {persons} personnes, file active de la référente : {caseload}, alertes : {counts}")

    home = reverse("people:home")
    client = verified_client(referente)
    page = client.get(home)
    if page.status_code != 200:
        raise BenchError(f"GET {home} a répondu {page.status_code} {page.get('Location', '')}")
    text = page.content.decode()
    shown = [kind for kind in alerts.KINDS if f"type={kind}" in text]
    result = {
        "label": args.label, "persons": persons, "caseload": caseload, "alerts": counts, "cards_shown": shown,
        "pages": {
            "healthz": time_url(args.label, "healthz", Client(), "/healthz", args.requests, args.warmup),
            "home_alerts": time_url(args.label, "home_alerts", client, home, args.requests, args.warmup),
        },
    }
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        log(f"ÉCHEC du banc d'essai du suivi : {exc}")
        sys.exit(2)
