"""Exchange of the catalogue in the national data·inclusion v1 *service* format.

The SPIE's actions leave and enter the platform as data·inclusion services, so the catalogue
can be published to (and fed from) the national offer of insertion services, DORA and the other
territories. The JSON Schema the product validates against is the copy kept with the
referentials (``referentials/data/data_inclusion_schema/service.json``), never a file outside
the repository.

- :func:`to_service` maps an :class:`~spie.catalogue.models.Action` to a service that
  validates against the schema. The schema does not forbid additional properties, so the
  SPIE's own fields travel in the same object under ``spie_*`` keys (kind of SPIE action, axis,
  capacity, sessions…): a national consumer ignores them, another SPIE reads them back.
- :func:`validate_services` checks a list of services against the schema (Draft 2020-12 with
  the format checker) and answers French sentences.
- :func:`catalogue_json` / :func:`catalogue_csv_rows` stream the export (JSON array; CSV with
  the same fields, lists joined with ``|``).
- :func:`parse_service` / :func:`from_service` map a service (native JSON values, or the text
  cells of a CSV row) back to the fields of an action, with a French error per field: the
  staged import of actions (``spie.imports``) validates each row with them.
"""

import json
import re
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models import Prefetch, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from spie.core.text import fold

from .models import Action, ActionSession, ActionStatus, SpieAxis, SpieKind

DATA_DIR = Path(__file__).resolve().parent.parent / "referentials" / "data"
SCHEMA_PATH = DATA_DIR / "data_inclusion_schema" / "service.json"
VOCABULARIES_PATH = DATA_DIR / "data_inclusion_v1.json"

LIST_SEPARATOR = "|"
# data·inclusion's codes for "the whole country": no restriction, an empty zone for the SPIE.
NATIONWIDE = frozenset({"france", "99100"})
CONDITION_LABELS = (
    ("access_conditions", "Conditions d'accès"),
    ("prerequisites", "Prérequis"),
    ("documents", "Justificatifs à fournir"),
)
CONTACT_KEYS = ("contact_nom_prenom", "courriel", "telephone")

# SPIE extensions (additional properties the national schema allows), in export order.
EXTENSION_KEYS = (
    "spie_resume", "spie_type_action", "spie_axe", "spie_action_referentiel", "spie_capacite",
    "spie_places_restantes", "spie_date_limite_inscription", "spie_prochaine_session", "spie_langues",
    "spie_accessibilite", "spie_sessions",
)
# The columns of the CSV export, in the order a reader expects them (identity, content, place,
# contact, mobilisation, duration), then the extensions; ``spie_sessions`` stays in the JSON only.
CSV_COLUMNS = (
    "id", "source", "structure_id", "nom", "description", "type", "thematiques", "frais", "frais_precisions",
    "publics", "publics_precisions", "conditions_acces", "modes_accueil", "adresse", "complement_adresse",
    "code_postal", "commune", "code_insee", "latitude", "longitude", "zone_eligibilite", "horaires_accueil",
    "contact_nom_prenom", "courriel", "telephone", "modes_mobilisation", "mobilisable_par",
    "mobilisation_precisions", "lien_mobilisation", "lien_source", "volume_horaire_hebdomadaire",
    "nombre_semaines", "date_maj", *[key for key in EXTENSION_KEYS if key != "spie_sessions"],
)

# French names of the service's fields (errors, import column labels, diffs).
FIELD_LABELS = {
    "id": "Identifiant", "source": "Source", "structure_id": "Identifiant de la structure", "nom": "Nom",
    "description": "Description", "type": "Type", "thematiques": "Thématiques", "frais": "Frais",
    "frais_precisions": "Précisions sur les frais", "publics": "Publics",
    "publics_precisions": "Précisions sur les publics", "conditions_acces": "Conditions d'accès",
    "modes_accueil": "Modes d'accueil", "adresse": "Adresse", "complement_adresse": "Complément d'adresse",
    "code_postal": "Code postal", "commune": "Commune", "code_insee": "Code INSEE", "latitude": "Latitude",
    "longitude": "Longitude", "zone_eligibilite": "Zone d'éligibilité", "horaires_accueil": "Horaires d'accueil",
    "contact_nom_prenom": "Contact", "courriel": "Courriel", "telephone": "Téléphone",
    "modes_mobilisation": "Modes de mobilisation", "mobilisable_par": "Mobilisable par",
    "mobilisation_precisions": "Comment mobiliser l'action", "lien_mobilisation": "Lien de mobilisation",
    "lien_source": "Lien vers la fiche", "volume_horaire_hebdomadaire": "Heures par semaine",
    "nombre_semaines": "Nombre de semaines", "date_maj": "Date de mise à jour", "spie_resume": "Résumé",
    "spie_type_action": "Type d'action SPIE", "spie_axe": "Axe du plan SPIE",
    "spie_action_referentiel": "Action du référentiel de parcours", "spie_capacite": "Places",
    "spie_places_restantes": "Places restantes", "spie_date_limite_inscription": "Date limite d'inscription",
    "spie_prochaine_session": "Prochaine session", "spie_langues": "Langues", "spie_accessibilite": "Accessibilité",
    "spie_sessions": "Sessions",
}

