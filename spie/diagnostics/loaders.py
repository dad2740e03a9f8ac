"""Load the framework files (``frameworks/*.yaml``) into :class:`~spie.diagnostics.models.Framework`.

Every file is parsed with ``yaml.safe_load`` (duplicate keys refused), validated by the engine
against the pathway référentiel and the data·inclusion thématiques stored in the database, and
stored once per ``(code, version)`` with the SHA-256 of its canonical JSON. A stored version
never changes: a file whose content changed without a new version number is refused. The
highest version of a code becomes the current one; diagnostics keep the version they use.

Nothing is written unless every file is valid (one transaction for the whole load).
"""

import hashlib
import io
import json
import re
import threading
from pathlib import Path

import yaml
from django.core.management import call_command
from django.db import transaction

from spie.referentials.models import DataInclusionTerm, PathwayItem, PathwayTheme

from . import engine
from .models import Framework

FRAMEWORKS_DIR = Path(__file__).resolve().parent / "frameworks"
FILE_NAME_RE = re.compile(r"^(?P<code>[a-z0-9][a-z0-9_-]*)-v(?P<version>\d+)\.yaml$")


# --- reading files ------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses a key written twice in the same mapping (YAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"clé en double « {key} »", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _syntax_error(name, error):
    mark = getattr(error, "problem_mark", None)
    where = f", ligne {mark.line + 1}, colonne {mark.column + 1}" if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error)
    return f"{name}{where} : erreur de syntaxe YAML ({problem})"


def read_framework_file(path):
    """Parse one framework file; return ``(definition, text)``. Raises :class:`engine.FrameworkError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise engine.FrameworkError([f"{path.name} : le fichier doit être encodé en UTF-8 ({error.reason})"]) from error
    except OSError as error:
        raise engine.FrameworkError([f"{path.name} : lecture impossible ({error.strerror})"]) from error
    try:
        definition = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise engine.FrameworkError([_syntax_error(path.name, error)], source=path.name) from error
    if not isinstance(definition, dict):
        raise engine.FrameworkError(
            [f"{path.name} : le fichier doit décrire une trame (code, version, kind, title, themes, sections…)"],
            source=path.name,
        )
    return definition, text


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def line_of(text, path):
    """Line number (1-based) in the YAML ``text`` of the key path ``a.b[2].c``; None if unknown."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line
    for name, index in _PATH_TOKEN.findall(path or ""):
        if index:
            if not isinstance(node, yaml.SequenceNode) or int(index) >= len(node.value):
                break
            node = node.value[int(index)]
            line = node.start_mark.line
        else:
            if not isinstance(node, yaml.MappingNode):
                break
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == name:
                    line = key_node.start_mark.line
                    node = value_node
                    break
            else:
                break
    return line + 1


def _with_lines(error, text):
    """The messages of ``error`` with the line of each key path, when found."""
    if not error.problems:
        return list(error.errors)
    messages = []
    for path, message in error.problems:
        line = line_of(text, path)
        suffix = f" (ligne {line})" if line else ""
        messages.append(engine.format_problem(error.source, path, message) + suffix)
    return messages


# --- référentiel ----------------------------------------------------------------------------


def ensure_referentials(stdout=None):
    """Load the pathway référentiel and the data·inclusion vocabularies if their tables are empty."""
    if PathwayTheme.objects.exists() and DataInclusionTerm.objects.filter(vocabulary="thematiques").exists():
        return False
    _say(stdout, "Référentiel de parcours ou thématiques data·inclusion absents : chargement…")
    call_command("load_referentials", only="parcours,data_inclusion", stdout=stdout or io.StringIO())
    return True


def referential_sets():
    """The référentiel values a framework is validated against (keyword arguments of ``engine.validate``)."""
    by_kind = {kind: {} for kind in PathwayItem.Kind.values}
    for theme_id, kind, label in PathwayItem.objects.values_list("theme_id", "kind", "label"):
        by_kind[kind].setdefault(theme_id, set()).add(label)
    return {
        "theme_codes": set(PathwayTheme.objects.values_list("code", flat=True)),
        "situations": by_kind[PathwayItem.Kind.SITUATION],
        "objectives": by_kind[PathwayItem.Kind.OBJECTIVE],
        "actions": by_kind[PathwayItem.Kind.ACTION],
        "thematiques": set(DataInclusionTerm.objects.filter(vocabulary="thematiques").values_list("value", flat=True)),
    }


# --- loading --------------------------------------------------------------------------------


def canonical_json(definition):
    return json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def checksum(definition):
    """SHA-256 of the canonical JSON of a definition (comments and layout do not count)."""
    return hashlib.sha256(canonical_json(definition).encode("utf-8")).hexdigest()


def _source_file(path, directory):
    """The file's path as stored: relative to the project for the project's frameworks."""
    if Path(directory).resolve() == FRAMEWORKS_DIR:
        return f"spie/diagnostics/frameworks/{path.name}"
    text = str(path)
    return text if len(text) <= 200 else path.name


