"""The quality score of an action: completeness, freshness, contact, and what to fix."""

import datetime

import pytest

from spie.catalogue.models import Action
from spie.catalogue.quality import freshness_score, quality

TODAY = datetime.date(2025, 6, 30)


def complete_action(**fields):
    """An unsaved, complete action (quality is a pure function: no database needed)."""
    values = dict(
        name="Atelier numérique", summary="Apprendre à utiliser un ordinateur pour chercher un emploi.",
        description="Trois matinées pour prendre en main un ordinateur, créer une adresse électronique, "
                    "déposer son CV en ligne et répondre à des offres d'emploi avec un conseiller.",
        type="atelier", thematiques=["numerique--maitriser-les-fondamentaux-du-numerique"], fees="gratuit",
        publics=["tous-publics"], access_conditions="Aucune", reception_modes=["en-presentiel"], commune_id="31555",
        address="1 place du Capitole", mobilisation_modes=["envoyer-un-courriel"], mobilisable_by=["professionnels"],
        weekly_hours=3, weeks=2, spie_kind="workshop", opening_hours="Lundi 9h-12h", contact_name="Sam Conseil",
        email="sam@example.org", phone="05 61 00 00 00", content_updated_on=TODAY - datetime.timedelta(days=10),
    )
    values.update(fields)
    return Action(**values)


def test_complete_fresh_action_with_contact_scores_100_and_has_nothing_to_fix():
    q = quality(complete_action(), TODAY, freshness_days=180)
    assert (q.score, q.completeness, q.freshness, q.contact) == (100, 100, 100, 100)
    assert q.to_fix == []
    assert q.level == "good"


def test_missing_summary_and_contact_are_listed_in_french():
    q = quality(complete_action(summary="", email="", phone="", contact_name=""), TODAY, freshness_days=180)
    assert "Ajoutez un résumé" in q.to_fix
    assert q.to_fix[0] == "Indiquez un moyen de contact (courriel ou téléphone)"
    assert q.contact == 0
    assert q.completeness < 100
    assert q.score < 80


def test_stale_action_asks_for_confirmation_with_its_age():
    action = complete_action(content_updated_on=TODAY - datetime.timedelta(days=212))
    q = quality(action, TODAY, freshness_days=180)
    assert "Confirmez que l'action est à jour (dernière mise à jour il y a 212 jours)" in q.to_fix
    assert q.freshness < 50
    assert q.score < 100
    assert q.age_days == 212


def test_freshness_decreases_with_age():
    scores = [freshness_score(age, 180) for age in (0, 90, 135, 180, 270, 360, 500)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == scores[1] == 100 and scores[3] == 50 and scores[-1] == 0


@pytest.mark.parametrize("fields, fix", [
    ({"thematiques": []}, "Choisissez au moins une thématique"),
    ({"description": "Court."}, "Détaillez la description"),
    ({"commune_id": None}, "Indiquez l'adresse et la commune du lieu d'accueil"),
    ({"mobilisation_modes": []}, "Indiquez comment mobiliser l'action"),
    ({"mobilisation_modes": ["utiliser-lien-mobilisation"]}, "Ajoutez le lien de mobilisation"),
    ({"fees": "payant"}, "Précisez les frais à la charge de la personne"),
    ({"weekly_hours": None}, "Indiquez la durée"),
])
def test_each_missing_field_lowers_completeness_and_says_what_to_fix(fields, fix):
    q = quality(complete_action(**fields), TODAY, freshness_days=180)
    assert q.completeness < 100
    assert any(item.startswith(fix) for item in q.to_fix), q.to_fix


def test_remote_action_needs_no_address():
    q = quality(complete_action(reception_modes=["a-distance"], commune_id=None, address=""), TODAY,
                freshness_days=180)
    assert q.completeness == 100


def test_one_contact_channel_is_most_of_the_contact_score():
    only_email = quality(complete_action(phone=""), TODAY, freshness_days=180)
    assert 60 <= only_email.contact < 100
    assert "Ajoutez un téléphone de contact" in only_email.to_fix


def test_reads_the_territory_freshness_period_when_not_given(world):
    from tests.catalogue.factories import ActionFactory

    territory = world["territory"]
    territory.settings = {"catalogue_freshness_days": 30}
    territory.save()
    action = ActionFactory(territory=territory, content_updated_on=TODAY - datetime.timedelta(days=40))
    action.territory.refresh_from_db()
    assert any(item.startswith("Confirmez que l'action est à jour") for item in quality(action, TODAY).to_fix)
