"""Every read of a person's record through a page writes exactly one access-log row."""

import pytest
from django.urls import reverse

from spie.core.models import AccessLog
from spie.network.models import Membership, Structure
from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.network.factories import MembershipFactory, StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import HealthInfoFactory, PersonFactory, add_to_group


@pytest.fixture
def world(db):
    territory = TerritoryFactory()
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    ref_structure = StructureFactory(territory=territory, name="Association Passerelle")
    referent = make_professional(structure=ref_structure, first_name="Rémi", last_name="Référent")
    member = make_professional(structure=StructureFactory(territory=territory, name="Mission locale Nord"),
                               first_name="Mona", last_name="Membre")
    outsider = make_professional(structure=StructureFactory(territory=territory, name="CCAS Muret"))
    faraway = make_professional(structure=StructureFactory(territory=gers, kind=Structure.Kind.PLIE))
    person = PersonFactory(territory=territory, nir="285043155512314")
    HealthInfoFactory(person=person)
    add_to_group(person, referent, FollowUpMembership.Kind.REFERENT)
    add_to_group(person, member)
    return {"person": person, "referent": referent, "member": member, "outsider": outsider,
            "faraway": faraway, "ref_structure": ref_structure}


@pytest.mark.parametrize(
    ("who", "page", "section"),
    [
        ("referent", "record", AccessLog.Section.RECORD),
        ("member", "record", AccessLog.Section.RECORD),
        ("outsider", "record", AccessLog.Section.CARD),
        ("referent", "health", AccessLog.Section.HEALTH),
        ("referent", "access_log", AccessLog.Section.ACCESS_LOG),
        ("referent", "timeline", AccessLog.Section.TIMELINE),
        ("member", "timeline", AccessLog.Section.TIMELINE),
    ],
)
def test_each_read_writes_one_row(world, who, page, section):
    user, person = world[who], world["person"]
    before = AccessLog.objects.count()
    url = reverse(f"people:{page}", args=[person.pk])
    response = login_client(user).get(url)
    assert response.status_code == 200
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.order_by("-id").first()
    assert row.section == section
    assert row.user == user
    assert row.person == person
    assert row.structure == user.memberships.get().structure
    assert row.channel == AccessLog.Channel.PAGE
    assert row.path == url


@pytest.mark.parametrize(
    ("who", "page", "status"),
    [
        ("member", "health", 403),
        ("member", "access_log", 403),
        ("outsider", "health", 403),
        ("outsider", "timeline", 403),
        ("outsider", "access_log", 403),
        ("outsider", "edit", 403),
        ("outsider", "group", 403),
        ("faraway", "record", 404),
        ("faraway", "health", 404),
        ("faraway", "timeline", 404),
    ],
)
def test_denied_requests_write_nothing(world, who, page, status):
    response = login_client(world[who]).get(reverse(f"people:{page}", args=[world["person"].pk]))
    assert response.status_code == status
    assert not AccessLog.objects.exists()


def test_unknown_person_writes_nothing(world):
    response = login_client(world["referent"]).get(reverse("people:record", args=[987_654]))
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_rows_hold_no_personal_data(world):
    person = world["person"]
    client = login_client(world["referent"])
    for page in ("record", "health", "timeline", "access_log"):
        client.get(reverse(f"people:{page}", args=[person.pk]))
    for row in AccessLog.objects.all():
        text = f"{row.reason} {row.path}"
        assert person.nir not in text
        assert person.last_name not in text
        assert "charges" not in text


def test_referent_sees_their_own_visit_on_the_record_page(world):
    person, referent = world["person"], world["referent"]
    response = login_client(referent).get(reverse("people:record", args=[person.pk]))
    html = response.content.decode()
    section = html.split("Qui a consulté ce dossier", 1)[1].split("</section>", 1)[0]
    assert "Rémi Référent" in section
    assert "Association Passerelle" in section
    assert "Dossier (identité, situation, droits, suivi)" in section
    assert response.context["access_log"][0] == AccessLog.objects.get()


def test_referent_sees_who_else_read_the_record(world):
    person = world["person"]
    login_client(world["member"]).get(reverse("people:record", args=[person.pk]))
    login_client(world["outsider"]).get(reverse("people:record", args=[person.pk]))
    response = login_client(world["referent"]).get(reverse("people:access_log", args=[person.pk]))
    html = response.content.decode()
    assert "Mona Membre" in html
    assert "Mission locale Nord" in html
    assert "Fiche annuaire" in html  # the outsider's card read
    assert "CCAS Muret" in html
    assert [row.section for row in response.context["page"].object_list] == [
        AccessLog.Section.ACCESS_LOG, AccessLog.Section.CARD, AccessLog.Section.RECORD,
    ]


def test_member_without_access_log_section_does_not_see_the_log(world):
    response = login_client(world["member"]).get(reverse("people:record", args=[world["person"].pk]))
    assert "Qui a consulté ce dossier" not in response.content.decode()
    assert response.context["access_log"] == []


def test_structure_is_the_active_membership(world):
    """A professional working for two structures is logged under the one they act for."""
    person, referent = world["person"], world["referent"]
    second = MembershipFactory(
        user=referent, structure=StructureFactory(territory=person.territory, name="Deuxième employeur"),
        role=Membership.Role.REFERENT,
    )
    client = login_client(referent)
    session = client.session
    session["active_membership_id"] = second.pk
    session.save()
    assert client.get(reverse("people:record", args=[person.pk])).status_code == 200
    assert AccessLog.objects.get().structure == second.structure


def test_card_read_then_join_does_not_log_a_record_read(world):
    person, outsider = world["person"], world["outsider"]
    client = login_client(outsider)
    client.get(reverse("people:record", args=[person.pk]))
    client.post(reverse("people:join", args=[person.pk]), {"reason": "Je l'accompagne en atelier"})
    assert list(AccessLog.objects.values_list("section", flat=True)) == [AccessLog.Section.CARD]
