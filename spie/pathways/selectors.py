"""Reads on orientations and contracts: delays (décret 2024-1244), the chargé d'orientation's
queue, counts per structure, and the pathway summary of a person's record.

Delays:

- orientation: from the opening of RSA rights (or, without it, the entry into the pathway)
  to the orientation decision; target ``territory.orientation_delay_days`` (45 days);
- contract: from the (latest) orientation decision to the signature of a contract after it;
  target ``territory.contract_delay_days`` (30 days).

Days are counted in whole calendar days (local dates). "Over the delay" means strictly more
days than the target. Every function keeps a constant number of queries whatever the number
of persons (tests/pathways/test_queue.py).
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from spie.network.models import Structure
from spie.people.models import FollowUpMembership, Person
from spie.people.selectors import PUBLIC_FILTERS

from .models import EngagementContract, Orientation

Status = Orientation.Status


def local_day(moment):
    return timezone.localtime(moment).date() if moment else None


def orientation_start(person):
    """Start of the orientation delay: RSA rights opened, or else the entry into the pathway."""
    return person.rsa_rights_opened_on or person.entered_on


def signature_day(contract):
    """The day a contract became binding: the later of the two signatures (or the day recorded)."""
    days = [d for d in (contract.signed_by_person_on, contract.signed_by_referent_on) if d]
    if days:
        return max(days)
    return local_day(contract.signed_at)


@dataclass
class Delay:
    """Days from ``since`` to ``until`` (or to ``today`` while waiting) against a target."""

    since: datetime.date | None
    until: datetime.date | None
    target: int
    today: datetime.date = field(default_factory=timezone.localdate)

    @property
    def done(self):
        return self.until is not None

    @property
    def days(self):
        if self.since is None:
            return None
        return max(0, ((self.until or self.today) - self.since).days)

    @property
    def over(self):
        return self.days is not None and self.days > self.target

    @property
    def remaining(self):
        return None if self.days is None else self.target - self.days


def _decided(orientations):
    return sorted(
        (o for o in orientations if o.status == Status.DECIDED and o.decided_at),
        key=lambda o: (o.decided_at, o.pk),
    )


def orientation_delay(person, orientations, *, today=None):
    """Days from the start date to the first orientation decision (or to today)."""
    today = today or timezone.localdate()
    decided = _decided(orientations)
    until = local_day(decided[0].decided_at) if decided else None
    return Delay(orientation_start(person), until, person.territory.orientation_delay_days, today)


def contract_delay(person, orientations, contracts, *, today=None):
    """Days from the latest decision to the first contract signed after it (or to today); None
    when no orientation has been decided yet."""
    today = today or timezone.localdate()
    decided = _decided(orientations)
    if not decided:
        return None
    latest = decided[-1]
    signed_after = [c for c in contracts if c.signed_at and c.signed_at >= latest.decided_at]
    until = min((signature_day(c) for c in signed_after), default=None)
    return Delay(local_day(latest.decided_at), until, person.territory.contract_delay_days, today)


@dataclass
class PathwaySummary:
    orientations: list
    pending: Orientation | None
    decided: Orientation | None
    orientation_delay: Delay
    contracts: list
    contract: EngagementContract | None  # the draft in progress, or else the signed version
    signed: EngagementContract | None
    draft: EngagementContract | None
    contract_delay: Delay | None


def pathway_summary(person, *, today=None):
    """What the record shows of orientations and contracts, in two queries."""
    orientations = list(
        Orientation.objects.filter(person=person).select_related(
            "proposed_structure", "decided_structure", "decided_referent"
        )
    )
    contracts = list(
        EngagementContract.objects.filter(person=person)
        .select_related("referent", "structure")
        .defer("objectives", "actions")
        .order_by("-version")
    )
    decided = _decided(orientations)
    pending = next((o for o in orientations if o.status == Status.PROPOSED), None)
    signed = next((c for c in contracts if c.status == EngagementContract.Status.SIGNED), None)
    draft = next((c for c in contracts if c.status == EngagementContract.Status.DRAFT), None)
    return PathwaySummary(
        orientations=orientations,
        pending=pending,
        decided=decided[-1] if decided else None,
        orientation_delay=orientation_delay(person, orientations, today=today),
        contracts=contracts,
        contract=draft or signed,
        signed=signed,
        draft=draft,
        contract_delay=contract_delay(person, orientations, contracts, today=today),
    )


def person_orientations(person):
    """The person's orientations, newest first, with their transition logs (two queries)."""
    from .models import OrientationTransition

    return list(
        Orientation.objects.filter(person=person)
        .select_related(
            "proposed_structure", "proposed_by", "decided_structure", "decided_referent", "decided_by", "diagnostic"
        )
        .prefetch_related(
            Prefetch("transitions", queryset=OrientationTransition.objects.select_related("by"), to_attr="log")
        )
    )


