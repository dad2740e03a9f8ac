"""Framework files: validation errors, loading, immutable versions, current version."""

import io

import pytest
from django.core.management import CommandError, call_command

from spie.diagnostics import engine, loaders
from spie.diagnostics.models import Diagnostic, Framework
from spie.referentials.models import DataInclusionTerm, PathwayTheme
from tests.diagnostics.factories_frameworks import (
    FRAMEWORKS_DIR,
    load_pathway_referentials,
    make_diagnostic,
    minimal_definition,
    read_definition,
    referential_kwargs,
    write_framework,
)

SOURCE = "test-v1.yaml"


@pytest.fixture
def referentials(db):
    load_pathway_referentials()


def errors_of(definition, **kwargs):
    with pytest.raises(engine.FrameworkError) as error:
        engine.validate(definition, source=SOURCE, **(referential_kwargs() | kwargs))
    return error.value.errors


# --- the real files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["spie-v1.yaml", "potentialites-v1.yaml"])
def test_real_files_validate_against_the_referentiel_files(name):
    definition = read_definition(name)
    engine.validate(definition, source=name, **referential_kwargs())
    assert f"{definition['code']}-v{definition['version']}.yaml" == name


def test_real_files_load_into_the_database_and_reload_idempotently(referentials):
    out = io.StringIO()
    rows = loaders.load_frameworks(stdout=out)

    assert sorted((row.code, row.version, row.kind, row.is_current) for row in rows) == [
        ("potentialites", 1, "potentialities", True),
        ("spie", 1, "diagnostic", True),
    ]
    spie = Framework.objects.get(code="spie")
    assert spie.definition == read_definition("spie-v1.yaml")
    assert spie.checksum == loaders.checksum(spie.definition)
    assert len(spie.checksum) == 64
    assert spie.source_file == "spie/diagnostics/frameworks/spie-v1.yaml"
    assert spie.title == "Diagnostic socio-professionnel approfondi (trame unique SPIE)"
    assert spie.description.startswith("Un seul diagnostic partagé")
    assert "Trame « spie » v1 (spie-v1.yaml) : chargée — 10 étapes, 59 questions" in out.getvalue()
    assert "2 trames chargées" in out.getvalue()

    out = io.StringIO()
    again = loaders.load_frameworks(stdout=out)
    assert [row.pk for row in again] == [row.pk for row in rows]
    assert Framework.objects.count() == 2
    assert "déjà chargée, inchangée" in out.getvalue()
    assert out.getvalue().strip().endswith("Trames à jour")


def test_command_loads_the_referentials_first_when_they_are_empty(db):
    assert not PathwayTheme.objects.exists()
    out = io.StringIO()
    call_command("load_frameworks", stdout=out)

    assert PathwayTheme.objects.filter(code="logement").exists()
    assert DataInclusionTerm.objects.filter(vocabulary="thematiques").exists()
    assert "Référentiel de parcours ou thématiques data·inclusion absents : chargement…" in out.getvalue()
    assert Framework.objects.filter(is_current=True).count() == 2


def test_current_framework_and_compiled_cache(referentials):
    loaders.load_frameworks()
    framework, compiled = loaders.compiled_current("spie")
    assert framework == loaders.current_framework("spie")
    assert compiled.code == "spie" and compiled.version == 1
    assert loaders.compiled_for(Framework.objects.get(pk=framework.pk)) is compiled
    with pytest.raises(Framework.DoesNotExist):
        loaders.current_framework("inconnue")


# --- broken definitions -----------------------------------------------------------------------


def set_path(definition, path, value):
    """Set ``definition[a][b][2]...`` from a tuple path; ``value=DELETE`` removes the key."""
    *parents, last = path
    target = definition
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value


DELETE = object()
Q0 = ("sections", 0, "questions", 0)
Q1 = ("sections", 0, "questions", 1)

