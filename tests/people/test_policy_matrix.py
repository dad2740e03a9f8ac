"""Need-to-know matrix (DESIGN.md §5): relation × section × action, at the policy level and
through the pages. Every cell asserts an allow or a deny.

Relations (the person is followed by ``referent`` of structure REF, ``member`` and
``member_health`` of structure MEM, and ``colleague`` of structure REF):

- referent: référent unique;
- member / member_health: group members of another structure, without / with health access;
- colleague: group member of the référent's own structure;
- admin_related: structure admin of MEM (a structure with a member in the group);
- admin_referent: structure admin of REF (the référent's structure);
- admin_unrelated: structure admin of a structure with nobody in the group;
- orientation: chargé d'orientation of the territory;
- coordinator: SPIE coordinator;
- outsider: référent of an unrelated structure of the same territory;
- other_territory: professional of another territory (Gers, 32).

Scenario "opposed": the person opposed sharing; only the référent's structure keeps the record.
"""

import datetime

import pytest
from django.urls import reverse

from spie.network.models import Membership, Structure
from spie.people import policies
from spie.people.models import Consent, FollowUpMembership
from tests.conftest import login_client
from tests.network.factories import StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import HealthInfoFactory, PersonFactory, add_to_group

C, R, T, H, L = policies.CARD, policies.RECORD, policies.TIMELINE, policies.HEALTH, policies.ACCESS_LOG

NIR = "285043155512314"
PHONE = "0611223344"
ADDRESS = "12 rue des Lilas Secrètes"
EMAIL = "albane.ferrandou@example.org"
CAF = "CAF778899"
RESTRICTION = "Pas de port de charges lourdes ni de travail de nuit"
HEALTH_NOTES = "Suivi cardiologique trimestriel"


def make_world(*, opposed=False):
    """The person, her group and one user per relation."""
    territory = TerritoryFactory()
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    ref_structure = StructureFactory(territory=territory, name="Association Cap Avenir")
    mem_structure = StructureFactory(territory=territory, name="Agence France Travail Mirail",
                                     kind=Structure.Kind.FRANCE_TRAVAIL)
    unrelated = StructureFactory(territory=territory, name="CCAS Blagnac", kind=Structure.Kind.CCAS)
    departement = StructureFactory(territory=territory, name="Conseil départemental", kind=Structure.Kind.DEPARTEMENT)
    gers_structure = StructureFactory(territory=gers, name="Mission locale Auch", kind=Structure.Kind.MISSION_LOCALE)

    users = {
        "referent": make_professional(structure=ref_structure),
        "member": make_professional(structure=mem_structure),
        "member_health": make_professional(structure=mem_structure),
        "colleague": make_professional(structure=ref_structure),
        "admin_related": make_professional(Membership.Role.ADMIN, structure=mem_structure),
        "admin_referent": make_professional(Membership.Role.ADMIN, structure=ref_structure),
        "admin_unrelated": make_professional(Membership.Role.ADMIN, structure=unrelated),
        "orientation": make_professional(Membership.Role.ORIENTATION, structure=departement),
        "coordinator": make_professional(Membership.Role.COORDINATOR, structure=departement),
        "outsider": make_professional(structure=unrelated),
        "other_territory": make_professional(structure=gers_structure),
    }
    person = PersonFactory(
        territory=territory, first_name="Albane", last_name="Ferrandou", birth_date=datetime.date(1985, 4, 12),
        nir=NIR, phone=PHONE, address=ADDRESS, email=EMAIL, caf_number=CAF,
    )
    HealthInfoFactory(person=person, work_restrictions=RESTRICTION, notes=HEALTH_NOTES)
    add_to_group(person, users["referent"], FollowUpMembership.Kind.REFERENT)
    add_to_group(person, users["member"])
    add_to_group(person, users["member_health"], can_see_health=True)
    add_to_group(person, users["colleague"])
    if opposed:
        Consent.objects.create(person=person, scope=Consent.Scope.SHARING, status=Consent.Status.OPPOSED)
    return person, users, ref_structure


P = policies.PATHWAY
ALL = {C, R, T, H, L, P}
MEMBER_SECTIONS = {C, R, T, P}
ADMIN_SECTIONS = {C, R, T, L, P}

