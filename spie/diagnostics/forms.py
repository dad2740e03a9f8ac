"""The step-by-step diagnostic form, built from the compiled framework version.

Questions are rendered by ``diagnostics/_question.html`` (one fieldset per question, a
legend, help linked with ``aria-describedby``), so the form follows the framework file and
never needs a migration. Validation is the engine's (``engine.clean_answers``); the commune
and ROME pickers are resolved here first because they need the referentials.
"""

from dataclasses import dataclass, field

from spie.referentials.selectors import AmbiguousCommune, CommuneNotFound, resolve_commune

from . import engine, selectors

PREFIX = "q-"
ROME_INPUTS = 3  # target jobs typed at once; saving shows the next empty input
SENSITIVE_REMINDER = engine.TEXT_REMINDER
YES, NO = "oui", "non"
KIND_HINTS = {
    "multiple": "Plusieurs réponses possibles.",
    "rome": "Commencez à taper un métier ou un code ROME, puis choisissez dans la liste.",
    "commune": "Nom de la commune, code postal ou code INSEE.",
}


def input_name(code):
    return f"{PREFIX}{code}"


@dataclass
class Choice:
    value: str
    label: str
    checked: bool
    id: str
    situation: str = ""


@dataclass
class Question:
    """One question ready for the template: definition + current value + error."""

    code: str
    kind: str
    label: str
    help: str = ""
    required: bool = False
    unit: str = ""
    min: float | None = None
    max: float | None = None
    value: str = ""  # text-like inputs
    values: list = field(default_factory=list)  # multiple, rome (texts shown in the inputs)
    choices: list = field(default_factory=list)  # single, multiple, yes_no, scale
    error: str = ""
    max_length: int = 0

    @property
    def name(self):
        return input_name(self.code)

    @property
    def id(self):
        return f"{PREFIX}{self.code}"

    @property
    def anchor(self):
        """Id of the first focusable element, target of the error summary links."""
        if self.kind in {"single", "multiple", "yes_no", "scale"}:
            return self.choices[0].id if self.choices else self.id
        if self.kind == "rome":
            return f"{self.id}-0"
        return self.id

    @property
    def help_id(self):
        return f"{self.id}-aide" if self.help else ""

    @property
    def error_id(self):
        return f"{self.id}-erreur" if self.error else ""

    @property
    def reminder_id(self):
        return f"{self.id}-rappel" if self.kind == "text" else ""

    @property
    def unit_id(self):
        return f"{self.id}-unite" if self.unit else ""

    @property
    def hint(self):
        return KIND_HINTS.get(self.kind, "")

    @property
    def hint_id(self):
        return f"{self.id}-indication" if self.hint else ""

    @property
    def describedby(self):
        return " ".join(i for i in (self.hint_id, self.help_id, self.unit_id, self.reminder_id, self.error_id) if i)

    @property
    def is_group(self):
        return self.kind in {"single", "multiple", "yes_no", "scale", "rome"}

    @property
    def reminder(self):
        return SENSITIVE_REMINDER if self.kind == "text" else ""

    @property
    def datalist_id(self):
        return f"{self.id}-liste"

    @property
    def rome_inputs(self):
        """``[(index, id, text)]``: the saved jobs, then empty inputs up to ``ROME_INPUTS``."""
        count = max(ROME_INPUTS, len(self.values) + 1)
        texts = list(self.values) + [""] * (count - len(self.values))
        return [(i, f"{self.id}-{i}", text) for i, text in enumerate(texts)]


def visible_sections(compiled, *, restricted=False):
    """The sections shown as steps: restricted ones (health) only with ``restricted`` access."""
    return [section for section in compiled.sections if restricted or not section.restricted]


