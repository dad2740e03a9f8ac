"""Speed benchmark of the matching engine (no Django, no database).

- **Full recompute**: 40,000 synthetic persons × 10,000 openings in Haute-Garonne (real communes,
  real ROME 4.0 graph), every person's top 20 with rebalancing and blocked near-matches
  (``recompute_all``, median of 3 runs) → ``BENCH match_full_s`` (target < 5 s). Compared with a
  straightforward plain-Python baseline doing the same work (each person against every opening:
  ROME level from dicts, ``math`` haversine, the same constraints and score, a sort) **timed on
  a sample of persons and scaled** to 40,000, without rebalancing → ``BENCH match_full_baseline_s``.
- **One person's top 20 with reasons** (``top_for_person`` with the last prices, then the reasons
  of each proposal), on random persons → ``BENCH match_person_p50_ms`` / ``_p95_ms``
  (targets < 20 ms / < 50 ms).
- **One opening's top 50 candidates with reasons** (``top_candidates_for_opening``)
  → ``BENCH match_opening_p95_ms`` (target < 200 ms).
- **National scale, in memory**: 1,000,000 openings over every commune of France, one person's
  top 20 with reasons → ``BENCH match_national_person_p95_ms`` (target < 100 ms) and the peak
  memory of building the openings, their index and answering, measured with ``tracemalloc``
  (numpy allocations included) → ``BENCH match_national_peak_mb``.

The indexes (openings by ROME code and latitude, persons by target code) are built once, as the
app would keep them between requests; their build time is printed. Seeded and deterministic.

    .venv/bin/python bench/matching.py [--persons 40000] [--openings 10000] [--national 1000000]
        [--sample 300] [--requests 300]
"""

import argparse
import csv
import math
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spie.matching import data as md  # noqa: E402 - after the path setup
from spie.matching import engine  # noqa: E402
from spie.matching.rome import LEVEL_APPELLATION, LEVEL_SAME, load_rome_graph  # noqa: E402

ROME_DIR = ROOT / "spie" / "referentials" / "data" / "rome"
COMMUNES = ROOT / "spie" / "referentials" / "data" / "communes_france.csv"
SEED = 31


