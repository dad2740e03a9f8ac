"""API of the plan: policies (404 vs 403, IDOR), objectives and actions, transitions, the contract
copy, access log with the API channel, constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spie.core.models import AccessLog
from spie.followup.models import PlanAction, PlanObjective, PlanStatus
from spie.pathways.models import EngagementContract
from tests.pathways.factories import days_ago, make_contract, make_referentiel

from .conftest import second_membership

pytestmark = pytest.mark.django_db


def plan_url(person):
    return f"/api/v1/persons/{person.pk}/plan/"


def make_objective(net, label="Trouver un emploi", person=None, status=PlanStatus.PLANNED):
    return PlanObjective.objects.create(person=person or net.person, label=label, status=status,
                                        created_by=net.referent, structure=net.struct_a)


@pytest.mark.parametrize("who, expected", [
    ("referent", 200), ("member", 200), ("colleague", 200), ("admin_a", 200), ("outsider", 403), ("foreigner", 404),
])
def test_read_policy(net, api_for, who, expected):
    make_objective(net)
    response = api_for(getattr(net, who)).get(plan_url(net.person))
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["results"][0]["label"] == "Trouver un emploi"
        row = AccessLog.objects.order_by("-id").first()
        assert (row.section, row.channel, row.user) == ("plan", "api", getattr(net, who))
    else:
        assert "detail" in response.json()


def test_unknown_person_and_other_territory_give_the_same_404(net, api_for):
    client = api_for(net.referent)
    unknown = client.get("/api/v1/persons/999999/plan/")
    foreign = client.get(plan_url(net.gers_person))
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json() == foreign.json()


def test_create_objectives_and_actions(net, api_for):
    ref = make_referentiel()
    client = api_for(net.member)
    response = client.post(plan_url(net.person), {"item": ref["logement_objective"].pk}, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["label"], data["theme"]["code"], data["source"], data["status"]) == (
        "Accéder à un logement", "logement", "referentiel", "planned")
    assert data["next_statuses"] == ["in_progress", "on_hold", "done", "cancelled"]
    response = client.post(plan_url(net.person), {"label": ""}, format="json")
    assert response.status_code == 400
    assert "Choisissez un objectif du référentiel ou saisissez l'objectif." in str(response.json())
    response = client.post(plan_url(net.person), {"label": "X", "theme": "inconnu"}, format="json")
    assert response.status_code == 400 and "Thème inconnu" in str(response.json())

    objective_id = data["id"]
    response = client.post(f"/api/v1/plan/objectives/{objective_id}/actions/", {
        "item": ref["logement_action"].pk, "due_on": days_ago(-15).isoformat(),
        "responsible_user": net.referent.pk, "responsible_structure": net.struct_a.pk,
    }, format="json")
    assert response.status_code == 201, response.json()
    action = response.json()["actions"][0]
    assert (action["label"], action["due_on"], action["responsible_user"]["id"]) == (
        "Demande de logement social", days_ago(-15).isoformat(), net.referent.pk)
    response = client.post(f"/api/v1/plan/objectives/{objective_id}/actions/", {
        "label": "Atelier", "responsible_user": net.outsider.pk}, format="json")
    assert response.status_code == 400
    assert "ne fait pas partie du groupe de suivi" in str(response.json())


def test_writes_refused_without_the_right(net, api_for):
    obj = make_objective(net)
    # The structure admin reads the plan but does not write it.
    for user, expected in ((net.admin_a, 403), (net.outsider, 403), (net.foreigner, 404)):
        client = api_for(user)
        assert client.post(plan_url(net.person), {"label": "X"}, format="json").status_code == expected
        assert client.post(f"/api/v1/plan/objectives/{obj.pk}/transition/", {"status": "done"},
                           format="json").status_code == expected
        assert client.post(f"/api/v1/plan/objectives/{obj.pk}/actions/", {"label": "X"},
                           format="json").status_code == expected
    assert PlanObjective.objects.count() == 1 and PlanObjective.objects.get().status == PlanStatus.PLANNED
    assert not PlanAction.objects.exists()


def test_transitions(net, api_for):
    obj = make_objective(net)
    action = PlanAction.objects.create(objective=obj, person=net.person, label="Atelier", created_by=net.referent)
    client = api_for(net.referent)
    response = client.patch(f"/api/v1/plan/actions/{action.pk}/transition/", {"status": "in_progress"},
                            format="json")
    assert response.status_code == 200, response.json()
    data = response.json()["actions"][0]
    assert (data["status"], data["started_on"]) == ("in_progress", days_ago(0).isoformat())
    assert [t["to_status"] for t in data["transitions"]] == ["in_progress"]
    response = client.post(f"/api/v1/plan/actions/{action.pk}/transition/", {"status": "planned"}, format="json")
    assert response.status_code == 400
    assert "Impossible de passer l'action de « En cours » à « Prévue »" in str(response.json())
    response = client.post(f"/api/v1/plan/actions/{action.pk}/transition/", {"status": "abandoned"}, format="json")
    assert response.status_code == 400 and "Indiquez le motif" in str(response.json())
    response = client.post(f"/api/v1/plan/objectives/{obj.pk}/transition/", {"status": "done"}, format="json")
    assert response.status_code == 200
    assert response.json()["ended_on"] == days_ago(0).isoformat()


def test_transition_idor_and_unknown(net, api_for):
    other = make_objective(net, person=net.gers_person)
    client = api_for(net.referent)
    response = client.post(f"/api/v1/plan/objectives/{other.pk}/transition/", {"status": "done"}, format="json")
    unknown = client.post("/api/v1/plan/objectives/999999/transition/", {"status": "done"}, format="json")
    assert response.status_code == unknown.status_code == 404
    assert response.json() == unknown.json()
    assert PlanObjective.objects.get(pk=other.pk).status == PlanStatus.PLANNED


def test_import_contract(net, api_for):
    make_referentiel()
    make_contract(net.person, net.referent, net.struct_a, status=EngagementContract.Status.SIGNED,
                  signed_days_ago=1)
    client = api_for(net.referent)
    url = f"/api/v1/persons/{net.person.pk}/plan/import-contract/"
    first = client.post(url)
    assert first.status_code == 200
    assert (first.json()["objectives_created"], len(first.json()["plan"])) == (1, 1)
    second = client.post(url)
    assert (second.json()["objectives_created"], second.json()["actions_created"]) == (0, 0)
    assert PlanObjective.objects.filter(person=net.person).count() == 1


def test_structure_header_selects_the_membership(net, api_for):
    # The outsider also works for the référent's structure, without being in the group: still 403.
    second_membership(net.outsider, net.struct_a)
    client = api_for(net.outsider, HTTP_X_SPIE_STRUCTURE=str(net.struct_a.pk))
    assert client.get(plan_url(net.person)).status_code == 403


def _queries(net, api_for, count):
    PlanObjective.objects.filter(person=net.person).delete()
    for i in range(count):
        obj = make_objective(net, f"Objectif {i}")
        PlanAction.objects.create(objective=obj, person=net.person, label=f"Action {i}", created_by=net.referent,
                                  responsible_user=net.member, responsible_structure=net.struct_b)
    client = api_for(net.referent)
    client.get(plan_url(net.person))  # the token is created on the first call
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(plan_url(net.person))
    assert len(response.json()["results"]) == count
    return len(ctx.captured_queries)


def test_plan_api_query_count_is_constant(net, api_for):
    assert _queries(net, api_for, 2) == _queries(net, api_for, 10)
