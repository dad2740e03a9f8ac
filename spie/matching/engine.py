"""The matching engine: openings for persons, candidates for an opening, blocked near-matches.

Pure numpy/scipy, no Django: the app builds ``Persons``, ``Openings`` and a ``RomeGraph`` from
the database (row number = engine id) and stores what comes back.

Pipeline (``recompute_all``), by chunks of persons so that memory stays bounded:

1. **Candidate generation without a dense matrix.** Each person's target ROME codes are expanded
   through the ``RomeGraph`` (same code, "proches", "avec évolution", same domain), keeping the
   best level per (person, code). Open openings are indexed once (``OpeningIndex``) sorted by
   ``(ROME index, latitude)``, so that the openings of one code within the person's reach in
   latitude (the distance a car covers in the person's accepted time, the widest reach of any
   mode) are one contiguous slice found with ``searchsorted``; remote openings sit in a
   separate per-code list. Slices become (person, opening) pairs with index arithmetic only.
2. **Hard constraints, vectorised over the pairs.** Travel time by the person's real mode (car
   only with licence *and* vehicle) is *estimated* from the haversine distance, a detour factor
   and a mode speed (no transport network data; the reasons say it is an estimate); schedule
   versus availability; schedule versus childcare; health restrictions as yes/no bits; required
   licence; required qualification. A pair failing a constraint nobody can lift (health,
   declared availability, too far even by car) is dropped. A pair failing only liftable
   constraints is *blocked*: kept apart, never eligible, with the action kind that lifts each
   blocker (``mobility_help`` for travel (a licence or a vehicle would make it by car) and for a
   licence the job requires, ``childcare`` for childcare conflicts,
   ``training`` for a missing qualification), so the référent sees "blocked by X, lifted by Y".
3. **Scoring** (``score = Σ weight × signal``, every signal in [0, 1], weights below): ROME fit,
   experience, travel time, contract, hours, recency, the person's order of preference, skills.
4. **Pool and rebalancing.** Each person's best ``pool`` eligible pairs (a few times k) form a
   sparse matrix on which ``rebalance.sinkhorn_prices`` computes a congestion price per opening
   (entropic optimal transport with the positions as capacities); the top-k ranks the pool by
   ``score - price``. Then a hard exposure cap per opening (a multiple of the fair share of
   exposure per position) is enforced by a few rounds of deferred acceptance: an over-exposed
   opening keeps the persons it fits best, the others take their next pool item. Prices spread
   persons with different tastes; the cap handles persons who look alike or whose pool is
   smaller than k, whom no price can move (see ``rebalance``). Top-k selection is one vectorised
   sort per chunk, never a Python loop over persons.
5. **Reasons.** The kept pairs are re-evaluated with every signal's value, so each proposal
   carries its reasons (``PairSet.reasons``): which signals, with values, in French.

On-demand refreshes use the same code for one person (``top_for_person``, with the prices of the
last full recompute) or one opening (``top_candidates_for_opening``, optionally limited to the
persons the viewer may see). Every entry point takes ``exclude`` (``exclusion_keys``): the pairs a
référent dismissed are never proposed again. Everything is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data import MODE_CAR, MODE_LABELS, Openings, Persons
from .rebalance import cap_exposure, sinkhorn_prices
from .rome import LEVEL_APPELLATION, LEVEL_LABELS, LEVEL_SAME, RomeGraph

# --- Score weights (sum to 1; each signal is in [0, 1]) -------------------------------------
W_ROME = 0.32  # target job fit: the main signal, what the person is looking for
W_EXPERIENCE = 0.15  # months of experience in the target, transferred along ROME proximity
W_TRAVEL = 0.18  # estimated travel time relative to the person's accepted time
W_CONTRACT = 0.08  # contract type among the accepted ones
W_HOURS = 0.07  # weekly hours within the wished range
W_RECENCY = 0.07  # recent openings are likelier to be still recruiting
W_PREFERENCE = 0.08  # the person's order of preference among their targets
W_SKILLS = 0.05  # share of the opening's listed skills the person holds (neutral if unlisted)

SIGNALS = ("rome", "experience", "travel", "contract", "hours", "recency", "preference", "skills")
WEIGHTS = np.array(
    [W_ROME, W_EXPERIENCE, W_TRAVEL, W_CONTRACT, W_HOURS, W_RECENCY, W_PREFERENCE, W_SKILLS], dtype=np.float32
)
SIGNAL_LABELS = {
    "rome": "Métier",
    "experience": "Expérience",
    "travel": "Trajet",
    "contract": "Type de contrat",
    "hours": "Durée hebdomadaire",
    "recency": "Ancienneté de l'offre",
    "preference": "Préférence de la personne",
    "skills": "Compétences",
}

# ROME fit per level, indexed by level + 1 (appellation, same code, proche, évolution, domain).
ROME_LEVEL_SCORE = np.array([1.0, 0.85, 0.6, 0.45, 0.3], dtype=np.float32)
# Share of a target's experience that counts for an opening at that level.
EXPERIENCE_TRANSFER = np.array([1.0, 1.0, 0.7, 0.5, 0.3], dtype=np.float32)
EXPERIENCE_SCALE_MONTHS = 12.0  # 1 - exp(-months / scale): 12 months → 0.63, 36 months → 0.95
RECENCY_HALF_LIFE_DAYS = 21.0
HOURS_TOLERANCE = 10.0  # hours outside the wished range at which the hours signal reaches 0
CONTRACT_FIT_ACCEPTED, CONTRACT_FIT_NO_PREFERENCE, CONTRACT_FIT_OTHER = 1.0, 0.7, 0.2
PREFERENCE_STEP = 0.15  # signal lost per rank in the person's list of targets
SKILLS_NEUTRAL = 0.5

# --- Travel time estimate (no network data): crow distance × detour / speed + overhead -------
SPEED_KMH = np.array([45.0, 18.0, 12.0], dtype=np.float32)  # car, public transport, walk/bike
DETOUR = np.array([1.3, 1.4, 1.25], dtype=np.float32)
OVERHEAD_MIN = np.array([5.0, 10.0, 2.0], dtype=np.float32)  # parking, waiting and walking, …
EARTH_RADIUS_KM = 6371.0
KM_PER_DEGREE_LAT = 111.19

# --- Blockers (liftable constraints) and the catalogue action kinds that lift them -----------
BLOCK_TRAVEL = 1
BLOCK_LICENCE = 2
BLOCK_CHILDCARE = 4
BLOCK_QUALIFICATION = 8
BLOCKERS = {
    BLOCK_TRAVEL: ("travel", "mobility_help"),
    BLOCK_LICENCE: ("licence", "mobility_help"),
    BLOCK_CHILDCARE: ("childcare", "childcare"),
    BLOCK_QUALIFICATION: ("qualification", "training"),
}
ACTION_LABELS = {
    "mobility_help": "aide à la mobilité",
    "childcare": "solution de garde d'enfants",
    "training": "formation",
}

_LAT_SPAN = 1000.0  # index key = rome * _LAT_SPAN + lat + 90


@dataclass
class MatchConfig:
    """Tuning of a full recompute (defaults are the documented ones)."""

    k: int = 20
    pool: int = 60  # eligible pairs kept per person before rebalancing (≥ k)
    blocked_k: int = 5  # blocked near-matches kept per person
    rebalance: bool = True
    eps: float = 0.04  # Sinkhorn temperature, in score units
    cap_multiplier: float = 1.5  # exposure cap = multiplier × fair share × positions
    cap_min: float = 5.0  # no cap below this many exposures
    price_max: float = 0.5
    hard_cap_multiplier: float = 2.5  # hard exposure cap = multiplier × fair share × positions
    cap_rounds: int = 8  # rounds of deferred acceptance under the hard cap
    sinkhorn_iter: int = 60
    chunk_persons: int = 2000


# --------------------------------------------------------------------------------------------
# Indexes


@dataclass
class OpeningIndex:
    """Available openings sorted by (ROME index, latitude); remote ones apart, per code."""

    key: np.ndarray
    order: np.ndarray
    remote_ptr: np.ndarray
    remote_ids: np.ndarray
    n_codes: int


def build_opening_index(openings: Openings, graph: RomeGraph) -> OpeningIndex:
    avail = openings.available
    if avail.any() and int(openings.rome[avail].max()) >= graph.n_codes:
        raise ValueError("opening ROME index out of the graph")
    local = np.flatnonzero(avail & ~openings.remote)
    key = openings.rome[local].astype(np.float64) * _LAT_SPAN + (openings.lat[local] + 90.0)
    order = np.argsort(key, kind="stable")
    remote = np.flatnonzero(avail & openings.remote)
    remote = remote[np.argsort(openings.rome[remote], kind="stable")]
    ptr = np.zeros(graph.n_codes + 1, dtype=np.int64)
    np.cumsum(np.bincount(openings.rome[remote], minlength=graph.n_codes), out=ptr[1:])
    return OpeningIndex(key[order], local[order].astype(np.int32), ptr, remote.astype(np.int32), graph.n_codes)


@dataclass
class PersonIndex:
    """Persons by target ROME index: ``person[ptr[c]:ptr[c+1]]`` target code ``c`` at ``slot``."""

    ptr: np.ndarray
    person: np.ndarray
    slot: np.ndarray


def build_person_index(persons: Persons, graph: RomeGraph) -> PersonIndex:
    rows, slots = np.nonzero(persons.targets >= 0)
    codes = persons.targets[rows, slots]
    order = np.lexsort((slots, rows, codes))
    ptr = np.zeros(graph.n_codes + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=graph.n_codes), out=ptr[1:])
    return PersonIndex(ptr, rows[order].astype(np.int32), slots[order].astype(np.int8))


# --------------------------------------------------------------------------------------------
# Small vectorised helpers


def _fr(value, digits=1):
    """A number written the French way (decimal comma)."""
    return f"{float(value):.{digits}f}".replace(".", ",")


def _ranges(starts, counts):
    """Concatenation of ``arange(s, s + c)`` for every (s, c), without a Python loop."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    return np.repeat(np.asarray(starts, dtype=np.int64) - offsets, counts) + np.arange(total, dtype=np.int64)


