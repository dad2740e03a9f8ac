"""API v1 — exit (close, re-open), jobs and post-hiring checkpoints: policies, rules, access log."""

import datetime

import pytest
from django.utils import timezone

from spie.core.models import AccessLog
from spie.followup.models import Checkpoint, Employment, PathwayExit
from spie.people.models import Person
from tests.pathways.factories import days_ago


@pytest.fixture
def person(net):
    Person.objects.filter(pk=net.person.pk).update(entered_on=days_ago(300))
    net.person.refresh_from_db()
    return net.person


def url(person_id, section):
    return f"/api/v1/persons/{person_id}/{section}/"


def exit_body(**overrides):
    return {"reason": "training", "exit_date": days_ago(2).isoformat(), "achievements": "Formation trouvée",
            "written_with_person": True, **overrides}


def job_body(**overrides):
    return {"employer_name": "Boulangerie Dupain", "job_title": "Vendeuse", "contract_type": "cdd",
            "started_on": days_ago(40).isoformat(), "weekly_hours": 24, **overrides}


def api_logs(user, section):
    return AccessLog.objects.filter(user=user, section=section, channel=AccessLog.Channel.API)


def test_exit_read_and_close_by_referent(net, person, api_for):
    client = api_for(net.referent)
    response = client.get(url(person.pk, "exit"))
    assert response.status_code == 200
    assert response.json()["current"] is None and response.json()["allowed"] == {"close": True, "reopen": False}
    response = client.post(url(person.pk, "exit"), exit_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "exited" and body["current"]["reason"] == "training"
    assert body["current"]["achievements"] == "Formation trouvée"
    assert body["allowed"] == {"close": False, "reopen": True}
    person.refresh_from_db()
    assert person.last_contact_on == days_ago(2)
    assert api_logs(net.referent, AccessLog.Section.EXIT).count() == 2
    # A second exit: 409, nothing written.
    response = client.post(url(person.pk, "exit"), exit_body(), format="json")
    assert response.status_code == 409 and "déjà clos" in response.json()["detail"]
    assert PathwayExit.objects.count() == 1


def test_structure_admin_may_close_member_may_not(net, person, api_for):
    response = api_for(net.member).post(url(person.pk, "exit"), exit_body(), format="json")
    assert response.status_code == 403 and "référent unique" in response.json()["detail"]
    assert api_for(net.member).get(url(person.pk, "exit")).json()["allowed"]["close"] is False
    assert api_for(net.admin_a).post(url(person.pk, "exit"), exit_body(), format="json").status_code == 201


def test_exit_policies_404_403(net, person, api_for):
    assert api_for(net.foreigner).get(url(person.pk, "exit")).status_code == 404
    assert api_for(net.referent).get(url(999999, "exit")).status_code == 404
    assert api_for(net.outsider).get(url(person.pk, "exit")).status_code == 403
    assert api_for(net.outsider).post(url(person.pk, "exit"), exit_body(), format="json").status_code == 403
    assert not AccessLog.objects.filter(section=AccessLog.Section.EXIT).exists()


def test_exit_rules_in_french(net, person, api_for):
    client = api_for(net.referent)
    response = client.post(url(person.pk, "exit"), exit_body(reason="other"), format="json")
    assert response.status_code == 400 and "Précisez le motif" in response.json()["reason_detail"][0]
    future = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(url(person.pk, "exit"), exit_body(exit_date=future), format="json")
    assert "futur" in response.json()["exit_date"][0]
    response = client.post(url(person.pk, "exit"), exit_body(exit_date=days_ago(301).isoformat()), format="json")
    assert "entrée dans le parcours" in response.json()["exit_date"][0]
    response = client.post(url(person.pk, "exit"), exit_body(job=job_body()), format="json")
    assert response.status_code == 400 and "motif d'emploi" in response.json()["job"][0]
    response = client.post(url(person.pk, "exit"),
                           exit_body(reason="short_job", job=job_body(employer_siret="12345678901234")), format="json")
    assert response.status_code == 400 and "SIRET" in response.json()["job"]["employer_siret"][0]
    assert not PathwayExit.objects.exists() and not Employment.objects.exists()


def test_exit_with_job_and_reopen(net, person, api_for):
    client = api_for(net.referent)
    response = client.post(url(person.pk, "exit"), exit_body(reason="sustainable_job", job=job_body()), format="json")
    assert response.status_code == 201
    assert Employment.objects.get(person=person).checkpoints.count() == 3
    assert api_for(net.member).post(url(person.pk, "exit/reopen"), {"reason": "x"}, format="json").status_code == 403
    response = client.post(url(person.pk, "exit/reopen"), {"reason": ""}, format="json")
    assert response.status_code == 400
    response = client.post(url(person.pk, "exit/reopen"), {"reason": "Fin de la période d'essai"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["current"] is None and body["status"] == "in_job"
    assert body["cancelled"][0]["cancel_reason"] == "Fin de la période d'essai"
    response = client.post(url(person.pk, "exit/reopen"), {"reason": "Encore"}, format="json")
    assert response.status_code == 409


def test_employments_list_and_create(net, person, api_for):
    client = api_for(net.member)
    response = client.post(url(person.pk, "employments"), job_body(employer_siret="732 829 320 00074"),
                           format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["employer_siret"] == "73282932000074" and body["structure"]["id"] == net.struct_b.pk
    assert [c["month"] for c in body["checkpoints"]] == [1, 3, 6]
    assert body["checkpoints"][0]["overdue"] is True
    response = client.get(url(person.pk, "employments"))
    assert response.status_code == 200 and response.json()["count"] == 1
    assert api_logs(net.member, AccessLog.Section.EMPLOYMENT).count() == 2
    response = client.post(url(person.pk, "employments"), job_body(weekly_hours=70), format="json")
    assert response.status_code == 400
    response = client.post(url(person.pk, "employments"), job_body(employer_name=""), format="json")
    assert response.status_code == 400 and "employer_name" in response.json()
    assert api_for(net.outsider).get(url(person.pk, "employments")).status_code == 403
    assert api_for(net.outsider).post(url(person.pk, "employments"), job_body(), format="json").status_code == 403
    assert api_for(net.foreigner).get(url(person.pk, "employments")).status_code == 404
    assert Employment.objects.count() == 1


def test_record_checkpoint(net, person, api_for):
    api_for(net.referent).post(url(person.pk, "employments"), job_body(), format="json")
    point = Checkpoint.objects.get(month=1)
    endpoint = f"/api/v1/checkpoints/{point.pk}/"
    assert api_for(net.foreigner).post(endpoint, {"outcome": "in_job"}, format="json").status_code == 404
    assert api_for(net.outsider).post(endpoint, {"outcome": "in_job"}, format="json").status_code == 403
    assert api_for(net.referent).post("/api/v1/checkpoints/999999/", {"outcome": "in_job"},
                                      format="json").status_code == 404
    client = api_for(net.colleague)
    response = client.post(endpoint, {"outcome": "in_job"}, format="json")
    assert response.status_code == 400 and "Injoignable" in response.json()["contacted_person"][0]
    response = client.post(endpoint, {"outcome": "job_ended", "contacted_person": True, "end_job": True,
                                      "end_reason": "Rupture de la période d'essai"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["outcome"] == "job_ended" and response.json()["done_on"] == timezone.localdate().isoformat()
    job = Employment.objects.get()
    person.refresh_from_db()
    assert job.ended_on == timezone.localdate() and person.last_contact_on == timezone.localdate()
    assert person.status != Person.Status.IN_JOB
    assert client.post(endpoint, {"outcome": "in_job", "contacted_person": True},
                       format="json").status_code == 409


def test_checkpoint_of_a_person_of_another_territory_is_indistinguishable(net, api_for):
    gers_person = net.gers_person
    api_for(net.foreigner).post(url(gers_person.pk, "employments"), job_body(), format="json")
    point = Checkpoint.objects.get(person=gers_person, month=1)
    response = api_for(net.referent).post(f"/api/v1/checkpoints/{point.pk}/", {"outcome": "in_job"}, format="json")
    missing = api_for(net.referent).post("/api/v1/checkpoints/999999/", {"outcome": "in_job"}, format="json")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
