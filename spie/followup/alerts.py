"""Alerts on a caseload, computed from the data at each request and never stored.

An alert is a triple *(person, kind, since)*: something in the person's pathway needs the
professional's attention, since a given day. The kinds:

- ``no_contact``: no contact with the person for more than ``no_contact_alert_days`` days
  (territory setting, 90 by default): ``COALESCE(last_contact_on, entered_on)`` strictly before
  today minus that many days; since the last contact (or the entry into the pathway);
- ``contract_review``: a signed engagement contract whose review date has come; since that date;
- ``orientation_delay``: a person waiting for an orientation decision beyond the territory's
  ``orientation_delay_days``; since the day the wait started. The wait and the delay are those
  of the chargé d'orientation's queue (:mod:`spie.pathways.selectors`), reused as is;
- ``contract_delay``: an orientation decided more than ``contract_delay_days`` ago with no
  contract signed since (the queue's "contrats à signer"); since the decision;
- ``attendance_missing``: an appointment of the professional (or, for a structure caseload, of
  the structure) that has started, is still scheduled and whose attendance is not recorded;
  since the appointment's day;
- ``checkpoint_due``: a post-hiring checkpoint not done whose due date has come, of a job that
  has not ended (as the "suivi dans l'emploi" list); since it was due.

The pathway alerts (no contact, contract review, orientation and contract delays) stop once the
person has left the pathway; an appointment to fill in and a checkpoint after hiring (which goes
on after an exit into a job) do not.

A caseload is a :class:`Scope`: the persons (a subquery of ids) and which appointments count.
Every function keeps a fixed number of queries whatever the size of the caseload: counts are
one ``UNION ALL`` of per-kind aggregates, the list is one ``UNION ALL`` ordered and sliced in the
database, so a page reads only its own rows.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Case, CharField, Count, DateField, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from spie.pathways import selectors as pathway_selectors
from spie.people.models import FollowUpMembership, Person

from .models import Appointment, Checkpoint

NO_CONTACT = "no_contact"
CONTRACT_REVIEW = "contract_review"
ORIENTATION_DELAY = "orientation_delay"
CONTRACT_DELAY = "contract_delay"
ATTENDANCE_MISSING = "attendance_missing"
CHECKPOINT_DUE = "checkpoint_due"


@dataclass(frozen=True)
class Kind:
    code: str
    label: str  # a card's title
    since_label: str  # what the "since" date means, for the list
    url_name: str  # where the person's row leads
    fallback_url_name: str = "people:record"


KINDS = {
    NO_CONTACT: Kind(NO_CONTACT, "Sans contact depuis trop longtemps", "Dernier contact", "people:record"),
    CONTRACT_REVIEW: Kind(CONTRACT_REVIEW, "Contrat d'engagement à réviser", "Révision prévue le",
                          "pathways:contract"),
    ORIENTATION_DELAY: Kind(ORIENTATION_DELAY, "Délai d'orientation dépassé", "En attente depuis",
                            "pathways:orientations"),
    CONTRACT_DELAY: Kind(CONTRACT_DELAY, "Contrat non signé dans le délai", "Orientation décidée le",
                         "pathways:contract"),
    ATTENDANCE_MISSING: Kind(ATTENDANCE_MISSING, "Présence à renseigner", "Rendez-vous du",
                             "followup:appointments"),
    CHECKPOINT_DUE: Kind(CHECKPOINT_DUE, "Point de suivi dans l'emploi à faire", "À faire depuis le",
                         "followup:employment"),
}
CHOICES = [(code, kind.label) for code, kind in KINDS.items()]


def label(code):
    kind = KINDS.get(code)
    return kind.label if kind else code


def person_url(code, person_id):
    """The page of ``person_id`` where the alert ``code`` is dealt with (the record if that page
    is not wired yet)."""
    kind = KINDS[code]
    try:
        return reverse(kind.url_name, args=[person_id])
    except NoReverseMatch:
        return reverse(kind.fallback_url_name, args=[person_id])


# --- Scopes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """A caseload: its territory, its persons (a queryset of ids usable in ``pk__in``) and the
    appointments whose attendance it has to record."""

    territory: object
    persons: object
    appointments: Q


def personal_scope(user, membership):
    """The persons in whose follow-up group ``user`` is active, in the active territory (the
    same persons as :func:`spie.people.policies.visible_persons_filter`)."""
    territory = membership.structure.territory
    persons = FollowUpMembership.objects.filter(
        user=user, end_date__isnull=True, person__territory_id=territory.pk
    ).values("person_id")
    return Scope(territory, persons, Q(with_user_id=user.pk))


def structure_scope(membership, persons):
    """A structure's caseload (``persons``: a Person queryset), with the structure's appointments."""
    return Scope(membership.structure.territory, persons.order_by().values("pk"),
                 Q(structure_id=membership.structure_id))


# --- Per-kind querysets ---------------------------------------------------------------------


def _shape(qs, kind, person, since):
    return (
        qs.order_by()
        .annotate(alert_person=person, alert_kind=Value(kind, output_field=CharField()), alert_since=since)
        .values_list("alert_person", "alert_kind", "alert_since")
    )


def _waiting_for_orientation(scope):
    """The caseload's persons waiting for an orientation decision, with ``waiting_since``.

    The same definition as the chargé d'orientation's queue (``_queue_base`` in
    :mod:`spie.pathways.selectors`: a pending request, or droits et devoirs without any decided
    orientation; a réorientation waits since it was requested, a first orientation since the
    rights opened or the entry into the pathway), written from the caseload with ``EXISTS``
    instead of the territory-wide list of pending requests, so that its cost follows the
    caseload, not the territory. ``tests/followup/test_alerts.py`` checks both agree.
    """
    from spie.pathways.models import Orientation

    status = Orientation.Status
    decided = Orientation.objects.filter(person=OuterRef("pk"), status=status.DECIDED)
    pending = Orientation.objects.filter(person=OuterRef("pk"), status=status.PROPOSED)
    return (
        Person.objects.filter(pk__in=scope.persons)
        .filter(Exists(pending) | (Q(rsa_droits_devoirs=True) & ~Exists(decided)))
        .annotate(pending_kind=pathway_selectors._pending("kind"), pending_at=pathway_selectors._pending("proposed_at"))
        .annotate(
            waiting_since=Case(
                When(pending_kind=Value(Orientation.Kind.REORIENTATION), then=TruncDate("pending_at")),
                default=Coalesce("rsa_rights_opened_on", "entered_on"),
                output_field=DateField(),
            )
        )
    )


def kind_querysets(scope, *, today=None, now=None):
    """``{kind: queryset of (person_id, kind, since)}``, unordered, one row per alert."""
    from spie.pathways.models import EngagementContract

    today = today or timezone.localdate()
    now = now or timezone.now()
    territory = scope.territory
    exited = Person.Status.EXITED
    no_contact_cutoff = today - datetime.timedelta(days=int(territory.setting("no_contact_alert_days")))

    in_scope = {"person__in": scope.persons}
    no_contact = Person.objects.filter(pk__in=scope.persons).exclude(status=exited).annotate(
        contact_day=Coalesce("last_contact_on", "entered_on")
    ).filter(contact_day__lt=no_contact_cutoff)
    review = EngagementContract.objects.filter(
        **in_scope, status=EngagementContract.Status.SIGNED, review_date__lte=today
    ).exclude(person__status=exited)
    orientation = _waiting_for_orientation(scope).exclude(status=exited).filter(
        waiting_since__lt=pathway_selectors._cutoff(today, territory.orientation_delay_days)
    )
    contract = pathway_selectors.persons_over_contract_delay(
        Person.objects.filter(pk__in=scope.persons).exclude(status=exited), territory, today
    )
    attendance = Appointment.objects.filter(
        scope.appointments,
        **in_scope,
        status=Appointment.Status.SCHEDULED,
        attendance=Appointment.Attendance.PENDING,
        starts_at__lt=now,
    )
    # Same as the "suivi dans l'emploi" list: a checkpoint of a job that has ended is no longer due.
    checkpoint = Checkpoint.objects.filter(
        **in_scope, done_on__isnull=True, due_on__lte=today, employment__ended_on__isnull=True
    )
    return {
        NO_CONTACT: _shape(no_contact, NO_CONTACT, F("pk"), F("contact_day")),
        CONTRACT_REVIEW: _shape(review, CONTRACT_REVIEW, F("person_id"), F("review_date")),
        ORIENTATION_DELAY: _shape(orientation, ORIENTATION_DELAY, F("pk"), F("waiting_since")),
        CONTRACT_DELAY: _shape(contract, CONTRACT_DELAY, F("pk"), TruncDate("decided_at")),
        ATTENDANCE_MISSING: _shape(attendance, ATTENDANCE_MISSING, F("person_id"), TruncDate("starts_at")),
        CHECKPOINT_DUE: _shape(checkpoint, CHECKPOINT_DUE, F("person_id"), F("due_on")),
    }


def person_ids(scope, kind, *, today=None, now=None):
    """A subquery of the ids of the persons with an alert of ``kind`` (for ``pk__in``)."""
    return kind_querysets(scope, today=today, now=now)[kind].values("alert_person")


# --- Counts -------------------------------------------------------------------------------


def summary(scope, *, today=None, now=None):
    """``{kind: (alerts, persons)}`` for every kind, in one query (a union of aggregates)."""
    parts = [
        qs.values("alert_kind").annotate(
            n=Count("alert_person"), persons=Count("alert_person", distinct=True)
        ).values_list("alert_kind", "n", "persons")
        for qs in kind_querysets(scope, today=today, now=now).values()
    ]
    rows = parts[0].union(*parts[1:], all=True)
    found = {kind: (n, persons) for kind, n, persons in rows}
    return {kind: found.get(kind, (0, 0)) for kind in KINDS}


def counts_for(scope, *, today=None, now=None):
    return {kind: n for kind, (n, _persons) in summary(scope, today=today, now=now).items()}


def alert_counts(user, membership, *, today=None, now=None):
    """``{kind: number of alerts}`` of ``user``'s caseload in the active territory."""
    return counts_for(personal_scope(user, membership), today=today, now=now)


