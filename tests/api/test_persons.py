"""API v1 — persons: caseload, search cards, record, sections, writes, need to know."""

import datetime

import pytest

from spie.core.models import AccessLog
from spie.network.models import Membership
from spie.people.models import FollowUpMembership, Person, TimelineEvent
from tests.network.factories import make_professional
from tests.people.factories import PersonFactory, add_to_group, oppose_sharing

LIST = "/api/v1/persons/"


def detail(person_id, section=""):
    return f"/api/v1/persons/{person_id}/" + (f"{section}/" if section else "")


def ids(response):
    return [item["id"] for item in response.json()["results"]]


# --- Authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [LIST, "/api/v1/structures/", "/api/v1/memberships/", "/api/v1/directory/", "/api/v1/"],
)
def test_anonymous_gets_401(net, url):
    from rest_framework.test import APIClient

    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_anonymous_gets_401_on_a_record_and_writes_nothing(net):
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.get(detail(net.person.pk)).status_code == 401
    assert client.post(LIST, {"first_name": "A", "last_name": "B", "birth_date": "1990-01-01"}).status_code == 401
    assert not AccessLog.objects.exists()


def test_bad_token_gets_401(net):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert client.get(LIST).status_code == 401


# --- Caseload --------------------------------------------------------------------------------


def test_caseload_lists_only_the_persons_followed(net, api_for):
    followed = PersonFactory(territory=net.territory, last_name="Suivi")
    add_to_group(followed, net.referent, FollowUpMembership.Kind.REFERENT)
    not_followed = PersonFactory(territory=net.territory, last_name="Autre")
    add_to_group(not_followed, net.outsider, FollowUpMembership.Kind.REFERENT)
    ended = PersonFactory(territory=net.territory, last_name="Termine")
    fu = add_to_group(ended, net.referent)
    fu.end_date = datetime.date(2025, 1, 1)
    fu.save()

    response = api_for(net.referent).get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert set(ids(response)) == {net.person.pk, followed.pk}
    line = next(item for item in body["results"] if item["id"] == net.person.pk)
    assert line["group_role"] == "referent"
    assert line["referent"]["structure_name"] == "Association Alpha"
    assert line["commune"] == {"code": "31555", "name": "Toulouse"}
    assert "Bénéficiaire du RSA" in line["publics"]
    # A list line is not the record: no identifiers.
    assert "nir" not in line and "identifiers" not in line


def test_caseload_of_a_member_and_role_filter(net, api_for):
    client = api_for(net.member)
    assert ids(client.get(LIST)) == [net.person.pk]
    assert client.get(LIST).json()["results"][0]["group_role"] == "member"
    # The person has a référent (someone else): the member's own role is what is filtered.
    assert ids(client.get(LIST, {"kind": "referent"})) == []
    assert ids(client.get(LIST, {"kind": "member"})) == [net.person.pk]
    assert ids(api_for(net.referent).get(LIST, {"kind": "member"})) == []


def test_caseload_public_and_name_filters(net, api_for):
    young = PersonFactory(territory=net.territory, young=True, rsa=False, last_name="Jeune")
    add_to_group(young, net.referent, FollowUpMembership.Kind.REFERENT)
    client = api_for(net.referent)
    assert ids(client.get(LIST, {"public": "moins26"})) == [young.pk]
    assert ids(client.get(LIST, {"public": "rsa"})) == [net.person.pk]
    assert ids(client.get(LIST, {"q": "jeu"})) == [young.pk]
    assert ids(client.get(LIST, {"q": "dupont camille"})) == [net.person.pk]


def test_caseload_rejects_unknown_filter_values_in_french(net, api_for):
    response = api_for(net.referent).get(LIST, {"kind": "chef"})
    assert response.status_code == 400
    assert "Valeur inconnue" in response.json()["kind"]


# --- Search: directory cards -----------------------------------------------------------------

CARD_KEYS = {
    "id", "first_name", "last_name", "birth_year", "commune_name", "referent_structure_name", "can_open_record",
}


