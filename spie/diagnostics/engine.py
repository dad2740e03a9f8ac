"""Scoring engine of the diagnostic frameworks (trames): validate, compile, score.

Plain Python, imports nothing from Django: the app layer reads a framework definition (the
parsed YAML stored in ``diagnostics.Framework.definition``) and the answers from the database
and calls this module. The format is described in ``FRAMEWORKS.md`` next to this file.

Conditions are compiled once into closures (:func:`compile`), so that scoring is a few hundred
dictionary lookups: a batch re-score of 100,000 diagnostics after a framework change takes
seconds (``bench/diagnostics_engine.py``).

Public API::

    validate(definition, *, source, theme_codes=None, situations=None, objectives=None,
             actions=None, thematiques=None)              -> None, raises FrameworkError
    compile(definition)                                   -> CompiledFramework
    score(compiled, answers, context=None)                -> result dict (FRAMEWORKS.md)
    clean_answers(compiled, raw)                          -> (answers, errors)
    missing_required(compiled, answers)                   -> [question codes]
    diff(compiled, answers_a, answers_b)                  -> [{question, label, before, after}]
    progress(compiled, answers)                           -> (answered, total)
    format_answer(compiled, code, value)                  -> str | None (human-readable)
"""

import datetime
import re
from dataclasses import dataclass, field

# --- vocabulary -------------------------------------------------------------------------

KINDS = ("single", "multiple", "yes_no", "scale", "number", "date", "rome", "commune", "text")
FRAMEWORK_KINDS = ("diagnostic", "potentialities")
SEVERITIES = ("none", "light", "strong", "blocking")
SEVERITY_RANK = {"none": 0, "light": 1, "strong": 2, "blocking": 3}
RULE_SEVERITIES = ("light", "strong", "blocking")
ORIENTATION_TYPES = ("professionnelle", "socio_professionnelle", "sociale")
ORIENTATION_LABELS = {
    "professionnelle": "Professionnelle",
    "socio_professionnelle": "Socio-professionnelle",
    "sociale": "Sociale",
}
CONTEXT_KEYS = ("under_26", "over_50", "child_under_3", "rsa", "lone_parent", "driving_licence", "has_vehicle")

# Shown with every free-text question (see FRAMEWORKS.md).
TEXT_REMINDER = (
    "N'écrivez ici aucune information de santé ou autre donnée sensible : "
    "utilisez la section santé à accès restreint."
)
DEFAULT_TEXT_MAX_LENGTH = 4000
MAX_ROME_ITEMS = 10

CODE_RE = re.compile(r"^[a-z0-9_]+$")
FRAMEWORK_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
ROME_RE = re.compile(r"^([A-N]\d{4}|\d{1,7})$")
INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
FRENCH_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

TOP_KEYS = {
    "code": True,
    "version": True,
    "kind": True,
    "title": True,
    "description": False,
    "themes": True,
    "sections": True,
    "barrier_rules": False,
    "strength_rules": False,
    "orientation_rules": False,
    "suggestions": False,
}
SECTION_KEYS = {"code": True, "title": True, "intro": False, "theme": False, "restricted": False, "questions": True}
QUESTION_KEYS = {
    "code": True,
    "kind": True,
    "label": True,
    "help": False,
    "required": False,
    "theme": False,
    "options": False,
    "min": False,
    "max": False,
    "unit": False,
    "min_label": False,
    "max_label": False,
    "max_length": False,
}
# Keys allowed per kind, beyond the common ones.
KIND_KEYS = {
    "single": {"options"},
    "multiple": {"options"},
    "yes_no": set(),
    "scale": {"min", "max", "min_label", "max_label"},
    "number": {"min", "max", "unit"},
    "date": set(),
    "rome": set(),
    "commune": set(),
    "text": {"max_length"},
}
COMMON_QUESTION_KEYS = {"code", "kind", "label", "help", "required", "theme"}
OPTION_KEYS = {"value": True, "label": True, "situation": False, "exclusive": False}
BARRIER_RULE_KEYS = {"theme": True, "severity": True, "when": True, "reason": True}
STRENGTH_RULE_KEYS = {"code": True, "label": True, "when": True}
ORIENTATION_RULE_KEYS = {"type": True, "when": False, "default": False, "reason": True}
SUGGESTION_KEYS = {"objectives": False, "actions": False, "thematiques": False}

ANSWER_OPERATORS = ("equals", "in", "includes", "includes_any", "gte", "lte", "answered")
NUMERIC_KINDS = ("scale", "number")
CHOICE_KINDS = ("single", "multiple")
LIST_KINDS = ("multiple", "rome")


class FrameworkError(Exception):
    """A framework definition (or file) is invalid.

    ``errors`` is the list of French messages, each naming the file and the key path;
    ``problems`` the same as ``(path, message)`` pairs (used to add line numbers).
    """

    def __init__(self, errors, *, source="", problems=None):
        self.errors = list(errors)
        self.source = source
        self.problems = list(problems or [])
        super().__init__("\n".join(self.errors))

    def __str__(self):
        return "\n".join(self.errors)


def _quote(value):
    return f"« {value} »"


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_blank(value):
    return value is None or value == "" or value == [] or value == ()


# --- validation -------------------------------------------------------------------------


