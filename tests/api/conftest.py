"""A small network for the API tests: three structures in Haute-Garonne, one in the Gers."""

from types import SimpleNamespace

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from spie.network.models import Membership
from spie.people.models import FollowUpMembership
from tests.network.factories import MembershipFactory, StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import HealthInfoFactory, PersonFactory, add_to_group


def token_client(user, **headers):
    """An APIClient authenticated with a DRF token (no session, no middleware membership)."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", **headers)
    return client


@pytest.fixture
def api_for(db):
    return token_client


@pytest.fixture
def net(territory):
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    ns = SimpleNamespace(territory=territory, gers=gers)
    ns.struct_a = StructureFactory(territory=territory, name="Association Alpha")
    ns.struct_b = StructureFactory(territory=territory, name="Mission locale Bravo", kind="mission_locale")
    ns.struct_c = StructureFactory(territory=territory, name="CCAS Charlie", kind="ccas")
    ns.struct_d = StructureFactory(territory=gers, name="Association Delta")
    ns.referent = make_professional(structure=ns.struct_a, last_name="Referent")
    ns.colleague = make_professional(structure=ns.struct_a, last_name="Collegue")
    ns.member = make_professional(structure=ns.struct_b, last_name="Membre")
    ns.outsider = make_professional(structure=ns.struct_c, last_name="Exterieur")
    ns.admin_a = make_professional(role=Membership.Role.ADMIN, structure=ns.struct_a, last_name="Admin")
    ns.foreigner = make_professional(structure=ns.struct_d, last_name="Gersois")
    ns.person = PersonFactory(territory=territory, first_name="Camille", last_name="Dupont", nir="")
    add_to_group(ns.person, ns.referent, FollowUpMembership.Kind.REFERENT)
    add_to_group(ns.person, ns.member)
    add_to_group(ns.person, ns.colleague)
    HealthInfoFactory(person=ns.person, notes="Suivi médical confidentiel")
    ns.gers_person = PersonFactory(territory=gers, first_name="Camille", last_name="Dupontel")
    add_to_group(ns.gers_person, ns.foreigner, FollowUpMembership.Kind.REFERENT)
    return ns


def second_membership(user, structure, role=Membership.Role.REFERENT):
    return MembershipFactory(user=user, structure=structure, role=role)