# (relation, sections, can_edit, can_manage_group, can_ask_to_join) — written out, not derived.
EXPECTED = {
    "open": {
        "referent": (policies.REFERENT, ALL, True, True, False),
        "member": (policies.MEMBER, MEMBER_SECTIONS, True, False, False),
        "member_health": (policies.MEMBER, MEMBER_SECTIONS | {H}, True, False, False),
        "colleague": (policies.MEMBER, MEMBER_SECTIONS, True, False, False),
        "admin_related": (policies.STRUCTURE_ADMIN, ADMIN_SECTIONS, False, True, False),
        "admin_referent": (policies.STRUCTURE_ADMIN, ADMIN_SECTIONS, False, True, False),
        "admin_unrelated": (policies.OUTSIDER, {C}, False, False, True),
        "orientation": (policies.ORIENTATION, MEMBER_SECTIONS, True, False, False),
        "coordinator": (policies.COORDINATOR, {C}, False, False, False),
        "outsider": (policies.OUTSIDER, {C}, False, False, True),
        "other_territory": (policies.NONE, set(), False, False, False),
    },
    "opposed": {
        "referent": (policies.REFERENT, ALL, True, True, False),
        # Members of another structure than the référent's lose the record (card only) and,
        # being in the group already, cannot ask to join it.
        "member": (policies.OUTSIDER, {C}, False, False, False),
        "member_health": (policies.OUTSIDER, {C}, False, False, False),
        # A member of the référent's structure keeps it.
        "colleague": (policies.MEMBER, MEMBER_SECTIONS, True, False, False),
        "admin_related": (policies.OUTSIDER, {C}, False, False, True),
        "admin_referent": (policies.STRUCTURE_ADMIN, ADMIN_SECTIONS, False, True, False),
        "admin_unrelated": (policies.OUTSIDER, {C}, False, False, True),
        # The chargé d'orientation keeps only the orientation and contract (their duty).
        "orientation": (policies.ORIENTATION, {C, P}, False, False, False),
        "coordinator": (policies.COORDINATOR, {C}, False, False, False),
        "outsider": (policies.OUTSIDER, {C}, False, False, True),
        "other_territory": (policies.NONE, set(), False, False, False),
    },
}

CASES = [(scenario, who) for scenario, table in EXPECTED.items() for who in table]


def _membership(user):
    return user.active_memberships().get()


@pytest.mark.django_db
@pytest.mark.parametrize(("scenario", "who"), CASES)
def test_access_for(scenario, who):
    person, users, _ = make_world(opposed=scenario == "opposed")
    relation, sections, can_edit, can_manage, can_join = EXPECTED[scenario][who]
    access = policies.access_for(users[who], _membership(users[who]), person)

    assert access.relation == relation
    for section in policies.SECTIONS:
        assert access.can_see(section) is (section in sections), section
    assert access.can_open_record is (R in sections)
    assert access.can_see_health is (H in sections)
    assert access.can_see_access_log is (L in sections)
    assert access.can_edit is can_edit
    assert access.can_manage_group is can_manage
    assert access.can_ask_to_join is can_join
    assert access.opposed is (scenario == "opposed" and relation != policies.NONE)


@pytest.mark.django_db
@pytest.mark.parametrize(("scenario", "who"), CASES)
def test_access_for_with_prefetched_data_gives_the_same_answer(scenario, who):
    """The pages pass followups/consents already fetched: the decision must not change."""
    from spie.people.selectors import person_for_record

    person, users, _ = make_world(opposed=scenario == "opposed")
    loaded = person_for_record(person.pk)
    user = users[who]
    fresh = policies.access_for(user, _membership(user), person)
    prefetched = policies.access_for(
        user, _membership(user), loaded, followups=loaded.active_followups, consents=loaded.all_consents
    )
    assert prefetched == fresh


@pytest.mark.django_db
def test_no_membership_or_anonymous_gets_nothing():
    from django.contrib.auth.models import AnonymousUser

    person, users, _ = make_world()
    assert policies.access_for(AnonymousUser(), None, person).relation == policies.NONE
    assert policies.access_for(users["referent"], None, person).sections == frozenset()


@pytest.mark.django_db
def test_ended_followup_gives_no_access():
    person, users, _ = make_world()
    followup = FollowUpMembership.objects.get(person=person, user=users["member"])
    followup.end_date = datetime.date(2026, 1, 1)
    followup.save()
    access = policies.access_for(users["member"], _membership(users["member"]), person)
    assert access.relation == policies.OUTSIDER
    assert access.sections == frozenset({C})


@pytest.mark.django_db
def test_withdrawing_the_opposition_restores_access():
    person, users, _ = make_world(opposed=True)
    member = users["member"]
    assert not policies.access_for(member, _membership(member), person).can_open_record
    # A later consent (same day, higher id) supersedes the opposition.
    Consent.objects.create(person=person, scope=Consent.Scope.SHARING, status=Consent.Status.GIVEN)
    assert policies.access_for(member, _membership(member), person).can_open_record


@pytest.mark.django_db
def test_opposition_on_another_scope_does_not_restrict_sharing():
    person, users, _ = make_world()
    Consent.objects.create(person=person, scope=Consent.Scope.RESEARCH, status=Consent.Status.OPPOSED)
    member = users["member"]
    assert policies.access_for(member, _membership(member), person).can_open_record


# ---------------------------------------------------------------------------------------------
# Through the pages.

PAGES = ["record", "health", "access_log", "timeline", "edit", "group", "consents"]