BROKEN = [
    # (changes [(path, value)], expected message without the "test-v1.yaml › " prefix)
    pytest.param(
        [((*Q0, "options", 1, "value"), "stable")],
        "sections[0].questions[0].options[1].value : valeur en double « stable »",
        id="option-en-double",
    ),
    pytest.param(
        [((*Q1, "lable"), "Permis")],
        "sections[0].questions[1].lable : clé inconnue (clés possibles : code, kind, label, help, required, theme)",
        id="cle-inconnue",
    ),
    pytest.param(
        [(("titre",), "Trame")],
        "titre : clé inconnue (clés possibles : code, version, kind, title, description, themes, sections, "
        "barrier_rules, strength_rules, orientation_rules, suggestions)",
        id="cle-inconnue-en-tete",
    ),
    pytest.param(
        [((*Q1, "label"), DELETE)],
        "sections[0].questions[1].label : clé obligatoire manquante",
        id="libelle-manquant",
    ),
    pytest.param(
        [((*Q1, "kind"), "boolean")],
        "sections[0].questions[1].kind : type de question inconnu « boolean » (types possibles : single, multiple, "
        "yes_no, scale, number, date, rome, commune, text)",
        id="type-de-question-inconnu",
    ),
    pytest.param(
        [((*Q1, "unit"), "km")],
        "sections[0].questions[1].unit : clé non prise en charge pour une question de type « yes_no »",
        id="cle-hors-type",
    ),
    pytest.param(
        [((*Q0, "options"), DELETE)],
        "sections[0].questions[0].options : clé obligatoire manquante pour une question à choix",
        id="options-manquantes",
    ),
    pytest.param(
        [((*Q1, "code"), "logement_situation")],
        "sections[0].questions[1].code : code de question en double « logement_situation » "
        "(déjà utilisé par sections[0].questions[0])",
        id="question-en-double",
    ),
    pytest.param(
        [((*Q1, "code"), "Permis B")],
        "sections[0].questions[1].code : code invalide « Permis B » (lettres minuscules, chiffres et _)",
        id="code-invalide",
    ),
    pytest.param(
        [(("barrier_rules", 0, "when", "answer"), "logement")],
        "barrier_rules[0].when.answer : question inconnue « logement »",
        id="condition-question-inconnue",
    ),
    pytest.param(
        [(("barrier_rules", 0, "when", "equals"), "rue")],
        "barrier_rules[0].when.equals : valeur « rue » absente des options de la question « logement_situation »",
        id="condition-valeur-inconnue",
    ),
    pytest.param(
        [(("barrier_rules", 0, "when"), {"answer": "logement_situation", "in": ["stable", "rue"]})],
        "barrier_rules[0].when.in[1] : valeur « rue » absente des options de la question « logement_situation »",
        id="condition-liste-valeur-inconnue",
    ),
    pytest.param(
        [(("barrier_rules", 0, "when"), {"answer": "logement_situation", "includes": "stable"})],
        "barrier_rules[0].when.includes : réservé aux questions à choix multiple (type « single »)",
        id="includes-sur-choix-unique",
    ),
    pytest.param(
        [(("barrier_rules", 1, "when"), {"answer": "permis", "gte": 1})],
        "barrier_rules[1].when.gte : comparaison numérique impossible sur une question de type « yes_no »",
        id="comparaison-sur-oui-non",
    ),
    pytest.param(
        [(("barrier_rules", 1, "when"), {"answer": "permis", "equals": "oui"})],
        "barrier_rules[1].when.equals : true ou false attendu pour une question oui/non",
        id="oui-non-en-texte",
    ),
    pytest.param(
        [(("barrier_rules", 1, "when"), {"all": [{"context": "age", "equals": True}]})],
        "barrier_rules[1].when.all[0].context : fait inconnu « age » (faits possibles : under_26, over_50, "
        "child_under_3, rsa, lone_parent, driving_licence, has_vehicle)",
        id="contexte-inconnu",
    ),
    pytest.param(
        [(("barrier_rules", 1, "when"), {"barrier": "logement", "at_least": "strong"})],
        "barrier_rules[1].when : condition sur les freins réservée aux règles d'orientation",
        id="condition-frein-hors-orientation",
    ),
    pytest.param(
        [(("barrier_rules", 1, "when"), {"answer": "permis", "vaut": True})],
        "barrier_rules[1].when.vaut : opérateur inconnu (opérateurs possibles : equals, in, includes, includes_any, "
        "gte, lte, answered)",
        id="operateur-inconnu",
    ),
    pytest.param(
        [(("barrier_rules", 0, "severity"), "severe")],
        "barrier_rules[0].severity : gravité inconnue « severe » (valeurs possibles : light, strong, blocking)",
        id="gravite-inconnue",
    ),
    pytest.param(
        [(("barrier_rules", 1, "theme"), "sante")],
        "barrier_rules[1].theme : thème « sante » absent de « themes »",
        id="theme-hors-trame",
    ),
    pytest.param(
        [(("barrier_rules", 0, "reason"), DELETE)],
        "barrier_rules[0].reason : clé obligatoire manquante",
        id="raison-manquante",
    ),
    pytest.param(
        [(("strength_rules", 0, "code"), "Permis")],
        "strength_rules[0].code : code invalide « Permis » (lettres minuscules, chiffres et _)",
        id="code-atout-invalide",
    ),
    pytest.param(
        [(("orientation_rules", 0, "type"), "pro")],
        "orientation_rules[0].type : type d'orientation inconnu « pro » (valeurs possibles : professionnelle, "
        "socio_professionnelle, sociale)",
        id="type-orientation-inconnu",
    ),
    pytest.param(
        [(("orientation_rules",), [])],
        "orientation_rules : règles d'orientation obligatoires pour une trame de type diagnostic",
        id="orientation-manquante",
    ),
    pytest.param(
        [
            (
                ("orientation_rules", 1),
                {"type": "professionnelle", "when": {"answer": "permis", "equals": True}, "reason": "Permis"},
            )
        ],
        "orientation_rules[1] : la dernière règle doit avoir « default: true » (orientation par défaut)",
        id="derniere-regle-sans-defaut",
    ),
    pytest.param(
        [(("orientation_rules", 0), {"type": "sociale", "default": True, "reason": "Toujours"})],
        "orientation_rules[0].default : seule la dernière règle peut être la règle par défaut",
        id="defaut-pas-en-dernier",
    ),
    pytest.param(
        [(("orientation_rules", 0, "when"), {"barrier": "sante", "at_least": "strong"})],
        "orientation_rules[0].when.barrier : thème « sante » absent de « themes »",
        id="orientation-theme-inconnu",
    ),
    pytest.param(
        [(("orientation_rules", 0, "when"), {"barriers_at_least": "fort", "count_gte": 1})],
        "orientation_rules[0].when.barriers_at_least : gravité inconnue « fort » (valeurs possibles : light, "
        "strong, blocking)",
        id="orientation-gravite-inconnue",
    ),
    pytest.param(
        [(("kind",), "potentialities")],
        "orientation_rules : pas de règles d'orientation dans une grille des potentialités",
        id="orientation-dans-une-grille",
    ),
    pytest.param(
        [(("version",), "1")],
        "version : un entier supérieur ou égal à 1 est attendu",
        id="version-texte",
    ),
    pytest.param(
        [(("themes", "chomage"), "Chômage")],
        "themes.chomage : thème inconnu du référentiel de parcours « chomage »",
        id="theme-hors-referentiel",
    ),
    pytest.param(
        [((*Q0, "options", 0, "situation"), "Locataire")],
        "sections[0].questions[0].options[0].situation : situation « Locataire » absente du référentiel pour le "
        "thème « logement »",
        id="situation-hors-referentiel",
    ),
    pytest.param(
        [(("sections", 0, "theme"), DELETE)],
        "sections[0].questions[0].options[0].situation : thème du référentiel inconnu : ajoutez « theme » à la "
        "question ou à sa section",
        id="situation-sans-theme",
    ),
    pytest.param(
        [(("suggestions", "logement", "objectives", 0), "Obtenir le permis de conduire (code / conduite)")],
        "suggestions.logement.objectives[0] : objectif « Obtenir le permis de conduire (code / conduite) » absent "
        "du référentiel pour le thème « logement »",
        id="objectif-d-un-autre-theme",
    ),
    pytest.param(
        [(("suggestions", "logement", "actions", 0), "Trouver un appartement")],
        "suggestions.logement.actions[0] : action « Trouver un appartement » absente du référentiel pour le thème "
        "« logement »",
        id="action-hors-referentiel",
    ),
    pytest.param(
        [(("suggestions", "logement", "thematiques", 0), "logement")],
        "suggestions.logement.thematiques[0] : thématique data·inclusion inconnue « logement »",
        id="thematique-inconnue",
    ),
    pytest.param(
        [(("suggestions", "sante"), {"objectives": []})],
        "suggestions.sante : thème « sante » absent de « themes »",
        id="suggestion-theme-hors-trame",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), BROKEN)
