"""Database → matching engine → stored proposals (issue 6 §2).

The engine (``spie.matching``) knows arrays only; this module builds them from the database,
calls it and stores what it returns:

- :func:`rome_graph` builds the ``RomeGraph`` from ``RomeCode`` / ``RomeMobility`` /
  ``RomeDomain`` (a mobility towards a managerial code from a non-managerial one is an
  "évolution", any other a "proche"; codes sharing a ROME v3 fiche are "proches"), cached per
  process and rebuilt when the list of codes or the number of mobilities changes.
- :func:`recompute_territory` (nightly, ``manage.py recompute_matches``): every active profile
  of a person still in the pathway against every open opening of the territory, then against
  the open immersion offers (a second call, with neutral contract and hours preferences); the
  territory's ``Proposal`` rows are replaced in bulk (top 20 eligible, top 5 blocked per person,
  immersions apart) and a :class:`MatchRun` keeps the congestion and fairness figures and the
  congestion prices.
- :func:`refresh_person` recomputes one person on demand with the last full run's prices.
- :func:`candidates_for_opening` ranks the candidates of one opening, live.
- :func:`lifting_actions` finds published catalogue actions near a person that lift what blocks
  a near-match (one catalogue search per kind of blocker).

Health: the engine receives only yes/no restriction bits (``HealthInfo.restriction_flags``),
read as a list of codes; the free-text fields of the health section are never read here. A pair
excluded for health is dropped by the engine and leaves no trace.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from spie.core.text import fold_words
from spie.matching import data as md
from spie.matching import engine as me
from spie.matching.metrics import age_band, congestion_report, fairness_report
from spie.matching.rome import RomeGraph
from spie.people.models import HealthInfo, Person
from spie.referentials.models import RomeCode, RomeMobility

from .models import (
    ContractType,
    Dismissal,
    HealthDemand,
    Immersion,
    ImmersionOffer,
    ImmersionStatus,
    JobOpening,
    JobSearchProfile,
    MatchRun,
    OpeningStatus,
    Positioning,
    PositioningStatus,
    Proposal,
    ProposalKind,
    Schedule,
    TargetJob,
    TravelMode,
)

K_ELIGIBLE = 20
K_BLOCKED = 5
K_IMMERSION = 10
NEUTRAL_HOURS = (0.0, 48.0)

SCHEDULE_BITS = {
    Schedule.DAY: md.SCHED_DAY,
    Schedule.NIGHT: md.SCHED_NIGHT,
    Schedule.WEEKEND: md.SCHED_WEEKEND,
    Schedule.EARLY: md.SCHED_EARLY,
    Schedule.LATE: md.SCHED_LATE,
}
HEALTH_BITS = {
    HealthDemand.HEAVY_LOADS: md.HEALTH_HEAVY_LOADS,
    HealthDemand.STANDING: md.HEALTH_STANDING,
    HealthDemand.NIGHT_WORK: md.HEALTH_NIGHT_WORK,
    HealthDemand.OUTDOOR: md.HEALTH_OUTDOOR,
    HealthDemand.SCREEN: md.HEALTH_SCREEN,
}
CONTRACT_CODES = {
    ContractType.CDI: md.CONTRACT_CDI,
    ContractType.CDD: md.CONTRACT_CDD,
    ContractType.INTERIM: md.CONTRACT_INTERIM,
    ContractType.APPRENTICESHIP: md.CONTRACT_APPRENTICESHIP,
    ContractType.INSERTION: md.CONTRACT_INSERTION,
    ContractType.SEASONAL: md.CONTRACT_SEASONAL,
}
TRAVEL_MODES = {TravelMode.CAR: md.MODE_CAR, TravelMode.PUBLIC: md.MODE_PUBLIC, TravelMode.ACTIVE: md.MODE_ACTIVE}
# Pairs never proposed again: every positioning but a withdrawn one (the company refused, the
# person declined, or it is under way).
SETTLED_POSITIONING = ~Q(status=PositioningStatus.WITHDRAWN)
LIVE_IMMERSION = Q(status__in=[ImmersionStatus.REQUESTED, ImmersionStatus.AGREED])


def schedule_bits(codes) -> int:
    bits = 0
    for code in codes or ():
        bits |= SCHEDULE_BITS.get(code, 0)
    return bits


def health_bits(codes) -> int:
    bits = 0
    for code in codes or ():
        bits |= HEALTH_BITS.get(code, 0)
    return bits


def contract_mask(codes) -> int:
    mask = 0
    for code in codes or ():
        if code in CONTRACT_CODES:
            mask |= 1 << CONTRACT_CODES[code]
    return mask


def skill_key(text) -> str:
    """Folded text of a qualification or a skill line (equality of folded texts is a match)."""
    return fold_words(text or "")


# --- ROME graph ---------------------------------------------------------------------------------


@dataclass
class RomeIndex:
    codes: list
    index: dict
    graph: RomeGraph


_GRAPH_CACHE: dict = {}


def rome_graph() -> RomeIndex:
    """The ROME graph of the database, cached per process (two small queries to validate it)."""
    codes = list(RomeCode.objects.order_by("code").values_list("code", "domain_id", "parent_code", "managerial"))
    n_mobility = RomeMobility.objects.count()
    digest = hashlib.blake2b("|".join(c[0] for c in codes).encode(), digest_size=8).hexdigest()
    key = (len(codes), n_mobility, digest)
    cached = _GRAPH_CACHE.get("graph")
    if cached is not None and cached[0] == key:
        return cached[1]
    index = {code: i for i, (code, *_rest) in enumerate(codes)}
    managerial = [bool(c[3]) for c in codes]
    proche, evolution = [], []
    for source, target in RomeMobility.objects.values_list("source_id", "target_id").iterator(chunk_size=5000):
        s, t = index.get(source), index.get(target)
        if s is None or t is None or s == t:
            continue
        (evolution if managerial[t] and not managerial[s] else proche).append((s, t))
    by_parent = {}
    for i, (_code, _domain, parent, _m) in enumerate(codes):
        if parent:
            by_parent.setdefault(parent, []).append(i)
    for members in by_parent.values():
        proche.extend((a, b) for a in members for b in members if a != b)
    domain_names = [(domain or code[:3]) for code, domain, _p, _m in codes]
    domain_index = {d: i for i, d in enumerate(sorted(set(domain_names)))}
    domains = np.array([domain_index[d] for d in domain_names], dtype=np.int32)
    if codes:
        graph = RomeGraph.from_edges(len(codes), proche, evolution, domains)
    else:  # no referential loaded: a one-code graph nobody targets
        graph = RomeGraph.from_edges(1, (), (), np.array([-1], dtype=np.int32))
    result = RomeIndex([c[0] for c in codes], index, graph)
    _GRAPH_CACHE["graph"] = (key, result)
    return result


# --- Persons ------------------------------------------------------------------------------------


@dataclass
class PersonRows:
    """The engine's ``Persons`` and, per row, the person's pk and the fairness labels."""

    persons: md.Persons
    pks: list
    labels: dict = field(default_factory=dict)
    skipped: int = 0

    def row_of(self, pk):
        try:
            return self.pks.index(pk)
        except ValueError:
            return None


class _Ids:
    """Small integer ids for keys (appellation codes, folded skills)."""

    def __init__(self):
        self.ids = {}

    def __call__(self, key):
        if not key:
            return -1
        return self.ids.setdefault(key, len(self.ids))

    def get(self, key):
        return self.ids.get(key, -1) if key else -1


PROFILE_DEFER = (
    "commune__shape", "person__commune__shape", "person__children_birth_years", "person__languages",
    "person__address", "person__phone", "person__email", "person__nir", "person__birth_name",
)


def active_profiles(territory=None, person_ids=None):
    """Active job-search profiles of persons still in the pathway (territory or persons)."""
    today = timezone.localdate()
    qs = JobSearchProfile.objects.filter(is_active=True).exclude(person__status=Person.Status.EXITED)
    qs = qs.filter(Q(person__exited_on__isnull=True) | Q(person__exited_on__gt=today))
    if territory is not None:
        qs = qs.filter(person__territory=territory)
    if person_ids is not None:
        qs = qs.filter(person_id__in=list(person_ids))
    # Only what build_persons reads: no commune shapes nor the person's other JSON fields.
    return qs.select_related("commune", "person", "person__commune").defer(*PROFILE_DEFER).order_by("person_id")


def build_persons(profiles, rome: RomeIndex, apps: _Ids, skills: _Ids, *, neutral=False) -> PersonRows:
    """``Persons`` arrays from profiles (one query for targets, one for health flags).

    Persons without coordinates (no commune with coordinates) are left out (``skipped``).
    ``neutral=True`` gives no contract or hours preference (immersion offers).
    """
    profiles = [p for p in profiles]
    targets = {}
    for profile_id, rome_id, app_id, months in TargetJob.objects.filter(
        profile_id__in=[p.pk for p in profiles]
    ).order_by("profile_id", "rank", "id").values_list("profile_id", "rome_id", "appellation_id", "experience_months"):
        targets.setdefault(profile_id, []).append((rome.index.get(rome_id, -1), apps(app_id), months))
    health = dict(
        HealthInfo.objects.filter(person_id__in=[p.person_id for p in profiles]).values_list(
            "person_id", "restriction_flags"
        )
    )
    width = max([len(v) for v in targets.values()] + [1])
    rows = []
    skipped = 0
    for p in profiles:
        commune = p.commune if p.commune_id and p.commune.lat is not None else p.person.commune
        if commune is None or commune.lat is None or commune.lon is None:
            skipped += 1
            continue
        rows.append((p, commune))
    n = len(rows)
    lat = np.zeros(n)
    lon = np.zeros(n)
    tg = np.full((n, width), -1, dtype=np.int32)
    ta = np.full((n, width), -1, dtype=np.int32)
    te = np.zeros((n, width), dtype=np.float32)
    mode = np.zeros(n, dtype=np.int8)
    max_min = np.zeros(n, dtype=np.float32)
    licence = np.zeros(n, dtype=bool)
    vehicle = np.zeros(n, dtype=bool)
    avail = np.zeros(n, dtype=np.int16)
    child = np.zeros(n, dtype=np.int16)
    hb = np.zeros(n, dtype=np.int32)
    cpref = np.zeros(n, dtype=np.int16)
    hmin = np.zeros(n, dtype=np.float32)
    hmax = np.zeros(n, dtype=np.float32)
    indptr = [0]
    indices = []
    labels = {"Genre": [], "Tranche d'âge": [], "RSA": [], "RQTH": [], "Lieu de résidence": []}
    ages = []
    sex_labels = dict(Person.Sex.choices)
    for i, (p, commune) in enumerate(rows):
        person = p.person
        lat[i], lon[i] = commune.lat, commune.lon
        for j, (code, app, months) in enumerate(targets.get(p.pk, [])):
            tg[i, j], ta[i, j], te[i, j] = code, app, months
        mode[i] = TRAVEL_MODES.get(p.travel_mode, md.MODE_PUBLIC)
        max_min[i] = p.max_travel_minutes
        licence[i] = person.driving_licence == Person.Licence.B
        vehicle[i] = bool(person.has_vehicle)
        child[i] = schedule_bits(p.childcare_conflicts)
        # What the person could work if childcare were solved: the declared hours and the
        # hours childcare prevents (so that a childcare conflict stays liftable).
        avail[i] = (schedule_bits(p.availability) or md.SCHED_ALL) | child[i]
        hb[i] = health_bits(health.get(person.pk))
        if not neutral:
            cpref[i] = contract_mask(p.contracts)
            hmin[i], hmax[i] = float(p.hours_min), float(max(p.hours_max, p.hours_min) or 48)
        else:
            hmin[i], hmax[i] = NEUTRAL_HOURS
        for line in (p.skills or "").splitlines():
            sid = skills(skill_key(line))
            if sid >= 0:
                indices.append(sid)
        indptr.append(len(indices))
        ages.append(person.age())
        labels["Genre"].append(sex_labels.get(person.sex, "Non précisé"))
        labels["RSA"].append("Oui" if person.rsa else "Non")
        labels["RQTH"].append("Non")
        labels["Lieu de résidence"].append(
            (person.commune.epci_name or person.commune.name) if person.commune_id else "Non renseigné"
        )
    if n:
        rqth = set(HealthInfo.objects.filter(person_id__in=[p.person_id for p, _c in rows], rqth=True)
                   .values_list("person_id", flat=True))
        labels["RQTH"] = ["Oui" if p.person_id in rqth else "Non" for p, _c in rows]
    labels["Tranche d'âge"] = list(age_band(np.asarray(ages, dtype=np.int64))) if ages else []
    persons = md.Persons(
        lat=lat, lon=lon, targets=tg, travel_mode=mode, max_travel_min=max_min, has_licence=licence,
        has_vehicle=vehicle, availability=avail, childcare=child, health=hb, target_appellations=ta,
        experience_months=te, contract_pref=cpref, hours_min=hmin, hours_max=hmax,
        skills=(np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64)),
    )
    return PersonRows(persons, [p.person_id for p, _c in rows], labels, skipped)


# --- Openings and immersion offers -------------------------------------------------------------


@dataclass
class OpeningRows:
    openings: md.Openings
    pks: list
    objects: list


def open_openings(territory):
    return (
        JobOpening.objects.filter(territory=territory, status=OpeningStatus.OPEN)
        .select_related("commune")
        .annotate(hired=Count("positionings", filter=Q(positionings__status=PositioningStatus.HIRED)))
        .order_by("pk")
    )


def build_openings(openings, rome: RomeIndex, apps: _Ids, skills: _Ids) -> OpeningRows:
    """``Openings`` arrays; openings without coordinates (and not remote) are left out."""
    today = timezone.localdate()
    kept = [o for o in openings if o.remote or (o.commune_id and o.commune.lat is not None)]
    n = len(kept)
    lat = np.array([o.commune.lat if o.commune_id and o.commune.lat is not None else 0.0 for o in kept])
    lon = np.array([o.commune.lon if o.commune_id and o.commune.lon is not None else 0.0 for o in kept])
    openings_arr = md.Openings(
        lat=lat.reshape(n), lon=lon.reshape(n),
        rome=[rome.index.get(o.rome_id, -1) for o in kept],
        appellation=[apps(o.appellation_id) for o in kept],
        remote=[bool(o.remote) for o in kept],
        schedule=[schedule_bits(o.schedule) or md.SCHED_DAY for o in kept],
        requires_licence=[bool(o.requires_licence) for o in kept],
        health_incompatible=[health_bits(o.health_demands) for o in kept],
        contract=[CONTRACT_CODES.get(o.contract_type, md.CONTRACT_CDI) for o in kept],
        weekly_hours=[float(o.weekly_hours) for o in kept],
        days_since_posted=[max((today - o.opened_on).days, 0) for o in kept],
        positions=[max(o.positions - getattr(o, "hired", 0), 0) for o in kept],
        is_open=[o.status == OpeningStatus.OPEN for o in kept],
        min_experience_months=[float(o.min_experience_months) for o in kept],
        required_skill=[skills(skill_key(o.qualification)) if o.qualification.strip() else -1 for o in kept],
    )
    return OpeningRows(openings_arr, [o.pk for o in kept], kept)


def open_immersion_offers(territory):
    return (
        ImmersionOffer.objects.filter(territory=territory, is_open=True)
        .select_related("commune")
        .order_by("pk")
    )


def build_immersion_offers(offers, rome: RomeIndex, apps: _Ids) -> OpeningRows:
    today = timezone.localdate()
    kept = [o for o in offers if o.commune.lat is not None and o.commune.lon is not None]
    n = len(kept)
    arr = md.Openings(
        lat=np.array([o.commune.lat for o in kept]).reshape(n),
        lon=np.array([o.commune.lon for o in kept]).reshape(n),
        rome=[rome.index.get(o.rome_id, -1) for o in kept],
        appellation=[apps(o.appellation_id) for o in kept],
        schedule=[schedule_bits(o.schedule) or md.SCHED_DAY for o in kept],
        contract=md.CONTRACT_CDI,
        weekly_hours=[float(o.weekly_hours) for o in kept],
        days_since_posted=[max((today - o.created_at.date()).days, 0) for o in kept],
        positions=[o.places for o in kept],
    )
    return OpeningRows(arr, [o.pk for o in kept], kept)


# --- Exclusions ---------------------------------------------------------------------------------


def _exclusions(person_rows: PersonRows, opening_rows: OpeningRows, *, immersion=False):
    """Engine keys of dismissed pairs and of pairs already positioned (or in immersion)."""
    prow = {pk: i for i, pk in enumerate(person_rows.pks)}
    orow = {pk: j for j, pk in enumerate(opening_rows.pks)}
    if not prow or not orow:
        return None
    field_name = "immersion_offer_id" if immersion else "opening_id"
    pairs = list(
        Dismissal.objects.filter(
            person_id__in=list(prow), restored_at__isnull=True, **{f"{field_name}__in": list(orow)}
        ).values_list("person_id", field_name)
    )
    if immersion:
        pairs += list(
            Immersion.objects.filter(LIVE_IMMERSION, person_id__in=list(prow), offer_id__in=list(orow)).values_list(
                "person_id", "offer_id"
            )
        )
    else:
        pairs += list(
            Positioning.objects.filter(SETTLED_POSITIONING, person_id__in=list(prow), opening_id__in=list(orow))
            .values_list("person_id", "opening_id")
        )
    if not pairs:
        return None
    return me.exclusion_keys([prow[p] for p, _o in pairs], [orow[o] for _p, o in pairs], len(opening_rows.pks))


# --- Storing ------------------------------------------------------------------------------------


def _rows_to_proposals(pairs, person_rows, opening_rows, kind, run, now, *, immersion=False, with_reasons=True):
    out = []
    n = len(pairs)
    if n == 0:
        return out
    ptr = pairs.person_ptr(len(person_rows.pks))
    rank = np.arange(n) - ptr[pairs.person]
    for r in range(n):
        target_pk = opening_rows.pks[int(pairs.opening[r])]
        remote = bool(pairs.remote[r])
        out.append(
            Proposal(
                person_id=person_rows.pks[int(pairs.person[r])],
                opening_id=None if immersion else target_pk,
                immersion_offer_id=target_pk if immersion else None,
                kind=kind,
                rank=int(rank[r]),
                score=round(float(pairs.score[r]), 4),
                rank_score=round(float(pairs.rank_score[r]), 4),
                reasons=pairs.reasons(r) if with_reasons else [],
                blocked_by=pairs.blocked_by(r) if kind == ProposalKind.BLOCKED else [],
                distance_km=None if remote else round(float(pairs.dist_km[r]), 1),
                travel_minutes=None if remote else round(float(pairs.travel_min[r]), 0),
                run_id=run.pk,
                computed_at=now,
            )
        )
    return out


STORE_BATCH = 20000


def _bulk_create(rows):
    """Store the proposals: executemany (SQLite) or COPY (PostgreSQL) through ``fast_insert``,
    several times faster than ``bulk_create`` for the nightly 100 000s of rows."""
    from spie.core.bulk import fast_insert

    for start in range(0, len(rows), STORE_BATCH):
        fast_insert(Proposal, rows[start : start + STORE_BATCH])


def _fairness_groups(person_rows):
    return {name: np.asarray(values, dtype=object).astype(str) for name, values in person_rows.labels.items()}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _emit(progress, text):
    if progress is not None:
        progress(text)


def recompute_territory(territory, *, progress=None) -> MatchRun:
    """Recompute and store every proposal of ``territory``; returns the full :class:`MatchRun`.

    ``progress`` (optional) is called with short French progress lines.
    """
    started = time.monotonic()
    run = MatchRun(territory=territory, scope=MatchRun.Scope.FULL, started_at=timezone.now())
    rome = rome_graph()
    _emit(progress, f"Référentiel ROME : {len(rome.codes)} codes.")
    apps, skills = _Ids(), _Ids()
    opening_rows = build_openings(open_openings(territory), rome, apps, skills)
    profiles = list(active_profiles(territory))  # loaded once, for openings and immersion offers
    person_rows = build_persons(profiles, rome, apps, skills)
    _emit(progress, f"{len(person_rows.pks)} personnes, {len(opening_rows.pks)} offres ouvertes.")
    proposals = me.recompute_all(
        person_rows.persons, opening_rows.openings, rome.graph,
        config=me.MatchConfig(k=K_ELIGIBLE, blocked_k=K_BLOCKED),
        exclude=_exclusions(person_rows, opening_rows),
    )
    _emit(progress, f"Offres : {len(proposals.eligible)} propositions, {len(proposals.blocked)} bloquées.")
    imm_rows = build_immersion_offers(open_immersion_offers(territory), rome, apps)
    imm_persons = build_persons(profiles, rome, apps, skills, neutral=True) if imm_rows.pks else None
    imm = None
    if imm_persons is not None and imm_persons.pks:
        imm = me.recompute_all(
            imm_persons.persons, imm_rows.openings, rome.graph,
            config=me.MatchConfig(k=K_IMMERSION, blocked_k=0),
            exclude=_exclusions(imm_persons, imm_rows, immersion=True),
        )
        _emit(progress, f"Immersions : {len(imm.eligible)} propositions.")
    n_persons = len(person_rows.pks)
    congestion = congestion_report(proposals, opening_rows.openings) if n_persons else {}
    fairness = fairness_report(proposals, _fairness_groups(person_rows)) if n_persons else {}
    prices = {
        str(pk): round(float(proposals.opening_price[j]), 5)
        for j, pk in enumerate(opening_rows.pks)
        if proposals.opening_price.size and proposals.opening_price[j] > 0
    }
    info = dict(proposals.info)
    info.update(
        persons_without_place=person_rows.skipped,
        immersion_offers=len(imm_rows.pks),
        immersion_proposals=len(imm.eligible) if imm is not None else 0,
    )
    with transaction.atomic():
        run.persons = n_persons
        run.openings = len(opening_rows.pks)
        run.proposals = len(proposals.eligible)
        run.blocked = len(proposals.blocked)
        run.congestion = _jsonable(congestion)
        run.fairness = _jsonable(fairness)
        run.prices = prices
        run.info = _jsonable(info)
        run.save()
        now = timezone.now()
        rows = _rows_to_proposals(proposals.eligible, person_rows, opening_rows, ProposalKind.ELIGIBLE, run, now)
        rows += _rows_to_proposals(proposals.blocked, person_rows, opening_rows, ProposalKind.BLOCKED, run, now)
        if imm is not None:
            rows += _rows_to_proposals(imm.eligible, imm_persons, imm_rows, ProposalKind.ELIGIBLE, run, now,
                                       immersion=True)
        Proposal.objects.filter(person__territory=territory).delete()
        _bulk_create(rows)
        run.finished_at = timezone.now()
        run.duration_s = round(time.monotonic() - started, 3)
        run.save(update_fields=["finished_at", "duration_s"])
    _emit(progress, f"{len(rows)} lignes enregistrées en {run.duration_s:.1f} s.")
    return run


def last_full_run(territory):
    return MatchRun.objects.filter(territory=territory, scope=MatchRun.Scope.FULL, finished_at__isnull=False).first()


def refresh_person(person) -> MatchRun:
    """Recompute ``person``'s proposals now (last full run's congestion prices) and replace
    only that person's rows. A person without an active profile ends with no proposal."""
    started = time.monotonic()
    territory = person.territory
    run = MatchRun(territory=territory, scope=MatchRun.Scope.PERSON, started_at=timezone.now())
    rome = rome_graph()
    apps, skills = _Ids(), _Ids()
    opening_rows = build_openings(open_openings(territory), rome, apps, skills)
    person_rows = build_persons(active_profiles(person_ids=[person.pk]), rome, apps, skills)
    rows = []
    now = timezone.now()
    full = last_full_run(territory)
    with transaction.atomic():
        run.persons = len(person_rows.pks)
        run.openings = len(opening_rows.pks)
        run.save()
        if person_rows.pks:
            prices = np.zeros(len(opening_rows.pks), dtype=np.float32)
            stored = (full.prices or {}) if full else {}
            for j, pk in enumerate(opening_rows.pks):
                prices[j] = float(stored.get(str(pk), 0.0))
            result = me.top_for_person(
                0, person_rows.persons, opening_rows.openings, rome.graph, k=K_ELIGIBLE, prices=prices,
                blocked_k=K_BLOCKED, exclude=_exclusions(person_rows, opening_rows),
            )
            rows += _rows_to_proposals(result.eligible, person_rows, opening_rows, ProposalKind.ELIGIBLE, run, now)
            rows += _rows_to_proposals(result.blocked, person_rows, opening_rows, ProposalKind.BLOCKED, run, now)
            run.proposals = len(result.eligible)
            run.blocked = len(result.blocked)
            imm_rows = build_immersion_offers(open_immersion_offers(territory), rome, apps)
            if imm_rows.pks:
                imm_persons = build_persons(active_profiles(person_ids=[person.pk]), rome, apps, skills, neutral=True)
                imm = me.top_for_person(
                    0, imm_persons.persons, imm_rows.openings, rome.graph, k=K_IMMERSION, blocked_k=0,
                    exclude=_exclusions(imm_persons, imm_rows, immersion=True),
                )
                rows += _rows_to_proposals(imm.eligible, imm_persons, imm_rows, ProposalKind.ELIGIBLE, run, now,
                                           immersion=True)
        Proposal.objects.filter(person=person).delete()
        _bulk_create(rows)
        run.finished_at = timezone.now()
        run.duration_s = round(time.monotonic() - started, 3)
        run.info = {"full_run": full.pk if full else None}
        run.save()
    return run


