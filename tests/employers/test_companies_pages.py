"""Company pages: policy (professionals, coordinators, company users, other territories), list
and filters, exports, constant query count, create/edit with French errors, opening a company
space (structure + invited employer), the company space."""

# ruff: noqa: F811 -- pytest fixtures (world, emp) are imported from test_companies_fixtures

import csv
import io
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from spie.employers.models import Company, Positioning, Proposal
from spie.employers.services import companies as services
from spie.network.models import Membership, Structure
from tests.people.factories import PersonFactory

from .factories import SIRETS, CompanyFactory, JobOpeningFactory, luhn_siret
from .test_companies_fixtures import _media_root, emp, membership_of, naf, queries, world  # noqa: F401

LIST = reverse("employers:companies")


def company_data(**overrides):
    data = {"name": "Boulangerie Saint-Cyprien", "siret": SIRETS[0], "naf": "56.10A",
            "size": "0-9", "commune": "31555", "address": "3 place Olivier", "contact_name": "Lou",
            "contact_email": "lou@boulangerie.example", "contact_phone": "05 61 00 00 00", "description": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- Policy ---------------------------------------------------------------------------------------


def test_anonymous_is_redirected(emp, client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/compte/" in response["Location"]


def test_professionals_and_coordinators_see_the_list_and_the_page(world, emp, client_for):
    for who in ("referent", "member", "coordinator", "officer"):
        client = client_for(world[who])
        assert client.get(LIST).status_code == 200
        assert client.get(reverse("employers:company_detail", args=[emp["plain"].uid])).status_code == 200


def test_every_link_of_the_employer_pages_opens_for_who_sees_it(world, emp, client_for):
    """No link a user is shown leads to a refusal (coordinators see neither positionings nor immersions)."""
    for who in ("referent", "coordinator"):
        client = client_for(world[who])
        for page in (LIST, reverse("employers:company_detail", args=[emp["plain"].uid])):
            html = client.get(page).content.decode()
            main = html[html.index("<main"):]
            for href in set(re.findall(r'href="(/emploi/[^"?#]*)"', main)):
                assert client.get(href).status_code == 200, (who, page, href)


def test_other_territory_gets_403(world, emp, client_for):
    client = client_for(world["gers_officer"])
    assert client.get(reverse("employers:company_detail", args=[emp["plain"].uid])).status_code == 403


def test_company_user_home_and_no_other_company(emp, client_for):
    client = client_for(emp["company_user"])
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"] == reverse("employers:company_space")
    assert client.get(reverse("employers:company_detail", args=[emp["spaced"].uid])).status_code == 200
    for key in ("plain", "other"):
        assert client.get(reverse("employers:company_detail", args=[emp[key].uid])).status_code == 403
        assert client.get(reverse("employers:company_edit", args=[emp[key].uid])).status_code == 403
    assert client.get(reverse("employers:company_new")).status_code == 403


def test_manage_buttons_only_for_managers(world, emp, client_for):
    url = reverse("employers:company_detail", args=[emp["plain"].uid])
    page = client_for(world["referent"]).get(url).content.decode()
    assert "Nouvelle offre d&#x27;emploi" in page or "Nouvelle offre d'emploi" in page
    assert "Ouvrir un espace entreprise" in page
    page = client_for(world["coordinator"]).get(url).content.decode()
    assert "Nouvelle offre" not in page and "Ouvrir un espace entreprise" not in page
    assert client_for(world["coordinator"]).get(reverse("employers:company_edit", args=[emp["plain"].uid])) \
        .status_code == 403


def test_once_it_has_a_space_only_its_users_and_follower_manage(world, emp, client_for):
    url = reverse("employers:company_edit", args=[emp["spaced"].uid])
    assert client_for(world["referent"]).get(url).status_code == 200  # Rose's structure follows it
    assert client_for(world["member"]).get(url).status_code == 403
    assert client_for(emp["company_user"]).get(url).status_code == 200
    # A company without an account is managed by the structure that follows it…
    plain = reverse("employers:company_edit", args=[emp["plain"].uid])
    assert client_for(world["referent"]).get(plain).status_code == 200
    assert client_for(world["member"]).get(plain).status_code == 403
    # … or, while nobody follows it, by any professional of the territory.
    Company.objects.filter(pk=emp["plain"].pk).update(followed_by=None)
    assert client_for(world["member"]).get(plain).status_code == 200


# --- List ----------------------------------------------------------------------------------------------


def test_list_filters(world, emp, client_for):
    client = client_for(world["referent"])

    def names(**params):
        page = client.get(LIST, params).content.decode()
        return {c.name for c in Company.objects.all() if c.name in page}

    assert names() == {"Brasserie du Capitole", "Maçonnerie Garonne", "Autre Entreprise"}
    assert names(q="capitole") == {"Brasserie du Capitole"}
    assert names(q=emp["spaced"].siret) == {"Maçonnerie Garonne"}
    assert names(section="F") == {"Maçonnerie Garonne"}
    assert names(epci="200068807") == {"Maçonnerie Garonne"}
    assert names(commune="Muret") == {"Maçonnerie Garonne"}
    assert names(partenaire=str(emp["club"].pk)) == {"Brasserie du Capitole"}


def test_unknown_commune_filter_says_so(world, emp, client_for):
    response = client_for(world["referent"]).get(LIST, {"commune": "Atlantide"})
    assert response.status_code == 200
    assert "Commune introuvable" in response.content.decode()


def test_export_csv_and_xlsx(world, emp, client_for):
    client = client_for(world["referent"])
    response = client.get(LIST, {"format": "csv", "q": "capitole"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Identifiant", "SIRET", "Raison sociale"]
    assert len(rows) == 2 and rows[1][2] == "Brasserie du Capitole" and "Club des entreprises inclusives" in rows[1][15]
    response = client.get(LIST, {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_list_query_count_is_constant(world, emp, client_for):
    client = client_for(world["referent"])
    before = queries(client, LIST)
    for i in range(6):
        company = CompanyFactory(territory=world["territory"], naf=emp["naf"], siret=luhn_siret(99_000_000 + i))
        company.partners.add(emp["club"])
        JobOpeningFactory(company=company)
    assert queries(client, LIST) == before


# --- Create and edit -------------------------------------------------------------------------------------


def test_create_company(world, emp, client_for):
    client = client_for(world["member"])
    response = client.post(reverse("employers:company_new"), company_data(partners=[emp["club"].pk], naf="5610A"))
    company = Company.objects.get(name="Boulangerie Saint-Cyprien")
    assert response.status_code == 302 and response["Location"] == reverse("employers:company_detail",
                                                                           args=[company.uid])
    assert company.followed_by == world["other_structure"] and company.territory == world["territory"]
    assert company.naf_id == "56.10A" and company.commune_id == "31555"
    assert list(company.partners.all()) == [emp["club"]]


def test_bad_input_gives_french_errors_and_keeps_values(world, emp, client_for):
    client = client_for(world["referent"])
    response = client.post(reverse("employers:company_new"),
                           company_data(siret="12345678901234", naf="99.99Z", commune="Atlantide"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "clé de contrôle" in page
    assert "Code NAF inconnu" in page
    assert "Commune introuvable" in page
    assert 'value="Boulangerie Saint-Cyprien"' in page and 'value="3 place Olivier"' in page
    assert not Company.objects.filter(name="Boulangerie Saint-Cyprien").exists()
    response = client.post(reverse("employers:company_new"), company_data(siret="1234"))
    assert "14 chiffres" in response.content.decode()


def test_duplicate_siret_in_territory(world, emp, client_for):
    response = client_for(world["referent"]).post(reverse("employers:company_new"),
                                                  company_data(siret=emp["plain"].siret))
    assert response.status_code == 400
    assert "existe déjà dans le territoire" in response.content.decode()


def test_edit_company(world, emp, client_for):
    client = client_for(world["referent"])
    url = reverse("employers:company_edit", args=[emp["plain"].uid])
    page = client.get(url).content.decode()
    assert "56.10A — Restauration traditionnelle" in page and "Toulouse (31000)" in page
    response = client.post(url, company_data(name="Brasserie du Capitole", siret=emp["plain"].siret,
                                             contact_name="Nouveau contact", partners=[]))
    assert response.status_code == 302
    emp["plain"].refresh_from_db()
    assert emp["plain"].contact_name == "Nouveau contact"
    assert emp["plain"].partners.count() == 0


# --- Company space ---------------------------------------------------------------------------------------


def test_open_company_space_invites_an_employer(world, emp, client_for, django_capture_on_commit_callbacks):
    client = client_for(world["referent"])
    url = reverse("employers:company_account", args=[emp["plain"].uid])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"first_name": "Léa", "last_name": "Patronne", "email": "lea@capitole.example",
                                     "job_title": "Gérante"})
    assert response.status_code == 302
    emp["plain"].refresh_from_db()
    space = emp["plain"].account
    assert space.kind == Structure.Kind.COMPANY and space.territory == world["territory"]
    membership = Membership.objects.get(structure=space)
    assert membership.role == Membership.Role.EMPLOYER and membership.user.email == "lea@capitole.example"
    assert emp["plain"].followed_by == world["ref_structure"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["lea@capitole.example"]
    # The new user's home is the company space.
    space_page = client_for(membership.user).get(reverse("employers:company_space"))
    assert space_page.status_code == 200 and "Brasserie du Capitole" in space_page.content.decode()


def test_open_space_policy_and_errors(world, emp, client_for):
    # The company is followed by Rose's structure: another structure may not open its space.
    assert client_for(world["member"]).get(reverse("employers:company_account", args=[emp["plain"].uid])) \
        .status_code == 403
    assert client_for(world["coordinator"]).get(reverse("employers:company_account", args=[emp["plain"].uid])) \
        .status_code == 403
    response = client_for(world["referent"]).post(reverse("employers:company_account", args=[emp["plain"].uid]),
                                                  {"first_name": "Léa", "last_name": "P", "email": "pas-un-courriel"})
    assert response.status_code == 400 and 'value="Léa"' in response.content.decode()
    emp["plain"].refresh_from_db()
    assert emp["plain"].account_id is None


def test_open_space_twice_reuses_the_structure(world, emp):
    by = membership_of(world["referent"])
    services.open_company_space(emp["plain"], membership=by, email="a@x.example", first_name="A", last_name="B")
    services.open_company_space(emp["plain"], membership=by, email="c@x.example", first_name="C", last_name="D")
    emp["plain"].refresh_from_db()
    assert Structure.objects.filter(kind=Structure.Kind.COMPANY, company=emp["plain"]).count() == 1
    assert emp["plain"].account.memberships.filter(role=Membership.Role.EMPLOYER).count() == 2


def test_company_space_counts(world, emp, client_for):
    opening = JobOpeningFactory(company=emp["spaced"], title="Maçon qualifié")
    JobOpeningFactory(company=emp["other"], title="Offre d'une autre entreprise")
    for status in ("proposed", "interested", "refused", "requested"):
        Positioning.objects.create(person=PersonFactory(territory=world["territory"]), opening=opening,
                                   status=status, structure=world["ref_structure"])
    for _ in range(3):
        Proposal.objects.create(person=PersonFactory(territory=world["territory"]), opening=opening)
    client = client_for(emp["company_user"])
    response = client.get(reverse("employers:company_space"))
    page = response.content.decode()
    assert "Maçon qualifié" in page and "Offre d&#x27;une autre entreprise" not in page
    row = page[page.index("Maçon qualifié"):]
    row = row[:row.index("</tr>")]
    assert "<td>3</td>" in row  # suggested profiles
    assert "<strong>2</strong>" in row  # awaiting an answer: proposed + interested
    assert "2</strong> mises en relation attendent votre réponse" in page


def test_company_space_for_professionals_redirects(world, emp, client_for):
    response = client_for(world["referent"]).get(reverse("employers:company_space"))
    assert response.status_code == 302 and response["Location"] == LIST


def test_company_space_query_count_is_constant(world, emp, client_for):
    JobOpeningFactory(company=emp["spaced"])
    client = client_for(emp["company_user"])
    url = reverse("employers:company_space")
    before = queries(client, url)
    for _ in range(4):
        opening = JobOpeningFactory(company=emp["spaced"])
        Positioning.objects.create(person=PersonFactory(territory=world["territory"]), opening=opening,
                                   structure=world["ref_structure"])
    assert queries(client, url) == before


def test_naf_helper_builds_codes(emp):
    assert naf("56.10A").label == "Restauration traditionnelle"


def test_open_space_refuses_an_address_used_elsewhere(world, emp, client_for):
    url = reverse("employers:company_account", args=[emp["plain"].uid])
    client = client_for(world["referent"])
    for email in (world["member"].email, emp["company_user"].email.upper()):
        response = client.post(url, {"first_name": "A", "last_name": "B", "email": email})
        assert response.status_code == 400
        assert "déjà utilisée sur la plateforme" in response.content.decode()
    emp["plain"].refresh_from_db()
    assert emp["plain"].account_id is None
    assert not Membership.objects.filter(user=world["member"], role=Membership.Role.EMPLOYER).exists()


def test_contact_phone_is_checked(world, emp):
    membership = membership_of(world["referent"])
    for phone in ("abc", "12", "06 12 34 56"):
        with pytest.raises(ValidationError) as exc:
            services.update_company(emp["plain"], membership=membership, data={"contact_phone": phone})
        assert "numéro de téléphone" in exc.value.message_dict["contact_phone"][0]
    for phone in ("05 61 22 33 44", "+33 5 61 22 33 44", "05.61.22.33.44", ""):
        services.update_company(emp["plain"], membership=membership, data={"contact_phone": phone})
