"""Quality evaluation of the matching engine (``make eval-matching``), no Django, no database.

A synthetic labour market of Haute-Garonne with a planted ground truth:

- **Latent job affinities.** Every ROME code of the real ROME 4.0 graph gets a latent vector
  (its grand domain + its professional domain + its own noise, smoothed along the real mobility
  links); every person a latent vector near a "home" code. The affinity of a person for a code
  is the cosine of the two vectors. The engine never sees it: it sees the targets the person
  declared (noisy picks driven by that affinity and by experience), the months of experience, and
  the ROME graph, so it can only approximate the affinity through ROME proximity.
- **Places and constraints.** Persons and openings sit in real communes of the département
  (population-weighted, openings more concentrated in the Toulouse area); persons have a licence,
  a vehicle, a travel mode and accepted time, availability, childcare, health restrictions,
  contract and hours wishes, qualifications; openings their own requirements.
- **Hires in two periods.** Each period has its own openings; persons, in random order, take the
  available opening of highest utility ``4·affinity + appellation bonus − 1.5·true travel time /
  accepted time + experience + contract/hours fit + recency + Gumbel noise`` among those that are
  *truly* feasible (the true travel time uses a per-pair detour, not the engine's estimate),
  if it beats staying out, until positions run out. The first period's hires are **visible**: they
  become work experience (months in that code) in the records the engine reads. The second
  period's hires are **hidden**: they are the ground truth.

The engine ranks the second-period openings for every person (full recompute, k = 20, with
rebalancing) and is compared, in the same run and on the same eligible pairs, with two baselines:
``rome_distance`` (openings of exactly one of the declared ROME codes, nearest first) and
``random`` (a random order of the engine's eligible pairs: same ROME expansion and hard
constraints, no scoring). Every proposal of every method goes through an independent plain-Python
check of the hard constraints (``constraint_violations`` must be 0). Figures are printed as a
table, then as ``EVAL name value`` lines. Seeded: every run prints the same figures.

    .venv/bin/python bench/eval_matching.py [--persons 12000] [--openings 3000] [--seed 31]
"""

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spie.matching import data as md  # noqa: E402 - after the path setup
from spie.matching import engine, metrics  # noqa: E402
from spie.matching.rome import load_rome_graph  # noqa: E402

ROME_DIR = ROOT / "spie" / "referentials" / "data" / "rome"
COMMUNES = ROOT / "spie" / "referentials" / "data" / "communes_france.csv"
DIM = 16
ACTIVE_CODES = 260  # ROME codes with openings in the synthetic market
N_QUALIFICATIONS = 12

# Ground-truth utility (never the engine's score: latent affinity, true travel time, …).
U_AFFINITY = 4.0
U_APPELLATION = 0.4
U_TRAVEL = 1.5
U_EXPERIENCE = 0.35
U_CONTRACT = 0.3
U_HOURS = 0.25
U_RECENCY = 0.3
U_NOISE = 0.5
U_OUTSIDE = 2.4  # staying out of these openings


# --------------------------------------------------------------------------------------------
# The synthetic market