class _Validator:
    """Walks a definition and collects every problem as ``(path, message)``."""

    def __init__(self, definition, *, source, theme_codes, situations, objectives, actions, thematiques):
        self.definition = definition
        self.source = source
        self.theme_codes = set(theme_codes) if theme_codes is not None else None
        self.situations = _as_lookup(situations)
        self.objectives = _as_lookup(objectives)
        self.actions = _as_lookup(actions)
        self.thematiques = set(thematiques) if thematiques is not None else None
        self.problems = []
        self.questions = {}  # code -> question dict (first occurrence)
        self.themes = {}

    def error(self, path, message):
        self.problems.append((path, message))

    # generic checks

    def check_keys(self, obj, path, spec, *, allowed=None):
        """``obj`` must be a mapping with the required keys of ``spec`` and no unknown key."""
        if not isinstance(obj, dict):
            self.error(path, "un dictionnaire (clé : valeur) est attendu")
            return False
        allowed = set(spec) if allowed is None else allowed
        for key in obj:
            if key not in allowed:
                possible = ", ".join(k for k in spec if k in allowed)
                self.error(_join(path, key), f"clé inconnue (clés possibles : {possible})")
        for key, required in spec.items():
            if required and key in allowed and key not in obj:
                self.error(_join(path, key), "clé obligatoire manquante")
        return True

    def check_text(self, obj, key, path, *, required=True):
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.error(_join(path, key), "un texte non vide est attendu")
            return None
        return value

    def check_code(self, obj, key, path, *, pattern=CODE_RE):
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not pattern.match(value):
            self.error(_join(path, key), f"code invalide {_quote(value)} (lettres minuscules, chiffres et _)")
            return None
        return value

    def check_bool(self, obj, key, path):
        value = obj.get(key)
        if value is not None and not isinstance(value, bool):
            self.error(_join(path, key), "true ou false attendu")

    def check_list(self, obj, key, path, *, required=False):
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(_join(path, key), "une liste est attendue")
            return []
        if required and not value:
            self.error(_join(path, key), "la liste ne doit pas être vide")
        return value

    # the definition

    def run(self):
        d = self.definition
        if not self.check_keys(d, "", TOP_KEYS):
            return
        self.check_code(d, "code", "", pattern=FRAMEWORK_CODE_RE)
        version = d.get("version")
        if version is not None and (not _is_int(version) or version < 1):
            self.error("version", "un entier supérieur ou égal à 1 est attendu")
        kind = d.get("kind")
        if kind is not None and kind not in FRAMEWORK_KINDS:
            self.error(
                "kind", f"type de trame inconnu {_quote(kind)} (valeurs possibles : {', '.join(FRAMEWORK_KINDS)})"
            )
        self.check_text(d, "title", "")
        if d.get("description") is not None and not isinstance(d.get("description"), str):
            self.error("description", "un texte est attendu")
        self.check_themes(d.get("themes"))
        self.check_sections(d.get("sections"))
        self.check_barrier_rules(d)
        self.check_strength_rules(d)
        self.check_orientation_rules(d, kind)
        self.check_suggestions(d.get("suggestions"))

    def check_themes(self, themes):
        if themes is None:
            return
        if not isinstance(themes, dict) or not themes:
            self.error("themes", "un dictionnaire non vide (code du thème : libellé) est attendu")
            return
        for code, label in themes.items():
            path = _join("themes", code)
            if not isinstance(code, str) or not CODE_RE.match(code):
                self.error(path, f"code de thème invalide {_quote(code)}")
                continue
            if self.theme_codes is not None and code not in self.theme_codes:
                self.error(path, f"thème inconnu du référentiel de parcours {_quote(code)}")
            if not isinstance(label, str) or not label.strip():
                self.error(path, "un libellé non vide est attendu")
            self.themes[code] = label

    def check_referential_theme(self, value, path):
        if not isinstance(value, str) or not CODE_RE.match(value):
            self.error(path, f"code de thème invalide {_quote(value)}")
            return None
        if self.theme_codes is not None and value not in self.theme_codes:
            self.error(path, f"thème inconnu du référentiel de parcours {_quote(value)}")
            return None
        return value

    def check_sections(self, sections):
        if sections is None:
            return
        if not isinstance(sections, list) or not sections:
            self.error("sections", "une liste non vide de sections est attendue")
            return
        section_codes = {}
        question_paths = {}
        for s_index, section in enumerate(sections):
            s_path = f"sections[{s_index}]"
            if not self.check_keys(section, s_path, SECTION_KEYS):
                continue
            code = self.check_code(section, "code", s_path)
            if code is not None:
                if code in section_codes:
                    self.error(
                        _join(s_path, "code"),
                        f"code de section en double {_quote(code)} (déjà utilisé par {section_codes[code]})",
                    )
                else:
                    section_codes[code] = s_path
            self.check_text(section, "title", s_path)
            if section.get("intro") is not None and not isinstance(section.get("intro"), str):
                self.error(_join(s_path, "intro"), "un texte est attendu")
            self.check_bool(section, "restricted", s_path)
            section_theme = None
            if section.get("theme") is not None:
                section_theme = self.check_referential_theme(section["theme"], _join(s_path, "theme"))
            questions = section.get("questions")
            if questions is None:
                continue
            if not isinstance(questions, list) or not questions:
                self.error(_join(s_path, "questions"), "une liste non vide de questions est attendue")
                continue
            for q_index, question in enumerate(questions):
                q_path = f"{s_path}.questions[{q_index}]"
                self.check_question(question, q_path, section_theme, question_paths)

    def check_question(self, question, path, section_theme, question_paths):
        if not isinstance(question, dict):
            self.error(path, "un dictionnaire (clé : valeur) est attendu")
            return
        kind = question.get("kind")
        if kind is not None and kind not in KINDS:
            self.error(
                _join(path, "kind"), f"type de question inconnu {_quote(kind)} (types possibles : {', '.join(KINDS)})"
            )
            kind = None
        allowed = COMMON_QUESTION_KEYS | KIND_KEYS[kind] if kind else set(QUESTION_KEYS)
        for key in question:
            if key in QUESTION_KEYS and key not in allowed:
                self.error(_join(path, key), f"clé non prise en charge pour une question de type {_quote(kind)}")
        self.check_keys(question, path, QUESTION_KEYS, allowed=allowed | (set(question) & set(QUESTION_KEYS)))
        code = self.check_code(question, "code", path)
        if code is not None:
            if code in question_paths:
                self.error(
                    _join(path, "code"),
                    f"code de question en double {_quote(code)} (déjà utilisé par {question_paths[code]})",
                )
            else:
                question_paths[code] = path
                self.questions[code] = question
        self.check_text(question, "label", path)
        if question.get("help") is not None and not isinstance(question.get("help"), str):
            self.error(_join(path, "help"), "un texte est attendu")
        self.check_bool(question, "required", path)
        theme = section_theme
        if question.get("theme") is not None:
            theme = self.check_referential_theme(question["theme"], _join(path, "theme"))
        if kind in CHOICE_KINDS:
            self.check_options(question, path, kind, theme)
        elif kind in NUMERIC_KINDS:
            self.check_bounds(question, path, kind)
        elif kind == "text" and question.get("max_length") is not None:
            max_length = question["max_length"]
            if not _is_int(max_length) or max_length < 1:
                self.error(_join(path, "max_length"), "un entier positif est attendu")
        for key in ("unit", "min_label", "max_label"):
            if question.get(key) is not None and not isinstance(question[key], str):
                self.error(_join(path, key), "un texte est attendu")

    def check_options(self, question, path, kind, theme):
        options = question.get("options")
        if options is None:
            self.error(_join(path, "options"), "clé obligatoire manquante pour une question à choix")
            return
        if not isinstance(options, list) or not options:
            self.error(_join(path, "options"), "une liste non vide d'options est attendue")
            return
        values = set()
        for o_index, option in enumerate(options):
            o_path = f"{path}.options[{o_index}]"
            if not self.check_keys(option, o_path, OPTION_KEYS):
                continue
            value = option.get("value")
            if value is not None:
                if not isinstance(value, str) or not CODE_RE.match(value):
                    self.error(
                        _join(o_path, "value"),
                        f"valeur invalide {_quote(value)} (lettres minuscules, chiffres et _, entre guillemets "
                        "si elle ressemble à un nombre ou à yes/no)",
                    )
                elif value in values:
                    self.error(_join(o_path, "value"), f"valeur en double {_quote(value)}")
                else:
                    values.add(value)
            self.check_text(option, "label", o_path)
            self.check_bool(option, "exclusive", o_path)
            if option.get("exclusive") and kind != "multiple":
                self.error(_join(o_path, "exclusive"), "réservé aux questions à choix multiple")
            situation = option.get("situation")
            if situation is not None:
                self.check_situation(situation, _join(o_path, "situation"), theme)

    def check_situation(self, label, path, theme):
        if not isinstance(label, str) or not label.strip():
            self.error(path, "un libellé de situation du référentiel est attendu")
            return
        if theme is None:
            self.error(path, "thème du référentiel inconnu : ajoutez « theme » à la question ou à sa section")
            return
        if self.situations is None:
            return
        if not self.situations.contains(theme, label):
            self.error(path, f"situation {_quote(label)} absente du référentiel pour le thème {_quote(theme)}")

    def check_bounds(self, question, path, kind):
        low, high = question.get("min"), question.get("max")
        for key, value in (("min", low), ("max", high)):
            if value is not None and not (_is_int(value) if kind == "scale" else _is_number(value)):
                self.error(_join(path, key), "un entier est attendu" if kind == "scale" else "un nombre est attendu")
        if kind == "scale":
            low = 0 if low is None else low
            high = 4 if high is None else high
        if _is_number(low) and _is_number(high) and low >= high:
            self.error(_join(path, "max"), "max doit être supérieur à min")

    # conditions

    def check_condition(self, cond, path, *, allow_barriers):
        if not isinstance(cond, dict) or not cond:
            self.error(path, "une condition (dictionnaire) est attendue")
            return
        keys = set(cond)
        if keys & {"all", "any"}:
            op = "all" if "all" in keys else "any"
            if keys != {op}:
                self.error(path, f"« {op} » ne se combine avec aucune autre clé")
            items = cond[op]
            if not isinstance(items, list) or not items:
                self.error(_join(path, op), "une liste non vide de conditions est attendue")
                return
            for index, item in enumerate(items):
                self.check_condition(item, f"{_join(path, op)}[{index}]", allow_barriers=allow_barriers)
            return
        if "not" in keys:
            if keys != {"not"}:
                self.error(path, "« not » ne se combine avec aucune autre clé")
            self.check_condition(cond["not"], _join(path, "not"), allow_barriers=allow_barriers)
            return
        if "answer" in keys:
            self.check_answer_condition(cond, path)
            return
        if "context" in keys:
            self.check_context_condition(cond, path)
            return
        if "barrier" in keys or "barriers_at_least" in keys:
            if not allow_barriers:
                self.error(path, "condition sur les freins réservée aux règles d'orientation")
                return
            self.check_barrier_condition(cond, path)
            return
        self.error(
            path,
            "condition inconnue (clés possibles : answer, context, barrier, barriers_at_least, all, any, not)",
        )

    def check_answer_condition(self, cond, path):
        code = cond["answer"]
        ops = [key for key in cond if key != "answer"]
        unknown = [key for key in ops if key not in ANSWER_OPERATORS]
        for key in unknown:
            self.error(_join(path, key), f"opérateur inconnu (opérateurs possibles : {', '.join(ANSWER_OPERATORS)})")
        ops = [key for key in ops if key in ANSWER_OPERATORS]
        if len(ops) != 1:
            if not unknown:
                self.error(path, f"un seul opérateur attendu parmi : {', '.join(ANSWER_OPERATORS)}")
            return
        op = ops[0]
        operand = cond[op]
        question = self.questions.get(code) if isinstance(code, str) else None
        if question is None:
            self.error(_join(path, "answer"), f"question inconnue {_quote(code)}")
            return
        kind = question.get("kind")
        if kind not in KINDS:
            return
        values = {o.get("value") for o in question.get("options") or [] if isinstance(o, dict)}
        op_path = _join(path, op)

        def check_value(value, where):
            if kind in CHOICE_KINDS:
                if value not in values:
                    self.error(where, f"valeur {_quote(value)} absente des options de la question {_quote(code)}")
            elif kind == "yes_no":
                if not isinstance(value, bool):
                    self.error(where, "true ou false attendu pour une question oui/non")
            elif kind in NUMERIC_KINDS:
                if not _is_number(value):
                    self.error(where, "un nombre est attendu")
            elif not isinstance(value, str):
                self.error(where, "un texte est attendu")

        if op == "answered":
            if not isinstance(operand, bool):
                self.error(op_path, "true ou false attendu")
        elif op in ("gte", "lte"):
            if kind not in NUMERIC_KINDS:
                self.error(op_path, f"comparaison numérique impossible sur une question de type {_quote(kind)}")
            elif not _is_number(operand):
                self.error(op_path, "un nombre est attendu")
        elif op in ("includes", "includes_any"):
            if kind not in LIST_KINDS:
                self.error(op_path, f"réservé aux questions à choix multiple (type {_quote(kind)})")
            elif op == "includes":
                check_value(operand, op_path)
            elif not isinstance(operand, list) or not operand:
                self.error(op_path, "une liste non vide de valeurs est attendue")
            else:
                for index, value in enumerate(operand):
                    check_value(value, f"{op_path}[{index}]")
        elif op == "equals":
            if kind in LIST_KINDS:
                self.error(op_path, "utilisez includes ou includes_any pour une question à choix multiple")
            else:
                check_value(operand, op_path)
        elif op == "in":
            if kind in LIST_KINDS:
                self.error(op_path, "utilisez includes_any pour une question à choix multiple")
            elif not isinstance(operand, list) or not operand:
                self.error(op_path, "une liste non vide de valeurs est attendue")
            else:
                for index, value in enumerate(operand):
                    check_value(value, f"{op_path}[{index}]")

    def check_context_condition(self, cond, path):
        key = cond["context"]
        if key not in CONTEXT_KEYS:
            self.error(
                _join(path, "context"),
                f"fait inconnu {_quote(key)} (faits possibles : {', '.join(CONTEXT_KEYS)})",
            )
        extra = set(cond) - {"context", "equals"}
        for name in sorted(extra):
            self.error(_join(path, name), "clé inconnue (clés possibles : context, equals)")
        if "equals" not in cond:
            self.error(_join(path, "equals"), "clé obligatoire manquante")
        elif not isinstance(cond["equals"], bool | str | int | float):
            self.error(_join(path, "equals"), "une valeur simple est attendue")

    def check_barrier_condition(self, cond, path):
        if "barrier" in cond:
            spec = {"barrier": True, "at_least": True}
            self.check_keys(cond, path, spec)
            theme = cond.get("barrier")
            if theme is not None and theme not in self.themes:
                self.error(_join(path, "barrier"), f"thème {_quote(theme)} absent de « themes »")
            self.check_severity(cond.get("at_least"), _join(path, "at_least"), required="at_least" in cond)
            return
        spec = {"barriers_at_least": True, "count_gte": True, "themes": False}
        self.check_keys(cond, path, spec)
        self.check_severity(cond.get("barriers_at_least"), _join(path, "barriers_at_least"))
        count = cond.get("count_gte")
        if "count_gte" in cond and (not _is_int(count) or count < 1):
            self.error(_join(path, "count_gte"), "un entier supérieur ou égal à 1 est attendu")
        themes = cond.get("themes")
        if themes is not None:
            if not isinstance(themes, list) or not themes:
                self.error(_join(path, "themes"), "une liste non vide de thèmes est attendue")
            else:
                for index, theme in enumerate(themes):
                    if theme not in self.themes:
                        self.error(f"{_join(path, 'themes')}[{index}]", f"thème {_quote(theme)} absent de « themes »")

    def check_severity(self, value, path, *, required=True):
        if value is None and not required:
            return
        if value not in RULE_SEVERITIES:
            self.error(path, f"gravité inconnue {_quote(value)} (valeurs possibles : {', '.join(RULE_SEVERITIES)})")

    # rules

    def check_barrier_rules(self, d):
        for index, rule in enumerate(self.check_list(d, "barrier_rules", "")):
            path = f"barrier_rules[{index}]"
            if not self.check_keys(rule, path, BARRIER_RULE_KEYS):
                continue
            theme = rule.get("theme")
            if theme is not None and theme not in self.themes:
                self.error(_join(path, "theme"), f"thème {_quote(theme)} absent de « themes »")
            if "severity" in rule:
                self.check_severity(rule["severity"], _join(path, "severity"))
            self.check_text(rule, "reason", path)
            if "when" in rule:
                self.check_condition(rule["when"], _join(path, "when"), allow_barriers=False)

    def check_strength_rules(self, d):
        codes = {}
        for index, rule in enumerate(self.check_list(d, "strength_rules", "")):
            path = f"strength_rules[{index}]"
            if not self.check_keys(rule, path, STRENGTH_RULE_KEYS):
                continue
            code = self.check_code(rule, "code", path)
            if code is not None:
                if code in codes:
                    self.error(
                        _join(path, "code"), f"code d'atout en double {_quote(code)} (déjà utilisé par {codes[code]})"
                    )
                else:
                    codes[code] = path
            self.check_text(rule, "label", path)
            if "when" in rule:
                self.check_condition(rule["when"], _join(path, "when"), allow_barriers=False)

    def check_orientation_rules(self, d, kind):
        rules = d.get("orientation_rules")
        if kind == "potentialities":
            if rules:
                self.error("orientation_rules", "pas de règles d'orientation dans une grille des potentialités")
            return
        if kind != "diagnostic":
            return
        if not rules:
            self.error("orientation_rules", "règles d'orientation obligatoires pour une trame de type diagnostic")
            return
        if not isinstance(rules, list):
            self.error("orientation_rules", "une liste est attendue")
            return
        last = len(rules) - 1
        for index, rule in enumerate(rules):
            path = f"orientation_rules[{index}]"
            if not self.check_keys(rule, path, ORIENTATION_RULE_KEYS):
                continue
            kind_ = rule.get("type")
            if "type" in rule and kind_ not in ORIENTATION_TYPES:
                self.error(
                    _join(path, "type"),
                    f"type d'orientation inconnu {_quote(kind_)} (valeurs possibles : {', '.join(ORIENTATION_TYPES)})",
                )
            self.check_text(rule, "reason", path)
            self.check_bool(rule, "default", path)
            is_default = rule.get("default") is True
            if is_default and index != last:
                self.error(_join(path, "default"), "seule la dernière règle peut être la règle par défaut")
            if is_default and "when" in rule:
                self.error(_join(path, "when"), "la règle par défaut n'a pas de condition")
            if not is_default:
                if index == last:
                    self.error(path, "la dernière règle doit avoir « default: true » (orientation par défaut)")
                if "when" not in rule:
                    self.error(
                        _join(path, "when"), "clé obligatoire manquante (ou « default: true » en dernière règle)"
                    )
            if "when" in rule:
                self.check_condition(rule["when"], _join(path, "when"), allow_barriers=True)

    def check_suggestions(self, suggestions):
        if suggestions is None:
            return
        if not isinstance(suggestions, dict):
            self.error("suggestions", "un dictionnaire (thème : suggestions) est attendu")
            return
        for theme, entry in suggestions.items():
            path = _join("suggestions", theme)
            if theme not in self.themes:
                self.error(path, f"thème {_quote(theme)} absent de « themes »")
            if not self.check_keys(entry, path, SUGGESTION_KEYS):
                continue
            for key, lookup, noun in (
                ("objectives", self.objectives, "objectif"),
                ("actions", self.actions, "action"),
            ):
                seen = set()
                for index, label in enumerate(self.check_list(entry, key, path)):
                    item_path = f"{_join(path, key)}[{index}]"
                    if not isinstance(label, str) or not label.strip():
                        self.error(item_path, "un libellé non vide est attendu")
                        continue
                    if label in seen:
                        self.error(item_path, f"{noun} en double {_quote(label)}")
                    seen.add(label)
                    if lookup is not None and not lookup.contains(theme, label):
                        article = "absent" if noun == "objectif" else "absente"
                        self.error(
                            item_path, f"{noun} {_quote(label)} {article} du référentiel pour le thème {_quote(theme)}"
                        )
            seen = set()
            for index, value in enumerate(self.check_list(entry, "thematiques", path)):
                item_path = f"{_join(path, 'thematiques')}[{index}]"
                if not isinstance(value, str) or not value:
                    self.error(item_path, "une valeur de thématique est attendue")
                    continue
                if value in seen:
                    self.error(item_path, f"thématique en double {_quote(value)}")
                seen.add(value)
                if self.thematiques is not None and value not in self.thematiques:
                    self.error(item_path, f"thématique data·inclusion inconnue {_quote(value)}")


