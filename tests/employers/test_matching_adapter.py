"""The matching adapter (DB → engine → stored proposals): every hard constraint through the
database, blocked near-matches with what lifts them, health never visible, reasons on every
row, dismissals and positionings excluded, refresh of one person, live candidates, immersion
offers, the catalogue actions that lift a blocker, the management command."""

import io
import json

import pytest
from django.core.management import call_command

from spie.employers import matching_adapter as ma
from spie.employers.models import Dismissal, MatchRun, Positioning, Proposal, ProposalKind
from spie.people.models import HealthInfo, Person
from spie.referentials.models import RomeMobility
from tests.catalogue.factories import ActionFactory
from tests.network.factories import CommuneFactory, TerritoryFactory
from tests.pathways import conftest as pathways_conftest
from tests.people.factories import PersonFactory

from .factories import ImmersionOfferFactory, JobOpeningFactory, profile_for, rome

_media_root = pathways_conftest._media_root
world = pathways_conftest.world

def muret():
    """17 km from Toulouse: too far by public transport in 45 min, close enough by car."""
    return CommuneFactory(code_insee="31395", name="Muret", postal_codes="31600", epci_siren="200068807",
                          epci_name="Le Muretain Agglo", lat=43.4616, lon=1.3269, search_key="muret")


def saint_gaudens():
    """85 km from Toulouse: out of reach in 45 min by any mode."""
    return CommuneFactory(code_insee="31483", name="Saint-Gaudens", postal_codes="31800", epci_siren="200072643",
                          epci_name="Cœur et Coteaux du Comminges", lat=43.1081, lon=0.7234,
                          search_key="saint-gaudens")


def toulouse():
    return CommuneFactory()


@pytest.fixture
def territory(db):
    return TerritoryFactory()


def make_person(territory, **kwargs):
    kwargs.setdefault("commune", toulouse())
    return PersonFactory(territory=territory, **kwargs)


def stored(person, kind=None):
    qs = Proposal.objects.filter(person=person)
    if kind:
        qs = qs.filter(kind=kind)
    return {(p.opening_id or p.immersion_offer_id): p for p in qs}


def test_eligible_pair_is_stored_with_reasons_and_run(territory):
    person = make_person(territory)
    profile_for(person, "G1602", commune=toulouse())
    opening = JobOpeningFactory(company__territory=territory, commune=toulouse(), title="Commis")
    run = ma.recompute_territory(territory)
    rows = stored(person, ProposalKind.ELIGIBLE)
    assert opening.pk in rows
    proposal = rows[opening.pk]
    assert proposal.reasons and {r["signal"] for r in proposal.reasons} >= {"rome", "travel", "experience"}
    travel = next(r for r in proposal.reasons if r["signal"] == "travel")
    assert travel["estimate"] is True and "estimation" in travel["text"]
    assert proposal.travel_minutes is not None and proposal.distance_km is not None
    assert proposal.run_id == run.pk and proposal.rank == 0
    run.refresh_from_db()
    assert run.scope == MatchRun.Scope.FULL and run.finished_at and run.persons == 1 and run.openings == 1
    assert run.proposals == 1
    assert set(run.fairness) == {"Genre", "Tranche d'âge", "RSA", "RQTH", "Lieu de résidence"}
    assert run.fairness["Lieu de résidence"][0]["label"] == "Toulouse Métropole"
    assert "exposure_gini" in run.congestion
    json.dumps(run.info)


