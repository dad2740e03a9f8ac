"""Validation of import rows: each cell is parsed by its field's type, each error is a French
sentence naming the cell ("Ligne 12, colonne « Date de naissance » : date illisible « 31/02/1990 »"),
and each valid row gets its action (create, update with the diff, unchanged).

The existing data is loaded once per file into dictionaries (:class:`PersonIndex`: 100,000
persons' keys fit in memory), so validating a 50,000-row file makes no query per row. Fixing one
row in the preview builds the same index restricted to that row's keys.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from spie.catalogue.models import Action
from spie.core.text import fold
from spie.network import policies as network_policies
from spie.network.models import Membership, Structure, User
from spie.people.models import Consent, FollowUpMembership, Person
from spie.people.validators import validate_nir
from spie.referentials.models import Commune

from . import mapping as m
from .models import ImportKind, MatchKey, RowAction
from .readers import parse_bool, parse_date

ALL = "__all__"
AMBIGUOUS = -1

SEX_WORDS = {
    "f": "F", "femme": "F", "feminin": "F", "mme": "F", "madame": "F", "mlle": "F", "2": "F",
    "m": "M", "h": "M", "homme": "M", "masculin": "M", "monsieur": "M", "mr": "M", "1": "M",
    "x": "X", "nonprecise": "X", "autre": "X",
}
EDUCATION_WORDS = {
    "aucun": "none", "aucundiplome": "none", "none": "none", "sansdiplome": "none", "niveau3": "3", "3": "3",
    "cap": "3", "bep": "3", "capbep": "3", "niveau4": "4", "4": "4", "bac": "4", "baccalaureat": "4",
    "niveau5": "5", "5": "5", "bac2": "5", "bts": "5", "dut": "5", "niveau6": "6", "6": "6", "licence": "6",
    "bac3": "6", "niveau7": "7", "7": "7", "8": "7", "master": "7", "bac5": "7", "doctorat": "7",
}
ROLE_WORDS = {
    "referent": Membership.Role.REFERENT, "referente": Membership.Role.REFERENT,
    "chargedorientation": Membership.Role.ORIENTATION, "orientation": Membership.Role.ORIENTATION,
    "chargeedorientation": Membership.Role.ORIENTATION,
    "admin": Membership.Role.ADMIN, "administrateur": Membership.Role.ADMIN, "administratrice": Membership.Role.ADMIN,
    "administrateurdelastructure": Membership.Role.ADMIN,
    "coordinateur": Membership.Role.COORDINATOR, "coordinatrice": Membership.Role.COORDINATOR,
    "coordinator": Membership.Role.COORDINATOR, "coordinateurspie": Membership.Role.COORDINATOR,
}

# Fields of Person the import writes (postal_code only helps find the commune).
PERSON_FIELDS = tuple(t.name for t in m.PERSON_TARGETS if t.name not in {"postal_code"})
KEY_FIELDS = {MatchKey.INTERNAL_ID: "internal_id", MatchKey.NIR: "nir", MatchKey.CAF_NUMBER: "caf_number"}


def cell_error(line, column, problem):
    return f"Ligne {line}, colonne « {column} » : {problem}"


def normalise_identifier(value):
    return "".join(str(value or "").split()).upper()


@dataclass
class RowResult:
    cleaned: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    action: str = RowAction.ERROR
    target_id: int | None = None
    diff: dict = field(default_factory=dict)
    key: str = ""
    nir: str = ""


class CommuneIndex:
    """Communes by INSEE code and by folded name, loaded once (lazily, only if mapped)."""

    def __init__(self):
        self.by_code = {}
        self.by_name = {}
        for code, name, postal_codes in Commune.objects.values_list("code_insee", "name", "postal_codes"):
            self.by_code[code] = (code, name)
            self.by_name.setdefault(fold(name), []).append((code, postal_codes.split()))

    def resolve(self, text, postal_code=""):
        """``(code, None)`` or ``(None, problem)``."""
        value = text.strip()
        if value.upper() in self.by_code:
            return value.upper(), None
        if value.isdigit() and len(value) == 4 and "0" + value in self.by_code:  # 1053 for 01053 (spreadsheet)
            return "0" + value, None
        candidates = self.by_name.get(fold(value), [])
        if postal_code and len(candidates) > 1:
            candidates = [c for c in candidates if postal_code in c[1]] or candidates
        if len(candidates) == 1:
            return candidates[0][0], None
        if not candidates:
            return None, f"commune inconnue « {value} » (indiquez le code INSEE ou le nom exact)"
        return None, f"plusieurs communes s'appellent « {value} » : ajoutez la colonne « Code postal » ou le code INSEE"


def parse_cell(target, text, *, communes=None, postal_code=""):
    """``(value, None)`` or ``(None, problem)`` for a non-empty cell."""
    text = text.strip()
    kind = target.type
    try:
        if kind == m.DATE:
            value = parse_date(text)
            if target.name == "birth_date" and not date(1900, 1, 1) <= value <= date.today():
                return None, f"date de naissance impossible « {text} »"
            return value.isoformat(), None
        if kind == m.BOOL:
            return parse_bool(text), None
    except ValueError:
        if kind == m.DATE:
            return None, f"date illisible « {text} » (attendu JJ/MM/AAAA)"
        return None, f"valeur non reconnue « {text} » (attendu : oui ou non)"
    if kind == m.CHOICE:
        words = SEX_WORDS if target.name == "sex" else EDUCATION_WORDS
        value = words.get(fold(text))
        if value is None:
            return None, f"valeur non reconnue « {text} » ({target.help})"
        return value, None
    if kind == m.ROLE:
        value = ROLE_WORDS.get(fold(text))
        if value is None:
            return None, f"rôle inconnu « {text} » ({target.help})"
        return str(value), None
    if kind == m.EMAIL:
        value = text.lower()
        try:
            validate_email(value)
        except ValidationError:
            return None, f"adresse électronique invalide « {text} »"
        return value, None
    if kind == m.NIR:
        value = normalise_identifier(text)
        try:
            validate_nir(value)
        except ValidationError as exc:
            return None, f"NIR invalide « {text} » ({exc.messages[0].rstrip('.')})"
        return value, None
    if kind == m.POSTAL_CODE:
        value = text.replace(" ", "")
        if value.isdigit() and len(value) == 4:
            value = "0" + value
        if not (value.isdigit() and len(value) == 5):
            return None, f"code postal invalide « {text} » (5 chiffres)"
        return value, None
    if kind == m.SIRET:
        value = text.replace(" ", "")
        if not (value.isdigit() and len(value) == 14):
            return None, f"SIRET invalide « {text} » (14 chiffres)"
        return value, None
    if kind == m.COMMUNE:
        return communes.resolve(text, postal_code)
    if len(text) > target.max_length:
        return None, f"texte trop long ({len(text)} caractères, {target.max_length} au plus)"
    return text, None


def clean_cells(kind, line, raw, mapping, *, communes=None):
    """Parse every mapped cell of one row: ``(cleaned, errors)``; empty cells are left out."""
    cleaned, errors = {}, {}
    postal_code = ""
    if kind == ImportKind.PERSONS and raw.get("postal_code"):
        postal_code, _problem = parse_cell(m.target_map(kind)["postal_code"], raw["postal_code"])
    for target in m.TARGETS[kind]:
        if target.name not in mapping and target.name not in raw:
            continue
        text = str(raw.get(target.name) or "").strip()
        column = mapping.get(target.name) or target.label
        if not text:
            if target.required:
                errors[target.name] = cell_error(line, column, "valeur obligatoire manquante")
            continue
        value, problem = parse_cell(target, text, communes=communes, postal_code=postal_code or "")
        if problem:
            errors[target.name] = cell_error(line, column, problem)
        else:
            cleaned[target.name] = value
    return cleaned, errors


def names_key(last_name, first_name, birth_date):
    return f"{fold(last_name)}|{fold(first_name)}|{birth_date}"


def person_key(match_key, cleaned):
    """The match key value of a cleaned row ("" when its field is empty)."""
    if match_key == MatchKey.NAMES_BIRTH_DATE:
        if not all(cleaned.get(f) for f in ("last_name", "first_name", "birth_date")):
            return ""
        return names_key(cleaned["last_name"], cleaned["first_name"], cleaned["birth_date"])
    return normalise_identifier(cleaned.get(KEY_FIELDS[match_key], ""))


class PersonIndex:
    """The territory's persons' keys: ``key → id`` (or AMBIGUOUS), ``NIR → id``, names → ids,
    and ``updatable``: the ids of the persons the importing ``structure`` follows (the only
    ones a row may update, see :func:`updatable_person_ids`).

    Restricted to ``only`` (a Q) when one row is re-validated.
    """

    def __init__(self, territory, match_key, *, structure, only=None):
        self.match_key = match_key
        self.by_key, self.nir_owner, self.by_names = {}, {}, {}
        key_field = KEY_FIELDS.get(match_key)
        columns = ["id", "nir", "last_name_key", "first_name_key", "birth_date"]
        if key_field and key_field != "nir":
            columns.append(key_field)
        qs = Person.objects.filter(territory=territory)
        if only is not None:
            qs = qs.filter(only)
        for values in qs.values_list(*columns).iterator(chunk_size=5000):
            pk, nir, last_key, first_key, birth_date = values[:5]
            names = f"{last_key}|{first_key}|{birth_date.isoformat()}"
            key_value = normalise_identifier(values[5] if len(values) > 5 else nir) if key_field else names
            if key_value:
                self.by_key[key_value] = AMBIGUOUS if key_value in self.by_key else pk
            if nir:
                self.nir_owner[nir] = pk
            self.by_names.setdefault(names, []).append((pk, key_value))
        if only is None:
            self.updatable = updatable_person_ids(structure)
        else:
            loaded = set(self.nir_owner.values()) | {pk for ids in self.by_names.values() for pk, _k in ids}
            self.updatable = updatable_person_ids(structure, person_ids=loaded) if loaded else set()

    @classmethod
    def for_row(cls, territory, match_key, cleaned, *, structure):
        """An index of the persons that could concern one row (a handful of indexed queries)."""
        condition = Q(pk__in=[])
        if cleaned.get("nir"):
            condition |= Q(nir=cleaned["nir"])
        key_field = KEY_FIELDS.get(match_key)
        if key_field and key_field != "nir" and cleaned.get(key_field):
            condition |= Q(**{key_field: cleaned[key_field]})
        if all(cleaned.get(f) for f in ("last_name", "first_name", "birth_date")):
            condition |= Q(last_name_key=fold(cleaned["last_name"]), first_name_key=fold(cleaned["first_name"]),
                           birth_date=cleaned["birth_date"])
        return cls(territory, match_key, structure=structure, only=condition)


def updatable_person_ids(structure, *, person_ids=None):
    """Ids of the persons whose record an import of ``structure`` may update.

    The rule of a structure admin in ``spie.people.policies.access_for``: the structure has an
    active member in the person's follow-up group, and the person does not oppose sharing
    (or the référent unique belongs to this structure). Three queries, whatever the number of
    persons; ``person_ids`` restricts the answer to some persons (one row re-validated).
    """
    followups = FollowUpMembership.objects.filter(
        structure=structure, end_date__isnull=True, person__territory_id=structure.territory_id)
    if person_ids is not None:
        followups = followups.filter(person_id__in=list(person_ids))
    followed = set(followups.values_list("person_id", flat=True))
    if not followed:
        return followed
    restricted_statuses = (Consent.Status.OPPOSED, Consent.Status.WITHDRAWN)
    consents = Consent.objects.filter(scope=Consent.Scope.SHARING, person__territory_id=structure.territory_id,
                                      person__followups__structure=structure, person__followups__end_date__isnull=True)
    opposing = set(consents.filter(status__in=restricted_statuses).values_list("person_id", flat=True)) & followed
    if not opposing:
        return followed
    latest = {}
    for person_id, status, given_on, pk in (
        Consent.objects.filter(scope=Consent.Scope.SHARING, person_id__in=opposing)
        .values_list("person_id", "status", "given_on", "id")
    ):
        if person_id not in latest or (given_on, pk) > latest[person_id][0]:
            latest[person_id] = ((given_on, pk), status)
    restricted = {pk for pk, (_when, status) in latest.items() if status in restricted_statuses}
    referent_structure = dict(FollowUpMembership.objects.filter(
        person_id__in=restricted, kind=FollowUpMembership.Kind.REFERENT, end_date__isnull=True,
    ).values_list("person_id", "structure_id"))
    blocked = {pk for pk in restricted if referent_structure.get(pk) != structure.pk}
    return followed - blocked


def _json_value(value):
    if isinstance(value, date):
        return value.isoformat()
    return value


def stored_values(person_values):
    """A person's stored fields in the same JSON form as a cleaned row."""
    values = {f: _json_value(person_values.get(f)) for f in PERSON_FIELDS if f != "commune"}
    values["commune"] = person_values.get("commune_id")
    return values


