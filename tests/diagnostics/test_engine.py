"""The scoring engine (``spie.diagnostics.engine``): table-driven cases over the real frameworks.

No database: the engine imports nothing from Django. Every barrier and strength rule of the
framework files gets a case generated from its condition; the orientation rules of spie-v1 get
hand-written cases, and a check that every one of them is covered.
"""

import datetime

import pytest

from spie.diagnostics import engine
from tests.diagnostics.factories_frameworks import (
    compiled_potentialites,
    compiled_spie,
    minimal_definition,
    read_definition,
    satisfy,
)

SPIE = compiled_spie()
POTENTIALITES = compiled_potentialites()
SPIE_DEFINITION = read_definition("spie-v1.yaml")
POTENTIALITES_DEFINITION = read_definition("potentialites-v1.yaml")


def rule_cases(key):
    """One pytest param per rule ``key`` of both framework files: (compiled, rule)."""
    return [
        pytest.param(compiled, rule, id=f"{compiled.code}-{key}[{index}]-{rule.get('theme') or rule.get('code')}")
        for compiled, definition in ((SPIE, SPIE_DEFINITION), (POTENTIALITES, POTENTIALITES_DEFINITION))
        for index, rule in enumerate(definition.get(key) or [])
    ]


# --- barrier and strength rules: one generated case per rule -------------------------------


@pytest.mark.parametrize(("compiled", "rule"), rule_cases("barrier_rules"))
def test_every_barrier_rule_fires_with_its_severity_and_reason(compiled, rule):
    answers, context = satisfy(rule["when"], compiled)
    # The generated answers are valid stored answers.
    cleaned, errors = engine.clean_answers(compiled, answers)
    assert errors == {}
    assert cleaned == answers

    result = engine.score(compiled, answers, context)

    assert result["profile"][rule["theme"]] >= engine.SEVERITY_RANK[rule["severity"]]
    barrier = next(b for b in result["barriers"] if b["theme"] == rule["theme"])
    assert rule["reason"] in barrier["reasons"]
    assert barrier["label"] == compiled.themes[rule["theme"]]


@pytest.mark.parametrize(("compiled", "rule"), rule_cases("strength_rules"))
def test_every_strength_rule_fires(compiled, rule):
    answers, context = satisfy(rule["when"], compiled)
    assert engine.clean_answers(compiled, answers) == (answers, {})

    result = engine.score(compiled, answers, context)

    assert {"code": rule["code"], "label": rule["label"]} in result["strengths"]


@pytest.mark.parametrize("compiled", [SPIE, POTENTIALITES], ids=["spie", "potentialites"])
def test_no_answer_means_no_barrier_no_strength(compiled):
    result = engine.score(compiled, {})
    assert result["barriers"] == []
    assert result["strengths"] == []
    assert set(result["profile"].values()) == {0}
    assert result["suggestions"] == []


# --- hand-written cases: realistic answer sets ------------------------------------------------

