"""Changing the id in a person URL never reveals or changes another person's data.

``mine`` is followed by the logged-in référent; ``theirs`` is followed by someone else in the
same territory; ``faraway`` lives in another territory.
"""

import datetime

import pytest
from django.urls import reverse

from spie.core.models import AccessLog
from spie.network.models import Structure
from spie.people.models import Consent, FollowUpMembership, HealthInfo, JoinRequest, Person, TimelineEvent
from tests.conftest import login_client
from tests.network.factories import StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import HealthInfoFactory, PersonFactory, add_to_group

THEIR_NIR = "285043155512314"
THEIR_PHONE = "0799887766"
THEIR_ADDRESS = "4 impasse des Secrets"
THEIR_RESTRICTION = "Station debout prolongée contre-indiquée"
THEIR_EVENT = "Entretien confidentiel avec la CAF"


@pytest.fixture
def world(db):
    territory = TerritoryFactory()
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    me = make_professional(structure=StructureFactory(territory=territory))
    other = make_professional(structure=StructureFactory(territory=territory, name="PLIE Sud"))
    gers_pro = make_professional(structure=StructureFactory(territory=gers, kind=Structure.Kind.PLIE))

    mine = PersonFactory(territory=territory, first_name="Maëlle", last_name="Mienne")
    add_to_group(mine, me, FollowUpMembership.Kind.REFERENT)

    theirs = PersonFactory(
        territory=territory, first_name="Tiphaine", last_name="Leurs", nir=THEIR_NIR, phone=THEIR_PHONE,
        address=THEIR_ADDRESS, birth_date=datetime.date(1979, 3, 21),
    )
    add_to_group(theirs, other, FollowUpMembership.Kind.REFERENT)
    HealthInfoFactory(person=theirs, work_restrictions=THEIR_RESTRICTION)
    TimelineEvent.objects.create(person=theirs, kind="note", title=THEIR_EVENT)

    faraway = PersonFactory(territory=gers, first_name="Fanny", last_name="Lointaine", nir="", phone="0600000001")
    add_to_group(faraway, gers_pro, FollowUpMembership.Kind.REFERENT)
    return {"me": me, "other": other, "mine": mine, "theirs": theirs, "faraway": faraway, "gers_pro": gers_pro}


SECRETS = [THEIR_NIR, THEIR_PHONE, THEIR_ADDRESS, THEIR_RESTRICTION, THEIR_EVENT, "21/03/1979"]


def assert_nothing_leaks(response):
    html = response.content.decode()
    for secret in SECRETS:
        assert secret not in html, secret


@pytest.mark.parametrize("page", ["edit", "health", "access_log", "timeline", "group", "consents"])
def test_get_sections_of_a_person_not_followed_is_refused(world, page):
    client = login_client(world["me"])
    assert client.get(reverse(f"people:{page}", args=[world["mine"].pk])).status_code == 200
    response = client.get(reverse(f"people:{page}", args=[world["theirs"].pk]))
    assert response.status_code == 403
    assert_nothing_leaks(response)


@pytest.mark.parametrize("page", ["record", "edit", "health", "access_log", "timeline", "group", "consents"])
def test_person_of_another_territory_is_404(world, page):
    client = login_client(world["me"])
    response = client.get(reverse(f"people:{page}", args=[world["faraway"].pk]))
    assert response.status_code == 404
    assert "Lointaine" not in response.content.decode()


def test_record_of_a_person_not_followed_is_the_card_only(world):
    response = login_client(world["me"]).get(reverse("people:record", args=[world["theirs"].pk]))
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "people/card.html"
    assert "Tiphaine" in response.content.decode()
    assert_nothing_leaks(response)


def test_join_for_another_territory_is_404_and_creates_nothing(world):
    response = login_client(world["me"]).post(
        reverse("people:join", args=[world["faraway"].pk]), {"reason": "Je la connais"}
    )
    assert response.status_code == 404
    assert not JoinRequest.objects.exists()


def test_join_by_someone_already_in_the_group_is_refused(world):
    response = login_client(world["me"]).post(
        reverse("people:join", args=[world["mine"].pk]), {"reason": "Encore"}
    )
    assert response.status_code == 403
    assert not JoinRequest.objects.exists()


def test_post_edit_on_a_person_not_followed_changes_nothing(world):
    theirs = world["theirs"]
    response = login_client(world["me"]).post(
        reverse("people:edit", args=[theirs.pk]),
        {"first_name": "Pirate", "last_name": "Leurs", "birth_date": "1979-03-21", "sex": "F",
         "driving_licence": "none"},
    )
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.first_name == "Tiphaine"


