"""Caseload views: my caseload on the home page and a structure's for its admins — counts by
status, public and alert, filters, sort whitelist, pagination, streamed exports, policies and
constant query counts."""

import io

import openpyxl
import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spie.core.models import AccessLog
from spie.followup import alerts, caseload
from spie.network.models import Membership
from spie.people.models import FollowUpMembership, Person
from tests.network.factories import make_professional
from tests.pathways.factories import days_ago
from tests.people.factories import PersonFactory, add_to_group, oppose_sharing

HOME = "people:home"
STRUCTURE = "followup:structure_caseload"


def person_in(world, user, kind=FollowUpMembership.Kind.REFERENT, **fields):
    defaults = {"territory": world["territory"], "rsa_droits_devoirs": False, "last_contact_on": days_ago(1)}
    person = PersonFactory(**{**defaults, **fields})
    add_to_group(person, user, kind)
    return person


def names(response):
    return [p.last_name for p in response.context["page"].object_list]


def links_by_code(rows):
    return {row["code"]: row["n"] for row in rows}


def xlsx_rows(response):
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def mine(world):
    """The référent's caseload: Camille (world) plus four persons with varied data."""
    ref = world["referent"]
    return {
        "oriented": person_in(world, ref, last_name="Bernard", status=Person.Status.ORIENTED,
                              entered_on=days_ago(300), last_contact_on=days_ago(5)),
        "in_job": person_in(world, ref, last_name="Arnaud", status=Person.Status.IN_JOB, young=True,
                            entered_on=days_ago(100), last_contact_on=days_ago(200)),
        "exited": person_in(world, ref, last_name="Durand", status=Person.Status.EXITED, entered_on=days_ago(50),
                            last_contact_on=days_ago(300), exited_on=days_ago(3)),
        "member_of": person_in(world, ref, kind=FollowUpMembership.Kind.MEMBER, last_name="Charles",
                               status=Person.Status.IN_PATHWAY, senior=True, entered_on=days_ago(10),
                               last_contact_on=None),
    }


# --- Home: counts, filters, sort ---------------------------------------------------------------


def test_home_counts_by_status_public_and_alert(world, mine, client_for):
    response = client_for(world["referent"]).get(reverse(HOME))
    by_status = links_by_code(response.context["status_links"])
    assert by_status == {"to_orient": 1, "oriented": 1, "in_pathway": 1, "in_job": 1, "exited": 1}
    by_public = links_by_code(response.context["public_links"])
    assert by_public["moins26"] == 1 and by_public["plus50"] == 1 and by_public["rsa"] == 5
    by_alert = links_by_code(response.context["alert_links"])
    # Arnaud (200 days) only: Durand has left the pathway, Charles entered 10 days ago.
    assert by_alert[alerts.NO_CONTACT] == 1
    assert response.context["counts"]["total"] == 5


def test_home_counts_are_filters(world, mine, client_for):
    client = client_for(world["referent"])
    response = client.get(reverse(HOME), {"statut": "in_job"})
    assert names(response) == ["Arnaud"]
    link = next(row for row in response.context["status_links"] if row["code"] == "in_job")
    assert link["active"] and "statut=" not in link["url"]  # a second click removes the filter
    assert names(client.get(reverse(HOME), {"alerte": alerts.NO_CONTACT})) == ["Arnaud"]
    assert names(client.get(reverse(HOME), {"public": "plus50"})) == ["Charles"]
    assert names(client.get(reverse(HOME), {"statut": "in_job", "public": "plus50"})) == []
    assert names(client.get(reverse(HOME), {"role": "member"})) == ["Charles"]


@pytest.mark.parametrize(("sort", "expected"), [
    ("nom", ["Arnaud", "Bernard", "Charles", "Dupuis", "Durand"]),
    ("-nom", ["Durand", "Dupuis", "Charles", "Bernard", "Arnaud"]),
    ("entree", ["Bernard", "Arnaud", "Durand", "Charles", "Dupuis"]),
    ("-contact", ["Dupuis", "Bernard", "Arnaud", "Durand", "Charles"]),
    ("statut", ["Dupuis", "Bernard", "Charles", "Arnaud", "Durand"]),
    ("-statut", ["Durand", "Arnaud", "Charles", "Bernard", "Dupuis"]),
])
def test_home_sorts_on_whitelisted_columns(world, mine, client_for, sort, expected):
    world["person"].last_contact_on = days_ago(0)
    world["person"].save()
    response = client_for(world["referent"]).get(reverse(HOME), {"tri": sort})
    assert names(response) == expected


