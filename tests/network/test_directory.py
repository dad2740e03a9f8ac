"""The network directory ("annuaire des référents SPIE") and structure pages."""

import pytest
from django.urls import reverse

from spie.network import selectors
from spie.network.models import Membership, Structure
from tests.conftest import login_client
from tests.network.factories import (
    CommuneFactory,
    MembershipFactory,
    StructureFactory,
    TerritoryFactory,
    UserFactory,
    make_professional,
)


def member(structure, first_name, last_name, *, role=Membership.Role.REFERENT, job_title="", publics=(), themes=(),
           **user_kwargs):
    user = UserFactory(first_name=first_name, last_name=last_name, **user_kwargs)
    return MembershipFactory(user=user, structure=structure, role=role, job_title=job_title,
                             publics=list(publics), themes=list(themes))


@pytest.fixture
def world(db):
    territory = TerritoryFactory()
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    toulouse = CommuneFactory()
    muret = CommuneFactory(code_insee="31395", name="Muret", postal_codes="31600", epci_siren="200068815",
                           epci_name="Le Muretain Agglo")
    maison = StructureFactory(territory=territory, name="Maison de l'Emploi Éducative", kind=Structure.Kind.ASSOCIATION,
                              commune=toulouse, themes=["emploi"], publics=["jeunes"])
    ft = StructureFactory(territory=territory, name="France Travail Muret", kind=Structure.Kind.FRANCE_TRAVAIL,
                          commune=muret, themes=["mobilite-durable"], publics=["seniors"])
    dept = StructureFactory(territory=territory, name="Conseil départemental", kind=Structure.Kind.DEPARTEMENT,
                            commune=toulouse, themes=[], publics=[])
    closed = StructureFactory(territory=territory, name="Association fermée", is_active=False, themes=[], publics=[])
    auch = StructureFactory(territory=gers, name="Maison de l'Emploi d'Auch", themes=["emploi"], publics=["jeunes"])
    people = {
        "amelie": member(maison, "Amélie", "Léger", themes=["logement"], publics=["femmes"]),
        "bruno": member(ft, "Bruno", "Dupré", job_title="Conseiller entreprises", themes=["mobilite"]),
        "chloe": member(ft, "Chloé", "Éluard", role=Membership.Role.ADMIN),
        "denis": member(dept, "Denis", "Orient", role=Membership.Role.ORIENTATION, publics=["beneficiaires-rsa"]),
        "emma": member(dept, "Emma", "Coord", role=Membership.Role.COORDINATOR),
        "closed": member(closed, "Fermin", "Fermé"),
        "gone": member(maison, "Gaston", "Parti"),
        "inactive_user": member(maison, "Ines", "Inactive", is_active=False),
        "auch": member(auch, "Aurélie", "Gersoise"),
    }
    gone = people["gone"]
    gone.is_active = False
    gone.save()
    return {"territory": territory, "maison": maison, "ft": ft, "dept": dept, "auch": auch, "people": people}


def names(response):
    return sorted(m.user.last_name for m in response.context["page"].object_list)


def get(world, params=None, who="amelie"):
    client = login_client(world["people"][who].user)
    response = client.get(reverse("network:directory"), params or {})
    assert response.status_code == 200
    return response


def test_directory_lists_active_professionals_of_the_territory_only(world):
    assert names(get(world)) == ["Coord", "Dupré", "Léger", "Orient", "Éluard"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("leger", ["Léger"]),
        ("LÉGER", ["Léger"]),
        ("amelie", ["Léger"]),
        ("eluard", ["Éluard"]),
        ("dupre bruno", ["Dupré"]),
        ("maison emploi", ["Léger"]),
        ("educative", ["Léger"]),
        ("ÉDUCATIVE", ["Léger"]),
        ("muret", ["Dupré", "Éluard"]),
        ("conseiller", ["Dupré"]),
        ("auch", []),
        ("personne", []),
    ],
)
def test_search_by_name_structure_or_job_title(world, query, expected):
    assert names(get(world, {"q": query})) == expected


