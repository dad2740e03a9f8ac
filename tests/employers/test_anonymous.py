"""Anonymous profiles and their signed tokens: only what a company may see, never identity."""

import datetime
import json

import pytest
from django.core import signing

from spie.employers import anonymous
from spie.employers.models import JobSearchProfile
from spie.people.models import HealthInfo
from tests.network.factories import CommuneFactory
from tests.people.factories import PersonFactory

from .factories import JobOpeningFactory, profile_for


@pytest.fixture
def person(db):
    p = PersonFactory(first_name="Yasmine", last_name="Secret", email="yasmine@example.org", phone="0611223344",
                      address="3 impasse des Roses", rsa=True, birth_date=datetime.date(1990, 5, 17))
    HealthInfo.objects.create(person=p, rqth=True, work_restrictions="Lombalgie", restriction_flags=["heavy_loads"])
    return p


def test_token_round_trip_and_errors(person):
    opening = JobOpeningFactory()
    other = JobOpeningFactory()
    token = anonymous.profile_token(person.pk, opening.pk)
    assert anonymous.read_profile_token(token, opening) == person.pk
    with pytest.raises(ValueError):
        anonymous.read_profile_token(token, other)
    with pytest.raises(ValueError):
        anonymous.read_profile_token(token + "x", opening)
    with pytest.raises(ValueError):
        anonymous.read_profile_token(signing.dumps({"p": person.pk, "o": opening.pk}, salt="autre"), opening)
    with pytest.raises(ValueError):
        anonymous.read_profile_token("", opening)


def test_profile_contains_only_what_is_allowed(person):
    commune = CommuneFactory()
    profile_for(person, "G1602", commune=commune, skills="HACCP\nCACES 1", availability=["day", "weekend"],
                available_from=datetime.date(2030, 1, 6), travel_mode="active")
    profile = JobSearchProfile.objects.get(person=person)
    proposal = {"score": 0.71, "reasons": [
        {"signal": "travel", "label": "Trajet", "text": "Trajet estimé : 12 min", "value": 0.8, "estimate": True,
         "weight": 0.18, "contribution": 0.1},
    ]}
    card = anonymous.anonymous_profile(person, profile, proposal)
    assert set(card) == {"reference", "targets", "skills", "area", "availability", "available_from", "travel_mode",
                         "max_travel_minutes", "score", "reasons"}
    assert card["reference"].startswith("Profil n° ") and card["reference"] == anonymous.reference_label(person.pk)
    assert card["targets"] == [{"label": "Personnel de cuisine", "code": "G1602", "experience_months": 12}]
    assert card["skills"] == ["HACCP", "CACES 1"] and card["area"] == "Toulouse Métropole"
    assert card["availability"] == ["Journée", "Week-end"] and card["score"] == 0.71
    assert card["reasons"][0] == {"signal": "travel", "label": "Trajet", "text": "Trajet estimé : 12 min",
                                  "value": 0.8, "estimate": True}
    dump = json.dumps(card, default=str, ensure_ascii=False)
    for secret in ("Yasmine", "Secret", "yasmine@", "0611223344", "impasse", "1990", "RSA", "RQTH", "Lombalgie",
                   "heavy"):
        assert secret not in dump, secret


def test_reference_differs_between_persons(db):
    assert anonymous.reference_label(1) != anonymous.reference_label(2)