def haversine_km(lat1, lon1, lat2, lon2):
    lat1, lon1, lat2, lon2 = (np.radians(x) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return (2 * EARTH_RADIUS_KM) * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def travel_minutes(distance_km, mode):
    """Estimated door-to-door minutes for a crow distance and a mode (see the constants)."""
    mode = np.asarray(mode, dtype=np.int64)
    return distance_km * DETOUR[mode] / SPEED_KMH[mode] * 60.0 + OVERHEAD_MIN[mode]


def car_reach_km(max_minutes):
    """Crow distance a car covers in ``max_minutes`` (the widest reach of any mode)."""
    return np.maximum(max_minutes - OVERHEAD_MIN[MODE_CAR], 0) / 60.0 * SPEED_KMH[MODE_CAR] / DETOUR[MODE_CAR]


def _select_top(row, score, n_rows, k):
    """Indices of the ``k`` best items of each row, ordered by (row, descending score).

    One ``argsort`` of the key ``row × span − score`` (numpy's vectorised sort is faster here
    than ``argpartition`` on padded blocks), then the rank within the row by index arithmetic.
    """
    n = row.size
    if n == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    low = float(score.min())
    span = float(score.max()) - low + 1.0
    order = np.argsort(row * span - (score - low))
    counts = np.bincount(row, minlength=n_rows)
    starts = np.cumsum(counts) - counts
    rank = np.arange(n) - starts[row[order]]
    return order[rank < k]


# --------------------------------------------------------------------------------------------
# Candidate generation


def _expand_targets(persons: Persons, graph: RomeGraph, pidx):
    """(local row, code, level, slot) for every code worth looking at for persons ``pidx``,
    keeping the best level (then the preferred slot) per (person, code); sorted by row, code."""
    targets = persons.targets[pidx]
    rows, slots = np.nonzero(targets >= 0)
    codes = targets[rows, slots]
    starts = graph.expand_ptr[codes]
    counts = graph.expand_ptr[codes + 1] - starts
    flat = _ranges(starts, counts)
    r = np.repeat(rows, counts)
    s = np.repeat(slots, counts)
    c = graph.expand_code[flat]
    lv = graph.expand_level[flat]
    key = r.astype(np.int64) * graph.n_codes + c
    order = np.lexsort((s, lv, key))
    key = key[order]
    first = np.r_[True, key[1:] != key[:-1]] if key.size else np.zeros(0, bool)
    order = order[first]
    return r[order], c[order], lv[order], s[order]


def _candidate_pairs(persons: Persons, index: OpeningIndex, graph: RomeGraph, pidx):
    """(local row, opening, slot, level) pairs for persons ``pidx``, sorted by local row."""
    r, c, lv, s = _expand_targets(persons, graph, pidx)
    gp = pidx[r]
    lat = persons.lat[gp]
    dlat = car_reach_km(persons.max_travel_min[gp]).astype(np.float64) / KM_PER_DEGREE_LAT + 1e-6
    base = c.astype(np.float64) * _LAT_SPAN + lat + 90.0
    lo = np.searchsorted(index.key, base - dlat, side="left")
    hi = np.searchsorted(index.key, base + dlat, side="right")
    cnt = hi - lo
    parts_r = [np.repeat(r, cnt)]
    parts_o = [index.order[_ranges(lo, cnt)]]
    parts_s = [np.repeat(s, cnt)]
    parts_l = [np.repeat(lv, cnt)]
    if index.remote_ids.size:
        rlo = index.remote_ptr[c]
        rcnt = index.remote_ptr[c + 1] - rlo
        if rcnt.any():
            parts_r.append(np.repeat(r, rcnt))
            parts_o.append(index.remote_ids[_ranges(rlo, rcnt)])
            parts_s.append(np.repeat(s, rcnt))
            parts_l.append(np.repeat(lv, rcnt))
    if len(parts_r) == 1:
        return parts_r[0], parts_o[0], parts_s[0], parts_l[0]
    rr = np.concatenate(parts_r)
    order = np.argsort(rr, kind="stable")
    return rr[order], np.concatenate(parts_o)[order], np.concatenate(parts_s)[order], np.concatenate(parts_l)[order]


# --------------------------------------------------------------------------------------------
# Pair evaluation


@dataclass
class _Eval:
    score: np.ndarray
    hard: np.ndarray
    blockers: np.ndarray
    level: np.ndarray
    dist_km: np.ndarray | None = None
    travel_min: np.ndarray | None = None
    car_min: np.ndarray | None = None
    mode: np.ndarray | None = None
    components: np.ndarray | None = None


def pair_distance_km(persons: Persons, openings: Openings, pi, oj):
    """Haversine distance of the pairs, with the radians and cosines precomputed per row."""
    p_lat, p_lon, p_cos = persons.radians()
    o_lat, o_lon, o_cos = openings.radians()
    a = np.sin((o_lat[oj] - p_lat[pi]) * 0.5) ** 2 + p_cos[pi] * o_cos[oj] * np.sin((o_lon[oj] - p_lon[pi]) * 0.5) ** 2
    return (2 * EARTH_RADIUS_KM) * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


_MODE_MIN_PER_KM = (DETOUR / SPEED_KMH * 60.0).astype(np.float32)
_CONTRACT_TABLE = np.array([CONTRACT_FIT_OTHER, CONTRACT_FIT_ACCEPTED, CONTRACT_FIT_NO_PREFERENCE], dtype=np.float32)
_PREFERENCE_TABLE = np.clip(1.0 - PREFERENCE_STEP * np.arange(64), 0.0, 1.0).astype(np.float32)
_SUBSET_BELOW = 0.85  # evaluate the signals on the pairs left by the cheap checks when fewer remain


def _recency(openings: Openings):
    """Recency signal per opening, computed once per ``Openings``."""
    cached = openings.__dict__.get("_recency_signal")
    if cached is None:
        cached = np.exp2(-openings.days_since_posted / RECENCY_HALF_LIFE_DAYS).astype(np.float32)
        openings.__dict__["_recency_signal"] = cached
    return cached


def evaluate_pairs(persons: Persons, openings: Openings, pi, oj, slot, level, *, components=False) -> _Eval:
    """Constraints and score of the pairs (person ``pi[k]``, opening ``oj[k]``), reached through
    the person's target ``slot[k]`` at ROME ``level[k]``. Vectorised. The cheap hard checks
    (out of reach even by car, availability, health) run first; the blockers and the signals run
    on the pairs left (``components=True`` keeps every pair and returns each signal's value)."""
    pi = np.asarray(pi, dtype=np.intp)
    oj = np.asarray(oj, dtype=np.intp)
    slot = np.asarray(slot, dtype=np.intp)
    level = np.asarray(level, dtype=np.int8)
    remote = openings.remote[oj]
    dist = pair_distance_km(persons, openings, pi, oj).astype(np.float32)
    dist[remote] = 0.0
    mode = persons.effective_mode[pi]
    travel = dist * _MODE_MIN_PER_KM[mode] + OVERHEAD_MIN[mode]
    travel[remote] = 0.0
    car = dist * _MODE_MIN_PER_KM[MODE_CAR] + OVERHEAD_MIN[MODE_CAR]
    car[remote] = 0.0
    max_min = persons.max_travel_min[pi]
    sched = openings.schedule[oj]
    hard = (car > max_min) & (travel > max_min)
    hard |= (sched & ~persons.availability[pi]) != 0
    hard |= (persons.health[pi] & openings.health_incompatible[oj]) != 0
    if components or pi.size == 0:
        return _evaluate_rest(
            persons, openings, pi, oj, slot, level, dist, travel, car, mode, max_min, sched, remote, hard, components
        )
    sub = np.flatnonzero(~hard)
    if sub.size >= _SUBSET_BELOW * pi.size:
        return _evaluate_rest(
            persons, openings, pi, oj, slot, level, dist, travel, car, mode, max_min, sched, remote, hard, False
        )
    inner = _evaluate_rest(
        persons,
        openings,
        pi[sub],
        oj[sub],
        slot[sub],
        level[sub],
        dist[sub],
        travel[sub],
        car[sub],
        mode[sub],
        max_min[sub],
        sched[sub],
        remote[sub],
        hard[sub],
        False,
    )
    score = np.zeros(pi.size, dtype=np.float32)
    score[sub] = inner.score
    blockers = np.zeros(pi.size, dtype=np.uint8)
    blockers[sub] = inner.blockers
    lv = level.copy()
    lv[sub] = inner.level
    return _Eval(score, hard, blockers, lv)


def _evaluate_rest(
    persons, openings, pi, oj, slot, level, dist, travel, car, mode, max_min, sched, remote, hard, components
):
    n = pi.size
    travel_liftable = (travel > max_min) & (car <= max_min)
    blockers = travel_liftable.astype(np.uint8) * np.uint8(BLOCK_TRAVEL)
    blockers |= ((sched & persons.childcare[pi]) != 0).astype(np.uint8) * np.uint8(BLOCK_CHILDCARE)
    blockers |= (openings.requires_licence[oj] & ~persons.has_licence[pi]).astype(np.uint8) * np.uint8(BLOCK_LICENCE)
    req = openings.required_skill[oj]
    need = np.flatnonzero(req >= 0)
    if need.size:
        missing = ~persons.has_skill(pi[need], req[need])
        blockers[need[missing]] |= np.uint8(BLOCK_QUALIFICATION)

    # --- signals, each in [0, 1]
    flat = pi * persons.n_targets + slot
    app = openings.appellation[oj]
    same_app = (level == LEVEL_SAME) & (app >= 0) & (app == persons.target_appellations.ravel()[flat])
    level = np.where(same_app, np.int8(LEVEL_APPELLATION), level)
    li = level.astype(np.intp) + 1
    s_rome = ROME_LEVEL_SCORE[li]
    months = persons.experience_months.ravel()[flat] * EXPERIENCE_TRANSFER[li]
    s_exp = 1.0 - np.exp(months * np.float32(-1.0 / EXPERIENCE_SCALE_MONTHS))
    req_m = openings.min_experience_months[oj]
    short = np.flatnonzero((req_m > 0) & (months < req_m))
    if short.size:
        s_exp[short] *= 0.5 + 0.5 * months[short] / req_m[short]
    s_travel = 1.0 - travel / np.maximum(max_min, np.float32(1.0))
    np.clip(s_travel, 0.0, 1.0, out=s_travel)
    s_travel[remote] = 1.0
    pref = persons.contract_pref[pi]
    accepted = (pref >> openings.contract[oj].astype(np.int16)) & 1
    s_contract = _CONTRACT_TABLE[np.where(pref == 0, 2, accepted)]
    hours = openings.weekly_hours[oj]
    gap = np.maximum(np.maximum(persons.hours_min[pi] - hours, hours - persons.hours_max[pi]), np.float32(0.0))
    s_hours = np.clip(1.0 - gap * np.float32(1.0 / HOURS_TOLERANCE), 0.0, 1.0)
    s_recency = _recency(openings)[oj]
    s_pref = _PREFERENCE_TABLE[np.minimum(slot, 63)]
    if openings.skills is not None and persons.skills is not None:
        listed = openings.skills[oj]
        valid = listed >= 0
        have = persons.has_skill(np.repeat(pi, listed.shape[1]), listed.ravel()).reshape(listed.shape)
        n_valid = valid.sum(axis=1)
        s_skills = np.where(n_valid > 0, (have & valid).sum(axis=1) / np.maximum(n_valid, 1), SKILLS_NEUTRAL).astype(
            np.float32
        )
    else:
        s_skills = None
    score = s_rome * WEIGHTS[0]
    for w, sig in zip(WEIGHTS[1:7], (s_exp, s_travel, s_contract, s_hours, s_recency, s_pref), strict=True):
        score += w * sig
    if s_skills is None:
        score += np.float32(W_SKILLS * SKILLS_NEUTRAL)
    else:
        score += WEIGHTS[7] * s_skills
    out = _Eval(score.astype(np.float32, copy=False), hard, blockers, level)
    if components:
        if s_skills is None:
            s_skills = np.full(n, SKILLS_NEUTRAL, dtype=np.float32)
        out.dist_km, out.travel_min, out.car_min, out.mode = dist, travel, car, mode
        out.components = np.column_stack(
            [s_rome, s_exp, s_travel, s_contract, s_hours, s_recency, s_pref, s_skills]
        ).astype(np.float32)
    return out


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class PairSet:
    """Proposals (or blocked near-matches) as parallel arrays, with a reasons accessor.

    Rows are ordered by person then rank for a full recompute, by rank for one person or one
    opening. ``score`` is the relevance score the reasons explain; ``rank_score`` is
    ``score - price`` (the congestion price of the opening), the order actually shown.
    """

    person: np.ndarray
    opening: np.ndarray
    score: np.ndarray
    rank_score: np.ndarray
    price: np.ndarray
    level: np.ndarray
    slot: np.ndarray
    dist_km: np.ndarray
    travel_min: np.ndarray
    car_min: np.ndarray
    mode: np.ndarray
    blockers: np.ndarray
    components: np.ndarray
    remote: np.ndarray
    experience_months: np.ndarray
    target_code: np.ndarray
    _ptr: np.ndarray | None = field(default=None, repr=False)

    def __len__(self):
        return self.person.shape[0]

    def person_ptr(self, n_persons):
        """CSR pointer over persons (rows must be sorted by person)."""
        if self._ptr is None or self._ptr.shape[0] != n_persons + 1:
            ptr = np.zeros(n_persons + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.person, minlength=n_persons), out=ptr[1:])
            self._ptr = ptr
        return self._ptr

    def blocked_by(self, row):
        """``[{"constraint", "label", "lifted_by", "action_label"}, …]`` of row ``row``."""
        out = []
        bits = int(self.blockers[row])
        for bit, (name, action) in BLOCKERS.items():
            if bits & bit:
                out.append(
                    {
                        "constraint": name,
                        "label": self._blocker_label(row, name),
                        "lifted_by": action,
                        "action_label": ACTION_LABELS[action],
                    }
                )
        return out

    def _blocker_label(self, row, name):
        if name == "travel":
            return (
                f"Trajet estimé trop long {MODE_LABELS[int(self.mode[row])]} "
                f"({self.travel_min[row]:.0f} min), accessible en voiture ({self.car_min[row]:.0f} min)"
            )
        if name == "licence":
            return "Permis B exigé par l'offre"
        if name == "childcare":
            return "Horaires incompatibles avec la garde d'enfants déclarée"
        return "Qualification exigée par l'offre non détenue"

    def reasons(self, row):
        """The reasons of row ``row``: one dict per signal (``signal``, ``label``, ``value``,
        ``weight``, ``contribution``, ``text`` in French), then the congestion price if any."""
        comp = self.components[row]
        out = []
        for i, name in enumerate(SIGNALS):
            out.append(
                {
                    "signal": name,
                    "label": SIGNAL_LABELS[name],
                    "value": round(float(comp[i]), 3),
                    "weight": round(float(WEIGHTS[i]), 3),
                    "contribution": round(float(comp[i] * WEIGHTS[i]), 4),
                    "text": self._signal_text(row, name),
                    "estimate": name == "travel" and not bool(self.remote[row]),
                }
            )
        if self.price[row] > 0:
            out.append(
                {
                    "signal": "congestion",
                    "label": "Offre très proposée",
                    "value": -round(float(self.price[row]), 3),
                    "weight": 1.0,
                    "contribution": -round(float(self.price[row]), 4),
                    "text": "Offre déjà proposée à beaucoup de personnes : rang abaissé pour répartir les propositions",
                    "estimate": False,
                }
            )
        return out

    def _signal_text(self, row, name):
        lvl = int(self.level[row])
        if name == "rome":
            label = LEVEL_LABELS[lvl]
            return label[0].upper() + label[1:]
        if name == "experience":
            months = float(self.experience_months[row])
            if months < 0.5:
                return "Pas d'expérience déclarée dans le métier recherché"
            if lvl <= LEVEL_SAME:
                return f"{months:.0f} mois d'expérience dans ce métier"
            share = float(EXPERIENCE_TRANSFER[lvl + 1]) * 100
            return (
                f"{months:.0f} mois d'expérience dans le métier recherché, pris en compte à {share:.0f} % "
                "pour ce métier voisin"
            )
        if name == "travel":
            if self.remote[row]:
                return "Poste en télétravail"
            return (
                f"Trajet estimé : {self.travel_min[row]:.0f} min {MODE_LABELS[int(self.mode[row])]} pour "
                f"{_fr(self.dist_km[row])} km à vol d'oiseau (estimation à partir de la distance)"
            )
        if name == "contract":
            return "Type de contrat " + (
                "accepté"
                if self.components[row, 3] >= CONTRACT_FIT_ACCEPTED
                else "sans préférence exprimée"
                if self.components[row, 3] >= CONTRACT_FIT_NO_PREFERENCE
                else "hors des contrats souhaités"
            )
        if name == "hours":
            return "Durée hebdomadaire " + (
                "dans la fourchette souhaitée" if self.components[row, 4] >= 1 else "hors de la fourchette souhaitée"
            )
        if name == "recency":
            return "Offre récente" if self.components[row, 5] >= 0.5 else "Offre publiée il y a plusieurs semaines"
        if name == "preference":
            return f"Métier n° {int(self.slot[row]) + 1} dans la liste de la personne"
        return (
            "Compétences de l'offre non renseignées"
            if self.components[row, 7] == SKILLS_NEUTRAL
            else f"{self.components[row, 7] * 100:.0f} % des compétences demandées"
        )

    def as_dicts(self, rows=None):
        """Plain dicts for an adapter or an API (one per row, with reasons and blockers)."""
        rows = range(len(self)) if rows is None else rows
        return [
            {
                "person": int(self.person[r]),
                "opening": int(self.opening[r]),
                "score": round(float(self.score[r]), 4),
                "rank_score": round(float(self.rank_score[r]), 4),
                "reasons": self.reasons(r),
                "blocked_by": self.blocked_by(r),
            }
            for r in rows
        ]


