"""The person's plan: who may read and write it, objectives and actions, transitions, the copy of
the signed contract, exports, the record's summary and constant query counts."""

import io
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from spie.core.models import AccessLog
from spie.followup.models import PlanAction, PlanObjective, PlanStatus, PlanTransition
from spie.followup.services import plan as plan_services
from spie.pathways.models import EngagementContract
from spie.people import policies as people_policies
from spie.people.models import TimelineEvent
from tests.conftest import login_client
from tests.pathways.factories import days_ago, make_contract, make_referentiel
from tests.people.factories import PersonFactory, add_to_group, oppose_sharing

from .conftest import membership_of

S = PlanStatus


def html_of(response):
    return unescape(response.content.decode())


def plan_url(person):
    return reverse("followup:plan", args=[person.pk])


def objective(world, label="Trouver un emploi", *, person=None, theme=None, status=S.PLANNED):
    return PlanObjective.objects.create(
        person=person or world["person"], label=label, theme=theme, status=status,
        created_by=world["referent"], structure=world["ref_structure"],
    )


def action(world, obj, label="Atelier CV", **kwargs):
    return PlanAction.objects.create(objective=obj, person=obj.person, label=label, created_by=world["referent"],
                                     **kwargs)


# --- Who sees the plan ------------------------------------------------------------------------


@pytest.mark.parametrize("who, expected", [
    ("referent", 200), ("member", 200), ("officer", 200), ("admin_ref", 200),
    ("colleague", 403), ("outsider", 403), ("coordinator", 403), ("gers_officer", 404),
])
def test_plan_page_policy(world, who, expected):
    response = login_client(world[who]).get(plan_url(world["person"]))
    assert response.status_code == expected


def test_plan_page_logs_the_read_and_shows_grouped_objectives(world):
    ref = make_referentiel()
    person = world["person"]
    o1 = objective(world, "Accéder à un logement", theme=ref["logement"])
    objective(world, "Trouver un emploi durable", theme=ref["emploi"])
    objective(world, "Passer le permis")
    action(world, o1, "Demande de logement social", due_on=days_ago(-10), responsible_user=world["member"])
    response = login_client(world["referent"]).get(plan_url(person))
    html = html_of(response)
    row = AccessLog.objects.order_by("-id").first()
    assert (row.user, row.person, row.section) == (world["referent"], person, AccessLog.Section.PLAN)
    assert html.index("Logement") < html.index("Emploi") < html.index("Sans thème")
    assert "Demande de logement social" in html and "Mona Membre" in html
    assert "Ajouter un objectif" in html


def test_plan_forms_hidden_for_a_reader_without_edit_right(world):
    # The structure admin reads the record but does not edit it.
    objective(world)
    html = html_of(login_client(world["admin_ref"]).get(plan_url(world["person"])))
    assert "Trouver un emploi" in html
    assert "Ajouter un objectif" not in html and "Changer le statut" not in html


def test_opposition_to_sharing_closes_the_plan_to_other_structures(world):
    person = world["person"]
    oppose_sharing(person)
    assert login_client(world["member"]).get(plan_url(person)).status_code == 403
    assert login_client(world["officer"]).get(plan_url(person)).status_code == 403
    assert login_client(world["referent"]).get(plan_url(person)).status_code == 200


def test_unknown_person_is_404(world):
    assert login_client(world["referent"]).get(reverse("followup:plan", args=[999999])).status_code == 404


# --- Objectives -------------------------------------------------------------------------------


def test_add_a_referential_objective(world):
    ref = make_referentiel()
    person = world["person"]
    response = login_client(world["member"]).post(
        reverse("followup:plan_objective_add", args=[person.pk]), {"objective-item": ref["logement_objective"].pk}
    )
    assert response.status_code == 302
    obj = PlanObjective.objects.get(person=person)
    assert (obj.label, obj.theme, obj.item, obj.source) == (
        "Accéder à un logement", ref["logement"], ref["logement_objective"], PlanObjective.Source.REFERENTIAL)
    assert (obj.created_by, obj.structure) == (world["member"], world["other_structure"])
    assert PlanTransition.objects.filter(objective=obj, from_status="", to_status=S.PLANNED).exists()
    assert TimelineEvent.objects.filter(person=person, kind="plan_objective_added").exists()


