"""The diagnostics pages keep a constant number of SQL queries whatever the data shown."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spie.diagnostics import services
from tests.diagnostics.support import HOUSED_SPIE, REQUIRED_SPIE, client_of, completed, start
from tests.network.factories import make_professional
from tests.people.factories import add_to_group

RICH_ANSWERS = {
    **REQUIRED_SPIE,
    "garde_enfants": "aucune_solution", "enfant_moins_3_ans": "oui", "sante_impact": "absences",
    "logement_difficultes": ["impayes", "insalubre"], "ressources_niveau": "precaires", "fle": "non_maitrise",
    "autonomie_numerique": "pas_autonome", "permis": "aucun", "vehicule": "aucun", "cv": "aucun",
    "recherche_commune": "31555", "metiers_cibles": ["J1501", "11573"], "observations": "Beaucoup de choses",
}


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    response.queries = [q["sql"] for q in ctx.captured_queries]
    return len(ctx.captured_queries), response


def test_list_page_query_count_is_constant(world):
    person, referent = world["person"], world["referent"]
    client = client_of(world["member"])
    url = reverse("diagnostics:list", args=[person.pk])
    completed(person, referent)
    client.get(url)  # warm-up: session, compiled framework cache
    small, response = count_queries(client, url)
    assert len(response.context["diagnostics"]) == 1
    for _ in range(4):
        completed(person, referent, HOUSED_SPIE)
    completed(person, referent, {"enfants_moins_3_ans": "1", "mode_garde": "aucune",
                                 "reprise_souhaitee": "immediate"}, code="potentialites")
    start(person, referent)
    start(person, referent, "potentialites")
    for _ in range(5):  # a larger follow-up group
        add_to_group(person, make_professional(structure=world["referent"].memberships.first().structure))
    large, response = count_queries(client, url)
    assert len(response.context["diagnostics"]) == 8
    assert large == small


def test_result_page_query_count_is_constant(world):
    person, referent = world["person"], world["referent"]
    client = client_of(referent)
    few = completed(person, referent, HOUSED_SPIE)
    many = completed(person, referent, RICH_ANSWERS)
    assert len(many.result["barriers"]) > len(few.result["barriers"]) + 3
    client.get(reverse("diagnostics:detail", args=[person.pk, few.pk]))  # warm-up
    small, _ = count_queries(client, reverse("diagnostics:detail", args=[person.pk, few.pk]))
    large, response = count_queries(client, reverse("diagnostics:detail", args=[person.pk, many.pk]))
    assert len(response.context["barriers"]) >= 5
    assert large == small
    # Session, user, OTP device, membership, person + group + consents, the diagnostic, the
    # access-log row, and the session saved on every request (an update in a savepoint).
    assert large <= 12, "\n".join(response.queries)


def test_step_page_query_count_does_not_grow_with_answers(world):
    person, referent = world["person"], world["referent"]
    client = client_of(referent)
    draft = start(person, referent)
    url = reverse("diagnostics:step", args=[person.pk, draft.pk, 8])
    client.get(url)
    small, _ = count_queries(client, url)
    services.save_answers(draft, {"metiers_cibles": ["J1501", "J1502", "K2204"], "contrats_souhaites": ["cdi"]},
                          referent)
    large, _ = count_queries(client, url)
    assert large <= small + 2  # the ROME labels of the saved jobs: codes and appellations