@dataclass
class Proposals:
    """What the engine returns: eligible proposals and blocked near-matches, kept apart."""

    eligible: PairSet
    blocked: PairSet
    n_persons: int
    opening_price: np.ndarray
    persons_with_targets: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def for_person(self, i):
        """Row range of person ``i`` in ``eligible`` (full recompute output)."""
        ptr = self.eligible.person_ptr(self.n_persons)
        return range(int(ptr[i]), int(ptr[i + 1]))

    def blocked_for_person(self, i):
        ptr = self.blocked.person_ptr(self.n_persons)
        return range(int(ptr[i]), int(ptr[i + 1]))

    def reasons(self, row):
        return self.eligible.reasons(row)


def _make_pairset(persons, openings, pi, oj, slot, level, price=None, rank_score=None) -> PairSet:
    ev = evaluate_pairs(persons, openings, pi, oj, slot, level, components=True)
    price = np.zeros(len(pi), np.float32) if price is None else np.asarray(price, np.float32)
    rank = ev.score - price if rank_score is None else np.asarray(rank_score, np.float32)
    pi = np.asarray(pi, dtype=np.int64)
    slot = np.asarray(slot, dtype=np.int64)
    return PairSet(
        person=pi.astype(np.int32),
        opening=np.asarray(oj, dtype=np.int32),
        score=ev.score,
        rank_score=rank,
        price=price,
        level=ev.level,
        slot=slot.astype(np.int8),
        dist_km=ev.dist_km,
        travel_min=ev.travel_min,
        car_min=ev.car_min,
        mode=ev.mode,
        blockers=ev.blockers,
        components=ev.components,
        remote=openings.remote[np.asarray(oj, dtype=np.int64)],
        experience_months=persons.experience_months[pi, slot],
        target_code=persons.targets[pi, slot],
    )