def test_add_a_free_objective_and_refuse_an_empty_one(world):
    ref = make_referentiel()
    person = world["person"]
    client = login_client(world["referent"])
    url = reverse("followup:plan_objective_add", args=[person.pk])
    response = client.post(url, {"objective-theme": "emploi", "objective-label": "  Reprendre   confiance "})
    assert response.status_code == 302
    obj = PlanObjective.objects.get(person=person)
    assert (obj.label, obj.theme, obj.source) == ("Reprendre confiance", ref["emploi"], PlanObjective.Source.FREE)
    response = client.post(url, {"objective-theme": "emploi", "objective-label": ""})
    assert response.status_code == 200
    assert "Choisissez un objectif du référentiel ou saisissez l'objectif." in html_of(response)
    # The same open objective twice is refused, and the typed text is kept.
    response = client.post(url, {"objective-theme": "emploi", "objective-label": "reprendre confiance"})
    html = html_of(response)
    assert "est déjà en cours dans le plan" in html
    assert 'value="reprendre confiance"' in html
    assert PlanObjective.objects.filter(person=person).count() == 1


def test_outsider_and_reader_cannot_write(world):
    person = world["person"]
    url = reverse("followup:plan_objective_add", args=[person.pk])
    assert login_client(world["outsider"]).post(url, {"objective-label": "X"}).status_code == 403
    assert login_client(world["admin_ref"]).post(url, {"objective-label": "X"}).status_code == 403
    assert login_client(world["gers_officer"]).post(url, {"objective-label": "X"}).status_code == 404
    with pytest.raises(PermissionDenied):
        plan_services.add_objective(person, membership_of(world["outsider"]), label="X")
    assert not PlanObjective.objects.exists()


# --- Actions ----------------------------------------------------------------------------------


def test_add_an_action_with_dates_and_who(world):
    ref = make_referentiel()
    person = world["person"]
    obj = objective(world, "Accéder à un logement", theme=ref["logement"])
    response = login_client(world["referent"]).post(
        reverse("followup:plan_action_add", args=[person.pk, obj.pk]), {
            f"action-{obj.pk}-item": ref["logement_action"].pk,
            f"action-{obj.pk}-planned_on": days_ago(-1).isoformat(),
            f"action-{obj.pk}-due_on": days_ago(-30).isoformat(),
            f"action-{obj.pk}-responsible_user": world["member"].pk,
            f"action-{obj.pk}-responsible_structure": world["other_structure"].pk,
            f"action-{obj.pk}-provider": "Bailleur social",
        })
    assert response.status_code == 302
    act = PlanAction.objects.get(objective=obj)
    assert (act.label, act.item, act.person) == ("Demande de logement social", ref["logement_action"], person)
    assert (act.planned_on, act.due_on) == (days_ago(-1), days_ago(-30))
    assert (act.responsible_user, act.responsible_structure, act.provider) == (
        world["member"], world["other_structure"], "Bailleur social")


