"""CSV exports of the lists honour the same policies and are written to the access log."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from spie.core.models import AccessLog
from spie.network.models import Membership
from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.network.factories import make_professional
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