def fetch_stored(ids):
    """``{id: stored values}`` for the persons matched by a batch of rows (one query)."""
    if not ids:
        return {}
    fields = [f for f in PERSON_FIELDS if f != "commune"] + ["commune_id", "id"]
    return {v["id"]: stored_values(v) for v in Person.objects.filter(pk__in=ids).values(*fields)}


def person_diff(stored, cleaned):
    """``{field: [old, new]}`` for the non-empty cells that differ from the stored record."""
    diff = {}
    for name, new in cleaned.items():
        if name not in PERSON_FIELDS or new in ("", None):
            continue
        old = stored.get(name)
        if name in {"nir", "caf_number", "internal_id", "france_travail_id", "msa_number"}:
            same = normalise_identifier(old) == normalise_identifier(new)
        else:
            same = old == new
        if not same:
            diff[name] = [old if old is not None else "", new]
    return diff


class PersonValidator:
    """Validates the rows of a persons file in batches (see :meth:`validate_batch`)."""

    def __init__(self, job, *, index=None, communes=None):
        self.job = job
        self.mapping = job.mapping
        self.match_key = job.match_key
        self.index = index
        self._communes = communes
        self.seen_keys, self.seen_nirs = {}, {}

    @property
    def communes(self):
        if self._communes is None and "commune" in self.mapping:
            self._communes = CommuneIndex()
        return self._communes

    def key_label(self):
        return MatchKey(self.match_key).label.lower()

    def first_pass(self, line, raw):
        """Parse cells and find the target; the diff needs the stored values (second pass)."""
        cleaned, errors = clean_cells(ImportKind.PERSONS, line, raw, self.mapping, communes=self.communes)
        result = RowResult(cleaned=cleaned, errors=errors, nir=cleaned.get("nir", ""))
        result.key = person_key(self.match_key, cleaned)
        if not result.key and self.match_key != MatchKey.NAMES_BIRTH_DATE and KEY_FIELDS[self.match_key] not in errors:
            field_name = KEY_FIELDS[self.match_key]
            errors[field_name] = cell_error(
                line, self.mapping.get(field_name, m.target_map(ImportKind.PERSONS)[field_name].label),
                "valeur obligatoire manquante (c'est la clé de rapprochement choisie)",
            )
        if result.key:
            earlier = self.seen_keys.get(result.key)
            if earlier is not None and earlier != line:
                errors[ALL] = f"Ligne {line} : doublon de la ligne {earlier} dans le fichier (même {self.key_label()})"
            else:
                self.seen_keys.setdefault(result.key, line)
        if result.nir:
            earlier = self.seen_nirs.get(result.nir)
            if earlier is not None and earlier != line:
                errors.setdefault("nir", cell_error(line, self.mapping.get("nir", "NIR"),
                                                    f"même NIR que la ligne {earlier} du fichier"))
            else:
                self.seen_nirs.setdefault(result.nir, line)
        if result.key:
            self._find_target(line, result)
        return result

    def _find_target(self, line, result):
        index, cleaned = self.index, result.cleaned
        target = index.by_key.get(result.key)
        if target == AMBIGUOUS:
            result.errors[ALL] = (
                f"Ligne {line} : plusieurs personnes du territoire ont ce {self.key_label()} ; "
                "choisissez une autre clé de rapprochement ou écartez la ligne"
            )
            return
        names = None
        if all(cleaned.get(f) for f in ("last_name", "first_name", "birth_date")):
            names = names_key(cleaned["last_name"], cleaned["first_name"], cleaned["birth_date"])
        if target is None and self.match_key != MatchKey.NAMES_BIRTH_DATE and names:
            homonyms = index.by_names.get(names, [])
            without_key = [pk for pk, key_value in homonyms if not key_value]
            if len(without_key) == 1 and len(homonyms) == 1:
                target = without_key[0]  # the same person, recorded by hand without this identifier
            elif homonyms:
                result.errors[ALL] = (
                    f"Ligne {line} : une personne du territoire a déjà ces nom, prénom et date de naissance "
                    f"avec un autre {self.key_label()} ; vérifiez, puis corrigez ou écartez la ligne"
                )
                return
        if result.nir:
            owner = index.nir_owner.get(result.nir)
            if owner is not None and owner != target:
                result.errors.setdefault("nir", cell_error(
                    line, self.mapping.get("nir", "NIR"),
                    "ce NIR est déjà enregistré pour une autre personne du territoire"))
                return
        if target is not None and target not in index.updatable:
            # Known, but not followed by the importing structure: never show nor change the record,
            # and never create a duplicate of it either.
            result.errors[ALL] = (
                f"Ligne {line} : cette personne est déjà connue de la plateforme et suivie par une autre structure : "
                "l'import ne peut pas modifier son dossier ; demandez à rejoindre son groupe de suivi."
            )
            return
        result.target_id = target

    def finish(self, results_with_stored):
        for result, stored in results_with_stored:
            if result.errors:
                result.action = RowAction.ERROR
                continue
            if result.target_id is None:
                result.action = RowAction.CREATE
                result.diff = {}
                continue
            result.diff = person_diff(stored or {}, result.cleaned)
            result.action = RowAction.UPDATE if result.diff else RowAction.UNCHANGED

    def validate_batch(self, rows):
        """``rows``: ``[(line, raw)]`` → ``[RowResult]`` (one query for the stored values)."""
        results = [self.first_pass(line, raw) for line, raw in rows]
        stored = fetch_stored({r.target_id for r in results if r.target_id and not r.errors})
        self.finish([(r, stored.get(r.target_id)) for r in results])
        return results