def test_search_returns_cards_including_persons_not_followed(net, api_for):
    response = api_for(net.outsider).get(LIST, {"search": "dupont"})

    assert response.status_code == 200
    results = response.json()["results"]
    # The Gers homonym (Dupontel) is in another territory: never found.
    assert [card["id"] for card in results] == [net.person.pk]
    card = results[0]
    assert set(card) == CARD_KEYS
    assert card == {
        "id": net.person.pk,
        "first_name": "Camille",
        "last_name": "Dupont",
        "birth_year": 1985,
        "commune_name": "Toulouse",
        "referent_structure_name": "Association Alpha",
        "can_open_record": False,
    }
    # A card is not a record read.
    assert not AccessLog.objects.exists()


def test_search_card_says_when_the_record_may_be_opened(net, api_for):
    card = api_for(net.member).get(LIST, {"search": "camille dupont"}).json()["results"][0]
    assert card["can_open_record"] is True


def test_search_by_birth_date_and_empty_search(net, api_for):
    client = api_for(net.outsider)
    assert [c["id"] for c in client.get(LIST, {"search": "12/04/1985 dupont"}).json()["results"]] == [net.person.pk]
    assert client.get(LIST, {"search": "01/01/2001 dupont"}).json()["results"] == []
    assert client.get(LIST, {"search": ""}).json()["results"] == []


def test_coordinators_do_not_search_persons(net, api_for):
    coordinator = make_professional(role=Membership.Role.COORDINATOR, structure=net.struct_a)
    response = api_for(coordinator).get(LIST, {"search": "dupont"})
    assert response.status_code == 403
    assert "agrégées" in response.json()["detail"]


# --- Record ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["referent", "member", "colleague"])
def test_record_is_returned_to_the_group_and_logged_once(net, api_for, who):
    user = getattr(net, who)

    response = api_for(user).get(detail(net.person.pk))

    assert response.status_code == 200
    data = response.json()
    assert data["id"] == net.person.pk
    assert data["identity"]["last_name"] == "Dupont"
    assert data["identity"]["birth_date"] == "1985-04-12"
    assert data["contact"]["commune"]["name"] == "Toulouse"
    assert set(data["identifiers"]) == {"nir", "caf_number", "msa_number", "france_travail_id", "internal_id"}
    assert data["rights"]["rsa"] is True and data["rights"]["labels"] == ["RSA"]
    assert "Bénéficiaire du RSA" in data["publics"]
    assert {"household", "situation"} <= set(data)
    group = data["followup_group"]
    assert group[0]["group_role"] == "referent"
    assert group[0]["structure"]["name"] == "Association Alpha"
    assert {m["professional"]["id"] for m in group} == {net.referent.pk, net.member.pk, net.colleague.pk}
    assert {m["structure"]["kind"] for m in group} == {"association", "mission_locale"}
    # The health section is never part of the record.
    assert "health" not in data and "Suivi médical" not in response.content.decode()

    logs = list(AccessLog.objects.all())
    assert len(logs) == 1
    log = logs[0]
    assert (log.user, log.person, log.section, log.channel) == (user, net.person, "record", "api")
    assert log.structure == user.memberships.get().structure
    assert log.path == detail(net.person.pk)


def test_record_access_flags(net, api_for):
    assert api_for(net.referent).get(detail(net.person.pk)).json()["access"] == {
        "relation": "referent",
        "sections": ["access_log", "card", "health", "pathway", "record", "timeline"],
        "can_edit": True,
        "can_manage_group": True,
        "sharing_opposed": False,
    }
    assert api_for(net.member).get(detail(net.person.pk)).json()["access"]["sections"] == [
        "card", "pathway", "record", "timeline",
    ]


def test_outsider_of_the_territory_gets_403_in_french_and_no_data(net, api_for):
    response = api_for(net.outsider).get(detail(net.person.pk))

    assert response.status_code == 403
    assert response.json() == {"detail": response.json()["detail"]}
    assert "Vous n'avez pas accès au dossier" in response.json()["detail"]
    assert "Dupont" not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_other_territory_and_unknown_id_are_the_same_404(net, api_for):
    client = api_for(net.foreigner)
    other_territory = client.get(detail(net.person.pk))
    unknown = client.get(detail(net.person.pk + 10_000))

    assert other_territory.status_code == unknown.status_code == 404
    assert other_territory.content == unknown.content
    assert "Dupont" not in other_territory.content.decode()
    assert not AccessLog.objects.exists()