class _Lookup:
    """Labels of the référentiel, per theme (mapping given) or for every theme (flat set)."""

    def __init__(self, by_theme=None, flat=None):
        self.by_theme = by_theme
        self.flat = flat

    def contains(self, theme, label):
        if self.by_theme is not None:
            return label in self.by_theme.get(theme, ())
        return label in self.flat


def _as_lookup(labels):
    if labels is None:
        return None
    if isinstance(labels, dict):
        return _Lookup(by_theme={theme: set(values) for theme, values in labels.items()})
    return _Lookup(flat=set(labels))


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


def format_problem(source, path, message):
    return f"{source} › {path} : {message}" if path else f"{source} : {message}"


def validate(
    definition,
    *,
    source,
    theme_codes=None,
    situations=None,
    objectives=None,
    actions=None,
    thematiques=None,
):
    """Check ``definition`` (a parsed framework file); raise :class:`FrameworkError` listing every problem.

    ``source`` names the file in the messages. The référentiel arguments are optional; when
    given, theme codes, situation / objective / action labels and data·inclusion thématiques
    must belong to them. ``situations``, ``objectives`` and ``actions`` are either a mapping
    ``{theme_code: labels}`` (labels checked against their own theme) or a flat set of labels.
    """
    validator = _Validator(
        definition,
        source=source,
        theme_codes=theme_codes,
        situations=situations,
        objectives=objectives,
        actions=actions,
        thematiques=thematiques,
    )
    validator.run()
    if validator.problems:
        raise FrameworkError(
            [format_problem(source, path, message) for path, message in validator.problems],
            source=source,
            problems=validator.problems,
        )


