"""The pages end to end: orientation page and its forms, contract edition with rows, signature,
print page, access log rows, and the record summary tag."""

from html import unescape

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spie.core.models import AccessLog
from spie.diagnostics.models import OrientationType
from spie.network.models import Membership
from spie.pathways.models import EngagementContract, Orientation
from spie.people import policies as people_policies
from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.people.factories import PersonFactory

from .conftest import membership_of
from .factories import days_ago, make_contract, make_diagnostic, make_orientation, make_referentiel

S = Orientation.Status


def html_of(response):
    return unescape(response.content.decode())


def last_log():
    return AccessLog.objects.order_by("-id").first()


# --- Orientation page ----------------------------------------------------------------------


def test_orientation_page_for_the_referent_logs_and_offers_a_proposal(world):
    person = world["person"]
    url = reverse("pathways:orientations", args=[person.pk])
    response = login_client(world["referent"]).get(url)
    assert response.status_code == 200
    assert set(response.context["forms"]) == {"propose"}
    row = last_log()
    assert (row.user, row.person, row.section, row.path) == (world["referent"], person, "orientation", url)
    assert "délai" in html_of(response)


def test_proposal_prefilled_from_a_diagnostic(world):
    person = world["person"]
    diagnostic = make_diagnostic(person, world["referent"], world["ref_structure"])
    url = reverse("pathways:orientations", args=[person.pk])
    response = login_client(world["referent"]).get(url, {"diagnostic": diagnostic.pk})
    form = response.context["forms"]["propose"]
    assert form.initial["type"] == OrientationType.SOCIO_PROFESSIONAL
    assert form.initial["reason"] == "Un frein fort\nProjet professionnel à préciser"
    assert form.initial["diagnostic"] == diagnostic.pk
    assert "pré-remplie à partir du diagnostic" in html_of(response)


def test_prefill_ignores_a_diagnostic_of_another_person(world):
    other = PersonFactory(territory=world["territory"])
    theirs = make_diagnostic(other, world["member"], world["other_structure"], result={
        "orientation": {"type": "sociale", "reasons": ["Secret de l'autre personne"]}})
    response = login_client(world["referent"]).get(
        reverse("pathways:orientations", args=[world["person"].pk]), {"diagnostic": theirs.pk}
    )
    assert response.context["forms"]["propose"].initial == {}
    assert "Secret de l'autre personne" not in html_of(response)