def test_non_numeric_or_huge_id_is_404(net, api_for):
    assert api_for(net.referent).get("/api/v1/persons/abc/").status_code == 404
    assert api_for(net.referent).get(detail("9" * 25)).status_code == 404


def test_idor_no_record_of_a_person_not_followed_leaks(net, api_for):
    """Walk every id (both territories and beyond): only the followed person's data comes back."""
    for n in range(5):
        other = PersonFactory(territory=net.territory, last_name=f"Secret{n}", nir="")
        add_to_group(other, net.outsider, FollowUpMembership.Kind.REFERENT)
    client = api_for(net.member)
    max_id = Person.objects.order_by("-pk").values_list("pk", flat=True).first()
    not_found_body = client.get(detail(max_id + 1)).content
    for person_id in range(1, max_id + 5):
        for section in ("", "health", "timeline", "access-log"):
            response = client.get(detail(person_id, section))
            body = response.content.decode()
            if person_id == net.person.pk and section in ("", "timeline"):
                assert response.status_code == 200
                continue
            assert response.status_code in (403, 404), (person_id, section)
            assert "Secret" not in body and "Dupontel" not in body and "1985-04-12" not in body
            person = Person.objects.filter(pk=person_id).first()
            if person is None or person.territory_id != net.territory.pk:
                assert response.status_code == 404
                assert response.content == not_found_body
    # Only the two allowed reads were logged.
    assert sorted(AccessLog.objects.values_list("section", flat=True)) == ["record", "timeline"]


def test_opposition_to_sharing_hides_the_record_from_other_structures(net, api_for):
    oppose_sharing(net.person)

    assert api_for(net.member).get(detail(net.person.pk)).status_code == 403
    assert api_for(net.member).get(detail(net.person.pk, "timeline")).status_code == 403
    # The référent's structure keeps the record.
    assert api_for(net.referent).get(detail(net.person.pk)).status_code == 200
    colleague = api_for(net.colleague).get(detail(net.person.pk))
    assert colleague.status_code == 200
    assert colleague.json()["access"]["sharing_opposed"] is True
    # The member's caseload search card says so too.
    card = api_for(net.member).get(LIST, {"search": "dupont"}).json()["results"][0]
    assert card["can_open_record"] is False


# --- Sections --------------------------------------------------------------------------------


def test_health_is_refused_to_a_plain_member(net, api_for):
    response = api_for(net.member).get(detail(net.person.pk, "health"))
    assert response.status_code == 403
    assert "santé" in response.json()["detail"]
    assert "Suivi médical" not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_health_for_the_referent_and_a_granted_member(net, api_for):
    FollowUpMembership.objects.filter(person=net.person, user=net.member).update(can_see_health=True)
    for user in (net.referent, net.member):
        response = api_for(user).get(detail(net.person.pk, "health"))
        assert response.status_code == 200
        assert response.json()["rqth"] is True
        assert response.json()["notes"] == "Suivi médical confidentiel"
    assert list(AccessLog.objects.order_by("id").values_list("user", "section", "channel")) == [
        (net.referent.pk, "health", "api"),
        (net.member.pk, "health", "api"),
    ]


def test_health_without_a_health_section_yet(net, api_for):
    person = PersonFactory(territory=net.territory)
    add_to_group(person, net.referent, FollowUpMembership.Kind.REFERENT)
    response = api_for(net.referent).get(detail(person.pk, "health"))
    assert response.status_code == 200
    assert response.json()["rqth"] is False and response.json()["updated_at"] is None