def _say(stdout, message):
    if stdout is not None:
        stdout.write(message if message.endswith("\n") else message + "\n")


def _count(number, word):
    return f"{number} {word}{'s' if number > 1 else ''}"


def load_frameworks(directory=None, stdout=None):
    """Validate and store every ``*.yaml`` framework of ``directory``; return their Framework rows.

    Idempotent. Raises :class:`engine.FrameworkError` listing every problem of every file,
    in which case nothing is written.
    """
    directory = Path(directory) if directory else FRAMEWORKS_DIR
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise engine.FrameworkError([f"Aucune trame (fichier *.yaml) dans {directory}"])
    ensure_referentials(stdout)
    referentials = referential_sets()
    stored = {(row.code, row.version): row for row in Framework.objects.all()}
    highest = {}
    for code, version in stored:
        highest[code] = max(version, highest.get(code, 0))

    errors = []
    parsed = []
    seen = {}
    for path in paths:
        try:
            definition, text = read_framework_file(path)
        except engine.FrameworkError as error:
            errors.extend(error.errors)
            continue
        try:
            engine.validate(definition, source=path.name)
        except engine.FrameworkError as error:
            errors.extend(_with_lines(error, text))
            continue
        code, version = definition["code"], definition["version"]
        expected = f"{code}-v{version}.yaml"
        if path.name != expected:
            errors.append(f"{path.name} : le nom du fichier doit être « {expected} » (code et version de la trame)")
            continue
        if (code, version) in seen:
            errors.append(
                f"{path.name} : la trame « {code} » version {version} est déjà décrite par {seen[code, version]}"
            )
            continue
        seen[code, version] = path.name
        digest = checksum(definition)
        row = stored.get((code, version))
        if row is not None and row.checksum != digest:
            following = max(highest.get(code, 0), version) + 1
            errors.append(
                f"{path.name} : la trame « {code} » version {version} est déjà chargée avec un autre contenu. "
                f"Une version chargée ne change plus : donnez à la trame un nouveau numéro de version "
                f"(version: {following}) dans un nouveau fichier « {code}-v{following}.yaml »."
            )
            continue
        if row is None:
            # Stored versions are not checked again: a later référentiel may have dropped a label.
            try:
                engine.validate(definition, source=path.name, **referentials)
            except engine.FrameworkError as error:
                errors.extend(_with_lines(error, text))
                continue
        parsed.append((path, definition, digest, row))

    if errors:
        raise engine.FrameworkError(errors)

    rows = []
    created = 0
    with transaction.atomic():
        for path, definition, digest, row in parsed:
            compiled = engine.compile(definition)
            if row is None:
                row = Framework.objects.create(
                    code=definition["code"],
                    version=definition["version"],
                    kind=definition["kind"],
                    title=definition["title"],
                    description=(definition.get("description") or "").strip(),
                    definition=definition,
                    checksum=digest,
                    source_file=_source_file(path, directory),
                    is_current=False,
                )
                created += 1
                _say(
                    stdout,
                    f"Trame « {row.code} » v{row.version} ({path.name}) : chargée — "
                    f"{_count(len(compiled.sections), 'étape')}, {_count(len(compiled.questions), 'question')}, "
                    f"{_count(len(compiled.barrier_rules), 'règle')} de freins",
                )
            else:
                _say(stdout, f"Trame « {row.code} » v{row.version} ({path.name}) : déjà chargée, inchangée")
            rows.append(row)

        for code in sorted({row.code for row in rows}):
            top = Framework.objects.filter(code=code).order_by("-version").first()
            if top.is_current:
                continue
            Framework.objects.filter(code=code, is_current=True).update(is_current=False)
            Framework.objects.filter(pk=top.pk).update(is_current=True)
            _say(stdout, f"Trame « {code} » : la version {top.version} est désormais la version courante")

    for row in rows:
        row.refresh_from_db(fields=["is_current"])
    if created:
        _say(stdout, f"{_count(created, 'trame')} {'chargées' if created > 1 else 'chargée'}")
    else:
        _say(stdout, "Trames à jour")
    return rows


# --- reading the current framework ----------------------------------------------------------


def current_framework(code):
    """The current (highest loaded) version of framework ``code``; raises ``Framework.DoesNotExist``."""
    return Framework.objects.get(code=code, is_current=True)


_COMPILED = {}
_COMPILED_LOCK = threading.Lock()
_COMPILED_MAX = 32


def compiled_for(framework):
    """The compiled engine object of a Framework row, cached by (code, version, checksum)."""
    key = (framework.code, framework.version, framework.checksum)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = engine.compile(framework.definition)
        with _COMPILED_LOCK:
            if len(_COMPILED) >= _COMPILED_MAX:
                _COMPILED.pop(next(iter(_COMPILED)))
            _COMPILED[key] = compiled
    return compiled


def compiled_current(code):
    """``(Framework row, compiled)`` of the current version of ``code``."""
    framework = current_framework(code)
    return framework, compiled_for(framework)
