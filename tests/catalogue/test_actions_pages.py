"""Pages of "Nos actions": policy, list and filters, sheet create/edit with its French errors,
lifecycle buttons, quality panel, sessions, sites of a model, exports, constant query count."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from spie.catalogue.models import Action, ActionSession, ActionStatus
from spie.catalogue.services import actions as services
from spie.core.models import AccessLog
from tests.catalogue.factories import ActionFactory, ActionSessionFactory

from .conftest import membership_of

S = ActionStatus
THEME = "choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite"


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def form_data(**overrides):
    data = {
        "name": "Visite d'entreprise BTP", "summary": "Une matinée sur un chantier.",
        "description": "Visite d'un chantier avec un chef d'équipe, puis échange sur les métiers.",
        "type": "information", "spie_kind": "company_visit", "thematiques": [THEME], "publics": ["tous-publics"],
        "reception_modes": ["en-presentiel"], "commune": "31395", "address": "1 rue du Chantier",
        "mobilisation_modes": ["envoyer-un-courriel"], "mobilisable_by": ["professionnels"],
        "email": "btp@former31.example", "contact_name": "Bastien", "eligibility_zone": "", "languages": "",
        "fees": "gratuit",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin_client(provider, client_for):
    return client_for(provider["admin"])


# --- Policy ------------------------------------------------------------------------------------


def test_anonymous_is_redirected_to_login(provider, client):
    for url in (reverse("catalogue:my_actions"), reverse("catalogue:action_edit", args=[provider["action"].uid])):
        response = client.get(url)
        assert response.status_code == 302 and "/compte/" in response["Location"]


@pytest.mark.parametrize("who", ["admin", "referent"])
def test_owner_admin_and_referent_see_and_edit(provider, client_for, who):
    client = client_for(provider[who])
    assert client.get(reverse("catalogue:my_actions")).status_code == 200
    assert client.get(reverse("catalogue:action_edit", args=[provider["action"].uid])).status_code == 200
    assert client.get(reverse("catalogue:action_sessions", args=[provider["action"].uid])).status_code == 200


@pytest.mark.parametrize("who", ["admin_ref", "referent", "coordinator", "officer"])
def test_other_structures_and_coordinators_get_403(world, provider, client_for, who):
    client = client_for(world[who])
    uid = provider["action"].uid
    assert client.get(reverse("catalogue:action_edit", args=[uid])).status_code == 403
    assert client.get(reverse("catalogue:action_sessions", args=[uid])).status_code == 403
    response = client.post(reverse("catalogue:action_status", args=[uid]), {"status": "archived"})
    assert response.status_code == 403
    assert client.post(reverse("catalogue:action_edit", args=[uid]), form_data()).status_code == 403
    assert Action.objects.get(pk=provider["action"].pk).status == S.PUBLISHED
    if who in ("coordinator", "officer"):  # not a managing role: no "Nos actions" either
        assert client.get(reverse("catalogue:my_actions")).status_code == 403


# --- "Nos actions" ----------------------------------------------------------------------------


def test_list_shows_status_quality_stale_badge_and_places(world, provider, admin_client):
    structure = provider["structure"]
    ActionFactory(territory=world["territory"], structure=structure, name="Vieille action", stale=True)
    ActionFactory(territory=world["territory"], structure=structure, name="Brouillon en cours", draft=True)
    ActionFactory(territory=world["territory"], structure=structure, name="Action archivée", status=S.ARCHIVED)
    ActionFactory(territory=world["territory"], name="Action d'une autre structure")
    ActionSessionFactory(action=provider["action"], starts_on=days(9), capacity=7)
    from spie.catalogue.places import refresh_action

    refresh_action(provider["action"])
    html = admin_client.get(reverse("catalogue:my_actions")).content.decode()
    assert "Atelier confiance en soi" in html and "Vieille action" in html and "Brouillon en cours" in html
    assert "Action archivée" not in html and "Action d&#x27;une autre structure" not in html
    assert html.count("Mise à jour nécessaire</span>") == 1
    assert "/100" in html
    assert days(9).strftime("%d/%m/%Y") in html
    archived = admin_client.get(reverse("catalogue:my_actions"), {"statut": "archived"}).content.decode()
    assert "Action archivée" in archived and "Vieille action" not in archived
    stale = admin_client.get(reverse("catalogue:my_actions"), {"statut": "a-mettre-a-jour"}).content.decode()
    assert "Vieille action" in stale and "Atelier confiance en soi" not in stale


def test_list_query_count_does_not_grow(world, provider, admin_client):
    structure = provider["structure"]

    def add(n):
        for i in range(n):
            action = ActionFactory(territory=world["territory"], structure=structure, stale=i % 2 == 0,
                                   is_model=i % 3 == 0)
            ActionSessionFactory(action=action)

    def measure(params):
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get(reverse("catalogue:my_actions"), params)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    params = [{}, {"statut": "published"}, {"statut": "a-mettre-a-jour"}, {"q": "atelier"}]
    add(2)
    admin_client.get(reverse("catalogue:my_actions"))
    small = [measure(p) for p in params]
    add(20)
    assert [measure(p) for p in params] == small


def test_exports_csv_and_xlsx_without_access_log(world, provider, admin_client):
    ActionFactory(territory=world["territory"], structure=provider["structure"], name="=HYPERLINK(\"x\")")
    response = admin_client.get(reverse("catalogue:my_actions"), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Identifiant;Nom;Statut")
    assert any("Atelier confiance en soi;Publiée" in line for line in lines)
    assert "'=HYPERLINK" in text  # neutralised
    response = admin_client.get(reverse("catalogue:my_actions"), {"format": "xlsx"})
    assert response.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("Identifiant", "Nom", "Statut") and len(rows) == 3
    assert not AccessLog.objects.exists()


# --- The sheet -----------------------------------------------------------------------------------


def test_create_action_from_the_form(provider, admin_client):
    page = admin_client.get(reverse("catalogue:action_create")).content.decode()
    for legend in ("Présentation", "Thématiques et publics", "Conditions d&#x27;accès", "Lieu et modes d&#x27;accueil",
                   "Contact et mobilisation", "Durée et places", "Spécificités SPIE"):
        assert f"<legend>{legend}</legend>" in page
    assert "Choisir un métier" in page  # a category of thématiques
    response = admin_client.post(reverse("catalogue:action_create"), form_data(eligibility_zone="31; 31555"))
    action = Action.objects.get(name="Visite d'entreprise BTP")
    assert response.status_code == 302 and response["Location"] == reverse("catalogue:action_edit", args=[action.uid])
    assert action.status == S.DRAFT and action.structure == provider["structure"]
    assert action.commune_id == "31395" and action.postal_code == "31600"
    assert action.thematiques == [THEME] and action.eligibility_zone == ["31", "31555"]


def test_bad_zone_gets_a_french_error_naming_the_value_and_loses_nothing(provider, admin_client):
    response = admin_client.post(
        reverse("catalogue:action_create"), form_data(eligibility_zone="31555, Nulle-Part, 123456789, 999")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "« Nulle-Part » : commune, département ou EPCI inconnu" in html
    assert "« 123456789 » : aucun EPCI connu n&#x27;a ce numéro SIREN." in html
    assert "« 999 » : ce code de département est inconnu." in html
    assert "Visite d&#x27;entreprise BTP" in html  # what was typed is still there
    assert 'value="' + THEME + '"' in html and "checked" in html
    assert not Action.objects.filter(name="Visite d'entreprise BTP").exists()


def test_zone_accepts_names_of_communes_and_epci(provider, admin_client):
    response = admin_client.post(reverse("catalogue:action_create"),
                                 form_data(eligibility_zone="Muret; Le Muretain Agglo, 200068807"))
    assert response.status_code == 302
    assert Action.objects.get(name="Visite d'entreprise BTP").eligibility_zone == ["31395", "200068807"]


def test_edit_updates_and_published_action_must_stay_complete(provider, admin_client):
    action = provider["action"]
    url = reverse("catalogue:action_edit", args=[action.uid])
    response = admin_client.post(url, form_data(name="Atelier confiance et estime de soi"))
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.name == "Atelier confiance et estime de soi" and action.content_updated_on == timezone.localdate()
    response = admin_client.post(url, form_data(thematiques=None))
    assert response.status_code == 200
    assert "Choisissez au moins une thématique." in response.content.decode()
    action.refresh_from_db()
    assert action.thematiques


def test_quality_panel_and_confirm_up_to_date(provider, admin_client):
    action = provider["action"]
    Action.objects.filter(pk=action.pk).update(content_updated_on=days(-212), summary="")
    html = admin_client.get(reverse("catalogue:action_edit", args=[action.uid])).content.decode()
    assert "Confirmez que l&#x27;action est à jour (dernière mise à jour il y a 212 jours)" in html
    assert "Ajoutez un résumé" in html
    response = admin_client.post(reverse("catalogue:action_confirm", args=[action.uid]))
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.content_updated_on == timezone.localdate()


def test_lifecycle_buttons_publish_suspend_and_refusals(provider, admin_client):
    action = ActionFactory(territory=provider["structure"].territory, structure=provider["structure"], draft=True,
                           thematiques=[])
    edit = reverse("catalogue:action_edit", args=[action.uid])
    status = reverse("catalogue:action_status", args=[action.uid])
    html = admin_client.get(edit).content.decode()
    assert "Pour publier l'action, complétez" in html and "Publier…" in html
    response = admin_client.post(status, {"status": "published"})
    assert response.status_code == 200
    assert "Choisissez au moins une thématique." in response.content.decode()
    assert Action.objects.get(pk=action.pk).status == S.DRAFT
    Action.objects.filter(pk=action.pk).update(thematiques=[THEME])
    assert admin_client.post(status, {"status": "published"}).status_code == 302
    assert Action.objects.get(pk=action.pk).status == S.PUBLISHED
    response = admin_client.post(status, {"status": "suspended", "until": days(0).isoformat()})
    assert "La date de fin de suspension doit être dans le futur." in response.content.decode()
    assert admin_client.post(status, {"status": "suspended", "until": days(5).isoformat()}).status_code == 302
    action.refresh_from_db()
    assert action.status == S.SUSPENDED and action.suspended_until == days(5)
    response = admin_client.post(status, {"status": "draft"})  # suspended -> draft is not a transition
    assert response.status_code == 200 and Action.objects.get(pk=action.pk).status == S.SUSPENDED


# --- Sessions ----------------------------------------------------------------------------------


def test_sessions_add_edit_and_cancel(world, provider, admin_client):
    action = provider["action"]
    url = reverse("catalogue:action_sessions", args=[action.uid])
    response = admin_client.post(url, {"starts_on": days(12).isoformat(), "capacity": "6", "label": "Printemps"})
    assert response.status_code == 302
    session = ActionSession.objects.get(action=action)
    html = admin_client.get(url).content.decode()
    assert "Printemps" in html and "0 / 6" in html
    # Two places taken: the capacity cannot go below.
    from tests.catalogue.factories import ReferralFactory

    for _ in range(2):
        ReferralFactory(person=world["person"], action=action, session=session, from_structure=world["ref_structure"],
                        sent_by=world["referent"], status="accepted")
    edit = reverse("catalogue:action_session_edit", args=[action.uid, session.pk])
    response = admin_client.post(edit, {"starts_on": days(12).isoformat(), "capacity": "1", "label": "Printemps"})
    assert response.status_code == 200
    assert "La capacité ne peut pas être inférieure aux 2 places déjà prises." in response.content.decode()
    response = admin_client.post(edit, {"annuler": "1"}, follow=True)
    session.refresh_from_db()
    assert session.is_cancelled
    assert "2 personnes y avaient une place" in response.content.decode()


def test_session_past_start_is_refused_in_french(provider, admin_client):
    url = reverse("catalogue:action_sessions", args=[provider["action"].uid])
    response = admin_client.post(url, {"starts_on": days(-3).isoformat(), "capacity": "6"})
    assert response.status_code == 200
    assert "Une nouvelle session commence aujourd&#x27;hui ou plus tard." in response.content.decode()
    assert not ActionSession.objects.exists()


def test_session_of_another_action_is_404(world, provider, admin_client):
    other = ActionSessionFactory(action=ActionFactory(territory=world["territory"], structure=provider["structure"]))
    url = reverse("catalogue:action_session_edit", args=[provider["action"].uid, other.pk])
    assert admin_client.get(url).status_code == 404


# --- Models ------------------------------------------------------------------------------------


def test_decline_a_model_on_another_site(provider, admin_client):
    model = ActionFactory(territory=provider["structure"].territory, structure=provider["structure"], is_model=True,
                          name="Lab des plus de 50 ans")
    html = admin_client.get(reverse("catalogue:action_edit", args=[model.uid])).content.decode()
    assert "Décliner sur un autre site" in html
    url = reverse("catalogue:action_instantiate", args=[model.uid])
    response = admin_client.post(url, {"commune": "Nulle-Part"})
    assert response.status_code == 200 and "Commune introuvable" in response.content.decode()
    response = admin_client.post(url, {"commune": "31395", "address": "2 place de la Mairie", "phone": "0561000000"})
    site = Action.objects.get(model=model)
    assert response.status_code == 302 and response["Location"] == reverse("catalogue:action_edit", args=[site.uid])
    assert site.name == "Lab des plus de 50 ans" and site.commune_id == "31395" and site.status == S.DRAFT
    html = admin_client.get(reverse("catalogue:action_edit", args=[site.uid])).content.decode()
    assert "repris du modèle" in html
    # The site's content fields follow the model: a post cannot change them.
    admin_client.post(reverse("catalogue:action_edit", args=[site.uid]), form_data(name="Autre nom", commune="31395"))
    site.refresh_from_db()
    assert site.name == "Lab des plus de 50 ans"


def test_plain_action_cannot_be_declined(provider, admin_client):
    url = reverse("catalogue:action_instantiate", args=[provider["action"].uid])
    assert admin_client.get(url).status_code == 404


def test_services_and_pages_agree_on_allowed_buttons(provider):
    action = provider["action"]
    assert [s.value for s in services.allowed_targets(action)] == ["suspended", "draft", "archived"]
    assert membership_of(provider["admin"]).structure == action.structure


def test_commune_and_postal_code_must_agree(provider, admin_client):
    response = admin_client.post(reverse("catalogue:action_create"), form_data(postal_code="31000"))
    assert response.status_code == 200
    assert "Le code postal 31000 n&#x27;est pas celui de Muret (31600)." in response.content.decode()


def test_thematiques_come_from_the_loaded_vocabulary_grouped_by_category(provider, admin_client):
    from spie.referentials.models import DataInclusionTerm

    DataInclusionTerm.objects.create(vocabulary="categories_thematiques", value="mobilite", label="Mobilité (chargée)")
    DataInclusionTerm.objects.create(vocabulary="thematiques", value="mobilite--preparer-un-permis",
                                     label="Préparer un permis (chargée)", parent_value="mobilite")
    DataInclusionTerm.objects.create(vocabulary="publics", value="jeunes", label="Jeunes (chargé)")
    html = admin_client.get(reverse("catalogue:action_edit", args=[provider["action"].uid])).content.decode()
    assert "<summary>Mobilité (chargée)</summary>" in html
    assert "Préparer un permis (chargée)" in html and "Jeunes (chargé)" in html
    # The action's stored thématique, unknown to the loaded vocabulary, is kept (checked) under "Autres".
    assert "Autres" in html and "preparer-sa-candidature--realiser-un-cv" in html


# --- Admin ----------------------------------------------------------------------------------------


def test_admin_is_read_only_and_hides_the_person_in_referrals(world, provider):
    from tests.catalogue.factories import ReferralFactory
    from tests.conftest import login_client
    from tests.network.factories import UserFactory

    referral = ReferralFactory(person=world["person"], action=provider["action"], from_structure=world["ref_structure"],
                               sent_by=world["referent"], motivation="Motif très personnel")
    client = login_client(UserFactory(is_staff=True, is_superuser=True))
    html = client.get(reverse("admin:catalogue_referral_change", args=[referral.pk])).content.decode()
    assert "Dupuis" not in html and "Motif très personnel" not in html
    assert client.get(reverse("admin:catalogue_action_changelist"), {"q": "confiance"}).status_code == 200
    assert client.get(reverse("admin:catalogue_action_add")).status_code == 403
    response = client.post(reverse("admin:catalogue_action_change", args=[provider["action"].pk]), {"name": "X"})
    assert response.status_code == 403