def test_broken_definitions_give_a_french_error_with_the_key_path(changes, expected):
    definition = minimal_definition()
    for path, value in changes:
        set_path(definition, path, value)
    assert f"{SOURCE} › {expected}" in errors_of(definition)


def test_the_minimal_definition_is_valid():
    engine.validate(minimal_definition(), source=SOURCE, **referential_kwargs())


def test_every_problem_is_listed_at_once():
    definition = minimal_definition()
    set_path(definition, (*Q0, "options", 0, "value"), "sans_hebergement")
    set_path(definition, ("barrier_rules", 0, "severity"), "severe")
    set_path(definition, ("suggestions", "logement", "thematiques", 0), "logement")
    errors = errors_of(definition)
    assert len(errors) == 3
    assert all(error.startswith("test-v1.yaml › ") for error in errors)


def test_referentials_may_be_flat_sets_or_omitted():
    definition = minimal_definition()
    engine.validate(definition, source=SOURCE)  # structure only
    kwargs = referential_kwargs()
    flat = {key: set().union(*kwargs[key].values()) for key in ("situations", "objectives", "actions")}
    engine.validate(definition, source=SOURCE, **flat)
    set_path(definition, (*Q0, "options", 0, "situation"), "Permis B")  # a situation of another theme
    engine.validate(definition, source=SOURCE, **flat)
    with pytest.raises(engine.FrameworkError):
        engine.validate(definition, source=SOURCE, **kwargs)