# --- compiled framework -----------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    situation: str | None = None
    exclusive: bool = False


@dataclass
class Question:
    code: str
    kind: str
    label: str
    section: str
    help: str = ""
    required: bool = False
    theme: str | None = None
    options: tuple = ()
    min: float | None = None
    max: float | None = None
    unit: str = ""
    min_label: str = ""
    max_label: str = ""
    max_length: int = DEFAULT_TEXT_MAX_LENGTH
    restricted: bool = False
    option_labels: dict = field(default_factory=dict)

    @property
    def reminder(self):
        """The reminder shown with free-text questions (empty for other kinds)."""
        return TEXT_REMINDER if self.kind == "text" else ""

    @property
    def is_choice(self):
        return self.kind in CHOICE_KINDS


@dataclass
class Section:
    code: str
    title: str
    intro: str = ""
    theme: str | None = None
    restricted: bool = False
    questions: list = field(default_factory=list)

    @property
    def question_codes(self):
        return [question.code for question in self.questions]


@dataclass
class CompiledFramework:
    """A framework ready to score: questions by code, sections in order, rules as closures."""

    code: str
    version: int
    kind: str
    title: str
    description: str
    themes: dict  # theme code -> label, in display order
    sections: list
    questions: dict  # question code -> Question, in form order
    definition: dict
    barrier_rules: list = field(default_factory=list)  # (theme, rank, reason, test)
    strength_rules: list = field(default_factory=list)  # (code, label, test)
    orientation_rules: list = field(default_factory=list)  # (type, reason, test, explain)
    suggestions: dict = field(default_factory=dict)  # theme -> {objectives, actions, thematiques}
    theme_index: dict = field(default_factory=dict)
    situation_questions: list = field(default_factory=list)  # (code, is_list, {value: (theme, label)})

    @property
    def question_codes(self):
        return list(self.questions)

    @property
    def restricted_themes(self):
        """Themes whose answers belong to restricted sections (health): their details stay hidden."""
        themes = {section.theme for section in self.sections if section.restricted and section.theme}
        themes |= {q.theme for q in self.questions.values() if q.restricted and q.theme}
        return themes

    @property
    def restricted_questions(self):
        """Codes of the questions of restricted sections (health data: narrower access)."""
        return [code for code, question in self.questions.items() if question.restricted]

    def section(self, code):
        for section in self.sections:
            if section.code == code:
                return section
        raise KeyError(code)