def test_search_by_accented_job_title(world):
    member(world["maison"], "Zoé", "Zed", job_title="Chargée de relations entreprises")
    assert names(get(world, {"q": "chargée"})) == ["Zed"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "france_travail"}, ["Dupré", "Éluard"]),
        ({"kind": "departement"}, ["Coord", "Orient"]),
        ({"role": "admin"}, ["Éluard"]),
        ({"role": "orientation"}, ["Orient"]),
        ({"role": "coordinator", "kind": "departement"}, ["Coord"]),
        # Theme: the member's own themes or the structure's.
        ({"theme": "logement"}, ["Léger"]),
        ({"theme": "emploi"}, ["Léger"]),
        ({"theme": "mobilite"}, ["Dupré"]),  # "mobilite-durable" (structure) is another code
        ({"theme": "mobilite-durable"}, ["Dupré", "Éluard"]),
        ({"theme": "sante"}, []),
        # Public: the member's own publics or the structure's.
        ({"public": "jeunes"}, ["Léger"]),
        ({"public": "femmes"}, ["Léger"]),
        ({"public": "seniors"}, ["Dupré", "Éluard"]),
        ({"public": "beneficiaires-rsa"}, ["Orient"]),
        ({"public": "rsa"}, []),
        ({"theme": "mobilite-durable", "role": "admin"}, ["Éluard"]),
        ({"epci": "200068815"}, ["Dupré", "Éluard"]),
    ],
)
def test_filters(world, params, expected):
    assert names(get(world, params)) == expected


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("themes", "logement", ["Léger"]),
        ("themes", "mobilite", ["Dupré"]),
        ("themes", "mobil", []),
        ("structure__themes", "emploi", ["Gersoise", "Léger", "Parti", "Inactive"]),
        ("publics", "beneficiaires-rsa", ["Orient"]),
        ("publics", "rsa", []),
    ],
)
def test_json_list_contains_is_exact_on_this_database(world, field, value, expected):
    qs = Membership.objects.filter(selectors.json_list_contains(field, value))
    assert sorted(qs.values_list("user__last_name", flat=True)) == sorted(expected)


def test_json_list_contains_ignores_non_list_values(world):
    """A code that only appears as a substring of a longer code, or not in a list, never matches."""
    Membership.objects.filter(pk=world["people"]["amelie"].pk).update(themes=["logement-social"])
    assert not Membership.objects.filter(selectors.json_list_contains("themes", "logement")).exists()


def test_pagination(world):
    for i in range(35):
        member(world["dept"], f"Prénom{i}", f"Pagine{i:02d}")
    client = login_client(world["people"]["amelie"].user)
    first = client.get(reverse("network:directory"), {"q": "pagine"})
    second = client.get(reverse("network:directory"), {"q": "pagine", "page": 2})
    assert first.context["page"].paginator.count == 35
    assert len(first.context["page"].object_list) == 30
    assert len(second.context["page"].object_list) == 5
    assert not {m.pk for m in first.context["page"].object_list} & {m.pk for m in second.context["page"].object_list}
    assert "page=2" in first.content.decode()


def test_directory_shows_contact_and_labels(world):
    html = get(world, {"q": "dupre"}).content.decode()
    assert world["people"]["bruno"].user.email in html
    assert "Conseiller entreprises" in html
    assert reverse("network:structure", args=[world["ft"].slug]) in html


def test_directory_requires_a_membership(world):
    lonely = UserFactory()
    response = login_client(lonely).get(reverse("network:directory"))
    assert response.status_code == 403


def test_another_territory_sees_its_own_directory(world):
    response = get(world, who="auch")
    assert names(response) == ["Gersoise"]


# ---------------------------------------------------------------------------------------------
# Structure page.


def test_structure_page(world):
    client = login_client(world["people"]["amelie"].user)
    response = client.get(reverse("network:structure", args=[world["ft"].slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "France Travail Muret" in html
    assert sorted(m.user.last_name for m in response.context["page"].object_list) == ["Dupré", "Éluard"]
    assert world["people"]["bruno"].user.email in html
    assert not response.context["can_manage"]
    assert reverse("network:members", args=[world["ft"].slug]) not in html


def test_structure_page_lists_active_members_only(world):
    response = login_client(world["people"]["amelie"].user).get(
        reverse("network:structure", args=[world["maison"].slug])
    )
    assert [m.user.last_name for m in response.context["page"].object_list] == ["Léger"]


def test_structure_page_offers_management_to_its_admin_only(world):
    admin = world["people"]["chloe"].user
    response = login_client(admin).get(reverse("network:structure", args=[world["ft"].slug]))
    assert response.context["can_manage"]
    assert reverse("network:members", args=[world["ft"].slug]) in response.content.decode()
    response = login_client(admin).get(reverse("network:structure", args=[world["maison"].slug]))
    assert not response.context["can_manage"]


def test_structure_of_another_territory_is_404(world):
    response = login_client(world["people"]["amelie"].user).get(
        reverse("network:structure", args=[world["auch"].slug])
    )
    assert response.status_code == 404


def test_unknown_structure_is_404(world):
    response = login_client(world["people"]["amelie"].user).get(reverse("network:structure", args=["inconnue"]))
    assert response.status_code == 404


def test_directory_and_structure_need_login(db):
    from django.test import Client

    structure = StructureFactory()
    for url in (reverse("network:directory"), reverse("network:structure", args=[structure.slug])):
        response = Client().get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_user_search_key_follows_renames(db):
    user = make_professional(first_name="Hélène", last_name="Çelik")
    assert user.search_key == "celik helene"
    user.last_name = "Öztürk"
    user.save()
    assert user.search_key == "ozturk helene"