def test_propose_then_decide_through_the_pages(world, django_capture_on_commit_callbacks):
    person = world["person"]
    diagnostic = make_diagnostic(person, world["referent"], world["ref_structure"])
    referent = login_client(world["referent"])
    propose_url = reverse("pathways:propose", args=[person.pk])
    response = referent.post(propose_url, {"propose-type": "socio_professionnelle", "propose-reason": ""})
    assert response.status_code == 200
    assert "Le formulaire contient 1 erreur" in html_of(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = referent.post(propose_url, {
            "propose-type": "socio_professionnelle", "propose-structure": world["other_structure"].pk,
            "propose-reason": "Freins à lever", "propose-diagnostic": diagnostic.pk,
        })
    assert response.status_code == 302
    orientation = Orientation.objects.get(person=person)
    assert orientation.diagnostic == diagnostic
    assert orientation.proposed_structure == world["other_structure"]

    officer = login_client(world["officer"])
    page = officer.get(reverse("pathways:orientations", args=[person.pk]))
    assert set(page.context["forms"]) == {"decide", "cancel"}  # a first orientation is not refused
    decide_form = page.context["forms"]["decide"]
    assert decide_form.initial["structure"] == world["other_structure"].pk
    labels = [label for _value, label in decide_form.fields["referent"].choices]
    assert "Nina Nouvelle — Mission locale Ouest" in labels
    assert not any("Orientation" in label for label in labels)  # chargés d'orientation are not référents

    decide_url = reverse("pathways:decide", args=[person.pk, orientation.pk])
    wrong = Membership.objects.get(user=world["referent"])
    response = officer.post(decide_url, {
        "decide-type": "socio_professionnelle", "decide-structure": world["other_structure"].pk,
        "decide-referent": wrong.pk, "decide-reason": "",
    })
    assert response.status_code == 200
    assert "Ce référent n'appartient pas à la structure « Mission locale Ouest »." in html_of(response)
    orientation.refresh_from_db()
    assert orientation.status == S.PROPOSED

    nina = Membership.objects.get(user=world["new_referent"])
    response = officer.post(decide_url, {
        "decide-type": "socio_professionnelle", "decide-structure": world["other_structure"].pk,
        "decide-referent": nina.pk, "decide-reason": "",
    })
    assert response.status_code == 302
    orientation.refresh_from_db()
    assert orientation.status == S.DECIDED
    assert FollowUpMembership.objects.get(person=person, kind="referent", end_date__isnull=True).user == \
        world["new_referent"]
    page = officer.get(reverse("pathways:orientations", args=[person.pk]))
    html = html_of(page)
    assert "Orientation en vigueur" in html
    assert "À décider → " in html and "Décidée" in html  # transition log in French


def test_reorientation_refuse_and_cancel_pages(world):
    person = world["person"]
    make_orientation(person, world["officer"], status=S.DECIDED, decided_days_ago=30,
                     structure=world["ref_structure"], referent=world["referent"])
    referent = login_client(world["referent"])
    page = referent.get(reverse("pathways:orientations", args=[person.pk]))
    assert set(page.context["forms"]) == {"reorient"}
    response = referent.post(reverse("pathways:reorient", args=[person.pk]), {
        "reorient-type": "sociale", "reorient-reason": "Hébergement perdu",
    })
    assert response.status_code == 302
    request = Orientation.objects.get(person=person, status=S.PROPOSED)
    assert request.kind == Orientation.Kind.REORIENTATION
    officer = login_client(world["officer"])
    assert set(officer.get(reverse("pathways:orientations", args=[person.pk])).context["forms"]) == {
        "decide", "refuse", "cancel"
    }
    refuse_url = reverse("pathways:refuse", args=[person.pk, request.pk])
    response = officer.post(refuse_url, {"refuse-reason": ""})
    assert response.status_code == 200 and "Motif du refus" in html_of(response)
    assert officer.post(refuse_url, {"refuse-reason": "Accompagnement adapté"}).status_code == 302
    request.refresh_from_db()
    assert request.status == S.REFUSED
    # A decided (or refused) request is no longer pending: its action URLs are 404.
    assert officer.post(refuse_url, {"refuse-reason": "encore"}).status_code == 404
    again = referent.post(reverse("pathways:reorient", args=[person.pk]), {
        "reorient-type": "sociale", "reorient-reason": "Nouvelle demande",
    })
    assert again.status_code == 302
    pending = Orientation.objects.get(person=person, status=S.PROPOSED)
    response = referent.post(reverse("pathways:cancel", args=[person.pk, pending.pk]), {"cancel-reason": "Erreur"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == S.CANCELLED


def test_action_urls_answer_post_only(world):
    person = world["person"]
    orientation = make_orientation(person, world["referent"])
    client = login_client(world["officer"])
    for name, args in [("pathways:propose", [person.pk]), ("pathways:decide", [person.pk, orientation.pk]),
                       ("pathways:cancel", [person.pk, orientation.pk])]:
        assert client.get(reverse(name, args=args)).status_code == 405


# --- Contract pages ---------------------------------------------------------------------------


def formset_data(prefix, rows):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def contract_post(objectives=(), actions=(), hours="15", reason="", review=""):
    return {
        **formset_data("objectifs", list(objectives)), **formset_data("actions", list(actions)),
        "weekly_hours": hours, "hours_reason": reason, "review_date": review,
    }


def test_contract_edit_prefills_from_the_diagnostic_and_creates_v1(world):
    person = world["person"]
    items = make_referentiel()
    make_diagnostic(person, world["referent"], world["ref_structure"])
    client = login_client(world["referent"])
    url = reverse("pathways:contract_edit", args=[person.pk])
    response = client.get(url)
    assert response.status_code == 200
    objectives = response.context["objectives"]
    assert objectives.initial[0] == {"item": str(items["logement_objective"].pk)}  # matched to the référentiel
    assert objectives.initial[1] == {"label": "Se déplacer seul", "theme": "mobilite"}  # no such item: free
    assert response.context["form"].initial["weekly_hours"] == 15
    assert last_log().section == AccessLog.Section.CONTRACT

    response = client.post(url, contract_post(
        objectives=[{"item": str(items["emploi_objective"].pk)}, {"label": "Passer le code", "theme": ""},
                    {"item": "", "label": ""}],
        actions=[{"label": "Atelier CV", "theme": "emploi", "hours": "3", "due": days_ago(-20).isoformat()}],
        hours="10", reason="",
    ))
    assert response.status_code == 200
    assert "Indiquez le motif de la durée réduite (moins de 15 h par semaine)." in html_of(response)
    assert not EngagementContract.objects.exists()

    response = client.post(url, contract_post(
        objectives=[{"item": str(items["emploi_objective"].pk)}, {"label": "Passer le code", "theme": ""}],
        actions=[{"label": "Atelier CV", "theme": "emploi", "hours": "3", "due": days_ago(-20).isoformat()}],
        hours="10", reason="Reprise progressive",
    ))
    assert response.status_code == 302
    contract = EngagementContract.objects.get(person=person)
    assert contract.objectives == [
        {"theme": "emploi", "label": "Trouver un emploi durable", "source": "referentiel"},
        {"theme": "", "label": "Passer le code", "source": "free"},
    ]
    assert contract.actions == [{"label": "Atelier CV", "theme": "emploi", "hours": 3.0,
                                 "due": days_ago(-20).isoformat()}]
    assert (contract.weekly_hours, contract.hours_reason) == (10, "Reprise progressive")


def test_row_errors_are_summarised(world):
    items = make_referentiel()
    response = login_client(world["referent"]).post(
        reverse("pathways:contract_edit", args=[world["person"].pk]),
        contract_post(objectives=[{"item": str(items["emploi_objective"].pk), "label": "Et aussi ça"}],
                      actions=[{"label": "", "hours": "2"}]),
    )
    assert response.status_code == 200
    html = html_of(response)
    assert "Objectif 1 : Choisissez un objectif du référentiel ou saisissez un objectif libre, pas les deux." in html
    assert "Action 1, action prévue : Décrivez l'action." in html


def test_editing_a_signed_contract_page_creates_a_new_version(world):
    person = world["person"]
    make_referentiel()
    v1 = make_contract(person, world["referent"], world["ref_structure"], status=EngagementContract.Status.SIGNED,
                       signed_days_ago=5)
    client = login_client(world["referent"])
    page = client.get(reverse("pathways:contract", args=[person.pk]))
    assert "Modifier (crée une nouvelle version)" in html_of(page)
    response = client.post(reverse("pathways:contract_edit", args=[person.pk]), contract_post(
        objectives=[{"label": "Trouver un emploi", "theme": "emploi"}], hours="20"))
    assert response.status_code == 302
    v1.refresh_from_db()
    assert v1.status == EngagementContract.Status.SIGNED and v1.weekly_hours == 15
    v2 = EngagementContract.objects.get(person=person, version=2)
    assert (v2.status, v2.weekly_hours) == (EngagementContract.Status.DRAFT, 20)
    response = client.post(reverse("pathways:contract_sign", args=[person.pk, 2]), {
        "person_signed_on": days_ago(0).isoformat(), "referent_signed_on": days_ago(0).isoformat()})
    assert response.status_code == 302, response.context["form"].errors
    v1.refresh_from_db()
    assert v1.status == EngagementContract.Status.SUPERSEDED
    page = client.get(reverse("pathways:contract", args=[person.pk]))
    assert page.context["contract"].version == 2
    assert [c.version for c in page.context["contracts"]] == [2, 1]
    # A signed version's sign page sends back to the contract.
    assert client.get(reverse("pathways:contract_sign", args=[person.pk, 1])).status_code == 302


def test_print_page(world):
    person = world["person"]
    contract = make_contract(person, world["referent"], world["ref_structure"], weekly_hours=0)
    contract.hours_reason = "Dispense temporaire"
    contract.actions = [{"label": "Atelier", "theme": "", "hours": 2.5, "due": "2027-01-15"}]
    contract.save()
    url = reverse("pathways:contract_print", args=[person.pk, contract.version])
    response = login_client(world["member"]).get(url)
    assert response.status_code == 200
    html = html_of(response)
    assert "Contrat d'engagement réciproque" in html
    assert "Projet — non signé" in html
    assert "0 heures par semaine" in html and "(dispense)" in html
    assert "2,5 h" in html and "15/01/2027" in html
    assert "pathways/print.css" in html
    assert "<style" not in html and "style=" not in html and "onclick" not in html  # CSP
    row = last_log()
    assert (row.section, row.user, row.reason) == ("contract", world["member"], "impression de la version 1")


def test_print_css_holds_the_print_rules():
    from django.contrib.staticfiles import finders

    css = open(finders.find("pathways/print.css"), encoding="utf-8").read()
    assert "@media print" in css


@pytest.mark.parametrize(
    ("name", "section"),
    [("pathways:orientations", "orientation"), ("pathways:contract", "contract"),
     ("pathways:contract_version", "contract"), ("pathways:contract_print", "contract"),
     ("pathways:contract_edit", "contract"), ("pathways:contract_sign", "contract")],
)
def test_each_read_writes_one_access_log_row(world, name, section):
    person = world["person"]
    contract = make_contract(person, world["referent"], world["ref_structure"])
    args = [person.pk] if name in ("pathways:orientations", "pathways:contract", "pathways:contract_edit") \
        else [person.pk, contract.version]
    before = AccessLog.objects.count()
    response = login_client(world["referent"]).get(reverse(name, args=args))
    assert response.status_code == 200
    assert AccessLog.objects.count() == before + 1
    row = last_log()
    assert (row.person, row.user, row.section, row.structure) == (
        person, world["referent"], section, world["ref_structure"]
    )


def test_refused_reads_write_no_row(world):
    before = AccessLog.objects.count()
    assert login_client(world["outsider"]).get(
        reverse("pathways:orientations", args=[world["person"].pk])).status_code == 403
    assert AccessLog.objects.count() == before


# --- Record summary tag ----------------------------------------------------------------------


def render_summary(world, who, person):
    user = world[who]
    request = RequestFactory().get("/")
    request.user = user
    request.membership = membership_of(user)
    access = people_policies.access_for(user, request.membership, person)
    template = Template("{% load pathways_tags %}{% pathway_summary person access %}")
    with CaptureQueriesContext(connection) as ctx:
        html = template.render(Context({"request": request, "person": person, "access": access}))
    return unescape(html), len(ctx.captured_queries)


def test_summary_tag_shows_orientation_and_contract_in_two_queries(world):
    person = world["person"]
    make_orientation(person, world["officer"], status=S.DECIDED, decided_days_ago=40,
                     structure=world["ref_structure"], referent=world["referent"])
    html, queries = render_summary(world, "referent", person)
    assert queries == 2
    assert "Professionnelle — Association Tremplin" in html
    assert "délai dépassé : 40 j (cible 30 j)" in html  # no contract 40 days after the decision
    assert "Établir le contrat" in html
    for version in (1, 2):
        make_contract(person, world["referent"], world["ref_structure"], version=version,
                      status=EngagementContract.Status.SUPERSEDED if version == 1 else EngagementContract.Status.SIGNED,
                      signed_days_ago=35 - version, weekly_hours=12)
    make_orientation(person, world["member"], kind=Orientation.Kind.REORIENTATION)
    html, queries = render_summary(world, "referent", person)
    assert queries == 2
    assert "Réorientation" in html and "À décider" in html
    assert "12 h par semaine (durée réduite)" in html
    assert f"/personnes/{person.pk}/contrat/2/imprimer/" in html
    assert "(cible 30 j)" in html  # signed 7 days after the decision
    assert "style=" not in html


def test_summary_tag_is_empty_without_the_record(world):
    html, queries = render_summary(world, "outsider", world["person"])
    assert html.strip() == "" and queries == 0


def test_summary_links_the_chargé_d_orientation_to_the_decision(world):
    make_orientation(world["person"], world["referent"])
    html, _ = render_summary(world, "officer", world["person"])
    assert "Décider de l'orientation" in html
