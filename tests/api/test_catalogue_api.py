"""API of the catalogue: actions and sessions with the pages' policies, the open search without
contacts or personal data for anonymous callers, referrals sent and answered through the API with
the access log, and list endpoints whose query count does not grow with the data."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from spie.catalogue.models import Action, ActionStatus, Referral, ReferralStatus
from spie.core.models import AccessLog
from tests.catalogue import conftest as catalogue_fixtures
from tests.catalogue.factories import ActionFactory, ActionSessionFactory
from tests.network.factories import StructureFactory, make_professional
from tests.pathways import conftest as pathways_fixtures
from tests.pathways.conftest import HEALTH_SECRET, membership_of

from .conftest import token_client

pytestmark = pytest.mark.django_db

# The catalogue's world: a territory, a person and her group, a provider structure with an action.
world = pathways_fixtures.world
_media_root = pathways_fixtures._media_root
provider = catalogue_fixtures.provider

ACTIONS = "/api/v1/catalogue/actions/"
REFERRALS = "/api/v1/catalogue/referrals/"
SEARCH = "/api/v1/catalogue/search/"
S = ReferralStatus


def action_url(action, suffix=""):
    return f"{ACTIONS}{action.uid}/{suffix}"


def referral_url(referral, suffix=""):
    return f"{REFERRALS}{referral.uid}/{suffix}"


COMPLETE = {
    "name": "Atelier numérique", "description": "Découvrir l'ordinateur et les démarches en ligne.",
    "type": "atelier", "thematiques": ["numerique--maitriser-les-fondamentaux-du-numerique"],
    "reception_modes": ["en-presentiel"], "commune": "31555", "address": "3 place du Capitole",
    "mobilisation_modes": ["envoyer-un-courriel"], "email": "numerique@former31.example",
    "publics": ["tous-publics"], "eligibility_zone": ["31"], "weekly_hours": "2.5", "spie_kind": "workshop",
}


# --- Actions -----------------------------------------------------------------------------------


def test_list_shows_the_territory_catalogue_and_only_my_own_drafts(world, provider):
    territory = world["territory"]
    ActionFactory(territory=territory, structure=world["other_structure"], draft=True, name="Brouillon d'autrui")
    mine = ActionFactory(territory=territory, structure=world["ref_structure"], draft=True, name="Mon brouillon")
    ActionFactory(territory=world["gers"], structure=world["gers_structure"], name="Action du Gers")
    response = token_client(world["referent"]).get(ACTIONS)
    assert response.status_code == 200
    names = {a["name"] for a in response.json()["results"]}
    assert names == {"Atelier confiance en soi", "Mon brouillon"}
    first = next(a for a in response.json()["results"] if a["name"] == "Atelier confiance en soi")
    assert first["email"] and first["contact_name"] == "Sam Conseil"  # professionals see the contacts
    assert first["data_inclusion_id"] == f"spie-31--{provider['action'].uid}"
    assert first["structure"]["name"] == "Organisme Former 31" and first["commune_name"] == "Toulouse"
    mine_only = token_client(world["referent"]).get(ACTIONS, {"mine": "1"}).json()["results"]
    assert [a["uid"] for a in mine_only] == [str(mine.uid)]
    assert token_client(world["referent"]).get(ACTIONS, {"status": "perdue"}).status_code == 400


def test_retrieve_hides_other_structures_drafts_and_other_territories(world, provider):
    draft = ActionFactory(territory=world["territory"], structure=world["other_structure"], draft=True)
    gers = ActionFactory(territory=world["gers"], structure=world["gers_structure"])
    client = token_client(world["referent"])
    assert client.get(action_url(provider["action"])).status_code == 200
    assert client.get(action_url(draft)).status_code == 404
    assert client.get(action_url(gers)).status_code == 404
    assert token_client(world["member"]).get(action_url(draft)).status_code == 200  # its own structure
    assert APIClient().get(action_url(provider["action"])).status_code == 401


def test_provider_creates_edits_and_publishes_an_action(world, provider):
    client = token_client(provider["admin"])
    response = client.post(ACTIONS, COMPLETE, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "draft" and data["commune"] == "31555" and data["weekly_hours"] == "2.5"
    action = Action.objects.get(uid=data["uid"])
    assert action.structure == provider["structure"] and action.created_by == provider["admin"]
    response = client.patch(action_url(action), {"summary": "Prendre en main un ordinateur."}, format="json")
    assert response.status_code == 200 and response.json()["summary"] == "Prendre en main un ordinateur."
    response = client.post(action_url(action, "status/"), {"status": "published"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "published" and response.json()["published_at"]
    suspended = client.post(action_url(action, "status/"), {"status": "suspended"}, format="json")
    assert suspended.status_code == 400 and "jusqu'à quelle date" in str(suspended.json())


def test_writes_are_refused_to_other_structures_and_roles(world, provider):
    action = provider["action"]
    response = token_client(world["referent"]).patch(action_url(action), {"name": "Piraté"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Seuls les administrateurs et les référents de la structure")
    assert token_client(world["coordinator"]).post(ACTIONS, COMPLETE, format="json").status_code == 403
    assert token_client(world["officer"]).post(ACTIONS, COMPLETE, format="json").status_code == 403
    assert token_client(world["referent"]).post(action_url(action, "status/"), {"status": "archived"},
                                                format="json").status_code == 403
    action.refresh_from_db()
    assert action.name == "Atelier confiance en soi" and action.status == ActionStatus.PUBLISHED


def test_bad_values_get_french_errors(world, provider):
    client = token_client(provider["admin"])
    response = client.post(ACTIONS, {**COMPLETE, "thematiques": ["cuisine--recettes"], "commune": "99999",
                                      "eligibility_zone": ["31", "123456789"], "type": "conférence"}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert errors["thematiques"] == ["Thématique inconnue : « cuisine--recettes »."]
    assert errors["commune"] == ["Commune inconnue : code INSEE « 99999 »."]
    assert errors["eligibility_zone"][0].startswith("Code inconnu « 123456789 »")
    assert errors["type"][0].startswith("Valeur inconnue « conférence » pour le type")
    assert client.post(ACTIONS, {"summary": "Sans nom"}, format="json").json()["name"] == [
        "Ce champ est obligatoire."]
    draft = Action.objects.create(territory=world["territory"], structure=provider["structure"], name="Brouillon",
                                  description="Encore à compléter.")
    response = client.post(action_url(draft, "status/"), {"status": "published"}, format="json")
    assert response.status_code == 400
    assert "L'action ne peut pas être publiée :" in str(response.json())


def test_sessions_are_listed_added_edited_and_cancelled(world, provider):
    action = provider["action"]
    client = token_client(provider["referent"])
    starts = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    response = client.post(action_url(action, "sessions/"), {"starts_on": starts, "capacity": 6, "label": "Juin"},
                           format="json")
    assert response.status_code == 201, response.json()
    session_id = response.json()["id"]
    assert response.json()["places_left"] == 6 and response.json()["is_open"] is True
    listed = token_client(world["referent"]).get(action_url(action, "sessions/")).json()
    assert [s["label"] for s in listed] == ["Juin"]
    response = client.patch(action_url(action, f"sessions/{session_id}/"), {"capacity": 9}, format="json")
    assert response.status_code == 200 and response.json()["capacity"] == 9
    assert token_client(world["referent"]).patch(action_url(action, f"sessions/{session_id}/"), {"capacity": 1},
                                                 format="json").status_code == 403
    response = client.post(action_url(action, f"sessions/{session_id}/cancel/"))
    assert response.status_code == 200 and response.json()["is_cancelled"] is True
    assert client.post(action_url(action, "sessions/"), {"capacity": 3}, format="json").json()["starts_on"] == [
        "Ce champ est obligatoire."]


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()["count"]


def test_action_list_query_count_is_constant(world, provider):
    client = token_client(world["referent"])

    def grow(n):
        for _ in range(n):
            ActionFactory(territory=world["territory"], structure=StructureFactory(territory=world["territory"]))

    grow(1)
    small, count = count_queries(client, ACTIONS)
    grow(18)
    large, more = count_queries(client, ACTIONS)
    assert (count, more) == (2, 20)
    assert large == small


# --- Open search -------------------------------------------------------------------------------


def test_open_search_works_without_login_and_hides_contacts_and_persons(world, provider):
    ActionFactory(territory=world["territory"], structure=provider["structure"], remote=True,
                  name="Atelier confiance à distance")
    person = world["person"]
    response = APIClient().get(SEARCH, {"q": "confiance", "commune": "31555", "personne": person.pk})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["count"] == 2
    assert {r["name"] for r in data["results"]} == {"Atelier confiance en soi", "Atelier confiance à distance"}
    assert all(r["email"] is None and r["phone"] is None and r["contact_name"] is None for r in data["results"])
    in_person = next(r for r in data["results"] if r["name"] == "Atelier confiance en soi")
    assert in_person["in_person"] is True and in_person["distance_km"] is not None
    assert "status" not in in_person and "published_at" not in in_person
    body = response.content.decode()
    assert person.last_name not in body and person.first_name not in body and HEALTH_SECRET not in body
    assert not AccessLog.objects.filter(person=person).exists()
    assert "thematiques" in data["facets"]


def test_open_search_gives_contacts_to_professionals_and_french_errors(world, provider):
    data = token_client(world["referent"]).get(SEARCH, {"q": "confiance"}).json()
    assert data["results"][0]["email"] == provider["action"].email
    data = APIClient().get(SEARCH, {"q": "confiance", "rayon": "loin", "page": "zéro"}).json()
    assert data["count"] == 1  # the rest of the search still works
    assert any("zéro" in e for e in data["errors"]) and len(data["errors"]) >= 2
    assert APIClient().get(SEARCH, {"territoire": "99"}).status_code == 404


def test_open_search_query_count_is_constant(world, provider):
    model = ActionFactory(territory=world["territory"], structure=provider["structure"], is_model=True,
                          name="Modèle d'atelier confiance")

    def grow(n):
        for _ in range(n):
            ActionFactory(territory=world["territory"], structure=StructureFactory(territory=world["territory"]),
                          name="Atelier confiance en groupe", model=model)

    client = APIClient()
    grow(1)
    small, count = count_queries(client, SEARCH, {"q": "confiance", "par_page": "50"})
    grow(17)
    large, more = count_queries(client, SEARCH, {"q": "confiance", "par_page": "50"})
    assert (count, more) == (3, 20)
    assert large == small
    results = client.get(SEARCH, {"q": "confiance groupe"}).json()["results"]
    assert results[0]["model"] == str(model.uid)


# --- Referrals ---------------------------------------------------------------------------------


def send(world, provider, user="referent", **extra):
    payload = {"person": world["person"].pk, "action": str(provider["action"].uid), "consent": True,
               "motivation": "Reprendre confiance avant les entretiens.", "availability": "Les matins",
               "preferred_contact": "phone", **extra}
    return token_client(world[user] if isinstance(user, str) else user).post(REFERRALS, payload, format="json")


def test_referent_refers_through_the_api_and_the_read_is_logged(world, provider):
    response = send(world, provider)
    assert response.status_code == 201, response.json()
    data = response.json()
    referral = Referral.objects.get(uid=data["uid"])
    assert referral.status == S.SENT and referral.sent_by == world["referent"]
    assert data["side"] == "sender" and data["person"]["id"] == world["person"].pk
    assert data["next_statuses"] == ["cancelled"]
    assert data["transitions"][0]["to_status"] == "sent"
    log = AccessLog.objects.filter(person=world["person"], section=AccessLog.Section.REFERRAL).latest("id")
    assert (log.user, log.channel) == (world["referent"], AccessLog.Channel.API)


def test_consent_and_the_right_to_refer_are_checked(world, provider):
    response = send(world, provider, consent=False)
    assert response.status_code == 400
    assert response.json()["consent"][0].startswith("L'accord de la personne est obligatoire")
    assert send(world, provider, user="outsider").status_code == 403
    assert send(world, provider, user="gers_officer").status_code == 404
    assert send(world, provider, user="coordinator").status_code == 403
    assert send(world, provider, action="00000000-0000-0000-0000-000000000000").json()["action"] == [
        "Action introuvable."]
    assert not Referral.objects.exists()


def test_provider_reads_its_share_and_answers_through_the_api(world, provider):
    referral = Referral.objects.get(uid=send(world, provider).json()["uid"])
    client = token_client(provider["admin"])
    response = client.get(referral_url(referral))
    assert response.status_code == 200
    data = response.json()
    assert data["side"] == "provider" and "id" not in data["person"]
    assert data["person"]["short_name"] == "Camille D."
    assert set(data["contact"]) == {"phone"} and data["health_info"] is None
    assert set(data["next_statuses"]) == {"accepted", "refused"}
    log = AccessLog.objects.filter(person=world["person"], user=provider["admin"]).latest("id")
    assert (log.section, log.channel, log.structure) == (
        AccessLog.Section.REFERRAL, AccessLog.Channel.API, provider["structure"])
    refused = client.post(referral_url(referral, "status/"), {"status": "refused"}, format="json")
    assert refused.status_code == 400 and refused.json()["reason"] == ["Choisissez le motif du refus dans la liste."]
    accepted = client.post(referral_url(referral, "status/"), {"status": "accepted"}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert set(accepted.json()["next_statuses"]) == {"started", "dropped"}
    provider["action"].refresh_from_db()
    assert provider["action"].places_left_total == 7
    started = token_client(world["referent"]).post(referral_url(referral, "status/"), {"status": "started"},
                                                   format="json")
    assert started.status_code == 200 and started.json()["status"] == "started"
    again = client.post(referral_url(referral, "status/"), {"status": "accepted"}, format="json")
    assert again.status_code == 400 and "Transition impossible" in str(again.json())
    referral.refresh_from_db()
    assert [t.to_status for t in referral.transitions.all()] == ["sent", "accepted", "started"]


def test_sender_cancels_and_outsiders_are_refused(world, provider):
    referral = Referral.objects.get(uid=send(world, provider).json()["uid"])
    assert token_client(world["outsider"]).get(referral_url(referral)).status_code == 403
    assert token_client(world["outsider"]).post(referral_url(referral, "status/"), {"status": "cancelled"},
                                                format="json").status_code == 403
    assert token_client(provider["admin"]).post(
        referral_url(referral, "status/"), {"status": "cancelled", "reason": "Erreur"}, format="json",
    ).status_code == 400  # the provider may not cancel
    response = token_client(world["referent"]).post(referral_url(referral, "status/"),
                                                    {"status": "cancelled", "reason": "La personne a déménagé"},
                                                    format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert token_client(world["referent"]).get(f"{REFERRALS}00000000-0000-0000-0000-000000000000/").status_code \
        == 404


def test_health_detail_shared_is_for_the_provider_and_the_health_readers_only(world, provider):
    referral = Referral.objects.get(uid=send(world, provider, share_health=True,
                                             health_info="Ne peut pas porter de charges").json()["uid"])
    assert token_client(provider["admin"]).get(referral_url(referral)).json()["health_info"] == (
        "Ne peut pas porter de charges")
    assert token_client(world["referent"]).get(referral_url(referral)).json()["health_info"] == (
        "Ne peut pas porter de charges")
    colleague = token_client(world["colleague"]).get(referral_url(referral))
    assert colleague.status_code == 403  # same structure as the sender, but may not open the record


def test_referral_lists_by_side_with_a_constant_query_count(world, provider):
    from spie.catalogue.workflows import record_creation

    def grow(n):
        for _ in range(n):
            action = ActionFactory(territory=world["territory"], structure=provider["structure"])
            referral = Referral.objects.create(
                person=world["person"], action=action, from_structure=world["ref_structure"],
                to_structure=provider["structure"], sent_by=world["referent"], consent=True, motivation="Essai",
            )
            record_creation(referral, world["referent"])

    grow(2)
    sender, provider_client = token_client(world["referent"]), token_client(provider["admin"])
    small_sent = count_queries(sender, REFERRALS, {"side": "sent"})
    small_received = count_queries(provider_client, REFERRALS, {"side": "received"})
    grow(18)
    assert count_queries(sender, REFERRALS, {"side": "sent"}) == (small_sent[0], 20)
    assert count_queries(provider_client, REFERRALS, {"side": "received"}) == (small_received[0], 20)
    received = provider_client.get(REFERRALS, {"side": "received", "status": "sent"}).json()["results"][0]
    assert received["person"] == {"short_name": "Camille D."}
    sent = sender.get(REFERRALS, {"side": "sent"}).json()["results"][0]
    assert sent["person"]["id"] == world["person"].pk and sent["days_since_sent"] == 0
    assert sender.get(REFERRALS, {"side": "received"}).json()["count"] == 0
    assert sender.get(REFERRALS).status_code == 400
    assert token_client(world["coordinator"]).get(REFERRALS, {"side": "sent"}).status_code == 403


def test_session_choice_on_acceptance(world, provider):
    session = ActionSessionFactory(action=provider["action"], capacity=2, label="Session d'été")
    other = ActionSessionFactory(action=ActionFactory(territory=world["territory"], structure=provider["structure"]))
    referral = Referral.objects.get(uid=send(world, provider).json()["uid"])
    client = token_client(provider["referent"])
    wrong = client.post(referral_url(referral, "status/"), {"status": "accepted", "session": other.pk}, format="json")
    assert wrong.status_code == 400 and wrong.json()["session"] == ["Cette session n'appartient pas à l'action."]
    response = client.post(referral_url(referral, "status/"), {"status": "accepted", "session": session.pk},
                           format="json")
    assert response.status_code == 200 and response.json()["session"]["label"] == "Session d'été"
    session.refresh_from_db()
    assert session.places_taken == 1


def test_a_professional_of_another_structure_is_a_stranger(world, provider):
    stranger = make_professional(structure=StructureFactory(territory=world["territory"]))
    referral = Referral.objects.get(uid=send(world, provider).json()["uid"])
    assert token_client(stranger).get(referral_url(referral)).status_code == 403
    assert membership_of(stranger).structure != referral.to_structure