# Each case: answers, context, the expected severities of some themes, the orientation (type and
# index of the rule of spie-v1.yaml that must fire) and the strengths expected.
SCORING_CASES = [
    pytest.param(
        {"logement_situation": "sans_hebergement", "projet_clarte": "defini", "permis": "b"},
        {},
        {"logement": "blocking"},
        ("sociale", 0),
        ["permis_b", "projet_defini"],
        id="sans-hebergement-sociale",
    ),
    pytest.param(
        {"garde_enfants": "aucune_solution", "enfant_moins_3_ans": True, "famille_situation": "couple_avec_enfants"},
        {"lone_parent": True},
        {"contraintes_familiales": "blocking"},
        ("sociale", 0),
        [],
        id="parent-isole-par-le-contexte-sans-garde",
    ),
    pytest.param(
        {
            "logement_situation": "heberge_tiers",
            "couverture_sociale": "aucune",
            "ressources_niveau": "precaires",
            "projet_clarte": "defini",
        },
        {},
        {"logement": "strong", "sante": "strong", "difficulte_financiere": "strong"},
        ("sociale", 1),
        ["projet_defini"],
        id="trois-freins-sociaux-forts",
    ),
    pytest.param(
        {
            "permis": "b",
            "vehicule": "aucun",
            "transports_communs": "non_desservi",
            "projet_clarte": "defini",
            "metiers_cibles": ["K2204"],
        },
        {},
        {"mobilite": "strong"},
        ("socio_professionnelle", 2),
        ["permis_b", "projet_defini", "metiers_identifies"],
        id="mobilite-forte-avec-projet",
    ),
    pytest.param(
        {"logement_situation": "hotel", "couverture_sociale": "aucune", "projet_clarte": "aucun"},
        {},
        {"logement": "strong", "sante": "strong", "choisir_un_metier": "strong"},
        ("sociale", 3),
        [],
        id="deux-freins-sociaux-sans-projet",
    ),
    pytest.param(
        {"fle": "non_maitrise", "projet_clarte": "a_construire", "motivation": 4},
        {},
        {"maitrise_langue": "strong", "choisir_un_metier": "light"},
        ("socio_professionnelle", 4),
        ["motivation"],
        id="langue-forte-projet-a-construire",
    ),
    pytest.param(
        {
            "permis": "b",
            "vehicule": "voiture_moto",
            "projet_clarte": "defini",
            "cv": "a_jour",
            "disponibilite": "immediate",
            "experience_annees": 8,
            "distance_max_km": 40,
        },
        {},
        {},
        ("professionnelle", 5),
        ["permis_b", "vehicule", "mobilite_etendue", "experience", "projet_defini", "disponible", "cv_a_jour"],
        id="pret-pour-l-emploi",
    ),
    pytest.param(
        {"cv": "aucun", "projet_clarte": "aucun", "demarches_recherche": ["aucune"], "permis": "aucun"},
        {},
        {
            "preparer_sa_candidature": "strong",
            "choisir_un_metier": "strong",
            "trouver_un_emploi": "strong",
            "mobilite": "light",
        },
        ("professionnelle", 5),
        [],
        id="freins-professionnels-seulement",
    ),
    pytest.param(
        {"permis": "aucun", "vehicule": "aucun", "transports_communs": "non_desservi"},
        {},
        {"mobilite": "blocking"},
        ("sociale", 0),
        [],
        id="mobilite-bloquante",
    ),
]


@pytest.mark.parametrize(("answers", "context", "severities", "orientation", "strengths"), SCORING_CASES)
def test_scoring_cases(answers, context, severities, orientation, strengths):
    assert engine.clean_answers(SPIE, answers) == (answers, {})
    result = engine.score(SPIE, answers, context)

    found = {barrier["theme"]: barrier["severity"] for barrier in result["barriers"]}
    for theme, severity in severities.items():
        assert found.get(theme) == severity, theme
    kind, rule_index = orientation
    rule = SPIE_DEFINITION["orientation_rules"][rule_index]
    assert rule["type"] == kind
    assert result["orientation"]["type"] == kind
    assert result["orientation"]["reasons"][0] == rule["reason"]
    assert [strength["code"] for strength in result["strengths"]] == strengths


def test_every_orientation_rule_has_a_case():
    fired = set()
    for case in SCORING_CASES:
        answers, context = case.values[0], case.values[1]
        reason = engine.score(SPIE, answers, context)["orientation"]["reasons"][0]
        fired.add(next(i for i, rule in enumerate(SPIE_DEFINITION["orientation_rules"]) if rule["reason"] == reason))
    assert fired == set(range(len(SPIE_DEFINITION["orientation_rules"])))


def test_orientation_gives_the_barrier_reasons_that_made_it_fire():
    answers = {
        "logement_situation": "heberge_tiers",
        "couverture_sociale": "aucune",
        "ressources_niveau": "precaires",
        "permis": "en_cours",  # a light mobility barrier: not a reason of this orientation
    }
    orientation = engine.score(SPIE, answers)["orientation"]

    assert orientation == {
        "type": "sociale",
        "label": "Sociale",
        "reasons": [
            "Au moins trois freins forts d'ordre social (logement, santé, budget, famille, langue).",
            "Logement : Hébergement précaire ou temporaire",
            "Santé : Sans couverture santé",
            "Difficultés financières : Ressources sous le seuil de pauvreté",
        ],
        "themes": ["logement", "sante", "difficulte_financiere"],
    }


def test_default_orientation_has_only_its_reason():
    orientation = engine.score(SPIE, {"permis": "b"})["orientation"]
    assert orientation["type"] == "professionnelle"
    assert orientation["reasons"] == [SPIE_DEFINITION["orientation_rules"][-1]["reason"]]
    assert orientation["themes"] == []