def _compile_condition(cond):
    """Return ``(test, explain)`` for a validated condition.

    ``test(answers, context, ranks)`` is the predicate; ``ranks`` (theme -> rank) is only used
    by barrier conditions. ``explain(answers, context, ranks)`` lists the ``(theme, min_rank)``
    of the barrier conditions that made the condition true (orientation reasons).
    """
    if "all" in cond:
        parts = [_compile_condition(item) for item in cond["all"]]
        tests = tuple(test for test, _ in parts)
        if len(tests) == 2:
            first, second = tests

            def test(a, c, r):
                return first(a, c, r) and second(a, c, r)
        else:

            def test(a, c, r):
                for item in tests:
                    if not item(a, c, r):
                        return False
                return True

        def explain(a, c, r):
            found = []
            for _, sub_explain in parts:
                found.extend(sub_explain(a, c, r))
            return found

        return test, explain

    if "any" in cond:
        parts = [_compile_condition(item) for item in cond["any"]]
        tests = tuple(test for test, _ in parts)

        def test(a, c, r):
            for item in tests:
                if item(a, c, r):
                    return True
            return False

        def explain(a, c, r):
            found = []
            for sub_test, sub_explain in parts:
                if sub_test(a, c, r):
                    found.extend(sub_explain(a, c, r))
            return found

        return test, explain

    if "not" in cond:
        inner, _ = _compile_condition(cond["not"])

        def test(a, c, r):
            return not inner(a, c, r)

        return test, _no_explanation

    if "answer" in cond:
        return _compile_answer_condition(cond), _no_explanation

    if "context" in cond:
        key, expected = cond["context"], cond["equals"]

        def test(a, c, r):
            return c.get(key) == expected

        return test, _no_explanation

    if "barrier" in cond:
        theme, threshold = cond["barrier"], SEVERITY_RANK[cond["at_least"]]

        def test(a, c, r):
            return r.get(theme, 0) >= threshold

        def explain(a, c, r):
            return [(theme, threshold)] if r.get(theme, 0) >= threshold else []

        return test, explain

    if "barriers_at_least" in cond:
        threshold = SEVERITY_RANK[cond["barriers_at_least"]]
        count = cond["count_gte"]
        themes = tuple(cond["themes"]) if cond.get("themes") else None

        if themes is None:

            def matching(r):
                return [theme for theme, rank in r.items() if rank >= threshold]
        else:

            def matching(r):
                return [theme for theme in themes if r.get(theme, 0) >= threshold]

        def test(a, c, r):
            return len(matching(r)) >= count

        def explain(a, c, r):
            return [(theme, threshold) for theme in matching(r)]

        return test, explain

    raise ValueError(f"condition inconnue : {cond!r}")  # validated definitions never get here