# --- files: syntax, lines, names --------------------------------------------------------------


def test_yaml_syntax_error_names_the_file_and_line(referentials, tmp_path):
    (tmp_path / "test-v1.yaml").write_text(
        "code: test\nversion: 1\nkind: diagnostic\ntitle: [Trame\nthemes: {}\n", encoding="utf-8"
    )
    with pytest.raises(engine.FrameworkError) as error:
        loaders.load_frameworks(tmp_path)
    assert len(error.value.errors) == 1
    assert error.value.errors[0].startswith("test-v1.yaml, ligne 5, colonne ")
    assert "erreur de syntaxe YAML" in error.value.errors[0]


def test_duplicate_yaml_key_is_refused_with_its_line(referentials, tmp_path):
    (tmp_path / "test-v1.yaml").write_text("code: test\nversion: 1\ncode: autre\n", encoding="utf-8")
    with pytest.raises(engine.FrameworkError) as error:
        loaders.load_frameworks(tmp_path)
    assert error.value.errors[0].startswith("test-v1.yaml, ligne 3, colonne 1 : erreur de syntaxe YAML")
    assert "clé en double « code »" in error.value.errors[0]


def test_validation_errors_of_a_file_give_the_line(referentials, tmp_path):
    definition = minimal_definition()
    set_path(definition, (*Q0, "options", 0, "value"), "sans_hebergement")
    path = write_framework(tmp_path, definition)
    lines = path.read_text(encoding="utf-8").splitlines()
    # The duplicate is the second "value: sans_hebergement" of the file.
    second = [n for n, text in enumerate(lines, start=1) if text.strip().endswith("value: sans_hebergement")][1]
    with pytest.raises(engine.FrameworkError) as error:
        loaders.load_frameworks(tmp_path)
    assert error.value.errors == [
        "test-v1.yaml › sections[0].questions[0].options[1].value : valeur en double « sans_hebergement » "
        f"(ligne {second})"
    ]


def test_line_of_key_paths():
    text = "code: test\nsections:\n  - code: a\n    questions:\n      - code: q1\n      - code: q2\n"
    assert loaders.line_of(text, "code") == 1
    assert loaders.line_of(text, "sections[0].questions[1].code") == 6
    assert loaders.line_of(text, "sections[0].questions[1].missing") == 6
    assert loaders.line_of(text, "sections[3]") == 2


def test_file_name_must_match_code_and_version(referentials, tmp_path):
    write_framework(tmp_path, minimal_definition(), name="ma-trame.yaml")
    with pytest.raises(engine.FrameworkError) as error:
        loaders.load_frameworks(tmp_path)
    assert error.value.errors == [
        "ma-trame.yaml : le nom du fichier doit être « test-v1.yaml » (code et version de la trame)"
    ]


def test_nothing_is_written_when_one_file_is_invalid(referentials, tmp_path):
    write_framework(tmp_path, minimal_definition())
    write_framework(tmp_path, minimal_definition(code="autre", kind="inconnu"))
    with pytest.raises(engine.FrameworkError) as error:
        loaders.load_frameworks(tmp_path)
    assert error.value.errors == [
        "autre-v1.yaml › kind : type de trame inconnu « inconnu » (valeurs possibles : diagnostic, "
        "potentialities) (ligne 3)"
    ]
    assert not Framework.objects.exists()


