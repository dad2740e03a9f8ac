"""Support after hiring: jobs, checkpoints at 1, 3 and 6 months (dates, recording rules), the
employment page, and the professional's list of checkpoints to do."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from spie.core.models import AccessLog
from spie.followup.models import Checkpoint, Employment
from spie.followup.services import employment as employment_services
from spie.people import policies as people_policies
from spie.people.models import FollowUpMembership, Person, TimelineEvent
from tests.pathways.factories import days_ago
from tests.people.factories import PersonFactory, add_to_group

from .conftest import membership_of

TODAY = timezone.localdate


def access(user, person):
    return people_policies.access_for(user, membership_of(user), Person.objects.get(pk=person.pk))


def job_data(**overrides):
    return {"employer_name": "Boulangerie Dupain", "job_title": "Vendeuse", "contract_type": "cdd",
            "weekly_hours": 24, "started_on": days_ago(10), **overrides}


def record_job(world, person, user=None, **overrides):
    user = user or world["referent"]
    return employment_services.record_job(person, membership_of(user), access=access(user, person),
                                          data=job_data(**overrides))


def record_point(world, point, user=None, **data):
    user = user or world["referent"]
    payload = {"done_on": TODAY(), "contacted_person": True, "outcome": "in_job", **data}
    return employment_services.record_checkpoint(point, membership_of(user), access=access(user, point.person),
                                                 data=payload)


# --- Dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("start, months, expected", [
    (datetime.date(2025, 1, 31), 1, datetime.date(2025, 2, 28)),
    (datetime.date(2024, 1, 31), 1, datetime.date(2024, 2, 29)),
    (datetime.date(2025, 1, 31), 3, datetime.date(2025, 4, 30)),
    (datetime.date(2025, 8, 31), 6, datetime.date(2026, 2, 28)),
    (datetime.date(2025, 10, 15), 3, datetime.date(2026, 1, 15)),
    (datetime.date(2025, 3, 31), -1, datetime.date(2025, 2, 28)),
    (datetime.date(2026, 1, 10), -24, datetime.date(2024, 1, 10)),
])
def test_add_months_clamps_at_month_end(start, months, expected):
    assert employment_services.add_months(start, months) == expected


def test_record_job_creates_three_checkpoints(world):
    person = world["person"]
    job = record_job(world, person, started_on=datetime.date(2025, 1, 31))
    dues = dict(job.checkpoints.values_list("month", "due_on"))
    assert dues == {1: datetime.date(2025, 2, 28), 3: datetime.date(2025, 4, 30), 6: datetime.date(2025, 7, 31)}
    assert set(job.checkpoints.values_list("person_id", flat=True)) == {person.pk}
    person.refresh_from_db()
    assert person.status == Person.Status.IN_JOB
    event = TimelineEvent.objects.get(person=person, kind="employment_started")
    assert "Vendeuse" in event.title and "Boulangerie Dupain" in event.title


@pytest.mark.parametrize("overrides, field, message", [
    ({"employer_siret": "12345678901234"}, "employer_siret", "SIRET n'est pas valide"),
    ({"employer_siret": "1234"}, "employer_siret", "SIRET n'est pas valide"),
    ({"employer_name": "  "}, "employer_name", "Indiquez l'employeur"),
    ({"contract_type": "stage"}, "contract_type", "type de contrat"),
    ({"weekly_hours": 60}, "weekly_hours", "entre 0 et 48"),
    ({"planned_end_on": days_ago(20)}, "planned_end_on", "précéder le début"),
    ({"started_on": TODAY() + datetime.timedelta(days=120)}, "started_on", "plus de 3 mois"),
])
def test_record_job_rules(world, overrides, field, message):
    with pytest.raises(ValidationError) as exc:
        record_job(world, world["person"], **overrides)
    assert message in " ".join(exc.value.message_dict[field])
    assert not Employment.objects.exists() and not Checkpoint.objects.exists()


def test_valid_siret_is_normalised_and_member_may_record(world):
    job = record_job(world, world["person"], user=world["member"], employer_siret="732 829 320 00074")
    assert job.employer_siret == "73282932000074" and job.structure == world["other_structure"]


@pytest.mark.parametrize("who", ["outsider", "coordinator", "colleague"])
def test_record_job_denied_without_edit_right(world, who):
    with pytest.raises(PermissionDenied):
        record_job(world, world["person"], user=world[who])


# --- Checkpoints ------------------------------------------------------------------------------


def test_checkpoint_with_person_records_a_contact(world):
    person = world["person"]
    job = record_job(world, person, started_on=days_ago(40))
    point = job.checkpoints.get(month=1)
    record_point(world, point, done_on=days_ago(2), difficulties="Horaires difficiles avec la crèche")
    point.refresh_from_db()
    person.refresh_from_db()
    assert point.done_on == days_ago(2) and point.done_by == world["referent"] and point.outcome == "in_job"
    assert person.last_contact_on == days_ago(2)
    event = TimelineEvent.objects.get(person=person, kind="employment_checkpoint")
    assert "1 mois" in event.title and "crèche" not in event.title + event.detail
    with pytest.raises(ValidationError, match="déjà renseigné"):
        record_point(world, point)


def test_employer_only_checkpoint_is_not_a_contact(world):
    person = world["person"]
    point = record_job(world, person, started_on=days_ago(40)).checkpoints.get(month=1)
    record_point(world, point, contacted_person=False, contacted_employer=True)
    person.refresh_from_db()
    assert person.last_contact_on is None


@pytest.mark.parametrize("data, field, message", [
    ({"contacted_person": False, "contacted_employer": False}, "contacted_person", "Injoignable"),
    ({"outcome": "unreachable", "contacted_person": True}, "contacted_person", "à la fois"),
    ({"outcome": ""}, "outcome", "situation"),
    ({"done_on": TODAY() + datetime.timedelta(days=1)}, "done_on", "futur"),
    ({"done_on": days_ago(41)}, "done_on", "précéder le début"),
    ({"outcome": "job_ended", "end_job": True, "end_reason": ""}, "end_reason", "motif de fin"),
])
def test_checkpoint_rules(world, data, field, message):
    point = record_job(world, world["person"], started_on=days_ago(40)).checkpoints.get(month=1)
    with pytest.raises(ValidationError) as exc:
        record_point(world, point, **data)
    assert message in " ".join(exc.value.message_dict[field])
    point.refresh_from_db()
    assert point.done_on is None


def test_unreachable_needs_no_contact(world):
    point = record_job(world, world["person"], started_on=days_ago(40)).checkpoints.get(month=1)
    record_point(world, point, outcome="unreachable", contacted_person=False)
    point.refresh_from_db()
    assert point.outcome == "unreachable"


def test_job_ended_closes_the_job_and_refreshes_status(world):
    person = world["person"]
    job = record_job(world, person, started_on=days_ago(100))
    point = job.checkpoints.get(month=3)
    record_point(world, point, outcome="job_ended", end_job=True, ended_on=days_ago(5), end_reason="Fin de CDD")
    job.refresh_from_db()
    person.refresh_from_db()
    assert job.ended_on == days_ago(5) and job.end_reason == "Fin de CDD"
    assert person.status == Person.Status.TO_ORIENT
    assert TimelineEvent.objects.filter(person=person, kind="employment_ended").exists()


def test_job_ended_without_ending_keeps_the_job(world):
    person = world["person"]
    job = record_job(world, person, started_on=days_ago(100))
    record_point(world, job.checkpoints.get(month=1), outcome="job_ended")
    job.refresh_from_db()
    assert job.ended_on is None


def test_end_job_rules(world):
    person = world["person"]
    job = record_job(world, person, started_on=days_ago(30))
    referent = world["referent"]
    with pytest.raises(ValidationError) as exc:
        employment_services.end_job(job, membership_of(referent), access=access(referent, person),
                                    ended_on=days_ago(31), reason="x")
    assert "précéder son début" in exc.value.message_dict["ended_on"][0]
    with pytest.raises(PermissionDenied):
        employment_services.end_job(job, membership_of(world["outsider"]), access=access(world["outsider"], person),
                                    ended_on=days_ago(1), reason="x")
    employment_services.end_job(job, membership_of(referent), access=access(referent, person),
                                ended_on=days_ago(1), reason="Démission")
    with pytest.raises(ValidationError, match="déjà terminé"):
        employment_services.end_job(job, membership_of(referent), access=access(referent, person),
                                    ended_on=days_ago(1), reason="Démission")


# --- Pages ----------------------------------------------------------------------------------


def test_employment_page_lists_jobs_and_logs(world, client_for):
    person = world["person"]
    record_job(world, person, started_on=days_ago(40))
    response = client_for(world["member"]).get(f"/personnes/{person.pk}/emploi/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Vendeuse" in html and "Boulangerie Dupain" in html and "En retard" in html
    assert "Renseigner le point" in html and "Enregistrer une reprise d" in html
    assert AccessLog.objects.filter(person=person, user=world["member"],
                                    section=AccessLog.Section.EMPLOYMENT).count() == 1


def test_employment_page_denials(world, client_for):
    person = world["person"]
    url = f"/personnes/{person.pk}/emploi/"
    assert client_for(world["outsider"]).get(url).status_code == 403
    assert client_for(world["gers_officer"]).get(url).status_code == 404
    assert client_for(world["outsider"]).post(url, {}).status_code == 403


def test_employment_post_records_and_errors_keep_values(world, client_for):
    person = world["person"]
    client = client_for(world["referent"])
    url = f"/personnes/{person.pk}/emploi/"
    data = {"employer_name": "Hôtel du Capitole", "job_title": "Réceptionniste", "contract_type": "cdi",
            "started_on": days_ago(3).isoformat(), "employer_siret": "999"}
    html = client.post(url, data).content.decode()
    assert "SIRET n&#x27;est pas valide" in html and "Hôtel du Capitole" in html
    assert client.post(url, {**data, "employer_siret": ""}).status_code == 302
    assert Employment.objects.get(person=person).checkpoints.count() == 3


def test_checkpoint_page_and_idor(world, client_for):
    person = world["person"]
    point = record_job(world, person, started_on=days_ago(40)).checkpoints.get(month=1)
    other = PersonFactory(territory=world["territory"])
    add_to_group(other, world["referent"], FollowUpMembership.Kind.REFERENT)
    client = client_for(world["referent"])
    # The checkpoint of Camille through another person's URL: 404, nothing written.
    assert client.get(f"/personnes/{other.pk}/emploi/points/{point.pk}/").status_code == 404
    response = client.post(f"/personnes/{other.pk}/emploi/points/{point.pk}/",
                           {"done_on": TODAY().isoformat(), "outcome": "in_job", "contacted_person": "on"})
    assert response.status_code == 404
    assert client_for(world["outsider"]).get(f"/personnes/{person.pk}/emploi/points/{point.pk}/").status_code == 403
    url = f"/personnes/{person.pk}/emploi/points/{point.pk}/"
    html = client.post(url, {"done_on": TODAY().isoformat(), "outcome": "in_job",
                             "comment": "À garder"}).content.decode()
    assert "Indiquez qui a été contacté" in html and "À garder" in html
    response = client.post(url, {"done_on": TODAY().isoformat(), "outcome": "in_job", "contacted_employer": "on"})
    assert response.status_code == 302
    point.refresh_from_db()
    assert point.done_on == TODAY() and point.contacted_employer and not point.contacted_person


def test_end_job_page(world, client_for):
    person = world["person"]
    job = record_job(world, person, started_on=days_ago(40))
    url = f"/personnes/{person.pk}/emploi/{job.pk}/fin/"
    client = client_for(world["referent"])
    assert client.get(url).status_code == 200
    html = client.post(url, {"ended_on": TODAY().isoformat(), "end_reason": ""}).content.decode()
    assert "obligatoire" in html
    assert client.post(url, {"ended_on": days_ago(1).isoformat(), "end_reason": "Fin de période d'essai"}
                       ).status_code == 302
    job.refresh_from_db()
    assert job.ended_on == days_ago(1)


# --- Checkpoints to do ----------------------------------------------------------------------


def followed_person_with_job(world, user, started_days_ago, name):
    person = PersonFactory(territory=world["territory"], last_name=name)
    add_to_group(person, user, FollowUpMembership.Kind.REFERENT)
    job = Employment.objects.create(
        person=person, employer_name=f"Employeur {name}", job_title="Agent", contract_type="cdi",
        started_on=days_ago(started_days_ago), created_by=user, structure=user.memberships.first().structure,
    )
    Checkpoint.objects.bulk_create([
        Checkpoint(employment=job, person=person, month=m, due_on=d)
        for m, d in employment_services.checkpoint_due_dates(job.started_on).items()
    ])
    return person, job


def test_due_list_only_my_caseload_overdue_first(world, client_for):
    me = world["new_referent"]
    overdue, _ = followed_person_with_job(world, me, 100, "Ancien")  # 1 and 3 months overdue
    soon, _ = followed_person_with_job(world, me, 28, "Bientot")  # the 1-month point in a few days
    followed_person_with_job(world, me, 1, "Recent")  # nothing due within 7 days
    _, ended = followed_person_with_job(world, me, 100, "Termine")
    Employment.objects.filter(pk=ended.pk).update(ended_on=days_ago(1))
    followed_person_with_job(world, world["referent"], 100, "Autrui")  # not my caseload
    left, _ = followed_person_with_job(world, me, 100, "Parti")
    FollowUpMembership.objects.filter(person=left, user=me).update(end_date=days_ago(1))
    response = client_for(me).get("/suivi-emploi/")
    page = response.context["page"]
    rows = [(c.person.last_name, c.month) for c in page.object_list]
    assert rows == [("Ancien", 1), ("Ancien", 3), ("Bientot", 1)]
    html = response.content.decode()
    assert "AUTRUI" not in html and "PARTI" not in html and "TERMINE" not in html
    assert "En retard" in html


def test_due_list_constant_queries_and_paginated(world, client_for):
    me = world["new_referent"]
    client = client_for(me)
    for i in range(2):
        followed_person_with_job(world, me, 100, f"Petit{i}")
    client.get("/suivi-emploi/")
    with CaptureQueriesContext(connection) as small:
        assert len(client.get("/suivi-emploi/").context["page"].object_list) == 4
    for i in range(8):
        followed_person_with_job(world, me, 100, f"Grand{i}")
    with CaptureQueriesContext(connection) as large:
        assert len(client.get("/suivi-emploi/").context["page"].object_list) == 20
    assert len(large) == len(small)
    for i in range(3):
        followed_person_with_job(world, me, 100, f"Encore{i}")
    response = client.get("/suivi-emploi/")
    assert response.context["page"].paginator.num_pages == 2
    assert len(client.get("/suivi-emploi/?page=2").context["page"].object_list) == 1


def test_due_list_exports_csv_and_xlsx_and_logs(world, client_for):
    me = world["new_referent"]
    person, _ = followed_person_with_job(world, me, 100, "Exporte")
    client = client_for(me)
    response = client.get("/suivi-emploi/?format=csv")
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[0][:4] == ["Nom", "Prénom", "Point à (mois)", "À faire le"]
    assert [r[0] for r in rows[1:]] == ["EXPORTE", "EXPORTE"]
    logs = AccessLog.objects.filter(user=me, section=AccessLog.Section.EXPORT)
    assert list(logs.values_list("person_id", flat=True)) == [person.pk]  # one row per person
    response = client.get("/suivi-emploi/?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(response.streaming_content)[:2] == b"PK"
