"""Fixtures of the catalogue tests: the pathways world (territory 31, référent, member of
another structure, outsider, admin, coordinator, a neighbour territory) plus a provider
structure with an admin and a référent, and private media under a temporary directory."""

import pytest

from spie.network.models import Membership, Structure
from tests.network.factories import CommuneFactory, StructureFactory, make_professional
from tests.pathways.conftest import _media_root, membership_of, world  # noqa: F401

from .factories import ActionFactory


@pytest.fixture
def provider(world):  # noqa: F811
    """A provider structure (a training body in Muret) with an admin and a référent, and one
    published in-person action of it in Toulouse (the person's commune)."""
    muret = CommuneFactory(code_insee="31395", name="Muret", postal_codes="31600", population=25000,
                           epci_siren="200068807", epci_name="Le Muretain Agglo", lat=43.4616, lon=1.3269)
    structure = StructureFactory(territory=world["territory"], name="Organisme Former 31",
                                 kind=Structure.Kind.TRAINING, commune=muret, email="accueil@former31.example")
    admin = make_professional(Membership.Role.ADMIN, structure=structure, first_name="Pia", last_name="Porteuse",
                              email="pia@former31.example")
    referent = make_professional(structure=structure, first_name="Pierre", last_name="Prestataire",
                                 email="pierre@former31.example")
    action = ActionFactory(territory=world["territory"], structure=structure, name="Atelier confiance en soi",
                           capacity=8)
    return {"structure": structure, "admin": admin, "referent": referent, "action": action, "muret": muret}
