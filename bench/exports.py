"""Worker of ``bench/run.py``: exporting a 100,000-person caseload to CSV and XLSX, peak memory.

Runs against the database its environment designates (``SPIE_VAR_DIR`` for SQLite or
``DATABASE_URL``), already migrated and seeded by ``seed_demo``.

1. Setup, not timed: a bench professional (``bench.export@spie31.example``, référent at the MDS
   Toulouse Bonnefoy) is added as a member of the follow-up group of every person of the
   territory (``fast_insert``, one row per person without an active membership of theirs).
2. For each format, a fresh Python process (``--measure csv|xlsx``) logs in with the second
   factor marked verified (as ``tests/conftest.py`` does), reads its resident memory right before
   the request, runs the real caseload export (``GET /?format=…`` through ``django.test.Client``),
   consumes the streamed response (CSV: lines counted on the fly; XLSX: bytes written to a
   temporary file) and then reads its peak resident memory (``getrusage(RUSAGE_SELF).ru_maxrss``).
   The XLSX rows are counted afterwards (openpyxl, read-only), once the peak has been read.

Progress goes to stderr; the result is one line ``BENCH_RESULT {json}`` on stdout.

    python bench/exports.py --label sqlite
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spie.settings")

BENCH_EMAIL = "bench.export@spie31.example"
STRUCTURE_NAME = "MDS Toulouse Bonnefoy"
FORMATS = ("csv", "xlsx")
BATCH = 5000


def log(message):
    print(message, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def current_rss_mb():
    """Resident memory of this process now (Linux /proc; else the peak so far)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def setup():
    """The bench professional, member of every person's follow-up group. Returns (user, persons)."""
    from django.db import transaction
    from django.utils import timezone

    from spie.core.bulk import fast_insert
    from spie.network.models import Membership, Structure, User
    from spie.people.models import FollowUpMembership, Person

    structure = Structure.objects.filter(name=STRUCTURE_NAME).select_related("territory").first()
    if structure is None:
        raise BenchError(f"Structure « {STRUCTURE_NAME} » absente : seed_demo à jour ?")
    user = User.objects.filter(email=BENCH_EMAIL).first()
    if user is None:
        user = User.objects.create_user(BENCH_EMAIL, first_name="Banc", last_name="D'essai")
    Membership.objects.get_or_create(
        user=user, structure=structure, defaults={"role": Membership.Role.REFERENT, "is_active": True}
    )
    territory = structure.territory
    persons = Person.objects.filter(territory=territory)
    already = set(
        FollowUpMembership.objects.filter(user=user, end_date__isnull=True).values_list("person_id", flat=True)
    )
    missing = [pk for pk in persons.values_list("pk", flat=True).iterator(chunk_size=10000) if pk not in already]
    today = timezone.localdate()
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, len(missing), BATCH):
            fast_insert(FollowUpMembership, [
                FollowUpMembership(
                    person_id=pk, user=user, structure=structure, kind=FollowUpMembership.Kind.MEMBER,
                    start_date=today, reason="Banc d'essai des exports", added_by=user,
                )
                for pk in missing[start:start + BATCH]
            ])
    log(f"    {len(missing)} adhésions au groupe de suivi ajoutées pour {BENCH_EMAIL} "
        f"en {time.perf_counter() - started:.1f} s (non chronométré)")
    return user, persons.count()


def measure(fmt, user_id):
    """In a fresh process: one export, its peak memory, seconds and rows."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from spie.network.models import User

    user = User.objects.get(pk=user_id)
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="banc d'essai", confirmed=True
    )
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()

    baseline = current_rss_mb()
    baseline_peak = peak_rss_mb()
    started = time.perf_counter()
    response = client.get(f"/?format={fmt}")
    if response.status_code != 200:
        raise BenchError(f"GET /?format={fmt} a répondu {response.status_code} {response.get('Location', '')}")
    size = 0
    lines = 0
    streamed = getattr(response, "streaming", False)
    chunks = response.streaming_content if streamed else [response.content]
    with tempfile.NamedTemporaryFile(suffix=f".{fmt}") as out:
        for chunk in chunks:
            if isinstance(chunk, str):
                chunk = chunk.encode()
            size += len(chunk)
            if fmt == "csv":
                lines += chunk.count(b"\n")
            else:
                out.write(chunk)
        seconds = time.perf_counter() - started
        peak = peak_rss_mb()
        if fmt == "csv":
            rows = lines - 1  # the header
        else:
            from openpyxl import load_workbook

            out.flush()
            workbook = load_workbook(out.name, read_only=True)
            rows = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True)) - 1
            workbook.close()
    return {
        "format": fmt, "rows": rows, "bytes": size, "seconds": seconds, "streamed": streamed,
        "baseline_mb": baseline, "baseline_peak_mb": baseline_peak, "peak_mb": peak,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--measure", choices=FORMATS, help="(interne) mesurer un export dans ce processus")
    parser.add_argument("--user-id", type=int)
    args = parser.parse_args()

    import django

    django.setup()
    if args.measure:
        print("MEASURE " + json.dumps(measure(args.measure, args.user_id)), flush=True)
        return

    user, persons = setup()
    result = {"label": args.label, "persons": persons, "exports": {}}
    for fmt in FORMATS:
        log(f"    [{args.label}] export {fmt.upper()} de la file active de {persons} personnes (processus neuf)…")
        completed = subprocess.run(
            [sys.executable, __file__, "--label", args.label, "--measure", fmt, "--user-id", str(user.pk)],
            cwd=ROOT, env=os.environ.copy(), text=True, stdout=subprocess.PIPE, timeout=900,
        )
        lines = [line for line in completed.stdout.splitlines() if line.startswith("MEASURE ")]
        if completed.returncode != 0 or not lines:
            raise BenchError(f"la mesure de l'export {fmt} a échoué (code {completed.returncode})")
        data = json.loads(lines[-1].removeprefix("MEASURE "))
        log(
            f"    [{args.label}] {fmt.upper()} : {data['rows']} lignes, {data['bytes'] / 2**20:.1f} Mo en "
            f"{data['seconds']:.1f} s ; mémoire {data['baseline_mb']:.0f} Mo avant, pic {data['peak_mb']:.0f} Mo"
        )
        if data["rows"] != persons:
            raise BenchError(f"l'export {fmt} contient {data['rows']} lignes au lieu de {persons}")
        result["exports"][fmt] = data
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        log(f"ÉCHEC du banc d'essai des exports : {exc}")
        sys.exit(2)
