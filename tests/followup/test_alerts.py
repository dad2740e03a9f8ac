"""Alerts of a caseload (spie.followup.alerts): each kind fires at its boundary and not before,
stops for exited persons where it should, never leaks another caseload, and the /alertes/ page
lists, filters, paginates and exports them in a constant number of queries."""

import datetime
import io

import openpyxl
import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from spie.core.models import AccessLog
from spie.followup import alerts
from spie.followup.models import Appointment, Checkpoint, Employment
from spie.pathways import selectors as pathway_selectors
from spie.pathways.models import EngagementContract, Orientation
from spie.people.models import FollowUpMembership, Person
from tests.pathways.conftest import membership_of
from tests.pathways.factories import days_ago, make_contract, make_orientation
from tests.people.factories import PersonFactory, add_to_group


def counts(user):
    return alerts.alert_counts(user, membership_of(user))


def kinds_of(user, person):
    return {a.kind for a in alerts.alert_rows(user, membership_of(user)) if a.person.pk == person.pk}


def followed(world, user=None, **fields):
    """A person of the territory followed by ``user`` (the référent by default), contact today."""
    defaults = {"territory": world["territory"], "rsa_droits_devoirs": False, "last_contact_on": days_ago(0),
                "entered_on": days_ago(0)}
    person = PersonFactory(**{**defaults, **fields})
    add_to_group(person, user or world["referent"], FollowUpMembership.Kind.REFERENT)
    return person


def appointment(person, user, structure, *, hours_ago=2, **fields):
    return Appointment.objects.create(
        person=person, starts_at=timezone.now() - datetime.timedelta(hours=hours_ago), purpose="Entretien",
        with_user=user, structure=structure, created_by=user, **fields,
    )


def checkpoint(person, user, structure, *, due_days_ago=0, done=False, month=1):
    employment = Employment.objects.create(
        person=person, employer_name="Boulangerie Test", job_title="Vendeuse", contract_type="cdd",
        started_on=days_ago(due_days_ago + 30), created_by=user, structure=structure,
    )
    return Checkpoint.objects.create(
        employment=employment, person=person, month=month, due_on=days_ago(due_days_ago),
        done_on=days_ago(0) if done else None,
    )


# --- Each kind at its boundary ---------------------------------------------------------------


def test_nothing_to_report_on_a_fresh_caseload(world):
    followed(world)
    assert counts(world["referent"]) == dict.fromkeys(alerts.KINDS, 0)


@pytest.mark.parametrize(("days", "fires"), [(89, False), (90, False), (91, True), (400, True)])
def test_no_contact_after_the_territory_delay(world, days, fires):
    person = followed(world, last_contact_on=days_ago(days), entered_on=days_ago(500))
    assert (alerts.NO_CONTACT in kinds_of(world["referent"], person)) is fires


def test_no_contact_counts_from_entry_without_any_contact_and_follows_the_setting(world):
    never = followed(world, last_contact_on=None, entered_on=days_ago(91))
    recent = followed(world, last_contact_on=None, entered_on=days_ago(90))
    rows = [a for a in alerts.alert_rows(world["referent"], membership_of(world["referent"]), alerts.NO_CONTACT)]
    assert [(a.person.pk, a.since) for a in rows] == [(never.pk, days_ago(91))]
    territory = world["territory"]
    territory.settings = {"no_contact_alert_days": 30}
    territory.save()
    assert {a.person.pk for a in alerts.alert_rows(world["referent"], membership_of(world["referent"]))} == {
        never.pk, recent.pk
    }


def test_no_contact_not_for_exited_persons(world):
    person = followed(world, last_contact_on=days_ago(200), status=Person.Status.EXITED, exited_on=days_ago(100))
    assert kinds_of(world["referent"], person) == set()


def test_contract_review_due_on_its_date(world):
    ref, structure = world["referent"], world["ref_structure"]
    due = followed(world)
    later = followed(world)
    draft = followed(world)
    for person, review in ((due, days_ago(0)), (later, days_ago(-1))):
        contract = make_contract(person, ref, structure, status=EngagementContract.Status.SIGNED, signed_days_ago=90)
        EngagementContract.objects.filter(pk=contract.pk).update(review_date=review)
    contract = make_contract(draft, ref, structure)
    EngagementContract.objects.filter(pk=contract.pk).update(review_date=days_ago(10))
    assert kinds_of(ref, due) == {alerts.CONTRACT_REVIEW}
    assert kinds_of(ref, later) == set()
    assert kinds_of(ref, draft) == set()
    assert counts(ref)[alerts.CONTRACT_REVIEW] == 1