def test_action_errors_are_french_and_keep_the_input(world):
    ref = make_referentiel()
    person = world["person"]
    obj = objective(world, "Trouver un emploi durable", theme=ref["emploi"])
    client = login_client(world["referent"])
    url = reverse("followup:plan_action_add", args=[person.pk, obj.pk])
    response = client.post(url, {
        f"action-{obj.pk}-label": "Atelier CV",
        f"action-{obj.pk}-planned_on": days_ago(-10).isoformat(),
        f"action-{obj.pk}-due_on": days_ago(-1).isoformat(),
    })
    html = html_of(response)
    assert "L'échéance ne peut pas précéder le début prévu." in html
    assert 'value="Atelier CV"' in html
    # Not a member of the group (the outsider is offered nowhere; a forged id is refused).
    with pytest.raises(ValidationError) as exc:
        plan_services.add_action(obj, membership_of(world["referent"]), label="X", responsible_user=world["outsider"])
    assert "ne fait pas partie du groupe de suivi" in str(exc.value)
    # A référentiel action of another theme.
    with pytest.raises(ValidationError) as exc:
        plan_services.add_action(obj, membership_of(world["referent"]), item=ref["logement_action"])
    assert "relève d'un autre thème" in str(exc.value)
    # A structure of another territory.
    with pytest.raises(ValidationError) as exc:
        plan_services.add_action(obj, membership_of(world["referent"]), label="X",
                                 responsible_structure=world["gers_structure"])
    assert "structure active du territoire" in str(exc.value)
    assert not PlanAction.objects.exists()


def test_action_on_another_persons_objective_is_404(world):
    other = PersonFactory(territory=world["territory"])
    add_to_group(other, world["referent"], "referent")
    obj = objective(world, person=other)
    url = reverse("followup:plan_action_add", args=[world["person"].pk, obj.pk])
    response = login_client(world["referent"]).post(url, {f"action-{obj.pk}-label": "X"})
    assert response.status_code == 404
    status_url = reverse("followup:plan_objective_status", args=[world["person"].pk, obj.pk])
    response = login_client(world["referent"]).post(status_url, {f"objective-status-{obj.pk}-status": "done"})
    assert response.status_code == 404
    assert PlanObjective.objects.get(pk=obj.pk).status == S.PLANNED


# --- Transitions ------------------------------------------------------------------------------


def test_transitions_set_dates_log_and_timeline(world):
    person = world["person"]
    act = action(world, objective(world))
    client = login_client(world["referent"])
    url = reverse("followup:plan_action_status", args=[person.pk, act.pk])
    prefix = f"action-status-{act.pk}"
    assert client.post(url, {f"{prefix}-status": "in_progress"}).status_code == 302
    act.refresh_from_db()
    today = timezone.localdate()
    assert (act.status, act.started_on, act.ended_on) == (S.IN_PROGRESS, today, None)
    assert client.post(url, {f"{prefix}-status": "done"}).status_code == 302
    act.refresh_from_db()
    assert (act.status, act.started_on, act.ended_on) == (S.DONE, today, today)
    # Reopened: the end date goes, the first start stays.
    plan_services.change_status(act, membership_of(world["referent"]), S.IN_PROGRESS, on=days_ago(-1))
    act.refresh_from_db()
    assert (act.status, act.started_on, act.ended_on) == (S.IN_PROGRESS, today, None)
    log = list(PlanTransition.objects.filter(action=act).values_list("from_status", "to_status"))
    assert log == [("planned", "in_progress"), ("in_progress", "done"), ("done", "in_progress")]
    titles = list(TimelineEvent.objects.filter(person=person, kind="plan_action_status").values_list("title",
                                                                                                      flat=True))
    assert "Action « Atelier CV » : en cours → réalisée" in titles


def test_refused_transition_and_missing_reason(world):
    person = world["person"]
    obj = objective(world, status=S.DONE)
    client = login_client(world["referent"])
    url = reverse("followup:plan_objective_status", args=[person.pk, obj.pk])
    prefix = f"objective-status-{obj.pk}"
    response = client.post(url, {f"{prefix}-status": "cancelled", f"{prefix}-reason": "Doublon"})
    assert response.status_code == 200
    assert "Impossible de passer l'objectif de « Réalisée » à « Annulée »" in html_of(response)
    obj2 = objective(world, "Autre")
    url2 = reverse("followup:plan_objective_status", args=[person.pk, obj2.pk])
    response = client.post(url2, {f"objective-status-{obj2.pk}-status": "cancelled"})
    assert "Indiquez le motif" in html_of(response)
    obj2.refresh_from_db()
    assert obj2.status == S.PLANNED and obj2.ended_on is None
    response = client.post(url2, {f"objective-status-{obj2.pk}-status": "cancelled",
                                  f"objective-status-{obj2.pk}-reason": "Projet abandonné par la personne"})
    assert response.status_code == 302
    obj2.refresh_from_db()
    assert (obj2.status, obj2.ended_on) == (S.CANCELLED, timezone.localdate())
    transition = PlanTransition.objects.get(objective=obj2, to_status="cancelled")
    assert transition.reason == "Projet abandonné par la personne"