class ProfessionalValidator:
    """Professionals (into the job's structure) and memberships (SIRET of a structure the
    importer administers): new account, new membership, or already there."""

    def __init__(self, job):
        self.job = job
        self.mapping = job.mapping
        self.kind = job.kind
        self.seen_keys, self.seen_nirs = {}, {}
        admin_structure_ids = Membership.objects.filter(
            user=job.created_by, role=Membership.Role.ADMIN, is_active=True,
        ).values_list("structure_id", flat=True)
        self.structures = {
            s.siret: s for s in Structure.objects.filter(pk__in=list(admin_structure_ids), is_active=True) if s.siret
        }

    def structure_for(self, cleaned, line, errors):
        if self.kind == ImportKind.PROFESSIONALS:
            return self.job.structure
        siret = cleaned.get("siret")
        if not siret:
            return None
        structure = self.structures.get(siret)
        if structure is None:
            errors["siret"] = cell_error(
                line, self.mapping.get("siret", "SIRET"),
                f"aucune structure dont vous êtes administrateur n'a le SIRET « {siret} »",
            )
        return structure

    def validate_batch(self, rows):
        parsed = []
        for line, raw in rows:
            cleaned, errors = clean_cells(self.kind, line, raw, self.mapping)
            structure = self.structure_for(cleaned, line, errors)
            role = cleaned.get("role")
            if structure is not None and role and role not in network_policies.grantable_roles(structure):
                errors["role"] = cell_error(
                    line, self.mapping.get("role", "Rôle"),
                    f"le rôle « {Membership.Role(role).label} » ne peut pas être attribué dans une structure de "
                    f"type « {structure.get_kind_display()} »",
                )
            result = RowResult(cleaned=cleaned, errors=errors)
            if structure is not None:
                cleaned["structure_id"] = structure.pk
            if cleaned.get("email") and role and structure is not None:
                result.key = f"{cleaned['email']}|{structure.pk}|{role}"
                earlier = self.seen_keys.get(result.key)
                if earlier is not None and earlier != line:
                    errors[ALL] = (f"Ligne {line} : doublon de la ligne {earlier} dans le fichier "
                                   "(même courriel et rôle)")
                else:
                    self.seen_keys.setdefault(result.key, line)
            parsed.append((result, structure))
        emails = {r.cleaned["email"] for r, _s in parsed if r.cleaned.get("email")}
        users = {u.email: u for u in User.objects.filter(email__in=emails)} if emails else {}
        active = set()
        if users:
            active = set(Membership.objects.filter(user__in=users.values(), is_active=True).values_list(
                "user_id", "structure_id", "role"))
        for result, structure in parsed:
            if result.errors:
                result.action = RowAction.ERROR
                continue
            user = users.get(result.cleaned["email"])
            role = result.cleaned["role"]
            label = f"{Membership.Role(role).label} — {structure}"
            if user is None:
                result.action = RowAction.CREATE
                result.diff = {"membership": ["", label]}
            elif (user.pk, structure.pk, role) in active:
                result.action, result.target_id = RowAction.UNCHANGED, user.pk
            else:
                result.action, result.target_id = RowAction.UPDATE, user.pk
                result.diff = {"membership": ["", label]}
        return [r for r, _s in parsed]


