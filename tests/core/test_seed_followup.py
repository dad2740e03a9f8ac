"""Demo data of the follow-up (``spie.core.demo_followup``), seeded by ``manage.py seed_demo``."""

import hashlib
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Max
from django.utils import timezone

from spie.followup.models import (
    Appointment,
    Checkpoint,
    Employment,
    ExitReason,
    Note,
    PathwayExit,
    PlanAction,
    PlanObjective,
    PlanTransition,
)
from spie.followup.services.status import compute_status
from spie.network.models import Membership, User
from spie.pathways.models import EngagementContract
from spie.people.models import HealthInfo, Person, TimelineEvent
from tests.core.test_seed import COMMUNES
from tests.network.factories import CommuneFactory

PERSONS = "300"


@pytest.fixture
def communes(db):
    return [
        CommuneFactory(code_insee=code, name=name, population=population, lat=lat, lon=lon)
        for code, name, population, lat, lon in COMMUNES
    ]


def seed_demo(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def local_day(moment):
    return timezone.localtime(moment).date()


def test_seed_creates_every_kind_of_followup_row(communes):
    output = seed_demo("--persons", PERSONS, "--seed", "31")
    assert "Suivi :" in output
    today = timezone.localdate()
    now = timezone.now()

    # The plan: objectives from the signed contracts' objectives, actions with varied statuses.
    signed = EngagementContract.objects.filter(status=EngagementContract.Status.SIGNED)
    with_objectives = signed.exclude(objectives=[])
    assert with_objectives.exists()
    for contract in with_objectives[:20]:
        rows = PlanObjective.objects.filter(person=contract.person_id, source=PlanObjective.Source.CONTRACT)
        assert [(o.label, o.contract_id, o.contract_position) for o in rows.order_by("contract_position")] == [
            (o["label"], contract.pk, i) for i, o in enumerate(contract.objectives)
        ]
    # Only persons with a signed contract have a plan, every objective has 1 to 3 actions.
    assert not PlanObjective.objects.exclude(person__in=signed.values("person")).exists()
    per_objective = Counter(PlanAction.objects.values_list("objective_id", flat=True))
    assert set(per_objective.values()) <= {1, 2, 3}
    assert set(PlanObjective.objects.values_list("pk", flat=True)) == set(per_objective)
    assert {"planned", "in_progress", "done"} <= set(PlanAction.objects.values_list("status", flat=True))
    assert not PlanAction.objects.filter(status="done", ended_on__isnull=True).exists()
    assert not PlanAction.objects.filter(ended_on__gt=today).exists()
    transitions = PlanTransition.objects.all()
    assert transitions.exists()
    assert all(t.to_status != t.from_status for t in transitions)

    # Appointments over the last six months and the next three weeks.
    appointments = Appointment.objects.all()
    days = [local_day(a.starts_at) for a in appointments]
    assert min(days) >= today - timedelta(days=183) and max(days) <= today + timedelta(days=21)
    past = appointments.filter(starts_at__lt=now, status=Appointment.Status.SCHEDULED)
    attendance = Counter(past.values_list("attendance", flat=True))
    assert set(attendance) == {"present", "absent", "excused", "pending"}
    assert 0.05 <= attendance["absent"] / sum(attendance.values()) <= 0.2
    assert appointments.filter(starts_at__gt=now, attendance="pending").exists()
    assert appointments.filter(status=Appointment.Status.CANCELLED).exists()
    assert not appointments.filter(starts_at__gt=now, attendance__in=["present", "absent", "excused"]).exists()

    # Notes: mostly for the group, some for the structure, health ones only for persons with a
    # health section, written by their référent.
    classes = Counter(Note.objects.values_list("confidentiality", flat=True))
    assert classes["group"] > classes["structure"] > 0 and classes["health"] > 0
    health = Note.objects.filter(confidentiality="health")
    with_health = set(HealthInfo.objects.values_list("person_id", flat=True))
    assert set(health.values_list("person_id", flat=True)) <= with_health
    assert Note.objects.filter(is_contact=True, kind="interview").exists()
    assert not Note.objects.filter(is_contact=True, kind__in=["message", "observation"]).exists()

    # Exits: every reason, about 8 % of persons, with a report.
    exits = PathwayExit.objects.all()
    assert set(exits.values_list("reason", flat=True)) == set(ExitReason.values)
    assert 0.04 <= exits.count() / Person.objects.count() <= 0.14
    assert not exits.filter(achievements="").exists()
    assert not exits.filter(exit_date__gt=today).exists()

    # Jobs with their three checkpoints at 1, 3 and 6 months: some done, some due or overdue.
    assert Employment.objects.exists()
    for employment in Employment.objects.prefetch_related("checkpoints"):
        assert sorted(c.month for c in employment.checkpoints.all()) == [1, 3, 6]
    assert Checkpoint.objects.filter(done_on__isnull=False).exclude(outcome="").exists()
    assert Checkpoint.objects.filter(done_on__isnull=True, due_on__lte=today).exists()
    assert Checkpoint.objects.filter(done_on__isnull=True, due_on__gt=today).exists()

    # Timeline events for them, never with a note's text.
    kinds = set(TimelineEvent.objects.values_list("kind", flat=True))
    assert {"plan_created", "appointment_absent", "exit", "employment_started", "checkpoint_done"} <= kinds
    bodies = set(Note.objects.values_list("body", flat=True))
    assert not TimelineEvent.objects.filter(title__in=bodies).exists()
    assert not TimelineEvent.objects.filter(detail__in=bodies).exists()


def test_statuses_and_last_contact_are_consistent(communes):
    seed_demo("--persons", PERSONS, "--seed", "31")
    today = timezone.localdate()
    persons = list(Person.objects.all())
    # Status and exit date: the same as the service computes, for every person.
    for person in persons:
        assert (person.status, person.exited_on) == compute_status(person), person.pk
    statuses = Counter(p.status for p in persons)
    assert set(statuses) == set(Person.Status.values)

    # The last contact is never before an attended appointment or a contact note.
    attended = dict(
        Appointment.objects.filter(attendance="present").values("person_id").annotate(last=Max("starts_at"))
        .values_list("person_id", "last")
    )
    noted = dict(
        Note.objects.filter(is_contact=True).values("person_id").annotate(last=Max("created_at"))
        .values_list("person_id", "last")
    )
    by_pk = {p.pk: p for p in persons}
    for source in (attended, noted):
        for person_id, last in source.items():
            assert by_pk[person_id].last_contact_on >= local_day(last), person_id
    # Some persons in the pathway without contact for more than 90 days (the alert shows).
    cutoff = today - timedelta(days=90)
    dormant = [
        p for p in persons
        if p.status in ("in_pathway", "in_job") and (p.last_contact_on or p.entered_on) < cutoff
    ]
    assert dormant
    assert not Person.objects.filter(last_contact_on__gt=today).exists()


def test_demo_referente_has_every_alert_kind(communes):
    alerts = pytest.importorskip("spie.followup.alerts")
    seed_demo("--persons", PERSONS, "--seed", "31")
    referente = User.objects.get(email="referente.demo@spie31.example")
    membership = Membership.objects.filter(user=referente, is_active=True).select_related("structure").get()
    counts = alerts.alert_counts(referente, membership)
    assert set(counts) == set(alerts.KINDS)
    assert all(counts[kind] >= 1 for kind in alerts.KINDS), counts



def test_demo_referente_alerts_with_a_tiny_seed(communes):
    """Even with few persons, the référente's home is not empty of alerts: what can be forced is."""
    alerts = pytest.importorskip("spie.followup.alerts")
    seed_demo("--persons", "120", "--seed", "5")
    referente = User.objects.get(email="referente.demo@spie31.example")
    membership = Membership.objects.filter(user=referente, is_active=True).select_related("structure").get()
    if not referente.followups.exists():
        pytest.skip("aucune personne pour la référente de démonstration avec cette graine")
    counts = alerts.alert_counts(referente, membership)
    assert counts["attendance_missing"] >= 1


def followup_digest():
    rows = Appointment.objects.order_by("person__internal_id", "starts_at", "purpose").values_list(
        "person__internal_id", "starts_at", "attendance", "with_user__email"
    )
    notes = Note.objects.order_by("person__internal_id", "created_at").values_list(
        "person__internal_id", "created_at", "confidentiality", "body"
    )
    text = "\n".join(map(str, [*rows, *notes]))
    return hashlib.sha256(text.encode()).hexdigest()


def row_counts():
    models = (PlanObjective, PlanAction, PlanTransition, Appointment, Note, PathwayExit, Employment, Checkpoint,
              TimelineEvent)
    return {model.__name__: model.objects.count() for model in models} | {
        "statuses": tuple(Person.objects.values_list("status").annotate(n=Count("id")).order_by("status")),
    }


def test_followup_seed_is_deterministic(communes):
    seed_demo("--persons", "150", "--seed", "7")
    counts, digest = row_counts(), followup_digest()
    assert counts["Appointment"] > 0

    Person.objects.all().delete()
    seed_demo("--persons", "150", "--seed", "7")
    assert row_counts() == counts
    assert followup_digest() == digest

    Person.objects.all().delete()
    seed_demo("--persons", "150", "--seed", "8")
    assert followup_digest() != digest
