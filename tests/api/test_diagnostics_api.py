"""API v1 — frameworks and diagnostics: policies, restricted answers, validation, access log."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from spie.core.models import AccessLog
from spie.diagnostics import engine, loaders
from spie.diagnostics.models import Diagnostic, Framework
from spie.network.models import Membership, Structure
from spie.people.models import FollowUpMembership
from tests.diagnostics.support import REQUIRED_SPIE
from tests.network.factories import StructureFactory, make_professional
from tests.people.factories import add_to_group

FRAMEWORKS = "/api/v1/frameworks/"
RESTRICTED_NOTE = "Précisions réservées à la section santé à accès restreint."


def diagnostics_url(person_id):
    return f"/api/v1/persons/{person_id}/diagnostics/"


def diagnostic_url(diagnostic_id, section=""):
    return f"/api/v1/diagnostics/{diagnostic_id}/" + (f"{section}/" if section else "")


@pytest.fixture
def frameworks(db):
    from spie.diagnostics.loaders import load_frameworks

    return {row.code: row for row in load_frameworks()}


@pytest.fixture
def dnet(net, frameworks):
    """The API network, frameworks loaded, plus a member granted the health section, a chargé
    d'orientation and a coordinator of the same territory."""
    net.frameworks = frameworks
    net.health_member = make_professional(structure=net.struct_b, last_name="Sante")
    add_to_group(net.person, net.health_member, can_see_health=True)
    departement = StructureFactory(territory=net.territory, name="Département", kind=Structure.Kind.DEPARTEMENT)
    net.officer = make_professional(role=Membership.Role.ORIENTATION, structure=departement, last_name="Orient")
    net.coordinator = make_professional(role=Membership.Role.COORDINATOR, structure=departement, last_name="Coord")
    return net


def start(client, person_id, framework="spie"):
    response = client.post(diagnostics_url(person_id), {"framework": framework}, format="json")
    assert response.status_code in (200, 201), response.json()
    return response.json()


def logs(since=0):
    """Access-log rows written after the row ``since`` (the log is append-only)."""
    rows = AccessLog.objects.filter(id__gt=since).order_by("id")
    return list(rows.values_list("user_id", "section", "channel", "reason"))


def last_log():
    return AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- Frameworks --------------------------------------------------------------------------------


def test_frameworks_list_for_any_professional_without_log(dnet, api_for):
    for user in (dnet.referent, dnet.outsider, dnet.coordinator, dnet.foreigner):
        response = api_for(user).get(FRAMEWORKS)
        assert response.status_code == 200, user
        rows = {(f["code"], f["version"]): f for f in response.json()["results"]}
        assert set(rows) == {("spie", 1), ("potentialites", 1)}
        assert rows["spie", 1]["kind"] == "diagnostic" and rows["spie", 1]["is_current"] is True
        assert rows["potentialites", 1]["kind"] == "potentialities"
        assert set(rows["spie", 1]) == {
            "code", "version", "kind", "kind_label", "title", "description", "is_current", "loaded_at",
        }
    assert not AccessLog.objects.exists()
    assert APIClient().get(FRAMEWORKS).status_code == 401


def test_frameworks_list_shows_past_versions(dnet, api_for, tmp_path):
    from spie.diagnostics.loaders import FRAMEWORKS_DIR, load_frameworks

    text = (FRAMEWORKS_DIR / "spie-v1.yaml").read_text(encoding="utf-8")
    assert "\nversion: 1\n" in text
    (tmp_path / "spie-v2.yaml").write_text(text.replace("\nversion: 1\n", "\nversion: 2\n", 1), encoding="utf-8")
    load_frameworks(tmp_path)

    results = api_for(dnet.member).get(FRAMEWORKS).json()["results"]
    spie = [(f["version"], f["is_current"]) for f in results if f["code"] == "spie"]
    assert spie == [(2, True), (1, False)]
    assert api_for(dnet.member).get(f"{FRAMEWORKS}spie/1/").json()["is_current"] is False


def test_framework_definition_has_sections_questions_options_and_themes(dnet, api_for):
    response = api_for(dnet.coordinator).get(f"{FRAMEWORKS}spie/1/")

    assert response.status_code == 200
    data = response.json()
    compiled = loaders.compiled_for(dnet.frameworks["spie"])
    assert [s["code"] for s in data["sections"]] == [s.code for s in compiled.sections]
    assert {t["code"] for t in data["themes"]} == set(compiled.themes)
    questions = {q["code"]: q for s in data["sections"] for q in s["questions"]}
    assert list(questions) == list(compiled.questions)
    housing = questions["logement_situation"]
    assert housing["kind"] == "single" and housing["required"] is True
    assert "sans_hebergement" in [o["value"] for o in housing["options"]]
    sante = next(s for s in data["sections"] if s["code"] == "sante")
    assert sante["restricted"] is True and all(q["restricted"] for q in sante["questions"])
    assert "sante_impact" in data["restricted_questions"]
    text_questions = [q for q in questions.values() if q["kind"] == "text"]
    assert text_questions and all(q["reminder"] == engine.TEXT_REMINDER for q in text_questions)
    assert not AccessLog.objects.exists()