# --- Catalogue actions -----------------------------------------------------------------------


def _display(value):
    """A stored or imported action value as the preview shows it."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def stored_action_values(values):
    """An action's stored fields (a ``values()`` dict) in the JSON form of a parsed row."""
    from spie.catalogue.interop import FIELD_SOURCES

    stored = {}
    for name in FIELD_SOURCES:
        value = values.get(name)
        if isinstance(value, date):
            value = value.isoformat()
        elif name == "weekly_hours" and value is not None:
            value = str(value.quantize(Decimal("0.1")))
        stored[name] = value
    return stored


def action_diff(stored, cleaned):
    """``{field: [old, new]}`` (display text) for the non-empty cells that differ from the action."""
    diff = {}
    for name, new in cleaned.items():
        old = stored.get(name)
        if old in ("", None) and new in ("", None, []):
            continue
        if old != new:
            diff[name] = [_display(old), _display(new)]
    return diff


def apply_action_changes(action, cleaned, diff):
    """Set on ``action`` the changed cells of a row (``diff`` keys), as the import's commit writes
    them; return the commune code when the commune changes (None otherwise)."""
    from spie.catalogue.interop import model_values

    values = model_values(cleaned)
    commune_id = values.pop("commune_id", None)
    for name in diff:
        if name in values:
            setattr(action, name, values[name])
    return commune_id if "commune_id" in diff else None