def test_travel_constraint(territory):
    walker = make_person(territory)
    profile_for(walker, "G1602", commune=toulouse(), travel_mode="public", max_travel_minutes=45)
    driver = make_person(territory, driving_licence=Person.Licence.B, has_vehicle=True)
    profile_for(driver, "G1602", commune=toulouse(), travel_mode="car", max_travel_minutes=45)
    car_no_vehicle = make_person(territory, driving_licence=Person.Licence.B, has_vehicle=False)
    profile_for(car_no_vehicle, "G1602", commune=toulouse(), travel_mode="car", max_travel_minutes=45)
    near = JobOpeningFactory(company__territory=territory, commune=muret())
    far = JobOpeningFactory(company__territory=territory, commune=saint_gaudens())
    ma.recompute_territory(territory)
    # By public transport: Muret is blocked (lifted by a mobility help), Saint-Gaudens is out.
    assert near.pk not in stored(walker, ProposalKind.ELIGIBLE)
    blocked = stored(walker, ProposalKind.BLOCKED)[near.pk]
    assert blocked.blocked_by[0]["constraint"] == "travel" and blocked.blocked_by[0]["lifted_by"] == "mobility_help"
    assert blocked.reasons
    assert far.pk not in stored(walker)
    # A real car (licence and vehicle) makes Muret eligible; a declared car without vehicle does not.
    assert near.pk in stored(driver, ProposalKind.ELIGIBLE)
    assert far.pk not in stored(driver)
    assert near.pk not in stored(car_no_vehicle, ProposalKind.ELIGIBLE)


def test_schedule_and_childcare(territory):
    person = make_person(territory)
    profile_for(person, "G1602", commune=toulouse(), availability=["day"], childcare_conflicts=["early"])
    night = JobOpeningFactory(company__territory=territory, commune=toulouse(), schedule=["night"])
    early = JobOpeningFactory(company__territory=territory, commune=toulouse(), schedule=["day", "early"])
    day = JobOpeningFactory(company__territory=territory, commune=toulouse(), schedule=["day"])
    ma.recompute_territory(territory)
    rows = stored(person)
    assert night.pk not in rows  # declared availability: never, not even blocked
    assert rows[early.pk].kind == ProposalKind.BLOCKED
    assert rows[early.pk].blocked_by[0]["lifted_by"] == "childcare"
    assert rows[day.pk].kind == ProposalKind.ELIGIBLE


def test_required_licence_blocks(territory):
    person = make_person(territory, driving_licence=Person.Licence.NONE)
    profile_for(person, "G1602", commune=toulouse())
    holder = make_person(territory, driving_licence=Person.Licence.B)
    profile_for(holder, "G1602", commune=toulouse())
    opening = JobOpeningFactory(company__territory=territory, commune=toulouse(), requires_licence=True)
    ma.recompute_territory(territory)
    row = stored(person)[opening.pk]
    assert row.kind == ProposalKind.BLOCKED and row.blocked_by[0]["constraint"] == "licence"
    assert stored(holder)[opening.pk].kind == ProposalKind.ELIGIBLE


def test_health_flag_excludes_without_trace(territory):
    person = make_person(territory)
    HealthInfo.objects.create(person=person, rqth=True, work_restrictions="Hernie discale",
                              restriction_flags=["heavy_loads"], notes="Suivi rhumatologue")
    profile_for(person, "G1602", commune=toulouse())
    heavy = JobOpeningFactory(company__territory=territory, commune=toulouse(), health_demands=["heavy_loads"])
    light = JobOpeningFactory(company__territory=territory, commune=toulouse(), health_demands=["screen"])
    run = ma.recompute_territory(territory)
    rows = stored(person)
    assert heavy.pk not in rows
    assert rows[light.pk].kind == ProposalKind.ELIGIBLE
    dump = json.dumps([p.reasons + p.blocked_by for p in Proposal.objects.all()], ensure_ascii=False).lower()
    assert "hernie" not in dump and "rhumato" not in dump and "santé" not in dump and "charges" not in dump
    assert run.fairness["RQTH"][0]["label"] == "Oui"


