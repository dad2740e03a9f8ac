"""API v1 — structures, own memberships and the network directory."""

import datetime

from spie.network.models import Membership
from tests.api.conftest import second_membership
from tests.network.factories import CommuneFactory, StructureFactory, make_professional


def names(response, key="name"):
    return [item[key] for item in response.json()["results"]]


# --- Structures ------------------------------------------------------------------------------


def test_structures_of_the_territory_only(net, api_for):
    response = api_for(net.outsider).get("/api/v1/structures/")
    assert response.status_code == 200
    assert names(response) == ["Association Alpha", "CCAS Charlie", "Mission locale Bravo"]
    alpha = response.json()["results"][0]
    assert alpha["kind"] == "association" and alpha["kind_label"] == "Association"
    assert alpha["commune"] == {"code": "31555", "name": "Toulouse"}
    assert alpha["member_count"] == 3  # référent, colleague, admin


def test_structures_filters(net, api_for):
    muret = CommuneFactory(code_insee="31395", name="Muret", search_key="muret")
    StructureFactory(territory=net.territory, name="Chantier d'insertion Muret", kind="siae", commune=muret)
    client = api_for(net.member)
    assert names(client.get("/api/v1/structures/", {"kind": "ccas"})) == ["CCAS Charlie"]
    assert names(client.get("/api/v1/structures/", {"commune": "31395"})) == ["Chantier d'insertion Muret"]
    assert names(client.get("/api/v1/structures/", {"q": "mission bravo"})) == ["Mission locale Bravo"]
    assert client.get("/api/v1/structures/", {"kind": "nope"}).status_code == 400


def test_structure_detail_and_other_territory(net, api_for):
    client = api_for(net.member)
    response = client.get(f"/api/v1/structures/{net.struct_b.pk}/")
    assert response.status_code == 200
    assert response.json()["name"] == "Mission locale Bravo"
    assert client.get(f"/api/v1/structures/{net.struct_d.pk}/").status_code == 404


# --- Own memberships -------------------------------------------------------------------------


def test_memberships_are_the_users_own(net, api_for):
    second_membership(net.referent, net.struct_d, role=Membership.Role.ORIENTATION)
    response = api_for(net.referent).get("/api/v1/memberships/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert {(m["structure"]["name"], m["role"], m["territory"]) for m in results} == {
        ("Association Alpha", "referent", "31"),
        ("Association Delta", "orientation", "32"),
    }
    assert all(m["is_current"] for m in results)
    assert Membership.objects.count() > 2  # others exist, none listed


def test_memberships_are_listed_even_without_an_active_one(net, api_for):
    net.outsider.memberships.update(is_active=False)
    response = api_for(net.outsider).get("/api/v1/memberships/")
    assert response.status_code == 200
    assert [m["is_current"] for m in response.json()["results"]] == [False]


# --- Directory -------------------------------------------------------------------------------


def test_directory_lists_current_memberships_of_the_territory(net, api_for):
    ended = make_professional(structure=net.struct_b, last_name="Parti")
    ended.memberships.update(end_date=datetime.date(2025, 1, 1))
    inactive = make_professional(structure=net.struct_b, last_name="Inactif")
    inactive.memberships.update(is_active=False)

    response = api_for(net.member).get("/api/v1/directory/")

    assert response.status_code == 200
    last_names = [e["professional"]["last_name"] for e in response.json()["results"]]
    assert sorted(last_names) == ["Admin", "Collegue", "Exterieur", "Membre", "Referent"]
    entry = next(e for e in response.json()["results"] if e["professional"]["last_name"] == "Membre")
    assert entry["email"] == net.member.email
    assert entry["role"] == "referent" and entry["role_label"] == "Référent"
    assert entry["structure"]["name"] == "Mission locale Bravo"
    assert entry["structure"]["commune_name"] == "Toulouse"
    assert set(entry) >= {"job_title", "phone", "publics", "themes"}


def test_directory_filters(net, api_for):
    for membership in net.member.memberships.all():
        membership.job_title, membership.themes, membership.publics = "Conseillère emploi", ["mobilite"], ["jeunes"]
        membership.save()
    client = api_for(net.outsider)

    def last_names(**params):
        response = client.get("/api/v1/directory/", params)
        assert response.status_code == 200, response.json()
        return sorted(e["professional"]["last_name"] for e in response.json()["results"])

    assert last_names(q="conseill") == ["Membre"]
    assert last_names(q="conseillere") == ["Membre"]
    assert last_names(q="alpha") == ["Admin", "Collegue", "Referent"]
    assert last_names(structure=net.struct_c.pk) == ["Exterieur"]
    assert last_names(kind="mission_locale") == ["Membre"]
    assert last_names(role="admin") == ["Admin"]
    assert last_names(theme="mobilite") == ["Membre"]
    assert last_names(public="jeunes") == ["Membre"]
    assert client.get("/api/v1/directory/", {"role": "boss"}).status_code == 400
    assert client.get("/api/v1/directory/", {"structure": "x"}).status_code == 400
    assert client.get("/api/v1/directory/", {"structure": "9" * 25}).status_code == 400


def test_directory_of_another_territory_is_its_own(net, api_for):
    response = api_for(net.foreigner).get("/api/v1/directory/")
    assert [e["professional"]["last_name"] for e in response.json()["results"]] == ["Gersois"]