def import_publish_problems(action, cleaned, diff):
    """What the publish rules would say of ``action`` once the row applied (checked on a copy:
    the stored action is left untouched)."""
    from copy import copy

    from spie.catalogue.services.actions import publish_problems

    changed = copy(action)
    commune_id = apply_action_changes(changed, cleaned, diff)
    if "commune_id" in diff:
        changed.commune_id = commune_id
    return publish_problems(changed)


class ActionIndex:
    """The importing structure's actions, keyed as the rows are: ``(source, id)`` of an imported
    action, its ``uid`` (a re-import of this territory's own export), and folded name + commune
    (an action created by hand). Loaded once per file (a structure has hundreds of actions)."""

    def __init__(self, structure):
        self.by_source, self.by_uid, self.by_name = {}, {}, {}
        rows = Action.objects.filter(structure=structure).values_list(
            "id", "uid", "source", "source_id", "name", "commune_id")
        for pk, uid, source, source_id, name, commune_id in rows:
            self.by_uid[uid] = pk
            if source_id:
                self.by_source[(source, source_id)] = pk
            key = action_name_key(name, commune_id)
            self.by_name[key] = AMBIGUOUS if key in self.by_name else (pk, bool(source_id))


def _name_words(name):
    """Accent-, case- and punctuation-free name that keeps its digits ("Atelier n° 2" ≠ "n° 3")."""
    ascii_only = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(re.split(r"[^a-z0-9]+", ascii_only)).strip()