def test_required_qualification_matches_skill_lines(territory):
    person = make_person(territory)
    profile_for(person, "G1602", commune=toulouse(), skills="Permis CACES R489\nHACCP")
    other = make_person(territory)
    profile_for(other, "G1602", commune=toulouse(), skills="")
    opening = JobOpeningFactory(company__territory=territory, commune=toulouse(), qualification="haccp")
    ma.recompute_territory(territory)
    assert stored(person)[opening.pk].kind == ProposalKind.ELIGIBLE
    row = stored(other)[opening.pk]
    assert row.kind == ProposalKind.BLOCKED and row.blocked_by[0]["lifted_by"] == "training"


def test_rome_mobility_and_inactive_or_exited(territory):
    source, target = rome("G1602"), rome("G1603", "Personnel polyvalent en restauration")
    RomeMobility.objects.create(source=source, target=target)
    person = make_person(territory)
    profile_for(person, source, commune=toulouse())
    exited = make_person(territory, status=Person.Status.EXITED)
    profile_for(exited, source, commune=toulouse())
    inactive = make_person(territory)
    profile_for(inactive, source, commune=toulouse(), is_active=False)
    opening = JobOpeningFactory(company__territory=territory, commune=toulouse(), rome=target)
    ma.recompute_territory(territory)
    row = stored(person)[opening.pk]
    assert row.kind == ProposalKind.ELIGIBLE
    assert "proche" in next(r for r in row.reasons if r["signal"] == "rome")["text"]
    assert not stored(exited) and not stored(inactive)


def test_dismissal_and_positioning_are_excluded_next_time(world):
    territory = world["territory"]
    person = world["person"]
    profile_for(person, "G1602", commune=toulouse())
    dismissed = JobOpeningFactory(company__territory=territory, commune=toulouse())
    positioned = JobOpeningFactory(company__territory=territory, commune=toulouse())
    kept = JobOpeningFactory(company__territory=territory, commune=toulouse())
    ma.recompute_territory(territory)
    assert set(stored(person)) == {dismissed.pk, positioned.pk, kept.pk}
    Dismissal.objects.create(person=person, opening=dismissed, reason="not_interested", by=world["referent"],
                             structure=world["ref_structure"])
    Positioning.objects.create(person=person, opening=positioned, status="proposed")
    ma.recompute_territory(territory)
    assert set(stored(person)) == {kept.pk}
    ma.refresh_person(person)
    assert set(stored(person)) == {kept.pk}
    # A declined or refused pair is never proposed again; a withdrawn one may be.
    for status, expected in (("declined", set()), ("refused", set()), ("withdrawn", {positioned.pk})):
        Positioning.objects.filter(person=person, opening=positioned).update(status=status)
        ma.refresh_person(person)
        assert set(stored(person)) - {kept.pk} == expected, status
        assert {r["person_id"] for r in ma.candidates_for_opening(positioned)} == ({person.pk} if expected else set())


def test_refresh_person_replaces_only_that_person(territory):
    a = make_person(territory)
    profile_for(a, "G1602", commune=toulouse())
    b = make_person(territory)
    profile_for(b, "G1602", commune=toulouse())
    opening = JobOpeningFactory(company__territory=territory, commune=toulouse())
    full = ma.recompute_territory(territory)
    b_rows = {p.pk for p in Proposal.objects.filter(person=b)}
    new = JobOpeningFactory(company__territory=territory, commune=toulouse())
    run = ma.refresh_person(a)
    assert run.scope == MatchRun.Scope.PERSON and run.persons == 1
    assert set(stored(a)) == {opening.pk, new.pk}
    assert {p.pk for p in Proposal.objects.filter(person=b)} == b_rows
    assert set(stored(b)) == {opening.pk}
    assert all(p.run_id == run.pk for p in Proposal.objects.filter(person=a))
    assert all(p.run_id == full.pk for p in Proposal.objects.filter(person=b))