# --- output shape -----------------------------------------------------------------------------


def test_result_shape_sorting_profile_and_suggestions():
    answers = {
        "permis": "en_cours",  # mobilite light
        "cv": "aucun",  # preparer_sa_candidature strong
        "logement_situation": "heberge_tiers",  # logement strong
        "logement_difficultes": ["expulsion"],  # logement blocking
        "fle": "en_cours",  # maitrise_langue light
        "budget_difficultes": ["gestion"],  # difficulte_financiere light
    }
    result = engine.score(SPIE, answers)

    assert list(result) == ["barriers", "profile", "strengths", "orientation", "suggestions", "situations", "framework"]
    assert [(b["theme"], b["severity"]) for b in result["barriers"]] == [
        ("logement", "blocking"),
        ("preparer_sa_candidature", "strong"),
        ("mobilite", "light"),
        ("difficulte_financiere", "light"),
        ("maitrise_langue", "light"),
    ]
    # Most severe reasons first.
    assert result["barriers"][0]["reasons"] == [
        "Doit quitter son logement (procédure d'expulsion)",
        "Hébergement précaire ou temporaire",
    ]
    assert list(result["profile"]) == list(SPIE.themes)
    assert result["profile"]["logement"] == 3
    assert result["profile"]["preparer_sa_candidature"] == 2
    assert result["profile"]["mobilite"] == 1
    assert result["profile"]["sante"] == 0
    assert [s["theme"] for s in result["suggestions"]] == [b["theme"] for b in result["barriers"]]
    logement = result["suggestions"][0]
    assert logement["label"] == "Logement"
    assert "Accéder à un logement" in logement["objectives"]
    assert "Demande de logement social" in logement["actions"]
    assert "logement-hebergement--louer-un-logement" in logement["thematiques"]
    assert {"theme": "logement", "label": "Hébergé chez un tiers"} in result["situations"]
    assert {"theme": "logement", "label": "Doit quitter le logement (procédure d'expulsion, ...)"} in result[
        "situations"
    ]
    assert {"theme": "mobilite", "label": "Permis et/ou code en cours"} in result["situations"]
    assert result["framework"] == {"code": "spie", "version": 1}


def test_suggestion_lists_are_copies():
    result = engine.score(SPIE, {"logement_situation": "sans_hebergement"})
    result["suggestions"][0]["objectives"].append("modifié")
    again = engine.score(SPIE, {"logement_situation": "sans_hebergement"})
    assert "modifié" not in again["suggestions"][0]["objectives"]


def test_potentialities_have_no_orientation_and_feed_the_same_theme_codes():
    answers = {"mode_garde": "aucune", "reprise_souhaitee": "immediate", "garde_delai": "inconnu", "permis_b": True}
    result = engine.score(POTENTIALITES, answers, {"lone_parent": True})

    assert result["orientation"] is None
    assert result["barriers"][0]["theme"] == "contraintes_familiales"
    assert result["barriers"][0]["severity"] == "blocking"
    assert set(result["profile"]) <= set(SPIE.themes)
    assert {"code": "permis_b", "label": "Titulaire du permis B"} in result["strengths"]
    assert result["framework"] == {"code": "potentialites", "version": 1}


def test_stored_garbage_does_not_break_scoring():
    answers = {"experience_annees": "beaucoup", "demarches_recherche": "aucune", "permis": ["b"], "inconnue": 1}
    result = engine.score(SPIE, answers)
    assert result["orientation"]["type"] == "professionnelle"


def test_context_defaults_to_nothing():
    answers = {"garde_enfants": "aucune_solution", "enfant_moins_3_ans": True}
    assert engine.score(SPIE, answers)["profile"]["contraintes_familiales"] == 2
    assert engine.score(SPIE, answers, {"lone_parent": True})["profile"]["contraintes_familiales"] == 3


# --- compiled framework -----------------------------------------------------------------------