def _empty_pairset(persons, openings):
    z = np.zeros(0, dtype=np.int64)
    return _make_pairset(persons, openings, z, z, z, z.astype(np.int8))


# --------------------------------------------------------------------------------------------
# The three entry points


def exclusion_keys(person, opening, n_openings):
    """Sorted keys of (person, opening) pairs not to propose again (e.g. dismissed by a
    référent, or already positioned), for the ``exclude`` argument of the entry points."""
    return np.unique(np.asarray(person, dtype=np.int64) * int(n_openings) + np.asarray(opening, dtype=np.int64))


def _excluded(pi, oj, exclude, n_openings):
    if exclude is None or len(exclude) == 0:
        return None
    keys = np.asarray(pi, dtype=np.int64) * int(n_openings) + oj
    pos = np.minimum(np.searchsorted(exclude, keys), exclude.size - 1)
    return exclude[pos] == keys


def _score_chunk(persons, openings, graph, index, pidx, pool, blocked_k, prices=None, exclude=None):
    """Best ``pool`` eligible and ``blocked_k`` blocked pairs of persons ``pidx`` (global ids)."""
    r, oj, s, lv = _candidate_pairs(persons, index, graph, pidx)
    ev = evaluate_pairs(persons, openings, pidx[r], oj, s, lv)
    ok = ~ev.hard
    gone = _excluded(pidx[r], oj, exclude, len(openings))
    if gone is not None:
        ok &= ~gone
    el = ok & (ev.blockers == 0)
    bl = ok & (ev.blockers != 0)
    rank = ev.score if prices is None else ev.score - prices[oj]
    out = []
    for mask, k, sc in ((el, pool, rank), (bl, blocked_k, ev.score)):
        idx = np.flatnonzero(mask)
        sel = idx[_select_top(r[idx], sc[idx], pidx.size, k)]
        out.append((pidx[r[sel]], oj[sel], s[sel], lv[sel], ev.score[sel]))
    return out