@pytest.mark.parametrize(("days", "fires"), [(45, False), (46, True)])
def test_orientation_delay_for_a_first_orientation(world, days, fires):
    person = followed(world, rsa_droits_devoirs=True, rsa_rights_opened_on=days_ago(days))
    assert (alerts.ORIENTATION_DELAY in kinds_of(world["referent"], person)) is fires


def test_orientation_delay_of_a_reorientation_counts_from_the_request(world):
    ref, officer = world["referent"], world["officer"]
    person = followed(world, rsa_droits_devoirs=True, rsa_rights_opened_on=days_ago(400))
    make_orientation(person, officer, status=Orientation.Status.DECIDED, proposed_days_ago=300,
                     decided_days_ago=290, structure=world["ref_structure"], referent=ref)
    make_contract(person, ref, world["ref_structure"], status=EngagementContract.Status.SIGNED, signed_days_ago=280)
    assert alerts.ORIENTATION_DELAY not in kinds_of(ref, person)
    make_orientation(person, ref, kind=Orientation.Kind.REORIENTATION, proposed_days_ago=46)
    rows = list(alerts.alert_rows(ref, membership_of(ref), alerts.ORIENTATION_DELAY))
    assert [(a.person.pk, a.since) for a in rows] == [(person.pk, days_ago(46))]


def test_orientation_alert_agrees_with_the_queue(world):
    """The alert reuses the queue's definition: same persons as the queue's "délai dépassé"."""
    ref, officer = world["referent"], world["officer"]
    cases = [
        followed(world, rsa_droits_devoirs=True, rsa_rights_opened_on=days_ago(60)),
        followed(world, rsa_droits_devoirs=True, rsa_rights_opened_on=days_ago(10)),
        followed(world, rsa_droits_devoirs=False, rsa_rights_opened_on=days_ago(80)),
        followed(world, rsa_droits_devoirs=False, rsa_rights_opened_on=None, entered_on=days_ago(50)),
    ]
    make_orientation(cases[2], officer, proposed_days_ago=5)  # pending: waits since rights opened
    make_orientation(cases[3], officer, kind=Orientation.Kind.REORIENTATION, proposed_days_ago=3)
    queue = set(
        pathway_selectors.orientation_queue(
            world["territory"], pathway_selectors.QueueFilters(over_only=True)
        ).values_list("pk", flat=True)
    )
    mine = {a.person.pk for a in alerts.alert_rows(ref, membership_of(ref), alerts.ORIENTATION_DELAY)}
    assert mine == queue & {p.pk for p in cases} == {cases[0].pk, cases[2].pk}


@pytest.mark.parametrize(("days", "fires"), [(30, False), (31, True)])
def test_contract_delay_after_the_decision(world, days, fires):
    ref = world["referent"]
    person = followed(world)
    make_orientation(person, world["officer"], status=Orientation.Status.DECIDED, proposed_days_ago=days + 5,
                     decided_days_ago=days, structure=world["ref_structure"], referent=ref)
    assert (alerts.CONTRACT_DELAY in kinds_of(ref, person)) is fires


def test_contract_delay_stops_once_a_contract_is_signed(world):
    ref = world["referent"]
    person = followed(world)
    make_orientation(person, world["officer"], status=Orientation.Status.DECIDED, proposed_days_ago=70,
                     decided_days_ago=60, structure=world["ref_structure"], referent=ref)
    assert alerts.CONTRACT_DELAY in kinds_of(ref, person)
    make_contract(person, ref, world["ref_structure"], status=EngagementContract.Status.SIGNED, signed_days_ago=1)
    assert alerts.CONTRACT_DELAY not in kinds_of(ref, person)