# Action field → the service key it comes from (import diffs and errors name the service key).
FIELD_SOURCES = {
    "source": "source", "source_id": "id", "name": "nom", "description": "description", "type": "type",
    "thematiques": "thematiques", "fees": "frais", "fees_details": "frais_precisions", "publics": "publics",
    "publics_details": "publics_precisions", "access_conditions": "conditions_acces",
    "prerequisites": "conditions_acces", "documents": "conditions_acces", "reception_modes": "modes_accueil",
    "address": "adresse", "address_complement": "complement_adresse", "postal_code": "code_postal",
    "commune_id": "code_insee", "lat": "latitude", "lon": "longitude", "eligibility_zone": "zone_eligibilite",
    "contact_name": "contact_nom_prenom", "email": "courriel", "phone": "telephone",
    "mobilisation_modes": "modes_mobilisation", "mobilisable_by": "mobilisable_par",
    "mobilisation_details": "mobilisation_precisions", "mobilisation_link": "lien_mobilisation",
    "opening_hours": "horaires_accueil", "weekly_hours": "volume_horaire_hebdomadaire", "weeks": "nombre_semaines",
    "content_updated_on": "date_maj", "summary": "spie_resume", "spie_kind": "spie_type_action",
    "spie_axis": "spie_axe", "capacity": "spie_capacite", "registration_deadline": "spie_date_limite_inscription",
    "languages": "spie_langues", "accessibility": "spie_accessibilite",
}
# French names of the action's fields, for the import preview's diffs.
ACTION_FIELD_LABELS = {
    name: Action._meta.get_field(name if name != "commune_id" else "commune").verbose_name.capitalize()
    for name in FIELD_SOURCES
}


# --- Schema and vocabularies -------------------------------------------------------------------


@lru_cache(maxsize=1)
def schema():
    """The data·inclusion v1 service JSON Schema (read once per process)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def enum(name):
    """Values of a vocabulary of the schema (``Thematique``, ``Public``, ``TypeService``…)."""
    return tuple(schema()["$defs"][name]["enum"])


@lru_cache(maxsize=1)
def _labels():
    document = json.loads(VOCABULARIES_PATH.read_text(encoding="utf-8"))
    return {
        name: {term["value"]: term.get("label") or term["value"] for term in terms}
        for name, terms in document.items()
        if isinstance(terms, list) and all(isinstance(t, dict) and "value" in t for t in terms)
    }


def label(vocabulary, value):
    """French label of a value of a data·inclusion vocabulary (the value itself when unknown)."""
    return _labels().get(vocabulary, {}).get(value, value)


# Schema vocabulary → labels vocabulary of ``data_inclusion_v1.json``.
VOCABULARIES = {
    "thematiques": ("Thematique", "thematiques"),
    "publics": ("Public", "publics"),
    "type": ("TypeService", "types_de_services"),
    "frais": ("Frais", "frais"),
    "modes_accueil": ("ModeAccueil", "modes_accueil"),
    "modes_mobilisation": ("ModeMobilisation", "modes_mobilisation"),
    "mobilisable_par": ("PersonneMobilisatrice", "mobilisable_par"),
}


@cache
def _choice_index(key):
    """``{folded value or label: value}`` for a service key with a closed vocabulary."""
    if key == "spie_type_action":
        pairs = SpieKind.choices
    elif key == "spie_axe":
        pairs = SpieAxis.choices
    else:
        schema_name, labels_name = VOCABULARIES[key]
        pairs = [(value, label(labels_name, value)) for value in enum(schema_name)]
    index = {}
    for value, text in pairs:
        index.setdefault(fold(text), value)
    for value, _text in pairs:
        index[fold(value)] = value  # the code wins over a label that folds the same
    return index


@lru_cache(maxsize=1)
def validator():
    """A validator of the schema's draft (2020-12 when it declares none) with format checks."""
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.validators import validator_for

    cls = validator_for(schema(), default=Draft202012Validator)
    cls.check_schema(schema())
    checker = FormatChecker()
    # The "uri" format is only checked when an optional package is installed: check it here.
    checker.checks("uri", raises=ValueError)(_check_uri)
    return cls(schema(), format_checker=checker)


