"""Diagnostic pages: list, start, step-by-step form, result, print, comparison, pickers, access."""

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from spie.core.models import AccessLog
from spie.diagnostics import services
from spie.diagnostics.models import Diagnostic
from spie.referentials.models import RomeAppellation, RomeCode
from tests.diagnostics.support import HOUSED_SPIE, REQUIRED_SPIE, client_of, completed, start
from tests.network.factories import StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import PersonFactory, add_to_group


def text_of(response):
    return unescape(response.content.decode())


def step_url(person, diagnostic, n):
    return reverse("diagnostics:step", args=[person.pk, diagnostic.pk, n])


def diagnostic_logs(person):
    return AccessLog.objects.filter(person=person, section=AccessLog.Section.DIAGNOSTIC)


# --- list and start ------------------------------------------------------------------------


def test_list_offers_both_frameworks_for_a_parent_of_a_toddler(world):
    person = world["person"]
    response = client_of(world["member"]).get(reverse("diagnostics:list", args=[person.pk]))
    assert response.status_code == 200
    html = text_of(response)
    assert "Diagnostic socio-professionnel" in html
    assert "Grille des potentialités" in html
    assert 'value="potentialites"' in html


def test_list_offers_only_the_spie_framework_otherwise(world):
    person = PersonFactory(territory=world["territory"])
    add_to_group(person, world["member"])
    html = text_of(client_of(world["member"]).get(reverse("diagnostics:list", args=[person.pk])))
    assert 'value="spie"' in html and 'value="potentialites"' not in html


def test_list_shows_drafts_with_a_resume_link_and_completed_results(world):
    person = world["person"]
    done = completed(person, world["referent"])
    draft = start(person, world["referent"])
    html = text_of(client_of(world["member"]).get(reverse("diagnostics:list", args=[person.pk])))
    assert "Brouillon — reprendre" in html
    assert step_url(person, draft, 1) in html
    assert reverse("diagnostics:detail", args=[person.pk, done.pk]) in html
    assert "Sociale" in html


def test_start_from_the_page_redirects_to_the_first_step(world):
    person = world["person"]
    response = client_of(world["member"]).post(reverse("diagnostics:start", args=[person.pk]), {"framework": "spie"})
    diagnostic = Diagnostic.objects.get(person=person)
    assert response.status_code == 302
    assert response["Location"] == step_url(person, diagnostic, 1)
    assert diagnostic.started_by == world["member"]


def test_outsiders_cannot_see_nor_start(world):
    person = world["person"]
    client = client_of(world["outsider"])
    assert client.get(reverse("diagnostics:list", args=[person.pk])).status_code == 403
    assert client.post(reverse("diagnostics:start", args=[person.pk]), {"framework": "spie"}).status_code == 403
    assert not Diagnostic.objects.exists()
    assert not diagnostic_logs(person).exists()


def test_another_territory_gets_404(world):
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    stranger = make_professional(structure=StructureFactory(territory=gers))
    response = client_of(stranger).get(reverse("diagnostics:list", args=[world["person"].pk]))
    assert response.status_code == 404


def test_anonymous_users_are_sent_to_login(world):
    response = Client().get(reverse("diagnostics:list", args=[world["person"].pk]))
    assert response.status_code == 302 and "/compte/" in response["Location"]


# --- the step-by-step form -----------------------------------------------------------------


def test_step_page_is_an_accessible_form(world):
    person = world["person"]
    diagnostic = start(person, world["member"])
    response = client_of(world["member"]).get(step_url(person, diagnostic, 1))
    html = text_of(response)
    # The member has no access to the restricted health section: 9 sections + the final step.
    assert "Étape 1 sur 10" in html
    assert '<progress value="1" max="10"' in html
    assert "<legend>Quelle est la situation familiale de la personne ?" in html
    assert 'type="radio" id="q-famille_situation-0" name="q-famille_situation"' in html
    assert 'id="q-enfants_a_charge"' in html and 'inputmode="decimal"' in html and "enfant(s)</span>" in html
    assert 'type="checkbox"' in html
    assert 'hx-post="' + reverse("diagnostics:autosave", args=[person.pk, diagnostic.pk, 1]) + '"' in html
    assert 'hx-trigger="change delay:500ms"' in html
    assert 'name="action" value="next"' in html
    assert "Santé" not in html  # not even in the list of steps


