"""API v1 — orientations (workflow, queue, delays) and engagement contracts (draft, edit, sign)."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from spie.core.models import AccessLog
from spie.network.models import Membership, Structure
from spie.pathways.models import EngagementContract, Orientation
from spie.people.models import FollowUpMembership, Person
from tests.diagnostics.support import REQUIRED_SPIE
from tests.network.factories import StructureFactory, make_professional
from tests.pathways.factories import days_ago, make_contract, make_orientation
from tests.people.factories import PersonFactory, add_to_group

QUEUE = "/api/v1/orientations/queue/"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
QUEUE_CARD_KEYS = {
    "id", "first_name", "last_name", "birth_year", "commune_name", "referent_structure_name", "waiting_since",
    "days_waiting", "target_days", "over_delay", "pending_orientation",
}


def person_url(person_id, section):
    return f"/api/v1/persons/{person_id}/{section}/"


def orientation_url(orientation_id, step):
    return f"/api/v1/orientations/{orientation_id}/{step}/"


def contract_url(contract_id, section=""):
    return f"/api/v1/contracts/{contract_id}/" + (f"{section}/" if section else "")


def logs(since=0):
    rows = AccessLog.objects.filter(id__gt=since).order_by("id")
    return list(rows.values_list("user_id", "section", "channel", "reason"))


def last_log():
    return AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def pnet(net):
    """The API network plus a chargé d'orientation (and one in the Gers), a coordinator, and a
    professional of Mission locale Bravo who may be designated référent unique."""
    net.departement = StructureFactory(territory=net.territory, name="Département — insertion",
                                       kind=Structure.Kind.DEPARTEMENT)
    net.officer = make_professional(role=Membership.Role.ORIENTATION, structure=net.departement,
                                    last_name="Orientation")
    net.coordinator = make_professional(role=Membership.Role.COORDINATOR, structure=net.departement,
                                        last_name="Coordination")
    gers_departement = StructureFactory(territory=net.gers, name="Département du Gers",
                                        kind=Structure.Kind.DEPARTEMENT)
    net.gers_officer = make_professional(role=Membership.Role.ORIENTATION, structure=gers_departement)
    net.new_referent = make_professional(structure=net.struct_b, last_name="Nouvelle")
    return net


def propose(client, person_id, **body):
    payload = {"type": "professionnelle", "reason": "Projet clair, pas de frein fort", **body}
    return client.post(person_url(person_id, "orientations"), payload, format="json")


def decision(net, **body):
    return {"type": "professionnelle", "structure": net.struct_b.pk, "referent": net.new_referent.pk,
            "reason": "", **body}


# --- Proposal ------------------------------------------------------------------------------------


def test_member_proposes_an_orientation(pnet, api_for):
    response = propose(api_for(pnet.member), pnet.person.pk, structure=pnet.struct_b.pk)

    assert response.status_code == 201, response.json()
    data = response.json()
    orientation = Orientation.objects.get(pk=data["id"])
    assert (orientation.status, orientation.proposed_by, orientation.proposed_structure) == (
        "proposed", pnet.member, pnet.struct_b
    )
    assert data["status"] == "proposed" and data["kind"] == "orientation"
    assert data["proposed_type_label"] == "Professionnelle"
    assert data["proposed_structure"]["name"] == "Mission locale Bravo"
    assert [(t["from_status"], t["to_status"]) for t in data["transitions"]] == [("", "proposed")]
    assert data["transitions"][0]["by"]["id"] == pnet.member.pk
    assert sorted(data["next_statuses"]) == ["cancelled", "decided"]
    assert logs() == [(pnet.member.pk, "orientation", "api", "proposition")]

    again = propose(api_for(pnet.referent), pnet.person.pk)
    assert again.status_code == 400
    assert "déjà en attente" in again.json()["non_field_errors"][0]


def test_proposal_refusals(pnet, api_for):
    url = person_url(pnet.person.pk, "orientations")
    body = {"type": "professionnelle", "reason": "Motif"}
    response = api_for(pnet.admin_a).post(url, body, format="json")  # opens the record, not in the group
    assert response.status_code == 403
    assert response.json()["detail"] == "Vous ne pouvez pas proposer d'orientation pour cette personne."
    for user in (pnet.outsider, pnet.coordinator):
        response = api_for(user).post(url, body, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Vous n'avez pas accès aux orientations et au contrat de cette personne."
    for user in (pnet.foreigner, pnet.gers_officer):
        response = api_for(user).post(url, body, format="json")
        assert response.status_code == 404
        assert response.json()["detail"] == "Personne introuvable."
    assert not Orientation.objects.exists()
    assert not AccessLog.objects.exists()


def test_proposal_validation_in_french(pnet, api_for):
    client = api_for(pnet.referent)
    url = person_url(pnet.person.pk, "orientations")
    response = client.post(url, {"reason": "Motif"}, format="json")
    assert response.status_code == 400
    assert response.json()["type"] == [
        "Choisissez le type d'orientation (ou indiquez le diagnostic dont elle découle)."
    ]
    response = client.post(url, {"type": "autre", "reason": "Motif"}, format="json")
    assert response.status_code == 400
    assert "n'est pas un choix valide" in response.json()["type"][0]
    response = client.post(url, {"type": "sociale"}, format="json")
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["Indiquez le motif de la proposition."]
    response = propose(client, pnet.person.pk, structure=pnet.struct_d.pk)  # a Gers structure
    assert response.status_code == 400
    assert response.json()["structure"] == ["Cette structure n'est pas une structure active du territoire."]
    response = propose(client, pnet.person.pk, diagnostic=999999)
    assert response.status_code == 400
    assert response.json()["diagnostic"] == ["Ce diagnostic n'est pas un diagnostic terminé de cette personne."]
    assert not Orientation.objects.exists()


def test_chargé_dorientation_may_propose(pnet, api_for):
    assert propose(api_for(pnet.officer), pnet.person.pk).status_code == 201


# --- Reading a person's orientations -------------------------------------------------------------


def test_orientations_with_transitions_delays_and_allowed_actions(pnet, api_for):
    Person.objects.filter(pk=pnet.person.pk).update(rsa_rights_opened_on=days_ago(50))
    cancelled = make_orientation(pnet.person, pnet.member, status=Orientation.Status.CANCELLED, proposed_days_ago=9)
    pending = make_orientation(pnet.person, pnet.referent, proposed_days_ago=2)

    response = api_for(pnet.member).get(person_url(pnet.person.pk, "orientations"))

    assert response.status_code == 200
    data = response.json()
    assert [o["id"] for o in data["orientations"]] == [pending.pk, cancelled.pk]
    assert data["pending"] == pending.pk
    assert data["orientation_delay"] == {
        "since": days_ago(50).isoformat(), "until": None, "target": 45, "days": 50, "over_delay": True,
        "remaining": -5, "done": False,
    }
    assert data["contract_delay"] is None
    assert data["allowed"] == {"propose": False, "reorient": False, "decide": False, "refuse": False,
                               "cancel": False}
    assert data["orientations"][1]["transitions"][0]["to_status"] == "proposed"
    assert logs() == [(pnet.member.pk, "orientation", "api", "")]

    officer_view = api_for(pnet.officer).get(person_url(pnet.person.pk, "orientations")).json()
    assert officer_view["allowed"]["decide"] is True and officer_view["allowed"]["cancel"] is True
    assert api_for(pnet.referent).get(person_url(pnet.person.pk, "orientations")).json()["allowed"]["cancel"]
    assert api_for(pnet.outsider).get(person_url(pnet.person.pk, "orientations")).status_code == 403
    assert api_for(pnet.coordinator).get(person_url(pnet.person.pk, "orientations")).status_code == 403
    assert api_for(pnet.foreigner).get(person_url(pnet.person.pk, "orientations")).status_code == 404
    assert len(logs()) == 3  # member, chargé d'orientation, référent: refusals are not logged


# --- Decision ------------------------------------------------------------------------------------


def test_chargé_dorientation_decides_and_the_new_referent_takes_over(pnet, api_for):
    orientation = make_orientation(pnet.person, pnet.member)

    response = api_for(pnet.officer).post(orientation_url(orientation.pk, "decide"), decision(pnet), format="json")

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["status"] == "decided" and data["decided_type"] == "professionnelle"
    assert data["decided_structure"]["id"] == pnet.struct_b.pk
    assert data["decided_referent"]["id"] == pnet.new_referent.pk
    assert data["decided_by"]["id"] == pnet.officer.pk
    assert [t["to_status"] for t in data["transitions"]] == ["proposed", "decided"]
    referent = FollowUpMembership.objects.get(person=pnet.person, kind="referent", end_date__isnull=True)
    assert (referent.user, referent.structure) == (pnet.new_referent, pnet.struct_b)
    assert FollowUpMembership.objects.get(person=pnet.person, user=pnet.referent, end_date__isnull=True).kind == (
        "member"
    )
    assert logs() == [(pnet.officer.pk, "orientation", "api", "décision")]

    again = api_for(pnet.officer).post(orientation_url(orientation.pk, "decide"), decision(pnet), format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == "Cette demande n'est plus en attente de décision (statut : décidée)."


def test_decision_refusals(pnet, api_for):
    orientation = make_orientation(pnet.person, pnet.member)
    url = orientation_url(orientation.pk, "decide")
    for user in (pnet.referent, pnet.member, pnet.admin_a):
        response = api_for(user).post(url, decision(pnet), format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Seul un chargé d'orientation du territoire décide d'une orientation."
    for user in (pnet.coordinator, pnet.outsider):
        assert api_for(user).post(url, decision(pnet), format="json").status_code == 403
    for user in (pnet.gers_officer, pnet.foreigner):
        response = api_for(user).post(url, decision(pnet), format="json")
        assert response.status_code == 404
        assert response.json()["detail"] == "Orientation introuvable."
    response = api_for(pnet.officer).post(orientation_url(999999, "decide"), decision(pnet), format="json")
    assert response.status_code == 404
    orientation.refresh_from_db()
    assert orientation.status == "proposed"
    assert not AccessLog.objects.exists()


def test_decision_validation_in_french(pnet, api_for):
    orientation = make_orientation(pnet.person, pnet.member)
    client = api_for(pnet.officer)
    url = orientation_url(orientation.pk, "decide")

    response = client.post(url, {}, format="json")
    assert response.status_code == 400
    assert response.json()["structure"] == ["Ce champ est obligatoire."]
    # The référent chosen must work in the structure chosen.
    response = client.post(url, decision(pnet, referent=pnet.outsider.pk), format="json")
    assert response.status_code == 400
    assert "référent de la structure « Mission locale Bravo »" in response.json()["referent"][0]
    # A coordinator of the structure is not eligible (service check).
    response = client.post(url, decision(pnet, structure=pnet.departement.pk, referent=pnet.coordinator.pk),
                           format="json")
    assert response.status_code == 400
    assert "n'est pas un professionnel actif" in response.json()["non_field_errors"][0]
    response = client.post(url, decision(pnet, type="sociale"), format="json")
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == [
        "Indiquez le motif : l'orientation décidée diffère de la proposition."
    ]
    orientation.refresh_from_db()
    assert orientation.status == "proposed"


# --- Réorientation, refusal, cancellation ---------------------------------------------------------


def test_reorientation_requested_by_the_referent_then_refused(pnet, api_for):
    make_orientation(pnet.person, pnet.officer, status=Orientation.Status.DECIDED, structure=pnet.struct_a,
                     referent=pnet.referent, proposed_days_ago=20, decided_days_ago=10)
    url = person_url(pnet.person.pk, "reorientation")
    body = {"type": "sociale", "structure": pnet.struct_c.pk, "reason": "Logement à régler d'abord"}

    denied = api_for(pnet.member).post(url, body, format="json")
    assert denied.status_code == 403
    assert denied.json()["detail"] == "Seul le référent unique peut demander une réorientation."
    missing = api_for(pnet.referent).post(url, {"type": "sociale"}, format="json")
    assert missing.status_code == 400 and missing.json()["reason"] == ["Ce champ est obligatoire."]

    response = api_for(pnet.referent).post(url, body, format="json")
    assert response.status_code == 201, response.json()
    request_id = response.json()["id"]
    assert response.json()["kind"] == "reorientation"
    # A first orientation may not be proposed once one was decided.
    assert propose(api_for(pnet.member), pnet.person.pk).status_code == 400

    refuse_url = orientation_url(request_id, "refuse")
    assert api_for(pnet.referent).post(refuse_url, {"reason": "Non"}, format="json").status_code == 403
    blank = api_for(pnet.officer).post(refuse_url, {"reason": ""}, format="json")
    assert blank.status_code == 400 and blank.json()["reason"] == ["Ce champ ne peut être vide."]
    refused = api_for(pnet.officer).post(refuse_url, {"reason": "Accompagnement actuel adapté"}, format="json")
    assert refused.status_code == 200
    assert refused.json()["status"] == "refused" and refused.json()["decision_reason"] == "Accompagnement actuel adapté"
    assert [r[1:] for r in logs()] == [("orientation", "api", "demande de réorientation"),
                                       ("orientation", "api", "refus")]


def test_a_first_orientation_cannot_be_refused(pnet, api_for):
    orientation = make_orientation(pnet.person, pnet.member)
    response = api_for(pnet.officer).post(orientation_url(orientation.pk, "refuse"), {"reason": "Non"},
                                          format="json")
    assert response.status_code == 400
    assert response.json()["non_field_errors"][0].startswith("Transition impossible")


def test_cancel_by_its_author_not_by_another_member(pnet, api_for):
    orientation = make_orientation(pnet.person, pnet.member)
    url = orientation_url(orientation.pk, "cancel")
    denied = api_for(pnet.colleague).post(url, {"reason": "Erreur"}, format="json")
    assert denied.status_code == 403
    assert denied.json()["detail"] == "Vous ne pouvez pas annuler cette demande."
    assert api_for(pnet.member).post(url, {}, format="json").status_code == 400

    response = api_for(pnet.member).post(url, {"reason": "Proposition faite par erreur"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert api_for(pnet.member).post(url, {"reason": "Encore"}, format="json").status_code == 409
    assert logs() == [(pnet.member.pk, "orientation", "api", "annulation")]


# --- Queue ---------------------------------------------------------------------------------------


def test_queue_for_chargés_dorientation_only_cards_and_no_log(pnet, api_for):
    Person.objects.filter(pk=pnet.person.pk).update(rsa_rights_opened_on=days_ago(60))
    recent = PersonFactory(territory=pnet.territory, last_name="Recent", rsa_rights_opened_on=days_ago(5))
    add_to_group(recent, pnet.outsider, FollowUpMembership.Kind.REFERENT)
    make_orientation(recent, pnet.outsider, structure=pnet.struct_c)

    response = api_for(pnet.officer).get(QUEUE)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert (first["id"], second["id"]) == (pnet.person.pk, recent.pk)  # most days waiting first
    assert set(first) == QUEUE_CARD_KEYS
    assert (first["days_waiting"], first["over_delay"], first["target_days"]) == (60, True, 45)
    assert (second["days_waiting"], second["over_delay"]) == (5, False)
    assert first["birth_year"] == 1985 and first["commune_name"] == "Toulouse"
    assert first["referent_structure_name"] == "Association Alpha"
    assert first["pending_orientation"] is None
    assert second["pending_orientation"]["proposed_structure"]["name"] == "CCAS Charlie"
    assert second["pending_orientation"]["kind"] == "orientation"
    assert not AccessLog.objects.exists()

    over = api_for(pnet.officer).get(QUEUE, {"over_delay": "true"}).json()
    assert [p["id"] for p in over["results"]] == [pnet.person.pk]
    by_structure = api_for(pnet.officer).get(QUEUE, {"structure": pnet.struct_c.pk}).json()
    assert [p["id"] for p in by_structure["results"]] == [recent.pk]
    assert api_for(pnet.officer).get(QUEUE, {"public": "nope"}).status_code == 400
    # The Gers chargé d'orientation sees the Gers only.
    assert [p["id"] for p in api_for(pnet.gers_officer).get(QUEUE).json()["results"]] == [pnet.gers_person.pk]
    for user in (pnet.referent, pnet.member, pnet.admin_a, pnet.coordinator):
        response = api_for(user).get(QUEUE)
        assert response.status_code == 403
        assert response.json()["detail"] == "La file des orientations est réservée aux chargés d'orientation."
    assert not AccessLog.objects.exists()


# --- Contracts -----------------------------------------------------------------------------------


def test_referent_creates_edits_and_signs_a_contract_with_a_scan(pnet, api_for):
    client = api_for(pnet.referent)
    created = client.post(person_url(pnet.person.pk, "contracts"), {
        "objectives": [{"label": "Trouver un emploi dans la restauration", "theme": "emploi"}],
        "actions": [{"label": "Atelier CV", "hours": 3, "due": "2026-12-15"}],
    }, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["version"], data["status"], data["weekly_hours"]) == (1, "draft", 15)
    assert data["objectives"] == [
        {"theme": "emploi", "label": "Trouver un emploi dans la restauration", "source": "free"}
    ]
    assert data["actions"] == [{"label": "Atelier CV", "theme": "", "hours": 3.0, "due": "2026-12-15"}]
    assert data["referent"]["id"] == pnet.referent.pk and data["structure"]["name"] == "Association Alpha"

    reduced = client.patch(contract_url(data["id"]), {"weekly_hours": 10}, format="json")
    assert reduced.status_code == 400
    assert reduced.json()["hours_reason"] == ["Indiquez le motif de la durée réduite (moins de 15 h par semaine)."]
    edited = client.patch(contract_url(data["id"]), {"weekly_hours": 10, "hours_reason": "Garde d'enfant"},
                          format="json")
    assert edited.status_code == 200
    assert edited.json()["weekly_hours"] == 10 and edited.json()["hours_reason"] == "Garde d'enfant"

    today = timezone.localdate().isoformat()
    scan = SimpleUploadedFile("contrat.pdf", PDF, content_type="application/pdf")
    signed = client.post(contract_url(data["id"], "sign"),
                         {"person_signed_on": today, "referent_signed_on": today, "scan": scan},
                         format="multipart")
    assert signed.status_code == 200, signed.json()
    assert signed.json()["status"] == "signed" and signed.json()["has_scan"] is True
    contract = EngagementContract.objects.get()
    assert contract.signed_by_person_on == timezone.localdate() and contract.signed_scan.name.endswith(".pdf")
    assert "contrat.pdf" not in contract.signed_scan.name

    frozen = client.patch(contract_url(data["id"]), {"weekly_hours": 15}, format="json")
    assert frozen.status_code == 409
    assert "Seul un brouillon se modifie" in frozen.json()["detail"]
    assert client.post(contract_url(data["id"], "sign"), {}, format="json").status_code == 409
    assert [r[3] for r in logs()] == ["création", "modification", "signature"]
    assert {r[1:3] for r in logs()} == {("contract", "api")}

    # A new version starts from the signed one.
    second = client.post(person_url(pnet.person.pk, "contracts"), {}, format="json")
    assert second.status_code == 201
    assert second.json()["version"] == 2 and second.json()["weekly_hours"] == 10
    versions = api_for(pnet.member).get(person_url(pnet.person.pk, "contracts")).json()["results"]
    assert [(v["version"], v["status"]) for v in versions] == [(2, "draft"), (1, "signed")]


def test_contract_refusals(pnet, api_for):
    contract = make_contract(pnet.person, pnet.referent, pnet.struct_a)
    create_url = person_url(pnet.person.pk, "contracts")
    for user in (pnet.member, pnet.officer, pnet.admin_a):
        response = api_for(user).post(create_url, {}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Seul le référent unique établit le contrat d'engagement."
        response = api_for(user).patch(contract_url(contract.pk), {"weekly_hours": 20}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Seul le référent unique modifie le contrat d'engagement."
        response = api_for(user).post(contract_url(contract.pk, "sign"), {}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Seul le référent unique signe le contrat d'engagement avec la personne."
    for user in (pnet.outsider, pnet.coordinator):
        assert api_for(user).get(contract_url(contract.pk)).status_code == 403
        assert api_for(user).get(create_url).status_code == 403
    for user in (pnet.foreigner, pnet.gers_officer):
        response = api_for(user).get(contract_url(contract.pk))
        assert response.status_code == 404
        assert response.json()["detail"] == "Contrat introuvable."
        assert api_for(user).get(create_url).status_code == 404
    assert api_for(pnet.referent).get(contract_url(999999)).status_code == 404
    # A second draft is refused.
    response = api_for(pnet.referent).post(create_url, {}, format="json")
    assert response.status_code == 400
    assert "brouillon (version 1) est déjà en cours" in response.json()["non_field_errors"][0]
    assert not AccessLog.objects.exists()
    # Reading is open to the group, and logged.
    assert api_for(pnet.member).get(contract_url(contract.pk)).status_code == 200
    assert logs() == [(pnet.member.pk, "contract", "api", "version 1")]


def test_signature_validation_in_french(pnet, api_for):
    contract = make_contract(pnet.person, pnet.referent, pnet.struct_a)
    client = api_for(pnet.referent)
    url = contract_url(contract.pk, "sign")

    response = client.post(url, {}, format="json")
    assert response.status_code == 400
    assert response.json()["person_signed_on"] == ["Indiquez la date de signature."]
    assert response.json()["referent_signed_on"] == ["Indiquez la date de signature."]
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    today = timezone.localdate().isoformat()
    response = client.post(url, {"person_signed_on": tomorrow, "referent_signed_on": today}, format="json")
    assert response.status_code == 400
    assert response.json()["person_signed_on"] == ["La date de signature ne peut pas être dans le futur."]
    fake = SimpleUploadedFile("contrat.pdf", b"pas un pdf du tout", content_type="application/pdf")
    response = client.post(url, {"person_signed_on": today, "referent_signed_on": today, "scan": fake},
                           format="multipart")
    assert response.status_code == 400
    assert "n'est pas celui d'un PDF" in response.json()["scan"][0]
    response = client.post(url, {"person_signed_on": "31/12/2025", "referent_signed_on": today}, format="json")
    assert response.status_code == 400
    assert "format" in response.json()["person_signed_on"][0]
    contract.refresh_from_db()
    assert contract.status == "draft"


def test_contract_validation_of_objectives_and_hours(pnet, api_for):
    client = api_for(pnet.referent)
    url = person_url(pnet.person.pk, "contracts")
    response = client.post(url, {"objectives": [{"theme": "emploi"}], "weekly_hours": 60}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["objectives"] == {"0": {"label": ["Ce champ est obligatoire."]}}
    assert "48" in body["weekly_hours"][0]
    response = client.post(url, {"actions": [{"label": "Atelier", "due": "demain"}]}, format="json")
    assert response.status_code == 400
    assert "format" in response.json()["actions"]["0"]["due"][0]
    assert not EngagementContract.objects.exists()


# --- The whole flow --------------------------------------------------------------------------------


@pytest.fixture
def frameworks(db):
    from spie.diagnostics.loaders import load_frameworks

    return {row.code: row for row in load_frameworks()}


def test_full_flow_from_diagnostic_to_signed_contract(pnet, frameworks, api_for):
    referent, officer, new_referent = api_for(pnet.referent), api_for(pnet.officer), api_for(pnet.new_referent)
    person_id = pnet.person.pk

    # 1. The référent diagnoses the person, answers (health included) and completes.
    diagnostic = referent.post(person_url(person_id, "diagnostics"), {"framework": "spie"}, format="json").json()
    answers = {**REQUIRED_SPIE, "sante_impact": "plus_d_activite"}
    patched = referent.patch(f"/api/v1/diagnostics/{diagnostic['id']}/",
                             {"answers": answers, "person_words": "Je veux un logement d'abord."}, format="json")
    assert patched.status_code == 200, patched.json()
    assert referent.post(f"/api/v1/diagnostics/{diagnostic['id']}/complete/").status_code == 200
    result = referent.get(f"/api/v1/diagnostics/{diagnostic['id']}/result/").json()["result"]
    assert result["orientation"]["type"] == "sociale"

    # 2. Proposal from the result: type and reasons taken from it, without the health reasons.
    proposal = referent.post(person_url(person_id, "orientations"), {"diagnostic": diagnostic["id"]},
                             format="json")
    assert proposal.status_code == 201, proposal.json()
    assert proposal.json()["proposed_type"] == "sociale" and proposal.json()["diagnostic"] == diagnostic["id"]
    reason = proposal.json()["proposal_reason"]
    assert reason.startswith(result["orientation"]["reasons"][0])
    assert "Logement" in reason and "santé déclarée" not in reason

    # 3. The chargé d'orientation finds the person in the queue and decides.
    queue = officer.get(QUEUE).json()["results"]
    card = next(c for c in queue if c["id"] == person_id)
    assert card["pending_orientation"]["id"] == proposal.json()["id"]
    decided = officer.post(orientation_url(proposal.json()["id"], "decide"), {
        "type": "sociale", "structure": pnet.struct_b.pk, "referent": pnet.new_referent.pk,
        "reason": "Accompagnement social renforcé",
    }, format="json")
    assert decided.status_code == 200, decided.json()
    assert person_id not in [c["id"] for c in officer.get(QUEUE).json()["results"]]

    # 4. The new référent unique prepares the contract (suggestions of the diagnostic) and signs it.
    assert referent.post(person_url(person_id, "contracts"), {}, format="json").status_code == 403
    draft = new_referent.post(person_url(person_id, "contracts"), {}, format="json")
    assert draft.status_code == 201, draft.json()
    assert draft.json()["objectives"], "pre-filled from the diagnostic's suggestions"
    assert draft.json()["orientation"] == proposal.json()["id"]
    today = timezone.localdate().isoformat()
    signed = new_referent.post(contract_url(draft.json()["id"], "sign"),
                               {"person_signed_on": today, "referent_signed_on": today}, format="json")
    assert signed.status_code == 200, signed.json()

    referent_row = FollowUpMembership.objects.get(person=pnet.person, kind="referent", end_date__isnull=True)
    assert (referent_row.user, referent_row.structure) == (pnet.new_referent, pnet.struct_b)
    contract = EngagementContract.objects.get(person=pnet.person)
    assert (contract.status, contract.referent, contract.version) == ("signed", pnet.new_referent, 1)
    overview = new_referent.get(person_url(person_id, "orientations")).json()
    assert overview["orientation_delay"]["done"] is True
    assert overview["contract_delay"]["done"] is True and overview["contract_delay"]["days"] == 0
    assert overview["allowed"]["reorient"] is True
    sections = set(AccessLog.objects.filter(person=pnet.person).values_list("section", "channel"))
    assert sections == {("diagnostic", "api"), ("orientation", "api"), ("contract", "api")}


def test_routes_declare_their_policies():
    from django.urls import resolve

    from spie.core.policies import declared_policy

    assert declared_policy(resolve("/api/v1/persons/1/orientations/").func) == "pathways.orientations"
    assert resolve("/api/v1/persons/1/reorientation/").func.initkwargs["spie_policy"] == "pathways.reorient"
    assert declared_policy(resolve("/api/v1/persons/1/contracts/").func) == "pathways.contracts"
    assert declared_policy(resolve("/api/v1/contracts/1/").func) == "pathways.contract"
    for url, policy in (
        ("/api/v1/orientations/1/decide/", "pathways.decide"),
        ("/api/v1/orientations/1/refuse/", "pathways.refuse"),
        ("/api/v1/orientations/1/cancel/", "pathways.cancel"),
        ("/api/v1/orientations/queue/", "pathways.queue"),
        ("/api/v1/contracts/1/sign/", "pathways.contract_sign"),
    ):
        assert resolve(url).func.initkwargs["spie_policy"] == policy


# --- Query counts --------------------------------------------------------------------------------


def _other_professional(net):
    user = make_professional(structure=StructureFactory(territory=net.territory))
    return user, user.memberships.get().structure


def _grow_orientations(net, n):
    for _ in range(n):
        user, structure = _other_professional(net)
        referent, _s = _other_professional(net)
        make_orientation(net.person, user, status=Orientation.Status.CANCELLED, structure=structure)
        make_orientation(net.person, user, status=Orientation.Status.DECIDED, structure=structure,
                         referent=referent)


def _grow_contracts(net, n):
    start = EngagementContract.objects.filter(person=net.person).count() + 1
    for version in range(start, start + n):
        user, structure = _other_professional(net)
        make_contract(net.person, user, structure, version=version, status=EngagementContract.Status.SUPERSEDED,
                      signed_days_ago=3)


def _grow_queue(net, n):
    for _ in range(n):
        user, structure = _other_professional(net)
        person = PersonFactory(territory=net.territory, commune__code_insee=f"31{Person.objects.count():03d}",
                               commune__name="Commune")
        add_to_group(person, user, FollowUpMembership.Kind.REFERENT)
        make_orientation(person, user, structure=structure)


@pytest.mark.parametrize(
    ("user", "url", "grow"),
    [
        ("member", "/api/v1/persons/{person}/orientations/", _grow_orientations),
        ("member", "/api/v1/persons/{person}/contracts/", _grow_contracts),
        ("officer", QUEUE, _grow_queue),
    ],
)
def test_constant_query_count(pnet, api_for, user, url, grow):
    client = api_for(getattr(pnet, user))
    url = url.format(person=pnet.person.pk)

    def measure():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        return len(ctx.captured_queries), len(body.get("orientations") or body.get("results"))

    grow(pnet, 1)
    small_queries, small_rows = measure()
    grow(pnet, 5)
    large_queries, large_rows = measure()

    assert large_rows > small_rows
    assert large_queries == small_queries