@pytest.mark.parametrize("sort", ["nir", "-birth_date", "last_name; drop table", "--nom"])
def test_unknown_sort_falls_back_to_names(world, mine, client_for, sort):
    response = client_for(world["referent"]).get(reverse(HOME), {"tri": sort})
    assert response.status_code == 200
    assert names(response) == ["Arnaud", "Bernard", "Charles", "Dupuis", "Durand"]
    assert response.context["filters"].sort_param == "nom"


def test_filters_parse_whitelists():
    filters = caseload.CaseloadFilters.from_query(
        {"statut": "bogus", "public": "x", "alerte": "y", "role": "admin", "tri": "-contact", "pro": "abc"}
    )
    assert (filters.status, filters.public, filters.alert, filters.role, filters.professional) == ("", "", "", "", None)
    assert (filters.sort, filters.descending, filters.active) == ("contact", True, False)


def test_pagination_keeps_sort_and_filters(world, client_for):
    ref = world["referent"]
    for i in range(30):
        person_in(world, ref, last_name=f"Zed{i:02d}", status=Person.Status.IN_PATHWAY)
    client = client_for(ref)
    response = client.get(reverse(HOME), {"statut": "in_pathway", "tri": "-nom"})
    assert names(response)[0] == "Zed29"
    text = response.content.decode()
    assert "statut=in_pathway&amp;tri=-nom&amp;page=2" in text
    page2 = client.get(reverse(HOME), {"statut": "in_pathway", "tri": "-nom", "page": 2})
    assert names(page2) == [f"Zed{i:02d}" for i in range(4, -1, -1)]


# --- Home export ---------------------------------------------------------------------------------


def test_home_export_streams_filtered_sorted_rows_and_logs(world, mine, client_for):
    ref = world["referent"]
    client = client_for(ref)
    response = client.get(reverse(HOME), {"format": "csv", "tri": "-entree", "statut": "exited"})
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    lines = text.strip().splitlines()
    assert lines[0].startswith("\ufeffNom;Prénom;Date de naissance")
    assert len(lines) == 2 and lines[1].startswith("DURAND;")
    assert "Sortie du parcours" in lines[1] and "Référent unique" in lines[1]
    assert list(AccessLog.objects.filter(user=ref, section="export").values_list("person_id", flat=True)) == [
        mine["exited"].pk
    ]
    rows = xlsx_rows(client.get(reverse(HOME), {"format": "xlsx", "tri": "nom"}))
    assert rows[0][0:2] == ["Nom", "Prénom"] and rows[0][-1] == "Mon rôle"
    assert [row[0] for row in rows[1:]] == ["ARNAUD", "BERNARD", "CHARLES", "DUPUIS", "DURAND"]
    assert rows[3][-1] == "Membre"
    assert AccessLog.objects.filter(user=ref, section="export").count() == 6


def test_home_query_count_constant_with_alerts(world, client_for):
    ref = world["referent"]
    client = client_for(ref)

    def add(n):
        for i in range(n):
            person_in(world, ref, last_contact_on=days_ago(200 + i), status=list(Person.Status.values)[(i + 2) % 4])

    def measure(params):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse(HOME), params)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    params = [{}, {"alerte": alerts.NO_CONTACT, "tri": "-contact"}, {"statut": "in_pathway"}, {"page": 2}]
    add(2)
    client.get(reverse(HOME))
    small = [measure(p) for p in params]
    add(30)
    assert [measure(p) for p in params] == small


# --- Structure caseload ------------------------------------------------------------------------


def test_structure_caseload_is_for_admins_only(world, client_for):
    url = reverse(STRUCTURE)
    for who in ("referent", "colleague", "officer", "coordinator", "member"):
        assert client_for(world[who]).get(url).status_code == 403, who
    assert client_for(world["admin_ref"]).get(url).status_code == 200