# --- The chargé d'orientation's queue ----------------------------------------------------


@dataclass
class QueueFilters:
    structure: int | None = None
    over_only: bool = False
    public: str | None = None

    @classmethod
    def from_query(cls, params):
        try:
            structure = int(params.get("structure") or 0) or None
        except (TypeError, ValueError):
            structure = None
        public = params.get("public") or None
        return cls(
            structure=structure,
            over_only=params.get("retard") in ("1", "on", "true"),
            public=public if public in PUBLIC_FILTERS else None,
        )

    @property
    def active(self):
        return bool(self.structure or self.over_only or self.public)


def _cutoff(today, days):
    """Dates strictly before the cutoff are over a delay of ``days`` days."""
    return today - datetime.timedelta(days=days)


def _pending(field):
    return Subquery(
        Orientation.objects.filter(person=OuterRef("pk"), status=Status.PROPOSED).values(field)[:1]
    )


def _queue_base(territory):
    """Persons waiting for an orientation decision, annotated with the date they wait since.

    Waiting: a pending request (orientation or réorientation), or subject to droits et devoirs
    without any decided orientation. A first orientation waits since the start date (rights
    opened or entry into the pathway); a réorientation since the day it was requested.
    """
    decided = Orientation.objects.filter(person=OuterRef("pk"), status=Status.DECIDED)
    pending_persons = Orientation.objects.filter(
        status=Status.PROPOSED, person__territory=territory
    ).values("person_id")
    referent_structure = FollowUpMembership.objects.filter(
        person=OuterRef("pk"), kind=FollowUpMembership.Kind.REFERENT, end_date__isnull=True
    ).values("structure_id")[:1]
    return (
        Person.objects.filter(territory=territory)
        .filter(Q(pk__in=pending_persons) | (Q(rsa_droits_devoirs=True) & ~Exists(decided)))
        .annotate(
            pending_kind=_pending("kind"),
            pending_at=_pending("proposed_at"),
            pending_structure=_pending("proposed_structure_id"),
        )
        .annotate(
            waiting_since=Case(
                When(pending_kind=Value(Orientation.Kind.REORIENTATION), then=TruncDate("pending_at")),
                default=Coalesce("rsa_rights_opened_on", "entered_on"),
                output_field=DateField(),
            ),
            queue_structure=Coalesce("pending_structure", Subquery(referent_structure)),
        )
    )


def orientation_queue(territory, filters=None, *, today=None):
    """Persons waiting for a decision, most days waiting first (see :func:`_queue_base`)."""
    filters = filters or QueueFilters()
    today = today or timezone.localdate()
    qs = _queue_base(territory)
    if filters.public:
        qs = qs.filter(PUBLIC_FILTERS[filters.public][1]())
    if filters.structure:
        qs = qs.filter(queue_structure=filters.structure)
    if filters.over_only:
        qs = qs.filter(waiting_since__lt=_cutoff(today, territory.orientation_delay_days))
    return qs.order_by("waiting_since", "pk")


def decorate_queue(persons, territory, *, today=None):
    """Attach to each person of a page its pending request, référent, days waiting and flag.

    Two queries whatever the page size.
    """
    today = today or timezone.localdate()
    persons = list(persons)
    ids = [p.pk for p in persons]
    pending = {
        o.person_id: o
        for o in Orientation.objects.filter(person_id__in=ids, status=Status.PROPOSED).select_related(
            "proposed_structure", "proposed_by"
        )
    }
    referents = {
        f.person_id: f
        for f in FollowUpMembership.objects.filter(
            person_id__in=ids, kind=FollowUpMembership.Kind.REFERENT, end_date__isnull=True
        ).select_related("user", "structure")
    }
    target = territory.orientation_delay_days
    for person in persons:
        person.pending_orientation = pending.get(person.pk)
        person.referent_followup = referents.get(person.pk)
        person.delay = Delay(person.waiting_since, None, target, today)
    return persons


