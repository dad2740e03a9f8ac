"""Shared fixtures and helpers of the diagnostics page and service tests.

Import the fixtures in a test module with ``from tests.diagnostics.support import ...  # noqa: F401``.
"""

import pytest

from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.network.factories import StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import PersonFactory, add_to_group

# Every required question of spie-v1, answered so that rules fire:
# housing "sans_hebergement" → blocking housing barrier → orientation sociale.
REQUIRED_SPIE = {
    "famille_situation": "parent_isole",
    "logement_situation": "sans_hebergement",
    "permis": "b",
    "fle": "maitrise",
    "niveau_diplome": "bac",
    "duree_sans_emploi": "de_1_a_2_ans",
    "projet_clarte": "defini",
    "disponibilite": "immediate",
}
# The same person with a stable home: no blocking barrier.
HOUSED_SPIE = {**REQUIRED_SPIE, "logement_situation": "locataire_social"}


@pytest.fixture
def frameworks(db):
    from spie.diagnostics.loaders import load_frameworks

    rows = load_frameworks()
    return {row.code: row for row in rows}


@pytest.fixture
def world(db, frameworks):
    territory = TerritoryFactory()
    referent = make_professional(structure=StructureFactory(territory=territory))
    member = make_professional(structure=StructureFactory(territory=territory))
    outsider = make_professional(structure=StructureFactory(territory=territory))
    person = PersonFactory(territory=territory, first_name="Inès", last_name="Diagne", parent_of_toddler=True)
    add_to_group(person, referent, FollowUpMembership.Kind.REFERENT)
    add_to_group(person, member)
    other = PersonFactory(territory=territory, first_name="Odile", last_name="Autre")
    add_to_group(other, outsider, FollowUpMembership.Kind.REFERENT)
    return {
        "territory": territory, "referent": referent, "member": member, "outsider": outsider,
        "person": person, "other": other, "frameworks": frameworks,
    }


def membership_of(user):
    return user.memberships.select_related("structure", "structure__territory").first()


def client_of(user):
    return login_client(user)


def start(person, user, code="spie"):
    from spie.diagnostics import services

    return services.start_diagnostic(person, membership_of(user), framework_code=code)


def completed(person, user, answers=None, *, code="spie"):
    """A completed diagnostic of ``person`` with ``answers`` (required answers by default)."""
    from spie.diagnostics import services

    diagnostic = start(person, user, code)
    errors = services.save_answers(diagnostic, answers if answers is not None else REQUIRED_SPIE, user)
    assert errors == {}
    return services.complete_diagnostic(diagnostic, user)