@pytest.mark.parametrize("current, target, allowed", [
    (S.PLANNED, S.IN_PROGRESS, True), (S.PLANNED, S.ABANDONED, False), (S.IN_PROGRESS, S.PLANNED, False),
    (S.ON_HOLD, S.IN_PROGRESS, True), (S.DONE, S.IN_PROGRESS, True), (S.DONE, S.PLANNED, False),
    (S.CANCELLED, S.PLANNED, True), (S.CANCELLED, S.DONE, False), (S.ABANDONED, S.PLANNED, True),
])
def test_transition_table(world, current, target, allowed):
    obj = objective(world, status=current)
    membership = membership_of(world["member"])
    if allowed:
        plan_services.change_status(obj, membership, target, reason="motif")
        assert PlanObjective.objects.get(pk=obj.pk).status == target
    else:
        with pytest.raises(ValidationError) as exc:
            plan_services.change_status(obj, membership, target, reason="motif")
        assert "Impossible de passer" in str(exc.value)
        assert PlanObjective.objects.get(pk=obj.pk).status == current


# --- Copy of the signed contract ---------------------------------------------------------------


def test_import_signed_contract_is_idempotent(world):
    ref = make_referentiel()
    person = world["person"]
    contract = make_contract(person, world["referent"], world["ref_structure"],
                             status=EngagementContract.Status.SIGNED, signed_days_ago=2, objectives=[
                                 {"theme": "emploi", "label": "Trouver un emploi", "source": "free"},
                                 {"theme": "logement", "label": "Accéder à un logement", "source": "referentiel"},
                             ])
    contract.actions = [{"label": "Atelier CV", "theme": "emploi", "hours": 3, "due": days_ago(-20).isoformat()},
                        {"label": "Permis de conduire", "theme": "mobilite", "hours": 2, "due": ""}]
    contract.save()
    client = login_client(world["referent"])
    url = reverse("followup:plan_import_contract", args=[person.pk])
    assert client.post(url).status_code == 302
    objectives = list(PlanObjective.objects.filter(person=person).order_by("position"))
    assert [(o.label, o.theme_id, o.contract_id, o.contract_position, o.source) for o in objectives] == [
        ("Trouver un emploi", "emploi", contract.pk, 0, "contract"),
        ("Accéder à un logement", "logement", contract.pk, 1, "contract"),
        (plan_services.CONTRACT_ACTIONS_LABEL, None, contract.pk, None, "contract"),
    ]
    cv = PlanAction.objects.get(label="Atelier CV")
    assert (cv.objective, cv.due_on, cv.responsible_user) == (objectives[0], days_ago(-20), world["referent"])
    assert ref["logement"] == objectives[1].theme
    # Twice: nothing new.
    response = client.post(url, follow=True)
    assert "déjà tous dans le plan" in html_of(response)
    assert PlanObjective.objects.filter(person=person).count() == 3
    assert PlanAction.objects.filter(person=person).count() == 2
    # A new signed version repeating an objective adds only what is new.
    EngagementContract.objects.filter(pk=contract.pk).update(status=EngagementContract.Status.SUPERSEDED)
    v2 = make_contract(person, world["referent"], world["ref_structure"], version=2,
                       status=EngagementContract.Status.SIGNED, signed_days_ago=0, objectives=[
                           {"theme": "emploi", "label": "trouver  un emploi", "source": "free"},
                           {"theme": "emploi", "label": "Créer son entreprise", "source": "free"},
                       ])
    created, actions = plan_services.import_contract(person, membership_of(world["referent"]))
    assert [(o.label, o.contract_id) for o in created] == [("Créer son entreprise", v2.pk)]
    assert actions == []
    assert TimelineEvent.objects.filter(person=person, kind="plan_contract_imported").count() == 2