def test_attendance_missing_for_my_past_appointments_only(world):
    ref, member = world["referent"], world["member"]
    person = world["person"]
    mine = appointment(person, ref, world["ref_structure"])
    appointment(person, member, world["other_structure"])  # the member's, not mine
    appointment(person, ref, world["ref_structure"], hours_ago=-2)  # not started yet
    appointment(person, ref, world["ref_structure"], attendance=Appointment.Attendance.ABSENT)
    appointment(person, ref, world["ref_structure"], status=Appointment.Status.CANCELLED)
    assert counts(ref)[alerts.ATTENDANCE_MISSING] == 1
    assert counts(member)[alerts.ATTENDANCE_MISSING] == 1
    rows = list(alerts.alert_rows(ref, membership_of(ref), alerts.ATTENDANCE_MISSING))
    assert [(a.person.pk, a.since) for a in rows] == [(person.pk, timezone.localtime(mine.starts_at).date())]


def test_checkpoint_due_on_its_date_until_done(world):
    ref = world["referent"]
    due = followed(world)
    later = followed(world)
    done = followed(world)
    checkpoint(due, ref, world["ref_structure"], due_days_ago=0)
    checkpoint(later, ref, world["ref_structure"], due_days_ago=-1)
    checkpoint(done, ref, world["ref_structure"], due_days_ago=10, done=True)
    assert {a.person.pk for a in alerts.alert_rows(ref, membership_of(ref))} == {due.pk}


def test_checkpoint_due_stops_once_the_job_has_ended(world):
    ref = world["referent"]
    person = followed(world)
    point = checkpoint(person, ref, world["ref_structure"], due_days_ago=5)
    assert kinds_of(ref, person) == {alerts.CHECKPOINT_DUE}
    assert counts(ref)[alerts.CHECKPOINT_DUE] == 1
    Employment.objects.filter(pk=point.employment_id).update(ended_on=days_ago(1), end_reason="Fin de contrat")
    assert kinds_of(ref, person) == set()
    assert counts(ref)[alerts.CHECKPOINT_DUE] == 0
    scope = alerts.personal_scope(ref, membership_of(ref))
    assert not Person.objects.filter(pk__in=alerts.person_ids(scope, alerts.CHECKPOINT_DUE)).exists()


def test_exited_person_keeps_post_hiring_and_attendance_alerts_only(world):
    ref = world["referent"]
    person = followed(world, last_contact_on=days_ago(200), status=Person.Status.EXITED, exited_on=days_ago(10))
    contract = make_contract(person, ref, world["ref_structure"], status=EngagementContract.Status.SIGNED,
                             signed_days_ago=300)
    EngagementContract.objects.filter(pk=contract.pk).update(review_date=days_ago(5))
    checkpoint(person, ref, world["ref_structure"], due_days_ago=3)
    appointment(person, ref, world["ref_structure"])
    assert kinds_of(ref, person) == {alerts.CHECKPOINT_DUE, alerts.ATTENDANCE_MISSING}


# --- Caseloads never leak ----------------------------------------------------------------------


def test_other_caseloads_never_leak(world):
    ref, outsider, colleague = world["referent"], world["outsider"], world["colleague"]
    stranger = followed(world, user=outsider, last_contact_on=days_ago(300))
    checkpoint(stranger, outsider, world["outsider_structure"], due_days_ago=5)
    appointment(stranger, ref, world["ref_structure"])  # an appointment with me, but not in my caseload
    gone = followed(world, last_contact_on=days_ago(300))
    FollowUpMembership.objects.filter(person=gone, user=ref).update(end_date=days_ago(1))
    gers = PersonFactory(territory=world["gers"], last_contact_on=days_ago(300))
    add_to_group(gers, ref)  # followed in another territory than the active one
    assert counts(ref) == dict.fromkeys(alerts.KINDS, 0)
    assert counts(colleague) == dict.fromkeys(alerts.KINDS, 0)
    assert counts(outsider)[alerts.NO_CONTACT] == 1
    assert counts(outsider)[alerts.CHECKPOINT_DUE] == 1


# --- The list -------------------------------------------------------------------------------


def test_alert_rows_oldest_first_filtered_and_paginated(world):
    ref = world["referent"]
    persons = [followed(world, last_contact_on=days_ago(100 + i), entered_on=days_ago(500)) for i in range(5)]
    checkpoint(persons[0], ref, world["ref_structure"], due_days_ago=300)
    rows = alerts.alert_rows(ref, membership_of(ref))
    assert rows.count() == 6
    listed = list(rows)
    assert [a.since for a in listed] == sorted(a.since for a in listed)
    assert listed[0].kind == alerts.CHECKPOINT_DUE
    page = Paginator(rows, 4).get_page(2)
    assert [a.person.pk for a in page.object_list] == [persons[1].pk, persons[0].pk]
    only = alerts.alert_rows(ref, membership_of(ref), alerts.CHECKPOINT_DUE)
    assert [(a.person.pk, a.kind) for a in only] == [(persons[0].pk, alerts.CHECKPOINT_DUE)]
    ids = list(rows.person_ids())
    assert sorted(ids) == sorted(p.pk for p in persons)  # each person once, although persons[0] has two