def candidates_for_opening(opening, *, allowed_person_ids=None, k=50):
    """Live candidates of ``opening``: ``[{"person_id", "score", "reasons", "blocked_by",
    "kind", "distance_km", "travel_minutes", "level", "slot"}, …]``, eligible ones first (best
    first), then blocked near-matches. ``allowed_person_ids`` limits them to those persons
    (None = every active profile of the territory); dismissed and positioned pairs are left out.
    """
    rome = rome_graph()
    apps, skills = _Ids(), _Ids()
    qs = JobOpening.objects.filter(pk=opening.pk).select_related("commune").annotate(
        hired=Count("positionings", filter=Q(positionings__status=PositioningStatus.HIRED))
    )
    opening_rows = build_openings(list(qs), rome, apps, skills)
    if not opening_rows.pks:
        return []
    ids = None if allowed_person_ids is None else list(allowed_person_ids)
    if ids is not None and not ids:
        return []
    person_rows = build_persons(active_profiles(opening.territory, person_ids=ids), rome, apps, skills)
    if not person_rows.pks:
        return []
    result = me.top_candidates_for_opening(
        0, person_rows.persons, opening_rows.openings, rome.graph, k=k, blocked_k=min(k, 10),
        exclude=_exclusions(person_rows, opening_rows),
    )
    out = []
    for kind, pairs in ((ProposalKind.ELIGIBLE, result.eligible), (ProposalKind.BLOCKED, result.blocked)):
        for r in range(len(pairs)):
            remote = bool(pairs.remote[r])
            out.append({
                "person_id": person_rows.pks[int(pairs.person[r])],
                "score": round(float(pairs.score[r]), 4),
                "reasons": pairs.reasons(r),
                "blocked_by": pairs.blocked_by(r),
                "kind": str(kind),
                "distance_km": None if remote else round(float(pairs.dist_km[r]), 1),
                "travel_minutes": None if remote else round(float(pairs.travel_min[r]), 0),
                "level": int(pairs.level[r]),
                "slot": int(pairs.slot[r]),
            })
    return out