def _no_explanation(a, c, r):
    return ()


def _compile_answer_condition(cond):
    code = cond["answer"]
    if "equals" in cond:
        expected = cond["equals"]
        if isinstance(expected, bool):
            return lambda a, c, r: a.get(code) is expected
        return lambda a, c, r: a.get(code) == expected
    if "in" in cond:
        accepted = frozenset(cond["in"])

        def test(a, c, r):
            value = a.get(code)
            return value is not None and not isinstance(value, list | dict) and value in accepted

        return test
    if "includes" in cond:
        expected = cond["includes"]

        def test(a, c, r):
            value = a.get(code)
            return type(value) is list and expected in value

        return test
    if "includes_any" in cond:
        accepted = frozenset(cond["includes_any"])

        def test(a, c, r):
            value = a.get(code)
            if type(value) is not list:
                return False
            for item in value:
                if item in accepted:
                    return True
            return False

        return test
    if "gte" in cond or "lte" in cond:
        bound = cond["gte"] if "gte" in cond else cond["lte"]
        greater = "gte" in cond

        def test(a, c, r):
            value = a.get(code)
            if value is None or value is True or value is False:
                return False
            try:
                return value >= bound if greater else value <= bound
            except TypeError:
                return False

        return test
    if "answered" in cond:
        wanted = cond["answered"]

        def test(a, c, r):
            value = a.get(code)
            return (value is not None and value != "" and value != []) is wanted

        return test
    raise ValueError(f"opérateur inconnu : {cond!r}")


def compile(definition):  # noqa: A001 - the engine's verb, as in FRAMEWORKS.md
    """Compile a definition (validated structurally here) into a :class:`CompiledFramework`."""
    source = f"{definition.get('code', '?')}-v{definition.get('version', '?')}" if isinstance(definition, dict) else "?"
    validate(definition, source=source)
    themes = dict(definition["themes"])
    sections = []
    questions = {}
    situation_questions = []
    for raw_section in definition["sections"]:
        section = Section(
            code=raw_section["code"],
            title=raw_section["title"],
            intro=raw_section.get("intro") or "",
            theme=raw_section.get("theme"),
            restricted=bool(raw_section.get("restricted")),
        )
        for raw in raw_section["questions"]:
            kind = raw["kind"]
            options = tuple(
                Option(
                    value=o["value"],
                    label=o["label"],
                    situation=" ".join(o["situation"].split()) if o.get("situation") else None,
                    exclusive=bool(o.get("exclusive")),
                )
                for o in raw.get("options") or ()
            )
            low, high = raw.get("min"), raw.get("max")
            if kind == "scale":
                low = 0 if low is None else low
                high = 4 if high is None else high
            question = Question(
                code=raw["code"],
                kind=kind,
                label=raw["label"],
                section=section.code,
                help=raw.get("help") or "",
                required=bool(raw.get("required")),
                theme=raw.get("theme") or section.theme,
                options=options,
                min=low,
                max=high,
                unit=raw.get("unit") or "",
                min_label=raw.get("min_label") or "",
                max_label=raw.get("max_label") or "",
                max_length=raw.get("max_length") or DEFAULT_TEXT_MAX_LENGTH,
                restricted=section.restricted,
                option_labels={o.value: o.label for o in options},
            )
            section.questions.append(question)
            questions[question.code] = question
            situations = {o.value: (question.theme, o.situation) for o in options if o.situation}
            if situations:
                situation_questions.append((question.code, kind == "multiple", situations))
        sections.append(section)

    compiled = CompiledFramework(
        code=definition["code"],
        version=definition["version"],
        kind=definition["kind"],
        title=definition["title"],
        description=definition.get("description") or "",
        themes=themes,
        sections=sections,
        questions=questions,
        definition=definition,
        theme_index={theme: index for index, theme in enumerate(themes)},
        situation_questions=situation_questions,
    )
    for rule in definition.get("barrier_rules") or ():
        test, _ = _compile_condition(rule["when"])
        compiled.barrier_rules.append((rule["theme"], SEVERITY_RANK[rule["severity"]], rule["reason"], test))
    compiled.barrier_rules.sort(key=lambda rule: -rule[1])  # stable: file order within a severity
    for rule in definition.get("strength_rules") or ():
        test, _ = _compile_condition(rule["when"])
        compiled.strength_rules.append((rule["code"], rule["label"], test))
    for rule in definition.get("orientation_rules") or ():
        if rule.get("default"):
            test, explain = (lambda a, c, r: True), _no_explanation
        else:
            test, explain = _compile_condition(rule["when"])
        compiled.orientation_rules.append((rule["type"], rule["reason"], test, explain))
    for theme, entry in (definition.get("suggestions") or {}).items():
        suggestion = {
            "objectives": list(entry.get("objectives") or ()),
            "actions": list(entry.get("actions") or ()),
            "thematiques": list(entry.get("thematiques") or ()),
        }
        if any(suggestion.values()):
            compiled.suggestions[theme] = suggestion
    return compiled