def test_recompute_replaces_only_the_territory(territory):
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    here = make_person(territory)
    profile_for(here, "G1602", commune=toulouse())
    there = make_person(gers)
    profile_for(there, "G1602", commune=toulouse())
    JobOpeningFactory(company__territory=territory, commune=toulouse())
    JobOpeningFactory(company__territory=gers, commune=toulouse())
    ma.recompute_territory(gers)
    before = set(Proposal.objects.filter(person=there).values_list("pk", flat=True))
    ma.recompute_territory(territory)
    assert set(Proposal.objects.filter(person=there).values_list("pk", flat=True)) == before
    assert stored(here)


def test_candidates_for_opening(territory):
    a = make_person(territory)
    profile_for(a, "G1602", commune=toulouse())
    b = make_person(territory)
    profile_for(b, "G1602", commune=toulouse())
    opening = JobOpeningFactory(company__territory=territory, commune=toulouse())
    rows = ma.candidates_for_opening(opening)
    assert {r["person_id"] for r in rows} == {a.pk, b.pk}
    assert all(r["reasons"] and r["kind"] == "eligible" for r in rows)
    only = ma.candidates_for_opening(opening, allowed_person_ids=[b.pk])
    assert [r["person_id"] for r in only] == [b.pk]
    assert ma.candidates_for_opening(opening, allowed_person_ids=[]) == []


def test_immersion_offers_are_proposed_apart(territory):
    person = make_person(territory)
    profile_for(person, "G1602", commune=toulouse(), contracts=["cdi"], hours_min=35, hours_max=35)
    offer = ImmersionOfferFactory(company__territory=territory, commune=toulouse(), weekly_hours=20)
    ma.recompute_territory(territory)
    row = Proposal.objects.get(person=person, immersion_offer=offer)
    assert row.kind == ProposalKind.ELIGIBLE and row.opening_id is None and row.reasons
    contract = next(r for r in row.reasons if r["signal"] == "contract")
    hours = next(r for r in row.reasons if r["signal"] == "hours")
    assert "sans préférence" in contract["text"] and hours["value"] == 1.0
    ma.refresh_person(person)
    assert Proposal.objects.filter(person=person, immersion_offer=offer).exists()


def test_lifting_actions_one_search_per_blocker(territory, django_assert_max_num_queries):
    person = make_person(territory)
    profile_for(person, "G1602", commune=toulouse())
    garage = ActionFactory(territory=territory, name="Garage solidaire",
                           thematiques=["mobilite--acceder-a-un-vehicule"], commune=toulouse())
    ActionFactory(territory=territory, name="Atelier CV", commune=toulouse())
    creche = ActionFactory(territory=territory, name="Crèche à vocation d'insertion",
                           thematiques=["famille--garde-denfants"], commune=toulouse())
    items = [{"constraint": "travel", "lifted_by": "mobility_help"}] * 5 + [
        {"constraint": "childcare", "lifted_by": "childcare"}
    ]
    with django_assert_max_num_queries(5):
        found = ma.lifting_actions(person, items)
    assert [a.pk for a in found["travel"]] == [garage.pk]
    assert [a.pk for a in found["childcare"]] == [creche.pk]
    assert ma.lifting_actions(person, []) == {}


def test_management_command(territory):
    person = make_person(territory)
    profile_for(person, "G1602", commune=toulouse())
    JobOpeningFactory(company__territory=territory, commune=toulouse())
    out = io.StringIO()
    call_command("recompute_matches", "--territory", "31", stdout=out)
    assert "Haute-Garonne" in out.getvalue() and "lignes enregistrées" in out.getvalue()
    assert Proposal.objects.filter(person=person).count() == 1


def test_empty_territory_and_person_without_place(territory):
    run = ma.recompute_territory(territory)
    assert run.persons == 0 and run.proposals == 0 and run.finished_at
    person = make_person(territory, commune=None)
    profile_for(person, "G1602", commune=None)
    run = ma.recompute_territory(territory)
    assert run.persons == 0 and run.info["persons_without_place"] == 1
    JobOpeningFactory(company__territory=territory, commune=toulouse())
    run = ma.refresh_person(person)
    assert run.persons == 0 and not Proposal.objects.filter(person=person).exists()