def build_questions(section, answers, *, raw=None, errors=None, labels=None):
    """The compiled ``section``'s questions with the stored answers, or the typed ``raw`` values on error.

    ``labels`` maps ROME and commune codes to the texts the pickers show.
    """
    errors = errors or {}
    raw = raw or {}
    labels = labels or {}
    questions = []
    for definition in section.questions:
        code = definition.code
        kind = definition.kind
        typed = code in errors and code in raw
        stored = answers.get(code)
        question = Question(
            code=code,
            kind=kind,
            label=definition.label,
            help=definition.help,
            required=definition.required,
            unit=definition.unit,
            min=definition.min,
            max=definition.max,
            error=errors.get(code, ""),
        )
        if kind in {"single", "multiple"}:
            if typed:
                selected = set(_as_list(raw[code]))
            else:
                selected = {str(v) for v in _as_list(stored)}
            question.choices = [
                Choice(o.value, o.label, o.value in selected, f"{question.id}-{i}", o.situation or "")
                for i, o in enumerate(definition.options)
            ]
        elif kind == "yes_no":
            current = raw[code] if typed else (YES if stored is True else NO if stored is False else "")
            question.choices = [
                Choice(YES, "Oui", current == YES, f"{question.id}-0"),
                Choice(NO, "Non", current == NO, f"{question.id}-1"),
            ]
        elif kind == "scale":
            low, high = int(definition.min), int(definition.max)
            current = raw[code] if typed else ("" if stored is None else str(_number_text(stored)))
            ends = {low: definition.min_label, high: definition.max_label}
            question.choices = [
                Choice(str(i), ends.get(i, ""), current == str(i), f"{question.id}-{i - low}")
                for i in range(low, high + 1)
            ]
        elif kind == "rome":
            if typed:
                question.values = [v for v in _as_list(raw[code]) if v]
            else:
                question.values = [labels.get(str(c), str(c)) for c in _as_list(stored)]
        elif kind == "commune":
            question.value = raw[code] if typed else labels.get(str(stored), str(stored)) if stored else ""
        elif kind == "number":
            question.value = raw[code] if typed else ("" if stored is None else str(_number_text(stored)))
        elif kind == "date":
            question.value = raw[code] if typed else ("" if stored is None else str(stored))
            question.max_length = 0
        else:  # text
            question.value = raw[code] if typed else ("" if stored is None else str(stored))
            question.max_length = definition.max_length
        questions.append(question)
    return questions


def picker_labels(sections, answers):
    """Texts of the stored ROME and commune answers of the given compiled sections (≤ 3 queries)."""
    rome, communes = [], []
    for section in sections:
        for question in section.questions:
            value = answers.get(question.code)
            if value in (None, "", []):
                continue
            if question.kind == "rome":
                rome.extend(str(v) for v in _as_list(value))
            elif question.kind == "commune":
                communes.append(str(value))
    labels = selectors.rome_labels(rome) if rome else {}
    labels.update(selectors.commune_labels(communes) if communes else {})
    return labels


def _as_list(value):
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _number_text(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def raw_from_post(section, data):
    """``(raw, typed, picker_errors, codes)`` for the questions of the compiled ``section``.

    ``raw`` holds what ``engine.clean_answers`` reads (strings, lists for multiple choice and
    ROME) with commune and ROME texts already turned into codes; ``typed`` keeps what the user
    typed so the form can show it again; ``codes`` lists every question of the step.
    """
    raw, typed, errors, codes = {}, {}, {}, []
    for question in section.questions:
        code, kind = question.code, question.kind
        codes.append(code)
        name = input_name(code)
        if kind == "multiple":
            raw[code] = typed[code] = [v for v in data.getlist(name) if v != ""]
        elif kind == "rome":
            texts = [" ".join(v.split()) for v in data.getlist(name)]
            texts = [t for t in texts if t]
            typed[code] = texts
            resolved, unknown = [], []
            for text in texts:
                try:
                    value = selectors.resolve_rome(text)
                except selectors.RomeNotFound:
                    unknown.append(text)
                else:
                    if value not in resolved:
                        resolved.append(value)
            if unknown:
                errors[code] = (
                    "Métier introuvable : « " + " », « ".join(unknown)
                    + " ». Choisissez une proposition de la liste ou saisissez un code ROME (ex. J1501)."
                )
            raw[code] = resolved
        elif kind == "commune":
            text = " ".join(data.get(name, "").split())
            typed[code] = text
            raw[code] = ""
            if text:
                try:
                    raw[code] = resolve_commune(text).code_insee
                except CommuneNotFound:
                    errors[code] = (
                        f"Commune introuvable : « {text} ». Saisissez son nom, son code postal ou son code INSEE."
                    )
                except AmbiguousCommune as error:
                    errors[code] = (
                        "Plusieurs communes correspondent, précisez le code postal : " + ", ".join(error.labels) + "."
                    )
        else:
            raw[code] = typed[code] = data.get(name, "").strip()
    return raw, typed, errors, codes


def display_answer(compiled, code, value, labels):
    """A stored answer as French text (result, print and comparison pages); "—" when blank."""
    question = compiled.questions.get(code)
    if question is not None and question.kind in {"rome", "commune"} and value not in (None, "", []):
        return ", ".join(labels.get(str(v), str(v)) for v in _as_list(value))
    text = engine.format_answer(compiled, code, value)
    return "—" if text is None else text