def test_compiled_lookups():
    assert SPIE.code == "spie" and SPIE.version == 1 and SPIE.kind == "diagnostic"
    assert 8 <= len(SPIE.sections) <= 10
    assert 40 <= len(SPIE.questions) <= 60
    assert SPIE.questions["logement_situation"].section == "logement"
    assert SPIE.questions["logement_situation"].option_labels["heberge_tiers"] == "Hébergé(e) chez un tiers"
    assert SPIE.section("mobilite").question_codes[0] == "permis"
    assert SPIE.restricted_questions == ["sante_impact", "sante_acces_soins", "couverture_sociale", "mdph"]
    assert SPIE.questions["observations"].reminder == engine.TEXT_REMINDER
    assert SPIE.questions["permis"].reminder == ""
    assert SPIE.questions["ressources"].theme == "difficulte_financiere"
    assert SPIE.questions["papiers_identite"].theme == "difficulte_administrative"
    kinds = {question.kind for question in SPIE.questions.values()}
    assert kinds == set(engine.KINDS)


def test_compile_refuses_an_invalid_definition():
    definition = minimal_definition(kind="autre")
    with pytest.raises(engine.FrameworkError) as error:
        engine.compile(definition)
    assert error.value.errors == [
        "test-v1 › kind : type de trame inconnu « autre » (valeurs possibles : diagnostic, potentialities)"
    ]


# --- clean_answers ----------------------------------------------------------------------------

CLEAN_CASES = [
    # code, raw value, expected stored value (or None when blank), expected error (or None)
    ("logement_situation", "heberge_tiers", "heberge_tiers", None),
    ("logement_situation", " heberge_tiers ", "heberge_tiers", None),
    ("logement_situation", "chateau", None, "choix non proposé : « chateau »"),
    ("logement_situation", "", None, None),
    ("logement_difficultes", ["insalubre", "impayes"], ["impayes", "insalubre"], None),
    ("logement_difficultes", "impayes", ["impayes"], None),
    ("logement_difficultes", ["impayes", "inconnue"], None, "choix non proposé : « inconnue »"),
    ("logement_difficultes", ["aucune", "impayes"], None, "« Aucune » ne peut pas être cochée avec d'autres réponses"),
    ("logement_difficultes", [], None, None),
    ("isolement", "oui", True, None),
    ("isolement", "false", False, None),
    ("isolement", False, False, None),
    ("isolement", "peut-être", None, "réponse attendue : oui ou non"),
    ("motivation", "3", 3, None),
    ("motivation", 7, None, "la valeur doit être au plus 4"),
    ("motivation", "2,5", None, "un nombre entier est attendu"),
    ("motivation", True, None, "un nombre entier est attendu"),
    ("temps_trajet_max", "45", 45, None),
    ("temps_trajet_max", "37,5", 37.5, None),
    ("temps_trajet_max", "-5", None, "la valeur doit être au moins 0 minutes"),
    ("temps_trajet_max", "500", None, "la valeur doit être au plus 240 minutes"),
    ("temps_trajet_max", "une heure", None, "un nombre est attendu"),
    ("temps_trajet_max", "nan", None, "un nombre est attendu"),
    ("date_disponibilite", "15/03/2027", "2027-03-15", None),
    ("date_disponibilite", "2027-03-15", "2027-03-15", None),
    ("date_disponibilite", datetime.date(2027, 3, 15), "2027-03-15", None),
    ("date_disponibilite", "31/02/2027", None, "date invalide (format attendu : JJ/MM/AAAA)"),
    ("date_disponibilite", "demain", None, "date invalide (format attendu : JJ/MM/AAAA)"),
    ("metiers_cibles", "k2204, M1607", ["K2204", "M1607"], None),
    ("metiers_cibles", ["K2204", "K2204", "38512"], ["K2204", "38512"], None),
    ("metiers_cibles", ["plombier"], None, "code ROME ou code d'appellation invalide : « plombier »"),
    ("recherche_commune", "31555", "31555", None),
    ("recherche_commune", "2a004", "2A004", None),
    ("recherche_commune", "Toulouse", None, "code INSEE de commune invalide : « Toulouse »"),
    ("competences_cles", "  Cariste, permis CACES 3  ", "Cariste, permis CACES 3", None),
    ("competences_cles", "x" * 2001, None, "texte trop long (2001 caractères, au plus 2000)"),
    ("competences_cles", 12, None, "un texte est attendu"),
]


@pytest.mark.parametrize(("code", "raw", "expected", "error"), CLEAN_CASES)
def test_clean_answers_per_kind(code, raw, expected, error):
    answers, errors = engine.clean_answers(SPIE, {code: raw})
    if error:
        assert errors == {code: error}
        assert answers == {}
    else:
        assert errors == {}
        assert answers == ({} if expected is None else {code: expected})