def _check_uri(value):
    """An absolute URI: a scheme, and a host unless the scheme needs none (``mailto:``, ``tel:``)."""
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or "") or any(c.isspace() for c in value):
        raise ValueError(value)
    if parts.scheme.lower() in ("http", "https", "ftp", "ftps") and not parts.netloc:
        raise ValueError(value)
    return True


# --- Action → service --------------------------------------------------------------------------


def territory_source(territory):
    """The producer id of a territory's catalogue: ``spie-31``."""
    return f"spie-{territory.code.lower()}"


def service_id(action):
    """``spie-31--<uid>``: the producer's id, then the action's stable public id."""
    return f"{territory_source(action.territory)}--{action.uid}"


def structure_id(action):
    return f"{territory_source(action.territory)}--{action.structure.slug}"


def combine_conditions(access_conditions, prerequisites, documents):
    """The schema has one "conditions d'accès" text: the three SPIE texts, labelled when several."""
    parts = [(lbl, (text or "").strip()) for (_f, lbl), text in
             zip(CONDITION_LABELS, (access_conditions, prerequisites, documents), strict=True)]
    parts = [(lbl, text) for lbl, text in parts if text]
    if not parts:
        return None
    if len(parts) == 1 and parts[0][0] == CONDITION_LABELS[0][1]:
        return parts[0][1]
    return "\n\n".join(f"{lbl} : {text}" for lbl, text in parts)


_CONDITION_HEADING = re.compile(
    r"^(Conditions d[’']accès|Prérequis|Justificatifs à fournir)\s*:\s*", re.IGNORECASE | re.MULTILINE
)


def split_conditions(text):
    """Inverse of :func:`combine_conditions`: ``{access_conditions, prerequisites, documents}``.

    A text without the headings is the access conditions as a whole.
    """
    text = (text or "").strip()
    result = {"access_conditions": "", "prerequisites": "", "documents": ""}
    matches = list(_CONDITION_HEADING.finditer(text))
    if not matches or matches[0].start() != 0:
        result["access_conditions"] = text
        return result
    by_heading = {fold(lbl): name for name, lbl in CONDITION_LABELS}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        name = by_heading[fold(match.group(1).replace("’", "'"))]
        result[name] = (result[name] + "\n\n" + text[match.end():end].strip()).strip()
    return result


def _text(value):
    value = (value or "").strip() if isinstance(value, str) else value
    return value or None


def _list(values):
    """A list without duplicates (order kept), None when empty (the schema's lists have minItems 1)."""
    seen = []
    for value in values or ():
        if value and value not in seen:
            seen.append(value)
    return seen or None


def _postal_code(value):
    value = (value or "").strip()
    return value if re.fullmatch(r"\d{5}", value) else None


def _detail_url(action, base_url):
    if not base_url:
        return None
    try:
        return base_url.rstrip("/") + reverse("catalogue:action_detail", args=[action.uid])
    except NoReverseMatch:  # the public sheet is another part's page
        return None


def _sessions(action, today):
    """Upcoming, not cancelled sessions (prefetched as ``export_sessions`` by :func:`catalogue_queryset`)."""
    sessions = getattr(action, "export_sessions", None)
    if sessions is None:
        sessions = action.sessions.filter(is_cancelled=False, starts_on__gte=today)
    return [s for s in sessions if not s.is_cancelled and s.starts_on >= today]