def test_access_log_is_visible_to_the_referent_only(net, api_for):
    api_for(net.member).get(detail(net.person.pk))

    for user in (net.member, net.colleague, net.outsider):
        response = api_for(user).get(detail(net.person.pk, "access-log"))
        assert response.status_code == 403, user
    response = api_for(net.referent).get(detail(net.person.pk, "access-log"))

    assert response.status_code == 200
    entries = response.json()["results"]
    # Newest first: the référent's own read of the log, then the member's read of the record.
    assert [(e["professional"]["id"], e["section"], e["channel"]) for e in entries] == [
        (net.referent.pk, "access_log", "api"),
        (net.member.pk, "record", "api"),
    ]
    assert entries[1]["structure"]["name"] == "Mission locale Bravo"
    assert "ip_address" not in entries[0] and "path" not in entries[0]


def test_structure_admin_of_a_group_structure_sees_the_access_log(net, api_for):
    assert api_for(net.admin_a).get(detail(net.person.pk, "access-log")).status_code == 200


def test_timeline_is_paginated_filtered_and_logged(net, api_for):
    TimelineEvent.objects.create(person=net.person, kind="created", title="Entrée dans le parcours")
    TimelineEvent.objects.create(person=net.person, kind="consent", title="Consentement")
    client = api_for(net.member)

    response = client.get(detail(net.person.pk, "timeline"))
    assert response.status_code == 200
    assert response.json()["count"] == 2
    filtered = client.get(detail(net.person.pk, "timeline"), {"type": "consent"}).json()["results"]
    assert [e["kind"] for e in filtered] == ["consent"]
    assert list(AccessLog.objects.values_list("section", "channel")) == [("timeline", "api")] * 2
    assert api_for(net.outsider).get(detail(net.person.pk, "timeline")).status_code == 403


# --- Writes ----------------------------------------------------------------------------------

NEW_PERSON = {
    "first_name": "Lou",
    "last_name": "Bernard",
    "birth_date": "1992-03-04",
    "sex": "F",
    "commune": "31555",
    "children_birth_years": [2020],
    "languages": ["français", "occitan"],
    "rsa": True,
    "rsa_rights_opened_on": "2026-01-15",
}


