"""Shared fixtures and helpers of the company-side page tests (companies, openings, immersion
offers, engagements). Imported by ``test_companies_*``, ``test_openings_*``, ``test_engagements_*``."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spie.network.models import Structure
from spie.referentials.models import NafCode
from tests.network.factories import CommuneFactory, StructureFactory
from tests.pathways.conftest import _media_root, membership_of, world  # noqa: F401

from .factories import SIRETS, CompanyFactory, company_with_account, rome


def naf(code="56.10A", label="Restauration traditionnelle", section="I",
        section_label="HÉBERGEMENT ET RESTAURATION"):
    obj, _ = NafCode.objects.get_or_create(code=code, defaults={
        "label": label, "class_code": code[:5], "group_code": code[:4], "division_code": code[:2],
        "division_label": "Restauration", "section_code": section, "section_label": section_label})
    return obj


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


@pytest.fixture
def emp(world):  # noqa: F811
    """Companies of territory 31: ``plain`` (no account, followed by Rose's structure),
    ``spaced`` (with its own space and a company user, followed by Rose's structure), ``other``
    (with a space, followed by nobody), a partner club, a neighbour commune in another EPCI,
    a NAF code and ROME codes."""
    toulouse = CommuneFactory()
    muret = CommuneFactory(code_insee="31395", name="Muret", postal_codes="31600", population=25000,
                           epci_siren="200068807", epci_name="Le Muretain Agglo", lat=43.46, lon=1.33)
    club = StructureFactory(territory=world["territory"], name="Club des entreprises inclusives",
                            kind=Structure.Kind.EMPLOYERS)
    restaurant = naf()
    btp = naf("43.99C", "Travaux de maçonnerie générale", "F", "CONSTRUCTION")
    plain = CompanyFactory(territory=world["territory"], name="Brasserie du Capitole", naf=restaurant,
                           commune=toulouse, followed_by=world["ref_structure"], siret=SIRETS[1])
    plain.partners.add(club)
    spaced, company_user = company_with_account(territory=world["territory"], name="Maçonnerie Garonne",
                                                naf=btp, commune=muret, siret=SIRETS[2])
    spaced.followed_by = world["ref_structure"]
    spaced.save(update_fields=["followed_by"])
    other, other_user = company_with_account(territory=world["territory"], name="Autre Entreprise",
                                             commune=toulouse, siret=SIRETS[3])
    return {"plain": plain, "spaced": spaced, "company_user": company_user, "other": other,
            "other_user": other_user, "club": club, "toulouse": toulouse, "muret": muret, "naf": restaurant,
            "btp": btp, "cook": rome(), "mason": rome("F1703", "Maçonnerie", "F17")}


def test_fixture_builds(emp):
    assert emp["spaced"].account.kind == Structure.Kind.COMPANY