def to_service(action, *, with_contacts=True, base_url="", extensions=True, today=None):
    """The data·inclusion v1 service of ``action`` (valid against the schema).

    Empty optional fields are None; the contact fields are None when ``with_contacts`` is
    false (anonymous exports). ``base_url`` (``https://spie.example``) gives ``lien_source``.
    """
    today = today or timezone.localdate()
    commune = action.commune if action.commune_id else None
    weekly = action.weekly_hours
    service = {
        "id": service_id(action),
        "source": territory_source(action.territory),
        "structure_id": structure_id(action),
        "nom": action.name,
        "description": action.description,
        "date_maj": action.content_updated_on.isoformat(),
        "type": _text(action.type),
        "thematiques": _list(action.thematiques),
        "frais": _text(action.fees),
        "frais_precisions": _text(action.fees_details),
        "publics": _list(action.publics),
        "publics_precisions": _text(action.publics_details),
        "conditions_acces": combine_conditions(action.access_conditions, action.prerequisites, action.documents),
        "modes_accueil": _list(action.reception_modes),
        "adresse": _text(action.address),
        "complement_adresse": _text(action.address_complement),
        "code_postal": _postal_code(action.postal_code) or _postal_code(commune.main_postal_code if commune else ""),
        "commune": commune.name if commune else None,
        "code_insee": commune.code_insee if commune else None,
        "latitude": action.lat,
        "longitude": action.lon,
        "zone_eligibilite": _list(action.eligibility_zone),
        "horaires_accueil": _text(action.opening_hours),
        "contact_nom_prenom": _text(action.contact_name),
        "courriel": _text(action.email),
        "telephone": _text(action.phone),
        "modes_mobilisation": _list(action.mobilisation_modes),
        "mobilisable_par": _list(action.mobilisable_by),
        "mobilisation_precisions": _text(action.mobilisation_details),
        "lien_mobilisation": _text(action.mobilisation_link),
        "lien_source": _detail_url(action, base_url),
        "volume_horaire_hebdomadaire": float(weekly) if weekly is not None else None,
        "nombre_semaines": action.weeks or None,
    }
    if not with_contacts:
        service.update(dict.fromkeys(CONTACT_KEYS))
    if extensions:
        sessions = _sessions(action, today)
        service.update({
            "spie_resume": _text(action.summary),
            "spie_type_action": _text(action.spie_kind),
            "spie_axe": _text(action.spie_axis),
            "spie_action_referentiel": action.plan_item.label if action.plan_item_id else None,
            "spie_capacite": action.capacity,
            "spie_places_restantes": action.places_left_total,
            "spie_date_limite_inscription": (
                action.registration_deadline.isoformat() if action.registration_deadline else None),
            "spie_prochaine_session": action.next_session_on.isoformat() if action.next_session_on else None,
            "spie_langues": _list(action.languages),
            "spie_accessibilite": _text(action.accessibility),
            "spie_sessions": [
                {
                    "intitule": s.label or None,
                    "debut": s.starts_on.isoformat(),
                    "fin": s.ends_on.isoformat() if s.ends_on else None,
                    "heure": s.start_time.strftime("%H:%M") if s.start_time else None,
                    "lieu": s.place or None,
                    "places": s.capacity,
                    "places_restantes": s.places_left,
                    "date_limite_inscription": s.registration_deadline.isoformat() if s.registration_deadline
                    else None,
                }
                for s in sessions
            ] or None,
        })
    return service


def visible_filter(today=None):
    """Published actions, and suspended ones whose suspension date is past (as ``Action.is_visible``)."""
    today = today or timezone.localdate()
    return Q(status=ActionStatus.PUBLISHED) | Q(status=ActionStatus.SUSPENDED, suspended_until__lt=today)


def catalogue_queryset(territory, today=None):
    """The territory's visible actions with what :func:`to_service` reads, in a fixed number of queries."""
    today = today or timezone.localdate()
    sessions = ActionSession.objects.filter(is_cancelled=False, starts_on__gte=today).order_by("starts_on", "id")
    return (
        Action.objects.filter(visible_filter(today), territory=territory)
        .select_related("territory", "structure", "commune", "plan_item")
        .prefetch_related(Prefetch("sessions", queryset=sessions, to_attr="export_sessions"))
        .order_by("name", "id")
    )


def _chunks(queryset, size=500):
    """Iterate a queryset by chunks (prefetches done per chunk): memory stays flat whatever the size."""
    if not hasattr(queryset, "model"):
        yield from queryset
        return
    yield from queryset.iterator(chunk_size=size)


def catalogue_json(actions, with_contacts, *, base_url="", today=None):
    """The export as a streamed JSON array of services (text chunks)."""
    yield "["
    first = True
    for action in _chunks(actions):
        service = to_service(action, with_contacts=with_contacts, base_url=base_url, today=today)
        yield ("\n" if first else ",\n") + json.dumps(service, ensure_ascii=False)
        first = False
    yield "\n]\n"


def csv_cell(value):
    """A service value as CSV text: lists joined with ``|``, None empty, numbers as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(
            json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else str(v) for v in value)
    return str(value)


def service_row(service):
    return [csv_cell(service.get(key)) for key in CSV_COLUMNS]


def catalogue_csv_rows(actions, with_contacts, *, base_url="", today=None):
    """The CSV export's data rows (same fields as the JSON; header: :data:`CSV_COLUMNS`)."""
    for action in _chunks(actions):
        yield service_row(to_service(action, with_contacts=with_contacts, base_url=base_url, today=today))