def test_referent_sees_the_restricted_health_step(world):
    person = world["person"]
    diagnostic = start(person, world["referent"])
    html = text_of(client_of(world["referent"]).get(step_url(person, diagnostic, 4)))
    assert "Étape 4 sur 11" in html
    assert "Section à accès restreint" in html
    assert 'name="q-sante_impact"' in html


def test_widgets_per_question_kind(world):
    person = world["person"]
    diagnostic = start(person, world["referent"])
    client = client_of(world["referent"])
    mobility = text_of(client.get(step_url(person, diagnostic, 3)))
    assert 'list="q-recherche_commune-liste"' in mobility
    assert reverse("referentials:commune_options") + "?field=q-recherche_commune" in mobility
    assert 'value="oui"' in mobility and 'value="non"' in mobility  # yes/no radios
    project = text_of(client.get(step_url(person, diagnostic, 8)))
    assert 'type="date" id="q-date_disponibilite"' in project
    assert reverse("diagnostics:rome_options") + "?field=q-metiers_cibles" in project
    assert 'id="q-metiers_cibles-0"' in project and 'id="q-metiers_cibles-2"' in project
    assert 'class="scale-value">4</span> <span class="scale-label">' in project  # scale 0..4 with labels
    resources = text_of(client.get(step_url(person, diagnostic, 10)))
    assert "N'écrivez ici aucune information de santé ou autre donnée sensible : utilisez la section " \
           "santé à accès restreint." in resources
    assert 'aria-describedby="q-competences_cles-rappel"' in resources


def test_answers_saved_step_by_step_over_several_sittings(world):
    person, member = world["person"], world["member"]
    diagnostic = start(person, member)
    client = client_of(member)
    response = client.post(step_url(person, diagnostic, 1), {
        "q-famille_situation": "parent_isole", "q-enfants_a_charge": "1", "q-enfant_moins_3_ans": "oui",
        "q-contraintes_familiales": ["aidant", "contraintes_horaires"], "action": "next",
    })
    assert response.status_code == 302 and response["Location"] == step_url(person, diagnostic, 2)
    # Later, another sitting: the answers are there, checked.
    html = text_of(client_of(world["referent"]).get(step_url(person, diagnostic, 1)))
    assert re.search(r'id="q-famille_situation-2" name="q-famille_situation" value="parent_isole" checked', html)
    assert 'value="1"' in html
    response = client.post(step_url(person, diagnostic, 2), {"q-logement_situation": "hotel", "action": "save"})
    assert response["Location"] == step_url(person, diagnostic, 2)
    response = client.post(step_url(person, diagnostic, 2), {"q-logement_situation": "hotel", "action": "previous"})
    assert response["Location"] == step_url(person, diagnostic, 1)
    diagnostic.refresh_from_db()
    assert diagnostic.answers == {
        "famille_situation": "parent_isole", "enfants_a_charge": 1, "enfant_moins_3_ans": True,
        "contraintes_familiales": ["aidant", "contraintes_horaires"], "logement_situation": "hotel",
    }


