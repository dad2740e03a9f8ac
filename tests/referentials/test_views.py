import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.conftest import login_client
from tests.network.factories import UserFactory, make_professional
from tests.referentials.factories import make_commune, make_communes

COMMUNES_URL = "/referentiels/communes/"
OPTIONS_URL = "/referentiels/communes/options/"


@pytest.fixture
def communes(db):
    return make_communes()


@pytest.fixture
def client(communes):
    return login_client(make_professional())


def test_urls():
    assert reverse("referentials:communes") == COMMUNES_URL
    assert reverse("referentials:commune_options") == OPTIONS_URL


def test_search_by_name_prefix(client):
    response = client.get(COMMUNES_URL, {"q": "tou"})
    assert response.status_code == 200
    data = response.json()
    assert [item["code_insee"] for item in data] == ["31555", "31557"]
    assert data[0] == {
        "code_insee": "31555",
        "name": "Toulouse",
        "postal_code": "31000",
        "departement": "31",
        "label": "Toulouse (31000)",
    }


def test_search_ignores_accents_case_and_hyphens(client):
    assert [item["label"] for item in client.get(COMMUNES_URL, {"q": "SAINT-JE"}).json()] == ["Saint-Jean (31240)"]
    assert [item["label"] for item in client.get(COMMUNES_URL, {"q": "villefranche de l"}).json()] == [
        "Villefranche-de-Lauragais (31290)"
    ]
    assert client.get(COMMUNES_URL, {"q": "Tôulousé"}).json()[0]["code_insee"] == "31555"


def test_exact_name_comes_first(client, communes):
    make_commune("31999", "Castelnau-Big", "31999", population=90000)
    labels = [item["label"] for item in client.get(COMMUNES_URL, {"q": "castelnau"}).json()]
    assert labels[:2] == ["Castelnau (82170)", "Castelnau (31620)"]
    assert labels[2] == "Castelnau-Big (31999)"


def test_search_by_postal_code_and_insee_code(client):
    data = client.get(COMMUNES_URL, {"q": "31400"}).json()
    assert [item["label"] for item in data] == ["Toulouse (31400)"]
    data = client.get(COMMUNES_URL, {"q": "3129"}).json()
    assert {item["code_insee"] for item in data} == {"31582", "31042"}
    assert client.get(COMMUNES_URL, {"q": "31555"}).json()[0]["name"] == "Toulouse"
    assert client.get(COMMUNES_URL, {"q": "2a0"}).json()[0]["name"] == "Ajaccio"


def test_label_with_postal_code(client):
    data = client.get(COMMUNES_URL, {"q": "Toulouse (31200)"}).json()
    assert [item["label"] for item in data] == ["Toulouse (31200)"]


def test_departement_filter_and_limit(client):
    for number in range(25):
        make_commune(f"31{700 + number}", f"Saint-Test {number:02d}", "31000")
    assert len(client.get(COMMUNES_URL, {"q": "saint"}).json()) == 20
    assert [item["code_insee"] for item in client.get(COMMUNES_URL, {"q": "castelnau", "dep": "82"}).json()] == [
        "82901"
    ]
    assert client.get(COMMUNES_URL, {"q": "montesquieu", "dep": "31"}).json() == []


@pytest.mark.parametrize("query", ["", "   ", "--", "()"])
def test_empty_queries(client, query):
    assert client.get(COMMUNES_URL, {"q": query}).json() == []


def test_options_fragment_for_htmx(client):
    response = client.get(OPTIONS_URL, {"field": "home-commune", "home-commune": "toul"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert '<option value="Toulouse (31000)"></option>' in html
    assert "Tournefeuille" not in html
    assert '<option value="Castelnau (82170)"></option>' in client.get(OPTIONS_URL, {"q": "castel"}).content.decode()


def test_post_is_refused(client):
    assert client.post(COMMUNES_URL, {"q": "tou"}).status_code == 405


def test_anonymous_is_redirected_to_login(communes):
    response = Client().get(COMMUNES_URL, {"q": "tou"})
    assert response.status_code == 302
    try:
        login_url = reverse("accounts:login")
    except NoReverseMatch:  # the sign-in page may not be wired yet
        return
    assert response["Location"].startswith(login_url)


def test_user_without_structure_is_refused(communes):
    response = login_client(UserFactory()).get(COMMUNES_URL, {"q": "tou"})
    assert response.status_code == 403