# --- Catalogue actions that lift a blocker -----------------------------------------------------

# data·inclusion thématiques searched for each blocker (a category matches its sub-thématiques).
LIFTING_THEMES = {
    "travel": ("mobilite",),
    "licence": ("mobilite--preparer-un-permis", "mobilite--financer-ma-mobilite"),
    "childcare": ("famille--garde-denfants",),
    "qualification": ("se-former--trouver-sa-formation", "se-former--monter-son-dossier-de-formation"),
}


def lifting_actions(person, blocked_by_items, limit=3):
    """``{constraint: [Action, …]}``: up to ``limit`` published catalogue actions near
    ``person`` (their search commune, else their commune) for each kind of blocker found in
    ``blocked_by_items`` (engine ``blocked_by`` dicts, from any number of proposals). One
    catalogue search per kind of blocker, one query for the actions of all kinds."""
    from spie.catalogue.models import Action
    from spie.catalogue.search import SearchParams, search

    wanted = []
    for item in blocked_by_items or ():
        name = item.get("constraint") if isinstance(item, dict) else None
        if name in LIFTING_THEMES and name not in wanted:
            wanted.append(name)
    if not wanted:
        return {}
    profile = JobSearchProfile.objects.filter(person=person).select_related("commune").first()
    origin = profile.commune if profile is not None and profile.commune_id else person.commune
    ids = {}
    for name in wanted:
        result = search(SearchParams(territory=person.territory, commune=origin, thematiques=LIFTING_THEMES[name]))
        ids[name] = [hit.action_id for hit in result.hits[:limit]]
    every = {pk for values in ids.values() for pk in values}
    actions = Action.objects.select_related("structure", "commune").in_bulk(list(every)) if every else {}
    return {name: [actions[pk] for pk in values if pk in actions] for name, values in ids.items()}