def test_structure_caseload_lists_the_structure_persons_with_counts(world, client_for):
    ref, colleague = world["referent"], world["colleague"]
    colleague_person = person_in(world, colleague, last_name="Collegue", status=Person.Status.IN_PATHWAY,
                                 last_contact_on=days_ago(150))
    elsewhere = person_in(world, world["outsider"], last_name="Ailleurs")
    response = client_for(world["admin_ref"]).get(reverse(STRUCTURE))
    assert sorted(names(response)) == ["Collegue", "Dupuis"]
    assert elsewhere.last_name not in response.content.decode()
    assert '<th scope="col">Date de naissance</th>' in response.content.decode()
    assert "Née le" not in response.content.decode()
    assert links_by_code(response.context["status_links"])["in_pathway"] == 1
    assert links_by_code(response.context["alert_links"])[alerts.NO_CONTACT] == 1
    assert {row["user"].pk: row["n"] for row in response.context["professionals"]} == {ref.pk: 1, colleague.pk: 1}
    filtered = client_for(world["admin_ref"]).get(reverse(STRUCTURE), {"pro": colleague.pk})
    assert names(filtered) == [colleague_person.last_name]


def test_structure_caseload_of_another_structure_and_opposition(world, client_for):
    """The member's structure admin sees Camille until she opposes sharing; the référent's
    structure keeps her; a structure without any member in her group never sees her."""
    other_admin = make_professional(Membership.Role.ADMIN, structure=world["other_structure"])
    outsider_admin = make_professional(Membership.Role.ADMIN, structure=world["outsider_structure"])
    assert names(client_for(other_admin).get(reverse(STRUCTURE))) == ["Dupuis"]
    assert names(client_for(outsider_admin).get(reverse(STRUCTURE))) == []
    oppose_sharing(world["person"])
    assert names(client_for(other_admin).get(reverse(STRUCTURE))) == []
    assert names(client_for(world["admin_ref"]).get(reverse(STRUCTURE))) == ["Dupuis"]


def test_structure_caseload_matches_the_record_policy(world, client_for):
    """Every person listed opens for the admin; a person not listed does not."""
    other_admin = make_professional(Membership.Role.ADMIN, structure=world["other_structure"])
    opposed = person_in(world, world["referent"], last_name="Opposee")
    add_to_group(opposed, world["member"])
    oppose_sharing(opposed)
    client = client_for(other_admin)
    listed = client.get(reverse(STRUCTURE)).context["page"].object_list
    assert [p.last_name for p in listed] == ["Dupuis"]
    assert client.get(reverse("people:record", args=[world["person"].pk])).context["access"].can_open_record
    card = client.get(reverse("people:record", args=[opposed.pk]))
    assert not card.context["access"].can_open_record


def test_structure_caseload_export_and_sort(world, client_for):
    admin = world["admin_ref"]
    person_in(world, world["colleague"], last_name="Abel", entered_on=days_ago(400))
    client = client_for(admin)
    text = b"".join(client.get(reverse(STRUCTURE), {"format": "csv", "tri": "-entree"}).streaming_content).decode()
    assert [line.split(";")[0] for line in text.strip().splitlines()[1:]] == ["DUPUIS", "ABEL"]
    rows = xlsx_rows(client.get(reverse(STRUCTURE), {"format": "xlsx"}))
    assert [row[0] for row in rows[1:]] == ["ABEL", "DUPUIS"]
    assert AccessLog.objects.filter(user=admin, section="export").count() == 4


def test_structure_caseload_query_count_is_constant(world, client_for):
    client = client_for(world["admin_ref"])
    users = [world["referent"], world["colleague"]]

    def add(n):
        for i in range(n):
            person = person_in(world, users[i % 2], last_contact_on=days_ago(100 + i))
            if i % 3 == 0:
                oppose_sharing(person)

    def measure(params):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse(STRUCTURE), params)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    params = [{}, {"alerte": alerts.NO_CONTACT}, {"tri": "-contact", "page": 2}]
    add(2)
    client.get(reverse(STRUCTURE))
    small = [measure(p) for p in params]
    add(40)
    assert [measure(p) for p in params] == small