def test_summary_counts_alerts_and_persons(world):
    ref = world["referent"]
    person = followed(world)
    appointment(person, ref, world["ref_structure"], hours_ago=2)
    appointment(person, ref, world["ref_structure"], hours_ago=30)
    summary = alerts.summary(alerts.personal_scope(ref, membership_of(ref)))
    assert summary[alerts.ATTENDANCE_MISSING] == (2, 1)


# --- Pages ----------------------------------------------------------------------------------


def _xlsx_rows(response):
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_alerts_page_lists_filters_and_links(world, client_for):
    ref = world["referent"]
    late = followed(world, last_name="Tardif", last_contact_on=days_ago(120))
    job = followed(world, last_name="Embauche")
    checkpoint(job, ref, world["ref_structure"], due_days_ago=2)
    client = client_for(ref)
    response = client.get(reverse("followup:alerts"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "TARDIF" in text and "EMBAUCHE" in text
    assert reverse("people:record", args=[late.pk]) in text
    response = client.get(reverse("followup:alerts"), {"type": alerts.CHECKPOINT_DUE})
    text = response.content.decode()
    assert "EMBAUCHE" in text and "TARDIF" not in text
    assert alerts.person_url(alerts.CHECKPOINT_DUE, job.pk) in text
    response = client.get(reverse("followup:alerts"), {"type": "drop table"})  # unknown: all kinds
    assert response.status_code == 200 and "TARDIF" in response.content.decode()


def test_alerts_page_is_not_for_coordinators(world, client_for):
    assert client_for(world["coordinator"]).get(reverse("followup:alerts")).status_code == 403


def test_home_shows_alert_cards_linking_to_the_list(world, client_for):
    ref = world["referent"]
    followed(world, last_contact_on=days_ago(120))
    response = client_for(ref).get(reverse("people:home"))
    cards = {code: n for code, _label, n, _persons in response.context["alert_cards"]}
    assert cards[alerts.NO_CONTACT] == 1
    assert f'{reverse("followup:alerts")}?type=no_contact' in response.content.decode()


def test_alerts_export_csv_and_xlsx_logged_per_person(world, client_for):
    ref = world["referent"]
    late = followed(world, last_name="=Formule", last_contact_on=days_ago(120))
    appointment(late, ref, world["ref_structure"])
    client = client_for(ref)
    response = client.get(reverse("followup:alerts"), {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeffNom;Prénom;Alerte")
    assert text.count("'=FORMULE") == 2
    assert "Présence à renseigner" in text and "Sans contact" in text
    logged = AccessLog.objects.filter(user=ref, section=AccessLog.Section.EXPORT)
    assert list(logged.values_list("person_id", flat=True)) == [late.pk]  # once per person
    rows = _xlsx_rows(client.get(reverse("followup:alerts"), {"format": "xlsx", "type": alerts.NO_CONTACT}))
    assert rows[0][:3] == ["Nom", "Prénom", "Alerte"]
    assert len(rows) == 2
    assert rows[1][3] == datetime.datetime.combine(days_ago(120), datetime.time())
    assert logged.count() == 2


def test_alerts_page_query_count_is_constant(world, client_for):
    ref = world["referent"]
    client = client_for(ref)

    def add(n):
        for _ in range(n):
            person = followed(world, last_contact_on=days_ago(120))
            appointment(person, ref, world["ref_structure"])
            checkpoint(person, ref, world["ref_structure"], due_days_ago=1)

    def measure(params=None):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("followup:alerts"), params or {})
        assert response.status_code == 200
        return len(ctx.captured_queries), response

    add(1)
    client.get(reverse("followup:alerts"))
    small, _ = measure()
    small_kind, _ = measure({"type": alerts.NO_CONTACT})
    add(20)
    large, response = measure()
    assert response.context["page"].paginator.count == 63
    assert len(response.context["page"].object_list) == 50
    assert large == small
    assert measure({"type": alerts.NO_CONTACT})[0] == small_kind