def all_pairs(
    persons: Persons,
    openings: Openings,
    graph: RomeGraph,
    *,
    index: OpeningIndex | None = None,
    chunk_persons=2000,
    blocked=False,
):
    """Every eligible pair (or, with ``blocked=True``, every blocked one) without any top-k cut:
    ``(person, opening, slot, level, score)`` arrays sorted by person. For baselines, audits and
    evaluations; the app uses ``recompute_all``."""
    index = index or build_opening_index(openings, graph)
    n = len(persons)
    parts = []
    for start in range(0, n, chunk_persons):
        pidx = np.arange(start, min(n, start + chunk_persons), dtype=np.int64)
        r, oj, s, lv = _candidate_pairs(persons, index, graph, pidx)
        ev = evaluate_pairs(persons, openings, pidx[r], oj, s, lv)
        keep = ~ev.hard & ((ev.blockers != 0) if blocked else (ev.blockers == 0))
        parts.append((pidx[r[keep]], oj[keep], s[keep], lv[keep], ev.score[keep]))
    if not parts:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z.astype(np.int8), z.astype(np.float32)
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(5))


def recompute_all(
    persons: Persons,
    openings: Openings,
    graph: RomeGraph,
    k=None,
    *,
    config: MatchConfig | None = None,
    index: OpeningIndex | None = None,
    exclude=None,
) -> Proposals:
    """Every person's top-k eligible openings (rebalanced) and blocked near-matches.

    ``k`` defaults to ``config.k`` (20); given, it overrides it. ``exclude``: keys from
    ``exclusion_keys`` (dismissed proposals are kept by the app and never proposed again)."""
    cfg = config or MatchConfig()
    if k is not None and k != cfg.k:
        cfg = MatchConfig(**{**cfg.__dict__, "k": int(k)})
    index = index or build_opening_index(openings, graph)
    n = len(persons)
    pool = max(cfg.pool, cfg.k) if cfg.rebalance else cfg.k
    el_parts, bl_parts = [], []
    for start in range(0, n, cfg.chunk_persons):
        pidx = np.arange(start, min(n, start + cfg.chunk_persons), dtype=np.int64)
        el, bl = _score_chunk(persons, openings, graph, index, pidx, pool, cfg.blocked_k, exclude=exclude)
        el_parts.append(el)
        bl_parts.append(bl)

    def cat(parts, i, dtype):
        return np.concatenate([p[i] for p in parts]).astype(dtype) if parts else np.zeros(0, dtype)

    p, oj, s, lv, sc = (cat(el_parts, i, d) for i, d in enumerate((np.int64, np.int64, np.int64, np.int8, np.float32)))
    prices = np.zeros(len(openings), dtype=np.float32)
    info = {"pool_pairs": int(p.size)}
    if cfg.rebalance and p.size:
        row_mass = np.minimum(np.bincount(p, minlength=n), cfg.k).astype(np.float64)
        pos = np.where(openings.available, openings.positions, 0).astype(np.float64)
        in_pool = np.bincount(oj, minlength=len(openings)) > 0
        fair = row_mass.sum() / max(pos[in_pool].sum(), 1.0)
        caps = np.maximum(cfg.cap_multiplier * fair * pos, cfg.cap_min)
        prices, sk = sinkhorn_prices(
            p, oj, sc, n, len(openings), row_mass, caps, eps=cfg.eps, n_iter=cfg.sinkhorn_iter, price_max=cfg.price_max
        )
        info.update(
            sinkhorn_iterations=sk["iterations"],
            fair_exposure_per_position=float(fair),
            openings_priced=int((prices > 0).sum()),
        )
    rank = sc - prices[oj]
    sel = _select_top(p, rank, n, cfg.k)
    if cfg.rebalance and sel.size:
        sel = _apply_hard_cap(p, oj, sc, rank, sel, n, len(openings), openings, cfg, info)
    eligible = _make_pairset(persons, openings, p[sel], oj[sel], s[sel], lv[sel], prices[oj[sel]], rank[sel])
    bp, boj, bs, blv, _ = (
        cat(bl_parts, i, d) for i, d in enumerate((np.int64, np.int64, np.int64, np.int8, np.float32))
    )
    blocked = _make_pairset(persons, openings, bp, boj, bs, blv)
    return Proposals(eligible, blocked, n, prices, (persons.targets >= 0).any(axis=1), info)


