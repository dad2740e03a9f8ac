"""Changing an id in a pathways URL never reveals or changes another person's data.

``mine`` is followed by the logged-in référent; ``theirs`` by someone else of the same territory
(card only for me: 403); ``faraway`` lives in another territory (404). Orientation ids of another
person under my person's URL are 404.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from spie.core.models import AccessLog
from spie.pathways import urls as pathway_urls
from spie.pathways.models import EngagementContract, Orientation
from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.people.factories import PersonFactory, add_to_group

from .factories import make_contract, make_orientation

THEIR_REASON = "Violences conjugales signalées par l'assistante sociale"
THEIR_OBJECTIVE = "Quitter le domicile conjugal en sécurité"
THEIR_HOURS_REASON = "Hospitalisation programmée"
SECRETS = [THEIR_REASON, THEIR_OBJECTIVE, THEIR_HOURS_REASON, "Tiphaine", "LEURS"]
PDF = b"%PDF-1.4 secret scan"


@pytest.fixture
def idor(world):
    me = world["outsider"]
    mine = PersonFactory(territory=world["territory"], first_name="Maëlle", last_name="Mienne")
    add_to_group(mine, me, FollowUpMembership.Kind.REFERENT)
    my_orientation = make_orientation(mine, me)
    make_contract(mine, me, world["outsider_structure"])

    theirs = PersonFactory(territory=world["territory"], first_name="Tiphaine", last_name="Leurs")
    add_to_group(theirs, world["referent"], FollowUpMembership.Kind.REFERENT)
    their_orientation = make_orientation(theirs, world["referent"], kind=Orientation.Kind.ORIENTATION)
    Orientation.objects.filter(pk=their_orientation.pk).update(proposal_reason=THEIR_REASON)
    their_contract = make_contract(theirs, world["referent"], world["ref_structure"], status="signed",
                                   signed_days_ago=3, objectives=[{"theme": "", "label": THEIR_OBJECTIVE,
                                                                   "source": "free"}], weekly_hours=5)
    their_contract.hours_reason = THEIR_HOURS_REASON
    their_contract.signed_scan.save("contrat-secret.pdf", SimpleUploadedFile("x.pdf", PDF), save=True)

    faraway = PersonFactory(territory=world["gers"], first_name="Fanny", last_name="Lointaine")
    add_to_group(faraway, world["gers_officer"], FollowUpMembership.Kind.REFERENT)
    far_orientation = make_orientation(faraway, world["gers_officer"])
    far_contract = make_contract(faraway, world["gers_officer"], world["gers_structure"])
    return {
        "me": me, "mine": mine, "my_orientation": my_orientation,
        "theirs": theirs, "their_orientation": their_orientation, "their_contract": their_contract,
        "faraway": faraway, "far_orientation": far_orientation, "far_contract": far_contract,
    }


def args_for(name, person, orientation, version):
    if name in ("pathways:decide", "pathways:refuse", "pathways:cancel"):
        return [person.pk, orientation.pk]
    if name in ("pathways:contract_version", "pathways:contract_print", "pathways:contract_sign",
                "pathways:contract_scan", "pathways:contract_scan_upload"):
        return [person.pk, version]
    return [person.pk]


GET_NAMES = ["pathways:orientations", "pathways:contract", "pathways:contract_edit", "pathways:contract_version",
             "pathways:contract_print", "pathways:contract_sign", "pathways:contract_scan"]
POST_NAMES = ["pathways:propose", "pathways:reorient", "pathways:decide", "pathways:refuse", "pathways:cancel",
              "pathways:contract_edit", "pathways:contract_sign", "pathways:contract_scan_upload"]
POST_DATA = {
    "propose-type": "sociale", "propose-reason": "x", "reorient-type": "sociale", "reorient-reason": "x",
    "decide-type": "sociale", "decide-reason": "x", "refuse-reason": "x", "cancel-reason": "x",
    "person_signed_on": "2026-01-01", "referent_signed_on": "2026-01-01", "weekly_hours": "1",
    "objectifs-TOTAL_FORMS": "0", "objectifs-INITIAL_FORMS": "0", "actions-TOTAL_FORMS": "0",
    "actions-INITIAL_FORMS": "0",
}


def test_every_person_url_of_the_app_is_covered():
    names = {f"pathways:{p.name}" for p in pathway_urls.urlpatterns} - {"pathways:queue"}
    assert names == set(GET_NAMES) | set(POST_NAMES)


def snapshot():
    return (
        sorted(Orientation.objects.values_list("pk", "status", "proposal_reason")),
        sorted(EngagementContract.objects.values_list("pk", "status", "weekly_hours", "version")),
    )


def assert_nothing_leaks(response):
    content = response.content.decode() if not response.streaming else ""
    for secret in SECRETS:
        assert secret not in content
    assert PDF.decode() not in content


@pytest.mark.parametrize("name", GET_NAMES)
def test_get_on_a_person_not_followed_is_403(world, idor, name):
    client = login_client(idor["me"])
    their_args = args_for(name, idor["theirs"], idor["their_orientation"], idor["their_contract"].version)
    before = AccessLog.objects.count()
    response = client.get(reverse(name, args=their_args))
    assert response.status_code == 403
    assert_nothing_leaks(response)
    assert AccessLog.objects.count() == before  # nothing was read


@pytest.mark.parametrize("name", GET_NAMES)
def test_get_on_a_person_of_another_territory_is_404(world, idor, name):
    client = login_client(idor["me"])
    response = client.get(reverse(name, args=args_for(name, idor["faraway"], idor["far_orientation"], 1)))
    assert response.status_code == 404
    assert "Lointaine" not in response.content.decode()


@pytest.mark.parametrize("name", POST_NAMES)
@pytest.mark.parametrize("target", ["theirs", "faraway"])
def test_post_on_someone_else_changes_nothing(world, idor, name, target):
    client = login_client(idor["me"])
    person = idor[target]
    orientation = idor["their_orientation"] if target == "theirs" else idor["far_orientation"]
    before = snapshot()
    data = {**POST_DATA, "scan": SimpleUploadedFile("s.pdf", b"%PDF-1.4", content_type="application/pdf")}
    response = client.post(reverse(name, args=args_for(name, person, orientation, 1)), data)
    assert response.status_code == (403 if target == "theirs" else 404)
    assert_nothing_leaks(response)
    assert snapshot() == before


@pytest.mark.parametrize("name", ["pathways:decide", "pathways:refuse", "pathways:cancel"])
def test_their_orientation_id_under_my_person_is_404(world, idor, name):
    """Even a chargé d'orientation cannot act on an orientation through another person's URL."""
    client = login_client(world["officer"])
    before = snapshot()
    response = client.post(reverse(name, args=[idor["mine"].pk, idor["their_orientation"].pk]), POST_DATA)
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("name", ["pathways:contract_version", "pathways:contract_print",
                                  "pathways:contract_sign", "pathways:contract_scan"])
def test_a_version_my_person_does_not_have_is_404(world, idor, name):
    response = login_client(idor["me"]).get(reverse(name, args=[idor["mine"].pk, 7]))
    assert response.status_code == 404


def test_the_officer_of_another_territory_sees_nothing_of_ours(world, idor):
    client = login_client(world["gers_officer"])
    for name in GET_NAMES:
        args = args_for(name, idor["theirs"], idor["their_orientation"], 1)
        assert client.get(reverse(name, args=args)).status_code == 404
    response = client.get(reverse("pathways:queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Leurs" not in html and "LEURS" not in html and "Mienne" not in html
    assert "Lointaine" in html or "LOINTAINE" in html


def test_nonexistent_person_is_404(world, idor):
    client = login_client(idor["me"])
    for name in GET_NAMES:
        assert client.get(reverse(name, args=args_for(name, type("P", (), {"pk": 999999})(),
                                                       idor["my_orientation"], 1))).status_code == 404
