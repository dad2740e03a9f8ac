"""Framework definitions and helpers for the diagnostics tests (synthetic data only)."""

import copy
import json
from functools import cache
from pathlib import Path

import yaml

from spie.diagnostics import engine

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS_DIR = ROOT / "spie" / "diagnostics" / "frameworks"
REFERENTIALS_DIR = ROOT / "spie" / "referentials" / "data"

MINIMAL = {
    "code": "test",
    "version": 1,
    "kind": "diagnostic",
    "title": "Trame de test",
    "description": "Deux questions pour les tests.",
    "themes": {"logement": "Logement", "mobilite": "Mobilité"},
    "sections": [
        {
            "code": "logement",
            "title": "Logement",
            "theme": "logement",
            "questions": [
                {
                    "code": "logement_situation",
                    "kind": "single",
                    "label": "Situation de logement",
                    "required": True,
                    "options": [
                        {"value": "stable", "label": "Logement stable", "situation": "Locataire du parc social"},
                        {
                            "value": "sans_hebergement",
                            "label": "Sans hébergement",
                            "situation": "Sans hébergement / rupture effective de logement",
                        },
                    ],
                },
                {"code": "permis", "kind": "yes_no", "label": "Permis B"},
            ],
        }
    ],
    "barrier_rules": [
        {
            "theme": "logement",
            "severity": "blocking",
            "when": {"answer": "logement_situation", "equals": "sans_hebergement"},
            "reason": "Sans hébergement",
        },
        {
            "theme": "mobilite",
            "severity": "light",
            "when": {"answer": "permis", "equals": False},
            "reason": "Pas de permis",
        },
    ],
    "strength_rules": [{"code": "permis_b", "label": "Permis B", "when": {"answer": "permis", "equals": True}}],
    "orientation_rules": [
        {"type": "sociale", "when": {"barriers_at_least": "blocking", "count_gte": 1}, "reason": "Frein bloquant"},
        {"type": "professionnelle", "default": True, "reason": "Pas de frein bloquant"},
    ],
    "suggestions": {
        "logement": {
            "objectives": ["Accéder à un logement"],
            "actions": ["Demande de logement social"],
            "thematiques": ["logement-hebergement--louer-un-logement"],
        }
    },
}


def minimal_definition(**overrides):
    """A small valid diagnostic framework (a fresh deep copy), top-level keys overridden."""
    definition = copy.deepcopy(MINIMAL)
    definition.update(copy.deepcopy(overrides))
    return definition


def _clean(label):
    return " ".join(label.split())


@cache
def _referential_kwargs():
    themes = json.loads((REFERENTIALS_DIR / "referentiel_parcours.json").read_text(encoding="utf-8"))
    vocabularies = json.loads((REFERENTIALS_DIR / "data_inclusion_v1.json").read_text(encoding="utf-8"))

    def by_theme(key):
        return {theme["code"]: frozenset(_clean(label) for label in theme.get(key) or []) for theme in themes}

    return {
        "theme_codes": frozenset(theme["code"] for theme in themes),
        "situations": by_theme("situations"),
        "objectives": by_theme("objectifs"),
        "actions": by_theme("actions"),
        "thematiques": frozenset(term["value"] for term in vocabularies["thematiques"]),
    }


def referential_kwargs():
    """``engine.validate`` keyword arguments read from the référentiel files (no database)."""
    return dict(_referential_kwargs())


def read_definition(name):
    with open(FRAMEWORKS_DIR / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def _compiled(name):
    return engine.compile(read_definition(name))


def compiled_spie():
    return _compiled("spie-v1.yaml")


def compiled_potentialites():
    return _compiled("potentialites-v1.yaml")


def write_framework(directory, definition, name=None):
    """Write ``definition`` as ``<code>-v<version>.yaml`` (or ``name``) in ``directory``; return the path."""
    path = Path(directory) / (name or f"{definition['code']}-v{definition['version']}.yaml")
    path.write_text(yaml.safe_dump(definition, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load_pathway_referentials():
    """Load only the pathway référentiel and the data·inclusion vocabularies (fast) into the database."""
    from spie.referentials import loaders

    for name in ("parcours", "data_inclusion"):
        loaders.load(loaders.REFERENTIALS_BY_NAME[name])


def make_diagnostic(framework, **kwargs):
    """A draft diagnostic of a new person on ``framework``, started by a new référent."""
    from spie.diagnostics.models import Diagnostic
    from tests.network.factories import make_professional
    from tests.people.factories import PersonFactory

    user = kwargs.pop("started_by", None) or make_professional()
    structure = kwargs.pop("structure", None) or user.memberships.first().structure
    person = kwargs.pop("person", None) or PersonFactory()
    return Diagnostic.objects.create(person=person, framework=framework, started_by=user, structure=structure, **kwargs)


# --- answers that make a condition true -----------------------------------------------------

ABSENT = object()  # "this question must stay unanswered"


def sample_value(question):
    """Some valid stored answer for ``question``."""
    kind = question.kind
    if kind == "single":
        return question.options[0].value
    if kind == "multiple":
        return [question.options[0].value]
    if kind == "yes_no":
        return True
    if kind in ("scale", "number"):
        return question.min if question.min is not None else 1
    if kind == "date":
        return "2026-09-01"
    if kind == "rome":
        return ["K2204"]
    if kind == "commune":
        return "31555"
    return "Texte de test"


def satisfy(condition, compiled):
    """``(answers, context)`` that make an answer/context ``condition`` true (barrier conditions excluded)."""
    answers, context = {}, {}
    _satisfy(condition, compiled, answers, context)
    return {code: value for code, value in answers.items() if value is not ABSENT}, context


def _merge(answers, code, value):
    current = answers.get(code)
    if isinstance(current, list) and isinstance(value, list):
        answers[code] = current + [item for item in value if item not in current]
    else:
        answers[code] = value


def _satisfy(cond, compiled, answers, context):
    if "all" in cond:
        for item in cond["all"]:
            _satisfy(item, compiled, answers, context)
    elif "any" in cond:
        _satisfy(cond["any"][0], compiled, answers, context)
    elif "not" in cond:
        inner = cond["not"]
        if "answer" in inner and inner.get("answered") is True:
            answers[inner["answer"]] = ABSENT
        elif "answer" in inner and "equals" in inner:
            question = compiled.questions[inner["answer"]]
            if question.kind == "yes_no":
                answers[question.code] = not inner["equals"]
            else:
                answers[question.code] = next(o.value for o in question.options if o.value != inner["equals"])
        else:
            raise NotImplementedError(f"négation non prise en charge : {inner!r}")
    elif "context" in cond:
        context[cond["context"]] = cond["equals"]
    elif "answer" in cond:
        code = cond["answer"]
        question = compiled.questions[code]
        if "equals" in cond:
            _merge(answers, code, cond["equals"])
        elif "in" in cond:
            _merge(answers, code, cond["in"][0])
        elif "includes" in cond:
            _merge(answers, code, [cond["includes"]])
        elif "includes_any" in cond:
            _merge(answers, code, [cond["includes_any"][0]])
        elif "gte" in cond:
            _merge(answers, code, cond["gte"])
        elif "lte" in cond:
            _merge(answers, code, cond["lte"])
        elif "answered" in cond:
            _merge(answers, code, sample_value(question) if cond["answered"] else ABSENT)
    else:
        raise NotImplementedError(f"condition non prise en charge : {cond!r}")