def test_invalid_value_shows_a_french_error_and_keeps_everything(world):
    person, member = world["person"], world["member"]
    diagnostic = start(person, member)
    services.save_answers(diagnostic, {"enfants_a_charge": "2"}, member)
    response = client_of(member).post(step_url(person, diagnostic, 1), {
        "q-famille_situation": "couple_avec_enfants", "q-enfants_a_charge": "quarante", "action": "next",
    })
    assert response.status_code == 200
    html = text_of(response)
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', html, re.S).group(0)
    assert '<a href="#q-enfants_a_charge">Nombre d\'enfants à charge : un nombre est attendu</a>' in summary
    assert 'value="quarante"' in html  # the typed value is shown again
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="q-enfants_a_charge-unite q-enfants_a_charge-erreur"' in html
    assert "<title>Erreur" in html
    diagnostic.refresh_from_db()
    assert diagnostic.answers == {"enfants_a_charge": 2, "famille_situation": "couple_avec_enfants"}


def test_rome_and_commune_pickers_save_codes(world):
    person, referent = world["person"], world["referent"]
    rome = RomeCode.objects.create(code="J1501", label="Soins d'hygiène, de confort du patient")
    RomeAppellation.objects.create(code_ogr="11573", label="Aide-soignant / Aide-soignante", rome=rome,
                                   search_key="aide soignant aide soignante")
    diagnostic = start(person, referent)
    client = client_of(referent)
    response = client.post(step_url(person, diagnostic, 3), {"q-recherche_commune": "Toulouse (31000)",
                                                             "action": "save"})
    assert response.status_code == 302
    response = client.post(step_url(person, diagnostic, 8), {
        "q-metiers_cibles": ["Aide-soignant / Aide-soignante (11573)", "J1501", ""], "action": "save",
    })
    assert response.status_code == 302
    diagnostic.refresh_from_db()
    assert diagnostic.answers["recherche_commune"] == "31555"
    assert diagnostic.answers["metiers_cibles"] == ["11573", "J1501"]
    html = text_of(client.get(step_url(person, diagnostic, 8)))
    assert 'value="Aide-soignant / Aide-soignante (11573)"' in html
    assert 'value="Soins d\'hygiène, de confort du patient (J1501)"' in html
    assert 'value="Toulouse (31000)"' in text_of(client.get(step_url(person, diagnostic, 3)))
    # An unknown job is an error; the stored jobs stay.
    response = client.post(step_url(person, diagnostic, 8), {"q-metiers_cibles": ["Astronaute lunaire"],
                                                             "action": "save"})
    assert response.status_code == 200
    assert "Métier introuvable : « Astronaute lunaire »" in text_of(response)
    diagnostic.refresh_from_db()
    assert diagnostic.answers["metiers_cibles"] == ["11573", "J1501"]


def test_rome_options_endpoint(world):
    rome = RomeCode.objects.create(code="J1501", label="Soins d'hygiène, de confort du patient")
    RomeAppellation.objects.create(code_ogr="11573", label="Aide-soignant / Aide-soignante", rome=rome,
                                   search_key="aide soignant aide soignante")
    RomeAppellation.objects.create(code_ogr="38450", label="Agent / Agente de propreté", rome=rome,
                                   search_key="agent agente de proprete")
    client = client_of(world["member"])
    url = reverse("diagnostics:rome_options")
    assert url == "/referentiels/rome/"
    html = text_of(client.get(url, {"q": "aide-soi"}))
    assert '<option value="Aide-soignant / Aide-soignante (11573)">' in html and "propreté" not in html
    html = text_of(client.get(url, {"field": "q-metiers_cibles", "q-metiers_cibles": "propre"}))
    assert "Agent / Agente de propreté (38450)" in html  # a later word of the label
    assert "Soins d'hygiène, de confort du patient (J1501)" in text_of(client.get(url, {"q": "J15"}))
    assert Client().get(url, {"q": "aide"}).status_code == 302


