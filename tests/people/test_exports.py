"""CSV exports of the lists honour the same policies and are written to the access log."""

import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from spie.core.models import AccessLog
from spie.network.models import Membership
from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.network.factories import make_professional
from tests.pathways.factories import make_orientation
from tests.people.factories import PersonFactory, add_to_group


def body(response):
    assert response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.fixture
def caseload(db):
    referent = make_professional()
    followed = [PersonFactory(last_name=name) for name in ("Alpha", "Bravo", "Charlie")]
    for person in followed:
        add_to_group(person, referent, FollowUpMembership.Kind.REFERENT)
    formula = PersonFactory(last_name="=HYPERLINK(\"http://x\")", first_name="Piège")
    add_to_group(formula, referent, FollowUpMembership.Kind.REFERENT)
    stranger = PersonFactory(last_name="Etranger")
    add_to_group(stranger, make_professional(), FollowUpMembership.Kind.REFERENT)
    return referent, followed + [formula], stranger


def test_caseload_export_lists_only_followed_persons_and_logs_each(caseload):
    referent, followed, stranger = caseload
    text = body(login_client(referent).get(reverse("people:home"), {"format": "csv"}))
    assert text.startswith("\ufeffNom;Prénom")
    assert "ALPHA" in text and "ETRANGER" not in text
    assert "'=HYPERLINK" in text  # neutralised
    logged = set(AccessLog.objects.filter(section="export", user=referent).values_list("person_id", flat=True))
    assert logged == {p.pk for p in followed}


def test_caseload_export_honours_filters(caseload):
    referent, _followed, _stranger = caseload
    text = body(login_client(referent).get(reverse("people:home"), {"format": "csv", "q": "bravo"}))
    assert "BRAVO" in text and "ALPHA" not in text


def test_access_log_export_only_for_who_sees_the_log(caseload):
    referent, followed, _ = caseload
    person = followed[0]
    url = reverse("people:access_log", args=[person.pk])
    login_client(referent).get(reverse("people:record", args=[person.pk]))
    assert "Dossier" in body(login_client(referent).get(url, {"format": "csv"}))
    member = make_professional()
    add_to_group(person, member)
    assert login_client(member).get(url, {"format": "csv"}).status_code == 403


def test_directory_export(db):
    user = make_professional(first_name="Zoé", last_name="Annuaire")
    text = body(login_client(user).get(reverse("network:directory"), {"format": "csv"}))
    assert "Annuaire;Zoé" in text


def test_queue_export_is_for_chargés_d_orientation(db):
    chargee = make_professional(role=Membership.Role.ORIENTATION)
    person = PersonFactory(rsa_droits_devoirs=True,
                           rsa_rights_opened_on=timezone.localdate() - datetime.timedelta(days=60))
    add_to_group(person, make_professional(), FollowUpMembership.Kind.REFERENT)
    text = body(login_client(chargee).get(reverse("pathways:queue"), {"format": "csv"}))
    assert person.last_name.upper() in text
    assert AccessLog.objects.filter(section="export", user=chargee, person=person).exists()
    assert login_client(make_professional()).get(reverse("pathways:queue"), {"format": "csv"}).status_code == 403


# --- XLSX: every list that exports CSV also exports XLSX --------------------------------------


def xlsx(response):
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_caseload_xlsx_lists_only_followed_persons_and_logs_each(caseload):
    referent, followed, stranger = caseload
    rows = xlsx(login_client(referent).get(reverse("people:home"), {"format": "xlsx"}))
    assert rows[0][:3] == ["Nom", "Prénom", "Date de naissance"]
    names = [row[0] for row in rows[1:]]
    assert names == ["ALPHA", "BRAVO", "CHARLIE", "'=HYPERLINK(\"HTTP://X\")"]  # folded names order
    assert isinstance(rows[1][2], datetime.datetime)  # birth date as a real date cell
    logged = set(AccessLog.objects.filter(section="export", user=referent).values_list("person_id", flat=True))
    assert logged == {p.pk for p in followed}


def test_caseload_export_is_streamed_from_an_iterator(caseload):
    """Export queries do not grow with the caseload: log ids + rows, whatever the number of rows."""
    referent, followed, _ = caseload
    client = login_client(referent)
    client.get(reverse("people:home"))

    def run():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("people:home"), {"format": "csv"})
            body(response)
        return len(ctx.captured_queries)

    small = run()
    for i in range(30):
        add_to_group(PersonFactory(last_name=f"Ajout{i}"), referent, FollowUpMembership.Kind.REFERENT)
    assert run() == small


def test_access_log_xlsx_and_its_export_is_logged(caseload):
    referent, followed, _ = caseload
    person = followed[0]
    client = login_client(referent)
    client.get(reverse("people:record", args=[person.pk]))
    rows = xlsx(client.get(reverse("people:access_log", args=[person.pk]), {"format": "xlsx"}))
    assert rows[0] == ["Date", "Professionnel", "Structure", "Section", "Canal", "Motif"]
    assert any(row[3] == "Dossier (identité, situation, droits, suivi)" for row in rows[1:])
    assert isinstance(rows[1][0], datetime.datetime)
    assert AccessLog.objects.filter(person=person, user=referent, section="export").count() == 1


def test_directory_xlsx(db):
    user = make_professional(first_name="Zoé", last_name="Annuaire")
    rows = xlsx(login_client(user).get(reverse("network:directory"), {"format": "xlsx"}))
    assert rows[0][:2] == ["Nom", "Prénom"]
    assert ["Annuaire", "Zoé"] in [row[:2] for row in rows[1:]]


def test_queue_xlsx_both_tabs_for_chargés_only(db):
    chargee = make_professional(role=Membership.Role.ORIENTATION)
    waiting = PersonFactory(last_name="Attente", rsa_droits_devoirs=True,
                            rsa_rights_opened_on=timezone.localdate() - datetime.timedelta(days=60))
    add_to_group(waiting, make_professional(), FollowUpMembership.Kind.REFERENT)
    oriented = PersonFactory(last_name="Orientee")
    add_to_group(oriented, make_professional(), FollowUpMembership.Kind.REFERENT)
    make_orientation(oriented, chargee, status="decided", proposed_days_ago=50, decided_days_ago=40)
    client = login_client(chargee)
    rows = xlsx(client.get(reverse("pathways:queue"), {"format": "xlsx"}))
    assert rows[0][:2] == ["Nom", "Prénom"] and ["ATTENTE"] == [row[0] for row in rows[1:]]
    assert rows[1][4] == 60 and rows[1][5] == "oui"  # days as a number, over the delay
    rows = xlsx(client.get(reverse("pathways:queue"), {"format": "xlsx", "onglet": "contrats"}))
    assert [row[0] for row in rows[1:]] == ["ORIENTEE"] and rows[1][3] == 40
    logged = AccessLog.objects.filter(section="export", user=chargee)
    assert sorted(logged.values_list("person_id", flat=True)) == sorted([waiting.pk, oriented.pk])
    assert login_client(make_professional()).get(reverse("pathways:queue"), {"format": "xlsx"}).status_code == 403
