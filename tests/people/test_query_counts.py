"""The number of SQL queries of the main pages does not grow with the data shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spie.core.models import AccessLog
from spie.network.models import Membership, Structure
from spie.people.models import Consent, FollowUpMembership, JoinRequest, TimelineEvent
from tests.conftest import login_client
from tests.network.factories import MembershipFactory, StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import HealthInfoFactory, PersonFactory, add_to_group


def count_queries(client, url, data=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.fixture
def world(db):
    territory = TerritoryFactory()
    structures = [StructureFactory(territory=territory) for _ in range(4)]
    referent = make_professional(structure=structures[0])
    colleagues = [make_professional(structure=structures[i % 4]) for i in range(30)]
    return {"territory": territory, "structures": structures, "referent": referent, "colleagues": colleagues}


def add_persons(world, start, count):
    """``count`` persons named Martin…, half followed by the référent, with groups and consents."""
    referent, colleagues = world["referent"], world["colleagues"]
    for i in range(start, start + count):
        person = PersonFactory(territory=world["territory"], last_name=f"Martin{i:03d}",
                               young=i % 3 == 0, senior=i % 3 == 1, parent_of_toddler=i % 4 == 0)
        owner = colleagues[i % len(colleagues)]
        if i % 2 == 0:
            add_to_group(person, referent, FollowUpMembership.Kind.REFERENT)
            add_to_group(person, owner)
        else:
            add_to_group(person, owner, FollowUpMembership.Kind.REFERENT)
            add_to_group(person, referent)
        add_to_group(person, colleagues[(i + 1) % len(colleagues)])
        Consent.objects.create(person=person, scope=Consent.Scope.SHARING)
        if i % 5 == 0:
            requester = colleagues[(i + 7) % len(colleagues)]
            JoinRequest.objects.create(person=person, requester=requester,
                                       structure=requester.memberships.get().structure, reason="Suivi")


def test_home_query_count_is_constant(world):
    client = login_client(world["referent"])
    add_persons(world, 0, 4)
    client.get(reverse("people:home"))  # warm-up (content types, session)
    small, response = count_queries(client, reverse("people:home"))
    assert response.context["counts"]["total"] == 4
    filters = ({"public": "moins26"}, {"q": "mart"}, {"page": 2})
    small_filtered = [count_queries(client, reverse("people:home"), params)[0] for params in filters]
    add_persons(world, 4, 56)
    large, response = count_queries(client, reverse("people:home"))
    assert response.context["counts"]["total"] == 60
    assert len(response.context["page"].object_list) == 25
    assert large == small
    large_filtered = [count_queries(client, reverse("people:home"), params)[0] for params in filters]
    assert large_filtered == small_filtered


def test_search_query_count_is_constant(world):
    client = login_client(world["referent"])
    add_persons(world, 0, 3)
    client.get(reverse("people:search"), {"q": "mart"})
    small, response = count_queries(client, reverse("people:search"), {"q": "mart"})
    assert len(response.context["results"]) == 3
    add_persons(world, 3, 57)
    # Persons not followed, with an opposition, in the results too.
    for person in response.context["results"][:1]:
        Consent.objects.create(person=person.person, scope=Consent.Scope.SHARING, status=Consent.Status.OPPOSED)
    large, response = count_queries(client, reverse("people:search"), {"q": "mart"})
    assert len(response.context["results"]) == 50
    assert {r.access.can_open_record for r in response.context["results"]} == {True, False}
    assert large == small


def test_record_query_count_is_constant(world):
    referent, colleagues = world["referent"], world["colleagues"]
    person = PersonFactory(territory=world["territory"], last_name="Suivie")
    HealthInfoFactory(person=person)
    add_to_group(person, referent, FollowUpMembership.Kind.REFERENT)
    add_to_group(person, colleagues[0])
    Consent.objects.create(person=person, scope=Consent.Scope.SHARING)
    TimelineEvent.objects.create(person=person, kind="note", title="Premier entretien", actor=colleagues[0],
                                 structure=world["structures"][1])
    JoinRequest.objects.create(person=person, requester=colleagues[1],
                               structure=colleagues[1].memberships.get().structure, reason="Suivi")
    client = login_client(referent)
    url = reverse("people:record", args=[person.pk])
    client.get(url)
    small, response = count_queries(client, url)

    for colleague in colleagues[2:25]:
        add_to_group(person, colleague, can_see_health=colleague.pk % 2 == 0)
    for i in range(15):
        Consent.objects.create(person=person, scope=list(Consent.Scope)[i % 4], recorded_by=colleagues[i])
    for i in range(40):
        TimelineEvent.objects.create(person=person, kind="note", title=f"Entretien {i}", actor=colleagues[i % 30],
                                     structure=world["structures"][i % 4])
    for colleague in colleagues[25:30]:
        JoinRequest.objects.create(person=person, requester=colleague,
                                   structure=colleague.memberships.get().structure, reason="Suivi")
    for colleague in colleagues[:30]:
        AccessLog.objects.create(user=colleague, person=person, structure=colleague.memberships.get().structure,
                                 section=AccessLog.Section.RECORD)

    large, response = count_queries(client, url)
    assert len(response.context["followups"]) == 25
    assert len(response.context["join_requests"]) == 6
    assert len(response.context["timeline"]) == 20
    assert large == small


@pytest.mark.parametrize("page", ["timeline", "access_log", "group"])
def test_record_subpages_query_count_is_constant(world, page):
    referent, colleagues = world["referent"], world["colleagues"]
    person = PersonFactory(territory=world["territory"])
    add_to_group(person, referent, FollowUpMembership.Kind.REFERENT)

    def grow(members):
        for i, colleague in enumerate(members):
            row = add_to_group(person, colleague)
            if i % 2:
                row.end_date = row.start_date
                row.end_reason = "Fin"
                row.save()
            TimelineEvent.objects.create(person=person, kind=f"note{i % 3}", title=f"Note {i}", actor=colleague,
                                         structure=world["structures"][i % 4])
            AccessLog.objects.create(user=colleague, person=person, structure=world["structures"][i % 4],
                                     section=AccessLog.Section.TIMELINE)

    grow(colleagues[:2])
    client = login_client(referent)
    url = reverse(f"people:{page}", args=[person.pk])
    client.get(url)
    small, _ = count_queries(client, url)
    grow(colleagues[2:])
    large, _ = count_queries(client, url)
    assert large == small


# ---------------------------------------------------------------------------------------------
# Network pages.


def add_members(territory, structure, count, start=0):
    for i in range(start, start + count):
        MembershipFactory(
            structure=structure, role=list(Membership.Role)[i % 3], job_title=f"Conseiller {i}",
            publics=["jeunes"], themes=["mobilite"],
        )
    for _ in range(count // 5):
        StructureFactory(territory=territory, kind=Structure.Kind.CCAS)


def test_directory_query_count_is_constant(world):
    client = login_client(world["referent"])
    url = reverse("network:directory")
    client.get(url)
    small, response = count_queries(client, url)
    before = response.context["page"].paginator.count
    add_members(world["territory"], world["structures"][1], 50)
    large, response = count_queries(client, url)
    assert response.context["page"].paginator.count == before + 50
    assert len(response.context["page"].object_list) == 30
    assert large == small
    filtered_small, _ = count_queries(client, url, {"theme": "mobilite", "q": "conseiller"})
    add_members(world["territory"], world["structures"][2], 20, start=50)
    filtered_large, _ = count_queries(client, url, {"theme": "mobilite", "q": "conseiller"})
    assert filtered_large == filtered_small


def test_structure_page_query_count_is_constant(world):
    structure = world["structures"][1]
    client = login_client(world["referent"])
    url = reverse("network:structure", args=[structure.slug])
    client.get(url)
    small, _ = count_queries(client, url)
    add_members(world["territory"], structure, 60)
    large, response = count_queries(client, url)
    assert len(response.context["page"].object_list) == 50
    assert large == small


def test_members_page_query_count_is_constant(world):
    structure = world["structures"][1]
    admin = make_professional(Membership.Role.ADMIN, structure=structure)
    client = login_client(admin)
    url = reverse("network:members", args=[structure.slug])
    client.get(url)
    small, _ = count_queries(client, url)
    add_members(world["territory"], structure, 40)
    for membership in Membership.objects.filter(structure=structure).exclude(user=admin)[:10]:
        membership.invited_by = admin
        membership.is_active = membership.pk % 2 == 0
        membership.save()
    large, _ = count_queries(client, url)
    assert large == small
