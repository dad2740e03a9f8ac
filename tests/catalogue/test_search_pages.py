"""Pages of the public catalogue: the search page (anonymous and logged in), the search for a
person pre-filled from their diagnostic (access log, 403 for an outsider), the map view, the
action sheet with and without contacts, constant query counts and French errors."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from spie.catalogue.models import ActionStatus
from spie.core.models import AccessLog
from tests.diagnostics.support import completed, frameworks  # noqa: F401
from tests.network.factories import CommuneFactory

from .factories import ActionFactory, ActionSessionFactory

SEARCH = "/catalogue/"
LOGEMENT = "logement-hebergement--louer-un-logement"
PERMIS = "mobilite--preparer-un-permis"


def text_of(response):
    return unescape(response.content.decode())


def detail_url(action):
    return reverse("catalogue:action_detail", args=[action.uid])


@pytest.fixture
def catalogue(world):
    territory = world["territory"]
    structure = world["ref_structure"]
    near = ActionFactory(territory=territory, structure=structure, name="Atelier permis solidaire",
                         thematiques=[PERMIS], contact_name="Léa Contact", email="lea.contact@tremplin.example",
                         phone="05 61 11 22 33")
    remote = ActionFactory(territory=territory, structure=structure, remote=True, name="Webinaire métiers du soin")
    draft = ActionFactory(territory=territory, structure=structure, draft=True, name="Brouillon caché")
    return {"near": near, "remote": remote, "draft": draft}


def test_search_url_is_the_catalogue_root():
    assert reverse("catalogue:search") == SEARCH


def test_public_search_page_for_anonymous_visitors(catalogue):
    response = Client().get(SEARCH)
    assert response.status_code == 200
    html = text_of(response)
    assert "Atelier permis solidaire" in html and "Webinaire métiers du soin" in html
    assert "Brouillon caché" not in html
    assert "à distance" in html
    assert "lea.contact@tremplin.example" not in html and "05 61 11 22 33" not in html
    assert detail_url(catalogue["near"]) in html
    assert "Orienter" not in html
    assert " style=" not in html and "<script>" not in html  # strict CSP
    # Filter counts are shown beside each value.
    assert f'id="n-f-thematique-{PERMIS}">1<' in html
    assert "Mise à jour nécessaire" not in html


def test_stale_actions_are_flagged_in_the_results(world):
    ActionFactory(territory=world["territory"], stale=True, name="Action ancienne")
    html = text_of(Client().get(SEARCH))
    assert "Action ancienne" in html and "Mise à jour nécessaire" in html


def test_anonymous_sheet_hides_contacts_logged_in_sees_them(catalogue, world, client_for):
    action = catalogue["near"]
    anonymous = text_of(Client().get(detail_url(action)))
    assert "Atelier permis solidaire" in anonymous
    assert "Préparer un permis" in anonymous  # thématique label from the data·inclusion vocabulary
    assert "Tous publics" in anonymous
    assert "lea.contact@tremplin.example" not in anonymous and "05 61 11 22 33" not in anonymous
    assert "Léa Contact" not in anonymous
    assert "réservées aux professionnels connectés" in anonymous
    assert "Orienter une personne" not in anonymous

    logged = text_of(client_for(world["referent"]).get(detail_url(action)))
    assert "lea.contact@tremplin.example" in logged and "05 61 11 22 33" in logged and "Léa Contact" in logged


def test_sheet_lists_open_sessions_and_links_for_referring_and_editing(catalogue, world, client_for):
    action = catalogue["near"]
    ActionSessionFactory(action=action, label="Groupe de printemps", capacity=12, places_taken=4)
    referent_page = text_of(client_for(world["referent"]).get(detail_url(action)))
    assert "Groupe de printemps" in referent_page and "8 sur 12" in referent_page
    assert "Orienter une personne" in referent_page
    assert reverse("catalogue:referral_new", args=[action.uid]) in referent_page
    # Rose is a référent of the action's structure: she may edit it.
    assert reverse("catalogue:action_edit", args=[action.uid]) in referent_page
    member_page = text_of(client_for(world["member"]).get(detail_url(action)))
    assert reverse("catalogue:action_edit", args=[action.uid]) not in member_page
    coordinator_page = text_of(client_for(world["coordinator"]).get(detail_url(action)))
    assert "Orienter une personne" not in coordinator_page


def test_unpublished_sheet_is_hidden_except_from_its_managers(catalogue, world, client_for):
    draft = catalogue["draft"]
    assert Client().get(detail_url(draft)).status_code == 404
    assert client_for(world["member"]).get(detail_url(draft)).status_code == 404
    assert client_for(world["referent"]).get(detail_url(draft)).status_code == 200


def test_logged_in_search_page_works(catalogue, world, client_for):
    response = client_for(world["member"]).get(SEARCH, {"q": "permis"})
    html = text_of(response)
    assert response.status_code == 200
    assert "Atelier permis solidaire" in html and "Webinaire métiers du soin" not in html
    assert "1 action pour « permis »" in html


# --- Search for a person -------------------------------------------------------------------------


def test_search_for_a_person_prefills_from_the_diagnostic(catalogue, world, client_for, frameworks):  # noqa: F811
    person = world["person"]
    diagnostic = completed(person, world["referent"])  # homeless: blocking housing barrier
    logement = ActionFactory(territory=world["territory"], structure=world["ref_structure"],
                             name="Recherche de logement accompagnée", thematiques=[LOGEMENT])
    client = client_for(world["referent"])
    before = AccessLog.objects.filter(person=person, section=AccessLog.Section.DIAGNOSTIC).count()
    response = client.get(SEARCH, {"personne": person.pk})
    html = text_of(response)
    assert response.status_code == 200
    assert "Recherche pour Camille D." in html
    assert f"diagnostic du {timezone.localtime(diagnostic.completed_at):%d/%m/%Y}" in html
    assert f'value="{LOGEMENT}" id="f-thematique-{LOGEMENT}" checked' in html
    # Only actions of the barriers' thématiques; each with its « Orienter » button.
    assert "Recherche de logement accompagnée" in html and "Atelier permis solidaire" not in html
    refer = reverse("catalogue:referral_new", args=[logement.uid]) + f"?personne={person.pk}"
    assert refer in html
    log = AccessLog.objects.filter(person=person, section=AccessLog.Section.DIAGNOSTIC).order_by("-id").first()
    assert AccessLog.objects.filter(person=person, section=AccessLog.Section.DIAGNOSTIC).count() == before + 1
    assert log.user == world["referent"] and log.reason == "recherche d'actions"
    # Pagination and view links keep the pre-filled choice (and the person).
    assert "filtre=1" in html

    # Once the form is sent, the référent's choice wins: no thématique ticked, no pre-fill.
    unticked = text_of(client.get(SEARCH, {"personne": person.pk, "filtre": "1"}))
    assert "Atelier permis solidaire" in unticked and "checked" not in unticked.split('name="thematique"')[1][:200]
    # A barrier's link chooses its thématiques explicitly.
    chosen = text_of(client.get(SEARCH, {"personne": person.pk, "thematique": PERMIS}))
    assert "Atelier permis solidaire" in chosen and "Recherche de logement accompagnée" not in chosen


def test_search_for_a_person_uses_their_commune(catalogue, world, client_for):
    person = world["person"]  # lives in Toulouse (factory)
    far = CommuneFactory(code_insee="31483", name="Saint-Gaudens", lat=43.1080, lon=0.7234)
    ActionFactory(territory=world["territory"], structure=world["ref_structure"], commune=far,
                  name="Chantier du Comminges")
    html = text_of(client_for(world["referent"]).get(SEARCH, {"personne": person.pk}))
    assert "Chantier du Comminges" not in html  # 78 km > 50 km
    assert "Atelier permis solidaire" in html and "à moins d'1 km" in html
    assert "Orienter" in html


def test_search_for_a_person_is_refused_to_outsiders(catalogue, world, client_for):
    person = world["person"]
    assert client_for(world["outsider"]).get(SEARCH, {"personne": person.pk}).status_code == 403
    assert Client().get(SEARCH, {"personne": person.pk}).status_code == 403
    assert client_for(world["gers_officer"]).get(SEARCH, {"personne": person.pk}).status_code == 404
    assert not AccessLog.objects.filter(person=person, user=world["outsider"]).exists()


def test_diagnostic_page_links_each_barrier_to_the_catalogue(world, client_for, frameworks):  # noqa: F811
    person = world["person"]
    diagnostic = completed(person, world["referent"])
    html = text_of(client_for(world["referent"]).get(reverse("diagnostics:detail", args=[person.pk, diagnostic.pk])))
    assert f'href="/catalogue/?personne={person.pk}&thematique={LOGEMENT}' in html
    assert "Trouver une action" in html and "Banque d'actions" in html


# --- Map, htmx, errors, query counts ------------------------------------------------------------------


def square(lon, lat, size=0.05):
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_map_view_renders_an_svg_with_markers(catalogue, world):
    toulouse = catalogue["near"].commune
    toulouse.shape = square(1.40, 43.58)
    toulouse.save()
    CommuneFactory(code_insee="31069", name="Blagnac", lat=43.6378, lon=1.3897, epci_siren="243100518",
                   shape=square(1.35, 43.58))
    twin = ActionFactory(territory=world["territory"], name="Atelier au même endroit")
    response = Client().get(SEARCH, {"vue": "carte", "commune": "31555"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'class="map-outline" d="M' in html
    marker = f'<a href="{detail_url(catalogue["near"])}" class="map-marker">'
    assert marker in html and ". Atelier permis solidaire — à moins d'1 km</title>" in unescape(html)
    assert 'class="map-origin"' in html and "Commune de départ : Toulouse" in html
    # The remote action is listed apart, not on the map.
    assert "<h3>À distance</h3>" in unescape(html)
    assert html.count('class="map-marker"') == 2
    assert f'<a href="{detail_url(twin)}" class="map-marker">' in html
    # Two actions at the same spot: two markers apart, each visible.
    spots = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="10"/>', html)
    assert len(spots) == 2 and spots[0] != spots[1]
    assert " style=" not in html


def test_htmx_refresh_returns_the_results_and_the_counts(catalogue):
    response = Client().get(SEARCH, {"q": "webinaire"}, HTTP_HX_REQUEST="true")
    html = text_of(response)
    assert "<html" not in html and "Webinaire métiers du soin" in html
    assert f'id="n-f-thematique-{PERMIS}" hx-swap-oob="true">0<' in html


def test_bad_params_give_a_french_error_and_the_rest_works(catalogue):
    response = Client().get(SEARCH, {"q": "permis", "rayon": "beaucoup", "du": "demain", "thematique": "xyz"})
    html = text_of(response)
    assert response.status_code == 200
    assert "Certains filtres n'ont pas pu être appliqués" in html
    assert "Le rayon doit être un nombre de kilomètres" in html
    assert "Date de début « demain » non reconnue" in html and "Thématique « xyz » inconnue" in html
    assert "Atelier permis solidaire" in html


def test_pagination_keeps_the_filters(world):
    for n in range(25):
        ActionFactory(territory=world["territory"], name=f"Atelier numéro {n}", thematiques=[PERMIS])
    html = Client().get(SEARCH, {"thematique": PERMIS, "q": "atelier"}).content.decode()
    assert f"thematique={PERMIS.replace('-', '-')}" in html and "page=2" in html
    second = text_of(Client().get(SEARCH, {"thematique": PERMIS, "q": "atelier", "page": 2}))
    assert "Page 2 sur 2" in second


def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("logged_in", [False, True])
def test_constant_queries_2_vs_20_actions(world, client_for, logged_in):
    territory = world["territory"]
    client = client_for(world["member"]) if logged_in else Client()
    for _ in range(2):
        ActionFactory(territory=territory, status=ActionStatus.PUBLISHED)
        ActionFactory(territory=territory, remote=True)
    client.get(SEARCH, {"vue": "carte"})  # the base map is computed once per process
    few = _count(client, SEARCH, {"commune": "31555"})
    few_map = _count(client, SEARCH, {"commune": "31555", "vue": "carte"})
    for _ in range(18):
        ActionFactory(territory=territory)
        ActionFactory(territory=territory, remote=True, stale=True)
    many = _count(client, SEARCH, {"commune": "31555"})
    many_map = _count(client, SEARCH, {"commune": "31555", "vue": "carte"})
    assert few == many
    assert few_map == many_map
    assert many <= (12 if logged_in else 6)