# --- scoring ----------------------------------------------------------------------------


def score(compiled, answers, context=None):
    """Score ``answers`` ({question code: stored value}) with ``compiled``; see FRAMEWORKS.md."""
    answers = answers or {}
    ctx = context or {}
    # Rules are sorted by decreasing severity at compile time: the first hit of a theme gives
    # its severity and the reasons come most severe first.
    hits = {}
    ranks = {}
    for theme, rank, reason, test in compiled.barrier_rules:
        if test(answers, ctx, None):
            found = hits.get(theme)
            if found is None:
                hits[theme] = [(rank, reason)]
                ranks[theme] = rank
            else:
                found.append((rank, reason))

    themes = compiled.themes
    theme_index = compiled.theme_index
    ordered = sorted(ranks, key=lambda theme: (-ranks[theme], theme_index[theme]))
    barriers = [
        {
            "theme": theme,
            "label": themes[theme],
            "severity": SEVERITIES[ranks[theme]],
            "reasons": list(dict.fromkeys([reason for _, reason in hits[theme]])),
        }
        for theme in ordered
    ]

    strengths = [
        {"code": code, "label": label} for code, label, test in compiled.strength_rules if test(answers, ctx, None)
    ]

    orientation = None
    for kind, reason, test, explain in compiled.orientation_rules:
        if test(answers, ctx, ranks):
            reasons = [reason]
            involved = []
            for theme, threshold in explain(answers, ctx, ranks):
                if theme not in involved:
                    involved.append(theme)
                for rank, barrier_reason in hits.get(theme, ()):
                    if rank >= threshold:
                        reasons.append(f"{themes[theme]} : {barrier_reason}")
            orientation = {
                "type": kind,
                "label": ORIENTATION_LABELS[kind],
                "reasons": list(dict.fromkeys(reasons)),
                "themes": involved,
            }
            break

    suggestions = suggestions_for(compiled, ordered)

    situations = []
    seen = set()
    for code, is_list, by_value in compiled.situation_questions:
        value = answers.get(code)
        if value is None:
            continue
        for item in value if is_list and type(value) is list else (value,):
            if isinstance(item, str):
                found = by_value.get(item)
                if found is not None and found not in seen:
                    seen.add(found)
                    situations.append({"theme": found[0], "label": found[1]})

    return {
        "barriers": barriers,
        "profile": {theme: ranks.get(theme, 0) for theme in themes},
        "strengths": strengths,
        "orientation": orientation,
        "suggestions": suggestions,
        "situations": situations,
        "framework": {"code": compiled.code, "version": compiled.version},
    }


def suggestions_for(compiled, themes):
    """Suggested objectives, actions and thématiques for barrier ``themes``, in that order.

    They depend only on the (immutable) framework version and the barriers, so a stored result
    leaves them out (:func:`storable`) and :func:`with_suggestions` adds them back for display.
    """
    labels = compiled.themes
    suggestions = []
    for theme in themes:
        entry = compiled.suggestions.get(theme)
        if entry is not None:
            suggestions.append(
                {
                    "theme": theme,
                    "label": labels.get(theme, theme),
                    "objectives": list(entry["objectives"]),
                    "actions": list(entry["actions"]),
                    "thematiques": list(entry["thematiques"]),
                }
            )
    return suggestions


def storable(result):
    """The result as stored on a completed diagnostic: without the derivable suggestions."""
    return {key: value for key, value in result.items() if key != "suggestions"}


def with_suggestions(compiled, stored):
    """A stored result with its suggestions recomputed from its barriers (same version)."""
    if not stored:
        return stored
    themes = [barrier["theme"] for barrier in stored.get("barriers", [])]
    return {**stored, "suggestions": suggestions_for(compiled, themes)}


# --- answers ----------------------------------------------------------------------------


_TRUE = {"true", "oui", "o", "yes", "y", "1", "on", "vrai"}
_FALSE = {"false", "non", "n", "no", "0", "off", "faux"}


def _get_raw(raw, code, question):
    """Read one input value: a list for list kinds (QueryDict ``getlist`` when available)."""
    if question is not None and question.kind in LIST_KINDS and hasattr(raw, "getlist"):
        values = raw.getlist(code)
        if len(values) == 1 and isinstance(values[0], list):
            return values[0]
        return values
    return raw[code]


def _number(value):
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        number = value
    else:
        text = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
        number = float(text)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def _fmt_number(value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def _as_list(value):
    if isinstance(value, list | tuple | set):
        return [item for item in value if not _is_blank(item)]
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,;\s]+", value) if part.strip()]
    return [value]