def json_types(key):
    """The non-null JSON types a service key takes (from the schema; extensions declared here)."""
    extension_types = {"spie_langues": {"array"}, "spie_capacite": {"integer"}, "spie_places_restantes": {"integer"},
                       "spie_sessions": {"array"}}
    if key in extension_types:
        return extension_types[key]
    spec = schema()["properties"].get(key, {})
    options = spec.get("anyOf", [spec])
    return {option.get("type") for option in options if option.get("type") not in (None, "null")}


def service_from_csv(row):
    """A service with native JSON values from a row of the CSV export (``{column: text}``):
    empty cells are null, lists split on ``|``, numbers parsed, spreadsheet quoting removed."""
    service = {}
    for key, text in row.items():
        text = _unquote(text or "")
        types = json_types(key)
        if text == "":
            service[key] = None
        elif "array" in types:
            service[key] = [json.loads(part) if part.startswith("{") else part for part in text.split(LIST_SEPARATOR)]
        elif "integer" in types:
            service[key] = int(text)
        elif "number" in types:
            service[key] = float(text)
        else:
            service[key] = text
    return service


# The name the brief of the interop part gives to the CSV writer.
catalogue_csv = catalogue_csv_rows


# --- Validation --------------------------------------------------------------------------------

TYPE_NAMES = {"string": "un texte", "number": "un nombre", "integer": "un nombre entier", "array": "une liste",
              "object": "un objet", "null": "vide (null)", "boolean": "oui ou non"}
FORMAT_PROBLEMS = {"email": "adresse électronique invalide", "date": "date invalide (attendu AAAA-MM-JJ)",
                   "uri": "adresse web invalide"}


def _shown(value):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def _problem(error):
    """A French sentence for one jsonschema error (nullable fields: the non-null branch's error)."""
    from jsonschema.exceptions import best_match

    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind in ("anyOf", "oneOf"):
        if error.absolute_path and error.absolute_path[0] == "zone_eligibilite" and isinstance(instance, str):
            return (f"code « {_shown(instance)} » invalide (code de commune, de département, SIREN d'EPCI "
                    "ou « france »)")
        relevant = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
        if relevant:
            return _problem(best_match(relevant))
        return f"valeur invalide « {_shown(instance)} »"
    if kind == "required":
        missing = [name for name in value if isinstance(instance, dict) and name not in instance]
        return f"champ obligatoire « {missing[0] if missing else value[0]} » manquant"
    if kind == "type":
        expected = value if isinstance(value, list) else [value]
        return f"valeur « {_shown(instance)} » : attendu {' ou '.join(TYPE_NAMES.get(t, t) for t in expected)}"
    if kind == "enum":
        return f"valeur inconnue « {_shown(instance)} »"
    if kind == "const":
        return f"valeur « {_shown(instance)} » : attendu « {value} »"
    if kind == "format":
        return f"{FORMAT_PROBLEMS.get(value, 'format invalide')} « {_shown(instance)} »"
    if kind == "minLength":
        return f"texte trop court ({len(instance)} caractère{'s' if len(instance) > 1 else ''}, {value} au moins)"
    if kind == "maxLength":
        return f"texte trop long ({len(instance)} caractères, {value} au plus)"
    if kind == "pattern":
        return f"format invalide « {_shown(instance)} »"
    if kind == "minItems":
        return "liste vide : mettez au moins une valeur, ou null"
    if kind == "uniqueItems":
        return "la liste contient des valeurs en double"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"valeur trop petite ({_shown(instance)}, minimum {value})"
    if kind in ("maximum", "exclusiveMaximum"):
        return f"valeur trop grande ({_shown(instance)}, maximum {value})"
    return f"valeur invalide « {_shown(instance)} »"