def test_create_makes_the_creator_referent(net, api_for):
    response = api_for(net.referent).post(LIST, NEW_PERSON, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    person = Person.objects.get(pk=data["id"])
    assert person.territory == net.territory and person.created_by == net.referent
    assert person.commune_id == "31555" and person.children_birth_years == [2020]
    assert data["identity"]["last_name"] == "Bernard"
    assert data["access"]["relation"] == "referent"
    referent = FollowUpMembership.objects.get(person=person)
    assert (referent.user, referent.kind, referent.structure) == (net.referent, "referent", net.struct_a)
    assert TimelineEvent.objects.filter(person=person, kind="created").exists()
    log = AccessLog.objects.get(person=person)
    assert (log.section, log.channel, log.reason) == ("record", "api", "création")


def test_create_duplicate_returns_409_with_cards_unless_confirmed(net, api_for):
    client = api_for(net.member)
    payload = {"first_name": "Camille", "last_name": "DUPONT", "birth_date": "1985-04-12"}

    response = client.post(LIST, payload, format="json")

    assert response.status_code == 409
    body = response.json()
    assert "semble déjà exister" in body["detail"]
    assert [card["id"] for card in body["duplicates"]] == [net.person.pk]
    assert set(body["duplicates"][0]) == CARD_KEYS
    assert Person.objects.filter(last_name_key="dupont").count() == 1

    confirmed = client.post(LIST, {**payload, "confirm_duplicate": True}, format="json")
    assert confirmed.status_code == 201
    assert Person.objects.filter(last_name_key="dupont").count() == 2
    assert TimelineEvent.objects.filter(person_id=confirmed.json()["id"], kind="duplicate_confirmed").exists()


def test_create_same_nir_is_refused_even_when_confirmed(net, api_for):
    nir = "185047510812364"  # synthetic, valid key
    Person.objects.filter(pk=net.person.pk).update(nir=nir)
    payload = {"first_name": "Autre", "last_name": "Nom", "birth_date": "1990-01-01", "nir": nir,
               "confirm_duplicate": True}
    response = api_for(net.referent).post(LIST, payload, format="json")
    assert response.status_code == 409
    assert [card["id"] for card in response.json()["duplicates"]] == [net.person.pk]


def test_create_validation_errors_are_in_french(net, api_for):
    client = api_for(net.referent)
    response = client.post(LIST, {"first_name": "Lou"}, format="json")
    assert response.status_code == 400
    assert response.json()["last_name"] == ["Ce champ est obligatoire."]
    response = client.post(LIST, {**NEW_PERSON, "rsa": False}, format="json")
    assert response.status_code == 400
    assert "RSA" in response.json()["rsa"][0]
    assert not Person.objects.filter(last_name="Bernard").exists()


def test_coordinator_cannot_create(net, api_for):
    coordinator = make_professional(role=Membership.Role.COORDINATOR, structure=net.struct_a)
    response = api_for(coordinator).post(LIST, NEW_PERSON, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Votre rôle ne permet pas de créer une personne."


def test_patch_updates_through_the_service(net, api_for):
    response = api_for(net.member).patch(detail(net.person.pk), {"phone": "0601020304"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["contact"]["phone"] == "0601020304"
    net.person.refresh_from_db()
    assert net.person.phone == "0601020304" and net.person.last_name == "Dupont"
    event = TimelineEvent.objects.get(person=net.person, kind="updated")
    assert "téléphone" in event.title and event.actor == net.member
    assert AccessLog.objects.get().reason == "modification"


def test_patch_validation_and_refusals(net, api_for):
    bad = api_for(net.referent).patch(detail(net.person.pk), {"rsa": False}, format="json")
    assert bad.status_code == 400  # rights opened while not RSA: refused, nothing lost
    net.person.refresh_from_db()
    assert net.person.rsa is True
    # The structure admin sees the record but does not edit it.
    assert api_for(net.admin_a).patch(detail(net.person.pk), {"phone": "01"}, format="json").status_code == 403
    assert api_for(net.outsider).patch(detail(net.person.pk), {"phone": "01"}, format="json").status_code == 403
    assert api_for(net.foreigner).patch(detail(net.person.pk), {"phone": "01"}, format="json").status_code == 404
    assert api_for(net.referent).put(detail(net.person.pk), NEW_PERSON, format="json").status_code == 405
    net.person.refresh_from_db()
    assert net.person.phone == ""


# --- Active membership -----------------------------------------------------------------------


def test_user_without_active_membership_is_refused(net, api_for):
    user = make_professional(structure=net.struct_a)
    user.memberships.update(is_active=False)
    response = api_for(user).get(LIST)
    assert response.status_code == 403
    assert response.json()["detail"] == "Aucun rattachement actif à une structure."


def test_structure_header_picks_the_membership(net, api_for):
    from tests.api.conftest import second_membership

    # The référent also works in the Gers, where they follow the Gers person.
    gers_membership = second_membership(net.referent, net.struct_d)
    add_to_group(net.gers_person, net.referent)  # first membership's structure: fix it below
    FollowUpMembership.objects.filter(person=net.gers_person, user=net.referent).update(structure=net.struct_d)

    default = api_for(net.referent)
    assert default.get(detail(net.gers_person.pk)).status_code == 404  # acting for Haute-Garonne

    gers = api_for(net.referent, HTTP_X_SPIE_STRUCTURE=str(net.struct_d.pk))
    assert gers.get(detail(net.gers_person.pk)).status_code == 200
    assert gers.get(detail(net.person.pk)).status_code == 404
    assert AccessLog.objects.get().structure_id == gers_membership.structure_id

    for bad in (str(net.struct_c.pk), "abc"):
        response = api_for(net.referent, HTTP_X_SPIE_STRUCTURE=bad).get(LIST)
        assert response.status_code == 403
        assert "X-SPIE-Structure" in response.json()["detail"]


def test_session_client_with_second_factor_works(net, client_for):
    response = client_for(net.referent).get(LIST)
    assert response.status_code == 200
    assert response.json()["count"] == 1