# --- The list -----------------------------------------------------------------------------


@dataclass
class Alert:
    person: Person
    kind: str
    since: datetime.date

    @property
    def label(self):
        return label(self.kind)

    @property
    def since_label(self):
        return KINDS[self.kind].since_label

    @property
    def url(self):
        return person_url(self.kind, self.person.pk)

    @property
    def days(self):
        return (timezone.localdate() - self.since).days if self.since else None


class AlertRows:
    """The alerts of a scope, oldest first, as a lazy sequence: ``count()`` and slices run in the
    database (a ``Paginator`` reads one page), and iterating streams every row in chunks."""

    chunk_size = 500

    def __init__(self, scope, kind=None, *, today=None, now=None):
        querysets = kind_querysets(scope, today=today, now=now)
        if kind in KINDS:
            parts = [querysets[kind]]
        else:
            parts = list(querysets.values())
        combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        self.queryset = combined.order_by("alert_since", "alert_person", "alert_kind")
        self.kind = kind if kind in KINDS else None

    def count(self):
        return self.queryset.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._wrap(list(self.queryset[index]))
        return self._wrap([self.queryset[index]])[0]

    def __iter__(self):
        chunk = []
        for row in self.queryset.iterator(chunk_size=self.chunk_size):
            chunk.append(row)
            if len(chunk) >= self.chunk_size:
                yield from self._wrap(chunk)
                chunk = []
        if chunk:
            yield from self._wrap(chunk)

    def person_ids(self):
        """Each person named by the alerts once, streamed (for the export's access log)."""
        seen = set()
        for person_id, _kind, _since in self.queryset.iterator(chunk_size=2000):
            if person_id not in seen:
                seen.add(person_id)
                yield person_id

    @staticmethod
    def _wrap(rows):
        ids = {row[0] for row in rows}
        persons = Person.objects.only(
            "pk", "first_name", "last_name", "status", "birth_date", "entered_on", "last_contact_on"
        ).in_bulk(ids)
        return [Alert(persons[pid], kind, since) for pid, kind, since in rows if pid in persons]


def alert_rows(user, membership, kind=None, *, today=None, now=None):
    """The alerts of ``user``'s caseload (of ``kind`` only if given), oldest first: a lazy,
    paginable sequence of :class:`Alert` (person, kind, since)."""
    return AlertRows(personal_scope(user, membership), kind, today=today, now=now)

