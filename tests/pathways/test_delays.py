"""Delays of the décret 2024-1244: rights opened → orientation decision (45 days), decision →
signed contract (30 days). Dates are relative to today (no frozen clock)."""

import datetime

import pytest

from spie.pathways import selectors
from spie.pathways.models import EngagementContract, Orientation
from tests.people.factories import PersonFactory

from .factories import days_ago, make_contract, make_orientation

S = Orientation.Status


@pytest.fixture
def person(world):
    return world["person"]


def decided(world, person, days, *, proposed_days_ago=None):
    return make_orientation(
        person, world["referent"], status=S.DECIDED, decided_days_ago=days,
        proposed_days_ago=proposed_days_ago or days + 1, structure=world["ref_structure"],
        referent=world["referent"],
    )


@pytest.mark.parametrize(
    ("opened_days_ago", "days", "over"),
    [(10, 10, False), (44, 44, False), (45, 45, False), (46, 46, True), (120, 120, True)],
)
def test_orientation_delay_while_waiting(world, person, opened_days_ago, days, over):
    person.rsa_rights_opened_on = days_ago(opened_days_ago)
    delay = selectors.orientation_delay(person, [])
    assert (delay.days, delay.over, delay.done, delay.target) == (days, over, False, 45)
    assert delay.since == days_ago(opened_days_ago)


@pytest.mark.parametrize(
    ("opened_days_ago", "decided_days_ago", "days", "over"),
    [(60, 30, 30, False), (60, 15, 45, False), (60, 14, 46, True)],
)
def test_orientation_delay_stops_at_the_first_decision(world, person, opened_days_ago, decided_days_ago, days, over):
    person.rsa_rights_opened_on = days_ago(opened_days_ago)
    first = decided(world, person, decided_days_ago)
    later = decided(world, person, 1)  # a réorientation decided later does not move the indicator
    delay = selectors.orientation_delay(person, [later, first])
    assert (delay.days, delay.over, delay.done) == (days, over, True)
    assert delay.until == days_ago(decided_days_ago)


def test_orientation_delay_starts_at_entry_without_rsa_rights(world):
    person = PersonFactory(territory=world["territory"], rsa=False, rsa_rights_opened_on=None,
                           entered_on=days_ago(50))
    delay = selectors.orientation_delay(person, [])
    assert delay.since == days_ago(50)
    assert delay.over


def test_territory_settings_change_the_targets(world, person):
    world["territory"].settings = {"orientation_delay_days": 60, "contract_delay_days": 15}
    world["territory"].save()
    person.territory = world["territory"]
    person.rsa_rights_opened_on = days_ago(50)
    assert not selectors.orientation_delay(person, []).over
    orientation = decided(world, person, 20)
    delay = selectors.contract_delay(person, [orientation], [])
    assert (delay.target, delay.over) == (15, True)


def test_no_contract_delay_before_a_decision(world, person):
    assert selectors.contract_delay(person, [make_orientation(person, world["referent"])], []) is None


@pytest.mark.parametrize(("decided_days_ago", "over"), [(10, False), (30, False), (31, True)])
def test_contract_delay_while_waiting(world, person, decided_days_ago, over):
    orientation = decided(world, person, decided_days_ago)
    delay = selectors.contract_delay(person, [orientation], [])
    assert (delay.days, delay.over, delay.done, delay.target) == (decided_days_ago, over, False, 30)


@pytest.mark.parametrize(("decided_days_ago", "signed_days_ago", "days", "over"),
                         [(40, 20, 20, False), (40, 10, 30, False), (40, 5, 35, True)])
def test_contract_delay_stops_at_signature(world, person, decided_days_ago, signed_days_ago, days, over):
    orientation = decided(world, person, decided_days_ago)
    contract = make_contract(person, world["referent"], world["ref_structure"],
                             status=EngagementContract.Status.SIGNED, signed_days_ago=signed_days_ago)
    delay = selectors.contract_delay(person, [orientation], [contract])
    assert (delay.days, delay.over, delay.done) == (days, over, True)


def test_a_contract_signed_before_the_latest_decision_does_not_count(world, person):
    old = make_contract(person, world["referent"], world["ref_structure"],
                        status=EngagementContract.Status.SIGNED, signed_days_ago=100)
    orientation = decided(world, person, 35)
    delay = selectors.contract_delay(person, [orientation], [old])
    assert (delay.done, delay.days, delay.over) == (False, 35, True)


def test_signature_day_is_the_later_of_the_two_signatures(world, person):
    contract = make_contract(person, world["referent"], world["ref_structure"],
                             status=EngagementContract.Status.SIGNED, signed_days_ago=3)
    contract.signed_by_person_on = days_ago(5)
    assert selectors.signature_day(contract) == days_ago(3)
    contract.signed_by_person_on = contract.signed_by_referent_on = None
    assert selectors.signature_day(contract) == days_ago(3)


def test_summary_reads_two_queries(world, person, django_assert_num_queries):
    decided(world, person, 10)
    for version in range(1, 4):
        make_contract(person, world["referent"], world["ref_structure"], version=version,
                      status=EngagementContract.Status.SUPERSEDED, signed_days_ago=5)
    with django_assert_num_queries(2):
        summary = selectors.pathway_summary(person)
    assert summary.decided is not None and summary.pending is None
    assert summary.contract is None and len(summary.contracts) == 3
    assert summary.contract_delay.done
    assert isinstance(summary.orientation_delay.since, datetime.date)
