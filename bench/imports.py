"""Worker of ``bench/run.py``: importing a 50,000-row persons CSV (validate and commit).

Runs against the database its environment designates (``SPIE_VAR_DIR`` for SQLite or
``DATABASE_URL``), already migrated and seeded by ``seed_demo``. Not timed: the CSV is written
by ``spie.imports.samples.write_persons_csv`` (synthetic, Faker, the layout of a monthly CAF /
Département list) and the importing structure admin is looked up. Timed: the real command,

    manage.py import_file PATH --kind persons --structure-id N --user-email E --commit

in a subprocess (wall clock, start-up included), whose last line
``IMPORT rows=… valid=… errors=… created=… updated=… unchanged=… validate_s=… commit_s=…`` is
parsed. Progress goes to stderr; the result is one line ``BENCH_RESULT {json}`` on stdout.

    python bench/imports.py --label sqlite [--rows 50000] [--seed 31]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spie.settings")

STRUCTURE_NAME = "MDS Toulouse Bonnefoy"


def log(message):
    print(message, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def parse_import_line(text):
    """``{"rows": 50000, …, "validate_s": 12.3}`` from the command's last ``IMPORT`` line."""
    lines = [line for line in text.splitlines() if line.startswith("IMPORT ")]
    if not lines:
        return None
    values = {}
    for pair in lines[-1].split()[1:]:
        key, _, value = pair.partition("=")
        values[key] = float(value) if "." in value else int(value)
    return values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    import django

    django.setup()
    from spie.network.models import Membership
    from spie.people.models import Person

    try:
        from spie.imports.samples import write_persons_csv
    except ImportError as exc:
        raise BenchError(f"spie.imports.samples.write_persons_csv introuvable : {exc}") from exc
    admin = (
        Membership.objects.filter(structure__name=STRUCTURE_NAME, role=Membership.Role.ADMIN, is_active=True)
        .select_related("user", "structure").order_by("pk").first()
    )
    if admin is None:
        raise BenchError(f"Aucun administrateur actif de « {STRUCTURE_NAME} » : seed_demo à jour ?")
    before = Person.objects.count()
    with tempfile.TemporaryDirectory(prefix="spie-bench-import-") as tmp:
        path = Path(tmp) / f"personnes-{args.rows}.csv"
        started = time.perf_counter()
        write_persons_csv(str(path), args.rows, args.seed)
        log(f"    [{args.label}] fichier de {args.rows} lignes écrit en {time.perf_counter() - started:.1f} s "
            f"({path.stat().st_size / 2**20:.1f} Mo, non chronométré)")
        command = [
            sys.executable, str(ROOT / "manage.py"), "import_file", str(path), "--kind", "persons",
            "--structure-id", str(admin.structure_id), "--user-email", admin.user.email, "--commit",
        ]
        log(f"    [{args.label}] import_file … --commit ({admin.structure.name}, {admin.user.email})…")
        started = time.perf_counter()
        try:
            completed = subprocess.run(
                command, cwd=ROOT, env=os.environ.copy(), text=True, capture_output=True, timeout=args.timeout
            )
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"import_file n'a pas fini en {args.timeout:.0f} s") from exc
        wall = time.perf_counter() - started
    values = parse_import_line(completed.stdout)
    if completed.returncode != 0 or values is None:
        sys.stderr.write(completed.stdout[-3000:])
        sys.stderr.write(completed.stderr[-3000:])
        raise BenchError(f"import_file a échoué (code {completed.returncode})")
    after = Person.objects.count()
    result = {
        "label": args.label, "persons_before": before, "persons_after": after, "wall_s": wall,
        "import_s": values.get("validate_s", 0) + values.get("commit_s", 0), **values,
    }
    log(
        f"    [{args.label}] {values.get('rows')} lignes : {values.get('valid')} valides, {values.get('errors')} en "
        f"erreur, {values.get('created')} créées, {values.get('updated')} mises à jour ; vérification "
        f"{values.get('validate_s', 0):.1f} s + import {values.get('commit_s', 0):.1f} s ({wall:.1f} s en tout)"
    )
    if values.get("created", 0) + values.get("updated", 0) == 0:
        raise BenchError("aucune personne créée ni mise à jour : l'import n'a rien écrit")
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        log(f"ÉCHEC du banc d'essai des imports : {exc}")
        sys.exit(2)