def test_empty_directory(referentials, tmp_path):
    with pytest.raises(engine.FrameworkError) as error:
        loaders.load_frameworks(tmp_path)
    assert error.value.errors == [f"Aucune trame (fichier *.yaml) dans {tmp_path}"]


# --- versions ---------------------------------------------------------------------------------


def test_a_stored_version_never_changes(referentials, tmp_path):
    write_framework(tmp_path, minimal_definition())
    (v1,) = loaders.load_frameworks(tmp_path)

    write_framework(tmp_path, minimal_definition(title="Trame de test modifiée"))
    with pytest.raises(engine.FrameworkError) as error:
        loaders.load_frameworks(tmp_path)
    assert error.value.errors == [
        "test-v1.yaml : la trame « test » version 1 est déjà chargée avec un autre contenu. Une version chargée "
        "ne change plus : donnez à la trame un nouveau numéro de version (version: 2) dans un nouveau fichier "
        "« test-v2.yaml »."
    ]
    v1.refresh_from_db()
    assert v1.title == "Trame de test"
    assert v1.definition == minimal_definition()


def test_the_command_reports_errors_in_french(referentials, tmp_path):
    write_framework(tmp_path, minimal_definition())
    call_command("load_frameworks", directory=str(tmp_path), stdout=io.StringIO())
    write_framework(tmp_path, minimal_definition(title="Autre titre"))
    with pytest.raises(CommandError) as error:
        call_command("load_frameworks", directory=str(tmp_path), stdout=io.StringIO())
    message = str(error.value)
    assert message.startswith("Chargement des trames impossible (1 erreur, rien n'a été enregistré) :")
    assert "nouveau numéro de version (version: 2)" in message


def test_comments_and_layout_do_not_change_the_checksum(referentials, tmp_path):
    path = write_framework(tmp_path, minimal_definition())
    (v1,) = loaders.load_frameworks(tmp_path)
    path.write_text("# Un commentaire\n" + path.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    (again,) = loaders.load_frameworks(tmp_path)
    assert again.pk == v1.pk and again.checksum == v1.checksum


def test_a_new_version_becomes_current_and_older_diagnostics_keep_theirs(referentials, tmp_path):
    write_framework(tmp_path, minimal_definition())
    (v1,) = loaders.load_frameworks(tmp_path)
    diagnostic = make_diagnostic(v1, answers={"logement_situation": "stable"})
    completed = make_diagnostic(
        v1,
        status=Diagnostic.Status.COMPLETED,
        answers={"logement_situation": "sans_hebergement"},
        result=engine.score(loaders.compiled_for(v1), {"logement_situation": "sans_hebergement"}),
    )

    definition = minimal_definition(version=2, title="Trame de test, version 2")
    definition["sections"][0]["questions"].append({"code": "vehicule", "kind": "yes_no", "label": "Véhicule"})
    write_framework(tmp_path, definition)
    out = io.StringIO()
    rows = loaders.load_frameworks(tmp_path, stdout=out)

    assert [(row.version, row.is_current) for row in rows] == [(1, False), (2, True)]
    assert "Trame « test » : la version 2 est désormais la version courante" in out.getvalue()
    assert "Trame « test » v1 (test-v1.yaml) : déjà chargée, inchangée" in out.getvalue()
    current = loaders.current_framework("test")
    assert current.version == 2
    assert loaders.compiled_for(current).questions.keys() >= {"vehicule"}

    for kept in (diagnostic, completed):
        kept.refresh_from_db()
        assert kept.framework_id == v1.pk
    v1.refresh_from_db()
    assert v1.definition == minimal_definition()
    assert "vehicule" not in loaders.compiled_for(v1).questions
    assert completed.result["orientation"]["type"] == "sociale"
    assert Framework.objects.filter(code="test", is_current=True).get().version == 2

    # Only the v2 file left in the directory: v1 stays stored, v2 stays current.
    (tmp_path / "test-v1.yaml").unlink()
    loaders.load_frameworks(tmp_path)
    assert Framework.objects.filter(code="test").count() == 2
    assert loaders.current_framework("test").version == 2


def test_the_real_directory_holds_only_valid_file_names():
    for path in FRAMEWORKS_DIR.glob("*"):
        assert loaders.FILE_NAME_RE.match(path.name), path.name