def _apply_hard_cap(p, oj, sc, rank, sel, n, n_openings, openings, cfg, info):
    """Hard exposure caps after the priced top-k, as rounds of deferred acceptance: an opening
    shown beyond its cap keeps its best-scoring persons; the others take their next pool item
    among openings with room, and so on (at most ``cap_rounds`` rounds; a last cap without refill
    makes the caps hold). Prices alone cannot do this when persons look alike (the same best
    openings for all) or when a person's pool is smaller than k. A cap never leaves a person
    without a proposal: who would lose everything keeps their first one."""
    shown = np.bincount(p[sel], minlength=n)
    pos = np.where(openings.available, openings.positions, 0).astype(np.float64)
    fair = float(shown.sum()) / max(pos[np.bincount(oj, minlength=n_openings) > 0].sum(), 1.0)
    caps = np.maximum(np.ceil(cfg.hard_cap_multiplier * fair * pos), cfg.cap_min).astype(np.int64)
    accepted = np.zeros(p.size, dtype=bool)
    accepted[sel] = True
    rejected = np.zeros(p.size, dtype=bool)
    dropped = 0
    rounds = 0
    for rounds in range(1, cfg.cap_rounds + 1):  # noqa: B007 - reported in info
        idx = np.flatnonzero(accepted)
        keep = cap_exposure(p[idx], oj[idx], sc[idx], caps, n)
        if keep.all():
            break
        dropped += int((~keep).sum())
        accepted[idx[~keep]] = False
        rejected[idx[~keep]] = True
        exposure = np.bincount(oj[accepted], minlength=n_openings)
        need = cfg.k - np.bincount(p[accepted], minlength=n)
        free = np.flatnonzero(~accepted & ~rejected & (need[p] > 0) & (exposure[oj] < caps[oj]))
        if free.size == 0:
            break
        extra = free[_select_top(p[free], rank[free], n, cfg.k)]
        counts = np.bincount(p[extra], minlength=n)
        starts = np.cumsum(counts) - counts
        accepted[extra[(np.arange(extra.size) - starts[p[extra]]) < need[p[extra]]]] = True
    idx = np.flatnonzero(accepted)
    idx = idx[cap_exposure(p[idx], oj[idx], sc[idx], caps, n)]
    lost = (np.bincount(p[idx], minlength=n) == 0) & (shown > 0)
    if lost.any():
        first = sel[np.r_[True, p[sel][1:] != p[sel][:-1]]]
        idx = np.concatenate([idx, first[lost[p[first]]]])
    idx = idx[np.lexsort((-rank[idx], p[idx]))]
    info.update(
        hard_cap_dropped=dropped, hard_cap_rounds=rounds, hard_cap_per_position=float(cfg.hard_cap_multiplier * fair)
    )
    return idx


