"""Array inputs of the matching engine: persons, openings, and the codes they share.

Everything here is plain numpy: an adapter (the Django side) builds these from the database, a
benchmark or an evaluation builds them from synthetic data. One row = one person or one opening;
the row number is the engine's identifier, the adapter keeps the mapping to primary keys.

Bit masks (small integers) keep the constraints vectorisable:

- schedule bits (``SCHED_*``): what an opening requires, what a person is available for, and what
  the person's childcare arrangements prevent;
- health bits (``HEALTH_*``): yes/no restriction flags from the restricted health section. The
  engine only learns "this person cannot do X" / "this job needs X", never a diagnosis, and it
  reports a health conflict as an exclusion without detail;
- contract bits (``1 << CONTRACT_*``): the contract types a person accepts (0 = no preference).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Travel modes (the person's real mode: a car needs a licence and a vehicle).
MODE_CAR = 0
MODE_PUBLIC = 1
MODE_ACTIVE = 2  # walking or cycling
MODE_LABELS = {MODE_CAR: "en voiture", MODE_PUBLIC: "en transports en commun", MODE_ACTIVE: "à pied ou à vélo"}

# Schedule bits.
SCHED_DAY = 1
SCHED_NIGHT = 2
SCHED_WEEKEND = 4
SCHED_EARLY = 8  # starts before 7 a.m.
SCHED_LATE = 16  # ends after 7 p.m.
SCHED_ALL = SCHED_DAY | SCHED_NIGHT | SCHED_WEEKEND | SCHED_EARLY | SCHED_LATE
SCHED_LABELS = {
    SCHED_DAY: "journée",
    SCHED_NIGHT: "nuit",
    SCHED_WEEKEND: "week-end",
    SCHED_EARLY: "horaires tôt le matin",
    SCHED_LATE: "horaires tard le soir",
}

# Health restriction bits (examples; the adapter maps the restricted section's yes/no answers).
HEALTH_HEAVY_LOADS = 1
HEALTH_STANDING = 2
HEALTH_NIGHT_WORK = 4
HEALTH_OUTDOOR = 8
HEALTH_SCREEN = 16

# Contract types (an opening has one; a person accepts a set, as a mask of ``1 << type``).
CONTRACT_CDI = 0
CONTRACT_CDD = 1
CONTRACT_INTERIM = 2
CONTRACT_APPRENTICESHIP = 3
CONTRACT_INSERTION = 4  # IAE, PEC, …
CONTRACT_SEASONAL = 5
CONTRACT_LABELS = {
    CONTRACT_CDI: "CDI",
    CONTRACT_CDD: "CDD",
    CONTRACT_INTERIM: "intérim",
    CONTRACT_APPRENTICESHIP: "alternance",
    CONTRACT_INSERTION: "contrat d'insertion",
    CONTRACT_SEASONAL: "saisonnier",
}


def _arr(value, dtype, n, name, default=None):
    """``value`` as a 1-D array of ``n`` items (a scalar or None is broadcast to ``default``)."""
    if value is None:
        value = default
    out = np.asarray(value, dtype=dtype)
    if out.ndim == 0:
        out = np.full(n, out, dtype=dtype)
    if out.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {out.shape}")
    return np.ascontiguousarray(out)


def _mat(value, dtype, n, name, fill):
    out = np.asarray(value, dtype=dtype)
    if out.ndim == 1:
        out = out.reshape(n, -1) if n else out.reshape(0, 1)
    if out.ndim != 2 or out.shape[0] != n:
        raise ValueError(f"{name}: expected shape ({n}, T), got {out.shape}")
    if out.shape[1] == 0:
        out = np.full((n, 1), fill, dtype=dtype)
    return np.ascontiguousarray(out)


@dataclass
class Persons:
    """The persons to match, one row each.

    ``targets`` is a padded matrix of ROME indices (row = person, column = target in order of the
    person's preference, -1 = empty); ``target_appellations`` and ``experience_months`` have the
    same shape. ``skills`` is an optional CSR pair ``(indptr, indices)`` of skill or
    qualification ids (the same id space as ``Openings.required_skill`` and ``Openings.skills``).

    ``availability`` is what the person could work if their childcare were solved; what the
    childcare arrangements prevent goes in ``childcare`` (so that the conflict can be reported as
    "lifted by a childcare solution" instead of excluded). ``travel_mode`` is the declared mode;
    a car without licence *and* vehicle counts as public transport (``effective_mode``).
    ``health`` holds yes/no restriction bits only. Rows are read-only once built (derived arrays
    are cached).
    """

    lat: np.ndarray
    lon: np.ndarray
    targets: np.ndarray
    travel_mode: np.ndarray | None = None
    max_travel_min: np.ndarray | None = None
    has_licence: np.ndarray | None = None
    has_vehicle: np.ndarray | None = None
    availability: np.ndarray | None = None
    childcare: np.ndarray | None = None
    health: np.ndarray | None = None
    target_appellations: np.ndarray | None = None
    experience_months: np.ndarray | None = None
    contract_pref: np.ndarray | None = None
    hours_min: np.ndarray | None = None
    hours_max: np.ndarray | None = None
    skills: tuple[np.ndarray, np.ndarray] | None = None
    _skill_keys: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        self.lat = np.ascontiguousarray(np.asarray(self.lat, dtype=np.float64))
        n = self.lat.shape[0]
        self.lon = _arr(self.lon, np.float64, n, "lon")
        self.targets = _mat(self.targets, np.int32, n, "targets", -1)
        t = self.targets.shape[1]
        self.travel_mode = _arr(self.travel_mode, np.int8, n, "travel_mode", MODE_PUBLIC)
        self.max_travel_min = _arr(self.max_travel_min, np.float32, n, "max_travel_min", 45.0)
        self.has_licence = _arr(self.has_licence, bool, n, "has_licence", False)
        self.has_vehicle = _arr(self.has_vehicle, bool, n, "has_vehicle", False)
        self.availability = _arr(self.availability, np.int16, n, "availability", SCHED_ALL)
        self.childcare = _arr(self.childcare, np.int16, n, "childcare", 0)
        self.health = _arr(self.health, np.int32, n, "health", 0)
        if self.target_appellations is None:
            self.target_appellations = np.full((n, t), -1, dtype=np.int32)
        self.target_appellations = _mat(self.target_appellations, np.int32, n, "target_appellations", -1)
        if self.experience_months is None:
            self.experience_months = np.zeros((n, t), dtype=np.float32)
        self.experience_months = _mat(self.experience_months, np.float32, n, "experience_months", 0)
        for name in ("target_appellations", "experience_months"):
            if getattr(self, name).shape != self.targets.shape:
                raise ValueError(f"{name}: expected shape {self.targets.shape}")
        self.contract_pref = _arr(self.contract_pref, np.int16, n, "contract_pref", 0)
        self.hours_min = _arr(self.hours_min, np.float32, n, "hours_min", 0.0)
        self.hours_max = _arr(self.hours_max, np.float32, n, "hours_max", 48.0)
        if self.skills is not None:
            indptr = np.asarray(self.skills[0], dtype=np.int64)
            indices = np.asarray(self.skills[1], dtype=np.int64)
            if indptr.shape != (n + 1,):
                raise ValueError("skills: indptr must have n + 1 items")
            self.skills = (indptr, indices)
        # An effective mode: a declared car without licence and vehicle is not a real mode.
        car_ok = self.has_licence & self.has_vehicle
        self.effective_mode = np.where((self.travel_mode == MODE_CAR) & ~car_ok, MODE_PUBLIC, self.travel_mode)
        self.effective_mode = self.effective_mode.astype(np.int8)

    def __len__(self):
        return self.lat.shape[0]

    @property
    def n_targets(self):
        return self.targets.shape[1]

    def radians(self):
        """(lat, lon, cos lat) in radians, computed once (for the vectorised haversine)."""
        if getattr(self, "_radians", None) is None:
            lat = np.radians(self.lat)
            self._radians = (lat, np.radians(self.lon), np.cos(lat))
        return self._radians

    def skill_keys(self):
        """Sorted ``person * 2**32 + skill`` keys, for vectorised "does person p have skill s"."""
        if self._skill_keys is None:
            if self.skills is None:
                self._skill_keys = np.zeros(0, dtype=np.int64)
            else:
                indptr, indices = self.skills
                rows = np.repeat(np.arange(len(self), dtype=np.int64), np.diff(indptr))
                self._skill_keys = np.sort((rows << 32) + indices)
        return self._skill_keys

    def has_skill(self, person_idx, skill_ids):
        """Boolean array: does ``person_idx[k]`` hold ``skill_ids[k]`` (negative ids → False)."""
        keys = self.skill_keys()
        skill_ids = np.asarray(skill_ids, dtype=np.int64)
        if keys.size == 0:
            return np.zeros(skill_ids.shape, dtype=bool)
        q = (np.asarray(person_idx, dtype=np.int64) << 32) + skill_ids
        pos = np.minimum(np.searchsorted(keys, q), keys.size - 1)
        return (keys[pos] == q) & (skill_ids >= 0)


@dataclass
class Openings:
    """The job openings, one row each. Closed openings (``is_open`` false) or openings without a
    free position are never proposed. ``skills`` is an optional padded matrix of skill ids
    (-1 = empty) used as a soft signal; ``required_skill`` (-1 = none) is a qualification the
    job requires: a person without it is blocked, lifted by a training."""

    lat: np.ndarray
    lon: np.ndarray
    rome: np.ndarray
    appellation: np.ndarray | None = None
    remote: np.ndarray | None = None
    schedule: np.ndarray | None = None
    requires_licence: np.ndarray | None = None
    health_incompatible: np.ndarray | None = None
    contract: np.ndarray | None = None
    weekly_hours: np.ndarray | None = None
    days_since_posted: np.ndarray | None = None
    positions: np.ndarray | None = None
    is_open: np.ndarray | None = None
    min_experience_months: np.ndarray | None = None
    required_skill: np.ndarray | None = None
    skills: np.ndarray | None = None

    def __post_init__(self):
        self.lat = np.ascontiguousarray(np.asarray(self.lat, dtype=np.float64))
        n = self.lat.shape[0]
        self.lon = _arr(self.lon, np.float64, n, "lon")
        self.rome = _arr(self.rome, np.int32, n, "rome")
        self.appellation = _arr(self.appellation, np.int32, n, "appellation", -1)
        self.remote = _arr(self.remote, bool, n, "remote", False)
        self.schedule = _arr(self.schedule, np.int16, n, "schedule", SCHED_DAY)
        self.requires_licence = _arr(self.requires_licence, bool, n, "requires_licence", False)
        self.health_incompatible = _arr(self.health_incompatible, np.int32, n, "health_incompatible", 0)
        self.contract = _arr(self.contract, np.int8, n, "contract", CONTRACT_CDI)
        self.weekly_hours = _arr(self.weekly_hours, np.float32, n, "weekly_hours", 35.0)
        self.days_since_posted = _arr(self.days_since_posted, np.float32, n, "days_since_posted", 0.0)
        self.positions = _arr(self.positions, np.int32, n, "positions", 1)
        self.is_open = _arr(self.is_open, bool, n, "is_open", True)
        self.min_experience_months = _arr(self.min_experience_months, np.float32, n, "min_experience_months", 0.0)
        self.required_skill = _arr(self.required_skill, np.int64, n, "required_skill", -1)
        if self.skills is not None:
            self.skills = _mat(self.skills, np.int64, n, "skills", -1)

    def __len__(self):
        return self.lat.shape[0]

    def radians(self):
        """(lat, lon, cos lat) in radians, computed once (for the vectorised haversine)."""
        if getattr(self, "_radians", None) is None:
            lat = np.radians(self.lat)
            self._radians = (lat, np.radians(self.lon), np.cos(lat))
        return self._radians

    @property
    def available(self):
        """Openings that may be proposed: open, with at least one position."""
        return self.is_open & (self.positions > 0) & (self.rome >= 0)