def load_communes(departement="31"):
    rows = []
    with open(COMMUNES, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["departement"] == departement and row["lat"] and row["population"]:
                rows.append(
                    (
                        float(row["lat"]),
                        float(row["lon"]),
                        int(row["population"]),
                        row["epci_nom"] == "Toulouse Métropole",
                        row["nom"],
                    )
                )
    lat = np.array([r[0] for r in rows])
    lon = np.array([r[1] for r in rows])
    pop = np.array([r[2] for r in rows], dtype=float)
    metro = np.array([r[3] for r in rows])
    names = [r[4] for r in rows]
    return lat, lon, pop, metro, names


def place(rng, communes, n, power):
    lat, lon, pop, metro, names = communes
    w = pop**power
    c = rng.choice(lat.size, n, p=w / w.sum())
    jitter = rng.normal(0, 1.2, (n, 2))  # km
    return (lat[c] + jitter[:, 0] / 111.19, lon[c] + jitter[:, 1] / (111.19 * math.cos(math.radians(43.5))), c)


def code_vectors(rng, ref):
    codes = ref.codes
    n = len(codes)
    grand = {g: rng.normal(0, 1, DIM) for g in sorted({c[0] for c in codes})}
    dom = {d: rng.normal(0, 1, DIM) for d in sorted({c[:3] for c in codes})}
    emb = np.array([grand[c[0]] + 0.9 * dom[c[:3]] for c in codes]) + rng.normal(0, 0.8, (n, DIM))
    # smoothing along the real mobility links (both kinds)
    g = ref.graph
    smooth = np.zeros_like(emb)
    for c in range(n):
        lo, hi = g.expand_ptr[c], g.expand_ptr[c + 1]
        nb = g.expand_code[lo:hi][(g.expand_level[lo:hi] == 1) | (g.expand_level[lo:hi] == 2)]
        if nb.size:
            smooth[c] = emb[nb].mean(axis=0)
    emb = emb + 0.6 * smooth
    return emb / np.linalg.norm(emb, axis=1, keepdims=True)


def make_openings(rng, n, active, pop_w, communes, ref):
    lat, lon, _ = place(rng, communes, n, 1.25)
    rome = active[rng.choice(active.size, n, p=pop_w)]
    apps = [np.flatnonzero(ref.appellation_code == c) for c in range(len(ref.codes))]
    appellation = np.array(
        [a[min(int(rng.geometric(0.5)) - 1, a.size - 1)] if a.size else -1 for a in (apps[c] for c in rome)]
    )
    schedule = (
        md.SCHED_DAY
        + md.SCHED_NIGHT * (rng.random(n) < 0.05)
        + md.SCHED_WEEKEND * (rng.random(n) < 0.2)
        + md.SCHED_EARLY * (rng.random(n) < 0.15)
        + md.SCHED_LATE * (rng.random(n) < 0.15)
    )
    health_bits = np.array(
        [md.HEALTH_HEAVY_LOADS, md.HEALTH_STANDING, md.HEALTH_NIGHT_WORK, md.HEALTH_OUTDOOR, md.HEALTH_SCREEN]
    )
    health = np.where(rng.random(n) < 0.25, health_bits[rng.integers(0, 5, n)], 0)
    contract = rng.choice(6, n, p=[0.35, 0.3, 0.15, 0.07, 0.08, 0.05])
    hours = rng.choice([35.0, 24.0, 28.0, 39.0, 20.0, 30.0], n, p=[0.55, 0.1, 0.1, 0.1, 0.05, 0.1])
    return md.Openings(
        lat=lat,
        lon=lon,
        rome=rome,
        appellation=appellation,
        remote=rng.random(n) < 0.02,
        schedule=schedule,
        requires_licence=rng.random(n) < 0.12,
        health_incompatible=health,
        contract=contract,
        weekly_hours=hours,
        days_since_posted=rng.uniform(0, 60, n),
        positions=rng.choice([1, 1, 1, 2, 3], n),
        min_experience_months=np.where(rng.random(n) < 0.3, rng.choice([6, 12, 24], n), 0),
        required_skill=np.where(rng.random(n) < 0.08, rng.integers(0, N_QUALIFICATIONS, n), -1),
    )


class Market:
    """Persons with their latent side, and the two periods' openings and hires."""

    def __init__(self, n_persons, n_openings, seed):
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.ref = load_rome_graph(ROME_DIR)
        self.graph = self.ref.graph
        self.communes = load_communes()
        n_codes = len(self.ref.codes)
        self.emb = code_vectors(rng, self.ref)
        active = np.sort(rng.choice(n_codes, ACTIVE_CODES, replace=False))
        popularity = rng.pareto(1.2, ACTIVE_CODES) + 1
        self.active = active
        self.open_w = popularity / popularity.sum()
        demand = popularity * rng.lognormal(0, 0.6, ACTIVE_CODES)  # demand ≠ supply: congestion
        demand_w = demand / demand.sum()

        n = n_persons
        self.home = active[rng.choice(ACTIVE_CODES, n, p=demand_w)]
        noise = rng.normal(0, 1, (n, DIM))
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        vec = self.emb[self.home] + 0.55 * noise
        self.vec = vec / np.linalg.norm(vec, axis=1, keepdims=True)
        apps = [np.flatnonzero(self.ref.appellation_code == c) for c in range(n_codes)]
        self.latent_app = np.array([rng.choice(apps[c]) if apps[c].size else -1 for c in self.home])

        lat, lon, commune = place(rng, self.communes, n, 1.0)
        licence = rng.random(n) < 0.68
        vehicle = licence & (rng.random(n) < 0.8)
        mode = np.where(
            vehicle & (rng.random(n) < 0.92),
            md.MODE_CAR,
            np.where(rng.random(n) < 0.72, md.MODE_PUBLIC, md.MODE_ACTIVE),
        )
        max_min = rng.choice([20.0, 30.0, 45.0, 60.0], n, p=[0.15, 0.35, 0.35, 0.15])
        availability = (
            md.SCHED_DAY
            + md.SCHED_NIGHT * (rng.random(n) < 0.3)
            + md.SCHED_WEEKEND * (rng.random(n) < 0.55)
            + md.SCHED_EARLY * (rng.random(n) < 0.65)
            + md.SCHED_LATE * (rng.random(n) < 0.65)
        )
        childcare = np.where(
            rng.random(n) < 0.2,
            rng.choice(
                [md.SCHED_EARLY | md.SCHED_LATE, md.SCHED_WEEKEND, md.SCHED_EARLY | md.SCHED_LATE | md.SCHED_WEEKEND], n
            ),
            0,
        )
        health_bits = np.array(
            [md.HEALTH_HEAVY_LOADS, md.HEALTH_STANDING, md.HEALTH_NIGHT_WORK, md.HEALTH_OUTDOOR, md.HEALTH_SCREEN]
        )
        health = np.where(rng.random(n) < 0.1, health_bits[rng.integers(0, 5, n)], 0)
        contract_pref = np.where(rng.random(n) < 0.4, 0, rng.integers(1, 64, n) | 1)
        hours_lo = rng.choice([15.0, 20.0, 24.0, 30.0], n)
        hours_hi = hours_lo + rng.choice([8.0, 12.0, 15.0], n)
        quals = [np.flatnonzero(rng.random(N_QUALIFICATIONS) < 0.15) for _ in range(n)]
        indptr = np.r_[0, np.cumsum([q.size for q in quals])]
        indices = np.concatenate(quals) if quals else np.zeros(0, int)
        self.detour_seed = int(rng.integers(1 << 30))
        self.base = dict(
            lat=lat,
            lon=lon,
            travel_mode=mode,
            max_travel_min=max_min,
            has_licence=licence,
            has_vehicle=vehicle,
            availability=availability,
            childcare=childcare,
            health=health,
            contract_pref=contract_pref,
            hours_min=hours_lo,
            hours_max=hours_hi,
            skills=(indptr, indices),
        )
        self.commune = commune

        # older career: 0–2 jobs drawn by affinity among the active codes
        self.months = {}  # (person, code) -> months
        aff_active = self.vec @ self.emb[active].T
        for i in range(n):
            for _ in range(rng.choice(3, p=[0.3, 0.45, 0.25])):
                p = np.exp((aff_active[i] - aff_active[i].max()) / 0.08)
                c = int(active[rng.choice(ACTIVE_CODES, p=p / p.sum())])
                self.months[(i, c)] = self.months.get((i, c), 0.0) + float(rng.gamma(2.0, 10.0))

        # period 1: visible hires → experience
        self.openings_past = make_openings(rng, n_openings, active, self.open_w, self.communes, self.ref)
        persons_tmp = self.persons(declare=False)
        hires_past = self.simulate_hires(persons_tmp, self.openings_past)
        for i, j in hires_past.items():
            c = int(self.openings_past.rome[j])
            self.months[(i, c)] = self.months.get((i, c), 0.0) + float(rng.gamma(2.0, 5.0)) + 3.0
        self.hires_past = hires_past
        # declared targets, from affinity and experience
        self.declare(rng)
        # period 2: hidden hires (ground truth)
        self.openings_now = make_openings(rng, n_openings, active, self.open_w, self.communes, self.ref)
        self.hires_now = self.simulate_hires(self.persons(), self.openings_now)

        self.gender = np.where(rng.random(n) < 0.52, "femme", "homme")
        self.age = rng.integers(18, 65, n)
        self.rsa = np.where(rng.random(n) < 0.35, "RSA", "sans RSA")
        self.rqth = np.where(rng.random(n) < 0.08, "RQTH", "sans RQTH")
        metro = self.communes[3][commune]
        self.residence = np.where(metro, "Toulouse Métropole", "hors métropole")

    def declare(self, rng, t_max=3):
        n = self.vec.shape[0]
        active = self.active
        aff = self.vec @ self.emb[active].T
        targets = np.full((n, t_max), -1, dtype=np.int32)
        apps = np.full((n, t_max), -1, dtype=np.int32)
        months = np.zeros((n, t_max), dtype=np.float32)
        n_t = rng.choice([1, 2, 3], n, p=[0.4, 0.35, 0.25])
        exp_bonus = np.zeros_like(aff)
        col = {int(c): k for k, c in enumerate(active)}
        for (i, c), m in self.months.items():
            exp_bonus[i, col[c]] = 0.5 * math.log1p(m)
        u = aff / 0.07 + exp_bonus + rng.gumbel(0, 1.0, aff.shape)
        order = np.argsort(-u, axis=1)[:, :t_max]
        for i in range(n):
            for t in range(n_t[i]):
                c = int(active[order[i, t]])
                targets[i, t] = c
                months[i, t] = self.months.get((i, c), 0.0)
                if c == self.home[i] and rng.random() < 0.5:
                    apps[i, t] = self.latent_app[i]
        self.targets, self.target_apps, self.target_months = targets, apps, months

    def persons(self, declare=True):
        n = self.vec.shape[0]
        if declare:
            return md.Persons(
                targets=self.targets,
                target_appellations=self.target_apps,
                experience_months=self.target_months,
                **self.base,
            )
        return md.Persons(targets=np.full((n, 1), -1), **self.base)

    def true_travel(self, pi, oj, persons, openings):
        """True travel minutes: the engine's mode speeds with a per-pair detour it cannot see."""
        d = engine.haversine_km(persons.lat[pi], persons.lon[pi], openings.lat[oj], openings.lon[oj])
        h = (pi.astype(np.int64) * 1_000_003 + oj * 7919 + self.detour_seed) % 10_007 / 10_007.0
        detour = 1.15 + 0.45 * h
        mode = persons.effective_mode[pi].astype(np.int64)
        t = d * detour / engine.SPEED_KMH[mode] * 60 + engine.OVERHEAD_MIN[mode]
        return np.where(openings.remote[oj], 0.0, t)

    def simulate_hires(self, persons, openings, top=25, chunk=1500):
        """One hire at most per person, persons in random order, each taking their best truly
        feasible opening that still has a position, if it beats staying out."""
        rng = self.rng
        n, m = len(persons), len(openings)
        emb_o = self.emb[openings.rome]
        best = np.full((n, top), -1, dtype=np.int64)
        best_u = np.full((n, top), -np.inf)
        code_col = np.zeros(len(self.ref.codes), dtype=np.int64)
        code_col[self.active] = np.arange(self.active.size)
        months_active = np.zeros((n, self.active.size))
        for (i, c), mth in self.months.items():
            months_active[i, code_col[c]] = mth
        for start in range(0, n, chunk):
            pi = np.arange(start, min(n, start + chunk))
            pp = np.repeat(pi, m)
            oo = np.tile(np.arange(m), pi.size)
            aff = (self.vec[pi] @ emb_o.T).ravel()
            t = self.true_travel(pp, oo, persons, openings)
            maxm = persons.max_travel_min[pp]
            sched = openings.schedule[oo]
            ok = (t <= maxm) & ((sched & ~persons.availability[pp]) == 0) & ((sched & persons.childcare[pp]) == 0)
            ok &= (persons.health[pp] & openings.health_incompatible[oo]) == 0
            ok &= ~(openings.requires_licence[oo] & ~persons.has_licence[pp])
            req = openings.required_skill[oo]
            ok &= (req < 0) | persons.has_skill(pp, req)
            months = months_active[pp, code_col[openings.rome[oo]]]
            pref = persons.contract_pref[pp]
            contract_ok = (pref == 0) | (((pref >> openings.contract[oo].astype(np.int16)) & 1) == 1)
            hours = openings.weekly_hours[oo]
            hours_ok = (hours >= persons.hours_min[pp]) & (hours <= persons.hours_max[pp])
            u = (
                U_AFFINITY * aff
                + U_APPELLATION * (openings.appellation[oo] == self.latent_app[pp])
                - U_TRAVEL * t / maxm
                + U_EXPERIENCE * np.log1p(months) / 2
                + U_CONTRACT * contract_ok
                + U_HOURS * hours_ok
                + U_RECENCY * np.exp(-openings.days_since_posted[oo] / 30)
                + rng.gumbel(0, U_NOISE, pp.size)
            )
            u = np.where(ok, u, -np.inf).reshape(pi.size, m)
            part = np.argpartition(-u, top - 1, axis=1)[:, :top]
            pu = np.take_along_axis(u, part, axis=1)
            order = np.argsort(-pu, axis=1)
            best[pi] = np.take_along_axis(part, order, axis=1)
            best_u[pi] = np.take_along_axis(pu, order, axis=1)
        left = openings.positions.copy()
        hires = {}
        for i in rng.permutation(n).tolist():
            for j, u in zip(best[i].tolist(), best_u[i].tolist(), strict=True):
                if u < U_OUTSIDE:
                    break
                if left[j] > 0:
                    left[j] -= 1
                    hires[i] = j
                    break
        return hires


# --------------------------------------------------------------------------------------------
# Methods and checks


def rank_lists(person, opening, key, n):
    """Per-person lists of openings, ordered by ascending ``key`` (rows grouped by person)."""
    order = np.lexsort((key, person))
    person, opening = person[order], opening[order]
    ptr = np.r_[0, np.cumsum(np.bincount(person, minlength=n))]
    return [opening[ptr[i] : ptr[i + 1]].tolist() for i in range(n)]


def violations(lists, persons, openings):
    """Independent plain-Python check of every hard constraint of every proposed pair."""
    bad = 0
    for i, items in enumerate(lists):
        for j in items:
            if not openings.available[j]:
                bad += 1
                continue
            if openings.remote[j]:
                minutes = 0.0
            else:
                la1, lo1, la2, lo2 = map(
                    math.radians, (persons.lat[i], persons.lon[i], openings.lat[j], openings.lon[j])
                )
                a = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
                km = 2 * 6371.0 * math.asin(math.sqrt(min(a, 1.0)))
                mode = int(persons.travel_mode[i])
                if mode == md.MODE_CAR and not (persons.has_licence[i] and persons.has_vehicle[i]):
                    mode = md.MODE_PUBLIC
                speed, detour, overhead = {
                    md.MODE_CAR: (45, 1.3, 5),
                    md.MODE_PUBLIC: (18, 1.4, 10),
                    md.MODE_ACTIVE: (12, 1.25, 2),
                }[mode]
                minutes = km * detour / speed * 60 + overhead
            sched = int(openings.schedule[j])
            checks = (
                minutes <= float(persons.max_travel_min[i]) + 1e-3,
                sched & ~int(persons.availability[i]) == 0,
                sched & int(persons.childcare[i]) == 0,
                int(persons.health[i]) & int(openings.health_incompatible[j]) == 0,
                not (openings.requires_licence[j] and not persons.has_licence[i]),
                openings.required_skill[j] < 0 or bool(persons.has_skill([i], [openings.required_skill[j]])[0]),
            )
            bad += not all(checks)
    return bad


def fmt(x, digits=3):
    return f"{x:.{digits}f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=12_000)
    parser.add_argument("--openings", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    market = Market(args.persons, args.openings, args.seed)
    persons, openings, graph = market.persons(), market.openings_now, market.graph
    n = len(persons)
    truth = [{market.hires_now[i]} if i in market.hires_now else set() for i in range(n)]
    t_market = time.perf_counter() - t0
    print(
        f"Marché synthétique : {n} personnes, {len(openings)} offres ({int(openings.positions.sum())} postes), "
        f"{len(market.hires_past)} embauches visibles (période 1, devenues expérience), "
        f"{len(market.hires_now)} embauches cachées (période 2, vérité terrain) — {t_market:.1f} s"
    )

    index = engine.build_opening_index(openings, graph)
    t1 = time.perf_counter()
    proposals = engine.recompute_all(persons, openings, graph, k=20, index=index)
    t_engine = time.perf_counter() - t1
    raw = engine.recompute_all(persons, openings, graph, index=index, config=engine.MatchConfig(k=20, rebalance=False))
    el = proposals.eligible
    methods = {
        "engine": rank_lists(el.person, el.opening, -el.rank_score, n),
        "engine_no_rebalance": rank_lists(raw.eligible.person, raw.eligible.opening, -raw.eligible.rank_score, n),
    }

    # baselines over the same eligible pairs
    p, o, s, lv, sc = engine.all_pairs(persons, openings, graph, index=index)
    exact = persons.targets[p][:, :, None] == openings.rome[o][:, None, None]
    exact = exact.any(axis=(1, 2))
    dist = engine.haversine_km(persons.lat[p], persons.lon[p], openings.lat[o], openings.lon[o])
    dist = np.where(openings.remote[o], 0.0, dist)
    methods["rome_distance"] = [lst[:20] for lst in rank_lists(p[exact], o[exact], dist[exact], n)]
    rng = np.random.default_rng(args.seed + 1)
    methods["random"] = [lst[:20] for lst in rank_lists(p, o, rng.random(p.size), n)]

    evaluated = sum(1 for t in truth if t)
    print(f"\nPersonnes évaluées (une embauche cachée) : {evaluated} ; paires éligibles : {p.size}")
    print(f"\n{'méthode':<22}{'recall@10':>10}{'nDCG@10':>10}{'violations':>12}")
    figures = {}
    total_violations = 0
    for name, lists in methods.items():
        rec = metrics.recall_at_k(lists, truth, 10)
        ndcg = metrics.ndcg_at_k(lists, truth, 10)
        bad = violations(lists, persons, openings)
        total_violations += bad
        figures[name] = (rec, ndcg)
        print(f"{name:<22}{fmt(rec):>10}{fmt(ndcg):>10}{bad:>12}")
    bad_blocked_as_eligible = int(
        np.isin(
            el.person.astype(np.int64) * len(openings) + el.opening,
            proposals.blocked.person.astype(np.int64) * len(openings) + proposals.blocked.opening,
        ).sum()
    )
    total_violations += bad_blocked_as_eligible

    cong = metrics.congestion_report(proposals, openings)
    cong_raw = metrics.congestion_report(raw, openings)
    print(f"\n{'congestion':<44}{'avec rééquilibrage':>20}{'sans':>10}")
    for key, label in (
        ("exposure_max_over_median", "offre la plus exposée / médiane"),
        ("exposure_gini", "Gini de l'exposition"),
        ("openings_unexposed_share", "part des offres montrées à personne"),
        ("persons_without_proposal_share", "part des personnes sans proposition"),
    ):
        print(f"{label:<44}{fmt(cong[key]):>20}{fmt(cong_raw[key]):>10}")
    print(
        f"proximités bloquées (levables par une action) : {len(proposals.blocked)} ; "
        f"prix de congestion > 0 sur {proposals.info.get('openings_priced', 0)} offres ; "
        f"recalcul complet {t_engine:.2f} s"
    )

    groups = {
        "genre": market.gender,
        "tranche d'âge": metrics.age_band(market.age),
        "RSA": market.rsa,
        "RQTH": market.rqth,
        "lieu de résidence": market.residence,
    }
    fair = metrics.fairness_report(proposals, groups)
    print(f"\n{'équité':<42}{'personnes':>10}{'taux de proposition':>21}{'score moyen':>13}")
    for name, rows in fair.items():
        for row in rows:
            print(
                f"{name + ' : ' + str(row['label']):<42}{row['persons']:>10}{fmt(row['proposal_rate']):>21}"
                f"{fmt(row['mean_score']):>13}"
            )

    print()
    for metric, idx in (("recall_at_10", 0), ("ndcg_at_10", 1)):
        for name in ("engine", "rome_distance", "random", "engine_no_rebalance"):
            print(f"EVAL {metric}[{name}] {figures[name][idx]:.4f}")
    print(f"EVAL constraint_violations {total_violations}")
    for key in (
        "exposure_max_over_median",
        "exposure_gini",
        "openings_unexposed_share",
        "persons_without_proposal_share",
    ):
        print(f"EVAL {key} {cong[key]:.4f}")
    print(f"EVAL eval_seconds {time.perf_counter() - t0:.1f}")
    return 0 if total_violations == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