def action_name_key(name, commune_id):
    return f"nom|{_name_words(name)}|{commune_id or ''}"


def action_key(fields):
    """The match key of a parsed row: its source id when it has one, else name and commune."""
    if fields.get("source_id"):
        return f"id|{fields.get('source', '')}|{fields['source_id']}"
    if fields.get("name"):
        return action_name_key(fields["name"], fields.get("commune_id"))
    return ""


class ActionValidator:
    """Actions of the importing structure (data·inclusion fields, see ``spie.catalogue.interop``):
    a row with an id updates the action imported with that id (or, for this territory's own
    export, the action of that uid); a row without id updates the action of the same name in the
    same commune; otherwise it creates a draft action."""

    def __init__(self, job):
        from spie.catalogue import interop

        self.job = job
        self.mapping = job.mapping
        self.structure, self.territory = job.structure, job.territory
        self.index = ActionIndex(job.structure)
        self.lookups = interop.Lookups()
        self.seen_keys = {}

    def _column(self, key):
        from spie.catalogue.interop import FIELD_LABELS

        return self.mapping.get(key) or FIELD_LABELS.get(key, key)

    def first_pass(self, line, raw):
        from spie.catalogue import interop

        fields, problems = interop.parse_service(raw, lookups=self.lookups)
        errors = {key: cell_error(line, self._column(key), problem) for key, problem in problems.items()}
        result = RowResult(cleaned=fields, errors=errors)
        result.key = action_key(fields)
        if result.key:
            earlier = self.seen_keys.get(result.key)
            if earlier is not None and earlier != line:
                what = "même identifiant" if result.key.startswith("id|") else "même nom dans la même commune"
                errors[ALL] = f"Ligne {line} : doublon de la ligne {earlier} dans le fichier ({what})"
            else:
                self.seen_keys.setdefault(result.key, line)
        uid = interop.own_uid(fields.get("source_id"), self.territory)
        if uid is not None:
            result.own_uid = uid
            if uid in self.index.by_uid:
                result.target_id = self.index.by_uid[uid]
                # The action's own id: not a change of the action.
                fields.pop("source", None)
                fields.pop("source_id", None)
            return result
        if fields.get("source_id"):
            result.target_id = self.index.by_source.get((fields.get("source", ""), fields["source_id"]))
        if result.target_id is None and fields.get("name"):
            found = self.index.by_name.get(action_name_key(fields["name"], fields.get("commune_id")))
            if found == AMBIGUOUS:
                errors[ALL] = (f"Ligne {line} : votre structure a plusieurs actions de ce nom dans cette commune ; "
                               "ajoutez la colonne « Identifiant » ou renommez-les")
            elif found is not None and not (found[1] and fields.get("source_id")):
                result.target_id = found[0]  # an action without source id (created by hand), or the same name
        return result

    def validate_batch(self, rows):
        self.lookups.preload([str(raw.get("code_insee") or "").strip().upper() for _line, raw in rows])
        results = [self.first_pass(line, raw) for line, raw in rows]
        # This territory's own ids that belong to another structure: never taken over.
        foreign = {r.own_uid for r in results if getattr(r, "own_uid", None) and r.target_id is None}
        if foreign:
            taken = set(Action.objects.filter(uid__in=foreign).values_list("uid", flat=True))
            for (line, _raw), result in zip(rows, results, strict=True):
                if getattr(result, "own_uid", None) in taken:
                    result.errors[ALL] = (f"Ligne {line} : cette action appartient à une autre structure du "
                                          "catalogue : l'import de votre structure ne peut pas la modifier")
        targets = {r.target_id for r in results if r.target_id and not r.errors}
        stored = {}
        if targets:
            from spie.catalogue.interop import FIELD_SOURCES

            for values in Action.objects.filter(pk__in=targets).values("id", *FIELD_SOURCES):
                stored[values["id"]] = stored_action_values(values)
        for result in results:
            if result.errors:
                result.action = RowAction.ERROR
            elif result.target_id is None:
                result.action = RowAction.CREATE
            else:
                result.diff = action_diff(stored.get(result.target_id, {}), result.cleaned)
                result.action = RowAction.UPDATE if result.diff else RowAction.UNCHANGED
        self._check_visible_stay_publishable(rows, results)
        return results

    def _check_visible_stay_publishable(self, rows, results):
        """A published or suspended action must stay complete whatever the door (the sheet's
        page refuses the same change): an update that would break the publish rules is a row
        error, so nothing of that row is written."""
        from spie.catalogue.interop import FIELD_SOURCES
        from spie.catalogue.services.actions import VISIBLE_STATUSES

        updates = [(line, r) for (line, _raw), r in zip(rows, results, strict=True) if r.action == RowAction.UPDATE]
        if not updates:
            return
        visible = Action.objects.filter(status__in=VISIBLE_STATUSES).in_bulk([r.target_id for _l, r in updates])
        for line, result in updates:
            action = visible.get(result.target_id)
            if action is None:
                continue
            problems = import_publish_problems(action, result.cleaned, result.diff)
            if not problems:
                continue
            result.errors[ALL] = (
                f"Ligne {line} : l'action « {action.name} » est {action.get_status_display().lower()} et doit rester "
                "complète : corrigez le fichier, ou repassez-la en brouillon avant l'import"
            )
            for name, problem in problems.items():
                key = FIELD_SOURCES.get(name) or FIELD_SOURCES.get(f"{name}_id")
                if key:
                    result.errors.setdefault(key, cell_error(line, self._column(key), problem))
                else:
                    result.errors[ALL] += f" ({problem})"
            result.action = RowAction.ERROR