def test_clean_answers_unknown_question_and_several_errors_at_once():
    answers, errors = engine.clean_answers(SPIE, {"age": "40", "motivation": "9", "permis": "b"})
    assert answers == {"permis": "b"}
    assert errors == {"age": "question inconnue « age »", "motivation": "la valeur doit être au plus 4"}


class FakeQueryDict(dict):
    """What a Django QueryDict offers: ``getlist`` and the last value through ``[]``."""

    def __getitem__(self, key):
        return super().__getitem__(key)[-1]

    def getlist(self, key):
        return list(super().__getitem__(key))


def test_clean_answers_reads_lists_from_a_querydict():
    raw = FakeQueryDict({"logement_difficultes": ["impayes", "insalubre"], "permis": ["b"], "motivation": ["2"]})
    answers, errors = engine.clean_answers(SPIE, raw)
    assert errors == {}
    assert answers == {"logement_difficultes": ["impayes", "insalubre"], "permis": "b", "motivation": 2}


# --- missing_required, progress, diff, format_answer ------------------------------------------


def test_missing_required_in_form_order():
    required = [code for code, question in SPIE.questions.items() if question.required]
    assert engine.missing_required(SPIE, {}) == required
    assert "famille_situation" in required and "logement_situation" in required
    answers = {code: SPIE.questions[code].options[0].value for code in required}
    assert engine.missing_required(SPIE, answers) == []
    answers["permis"] = ""
    assert engine.missing_required(SPIE, answers) == ["permis"]


def test_progress():
    assert engine.progress(SPIE, {}) == (0, len(SPIE.questions))
    answers = {"permis": "b", "logement_difficultes": [], "motivation": 0, "isolement": False, "inconnue": 1}
    assert engine.progress(SPIE, answers) == (3, len(SPIE.questions))


def test_diff_lists_changes_with_human_labels_in_form_order():
    before = {
        "logement_situation": "heberge_tiers",
        "logement_difficultes": ["impayes", "insalubre"],
        "permis": "en_cours",
        "isolement": True,
        "temps_trajet_max": 30,
        "date_disponibilite": "2026-10-01",
        "ancienne_question": "x",
    }
    after = {
        "logement_situation": "locataire_social",
        "logement_difficultes": ["insalubre", "impayes"],  # same choices, other order: unchanged
        "permis": "b",
        "isolement": False,
        "temps_trajet_max": 45,
        "date_disponibilite": "2026-10-01",
        "motivation": 3,
    }
    assert engine.diff(SPIE, before, after) == [
        {
            "question": "isolement",
            "label": SPIE.questions["isolement"].label,
            "before": "Oui",
            "after": "Non",
        },
        {
            "question": "logement_situation",
            "label": "Quelle est la situation de logement de la personne ?",
            "before": "Hébergé(e) chez un tiers",
            "after": "Locataire (logement social)",
        },
        {
            "question": "permis",
            "label": "Permis de conduire B",
            "before": "Permis ou code en cours",
            "after": "Permis B valide",
        },
        {
            "question": "temps_trajet_max",
            "label": SPIE.questions["temps_trajet_max"].label,
            "before": "30 minutes",
            "after": "45 minutes",
        },
        {"question": "motivation", "label": SPIE.questions["motivation"].label, "before": None, "after": "3 / 4"},
        {"question": "ancienne_question", "label": "ancienne_question", "before": "x", "after": None},
    ]


def test_diff_of_identical_answers_is_empty():
    answers = {"permis": "b", "metiers_cibles": ["K2204"]}
    assert engine.diff(SPIE, answers, dict(answers)) == []
    assert engine.diff(SPIE, {"permis": ""}, {}) == []


@pytest.mark.parametrize(
    ("code", "value", "text"),
    [
        ("logement_difficultes", ["impayes", "insalubre"], "Difficulté à payer le loyer, Logement insalubre"),
        ("date_disponibilite", "2027-03-15", "15/03/2027"),
        ("temps_trajet_max", 37.5, "37,5 minutes"),
        ("enfant_moins_3_ans", True, "Oui"),
        ("metiers_cibles", ["K2204", "M1607"], "K2204, M1607"),
        ("recherche_commune", "31555", "31555"),
        ("permis", None, None),
        ("permis", [], None),
    ],
)
def test_format_answer(code, value, text):
    assert engine.format_answer(SPIE, code, value) == text