def test_framework_definition_unknown_version_is_404(dnet, api_for):
    for url in (f"{FRAMEWORKS}spie/9/", f"{FRAMEWORKS}inconnue/1/"):
        response = api_for(dnet.member).get(url)
        assert response.status_code == 404
        assert response.json()["detail"] == "Trame introuvable."


def test_frameworks_need_an_active_membership(dnet, api_for):
    user = make_professional(structure=dnet.struct_a)
    user.memberships.update(is_active=False)
    response = api_for(user).get(FRAMEWORKS)
    assert response.status_code == 403
    assert response.json()["detail"] == "Aucun rattachement actif à une structure."


# --- Starting and listing ----------------------------------------------------------------------


def test_member_starts_a_diagnostic_and_a_second_start_resumes_it(dnet, api_for):
    client = api_for(dnet.member)

    response = client.post(diagnostics_url(dnet.person.pk), {"framework": "spie"}, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    diagnostic = Diagnostic.objects.get(pk=data["id"])
    assert diagnostic.person == dnet.person and diagnostic.started_by == dnet.member
    assert data["status"] == "draft" and data["framework"]["code"] == "spie"
    assert data["can_fill"] is True and data["answers"] == {}
    assert data["structure"]["name"] == "Mission locale Bravo"
    assert {m["code"] for m in data["missing_required"]} == set(REQUIRED_SPIE)

    again = client.post(diagnostics_url(dnet.person.pk), {}, format="json")  # "spie" by default
    assert again.status_code == 200
    assert again.json()["id"] == data["id"]
    assert Diagnostic.objects.count() == 1
    assert logs() == [
        (dnet.member.pk, "diagnostic", "api", "création"),
        (dnet.member.pk, "diagnostic", "api", "reprise du brouillon"),
    ]


def test_start_refusals(dnet, api_for):
    url = diagnostics_url(dnet.person.pk)
    # Structure admin: opens the record but does not edit it.
    response = api_for(dnet.admin_a).post(url, {"framework": "spie"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Seuls les membres du groupe de suivi peuvent commencer un diagnostic."
    for user in (dnet.outsider, dnet.coordinator):
        response = api_for(user).post(url, {"framework": "spie"}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Vous n'avez pas accès aux diagnostics de cette personne."
    assert api_for(dnet.foreigner).post(url, {"framework": "spie"}, format="json").status_code == 404
    response = api_for(dnet.referent).post("/api/v1/persons/999999/diagnostics/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["detail"] == "Personne introuvable."
    unknown = api_for(dnet.referent).post(url, {"framework": "nope"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["framework"] == ["Trame inconnue « nope »."]
    assert not Diagnostic.objects.exists()
    assert not AccessLog.objects.exists()


def test_chargé_dorientation_may_start_and_read(dnet, api_for):
    client = api_for(dnet.officer)
    assert client.post(diagnostics_url(dnet.person.pk), {}, format="json").status_code == 201
    assert client.get(diagnostics_url(dnet.person.pk)).status_code == 200


def test_list_of_a_persons_diagnostics_is_logged(dnet, api_for):
    first = start(api_for(dnet.referent), dnet.person.pk)
    api_for(dnet.referent).patch(diagnostic_url(first["id"]), {"answers": REQUIRED_SPIE}, format="json")
    api_for(dnet.referent).post(diagnostic_url(first["id"], "complete"))
    second = start(api_for(dnet.member), dnet.person.pk, "potentialites")
    mark = last_log()

    response = api_for(dnet.colleague).get(diagnostics_url(dnet.person.pk))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [second["id"], first["id"]]
    assert results[1]["status"] == "completed" and results[1]["proposed_orientation"] == "sociale"
    assert results[1]["proposed_orientation_label"] == "Sociale"
    assert results[1]["completed_by"]["id"] == dnet.referent.pk
    assert results[0]["framework"]["kind"] == "potentialities" and results[0]["completed_at"] is None
    assert "answers" not in results[0]
    assert logs(mark) == [(dnet.colleague.pk, "diagnostic", "api", "")]
    assert api_for(dnet.outsider).get(diagnostics_url(dnet.person.pk)).status_code == 403
    assert api_for(dnet.foreigner).get(diagnostics_url(dnet.person.pk)).status_code == 404
    assert api_for(dnet.coordinator).get(diagnostics_url(dnet.person.pk)).status_code == 403
    assert len(logs(mark)) == 1


# --- Answers -------------------------------------------------------------------------------------


def test_patch_keeps_valid_answers_and_reports_each_invalid_one_in_french(dnet, api_for):
    client = api_for(dnet.member)
    diagnostic = start(client, dnet.person.pk)
    payload = {
        "answers": {
            "logement_situation": "sans_hebergement",
            "niveau_diplome": "bac",
            "permis": "zz",
            "question_inventee": "x",
        },
        "person_words": "Je veux travailler dans la restauration.",
    }

    response = client.patch(diagnostic_url(diagnostic["id"]), payload, format="json")

    assert response.status_code == 400
    body = response.json()
    compiled = loaders.compiled_for(dnet.frameworks["spie"])
    expected_permis = engine.clean_answers(compiled, {"permis": "zz"})[1]["permis"]
    assert body["answers"] == {
        "permis": [expected_permis],
        "question_inventee": ["Question inconnue « question_inventee » dans cette version de la trame."],
    }
    assert "enregistrées" in body["detail"]
    assert sorted(body["saved"]) == ["logement_situation", "niveau_diplome"]
    stored = Diagnostic.objects.get(pk=diagnostic["id"])
    assert stored.answers == {"logement_situation": "sans_hebergement", "niveau_diplome": "bac"}
    assert stored.person_words == "Je veux travailler dans la restauration."
    assert logs()[-1] == (dnet.member.pk, "diagnostic", "api", "saisie")

    ok = client.patch(diagnostic_url(diagnostic["id"]), {"answers": {"permis": "b", "niveau_diplome": None}},
                      format="json")
    assert ok.status_code == 200, ok.json()
    assert ok.json()["answers"] == {"logement_situation": "sans_hebergement", "permis": "b"}
    assert ok.json()["progress"]["answered"] == 2


def test_patch_validation_of_the_body(dnet, api_for):
    client = api_for(dnet.member)
    diagnostic = start(client, dnet.person.pk)
    response = client.patch(diagnostic_url(diagnostic["id"]), {"answers": ["pas", "un", "objet"]}, format="json")
    assert response.status_code == 400
    assert "answers" in response.json()


def test_patch_refusals(dnet, api_for):
    diagnostic = start(api_for(dnet.referent), dnet.person.pk)
    url = diagnostic_url(diagnostic["id"])
    body = {"answers": {"permis": "b"}}
    response = api_for(dnet.admin_a).patch(url, body, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Vous ne pouvez pas modifier ce diagnostic."
    assert api_for(dnet.outsider).patch(url, body, format="json").status_code == 403
    assert api_for(dnet.coordinator).patch(url, body, format="json").status_code == 403
    assert api_for(dnet.foreigner).patch(url, body, format="json").status_code == 404
    assert api_for(dnet.referent).put(url, body, format="json").status_code == 405
    assert Diagnostic.objects.get().answers == {}


# --- Restricted (health) answers -------------------------------------------------------------------


def test_restricted_answers_only_for_those_who_see_health(dnet, api_for):
    diagnostic = start(api_for(dnet.referent), dnet.person.pk)
    url = diagnostic_url(diagnostic["id"])
    # A member without the health section may not write a restricted answer (the others are kept).
    refused = api_for(dnet.member).patch(
        url, {"answers": {"sante_impact": "certains_metiers", "permis": "b"}}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["answers"] == {
        "sante_impact": ["Cette question relève de la section santé à accès restreint : vous ne pouvez pas y "
                         "répondre."]
    }
    assert Diagnostic.objects.get().answers == {"permis": "b"}
    # The référent (health section) writes it.
    written = api_for(dnet.referent).patch(url, {"answers": {"sante_impact": "certains_metiers"}}, format="json")
    assert written.status_code == 200
    assert written.json()["answers"]["sante_impact"] == "certains_metiers"

    hidden = api_for(dnet.member).get(url).json()
    assert "sante_impact" not in hidden["answers"] and hidden["answers"]["permis"] == "b"
    assert hidden["restricted_answers_hidden"] is True
    assert hidden["progress"]["total"] < written.json()["progress"]["total"]
    shown = api_for(dnet.health_member).get(url).json()
    assert shown["answers"]["sante_impact"] == "certains_metiers"
    assert shown["restricted_answers_hidden"] is False
    # The chargé d'orientation opens the record, not its health section.
    assert "sante_impact" not in api_for(dnet.officer).get(url).json()["answers"]
    assert [row[1:3] for row in logs()[-3:]] == [("diagnostic", "api")] * 3


def test_retrieve_refusals_and_unknown_ids(dnet, api_for):
    diagnostic = start(api_for(dnet.referent), dnet.person.pk)
    gers = start(api_for(dnet.foreigner), dnet.gers_person.pk)
    mark = last_log()

    response = api_for(dnet.outsider).get(diagnostic_url(diagnostic["id"]))
    assert response.status_code == 403
    assert response.json()["detail"] == "Vous n'avez pas accès aux diagnostics de cette personne."
    assert api_for(dnet.coordinator).get(diagnostic_url(diagnostic["id"])).status_code == 403
    for user, diagnostic_id in ((dnet.referent, gers["id"]), (dnet.referent, 999999),
                                (dnet.foreigner, diagnostic["id"])):
        response = api_for(user).get(diagnostic_url(diagnostic_id))
        assert response.status_code == 404
        assert response.json()["detail"] == "Diagnostic introuvable."
        for section in ("result", "complete"):
            method = "get" if section == "result" else "post"
            assert getattr(api_for(user), method)(diagnostic_url(diagnostic_id, section)).status_code == 404
    assert logs(mark) == []

    ok = api_for(dnet.member).get(diagnostic_url(diagnostic["id"]))
    assert ok.status_code == 200
    assert logs(mark) == [(dnet.member.pk, "diagnostic", "api", "brouillon")]


# --- Completion and result ---------------------------------------------------------------------


def test_complete_lists_missing_required_questions_then_freezes(dnet, api_for):
    client = api_for(dnet.referent)
    diagnostic = start(client, dnet.person.pk)
    url = diagnostic_url(diagnostic["id"])
    partial = {k: v for k, v in REQUIRED_SPIE.items() if k not in {"permis", "disponibilite"}}
    client.patch(url, {"answers": partial}, format="json")

    missing = client.post(diagnostic_url(diagnostic["id"], "complete"))

    assert missing.status_code == 400
    body = missing.json()
    assert [m["code"] for m in body["missing"]] == ["permis", "disponibilite"]
    assert all(m["label"] for m in body["missing"])
    assert body["detail"].startswith("Le diagnostic ne peut pas être terminé : réponses obligatoires manquantes")
    assert Diagnostic.objects.get().status == "draft"

    assert api_for(dnet.admin_a).post(diagnostic_url(diagnostic["id"], "complete")).status_code == 403
    client.patch(url, {"answers": REQUIRED_SPIE}, format="json")
    done = api_for(dnet.member).post(diagnostic_url(diagnostic["id"], "complete"))

    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "completed" and done.json()["proposed_orientation"] == "sociale"
    assert done.json()["completed_by"]["id"] == dnet.member.pk and done.json()["can_fill"] is False
    assert logs()[-1] == (dnet.member.pk, "diagnostic", "api", "fin du diagnostic")
    frozen = client.patch(url, {"answers": {"permis": "aucun"}}, format="json")
    assert frozen.status_code == 409
    assert frozen.json()["detail"] == "Ce diagnostic est terminé : il ne peut plus être modifié."
    assert client.post(diagnostic_url(diagnostic["id"], "complete")).status_code == 409
    assert Diagnostic.objects.get().answers["permis"] == "b"


def test_result_of_a_draft_is_a_conflict(dnet, api_for):
    diagnostic = start(api_for(dnet.referent), dnet.person.pk)
    response = api_for(dnet.referent).get(diagnostic_url(diagnostic["id"], "result"))
    assert response.status_code == 409
    assert response.json()["detail"] == "Ce diagnostic n'est pas terminé : il n'a pas encore de résultat."


def test_result_hides_health_reasons_without_the_health_section(dnet, api_for):
    client = api_for(dnet.referent)
    diagnostic = start(client, dnet.person.pk)
    answers = {**REQUIRED_SPIE, "sante_impact": "plus_d_activite"}
    assert client.patch(diagnostic_url(diagnostic["id"]), {"answers": answers}, format="json").status_code == 200
    assert client.post(diagnostic_url(diagnostic["id"], "complete")).status_code == 200
    mark = last_log()
    url = diagnostic_url(diagnostic["id"], "result")

    full = client.get(url).json()
    assert full["restricted_details_hidden"] is False
    result = full["result"]
    barriers = {b["theme"]: b for b in result["barriers"]}
    assert barriers["logement"]["severity"] == "blocking"
    assert barriers["sante"]["severity"] == "blocking"
    assert any("santé" in reason for reason in barriers["sante"]["reasons"])
    assert result["orientation"]["type"] == "sociale"
    assert result["profile"]["logement"] == 3
    assert {s["theme"] for s in result["suggestions"]} >= {"logement"}
    assert any(s["theme"] == "sante" for s in result["situations"])

    member_view = api_for(dnet.member).get(url).json()
    assert member_view["restricted_details_hidden"] is True
    hidden = {b["theme"]: b for b in member_view["result"]["barriers"]}
    assert hidden["sante"]["severity"] == "blocking"  # the severity stays visible
    assert hidden["sante"]["reasons"] == [RESTRICTED_NOTE]
    assert hidden["logement"]["reasons"] == barriers["logement"]["reasons"]
    reasons = member_view["result"]["orientation"]["reasons"]
    assert not any("Difficulté de santé" in r for r in reasons)
    assert not any(s["theme"] == "sante" for s in member_view["result"]["situations"])
    assert api_for(dnet.health_member).get(url).json()["result"] == result
    assert logs(mark) == [
        (dnet.referent.pk, "diagnostic", "api", "résultat"),
        (dnet.member.pk, "diagnostic", "api", "résultat"),
        (dnet.health_member.pk, "diagnostic", "api", "résultat"),
    ]
    assert api_for(dnet.outsider).get(url).status_code == 403
    assert api_for(dnet.foreigner).get(url).status_code == 404


def test_routes_declare_their_policies():
    from django.urls import resolve

    from spie.core.policies import declared_policy

    assert declared_policy(resolve("/api/v1/frameworks/").func) == "diagnostics.frameworks"
    assert declared_policy(resolve("/api/v1/frameworks/spie/1/").func) == "diagnostics.frameworks"
    assert declared_policy(resolve("/api/v1/persons/1/diagnostics/").func) == "diagnostics.person"
    assert declared_policy(resolve("/api/v1/diagnostics/1/").func) == "diagnostics.detail"
    assert resolve("/api/v1/diagnostics/1/complete/").func.initkwargs["spie_policy"] == "diagnostics.complete"
    assert resolve("/api/v1/diagnostics/1/result/").func.initkwargs["spie_policy"] == "diagnostics.result"


# --- Query counts --------------------------------------------------------------------------------


def _measure(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()["count"]


def _grow_diagnostics(net, n):
    """``n`` more diagnostics of the person, each started and completed by someone else."""
    spie = net.frameworks["spie"]
    for _ in range(n):
        user = make_professional(structure=StructureFactory(territory=net.territory))
        add_to_group(net.person, user, FollowUpMembership.Kind.MEMBER)
        structure = user.memberships.get().structure
        Diagnostic.objects.create(
            person=net.person, framework=spie, started_by=user, structure=structure,
            status=Diagnostic.Status.COMPLETED, completed_by=user, answers=REQUIRED_SPIE,
            result={"barriers": []}, proposed_orientation="sociale",
        )
        Diagnostic.objects.create(person=net.person, framework=net.frameworks["potentialites"], started_by=user,
                                  structure=structure, answers={})


def _grow_frameworks(net, n):
    start_version = Framework.objects.filter(code="essai").count() + 1
    for version in range(start_version, start_version + n):
        Framework.objects.create(
            code="essai", version=version, kind="diagnostic", title=f"Essai {version}", definition={},
            checksum=str(version) * 4, source_file=f"essai-v{version}.yaml", is_current=False,
        )


@pytest.mark.parametrize(
    ("url", "grow"),
    [
        ("/api/v1/persons/{person}/diagnostics/", _grow_diagnostics),
        ("/api/v1/frameworks/", _grow_frameworks),
    ],
)
def test_constant_query_count(dnet, api_for, url, grow):
    client = api_for(dnet.referent)
    url = url.format(person=dnet.person.pk)
    grow(dnet, 1)
    client.get(url)  # compiled frameworks cached (per version, not per row)
    small_queries, small_count = _measure(client, url)
    grow(dnet, 5)
    large_queries, large_count = _measure(client, url)

    assert large_count > small_count
    assert large_queries == small_queries


def test_detail_query_count_does_not_grow_with_answers(dnet, api_for):
    client = api_for(dnet.referent)
    diagnostic = start(client, dnet.person.pk)
    url = diagnostic_url(diagnostic["id"])
    client.get(url)
    small, _ = _measure_detail(client, url)
    client.patch(url, {"answers": REQUIRED_SPIE}, format="json")
    large, answered = _measure_detail(client, url)
    assert answered == len(REQUIRED_SPIE)
    assert large == small


def _measure_detail(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.json()["answers"])