# --- Job offers (France Travail "Offres d'emploi v2" JSON, or CSV) ------------------------------

OWN_COMPANY_ONLY = ("Ligne {line} : cette offre est celle d'une autre entreprise (SIRET « {siret} ») : vous "
                    "n'importez que les offres de votre entreprise")


def opening_name_key(company_key, title, commune_id):
    return f"nom|{company_key}|{_name_words(title)}|{commune_id or ''}"


def importer_membership(job):
    """The membership the job was created with (its creator in its structure)."""
    return (Membership.objects.filter(user_id=job.created_by_id, structure_id=job.structure_id, is_active=True)
            .select_related("structure__territory", "user").first())


def offer_default_source(job):
    """The source of the ids of a file without « Source » column: France Travail for its JSON,
    else the importing structure's own ids (two structures' files never collide)."""
    from spie.employers.interop import FRANCE_TRAVAIL

    return FRANCE_TRAVAIL if job.file_format == "json" else f"csv-{job.structure_id}"


class OpeningIndex:
    """The territory's companies (by SIRET and by folded name) and openings (by source id, and
    by company + title + commune for those without id), loaded once per file."""

    def __init__(self, territory):
        from spie.employers.models import Company, JobOpening

        self.companies, self.by_siret, self.by_name = {}, {}, {}
        for pk, siret, name, account_id, followed_by_id in Company.objects.filter(territory=territory).values_list(
                "id", "siret", "name", "account_id", "followed_by_id"):
            self.companies[pk] = (name, siret, account_id, followed_by_id)
            if siret:
                self.by_siret[siret] = pk
            key = _name_words(name)
            self.by_name[key] = AMBIGUOUS if key in self.by_name else pk
        self.by_source, self.by_title = {}, {}
        for pk, company_id, source, source_id, title, commune_id in JobOpening.objects.filter(
                territory=territory).values_list("id", "company_id", "source", "source_id", "title", "commune_id"):
            if source_id:
                self.by_source[(source, source_id)] = (pk, company_id)
            else:
                key = opening_name_key(company_id, title, commune_id)
                self.by_title[key] = AMBIGUOUS if key in self.by_title else (pk, company_id)