def test_import_without_signed_contract(world):
    person = world["person"]
    make_contract(person, world["referent"], world["ref_structure"])  # a draft only
    response = login_client(world["referent"]).post(reverse("followup:plan_import_contract", args=[person.pk]),
                                                    follow=True)
    assert "Aucun contrat d'engagement signé" in html_of(response)
    assert not PlanObjective.objects.exists()


# --- Export -----------------------------------------------------------------------------------


def test_export_csv_and_xlsx(world):
    from openpyxl import load_workbook

    person = world["person"]
    obj = objective(world, "=HYPERLINK(\"x\")")
    action(world, obj, "Atelier CV", due_on=days_ago(-3), provider="AFPA")
    objective(world, "Sans action")
    client = login_client(world["member"])
    response = client.get(plan_url(person), {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Atelier CV" in body and "AFPA" in body and "Sans action" in body
    assert "'=HYPERLINK" in body
    assert AccessLog.objects.filter(person=person, section=AccessLog.Section.EXPORT, user=world["member"]).exists()
    response = client.get(plan_url(person), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Thème" and len(rows) == 3
    assert login_client(world["outsider"]).get(plan_url(person), {"format": "csv"}).status_code == 403


# --- Query counts and the record's summary -----------------------------------------------------


def _plan_queries(world, count):
    person = world["person"]
    ref = make_referentiel()
    PlanObjective.objects.filter(person=person).delete()
    for i in range(count):
        obj = objective(world, f"Objectif {i}", theme=ref["emploi" if i % 2 else "logement"])
        action(world, obj, f"Action {i}", responsible_user=world["member"],
               responsible_structure=world["ref_structure"])
        plan_services.change_status(obj, membership_of(world["referent"]), S.IN_PROGRESS)
    client = login_client(world["referent"])
    client.get(plan_url(person))  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(plan_url(person))
    assert response.status_code == 200
    assert html_of(response).count("Objectif ") >= count
    return len(ctx.captured_queries)


def test_plan_page_query_count_is_constant(world):
    assert _plan_queries(world, 2) == _plan_queries(world, 10)


def _render_summary(world, who, person):
    request = RequestFactory().get("/")
    user = world[who]
    request.user = user
    request.membership = membership_of(user)
    access = people_policies.access_for(user, request.membership, person)
    template = Template("{% load plan_tags %}{% plan_summary person access %}")
    with CaptureQueriesContext(connection) as ctx:
        html = template.render(Context({"request": request, "person": person, "access": access}))
    return " ".join(unescape(strip_tags(html)).split()), len(ctx.captured_queries)


def test_plan_summary_counts_and_next_actions_in_two_queries(world):
    person = world["person"]
    obj = objective(world)
    for i, due in enumerate([5, 1, 9, 3]):
        action(world, obj, f"Action {i}", due_on=days_ago(-due))
    action(world, obj, "Finie", due_on=days_ago(-2), status=S.DONE)
    action(world, obj, "En retard", due_on=days_ago(4), status=S.IN_PROGRESS)
    html, queries = _render_summary(world, "referent", person)
    assert queries <= 2
    assert "1 objectif" in html and "4 actions prévues" in html and "1 action réalisée" in html
    assert html.index("En retard") < html.index("Action 1") < html.index("Action 3")
    assert "Action 0" not in html and "Finie" not in html
    assert "échéance dépassée" in html
    for i in range(10):
        action(world, objective(world, f"O{i}"), f"A{i}", due_on=days_ago(-i))
    assert _render_summary(world, "referent", person)[1] <= 2
    html, queries = _render_summary(world, "outsider", person)
    assert html.strip() == "" and queries == 0
