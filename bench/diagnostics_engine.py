"""Benchmark of the diagnostic scoring engine (no Django, no database).

Scores 100,000 synthetic answer sets with ``spie/diagnostics/frameworks/spie-v1.yaml`` (a batch
re-score after a framework change) and prints one line ``BENCH diagnostic_engine_100k_s <s>``.
Only the scoring is timed (each result is counted then dropped, as a batch re-score that
writes results as it goes); the answer sets are generated in chunks beforehand so that memory
stays small. Seeded, so every run scores the same answers.

    .venv/bin/python bench/diagnostics_engine.py [--count 100000] [--framework path.yaml]
"""

import argparse
import datetime
import random
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spie.diagnostics import engine  # noqa: E402 - after the path setup

DEFAULT_FRAMEWORK = ROOT / "spie" / "diagnostics" / "frameworks" / "spie-v1.yaml"
CHUNK = 10_000
ROME_CODES = ("K2204", "N1103", "G1603", "J1501", "F1703", "H2909", "M1607", "A1203")
COMMUNES = ("31555", "31069", "31395", "31557", "31149", "31483")
TODAY = datetime.date(2026, 6, 1)


def random_answer(question, rng):
    """A plausible stored answer for ``question``, or None (unanswered) about one time in six."""
    if rng.random() < 1 / 6:
        return None
    kind = question.kind
    if kind == "single":
        return rng.choice(question.options).value
    if kind == "multiple":
        exclusive = [o.value for o in question.options if o.exclusive]
        if exclusive and rng.random() < 0.2:
            return [exclusive[0]]
        others = [o.value for o in question.options if not o.exclusive]
        return sorted(rng.sample(others, rng.randint(1, min(3, len(others)))), key=others.index)
    if kind == "yes_no":
        return rng.random() < 0.5
    if kind == "scale":
        return rng.randint(int(question.min), int(question.max))
    if kind == "number":
        low = question.min if question.min is not None else 0
        high = question.max if question.max is not None else 100
        return rng.randint(int(low), int(high))
    if kind == "date":
        return (TODAY + datetime.timedelta(days=rng.randint(0, 365))).isoformat()
    if kind == "rome":
        return rng.sample(ROME_CODES, rng.randint(1, 3))
    if kind == "commune":
        return rng.choice(COMMUNES)
    return "Texte libre de synthèse."


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--framework", default=str(DEFAULT_FRAMEWORK))
    args = parser.parse_args()

    with open(args.framework, encoding="utf-8") as handle:
        definition = yaml.safe_load(handle)
    started = time.perf_counter()
    compiled = engine.compile(definition)
    compile_s = time.perf_counter() - started
    questions = list(compiled.questions.values())
    rng = random.Random(31)

    scored = 0
    score_s = 0.0
    orientations = {}
    while scored < args.count:
        size = min(CHUNK, args.count - scored)
        batch = []
        for _ in range(size):
            answers = {}
            for question in questions:
                value = random_answer(question, rng)
                if value is not None:
                    answers[question.code] = value
            context = {"lone_parent": rng.random() < 0.2, "under_26": rng.random() < 0.2}
            batch.append((answers, context))
        # Like a batch re-score, each result is used (here counted) and dropped, not kept
        # in memory all together.
        started = time.perf_counter()
        for answers, context in batch:
            kind = engine.score(compiled, answers, context)["orientation"]["type"]
            orientations[kind] = orientations.get(kind, 0) + 1
        score_s += time.perf_counter() - started
        scored += size

    share = ", ".join(f"{kind} {count * 100 / scored:.0f} %" for kind, count in sorted(orientations.items()))
    print(
        f"{scored} jeux de réponses notés en {score_s:.2f} s "
        f"({score_s / scored * 1e6:.1f} µs chacun ; compilation {compile_s * 1000:.1f} ms) — {share}",
        file=sys.stderr,
    )
    print(f"BENCH diagnostic_engine_100k_s {score_s * 100_000 / scored:.2f}")


if __name__ == "__main__":
    main()
