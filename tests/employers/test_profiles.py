"""Job-search profiles: saving with targets, and the prefill from the last completed diagnostic."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from spie.diagnostics.models import Diagnostic, Framework
from spie.employers.models import JobSearchProfile
from spie.employers.services import profiles
from tests.network.factories import CommuneFactory, StructureFactory, make_professional
from tests.people.factories import PersonFactory

from .factories import appellation, rome


@pytest.fixture
def person(db):
    return PersonFactory()


def framework():
    return Framework.objects.create(code="spie-test", version=1, kind="diagnostic", title="Trame", definition={},
                                    checksum="x", source_file="x.yaml")


def diagnostic(person, answers, *, completed=True, days=0):
    user = make_professional()
    return Diagnostic.objects.create(
        person=person, framework=framework() if not Framework.objects.exists() else Framework.objects.first(),
        status="completed" if completed else "draft", answers=answers, started_by=user,
        structure=StructureFactory(),
        completed_at=timezone.now() - datetime.timedelta(days=days) if completed else None,
    )


def test_save_profile_creates_and_replaces_targets(person):
    cook, waiter = rome("G1602"), rome("G1803", "Service en restauration")
    user = make_professional()
    profile = profiles.save_profile(person, {"travel_mode": "car", "max_travel_minutes": 30, "contracts": ["cdi", "x"],
                                             "availability": ["day", "bogus"]},
                                    [{"rome": cook, "experience_months": 24}, ("G1803", None, 0)], user=user)
    assert [(t.rome_id, t.rank, t.experience_months) for t in profile.targets.all()] == [
        ("G1602", 0, 24), ("G1803", 1, 0)]
    assert profile.contracts == ["cdi"] and profile.availability == ["day"] and profile.updated_by == user
    profiles.save_profile(person, {"hours_min": 10, "hours_max": 20}, [waiter])
    profile = JobSearchProfile.objects.get(person=person)
    assert [t.rome_id for t in profile.targets.all()] == ["G1803"]
    assert profile.travel_mode == "car" and profile.hours_max == 20


def test_save_profile_validation(person):
    with pytest.raises(ValidationError):
        profiles.save_profile(person, {"hours_min": 30, "hours_max": 20}, ["G1602"])
    rome("G1602")
    with pytest.raises(ValidationError):
        profiles.save_profile(person, {"hours_min": 30, "hours_max": 20}, ["G1602"])
    with pytest.raises(ValidationError):
        profiles.save_profile(person, {"visible_to_employers": True}, [])
    with pytest.raises(ValidationError):
        profiles.save_profile(person, {}, ["Z9999"])
    assert not JobSearchProfile.objects.filter(person=person).exists()


def test_prefill_none_without_completed_diagnostic(person):
    assert profiles.prefill_from_diagnostic(person) is None
    diagnostic(person, {"metiers_cibles": ["G1602"]}, completed=False)
    assert profiles.prefill_from_diagnostic(person) is None


def test_prefill_from_last_completed_diagnostic(person):
    cook = rome("G1602")
    waiter = rome("G1803", "Service en restauration")
    app = appellation(waiter, code="38300", label="Serveur / Serveuse en restauration")
    driver = rome("N4105", "Conduite et livraison", domain="N41")
    blagnac = CommuneFactory(code_insee="31069", name="Blagnac", lat=43.63, lon=1.39, search_key="blagnac")
    diagnostic(person, {"metiers_cibles": ["G1602"], "permis": "aucun"}, days=30)
    diagnostic(person, {
        "metiers_cibles": ["G1602", "38300"], "dernier_emploi": ["N4105"], "temps_trajet_max": 50,
        "recherche_commune": "31069", "permis": "b", "vehicule": "voiture_moto", "garde_enfants": "aucune_solution",
        "disponibilite": "immediate", "date_disponibilite": "2030-02-01",
        "contrats_souhaites": ["cdi", "iae", "contrat_aide", "independant"], "temps_travail": "temps_partiel",
        "horaires_impossibles": ["nuit"],
    }, days=1)
    prefill = profiles.prefill_from_diagnostic(person)
    fields = prefill["fields"]
    assert [(t["rome"], t["appellation"], t["experience_months"]) for t in prefill["targets"]] == [
        (cook, None, 0), (waiter, app, 0), (driver, None, profiles.DEFAULT_EXPERIENCE_MONTHS)]
    assert fields["max_travel_minutes"] == 50 and fields["commune"] == blagnac and fields["travel_mode"] == "car"
    assert fields["childcare_conflicts"] == ["early", "late", "night", "weekend"]
    assert fields["contracts"] == ["cdi", "insertion"]
    assert fields["available_from"] == datetime.date(2030, 2, 1)
    assert (fields["hours_min"], fields["hours_max"]) == profiles.HOURS_FROM_DIAGNOSTIC["temps_partiel"]
    assert "night" not in fields["availability"] and "day" in fields["availability"]


def test_prefill_partial_childcare_and_public_transport(person):
    rome("G1602")
    diagnostic(person, {"metiers_cibles": ["G1602"], "dernier_emploi": ["G1602"], "permis": "b",
                        "vehicule": "aucun", "garde_enfants": "solution_partielle"})
    prefill = profiles.prefill_from_diagnostic(person)
    assert prefill["fields"]["travel_mode"] == "public"
    assert prefill["fields"]["childcare_conflicts"] == ["early", "late"]
    assert prefill["targets"][0]["experience_months"] == profiles.DEFAULT_EXPERIENCE_MONTHS
    assert len(prefill["targets"]) == 1