def latest_decisions_without_contract(orientations):
    """Among ``orientations``: the latest decided one of each person with no contract signed since.

    The queue passes the territory's orientations; the alerts of a caseload pass those of its
    persons (``person__in``), so that their cost follows the caseload, not the territory.
    """
    newer = Orientation.objects.filter(
        person=OuterRef("person"), status=Status.DECIDED, decided_at__gt=OuterRef("decided_at")
    )
    signed_since = EngagementContract.objects.filter(
        person=OuterRef("person"), signed_at__isnull=False, signed_at__gte=OuterRef("decided_at")
    )
    return (
        orientations.filter(status=Status.DECIDED, decided_at__isnull=False)
        .exclude(Exists(newer))
        .exclude(Exists(signed_since))
    )


def persons_over_contract_delay(persons, territory, today):
    """``persons`` (a Person queryset) whose latest decision is older than the contract delay
    with no contract signed since, annotated with ``decided_at``.

    Written from the persons so that the database walks a caseload and probes each person's
    orientations (index ``orientation_person_status``) instead of scanning every decided
    orientation of the territory.
    """
    latest = latest_decisions_without_contract(
        Orientation.objects.filter(person=OuterRef("pk"), decided_at__lt=contract_delay_start(territory, today))
    ).order_by("-decided_at")
    return persons.annotate(decided_at=Subquery(latest.values("decided_at")[:1])).filter(decided_at__isnull=False)


def contract_delay_start(territory, today):
    """Decisions before this moment are over the delay to sign the contract."""
    return _start_of_day(_cutoff(today, territory.contract_delay_days))


def awaiting_contract(territory, filters=None, *, today=None):
    """Latest decided orientations with no contract signed since the decision, oldest first."""
    filters = filters or QueueFilters()
    today = today or timezone.localdate()
    qs = latest_decisions_without_contract(Orientation.objects.filter(person__territory=territory))
    if filters.public:
        qs = qs.filter(person__in=Person.objects.filter(territory=territory).filter(
            PUBLIC_FILTERS[filters.public][1]()
        ).values("pk"))
    if filters.structure:
        qs = qs.filter(decided_structure_id=filters.structure)
    if filters.over_only:
        qs = qs.filter(decided_at__lt=contract_delay_start(territory, today))
    return qs.select_related("person", "decided_structure", "decided_referent").order_by("decided_at", "pk")


def _start_of_day(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def decorate_contracts(orientations, territory, *, today=None):
    today = today or timezone.localdate()
    orientations = list(orientations)
    for orientation in orientations:
        orientation.delay = Delay(local_day(orientation.decided_at), None, territory.contract_delay_days, today)
    return orientations


@dataclass
class StructureCount:
    structure: Structure | None
    count: int
    over: int
    total: int

    @property
    def share(self):
        return round(100 * self.count / self.total) if self.total else 0


def _with_structures(rows, key, total):
    ids = [row[key] for row in rows if row[key]]
    structures = Structure.objects.in_bulk(ids)
    counts = [
        StructureCount(structures.get(row[key]), row["n"], row["over"], total)
        for row in rows
    ]
    return sorted(counts, key=lambda c: (-c.count, c.structure.name if c.structure else "~"))


def queue_counts(territory, *, today=None):
    """Persons waiting per structure (the proposed one, or else the référent's), two queries."""
    today = today or timezone.localdate()
    cutoff = _cutoff(today, territory.orientation_delay_days)
    rows = list(
        _queue_base(territory)
        .order_by()
        .values("queue_structure")
        .annotate(n=Count("pk"), over=Count("pk", filter=Q(waiting_since__lt=cutoff)))
    )
    total = sum(row["n"] for row in rows)
    return _with_structures(rows, "queue_structure", total), total


def contract_counts(territory, *, today=None):
    """Decided orientations awaiting a signed contract, per structure, two queries."""
    today = today or timezone.localdate()
    cutoff = _start_of_day(_cutoff(today, territory.contract_delay_days))
    rows = list(
        awaiting_contract(territory, today=today)
        .select_related(None)
        .order_by()
        .values("decided_structure")
        .annotate(n=Count("pk"), over=Count("pk", filter=Q(decided_at__lt=cutoff)))
    )
    total = sum(row["n"] for row in rows)
    return _with_structures(rows, "decided_structure", total), total
