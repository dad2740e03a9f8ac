"""The orientation workflow table: every allowed transition and a set of refused ones."""

import pytest
from django.core.exceptions import ValidationError

from spie.pathways import workflows
from spie.pathways.models import Orientation, OrientationTransition

from .factories import make_orientation

S, K = Orientation.Status, Orientation.Kind

# (kind, from, to, reason, allowed)
CASES = [
    (K.ORIENTATION, "", S.PROPOSED, "", True),
    (K.REORIENTATION, "", S.PROPOSED, "", True),
    (K.ORIENTATION, S.PROPOSED, S.DECIDED, "", True),
    (K.REORIENTATION, S.PROPOSED, S.DECIDED, "", True),
    (K.REORIENTATION, S.PROPOSED, S.REFUSED, "Projet non abouti", True),
    (K.REORIENTATION, S.PROPOSED, S.REFUSED, "", False),  # reason required
    (K.REORIENTATION, S.PROPOSED, S.REFUSED, "   ", False),
    (K.ORIENTATION, S.PROPOSED, S.REFUSED, "Motif", False),  # a first orientation is decided, never refused
    (K.ORIENTATION, S.PROPOSED, S.CANCELLED, "Doublon", True),
    (K.REORIENTATION, S.PROPOSED, S.CANCELLED, "Doublon", True),
    (K.ORIENTATION, S.PROPOSED, S.CANCELLED, "", False),
    (K.ORIENTATION, "", S.DECIDED, "", False),
    (K.ORIENTATION, S.PROPOSED, S.PROPOSED, "", False),
    (K.ORIENTATION, S.DECIDED, S.CANCELLED, "Motif", False),
    (K.ORIENTATION, S.DECIDED, S.PROPOSED, "", False),
    (K.ORIENTATION, S.DECIDED, S.DECIDED, "", False),
    (K.REORIENTATION, S.REFUSED, S.DECIDED, "", False),
    (K.REORIENTATION, S.REFUSED, S.PROPOSED, "", False),
    (K.ORIENTATION, S.CANCELLED, S.PROPOSED, "", False),
    (K.ORIENTATION, S.CANCELLED, S.DECIDED, "", False),
]


@pytest.mark.parametrize(("kind", "frm", "to", "reason", "allowed"), CASES)
def test_transition_table(kind, frm, to, reason, allowed):
    if allowed:
        assert workflows.check(kind, frm, to, reason) is not None
    else:
        with pytest.raises(ValidationError) as exc:
            workflows.check(kind, frm, to, reason)
        message = " ".join(exc.value.messages)
        assert message.startswith(("Transition impossible", "Indiquez le motif"))


def test_final_states_have_no_way_out():
    assert {frm for frm, _to in workflows.TRANSITIONS} == {"", S.PROPOSED}
    assert workflows.FINAL_STATES == {S.DECIDED, S.REFUSED, S.CANCELLED}


@pytest.mark.parametrize(
    ("kind", "to", "reason", "allowed"),
    [
        (K.ORIENTATION, S.DECIDED, "", True),
        (K.ORIENTATION, S.CANCELLED, "Erreur de saisie", True),
        (K.ORIENTATION, S.REFUSED, "Non", False),
        (K.REORIENTATION, S.REFUSED, "Pas de place", True),
        (K.REORIENTATION, S.REFUSED, "", False),
    ],
)
def test_transition_writes_the_log_or_changes_nothing(world, kind, to, reason, allowed):
    orientation = make_orientation(world["person"], world["referent"], kind=kind)
    before = OrientationTransition.objects.count()
    if allowed:
        log = workflows.transition(orientation, to, world["officer"], reason)
        orientation.refresh_from_db()
        assert orientation.status == to
        assert (log.from_status, log.to_status, log.by, log.reason) == (S.PROPOSED, to, world["officer"], reason)
        assert OrientationTransition.objects.count() == before + 1
    else:
        with pytest.raises(ValidationError):
            workflows.transition(orientation, to, world["officer"], reason)
        orientation.refresh_from_db()
        assert orientation.status == S.PROPOSED
        assert OrientationTransition.objects.count() == before


def test_a_decided_orientation_cannot_be_decided_twice(world):
    """The status is re-read from the database: a stale object cannot decide again."""
    orientation = make_orientation(world["person"], world["referent"])
    stale = Orientation.objects.get(pk=orientation.pk)
    workflows.transition(orientation, S.DECIDED, world["officer"])
    with pytest.raises(ValidationError, match="Décidée"):
        workflows.transition(stale, S.DECIDED, world["officer2"])
    assert list(orientation.transitions.values_list("from_status", "to_status")) == [
        ("", S.PROPOSED), (S.PROPOSED, S.DECIDED)
    ]


def test_allowed_targets(world):
    orientation = make_orientation(world["person"], world["referent"])
    assert set(workflows.allowed_targets(orientation)) == {S.DECIDED, S.CANCELLED}
    orientation.kind = K.REORIENTATION
    assert set(workflows.allowed_targets(orientation)) == {S.DECIDED, S.REFUSED, S.CANCELLED}
    orientation.status = S.DECIDED
    assert workflows.allowed_targets(orientation) == []
