"""The chargé d'orientation's queue: who waits, in which order, flagged over the delay, counts
per structure, the contracts awaiting signature, and a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spie.pathways import selectors
from spie.pathways.models import EngagementContract, Orientation
from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.people.factories import PersonFactory, add_to_group

from .factories import days_ago, make_contract, make_orientation

S, K = Orientation.Status, Orientation.Kind


def person_in(world, name, *, opened=None, droits_devoirs=True, territory=None, **kwargs):
    person = PersonFactory(
        territory=territory or world["territory"], last_name=name, rsa=True,
        rsa_rights_opened_on=days_ago(opened) if opened is not None else None, rsa_droits_devoirs=droits_devoirs,
        entered_on=days_ago(kwargs.pop("entered", 1)), **kwargs,
    )
    add_to_group(person, world["referent"], FollowUpMembership.Kind.REFERENT)
    return person


@pytest.fixture
def queue_world(world):
    w = world
    # world["person"]: droits et devoirs, rights opened 20 days ago, nothing decided → waiting.
    people = {
        "pending_old": person_in(w, "Ancienne", opened=60),
        "waiting_new": person_in(w, "Nouvelle", opened=10),
        "decided": person_in(w, "Orientee", opened=90),
        "not_dd": person_in(w, "Libre", opened=100, droits_devoirs=False),
        "reorientation": person_in(w, "Reorientee", opened=300),
        "cancelled": person_in(w, "Annulee", opened=50),
        "entered": person_in(w, "Entree", opened=None, entered=47),
        "gers": person_in(w, "Gersoise", opened=200, territory=w["gers"]),
    }
    make_orientation(people["pending_old"], w["referent"], structure=w["other_structure"])
    make_orientation(people["decided"], w["referent"], status=S.DECIDED, decided_days_ago=40,
                     structure=w["ref_structure"], referent=w["referent"])
    make_orientation(people["reorientation"], w["referent"], status=S.DECIDED, decided_days_ago=200,
                     structure=w["ref_structure"], referent=w["referent"], proposed_days_ago=210)
    make_orientation(people["reorientation"], w["referent"], kind=K.REORIENTATION, proposed_days_ago=50)
    make_orientation(people["cancelled"], w["referent"], status=S.CANCELLED, decided_days_ago=3)
    make_orientation(people["not_dd"], w["referent"], proposed_days_ago=2)  # pending, not droits et devoirs
    return people


def names(qs):
    return [p.last_name for p in qs]


def test_queue_content_and_order(world, queue_world):
    queue = selectors.orientation_queue(world["territory"])
    # Days waiting: Libre 100 (rights), Ancienne 60, Réorientée 50 (since the request),
    # Annulée 50 (ties by id), Entrée 47 (entry date), Dupuis 20, Nouvelle 10.
    assert names(queue) == ["Libre", "Ancienne", "Reorientee", "Annulee", "Entree", "Dupuis", "Nouvelle"]
    rows = selectors.decorate_queue(queue, world["territory"])
    flags = {p.last_name: (p.delay.days, p.delay.over) for p in rows}
    assert flags == {
        "Libre": (100, True), "Ancienne": (60, True), "Reorientee": (50, True), "Annulee": (50, True),
        "Entree": (47, True), "Dupuis": (20, False), "Nouvelle": (10, False),
    }
    by_name = {p.last_name: p for p in rows}
    assert by_name["Reorientee"].pending_orientation.kind == K.REORIENTATION
    assert by_name["Nouvelle"].pending_orientation is None
    assert by_name["Nouvelle"].referent_followup.user == world["referent"]


def test_queue_filters(world, queue_world):
    territory = world["territory"]
    over = selectors.orientation_queue(territory, selectors.QueueFilters(over_only=True))
    assert names(over) == ["Libre", "Ancienne", "Reorientee", "Annulee", "Entree"]
    by_structure = selectors.orientation_queue(territory, selectors.QueueFilters(structure=world["other_structure"].pk))
    assert names(by_structure) == ["Ancienne"]  # proposed structure wins over the référent's
    by_ref = selectors.orientation_queue(territory, selectors.QueueFilters(structure=world["ref_structure"].pk))
    assert "Ancienne" not in names(by_ref) and "Nouvelle" in names(by_ref)
    young = PersonFactory(territory=territory, last_name="Jeune", young=True, rsa_rights_opened_on=days_ago(5))
    assert names(selectors.orientation_queue(territory, selectors.QueueFilters(public="moins26"))) == ["Jeune"]
    assert young.pk


def test_filters_from_query_string_ignore_junk():
    filters = selectors.QueueFilters.from_query({"structure": "abc", "retard": "1", "public": "inconnu"})
    assert (filters.structure, filters.over_only, filters.public) == (None, True, None)


def test_counts_per_structure(world, queue_world):
    counts, total = selectors.queue_counts(world["territory"])
    assert total == 7
    by_name = {c.structure.name if c.structure else None: (c.count, c.over) for c in counts}
    assert by_name == {"Association Tremplin": (6, 4), "Mission locale Ouest": (1, 1)}


def test_awaiting_contract(world):
    w, territory = world, world["territory"]

    def decided_person(name, days, **kwargs):
        person = person_in(w, name, opened=days + 20)
        orientation = make_orientation(person, w["referent"], status=S.DECIDED, decided_days_ago=days,
                                       structure=kwargs.get("structure", w["ref_structure"]), referent=w["referent"],
                                       proposed_days_ago=days + 2)
        return person, orientation

    decided_person("Retard", 40)
    decided_person("Recent", 5, structure=w["other_structure"])
    signed, _ = decided_person("Signe", 40)
    make_contract(signed, w["referent"], w["ref_structure"], status=EngagementContract.Status.SIGNED,
                  signed_days_ago=10)
    old_contract, _ = decided_person("AncienContrat", 35)
    make_contract(old_contract, w["referent"], w["ref_structure"], status=EngagementContract.Status.SIGNED,
                  signed_days_ago=60)
    twice, _ = decided_person("Reoriente", 100)
    make_contract(twice, w["referent"], w["ref_structure"], status=EngagementContract.Status.SIGNED,
                  signed_days_ago=80)
    make_orientation(twice, w["referent"], kind=K.REORIENTATION, status=S.DECIDED, decided_days_ago=3,
                     structure=w["other_structure"], referent=w["new_referent"], proposed_days_ago=6)
    draft_only, _ = decided_person("Brouillon", 33)
    make_contract(draft_only, w["referent"], w["ref_structure"])

    rows = selectors.decorate_contracts(selectors.awaiting_contract(territory), territory)
    assert [(o.person.last_name, o.delay.days, o.delay.over) for o in rows] == [
        ("Retard", 40, True), ("AncienContrat", 35, True), ("Brouillon", 33, True),
        ("Recent", 5, False), ("Reoriente", 3, False),
    ]
    over = selectors.awaiting_contract(territory, selectors.QueueFilters(over_only=True))
    assert [o.person.last_name for o in over] == ["Retard", "AncienContrat", "Brouillon"]
    mine = selectors.awaiting_contract(territory, selectors.QueueFilters(structure=w["other_structure"].pk))
    assert [o.person.last_name for o in mine] == ["Recent", "Reoriente"]
    counts, total = selectors.contract_counts(territory)
    assert total == 5
    assert {c.structure.name: (c.count, c.over) for c in counts} == {
        "Association Tremplin": (3, 3), "Mission locale Ouest": (2, 0)
    }


# --- The page ------------------------------------------------------------------------------


def test_queue_page_is_for_chargés_d_orientation_only(world):
    for who in ("referent", "member", "admin_ref", "coordinator"):
        assert login_client(world[who]).get(reverse("pathways:queue")).status_code == 403


def test_queue_page_shows_flags_counts_and_tabs(world, queue_world):
    client = login_client(world["officer"])
    response = client.get(reverse("pathways:queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "À orienter" in html and "Contrats à signer" in html
    assert "délai dépassé : 100 j (cible 45 j)" in html
    assert "Gersoise" not in html
    assert 'progress value="6" max="6"' in html
    assert "style=" not in html  # CSP: no inline style
    response = client.get(reverse("pathways:queue"), {"onglet": "contrats"})
    assert response.status_code == 200
    # Réorientée's first orientation (200 days ago) still waits for a contract, her request aside.
    assert [o.person.last_name for o in response.context["page"].object_list] == ["Reorientee", "Orientee"]
    assert "délai dépassé : 40 j (cible 30 j)" in response.content.decode()
    response = client.get(reverse("pathways:queue"), {"retard": "1", "structure": world["other_structure"].pk})
    assert names(response.context["page"].object_list) == ["Ancienne"]


def count_queries(client, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("pathways:queue"), params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def add_waiting(world, start, count):
    structures = [world["ref_structure"], world["other_structure"]]
    for i in range(start, start + count):
        person = person_in(world, f"Attente{i:03d}", opened=44 + i)  # over the delay from i = 2
        if i % 2:
            make_orientation(person, world["member"], structure=structures[i % 2],
                             kind=K.ORIENTATION, proposed_days_ago=1)
        if i % 3 == 0:
            decided_person = person_in(world, f"Decide{i:03d}", opened=80 + i)
            make_orientation(decided_person, world["referent"], status=S.DECIDED, decided_days_ago=29 + i,
                             structure=structures[i % 2], referent=world["referent"], proposed_days_ago=60)


@pytest.mark.parametrize("params", [{}, {"retard": "1"}, {"public": "rsa"}, {"page": "2"},
                                    {"onglet": "contrats"}, {"onglet": "contrats", "retard": "1"}])
def test_queue_query_count_is_constant(world, params):
    client = login_client(world["officer"])
    add_waiting(world, 0, 4)
    client.get(reverse("pathways:queue"))  # warm-up (session, content types)
    small, _ = count_queries(client, params)
    add_waiting(world, 4, 56)
    large, response = count_queries(client, params)
    assert large == small
    if params == {}:
        assert response.context["page"].paginator.count == 61
        assert len(response.context["page"].object_list) == 25
