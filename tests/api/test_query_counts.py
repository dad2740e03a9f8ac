"""List endpoints keep a constant number of queries whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spie.core.models import AccessLog
from spie.people.models import FollowUpMembership, TimelineEvent
from tests.network.factories import StructureFactory, make_professional
from tests.people.factories import PersonFactory, add_to_group


def measure(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()["count"]


def grow_caseload(net, n):
    """``n`` more persons followed by the référent, each with its own member from a new structure."""
    for _ in range(n):
        person = PersonFactory(territory=net.territory, last_name="Dupont")
        add_to_group(person, net.referent, FollowUpMembership.Kind.REFERENT)
        add_to_group(person, make_professional(structure=StructureFactory(territory=net.territory)))


def grow_search(net, n):
    """``n`` more persons named Dupont followed by others (cards, not records)."""
    for _ in range(n):
        person = PersonFactory(territory=net.territory, last_name="Dupont")
        add_to_group(person, make_professional(structure=StructureFactory(territory=net.territory)),
                     FollowUpMembership.Kind.REFERENT)


def grow_network(net, n):
    for _ in range(n):
        make_professional(structure=StructureFactory(territory=net.territory))


def grow_access_log(net, n):
    for _ in range(n):
        user = make_professional(structure=StructureFactory(territory=net.territory))
        AccessLog.objects.create(user=user, structure=user.memberships.get().structure, person=net.person,
                                 section=AccessLog.Section.RECORD)


def grow_timeline(net, n):
    for i in range(n):
        user = make_professional(structure=StructureFactory(territory=net.territory))
        TimelineEvent.objects.create(person=net.person, kind="note", title=f"Événement {i}", actor=user,
                                     structure=user.memberships.get().structure)


@pytest.mark.parametrize(
    ("url", "params", "grow"),
    [
        ("/api/v1/persons/", {}, grow_caseload),
        ("/api/v1/persons/", {"kind": "referent", "public": "rsa"}, grow_caseload),
        ("/api/v1/persons/", {"search": "dupont"}, grow_search),
        ("/api/v1/directory/", {}, grow_network),
        ("/api/v1/structures/", {}, grow_network),
        ("/api/v1/persons/{person}/access-log/", {}, grow_access_log),
        ("/api/v1/persons/{person}/timeline/", {}, grow_timeline),
    ],
)
def test_constant_query_count(net, api_for, url, params, grow):
    client = api_for(net.referent)
    url = url.format(person=net.person.pk)
    grow(net, 1)
    small_queries, small_count = measure(client, url, params)
    grow(net, 6)
    large_queries, large_count = measure(client, url, params)

    assert large_count > small_count
    assert large_queries == small_queries


def test_record_query_count_does_not_grow_with_the_group(net, api_for):
    client = api_for(net.referent)
    url = f"/api/v1/persons/{net.person.pk}/"

    def measure_record():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["followup_group"])

    small_queries, small_group = measure_record()
    for _ in range(5):
        add_to_group(net.person, make_professional(structure=StructureFactory(territory=net.territory)))
    large_queries, large_group = measure_record()

    assert large_group == small_group + 5
    assert large_queries == small_queries
