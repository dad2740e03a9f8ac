"""The matching engine (spie.matching): hard constraints, ROME proximity, reasons, congestion,
both directions, fairness, and the absence of Django. No database."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spie.matching import data as md
from spie.matching import engine, metrics
from spie.matching.rome import (
    LEVEL_APPELLATION,
    LEVEL_DOMAIN,
    LEVEL_EVOLUTION,
    LEVEL_NONE,
    LEVEL_PROCHE,
    LEVEL_SAME,
    RomeGraph,
    load_rome_graph,
)

ROOT = Path(__file__).resolve().parents[2]
TOULOUSE = (43.6045, 1.4440)
KM_LAT = 1 / 111.19


def toy_graph():
    """Codes: 0 target; 1 proche of 0; 2 évolution from 0; 3 same domain as 0; 4 and 5 elsewhere."""
    return RomeGraph.from_edges(6, proche=[(0, 1), (4, 5)], evolution=[(0, 2)], domains=[0, 0, 0, 0, 1, 1])


def one_person(**kw):
    base = dict(
        lat=[TOULOUSE[0]],
        lon=[TOULOUSE[1]],
        targets=[[0]],
        travel_mode=[md.MODE_CAR],
        max_travel_min=[45],
        has_licence=[True],
        has_vehicle=[True],
        experience_months=[[12]],
    )
    base.update({k: [v] if not isinstance(v, list) else v for k, v in kw.items()})
    return md.Persons(**base)


def openings_at(km_north=(2.0,), **kw):
    n = len(km_north)
    base = dict(lat=[TOULOUSE[0] + d * KM_LAT for d in km_north], lon=[TOULOUSE[1]] * n, rome=[0] * n)
    base.update(kw)
    return md.Openings(**base)


def all_directions(persons, openings, graph):
    """Eligible and blocked (person, opening) sets from the three entry points."""
    full = engine.recompute_all(persons, openings, graph, k=20)
    one = engine.top_for_person(0, persons, openings, graph, k=20)
    elig, blocked = set(), set()
    for prop in (full, one):
        elig |= set(zip(prop.eligible.person.tolist(), prop.eligible.opening.tolist(), strict=True))
        blocked |= set(zip(prop.blocked.person.tolist(), prop.blocked.opening.tolist(), strict=True))
    for j in range(len(openings)):
        cand = engine.top_candidates_for_opening(j, persons, openings, graph, k=50)
        elig |= set(zip(cand.eligible.person.tolist(), cand.eligible.opening.tolist(), strict=True))
        blocked |= set(zip(cand.blocked.person.tolist(), cand.blocked.opening.tolist(), strict=True))
    return full, elig, blocked


def blocker_actions(prop, opening):
    rows = [r for r in range(len(prop.blocked)) if prop.blocked.opening[r] == opening]
    assert rows, "expected a blocked near-match"
    return {(b["constraint"], b["lifted_by"]) for b in prop.blocked.blocked_by(rows[0])}


# --- hard constraints -----------------------------------------------------------------------


def test_travel_by_real_mode_blocks_and_car_lifts():
    g = toy_graph()
    # 15 km: 31 min by car, 80 min by public transport; 70 km: too far even by car
    persons = one_person(travel_mode=md.MODE_PUBLIC, has_licence=False, has_vehicle=False)
    openings = openings_at((1.0, 15.0, 70.0))
    full, elig, blocked = all_directions(persons, openings, g)
    assert elig == {(0, 0)}
    assert blocked == {(0, 1)}
    assert blocker_actions(full, 1) == {("travel", "mobility_help")}
    # the same person with a car reaches the 15 km opening
    car = one_person()
    _, elig, blocked = all_directions(car, openings, g)
    assert elig == {(0, 0), (0, 1)} and not blocked


def test_declared_car_without_vehicle_is_not_a_real_mode():
    g = toy_graph()
    persons = one_person(has_vehicle=False)  # declares a car, has no vehicle → public transport
    _, elig, blocked = all_directions(persons, openings_at((15.0,)), g)
    assert not elig and blocked == {(0, 0)}


def test_required_licence():
    g = toy_graph()
    persons = one_person(travel_mode=md.MODE_PUBLIC, has_licence=False, has_vehicle=False)
    openings = openings_at((1.0, 1.2), requires_licence=[True, False])
    full, elig, blocked = all_directions(persons, openings, g)
    assert elig == {(0, 1)} and blocked == {(0, 0)}
    assert blocker_actions(full, 0) == {("licence", "mobility_help")}


def test_childcare_conflict_is_blocked_and_lifted_by_childcare():
    g = toy_graph()
    persons = one_person(childcare=md.SCHED_EARLY | md.SCHED_WEEKEND)
    openings = openings_at(
        (1.0, 1.0, 1.0), schedule=[md.SCHED_DAY | md.SCHED_EARLY, md.SCHED_DAY | md.SCHED_WEEKEND, md.SCHED_DAY]
    )
    full, elig, blocked = all_directions(persons, openings, g)
    assert elig == {(0, 2)} and blocked == {(0, 0), (0, 1)}
    assert blocker_actions(full, 0) == {("childcare", "childcare")}


def test_availability_conflict_is_excluded():
    g = toy_graph()
    persons = one_person(availability=md.SCHED_DAY | md.SCHED_WEEKEND)
    openings = openings_at((1.0, 1.0), schedule=[md.SCHED_DAY | md.SCHED_NIGHT, md.SCHED_DAY | md.SCHED_WEEKEND])
    _, elig, blocked = all_directions(persons, openings, g)
    assert elig == {(0, 1)} and not blocked


def test_health_conflict_is_excluded_without_detail():
    g = toy_graph()
    persons = one_person(health=md.HEALTH_HEAVY_LOADS)
    openings = openings_at((1.0, 1.0), health_incompatible=[md.HEALTH_HEAVY_LOADS | md.HEALTH_SCREEN, md.HEALTH_SCREEN])
    full, elig, blocked = all_directions(persons, openings, g)
    assert elig == {(0, 1)} and not blocked
    text = repr(full.eligible.as_dicts()).lower()
    assert "santé" not in text and "health" not in text


def test_missing_qualification_is_blocked_and_lifted_by_training():
    g = toy_graph()
    persons = md.Persons(
        lat=[TOULOUSE[0]],
        lon=[TOULOUSE[1]],
        targets=[[0]],
        travel_mode=md.MODE_CAR,
        has_licence=True,
        has_vehicle=True,
        skills=(np.array([0, 1]), np.array([7])),
    )
    openings = openings_at((1.0, 1.0), required_skill=[7, 8])
    full, elig, blocked = all_directions(persons, openings, g)
    assert elig == {(0, 0)} and blocked == {(0, 1)}
    assert blocker_actions(full, 1) == {("qualification", "training")}


def test_closed_or_full_openings_are_never_proposed():
    g = toy_graph()
    openings = openings_at((1.0, 1.0, 1.0), is_open=[True, False, True], positions=[1, 1, 0])
    _, elig, blocked = all_directions(one_person(), openings, g)
    assert elig == {(0, 0)} and not blocked


def test_random_market_never_proposes_a_violating_pair_and_loses_no_pair():
    """Brute force over every (person, opening) pair against the indexed engine."""
    rng = np.random.default_rng(3)
    g = RomeGraph.from_edges(
        30, proche=rng.integers(0, 30, (40, 2)), evolution=rng.integers(0, 30, (20, 2)), domains=rng.integers(0, 5, 30)
    )
    persons, openings = random_market(rng, 300, 400, 30)
    p, o, s, lv, _ = engine.all_pairs(persons, openings, g, chunk_persons=64)
    found = set(zip(p.tolist(), o.tolist(), strict=True))
    # brute force: best level over the person's targets, then the constraints
    expected = set()
    for i in range(len(persons)):
        for j in np.flatnonzero(openings.available):
            levels = [(g.level(int(c), int(openings.rome[j])), t) for t, c in enumerate(persons.targets[i]) if c >= 0]
            lvl, slot = min(levels) if levels else (LEVEL_NONE, 0)
            if lvl == LEVEL_NONE:
                continue
            ev = engine.evaluate_pairs(persons, openings, [i], [j], [slot], [lvl])
            if not ev.hard[0] and ev.blockers[0] == 0:
                expected.add((i, int(j)))
            assert_pair_allowed_by_hand(persons, openings, i, j, ok=not ev.hard[0] and ev.blockers[0] == 0)
    assert found == expected
    prop = engine.recompute_all(persons, openings, g, k=10)
    assert set(zip(prop.eligible.person.tolist(), prop.eligible.opening.tolist(), strict=True)) <= expected


def assert_pair_allowed_by_hand(persons, openings, i, j, ok):
    """Plain restatement of the hard constraints: an eligible pair must pass every one."""
    if not ok:
        return
    mode = int(persons.travel_mode[i])
    if mode == md.MODE_CAR and not (persons.has_licence[i] and persons.has_vehicle[i]):
        mode = md.MODE_PUBLIC
    km = engine.haversine_km(persons.lat[i], persons.lon[i], openings.lat[j], openings.lon[j])
    minutes = 0 if openings.remote[j] else engine.travel_minutes(km, mode)
    assert minutes <= persons.max_travel_min[i] + 1e-3
    assert openings.schedule[j] & ~persons.availability[i] == 0
    assert openings.schedule[j] & persons.childcare[i] == 0
    assert persons.health[i] & openings.health_incompatible[j] == 0
    assert not (openings.requires_licence[j] and not persons.has_licence[i])


def random_market(rng, n_persons, n_openings, n_codes):
    n, m = n_persons, n_openings
    targets = rng.integers(0, n_codes, (n, 3))
    targets[rng.random((n, 3)) < 0.4] = -1
    persons = md.Persons(
        lat=TOULOUSE[0] + rng.normal(0, 0.15, n),
        lon=TOULOUSE[1] + rng.normal(0, 0.2, n),
        targets=targets,
        travel_mode=rng.integers(0, 3, n),
        max_travel_min=rng.choice([20, 30, 45, 60], n),
        has_licence=rng.random(n) < 0.7,
        has_vehicle=rng.random(n) < 0.6,
        availability=md.SCHED_DAY | (rng.integers(0, 32, n) & ~md.SCHED_DAY),
        childcare=np.where(rng.random(n) < 0.2, md.SCHED_EARLY, 0),
        health=np.where(rng.random(n) < 0.2, md.HEALTH_STANDING, 0),
        experience_months=rng.uniform(0, 40, (n, 3)),
        contract_pref=rng.integers(0, 64, n),
        skills=(np.arange(n + 1), rng.integers(0, 4, n)),
    )
    openings = md.Openings(
        lat=TOULOUSE[0] + rng.normal(0, 0.15, m),
        lon=TOULOUSE[1] + rng.normal(0, 0.2, m),
        rome=rng.integers(0, n_codes, m),
        remote=rng.random(m) < 0.05,
        schedule=md.SCHED_DAY | (rng.integers(0, 32, m) & rng.integers(0, 32, m) & ~md.SCHED_DAY),
        requires_licence=rng.random(m) < 0.1,
        health_incompatible=np.where(rng.random(m) < 0.2, md.HEALTH_STANDING, 0),
        contract=rng.integers(0, 6, m),
        days_since_posted=rng.uniform(0, 60, m),
        positions=rng.integers(0, 3, m),
        is_open=rng.random(m) < 0.95,
        required_skill=np.where(rng.random(m) < 0.1, rng.integers(0, 4, m), -1),
    )
    return persons, openings


# --- ROME proximity and reasons -------------------------------------------------------------


def test_rome_proximity_ordering():
    g = toy_graph()
    persons = one_person(target_appellations=[[100]])
    # same place, same everything but the ROME code / appellation
    openings = openings_at((1.0,) * 7, rome=[3, 2, 1, 0, 0, 4, 5], appellation=[-1, -1, -1, 101, 100, -1, -1])
    prop = engine.top_for_person(0, persons, openings, g, k=10)
    assert prop.eligible.opening.tolist() == [4, 3, 2, 1, 0]  # appellation > code > proche > évolution > domain
    assert prop.eligible.level.tolist() == [LEVEL_APPELLATION, LEVEL_SAME, LEVEL_PROCHE, LEVEL_EVOLUTION, LEVEL_DOMAIN]
    assert np.all(np.diff(prop.eligible.score) < 0)


def test_rome_graph_from_the_referential_files():
    ref = load_rome_graph(ROOT / "spie" / "referentials" / "data" / "rome")
    g, idx = ref.graph, ref.code_index
    assert len(ref.codes) == g.n_codes > 1000
    assert g.level(idx["A1101"], idx["A1101"]) == LEVEL_SAME
    assert g.level(idx["A1101"], idx["A1102"]) == LEVEL_PROCHE  # same v3 parent fiche, and a mobility link
    assert g.level(idx["A1101"], idx["M1607"]) == LEVEL_NONE
    # same professional domain (three first characters), without a mobility link
    src = idx["M1607"]
    lo, hi = g.expand_ptr[src], g.expand_ptr[src + 1]
    same_domain = g.expand_code[lo:hi][g.expand_level[lo:hi] == LEVEL_DOMAIN]
    assert same_domain.size and all(ref.codes[c][:3] == "M16" for c in same_domain)
    # the reverse relation is the transpose of the expansion
    assert g.expand_code.size == g.reverse_code.size
    evolution = int((g.expand_level == LEVEL_EVOLUTION).sum())
    assert evolution > 0


def test_every_proposal_carries_its_reasons():
    rng = np.random.default_rng(5)
    g = RomeGraph.from_edges(20, proche=rng.integers(0, 20, (30, 2)), domains=rng.integers(0, 4, 20))
    persons, openings = random_market(rng, 200, 300, 20)
    prop = engine.recompute_all(persons, openings, g, k=10)
    assert len(prop.eligible) > 100 and len(prop.blocked) > 0
    for row in range(len(prop.eligible)):
        reasons = prop.reasons(row)
        signals = [r["signal"] for r in reasons]
        assert signals[: len(engine.SIGNALS)] == list(engine.SIGNALS)
        assert all(r["text"] and 0 <= r["value"] <= 1 for r in reasons if r["signal"] != "congestion")
        travel = reasons[engine.SIGNALS.index("travel")]
        assert travel["estimate"] == (not openings.remote[prop.eligible.opening[row]])
        assert "estimation" in travel["text"] or "télétravail" in travel["text"]
        assert abs(sum(r["contribution"] for r in reasons[:8]) - prop.eligible.score[row]) < 1e-3
        assert not prop.eligible.blocked_by(row)
    for row in range(len(prop.blocked)):
        assert prop.blocked.blocked_by(row) and prop.blocked.reasons(row)
    for i in range(len(persons)):  # the CSR accessor and the ordering by rank
        rows = prop.for_person(i)
        assert all(prop.eligible.person[r] == i for r in rows)
        assert np.all(np.diff(prop.eligible.rank_score[rows.start : rows.stop]) <= 1e-6)


# --- congestion -----------------------------------------------------------------------------


def congested_market(n_persons=300, n_openings=40):
    """Everyone is a few hundred metres from one outstanding opening; the others are a bit
    further and a bit older."""
    rng = np.random.default_rng(11)
    g = toy_graph()
    persons = md.Persons(
        lat=TOULOUSE[0] + rng.normal(0, 0.01, n_persons),
        lon=np.full(n_persons, TOULOUSE[1]),
        targets=np.zeros((n_persons, 1)),
        travel_mode=md.MODE_CAR,
        max_travel_min=45,
        has_licence=True,
        has_vehicle=True,
        experience_months=np.full((n_persons, 1), 24),
    )
    openings = md.Openings(
        lat=TOULOUSE[0] + np.r_[0, rng.uniform(0.02, 0.1, n_openings - 1)],
        lon=np.full(n_openings, TOULOUSE[1]),
        rome=np.zeros(n_openings),
        days_since_posted=np.r_[0, rng.uniform(5, 40, n_openings - 1)],
        positions=1,
    )
    return persons, openings, g


def test_rebalancing_lowers_exposure_ratio_on_a_congested_case():
    persons, openings, g = congested_market()
    raw = engine.recompute_all(persons, openings, g, config=engine.MatchConfig(k=3, rebalance=False))
    reb = engine.recompute_all(persons, openings, g, config=engine.MatchConfig(k=3))
    before = metrics.congestion_report(raw, openings)
    after = metrics.congestion_report(reb, openings)
    assert after["exposure_max_over_median"] < before["exposure_max_over_median"]
    assert after["exposure_gini"] < before["exposure_gini"]
    assert after["openings_unexposed_share"] < before["openings_unexposed_share"]
    assert after["persons_without_proposal_share"] == before["persons_without_proposal_share"] == 0
    # the price is explained
    priced = np.flatnonzero(reb.eligible.price > 0)
    assert priced.size and reb.reasons(int(priced[0]))[-1]["signal"] == "congestion"
    # a person's refresh with the last prices follows the same order
    one = engine.top_for_person(0, persons, openings, g, k=3, prices=reb.opening_price)
    assert np.all(np.diff(one.eligible.rank_score) <= 1e-6)


def test_congestion_and_gini_figures():
    assert metrics.gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert metrics.gini([0, 0, 0, 10]) == pytest.approx(0.75)


# --- the opening's side, fairness, no Django ------------------------------------------------


def test_top_candidates_for_opening():
    rng = np.random.default_rng(7)
    g = toy_graph()
    n = 120
    persons = md.Persons(
        lat=TOULOUSE[0] + rng.normal(0, 0.05, n),
        lon=np.full(n, TOULOUSE[1]),
        targets=rng.choice([0, 1, 2, 3, 4], (n, 1)),
        travel_mode=md.MODE_CAR,
        max_travel_min=60,
        has_licence=True,
        has_vehicle=True,
        experience_months=rng.uniform(0, 48, (n, 1)),
    )
    openings = openings_at((0.0, 1.0), rome=[0, 5])
    cand = engine.top_candidates_for_opening(0, persons, openings, g, k=50)
    el = cand.eligible
    assert 0 < len(el) <= 50
    assert np.all(np.diff(el.score) <= 1e-6)
    assert set(persons.targets[el.person, 0].tolist()) <= {0, 1, 2, 3}  # code 4 is another domain
    assert len(set(el.person.tolist())) == len(el)
    # only among the persons the viewer may see
    allowed = np.zeros(n, dtype=bool)
    allowed[::3] = True
    seen = engine.top_candidates_for_opening(0, persons, openings, g, k=50, allowed=allowed)
    assert len(seen.eligible) and allowed[seen.eligible.person].all()
    # and consistent with the person's side
    i = int(el.person[0])
    mine = engine.top_for_person(i, persons, openings, g, k=5)
    assert 0 in mine.eligible.opening.tolist()


def test_fairness_report_groups():
    g = toy_graph()
    persons = md.Persons(
        lat=[TOULOUSE[0]] * 4,
        lon=[TOULOUSE[1]] * 4,
        targets=[[0], [0], [4], [-1]],
        travel_mode=md.MODE_CAR,
        has_licence=True,
        has_vehicle=True,
    )
    openings = openings_at((1.0, 2.0))
    prop = engine.recompute_all(persons, openings, g, k=5)
    ages = metrics.age_band([20, 30, 55, 60])
    assert ages.tolist() == ["moins de 26 ans", "26 à 49 ans", "50 ans et plus", "50 ans et plus"]
    report = metrics.fairness_report(
        prop, {"genre": ["femme", "homme", "femme", "homme"], "tranche d'âge": ages, "RSA": [True, True, False, False]}
    )
    assert set(report) == {"genre", "tranche d'âge", "RSA"}
    by_age = {row["label"]: row for row in report["tranche d'âge"]}
    assert by_age["moins de 26 ans"]["proposal_rate"] == 1.0
    assert by_age["50 ans et plus"]["proposal_rate"] == 0.0 and by_age["50 ans et plus"]["persons"] == 2
    assert by_age["26 à 49 ans"]["mean_proposals"] == 2.0 and by_age["26 à 49 ans"]["mean_score"] > 0
    cong = metrics.congestion_report(prop, openings)
    assert cong["persons_without_proposal_share"] == 0.5
    assert cong["openings_unexposed_share"] == 0.0
    with pytest.raises(ValueError):
        metrics.fairness_report(prop, {"genre": ["femme"]})


def test_engine_imports_no_django():
    code = (
        "import sys\n"
        "assert 'django' not in sys.modules\n"
        "import spie.matching, spie.matching.engine, spie.matching.rome, spie.matching.rebalance, "
        "spie.matching.metrics, spie.matching.data\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr


def test_dismissed_pairs_are_not_proposed_again():
    g = toy_graph()
    persons = one_person()
    openings = openings_at((1.0, 2.0, 3.0))
    exclude = engine.exclusion_keys([0], [1], len(openings))
    full = engine.recompute_all(persons, openings, g, exclude=exclude)
    assert full.eligible.opening.tolist() == [0, 2]
    one = engine.top_for_person(0, persons, openings, g, exclude=exclude)
    assert one.eligible.opening.tolist() == [0, 2]
    assert not len(engine.top_candidates_for_opening(1, persons, openings, g, exclude=exclude).eligible)
