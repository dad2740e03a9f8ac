import pytest

from spie.network.models import Membership, Structure
from spie.people.models import FollowUpMembership
from tests.network.factories import StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import HealthInfoFactory, PersonFactory, add_to_group

from .factories import days_ago

HEALTH_SECRET = "Traitement contre la dépression sévère"
PERSON_EMAIL = "camille.dupuis@example.org"


def membership_of(user):
    return user.active_memberships().get()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    """A territory (31) with a chargé d'orientation, two structures of référents, a person
    followed by ``referent`` (référent unique) and ``member``, and a neighbour territory (32)."""
    territory = TerritoryFactory()
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    departement = StructureFactory(territory=territory, name="Conseil départemental — insertion",
                                   kind=Structure.Kind.DEPARTEMENT)
    ref_structure = StructureFactory(territory=territory, name="Association Tremplin")
    other_structure = StructureFactory(territory=territory, name="Mission locale Ouest",
                                       kind=Structure.Kind.MISSION_LOCALE)
    outsider_structure = StructureFactory(territory=territory, name="CCAS Colomiers", kind=Structure.Kind.CCAS)
    gers_structure = StructureFactory(territory=gers, name="Département du Gers", kind=Structure.Kind.DEPARTEMENT)
    users = {
        "officer": make_professional(Membership.Role.ORIENTATION, structure=departement,
                                     first_name="Odile", last_name="Orientation", email="odile@cd31.example"),
        "officer2": make_professional(Membership.Role.ORIENTATION, structure=departement,
                                      first_name="Omar", last_name="Orienteur", email="omar@cd31.example"),
        "referent": make_professional(structure=ref_structure, first_name="Rose", last_name="Référente",
                                      email="rose@tremplin.example"),
        "colleague": make_professional(structure=ref_structure, first_name="Paul", last_name="Collègue"),
        "member": make_professional(structure=other_structure, first_name="Mona", last_name="Membre",
                                    email="mona@ml-ouest.example"),
        "new_referent": make_professional(structure=other_structure, first_name="Nina", last_name="Nouvelle",
                                          email="nina@ml-ouest.example"),
        "outsider": make_professional(structure=outsider_structure, first_name="Oscar", last_name="Extérieur"),
        "admin_ref": make_professional(Membership.Role.ADMIN, structure=ref_structure),
        "coordinator": make_professional(Membership.Role.COORDINATOR, structure=departement),
        "gers_officer": make_professional(Membership.Role.ORIENTATION, structure=gers_structure,
                                          email="gilles@cd32.example"),
    }
    person = PersonFactory(
        territory=territory, first_name="Camille", last_name="Dupuis", email=PERSON_EMAIL,
        rsa=True, rsa_rights_opened_on=days_ago(20), rsa_droits_devoirs=True,
    )
    HealthInfoFactory(person=person, work_restrictions=HEALTH_SECRET, notes=HEALTH_SECRET)
    add_to_group(person, users["referent"], FollowUpMembership.Kind.REFERENT)
    add_to_group(person, users["member"])
    return {
        "territory": territory, "gers": gers, "departement": departement, "ref_structure": ref_structure,
        "other_structure": other_structure, "outsider_structure": outsider_structure,
        "gers_structure": gers_structure, "person": person, **users,
    }