class OpeningValidator:
    """Offers of a territory: a row with an id updates the opening imported with that id
    (``source``, ``source_id``); a row without id updates the opening of the same company with
    the same title in the same commune; otherwise it creates an opening (and, for an unknown
    SIRET, its company). A company user imports the offers of their own company only; an
    admin may not touch a company that has its own space and is followed by another structure
    (``spie.employers.policies.can_manage_company``)."""

    def __init__(self, job):
        from spie.employers import interop, policies

        self.job = job
        self.mapping = job.mapping
        self.territory = job.territory
        self.membership = importer_membership(job)
        self.own_company = policies.company_of(self.membership)
        self.index = OpeningIndex(job.territory)
        self.lookups = interop.Lookups(job.territory)
        self.default_source = offer_default_source(job)
        self.seen_keys = {}

    def _column(self, key):
        from spie.employers.interop import COLUMN_LABELS

        return self.mapping.get(key) or COLUMN_LABELS.get(key, key)

    def _may_manage(self, company_id):
        from spie.employers import policies
        from spie.employers.models import Company

        name, siret, account_id, followed_by_id = self.index.companies[company_id]
        company = Company(pk=company_id, territory=self.territory, name=name, siret=siret, account_id=account_id,
                          followed_by_id=followed_by_id)
        return policies.can_manage_company(self.membership, company)

    def _resolve_company(self, line, fields, errors):
        """Put ``company_id`` (known) or ``new_company`` (created at the commit) in ``fields``."""
        company = fields.get("company") or {}
        siret, name = company.get("siret", ""), company.get("name", "")
        if self.own_company is not None:
            if siret and siret != self.own_company.siret:
                errors.setdefault(ALL, OWN_COMPANY_ONLY.format(line=line, siret=siret))
            fields["company_id"] = self.own_company.pk
            return f"id{self.own_company.pk}"
        if "siret" in errors:
            return ""
        company_id = None
        if siret:
            company_id = self.index.by_siret.get(siret)
        elif name:
            found = self.index.by_name.get(_name_words(name))
            if found == AMBIGUOUS:
                errors.setdefault("entreprise", cell_error(
                    line, self._column("entreprise"),
                    f"plusieurs entreprises du territoire s'appellent « {name} » : indiquez le SIRET"))
                return ""
            company_id = found
            if company_id is None:
                errors.setdefault("siret", cell_error(
                    line, self._column("siret"),
                    f"entreprise inconnue « {name} » : indiquez son SIRET pour la créer"))
                return ""
        else:
            errors.setdefault("entreprise", cell_error(line, self._column("entreprise"),
                                                       "entreprise manquante (nom ou SIRET)"))
            return ""
        if company_id is not None:
            if not self._may_manage(company_id):
                errors.setdefault(ALL, (
                    f"Ligne {line} : l'entreprise « {self.index.companies[company_id][0]} » a son propre espace : "
                    "seuls ses utilisateurs et la structure qui la suit importent ses offres"))
                return ""
            fields["company_id"] = company_id
            return f"id{company_id}"
        if not name:
            errors.setdefault("entreprise", cell_error(line, self._column("entreprise"),
                                                       f"nom de l'entreprise manquant (SIRET « {siret} » inconnu)"))
            return ""
        fields["new_company"] = {"siret": siret, "name": name, "description": company.get("description", ""),
                                 "naf": company.get("naf", "")}
        return f"siret{siret}"

    def first_pass(self, line, raw):
        from spie.employers.interop import parse_offer

        fields, problems = parse_offer(raw, lookups=self.lookups, default_source=self.default_source)
        errors = {key: (problem if key == ALL else cell_error(line, self._column(key), problem))
                  for key, problem in problems.items()}
        result = RowResult(cleaned=fields, errors=errors)
        company_key = self._resolve_company(line, fields, errors)
        if fields.get("source_id"):
            result.key = f"id|{fields['source']}|{fields['source_id']}"
        elif company_key and fields.get("title"):
            result.key = opening_name_key(company_key, fields["title"], fields.get("commune_id"))
        if result.key:
            earlier = self.seen_keys.get(result.key)
            if earlier is not None and earlier != line:
                what = "même identifiant" if result.key.startswith("id|") else "même entreprise, intitulé et commune"
                errors[ALL] = f"Ligne {line} : doublon de la ligne {earlier} dans le fichier ({what})"
            else:
                self.seen_keys.setdefault(result.key, line)
        found = None
        if fields.get("source_id"):
            found = self.index.by_source.get((fields["source"], fields["source_id"]))
        elif fields.get("company_id"):
            found = self.index.by_title.get(opening_name_key(fields["company_id"], fields.get("title", ""),
                                                             fields.get("commune_id")))
            if found == AMBIGUOUS:
                errors.setdefault(ALL, f"Ligne {line} : l'entreprise a plusieurs offres de cet intitulé dans cette "
                                       "commune : ajoutez la colonne « Identifiant »")
                found = None
        if found is not None:
            pk, company_id = found
            if company_id != fields.get("company_id") and not errors:
                if self.own_company is not None or not self._may_manage(company_id):
                    errors[ALL] = (f"Ligne {line} : cet identifiant est celui d'une offre d'une autre entreprise : "
                                   "l'import ne peut pas la modifier")
                else:
                    fields["company_id"] = company_id  # the opening keeps its company
                    fields.pop("new_company", None)
            result.target_id = pk
        return result

    def validate_batch(self, rows):
        from spie.employers.interop import FIELD_LABELS, opening_diff, stored_values
        from spie.employers.models import JobOpening

        codes = []
        for _line, raw in rows:
            place = str(raw.get("lieuTravail") or "")
            match = re.search(r'"commune"\s*:\s*"([0-9AB]{5})"', place)
            codes += [str(raw.get("commune") or "").strip().upper(), match.group(1) if match else ""]
        self.lookups.preload_communes(codes)
        results = [self.first_pass(line, raw) for line, raw in rows]
        targets = {r.target_id for r in results if r.target_id and not r.errors}
        stored = {o.pk: stored_values(o) for o in JobOpening.objects.filter(pk__in=targets)} if targets else {}
        for result in results:
            if result.errors:
                result.action = RowAction.ERROR
            elif result.target_id is None:
                result.action = RowAction.CREATE
                new = result.cleaned.get("new_company")
                if new:
                    result.diff = {"company": ["", f"nouvelle entreprise : {new['name']} (SIRET {new['siret']})"]}
            else:
                result.diff = opening_diff(stored.get(result.target_id, {}), result.cleaned)
                result.action = RowAction.UPDATE if result.diff else RowAction.UNCHANGED
        self.labels = FIELD_LABELS
        return results