def expected_status(page, sections, can_edit, can_manage):
    if not sections:
        return 404
    allowed = {
        "record": True,  # the record, or the card for card-only relations
        "health": H in sections,
        "access_log": L in sections,
        "timeline": T in sections,
        "edit": can_edit,
        "group": can_manage,
        "consents": can_edit,
    }[page]
    return 200 if allowed else 403


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("scenario", "who"), CASES)
def test_pages(scenario, who, page):
    person, users, ref_structure = make_world(opposed=scenario == "opposed")
    _relation, sections, can_edit, can_manage, can_join = EXPECTED[scenario][who]
    response = login_client(users[who]).get(reverse(f"people:{page}", args=[person.pk]))

    assert response.status_code == expected_status(page, sections, can_edit, can_manage)
    html = response.content.decode()
    # Health data never reaches a user without the health section, whatever the page.
    if H not in sections:
        assert RESTRICTION not in html
        assert HEALTH_NOTES not in html
    # Identity details never reach a user without the record.
    if R not in sections:
        for secret in (NIR, PHONE, ADDRESS, EMAIL, CAF, "12/04/1985"):
            assert secret not in html, secret
    if response.status_code != 200:
        return
    if page == "record":
        if R in sections:
            assert "Identité et contact" in html
            assert NIR in html and PHONE in html and ADDRESS in html
            assert ("Qui a consulté ce dossier" in html) is (L in sections)
            assert (reverse("people:health", args=[person.pk]) in html) is (H in sections)
            assert (reverse("people:group", args=[person.pk]) in html) is can_manage
            assert (reverse("people:edit", args=[person.pk]) in html) is can_edit
        else:
            assert "Fiche annuaire" in html
            assert "Albane" in html and "FERRANDOU" in html
            assert "1985" in html
            assert "Toulouse" in html
            assert ref_structure.name in html
            assert ("Demander à rejoindre" in html) is can_join
    if page == "health":
        assert RESTRICTION in html


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["outsider", "admin_unrelated", "coordinator"])
def test_card_is_minimal(who):
    person, users, ref_structure = make_world()
    response = login_client(users[who]).get(reverse("people:record", args=[person.pk]))
    assert response.status_code == 200
    assert response.templates[0].name == "people/card.html"
    html = response.content.decode()
    assert "Albane FERRANDOU" in html
    assert "<dd>1985</dd>" in html
    assert "<dd>Toulouse</dd>" in html
    assert f"<dd>{ref_structure.name}</dd>" in html
    for secret in (NIR, PHONE, ADDRESS, EMAIL, CAF, "12/04/1985", RESTRICTION, HEALTH_NOTES, "RSA"):
        assert secret not in html, secret
    # Nothing about the group members either.
    for member in ("referent", "member", "member_health"):
        assert users[member].email not in html


@pytest.mark.django_db
def test_health_grant_through_group_page_opens_health_page():
    """Granting health to a member (by the référent) is what opens the health section."""
    person, users, _ = make_world()
    member = users["member"]
    client = login_client(member)
    assert client.get(reverse("people:health", args=[person.pk])).status_code == 403
    followup = FollowUpMembership.objects.get(person=person, user=member, end_date__isnull=True)
    response = login_client(users["referent"]).post(
        reverse("people:group", args=[person.pk]), {"action": "grant_health", "followup": followup.pk}
    )
    assert response.status_code == 302
    response = client.get(reverse("people:health", args=[person.pk]))
    assert response.status_code == 200
    assert RESTRICTION in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_unknown_person_is_404(page):
    _person, users, _ = make_world()
    response = login_client(users["referent"]).get(reverse(f"people:{page}", args=[999_999]))
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(page):
    person, _users, _ = make_world()
    from django.test import Client

    response = Client().get(reverse(f"people:{page}", args=[person.pk]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_professional_without_second_factor_is_stopped(page):
    person, users, _ = make_world()
    response = login_client(users["referent"], verified=False).get(reverse(f"people:{page}", args=[person.pk]))
    assert response.status_code == 302
    assert reverse("accounts:two_factor") in response["Location"]


@pytest.mark.django_db
def test_structure_admin_who_is_also_a_member_keeps_admin_rights():
    person, users, _ = make_world()
    admin = users["admin_related"]
    add_to_group(person, admin)
    access = policies.access_for(admin, _membership(admin), person)
    assert access.can_open_record and access.can_edit
    assert access.can_manage_group
    assert access.can_see_access_log


@pytest.mark.django_db
def test_withdrawn_sharing_consent_restricts_like_an_opposition():
    person, users, _ = make_world()
    Consent.objects.create(person=person, scope=Consent.Scope.SHARING, status=Consent.Status.GIVEN,
                           given_on=datetime.date(2026, 1, 5))
    Consent.objects.create(person=person, scope=Consent.Scope.SHARING, status=Consent.Status.WITHDRAWN,
                           given_on=datetime.date(2026, 6, 1), withdrawn_on=datetime.date(2026, 6, 1))
    member = users["member"]
    assert not policies.access_for(member, _membership(member), person).can_open_record
    colleague = users["colleague"]
    assert policies.access_for(colleague, _membership(colleague), person).can_open_record