def _clean_one(question, value):
    """Return ``(stored value or None when blank, error message or None)``."""
    kind = question.kind
    if kind in LIST_KINDS:
        if isinstance(value, str) and kind == "multiple":
            items = [value.strip()] if value.strip() else []
        else:
            items = _as_list(value)
        if not items:
            return None, None
    elif _is_blank(value) or (isinstance(value, str) and not value.strip()):
        return None, None

    if kind == "single":
        if not isinstance(value, str) or value.strip() not in question.option_labels:
            return None, f"choix non proposé : {_quote(value)}"
        return value.strip(), None

    if kind == "multiple":
        chosen = set()
        for item in items:
            if not isinstance(item, str) or item.strip() not in question.option_labels:
                return None, f"choix non proposé : {_quote(item)}"
            chosen.add(item.strip())
        ordered = [o.value for o in question.options if o.value in chosen]
        exclusive = [o for o in question.options if o.exclusive and o.value in chosen]
        if exclusive and len(ordered) > 1:
            return None, f"{_quote(exclusive[0].label)} ne peut pas être cochée avec d'autres réponses"
        return ordered, None

    if kind == "yes_no":
        if isinstance(value, bool):
            return value, None
        text = str(value).strip().lower()
        if text in _TRUE:
            return True, None
        if text in _FALSE:
            return False, None
        return None, "réponse attendue : oui ou non"

    if kind in NUMERIC_KINDS:
        try:
            number = _number(value)
        except (TypeError, ValueError):
            return None, "un nombre est attendu" if kind == "number" else "un nombre entier est attendu"
        if kind == "scale" and not isinstance(number, int):
            return None, "un nombre entier est attendu"
        unit = f" {question.unit}" if question.unit else ""
        if question.min is not None and number < question.min:
            return None, f"la valeur doit être au moins {_fmt_number(question.min)}{unit}"
        if question.max is not None and number > question.max:
            return None, f"la valeur doit être au plus {_fmt_number(question.max)}{unit}"
        return number, None

    if kind == "date":
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            return value.isoformat(), None
        text = str(value).strip()
        match = FRENCH_DATE_RE.match(text)
        try:
            if match:
                day, month, year = (int(part) for part in match.groups())
                parsed = datetime.date(year, month, day)
            else:
                parsed = datetime.date.fromisoformat(text)
        except ValueError:
            return None, "date invalide (format attendu : JJ/MM/AAAA)"
        if not 1900 <= parsed.year <= 2200:
            return None, "date invalide (format attendu : JJ/MM/AAAA)"
        return parsed.isoformat(), None

    if kind == "rome":
        codes = []
        for item in items:
            code = str(item).strip().upper()
            if not ROME_RE.match(code):
                return None, f"code ROME ou code d'appellation invalide : {_quote(item)}"
            if code not in codes:
                codes.append(code)
        if len(codes) > MAX_ROME_ITEMS:
            return None, f"au plus {MAX_ROME_ITEMS} métiers"
        return codes, None

    if kind == "commune":
        code = str(value).strip().upper()
        if not INSEE_RE.match(code):
            return None, f"code INSEE de commune invalide : {_quote(value)}"
        return code, None

    # text
    if not isinstance(value, str):
        return None, "un texte est attendu"
    text = value.strip()
    if len(text) > question.max_length:
        return None, f"texte trop long ({len(text)} caractères, au plus {question.max_length})"
    return text, None


def clean_answers(compiled, raw):
    """Convert form or API input into stored answers; return ``(answers, errors)``.

    ``raw`` is a mapping (a Django ``QueryDict`` works: list kinds use ``getlist``). Every key
    must be a question code. Blank inputs ("", None, []) are left out of ``answers`` — to save
    one step of the form, drop that step's question codes from the stored answers before
    merging. ``errors`` maps a question code to one French message.
    """
    answers = {}
    errors = {}
    for code in raw:
        question = compiled.questions.get(code)
        if question is None:
            errors[code] = f"question inconnue {_quote(code)}"
            continue
        value, error = _clean_one(question, _get_raw(raw, code, question))
        if error:
            errors[code] = error
        elif value is not None:
            answers[code] = value
    return answers, errors


def missing_required(compiled, answers):
    """Codes of the required questions without an answer, in form order."""
    return [code for code, question in compiled.questions.items() if question.required and _is_blank(answers.get(code))]


def progress(compiled, answers):
    """``(answered, total)`` over the framework's questions."""
    answered = sum(1 for code in compiled.questions if not _is_blank(answers.get(code)))
    return answered, len(compiled.questions)


def format_answer(compiled, code, value):
    """A stored answer as French text (option labels, Oui/Non, dd/mm/yyyy, units); None if blank."""
    if _is_blank(value):
        return None
    question = compiled.questions.get(code)
    if question is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    kind = question.kind
    if kind == "single":
        return question.option_labels.get(value, str(value))
    if kind == "multiple":
        items = value if isinstance(value, list) else [value]
        return ", ".join(question.option_labels.get(item, str(item)) for item in items)
    if kind == "yes_no":
        return "Oui" if value is True else "Non" if value is False else str(value)
    if kind in NUMERIC_KINDS:
        text = _fmt_number(value) if _is_number(value) else str(value)
        if kind == "scale" and _is_number(question.max):
            return f"{text} / {_fmt_number(question.max)}"
        return f"{text} {question.unit}" if question.unit else text
    if kind == "date":
        try:
            return datetime.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if kind == "rome":
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return str(value)


def diff(compiled, answers_a, answers_b):
    """What changed from ``answers_a`` to ``answers_b``: ``[{question, label, before, after}]``.

    In form order; ``before`` / ``after`` are human-readable (see :func:`format_answer`),
    None when unanswered. Answers to questions unknown to ``compiled`` (an older version)
    come last, labelled with their code.
    """
    changes = []
    codes = list(compiled.questions)
    extra = [code for code in {**answers_a, **answers_b} if code not in compiled.questions]
    for code in codes + extra:
        before, after = answers_a.get(code), answers_b.get(code)
        if _is_blank(before) and _is_blank(after):
            continue
        if before == after and isinstance(before, bool) == isinstance(after, bool):
            continue
        question = compiled.questions.get(code)
        if (
            question is not None
            and question.kind == "multiple"
            and isinstance(before, list)
            and isinstance(after, list)
        ):
            if sorted(before) == sorted(after):
                continue
        changes.append(
            {
                "question": code,
                "label": question.label if question is not None else code,
                "before": format_answer(compiled, code, before),
                "after": format_answer(compiled, code, after),
            }
        )
    return changes