def service_errors(service):
    """``[(field, French problem)]`` of one service against the schema (field "" for the whole)."""
    found = []
    for error in sorted(validator().iter_errors(service), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        field = str(path[0]) if path else ""
        if field == "" and error.validator == "required":
            missing = [name for name in error.validator_value if name not in service]
            field = missing[0] if missing else ""
        found.append((field, _problem(error)))
    return found


def validate_services(services):
    """French errors of a list of services against the schema; empty when all are valid."""
    messages = []
    if not isinstance(services, list):
        return ["Le document doit être une liste de services (tableau JSON)."]
    for index, service in enumerate(services, start=1):
        if not isinstance(service, dict):
            messages.append(f"Service n° {index} : un objet JSON est attendu.")
            continue
        who = service.get("id") or service.get("nom") or ""
        prefix = f"Service n° {index}" + (f" (« {_shown(who)} »)" if who else "")
        for field, problem in service_errors(service):
            where = f"champ « {field} » : " if field else ""
            messages.append(f"{prefix} : {where}{problem}.")
    return messages


# --- Service → action --------------------------------------------------------------------------


class Lookups:
    """Communes and zone codes, loaded once per file (so validating 5,000 rows makes few queries)."""

    def __init__(self):
        self._communes = {}
        self._by_name = {}
        self._zone_codes = None

    def preload(self, codes):
        from spie.referentials.models import Commune

        wanted = {c for c in codes if c and c not in self._communes}
        if wanted:
            found = {c.code_insee: c for c in Commune.objects.defer("shape").filter(code_insee__in=wanted)}
            for code in wanted:
                self._communes[code] = found.get(code)

    def commune(self, code):
        if code not in self._communes:
            self.preload([code])
        return self._communes[code]

    def commune_by_name(self, name, postal_code=""):
        """``(commune, None)`` or ``(None, French problem)`` (each name resolved once per file)."""
        text = f"{name} ({postal_code})" if postal_code else name
        if text not in self._by_name:
            self._by_name[text] = self._resolve(name, text)
        return self._by_name[text]

    def _resolve(self, name, text):
        from spie.referentials.selectors import AmbiguousCommune, CommuneNotFound, resolve_commune

        try:
            commune = resolve_commune(text)
        except CommuneNotFound:
            return None, f"commune inconnue « {_shown(name)} » (indiquez le code INSEE)"
        except AmbiguousCommune as exc:
            return None, (f"plusieurs communes s'appellent « {_shown(name)} » ({', '.join(exc.labels)}) : "
                          "indiquez le code INSEE ou le code postal")
        self._communes[commune.code_insee] = commune
        return commune, None

    def zone_codes(self):
        """``(départements, EPCI SIRENs)`` known to the referentials."""
        if self._zone_codes is None:
            from spie.referentials.models import Commune, Departement

            departements = set(Departement.objects.values_list("code", flat=True))
            departements |= set(Commune.objects.values_list("departement", flat=True).distinct())
            epcis = set(Commune.objects.exclude(epci_siren="").values_list("epci_siren", flat=True).distinct())
            self._zone_codes = (departements, epcis)
        return self._zone_codes


class _Errors(dict):
    def add(self, key, problem):
        self.setdefault(key, problem)


def _is_empty(value):
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, list | tuple) and not value)


def _split(value):
    """A list from a JSON list or a CSV cell (``a|b``; ``;`` or ``,`` when no ``|``)."""
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if not _is_empty(v)]
    text = str(value)
    for separator in (LIST_SEPARATOR, ";", ","):
        if separator in text:
            return [part.strip() for part in text.split(separator) if part.strip()]
    return [text.strip()] if text.strip() else []