def top_for_person(
    i,
    persons: Persons,
    openings: Openings,
    graph: RomeGraph,
    k=20,
    *,
    index: OpeningIndex | None = None,
    prices=None,
    blocked_k=5,
    exclude=None,
) -> Proposals:
    """One person's top-k (a refresh on demand), ranked by ``score - prices`` when the prices of
    the last full recompute are given, with their blocked near-matches. The hard exposure caps
    of a full recompute are not re-applied (they depend on everyone's lists)."""
    index = index or build_opening_index(openings, graph)
    pidx = np.array([int(i)], dtype=np.int64)
    price_arr = None if prices is None else np.asarray(prices, dtype=np.float32)
    el, bl = _score_chunk(persons, openings, graph, index, pidx, k, blocked_k, price_arr, exclude)
    pr = price_arr[el[1]] if price_arr is not None else None
    eligible = _make_pairset(persons, openings, el[0], el[1], el[2], el[3], pr)
    blocked = _make_pairset(persons, openings, *bl[:4])
    zero = np.zeros(len(openings), np.float32)
    return Proposals(
        eligible, blocked, len(persons), zero if price_arr is None else price_arr, (persons.targets >= 0).any(axis=1)
    )


def top_candidates_for_opening(
    j,
    persons: Persons,
    openings: Openings,
    graph: RomeGraph,
    k=50,
    *,
    person_index: PersonIndex | None = None,
    allowed=None,
    blocked_k=10,
    exclude=None,
) -> Proposals:
    """The k best eligible persons for opening ``j`` (and its blocked near-matches).

    ``allowed`` (bool per person) limits the search to the persons the viewer may see (a
    référent's caseload; a company user gets anonymous profiles built by the app from the rows).
    """
    j = int(j)
    if not openings.available[j]:
        empty = _empty_pairset(persons, openings)
        return Proposals(empty, empty, len(persons), np.zeros(len(openings), np.float32))
    person_index = person_index or build_person_index(persons, graph)
    code = int(openings.rome[j])
    lo, hi = graph.reverse_ptr[code], graph.reverse_ptr[code + 1]
    src_codes = graph.reverse_code[lo:hi].astype(np.int64)
    src_levels = graph.reverse_level[lo:hi]
    starts = person_index.ptr[src_codes]
    counts = person_index.ptr[src_codes + 1] - starts
    flat = _ranges(starts, counts)
    pi = person_index.person[flat].astype(np.int64)
    slot = person_index.slot[flat].astype(np.int64)
    lv = np.repeat(src_levels, counts)
    if allowed is not None:
        ok = np.asarray(allowed, dtype=bool)[pi]
        pi, slot, lv = pi[ok], slot[ok], lv[ok]
    order = np.lexsort((slot, lv, pi))
    pi, slot, lv = pi[order], slot[order], lv[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if pi.size else np.zeros(0, bool)
    pi, slot, lv = pi[first], slot[first], lv[first]
    oj = np.full(pi.size, j, dtype=np.int64)
    ev = evaluate_pairs(persons, openings, pi, oj, slot, lv)
    ok = ~ev.hard
    gone = _excluded(pi, oj, exclude, len(openings))
    if gone is not None:
        ok &= ~gone
    out = []
    for mask, kk in ((ok & (ev.blockers == 0), k), (ok & (ev.blockers != 0), blocked_k)):
        idx = np.flatnonzero(mask)
        sel = idx[_select_top(np.zeros(idx.size, np.int64), ev.score[idx], 1, kk)]
        out.append(_make_pairset(persons, openings, pi[sel], oj[sel], slot[sel], lv[sel]))
    return Proposals(out[0], out[1], len(persons), np.zeros(len(openings), np.float32))


__all__ = [
    "ACTION_LABELS",
    "BLOCKERS",
    "BLOCK_CHILDCARE",
    "BLOCK_LICENCE",
    "BLOCK_QUALIFICATION",
    "BLOCK_TRAVEL",
    "SIGNALS",
    "WEIGHTS",
    "all_pairs",
    "MatchConfig",
    "OpeningIndex",
    "PairSet",
    "PersonIndex",
    "Proposals",
    "build_opening_index",
    "build_person_index",
    "evaluate_pairs",
    "exclusion_keys",
    "haversine_km",
    "recompute_all",
    "top_candidates_for_opening",
    "top_for_person",
    "travel_minutes",
]