def test_autosave_with_htmx(world):
    person, member = world["person"], world["member"]
    diagnostic = start(person, member)
    url = reverse("diagnostics:autosave", args=[person.pk, diagnostic.pk, 2])
    response = client_of(member).post(url, {"q-logement_situation": "hotel"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Brouillon enregistré à" in text_of(response)
    diagnostic.refresh_from_db()
    assert diagnostic.answers == {"logement_situation": "hotel"}
    response = client_of(member).post(reverse("diagnostics:autosave", args=[person.pk, diagnostic.pk, 1]),
                                      {"q-enfants_a_charge": "-3"}, HTTP_HX_REQUEST="true")
    assert "1 réponse à corriger : Nombre d'enfants à charge (la valeur doit être au moins 0" in text_of(response)


def test_final_step_lists_missing_answers_and_refuses_completion(world):
    person, member = world["person"], world["member"]
    diagnostic = start(person, member)
    services.save_answers(diagnostic, {"famille_situation": "parent_isole"}, member)
    client = client_of(member)
    html = text_of(client.get(step_url(person, diagnostic, 10)))
    assert "Réponses obligatoires manquantes" in html
    assert step_url(person, diagnostic, 2) + "#q-logement_situation-0" in html
    assert 'name="person_words"' in html and "aucune information de santé" in html
    response = client.post(step_url(person, diagnostic, 10), {"person_words": "Mes mots", "action": "complete"})
    assert response.status_code == 200
    html = text_of(response)
    assert 'role="alert"' in html and "ne peut pas encore être terminé" in html
    diagnostic.refresh_from_db()
    assert diagnostic.status == Diagnostic.Status.DRAFT and diagnostic.person_words == "Mes mots"


def test_completion_from_the_form_then_read_only(world):
    person, member = world["person"], world["member"]
    diagnostic = start(person, member)
    services.save_answers(diagnostic, REQUIRED_SPIE, member)
    client = client_of(member)
    response = client.post(step_url(person, diagnostic, 10), {"person_words": "Je veux travailler.",
                                                              "action": "complete"})
    assert response.status_code == 302
    assert response["Location"] == reverse("diagnostics:detail", args=[person.pk, diagnostic.pk])
    diagnostic.refresh_from_db()
    assert diagnostic.is_completed and diagnostic.person_words == "Je veux travailler."
    assert diagnostic.completed_by == member
    # Completed diagnostics are read-only: the form redirects, saves are refused.
    response = client.get(step_url(person, diagnostic, 1))
    assert response.status_code == 302
    response = client.post(step_url(person, diagnostic, 1), {"q-famille_situation": "couple_sans_enfant"})
    assert response.status_code == 302
    autosave = client.post(reverse("diagnostics:autosave", args=[person.pk, diagnostic.pk, 1]),
                           {"q-famille_situation": "couple_sans_enfant"})
    assert "terminé" in text_of(autosave)
    diagnostic.refresh_from_db()
    assert diagnostic.answers["famille_situation"] == "parent_isole"


def test_step_out_of_range_is_404(world):
    diagnostic = start(world["person"], world["member"])
    assert client_of(world["member"]).get(step_url(world["person"], diagnostic, 11)).status_code == 404
    assert client_of(world["member"]).get(step_url(world["person"], diagnostic, 0)).status_code == 404


# --- result, print, comparison -------------------------------------------------------------


def test_result_page_shows_orientation_reasons_chart_and_suggestions(world):
    person = world["person"]
    diagnostic = completed(person, world["referent"])
    response = client_of(world["member"]).get(reverse("diagnostics:detail", args=[person.pk, diagnostic.pk]))
    html = text_of(response)
    assert "Orientation proposée : Sociale" in html
    assert "Au moins un frein bloquant est à lever avant d'engager des démarches d'emploi." in html
    assert "Logement : Sans hébergement ou en rupture de logement" in html
    # Chart: bar + severity label + number, and a table with the same numbers.
    assert '<span class="barrier-bar rank-3"></span>' in html
    assert '<span class="barrier-value">Bloquant (3/3)</span>' in html
    assert '<tr><th scope="row">Logement</th><td>Bloquant</td><td>3</td></tr>' in html
    assert '<tr><th scope="row">Mobilité</th><td>Aucun</td><td>0</td></tr>' in html
    assert "Titulaire du permis B" in html  # strengths
    assert "Accéder à un logement" in html and "Demande de logement social" in html
    assert f'href="/catalogue/?personne={person.pk}&thematique=logement-hebergement--' in html
    assert "Trouver une action" in html and "Banque d'actions" in html
    assert f'href="/personnes/{person.pk}/orientation/?diagnostic={diagnostic.pk}"' in html
    assert "Proposer cette orientation" in html
    assert reverse("diagnostics:print", args=[person.pk, diagnostic.pk]) in html
    assert "Nouveau diagnostic" in html
    assert " style=" not in html and "<style" not in html  # CSP: no inline styles


def test_health_details_are_hidden_without_the_health_access(world):
    person = world["person"]
    diagnostic = completed(person, world["referent"], {**HOUSED_SPIE, "sante_impact": "absences"})
    url = reverse("diagnostics:detail", args=[person.pk, diagnostic.pk])
    referent_html = text_of(client_of(world["referent"]).get(url))
    member_html = text_of(client_of(world["member"]).get(url))
    secret = "Difficulté de santé déclarée empêchant une reprise immédiate ou entraînant des absences"
    assert secret in referent_html
    assert secret not in member_html
    assert "Précisions réservées à la section santé à accès restreint." in member_html
    assert '<tr><th scope="row">Santé</th><td>Fort</td><td>2</td></tr>' in member_html
    print_html = text_of(client_of(world["member"]).get(reverse("diagnostics:print", args=[person.pk, diagnostic.pk])))
    assert secret not in print_html and "absences régulières" not in print_html


def test_print_view(world):
    person = world["person"]
    diagnostic = completed(person, world["referent"], {**REQUIRED_SPIE, "observations": "Très motivée"})
    response = client_of(world["member"]).get(reverse("diagnostics:print", args=[person.pk, diagnostic.pk]))
    assert response.status_code == 200
    html = text_of(response)
    assert "diagnostics/print.css" in html and "diagnostics/print.js" in html
    assert "Orientation proposée : Sociale" in html
    assert "Très motivée" in html and "Permis B valide" in html
    assert "Date et signature" in html
    assert "<script>" not in html and " style=" not in html


def test_compare_shows_changed_answers_and_barriers(world):
    person, referent = world["person"], world["referent"]
    first = completed(person, referent)
    second = start(person, referent)
    services.save_answers(second, {"logement_situation": "locataire_social", "permis": "aucun"}, referent)
    services.complete_diagnostic(second, referent)
    url = reverse("diagnostics:compare", args=[person.pk])
    response = client_of(world["member"]).get(url, {"a": first.pk, "b": second.pk})
    assert response.status_code == 200
    html = text_of(response)
    changes = response.context["changes"]
    assert {c["question"] for c in changes} == {"logement_situation", "permis"}
    assert "Permis B valide" in html and "Pas de permis" in html
    housing = next(s for s in response.context["severities"] if s["label"] == "Logement")
    assert (housing["before"], housing["after"], housing["trend"]) == (3, 0, "Amélioration")
    assert "Amélioration" in html
    # Without parameters: the latest completed against its previous one.
    default = client_of(world["member"]).get(url)
    assert (default.context["a_id"], default.context["b_id"]) == (first.pk, second.pk)


def test_a_draft_page_shows_progress_and_resume_link(world):
    person = world["person"]
    draft = start(person, world["member"])
    services.save_answers(draft, {"famille_situation": "parent_isole"}, world["member"])
    html = text_of(client_of(world["member"]).get(reverse("diagnostics:detail", args=[person.pk, draft.pk])))
    assert "Brouillon — reprendre" in html
    assert "1 réponse sur" in html and "Parent isolé" in html


# --- access log and IDOR -------------------------------------------------------------------


def test_every_read_writes_the_access_log(world):
    person, member = world["person"], world["member"]
    diagnostic = completed(person, world["referent"])
    draft = start(person, member)
    client = client_of(member)
    urls = [
        reverse("diagnostics:list", args=[person.pk]),
        reverse("diagnostics:detail", args=[person.pk, diagnostic.pk]),
        reverse("diagnostics:print", args=[person.pk, diagnostic.pk]),
        reverse("diagnostics:compare", args=[person.pk]) + f"?a={diagnostic.pk}&b={draft.pk}",
        step_url(person, draft, 1),
    ]
    for count, url in enumerate(urls, start=1):
        assert client.get(url).status_code == 200, url
        assert diagnostic_logs(person).count() == count
        log = diagnostic_logs(person).first()
        assert log.user == member and log.path == url
    assert diagnostic_logs(person).filter(reason="impression").exists()


@pytest.mark.parametrize("page", ["detail", "print", "step", "autosave", "compare"])
def test_another_persons_diagnostic_under_this_person_is_404(world, page):
    """IDOR: the member follows ``person``; a diagnostic of ``other`` under that URL is 404."""
    person, member = world["person"], world["member"]
    theirs = start(world["other"], world["outsider"])
    services.save_answers(theirs, {"observations": "Secret de l'autre"}, world["outsider"])
    mine = completed(person, world["referent"])
    client = client_of(member)
    if page == "detail":
        response = client.get(reverse("diagnostics:detail", args=[person.pk, theirs.pk]))
    elif page == "print":
        response = client.get(reverse("diagnostics:print", args=[person.pk, theirs.pk]))
    elif page == "step":
        response = client.get(step_url(person, theirs, 1))
    elif page == "autosave":
        response = client.post(reverse("diagnostics:autosave", args=[person.pk, theirs.pk, 1]),
                               {"q-famille_situation": "parent_isole"})
    else:
        response = client.get(reverse("diagnostics:compare", args=[person.pk]), {"a": mine.pk, "b": theirs.pk})
    assert response.status_code == 404
    assert "Secret de l'autre" not in text_of(response)
    theirs.refresh_from_db()
    assert theirs.answers == {"observations": "Secret de l'autre"}


def test_their_own_person_url_is_refused_to_the_member(world):
    theirs = start(world["other"], world["outsider"])
    response = client_of(world["member"]).get(reverse("diagnostics:detail", args=[world["other"].pk, theirs.pk]))
    assert response.status_code == 403


# --- record section ------------------------------------------------------------------------


def test_record_section_tag(world, django_assert_max_num_queries):
    from django.template import Context, Template

    from spie.diagnostics.policies import access_for_membership
    from tests.diagnostics.support import membership_of

    person = world["person"]
    completed(person, world["referent"])
    start(person, world["referent"])
    access = access_for_membership(membership_of(world["member"]), person)
    template = Template("{% load diagnostics_tags %}{% diagnostic_summary person access %}")
    with django_assert_max_num_queries(2):
        html = unescape(template.render(Context({"person": person, "access": access})))
    assert "Orientation proposée" in html and "Sociale" in html
    assert "Logement : bloquant" in html
    assert "Brouillon — reprendre" in html
    outsider_access = access_for_membership(membership_of(world["outsider"]), person)
    assert "Diagnostic" not in template.render(Context({"person": person, "access": outsider_access}))


def test_potentialities_grid_result_feeds_the_same_profile(world):
    person = world["person"]
    grid = completed(person, world["referent"], {"enfants_moins_3_ans": "1", "mode_garde": "aucune",
                                                 "reprise_souhaitee": "immediate"}, code="potentialites")
    html = text_of(client_of(world["member"]).get(reverse("diagnostics:detail", args=[person.pk, grid.pk])))
    assert "Grille des potentialités" in html
    assert '<tr><th scope="row">Contraintes familiales</th><td>Fort</td><td>2</td></tr>' in html
    assert "Aucune solution de garde" in html
    assert "Proposer cette orientation" not in html and "Orientation proposée" not in html