def load_communes(departement=None):
    lat, lon, pop = [], [], []
    with open(COMMUNES, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if (departement is None or row["departement"] == departement) and row["lat"] and row["population"]:
                lat.append(float(row["lat"]))
                lon.append(float(row["lon"]))
                pop.append(float(row["population"]))
    return np.array(lat), np.array(lon), np.array(pop)


def place(rng, communes, n, power):
    lat, lon, pop = communes
    w = pop**power
    c = rng.choice(lat.size, n, p=w / w.sum())
    return lat[c] + rng.normal(0, 0.012, n), lon[c] + rng.normal(0, 0.016, n)


def code_popularity(rng, n_codes, active):
    codes = rng.choice(n_codes, active, replace=False)
    w = 1.0 / np.arange(1, active + 1) ** 0.9
    return codes, w / w.sum()


def make_openings(rng, n, communes, codes, weights, ref, power=1.2):
    lat, lon = place(rng, communes, n, power)
    rome = codes[rng.choice(codes.size, n, p=weights)]
    # an appellation of the code (about half of the openings name one)
    app_ptr = np.r_[0, np.cumsum(np.bincount(ref.appellation_code, minlength=len(ref.codes)))]
    app_order = np.argsort(ref.appellation_code, kind="stable")
    n_apps = app_ptr[rome + 1] - app_ptr[rome]
    pick = app_ptr[rome] + (rng.random(n) * np.maximum(n_apps, 1)).astype(np.int64)
    appellation = np.where((n_apps > 0) & (rng.random(n) < 0.5), app_order[np.minimum(pick, app_order.size - 1)], -1)
    schedule = (
        md.SCHED_DAY
        + md.SCHED_NIGHT * (rng.random(n) < 0.05)
        + md.SCHED_WEEKEND * (rng.random(n) < 0.2)
        + md.SCHED_EARLY * (rng.random(n) < 0.15)
        + md.SCHED_LATE * (rng.random(n) < 0.15)
    )
    return md.Openings(
        lat=lat,
        lon=lon,
        rome=rome,
        appellation=appellation,
        remote=rng.random(n) < 0.02,
        schedule=schedule,
        requires_licence=rng.random(n) < 0.12,
        health_incompatible=np.where(rng.random(n) < 0.25, 1 << rng.integers(0, 5, n), 0),
        contract=rng.choice(6, n, p=[0.35, 0.3, 0.15, 0.07, 0.08, 0.05]),
        weekly_hours=rng.choice([35.0, 24.0, 28.0, 39.0, 20.0], n),
        days_since_posted=rng.uniform(0, 60, n),
        positions=rng.choice([1, 1, 1, 2, 3], n),
        is_open=rng.random(n) < 0.97,
        min_experience_months=np.where(rng.random(n) < 0.3, 12, 0),
        required_skill=np.where(rng.random(n) < 0.08, rng.integers(0, 12, n), -1),
    )


def make_persons(rng, n, communes, codes, weights, ref):
    lat, lon = place(rng, communes, n, 1.0)
    g = ref.graph
    first = codes[rng.choice(codes.size, n, p=weights)]
    targets = np.full((n, 3), -1, dtype=np.int32)
    targets[:, 0] = first
    for t in (1, 2):
        # a neighbour of the first target (its expansion), or another popular code
        lo, hi = g.expand_ptr[first], g.expand_ptr[first + 1]
        nb = g.expand_code[lo + (rng.random(n) * (hi - lo)).astype(np.int64)]
        other = codes[rng.choice(codes.size, n, p=weights)]
        val = np.where(rng.random(n) < 0.6, nb, other)
        targets[:, t] = np.where(rng.random(n) < (0.6 if t == 1 else 0.35), val, -1)
    licence = rng.random(n) < 0.68
    vehicle = licence & (rng.random(n) < 0.8)
    mode = np.where(
        vehicle & (rng.random(n) < 0.9), md.MODE_CAR, np.where(rng.random(n) < 0.7, md.MODE_PUBLIC, md.MODE_ACTIVE)
    )
    quals = rng.random((n, 12)) < 0.15
    indptr = np.r_[0, np.cumsum(quals.sum(axis=1))]
    return md.Persons(
        lat=lat,
        lon=lon,
        targets=targets,
        travel_mode=mode,
        max_travel_min=rng.choice([20, 30, 45, 60], n),
        has_licence=licence,
        has_vehicle=vehicle,
        availability=(
            md.SCHED_DAY
            + md.SCHED_NIGHT * (rng.random(n) < 0.3)
            + md.SCHED_WEEKEND * (rng.random(n) < 0.55)
            + md.SCHED_EARLY * (rng.random(n) < 0.65)
            + md.SCHED_LATE * (rng.random(n) < 0.65)
        ),
        childcare=np.where(rng.random(n) < 0.2, md.SCHED_EARLY | md.SCHED_LATE, 0),
        health=np.where(rng.random(n) < 0.1, 1 << rng.integers(0, 5, n), 0),
        target_appellations=np.full((n, 3), -1),
        experience_months=rng.gamma(1.2, 14, (n, 3)),
        contract_pref=np.where(rng.random(n) < 0.4, 0, rng.integers(1, 64, n)),
        hours_min=rng.choice([15.0, 20.0, 24.0, 30.0], n),
        hours_max=rng.choice([30.0, 35.0, 39.0], n),
        skills=(indptr, np.nonzero(quals)[1]),
    )


# --------------------------------------------------------------------------------------------
# The plain-Python baseline: the same work, one pair at a time


def python_baseline(persons, openings, ref, sample, k=20):
    """Each sampled person against every opening, in plain Python; returns (seconds, top lists)."""
    g = ref.graph
    level = {}  # (target code, opening code) -> level
    for c in range(g.n_codes):
        for j in range(int(g.expand_ptr[c]), int(g.expand_ptr[c + 1])):
            level[(c, int(g.expand_code[j]))] = int(g.expand_level[j])
    op = [
        (
            float(la),
            float(lo),
            int(r),
            int(a),
            bool(rem),
            int(s),
            bool(lic),
            int(h),
            int(ct),
            float(wh),
            float(d),
            float(me),
            int(rs),
            bool(av),
        )
        for la, lo, r, a, rem, s, lic, h, ct, wh, d, me, rs, av in zip(
            openings.lat,
            openings.lon,
            openings.rome,
            openings.appellation,
            openings.remote,
            openings.schedule,
            openings.requires_licence,
            openings.health_incompatible,
            openings.contract,
            openings.weekly_hours,
            openings.days_since_posted,
            openings.min_experience_months,
            openings.required_skill,
            openings.available,
            strict=True,
        )
    ]
    speed = [float(x) for x in engine.SPEED_KMH]
    detour = [float(x) for x in engine.DETOUR]
    overhead = [float(x) for x in engine.OVERHEAD_MIN]
    w = [float(x) for x in engine.WEIGHTS]
    rome_score = [float(x) for x in engine.ROME_LEVEL_SCORE]
    transfer = [float(x) for x in engine.EXPERIENCE_TRANSFER]
    indptr, indices = persons.skills
    tops = {}
    start = time.perf_counter()
    for i in sample.tolist():
        lat1, lon1 = math.radians(persons.lat[i]), math.radians(persons.lon[i])
        mode = int(persons.effective_mode[i])
        max_min = float(persons.max_travel_min[i])
        licence = bool(persons.has_licence[i])
        avail, child, health = int(persons.availability[i]), int(persons.childcare[i]), int(persons.health[i])
        pref = int(persons.contract_pref[i])
        hmin, hmax = float(persons.hours_min[i]), float(persons.hours_max[i])
        skills = set(indices[indptr[i] : indptr[i + 1]].tolist())
        targets = [(t, int(c)) for t, c in enumerate(persons.targets[i]) if c >= 0]
        months_t = [float(m) for m in persons.experience_months[i]]
        apps_t = [int(a) for a in persons.target_appellations[i]]
        found = []
        for j, (la, lo, r, a, rem, s, lic, h, ct, wh, d, me, rs, av) in enumerate(op):
            if not av:
                continue
            best = None
            for t, c in targets:
                lv = level.get((c, r))
                if lv is not None and (best is None or lv < best[0]):
                    best = (lv, t)
            if best is None:
                continue
            lv, t = best
            if rem:
                km = minutes = car = 0.0
            else:
                la2, lo2 = math.radians(la), math.radians(lo)
                x = math.sin((la2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(la2) * math.sin((lo2 - lon1) / 2) ** 2
                km = 2 * 6371.0 * math.asin(math.sqrt(min(x, 1.0)))
                minutes = km * detour[mode] / speed[mode] * 60 + overhead[mode]
                car = km * detour[0] / speed[0] * 60 + overhead[0]
            if minutes > max_min and car > max_min:
                continue
            if s & ~avail or health & h:
                continue
            blocked = minutes > max_min or s & child or (lic and not licence) or (rs >= 0 and rs not in skills)
            if blocked:
                continue
            if lv == LEVEL_SAME and a >= 0 and a == apps_t[t]:
                lv = LEVEL_APPELLATION
            months = months_t[t] * transfer[lv + 1]
            s_exp = 1 - math.exp(-months / engine.EXPERIENCE_SCALE_MONTHS)
            if me > 0 and months < me:
                s_exp *= 0.5 + 0.5 * months / me
            s_travel = 1.0 if rem else min(max(1 - minutes / max(max_min, 1), 0.0), 1.0)
            s_contract = 0.7 if pref == 0 else (1.0 if (pref >> ct) & 1 else 0.2)
            gap = max(hmin - wh, wh - hmax, 0.0)
            s_hours = min(max(1 - gap / engine.HOURS_TOLERANCE, 0.0), 1.0)
            s_rec = 2 ** (-d / engine.RECENCY_HALF_LIFE_DAYS)
            s_pref = max(1 - engine.PREFERENCE_STEP * t, 0.0)
            score = (
                w[0] * rome_score[lv + 1]
                + w[1] * s_exp
                + w[2] * s_travel
                + w[3] * s_contract
                + w[4] * s_hours
                + w[5] * s_rec
                + w[6] * s_pref
                + w[7] * 0.5
            )
            found.append((score, j))
        found.sort(reverse=True)
        tops[i] = [j for _, j in found[:k]]
    return time.perf_counter() - start, tops


def percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def timed(fn, repeat):
    out = []
    for arg in repeat:
        t = time.perf_counter()
        fn(arg)
        out.append(time.perf_counter() - t)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=40_000)
    parser.add_argument("--openings", type=int, default=10_000)
    parser.add_argument("--national", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=300, help="persons timed for the plain-Python baseline")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(SEED)
    t0 = time.perf_counter()
    ref = load_rome_graph(ROME_DIR)
    g = ref.graph
    hg = load_communes("31")
    codes, weights = code_popularity(rng, g.n_codes, 400)
    persons = make_persons(rng, args.persons, hg, codes, weights, ref)
    openings = make_openings(rng, args.openings, hg, codes, weights, ref)
    print(
        f"Données synthétiques : {args.persons} personnes, {args.openings} offres, graphe ROME "
        f"{g.n_codes} codes ({time.perf_counter() - t0:.1f} s)"
    )
    rows = []

    # full recompute
    t = time.perf_counter()
    index = engine.build_opening_index(openings, g)
    t_index = time.perf_counter() - t
    runs = []
    proposals = None
    for _ in range(3):
        t = time.perf_counter()
        proposals = engine.recompute_all(persons, openings, g, k=20)  # the index build is included here
        runs.append(time.perf_counter() - t)
    full_s = float(np.median(runs))
    info = proposals.info
    sample = rng.choice(args.persons, min(args.sample, args.persons), replace=False)
    base_sample_s, base_tops = python_baseline(persons, openings, ref, sample)
    baseline_s = base_sample_s * args.persons / sample.size
    # same work: the baseline's lists against the engine's without rebalancing, on the sample
    same = []
    for i in sample.tolist():
        mine = engine.top_for_person(i, persons, openings, g, k=20, index=index).eligible.opening.tolist()
        same.append(len(set(mine) & set(base_tops[i])) / max(len(base_tops[i]), 1) if base_tops[i] or mine else 1.0)
    rows.append(
        (
            "recalcul complet (40 000 × 10 000, rééquilibrage inclus)",
            f"{full_s:.2f} s",
            f"{len(proposals.eligible)} propositions, {len(proposals.blocked)} bloquées, "
            f"{info.get('pool_pairs', 0)} paires en réserve",
        )
    )
    rows.append(
        (
            "référence Python pur (sans rééquilibrage)",
            f"{baseline_s:.1f} s",
            f"mesurée sur {sample.size} personnes ({base_sample_s:.2f} s) puis extrapolée ×"
            f"{args.persons / sample.size:.0f} ; mêmes top 20 que le moteur sans rééquilibrage : "
            f"{100 * float(np.mean(same)):.1f} %",
        )
    )

    # one person, one opening
    prices = proposals.opening_price
    person_index = engine.build_person_index(persons, g)

    def person_query(i):
        prop = engine.top_for_person(int(i), persons, openings, g, k=20, index=index, prices=prices)
        prop.eligible.as_dicts()
        prop.blocked.as_dicts()

    def opening_query(j):
        prop = engine.top_candidates_for_opening(int(j), persons, openings, g, k=50, person_index=person_index)
        prop.eligible.as_dicts()

    queries = rng.choice(args.persons, args.requests, replace=False)
    timed(person_query, queries[:20])  # warm-up
    person_t = timed(person_query, queries)
    open_ids = rng.choice(np.flatnonzero(openings.available), args.requests, replace=False)
    opening_t = timed(opening_query, open_ids)
    rows.append(
        (
            "top 20 d'une personne avec raisons",
            f"p50 {percentile(person_t, 50):.1f} ms",
            f"p95 {percentile(person_t, 95):.1f} ms sur {len(person_t)} personnes",
        )
    )
    rows.append(
        (
            "top 50 candidats d'une offre avec raisons",
            f"p50 {percentile(opening_t, 50):.1f} ms",
            f"p95 {percentile(opening_t, 95):.1f} ms sur {len(opening_t)} offres",
        )
    )

    # national scale
    france = load_communes()
    n_codes_nat, w_nat = code_popularity(rng, g.n_codes, g.n_codes)
    tracemalloc.start()
    t = time.perf_counter()
    nat_openings = make_openings(rng, args.national, france, n_codes_nat, w_nat, ref, power=1.1)
    nat_index = engine.build_opening_index(nat_openings, g)
    t_nat_build = time.perf_counter() - t
    nat_persons = make_persons(rng, args.requests, france, n_codes_nat, w_nat, ref)

    def national_query(i):
        prop = engine.top_for_person(int(i), nat_persons, nat_openings, g, k=20, index=nat_index)
        prop.eligible.as_dicts()
        prop.blocked.as_dicts()

    national_query(0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    timed(national_query, range(10))  # warm-up, without tracemalloc
    nat_t = timed(national_query, range(args.requests))
    nat_p95 = percentile(nat_t, 95)
    peak_mb = peak / 1e6
    rows.append(
        (
            f"national : top 20 d'une personne parmi {args.national:,} offres".replace(",", " "),
            f"p95 {nat_p95:.1f} ms",
            f"p50 {percentile(nat_t, 50):.1f} ms ; construction des offres et de l'index {t_nat_build:.1f} s",
        )
    )
    rows.append(
        ("national : mémoire au pic (tracemalloc)", f"{peak_mb:.0f} Mo", "offres synthétiques + index + une requête")
    )

    width = max(len(r[0]) for r in rows) + 2
    print(f"\n{'mesure':<{width}}{'valeur':>14}  détail")
    for label, value, detail in rows:
        print(f"{label:<{width}}{value:>14}  {detail}")
    print(
        f"\nIndex des offres (40 000 × 10 000) : {t_index * 1000:.0f} ms ; recalculs : "
        + ", ".join(f"{r:.2f} s" for r in runs)
        + f" ; Sinkhorn : {info.get('sinkhorn_iterations')} itérations, "
        f"plafond dur : {info.get('hard_cap_rounds')} tours"
    )
    print(f"\nBENCH match_full_s {full_s:.3f}")
    print(f"BENCH match_full_baseline_s {baseline_s:.1f}")
    print(f"BENCH match_person_p50_ms {percentile(person_t, 50):.2f}")
    print(f"BENCH match_person_p95_ms {percentile(person_t, 95):.2f}")
    print(f"BENCH match_opening_p95_ms {percentile(opening_t, 95):.2f}")
    print(f"BENCH match_national_person_p95_ms {nat_p95:.2f}")
    print(f"BENCH match_national_peak_mb {peak_mb:.0f}")
    print(f"(total {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