def _unquote(value):
    """A CSV cell our export neutralised for spreadsheets (``'=…``) back to its text."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def _parse_date(text):
    text = str(text).strip()
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    return date.fromisoformat(text[:10])


def _number(value):
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    return Decimal(str(value).strip().replace(",", ".").replace(" ", ""))


TEXT_LIMITS = {
    "nom": ("name", 150), "description": ("description", 10000), "frais_precisions": ("fees_details", 300),
    "publics_precisions": ("publics_details", 500), "adresse": ("address", 250),
    "complement_adresse": ("address_complement", 250), "contact_nom_prenom": ("contact_name", 150),
    "telephone": ("phone", 20), "horaires_accueil": ("opening_hours", 250),
    "mobilisation_precisions": ("mobilisation_details", 5000), "spie_resume": ("summary", 280),
    "spie_accessibilite": ("accessibility", 500), "source": ("source", 100), "id": ("source_id", 200),
}
SINGLE_CHOICES = {"type": "type", "frais": "fees", "spie_type_action": "spie_kind", "spie_axe": "spie_axis"}
LIST_CHOICES = {
    "thematiques": "thematiques", "publics": "publics", "modes_accueil": "reception_modes",
    "modes_mobilisation": "mobilisation_modes", "mobilisable_par": "mobilisable_by",
}
CHOICE_HELP = {
    "type": "accompagnement, atelier, formation, information, aide-financiere, aide-materielle",
    "frais": "gratuit ou payant", "modes_accueil": "en-presentiel, a-distance",
    "mobilisable_par": "usagers, professionnels",
    "modes_mobilisation": "envoyer-un-courriel, se-presenter, telephoner, utiliser-lien-mobilisation",
    "spie_type_action": ", ".join(SpieKind.values), "spie_axe": ", ".join(SpieAxis.values),
    "thematiques": "codes data·inclusion « categorie--sous-thematique »", "publics": "codes data·inclusion",
}


def _choice(key, text):
    return _choice_index(key).get(fold(str(text)))


def parse_service(service, *, lookups=None):
    """``(fields, errors)``: the action fields ``service`` gives, as JSON values, and
    ``{service key: French problem}``.

    ``service`` holds native JSON values or CSV text (lists joined with ``|``). Empty values are
    left out of ``fields`` (an import never erases a stored value with an empty cell). Codes are
    accepted as well as their French labels ("En présentiel", "Atelier"). The commune comes from
    ``code_insee``, else from ``commune`` (+ ``code_postal``). "france" as eligibility zone means
    no restriction (an empty zone).
    """
    lookups = lookups or Lookups()
    values = {key: _unquote(value) for key, value in service.items() if not _is_empty(value)}
    fields, errors = {}, _Errors()

    for key, (name, limit) in TEXT_LIMITS.items():
        if key not in values:
            continue
        text = str(values[key]).strip()
        if len(text) > limit:
            errors.add(key, f"texte trop long ({len(text)} caractères, {limit} au plus)")
        else:
            fields[name] = text
    for key in ("nom", "description"):
        if key not in values:
            errors.add(key, "valeur obligatoire manquante")
    if "name" in fields and len(fields["name"]) < 3:
        errors.add("nom", "nom trop court (3 caractères au moins)")
    if "description" in fields and len(fields["description"]) < 5:
        errors.add("description", "description trop courte (5 caractères au moins)")

    for key, name in SINGLE_CHOICES.items():
        if key in values:
            value = _choice(key, values[key])
            if value is None:
                errors.add(key, f"valeur inconnue « {_shown(values[key])} » (attendu : {CHOICE_HELP[key]})")
            else:
                fields[name] = value
    for key, name in LIST_CHOICES.items():
        if key not in values:
            continue
        chosen, unknown = [], []
        for item in _split(values[key]):
            value = _choice(key, item)
            if value is None:
                unknown.append(item)
            elif value not in chosen:
                chosen.append(value)
        if unknown:
            errors.add(key, f"valeur{'s' if len(unknown) > 1 else ''} inconnue{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(f'« {_shown(u)} »' for u in unknown)} (attendu : {CHOICE_HELP[key]})")
        elif key == "publics" and "tous-publics" in chosen and len(chosen) > 1:
            errors.add(key, "« tous-publics » ne se combine pas avec d'autres publics")
        elif chosen:
            fields[name] = chosen

    if "conditions_acces" in values:
        fields.update({k: v for k, v in split_conditions(str(values["conditions_acces"])).items() if v})

    if "courriel" in values:
        email = str(values["courriel"]).strip().lower()
        try:
            validate_email(email)
            fields["email"] = email
        except ValidationError:
            errors.add("courriel", f"adresse électronique invalide « {_shown(values['courriel'])} »")
    if "lien_mobilisation" in values:
        link = str(values["lien_mobilisation"]).strip()
        try:
            URLValidator(schemes=["http", "https"])(link)
            if len(link) > 500:
                raise ValidationError("trop long")
            fields["mobilisation_link"] = link
        except ValidationError:
            errors.add("lien_mobilisation", f"adresse web invalide « {_shown(link)} » (attendu https://…)")

    _parse_place(values, fields, errors, lookups)
    _parse_zone(values, fields, errors, lookups)
    _parse_numbers(values, fields, errors)

    for key, name in (("date_maj", "content_updated_on"), ("spie_date_limite_inscription", "registration_deadline")):
        if key in values:
            try:
                fields[name] = _parse_date(values[key]).isoformat()
            except (ValueError, TypeError):
                errors.add(key, f"date illisible « {_shown(values[key])} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)")
    if "spie_langues" in values:
        languages = [item for item in _split(values["spie_langues"]) if item]
        if any(len(item) > 50 for item in languages):
            errors.add("spie_langues", "une langue dépasse 50 caractères")
        else:
            fields["languages"] = languages
    return fields, dict(errors)


def _parse_place(values, fields, errors, lookups):
    postal_code = ""
    if "code_postal" in values:
        postal_code = str(values["code_postal"]).strip().replace(" ", "")
        if postal_code.isdigit() and len(postal_code) == 4:
            postal_code = "0" + postal_code
        if re.fullmatch(r"\d{5}", postal_code):
            fields["postal_code"] = postal_code
        else:
            errors.add("code_postal", f"code postal invalide « {_shown(values['code_postal'])} » (5 chiffres)")
            postal_code = ""
    if "code_insee" in values:
        code = str(values["code_insee"]).strip().upper()
        if code.isdigit() and len(code) == 4:
            code = "0" + code
        commune = lookups.commune(code) if re.fullmatch(r"[0-9][0-9AB][0-9]{3}", code) else None
        if commune is None:
            errors.add("code_insee", f"commune inconnue : code INSEE « {_shown(values['code_insee'])} »")
        else:
            fields["commune_id"] = commune.code_insee
    elif "commune" in values:
        commune, problem = lookups.commune_by_name(str(values["commune"]).strip(), postal_code)
        if problem:
            errors.add("commune", problem)
        else:
            fields["commune_id"] = commune.code_insee


def check_zone(codes, lookups=None):
    """``(zone, None)`` or ``(None, French problem)`` for eligibility codes: communes' INSEE codes,
    départements, EPCI SIRENs known to the referentials; "france" (or ``99100``) is the whole
    country, i.e. no restriction (an empty zone)."""
    lookups = lookups or Lookups()
    codes = [str(code).strip() for code in codes if str(code).strip()]
    codes = [code.upper() if code.lower() != "france" else "france" for code in codes]
    if any(code in NATIONWIDE for code in codes):
        return [], None
    departements, epcis = lookups.zone_codes()
    lookups.preload([c for c in codes if len(c) == 5])
    kept, bad = [], []
    for code in codes:
        known = (
            (len(code) == 5 and lookups.commune(code) is not None)
            or (len(code) in (2, 3) and code in departements)
            or (len(code) == 9 and code in epcis)
        )
        if not known:
            bad.append(code)
        elif code not in kept:
            kept.append(code)
    if bad:
        return None, (
            f"code{'s' if len(bad) > 1 else ''} inconnu{'s' if len(bad) > 1 else ''} "
            f"{', '.join(f'« {_shown(b)} »' for b in bad)} (attendu : code INSEE de commune, code de département "
            "ou SIREN d'EPCI)")
    return kept, None


def _parse_zone(values, fields, errors, lookups):
    if "zone_eligibilite" not in values:
        return
    zone, problem = check_zone(_split(values["zone_eligibilite"]), lookups)
    if problem:
        errors.add("zone_eligibilite", problem)
    else:
        fields["eligibility_zone"] = zone


def _parse_numbers(values, fields, errors):
    for key, name, low, high in (("latitude", "lat", -90, 90), ("longitude", "lon", -180, 180)):
        if key in values:
            try:
                number = float(_number(values[key]))
                if not low <= number <= high:
                    raise ValueError(number)
                fields[name] = number
            except (InvalidOperation, ValueError, TypeError):
                errors.add(key, f"coordonnée invalide « {_shown(values[key])} » (nombre entre {low} et {high})")
    if "volume_horaire_hebdomadaire" in values:
        try:
            hours = _number(values["volume_horaire_hebdomadaire"]).quantize(Decimal("0.1"))
            if not Decimal(0) <= hours <= Decimal("168"):
                raise ValueError(hours)
            fields["weekly_hours"] = str(hours)
        except (InvalidOperation, ValueError, TypeError):
            errors.add("volume_horaire_hebdomadaire", (
                f"nombre d'heures invalide « {_shown(values['volume_horaire_hebdomadaire'])} » (entre 0 et 168)"))
    for key, name, low in (("nombre_semaines", "weeks", 1), ("spie_capacite", "capacity", 0)):
        if key in values:
            try:
                number = _number(values[key])
                if number != number.to_integral_value() or not low <= number <= 32767:
                    raise ValueError(number)
                fields[name] = int(number)
            except (InvalidOperation, ValueError, TypeError):
                errors.add(key, f"nombre entier attendu (au moins {low}) et non « {_shown(values[key])} »")


def model_values(fields):
    """Action field values from :func:`parse_service`'s JSON values (dates, decimals)."""
    result = dict(fields)
    for name in ("content_updated_on", "registration_deadline"):
        if result.get(name):
            result[name] = date.fromisoformat(result[name])
    if result.get("weekly_hours") is not None:
        result["weekly_hours"] = Decimal(result["weekly_hours"])
    return result


def from_service(service, *, lookups=None):
    """The action fields of a data·inclusion service, ready for the model (``commune_id``,
    dates, decimals); raises a :class:`ValidationError` with a French message per service key."""
    fields, errors = parse_service(service, lookups=lookups)
    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})
    return model_values(fields)


def own_uid(source_id, territory):
    """The action uid in ``spie-31--<uid>`` when the id is one of this territory's exports."""
    prefix = f"{territory_source(territory)}--"
    if not source_id or not source_id.startswith(prefix):
        return None
    try:
        return uuid.UUID(source_id[len(prefix):])
    except ValueError:
        return None