def test_post_health_on_a_person_not_followed_changes_nothing(world):
    theirs = world["theirs"]
    response = login_client(world["me"]).post(
        reverse("people:health", args=[theirs.pk]), {"rqth": "", "work_restrictions": "écrasé", "notes": ""}
    )
    assert response.status_code == 403
    assert HealthInfo.objects.get(person=theirs).work_restrictions == THEIR_RESTRICTION


def test_post_consent_on_a_person_not_followed_creates_nothing(world):
    theirs = world["theirs"]
    response = login_client(world["me"]).post(
        reverse("people:consents", args=[theirs.pk]),
        {"scope": "sharing", "status": "opposed", "channel": "in_person", "given_on": "2026-11-01"},
    )
    assert response.status_code == 403
    assert not Consent.objects.filter(person=theirs).exists()


def test_post_group_on_a_person_not_followed_changes_nothing(world):
    theirs = world["theirs"]
    response = login_client(world["me"]).post(
        reverse("people:group", args=[theirs.pk]), {"action": "add", "email": world["me"].email, "reason": "x"}
    )
    assert response.status_code == 403
    assert not FollowUpMembership.objects.filter(person=theirs, user=world["me"]).exists()


@pytest.mark.parametrize("action", ["remove", "grant_health", "revoke_health", "referent"])
def test_group_action_with_a_followup_of_another_person_is_404(world, action):
    """The référent of ``mine`` posts a follow-up id belonging to ``theirs`` group."""
    theirs = world["theirs"]
    intruder = make_professional(structure=world["other"].memberships.get().structure)
    foreign = add_to_group(theirs, intruder)
    response = login_client(world["me"]).post(
        reverse("people:group", args=[world["mine"].pk]),
        {"action": action, "followup": foreign.pk, "reason": "détournement"},
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.end_date is None
    assert foreign.can_see_health is False
    assert foreign.kind == FollowUpMembership.Kind.MEMBER


def test_join_decide_with_a_join_request_of_another_person_is_404(world):
    """The référent of ``mine`` uses their own person's URL with a join id of ``theirs``."""
    requester = make_professional(structure=StructureFactory(territory=world["mine"].territory))
    foreign = JoinRequest.objects.create(
        person=world["theirs"], requester=requester, structure=requester.memberships.get().structure,
        reason="Je l'accompagne",
    )
    response = login_client(world["me"]).post(
        reverse("people:join_decide", args=[world["mine"].pk, foreign.pk]), {"decision": "accept"}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == JoinRequest.Status.PENDING
    assert not FollowUpMembership.objects.filter(person=world["theirs"], user=requester).exists()


def test_join_decide_on_a_person_not_followed_is_403(world):
    """Using the right person id does not help someone who does not manage that group."""
    requester = make_professional(structure=StructureFactory(territory=world["mine"].territory))
    foreign = JoinRequest.objects.create(
        person=world["theirs"], requester=requester, structure=requester.memberships.get().structure,
        reason="Je l'accompagne",
    )
    response = login_client(world["me"]).post(
        reverse("people:join_decide", args=[world["theirs"].pk, foreign.pk]), {"decision": "accept"}
    )
    assert response.status_code == 403
    foreign.refresh_from_db()
    assert foreign.status == JoinRequest.Status.PENDING


def test_join_decide_for_another_territory_is_404(world):
    requester = make_professional(structure=StructureFactory(territory=world["faraway"].territory))
    foreign = JoinRequest.objects.create(
        person=world["faraway"], requester=requester, structure=requester.memberships.get().structure,
        reason="x",
    )
    response = login_client(world["me"]).post(
        reverse("people:join_decide", args=[world["faraway"].pk, foreign.pk]), {"decision": "accept"}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == JoinRequest.Status.PENDING


def test_sweeping_ids_reveals_only_cards(world):
    """Walking every person id: the record only for the followed person, the card otherwise."""
    client = login_client(world["me"])
    for person in Person.objects.all():
        response = client.get(reverse("people:record", args=[person.pk]))
        if person == world["mine"]:
            assert "Identité et contact" in response.content.decode()
        elif person.territory_id == world["mine"].territory_id:
            assert response.status_code == 200
            assert "Fiche annuaire" in response.content.decode()
            assert_nothing_leaks(response)
        else:
            assert response.status_code == 404
    # Card reads of persons not followed are logged as cards, never as records.
    assert set(
        AccessLog.objects.filter(user=world["me"]).exclude(person=world["mine"]).values_list("section", flat=True)
    ) == {AccessLog.Section.CARD}
