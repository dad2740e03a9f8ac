"""France Travail "Offres d'emploi v2" offers and CSV files of offers → :class:`JobOpening` fields.

The staged import (``spie.imports``, kind ``openings``) reads a file into rows of text cells,
one per column, then calls :func:`parse_offer` on each row. Two layouts map themselves:

- the JSON of the public API "Offres d'emploi v2" (a top-level ``{"resultats": [...]}`` or a
  plain list of offers): the columns are the offer's keys (``id``, ``intitule``, ``romeCode``,
  ``lieuTravail``, ``entreprise``, ``typeContrat``…); nested objects arrive as JSON text and
  lists of objects (``langues``, ``permis``, ``formations``) as JSON texts joined with ``|``;
- a CSV or XLSX with the French headers of :data:`CSV_HEADER` (one offer per line, lists
  separated by ``|``, booleans "oui"/"non", dates JJ/MM/AAAA or AAAA-MM-JJ).

The company is found by SIRET (Luhn-checked) in the territory, else by name; an unknown SIRET
creates the company at the commit. A row without ROME code, with an unknown ROME code, or
whose commune is not found in the territory, is a row error in French: nothing of that row is
written, the others go on.

Codes used: ``typeContrat`` CDI, CDD, MIS (intérim), SAI (saisonnier), ``alternance`` true or a
``natureContrat`` of apprenticeship or professionalisation → alternance, an insertion contract
(IAE, PEC, CUI) → insertion; ``experienceExige`` D (débutant accepté), S (souhaitée), E
(exigée: ``experienceLibelle`` "2 ans", "6 mois" gives the months); ``langues``/``permis``
``exigence`` E (exigé) or S (souhaité): only the required ones are kept.
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from spie.core.text import fold, fold_words

from .models import ContractType, Schedule

FRANCE_TRAVAIL = "france_travail"
LIST_SEPARATOR = "|"


@dataclass(frozen=True)
class Column:
    """One column of an offers file: ``name`` is the France Travail key (a JSON file maps
    itself), ``label`` the French header of :data:`CSV_HEADER`, ``aliases`` other headers."""

    name: str
    label: str
    required: bool = False
    max_length: int = 300
    aliases: tuple = ()
    help: str = ""


COLUMNS = (
    Column("id", "Identifiant", max_length=60,
           aliases=("identifiant", "identifiant de l'offre", "numero d'offre", "n offre", "reference", "ref"),
           help="identifiant stable de l'offre à la source : un nouvel import met l'offre à jour"),
    Column("source", "Source", max_length=30, aliases=("source", "origine"),
           help="france_travail pour un identifiant France Travail (par défaut pour un fichier JSON)"),
    Column("intitule", "Intitulé", required=True, max_length=200,
           aliases=("intitule", "intitule du poste", "intitule de l'offre", "titre", "poste", "libelle")),
    Column("description", "Description", max_length=20000,
           aliases=("description", "descriptif", "description du poste", "missions")),
    Column("romeCode", "Code ROME", required=True, max_length=10,
           aliases=("code rome", "rome", "code metier", "metier rome"), help="par exemple G1602"),
    Column("appellationlibelle", "Appellation", max_length=250,
           aliases=("appellation", "appellation rome", "metier", "code appellation"),
           help="libellé de l'appellation ROME, ou son code OGR"),
    Column("entreprise", "Entreprise", max_length=2000,
           aliases=("entreprise", "raison sociale", "employeur", "nom de l'entreprise", "enseigne"),
           help="nom de l'entreprise (ou l'objet « entreprise » de France Travail)"),
    Column("siret", "SIRET", max_length=20, aliases=("siret", "n siret", "numero siret", "siret de l'entreprise"),
           help="14 chiffres ; une entreprise inconnue de ce SIRET est créée"),
    Column("entrepriseDescription", "Présentation de l'entreprise", max_length=5000,
           aliases=("presentation de l'entreprise", "description de l'entreprise")),
    Column("codeNAF", "Code NAF", max_length=10, aliases=("code naf", "naf", "code ape", "ape"),
           help="par exemple 56.10A"),
    Column("lieuTravail", "Lieu de travail", max_length=1000, aliases=("lieu de travail", "lieu"),
           help="objet « lieuTravail » de France Travail, ou nom de la commune"),
    Column("commune", "Commune", max_length=100,
           aliases=("commune", "code insee", "code commune", "ville", "localite", "insee"),
           help="code INSEE, ou nom (avec le code postal si plusieurs communes portent ce nom)"),
    Column("codePostal", "Code postal", max_length=5, aliases=("code postal", "cp")),
    Column("typeContrat", "Type de contrat", required=True, max_length=30,
           aliases=("type de contrat", "contrat", "type contrat"),
           help="CDI, CDD, MIS (intérim), SAI (saisonnier), alternance, insertion"),
    Column("typeContratLibelle", "Libellé du contrat", max_length=200,
           aliases=("libelle du contrat", "libelle contrat"), help="« Contrat à durée déterminée - 6 Mois »"),
    Column("natureContrat", "Nature du contrat", max_length=100, aliases=("nature du contrat", "nature contrat")),
    Column("alternance", "Alternance", max_length=10, aliases=("alternance",), help="oui ou non"),
    Column("dureeContratMois", "Durée du contrat (mois)", max_length=10,
           aliases=("duree du contrat", "duree en mois", "duree du contrat en mois")),
    Column("dureeTravailLibelle", "Horaires", max_length=200,
           aliases=("horaires", "duree du travail", "duree hebdomadaire"),
           help="« 35H Horaires normaux », « 24H Travail de nuit », ou journée | nuit | week-end | tôt | tard"),
    Column("dureeTravailLibelleConverti", "Temps de travail", max_length=50,
           aliases=("temps de travail", "temps plein ou partiel"), help="Temps plein ou Temps partiel"),
    Column("heuresHebdo", "Heures par semaine", max_length=10,
           aliases=("heures par semaine", "heures hebdomadaires", "volume horaire")),
    Column("experienceExige", "Expérience (D, S ou E)", max_length=5,
           aliases=("experience exige", "code experience"),
           help="D : débutant accepté, S : souhaitée, E : exigée"),
    Column("experienceLibelle", "Expérience", max_length=200,
           aliases=("experience", "experience demandee", "experience exigee"),
           help="« 2 ans », « 6 mois », « Débutant accepté »"),
    Column("formations", "Formations", max_length=2000, aliases=("formations", "formation exigee"),
           help="liste « formations » de France Travail, ou texte"),
    Column("qualificationLibelle", "Qualification", max_length=200,
           aliases=("qualification", "diplome", "niveau de qualification")),
    Column("langues", "Langues", max_length=1000, aliases=("langues", "langue", "langues exigees"),
           help="séparées par « | »"),
    Column("permis", "Permis", max_length=1000, aliases=("permis", "permis exige", "permis b"),
           help="« B », « oui » (permis B exigé) ou liste « permis » de France Travail"),
    Column("nombrePostes", "Postes", max_length=10,
           aliases=("postes", "nombre de postes", "postes a pourvoir", "nombre postes")),
    Column("accessibleTH", "Poste aménageable", max_length=10,
           aliases=("poste amenageable", "accessible th", "accessible aux travailleurs handicapes"),
           help="oui ou non"),
    Column("teletravail", "Télétravail complet", max_length=10, aliases=("teletravail complet", "teletravail"),
           help="oui ou non (sans commune)"),
    Column("formationProposee", "Formation proposée", max_length=10, aliases=("formation proposee",),
           help="oui ou non"),
    Column("dateCreation", "Date de publication", max_length=40,
           aliases=("date de publication", "date de creation", "publiee le", "date"),
           help="JJ/MM/AAAA ou AAAA-MM-JJ (aujourd'hui si vide)"),
)
COLUMN_LABELS = {c.name: c.label for c in COLUMNS}

# The documented header of a CSV of offers (the sample ``samples/offres_exemple.csv`` uses it).
CSV_HEADER = [
    "Identifiant", "Intitulé", "Description", "Code ROME", "Appellation", "Entreprise", "SIRET",
    "Présentation de l'entreprise", "Code NAF", "Commune", "Code postal", "Type de contrat",
    "Durée du contrat (mois)", "Heures par semaine", "Horaires", "Expérience", "Qualification", "Langues",
    "Permis", "Postes", "Poste aménageable", "Télétravail complet", "Formation proposée", "Date de publication",
]

# Preview labels of the cleaned fields (the diff of an update).
FIELD_LABELS = {
    "title": "Intitulé", "description": "Description", "rome_id": "Code ROME", "appellation_id": "Appellation",
    "contract_type": "Type de contrat", "duration_months": "Durée (mois)", "weekly_hours": "Heures par semaine",
    "schedule": "Horaires", "commune_id": "Commune", "remote": "Télétravail complet", "positions": "Postes",
    "requires_licence": "Permis B exigé", "qualification": "Qualification",
    "min_experience_months": "Expérience exigée (mois)", "languages": "Langues",
    "adapted_position": "Poste aménageable", "offers_training": "Formation proposée", "opened_on": "Publiée le",
    "company": "Entreprise",
}
# Fields an update writes (the company of an opening never changes through an import).
OPENING_FIELDS = (
    "title", "description", "rome_id", "appellation_id", "contract_type", "duration_months", "weekly_hours",
    "schedule", "commune_id", "remote", "positions", "requires_licence", "qualification", "min_experience_months",
    "languages", "adapted_position", "offers_training", "opened_on",
)

CONTRACT_CODES = {
    "cdi": ContractType.CDI, "cdd": ContractType.CDD, "mis": ContractType.INTERIM, "interim": ContractType.INTERIM,
    "tt": ContractType.INTERIM, "travailtemporaire": ContractType.INTERIM, "sai": ContractType.SEASONAL,
    "saisonnier": ContractType.SEASONAL, "alternance": ContractType.APPRENTICESHIP,
    "apprentissage": ContractType.APPRENTICESHIP, "professionnalisation": ContractType.APPRENTICESHIP,
    "insertion": ContractType.INSERTION, "iae": ContractType.INSERTION, "pec": ContractType.INSERTION,
    "cui": ContractType.INSERTION, "contratdinsertion": ContractType.INSERTION,
    "contratadureeindeterminee": ContractType.CDI, "contratadureedeterminee": ContractType.CDD,
}
SCHEDULE_WORDS = {
    "journee": Schedule.DAY, "jour": Schedule.DAY, "day": Schedule.DAY, "nuit": Schedule.NIGHT,
    "night": Schedule.NIGHT, "weekend": Schedule.WEEKEND, "tot": Schedule.EARLY, "early": Schedule.EARLY,
    "totlematin": Schedule.EARLY, "tard": Schedule.LATE, "late": Schedule.LATE, "tardlesoir": Schedule.LATE,
}
TRUE_WORDS = {"oui", "o", "1", "vrai", "x", "true", "yes", "y"}
FALSE_WORDS = {"non", "n", "0", "faux", "false", "no", ""}
PART_TIME_HOURS = Decimal("24")


def luhn_ok(digits):
    from spie.network.validators import validate_siret

    try:
        validate_siret(digits)
    except Exception:  # noqa: BLE001 - a ValidationError: the key is wrong
        return False
    return True


def _object(text):
    """A JSON object from a cell (``{...}``), else None."""
    text = (text or "").strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return None


def _items(text):
    """A list cell: JSON objects joined with ``|`` (the reader's form of a list of objects), a
    JSON array, or plain values separated by ``|``."""
    text = (text or "").strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list):
            return value
    if text.startswith("{"):
        items = []
        for part in re.split(r"(?<=\})\s*\|\s*(?=\{)", text):
            value = _object(part)
            items.append(value if value is not None else part)
        return items
    return [p.strip() for p in text.split(LIST_SEPARATOR) if p.strip()]


def _bool(text):
    word = fold(text or "")
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS or not word:
        return False
    raise ValueError(text)


def _date(text):
    from spie.imports.readers import parse_date

    text = (text or "").strip()
    if not text:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}T", text):  # France Travail: 2024-03-05T10:12:00.000Z
        text = text[:10]
    return parse_date(text)


def _int(text):
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    value = float(text)
    if value != int(value) or value < 0:
        raise ValueError(text)
    return int(value)


def _words(text):
    """Lower-case ASCII words, digits kept ("Expérience : 2 ans" → "experience 2 ans")."""
    ascii_only = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(re.split(r"[^a-z0-9.,]+", ascii_only)).strip()


def experience_months(text):
    """Months from "2 ans", "6 mois", "1 an - en cuisine", "18 mois", "2" (years); None if none."""
    words = _words(text)
    match = re.search(r"(\d+(?:[.,]\d+)?)\s*(an|ans|annee|annees|mois)?", words)
    if not match:
        return None
    number = float(match.group(1).replace(",", "."))
    unit = match.group(2) or "an"
    return int(round(number if unit == "mois" else number * 12))


def weekly_hours_from(text):
    """Hours from "35H Horaires normaux", "24H30 Travail de nuit", "35h/semaine"; None if none."""
    match = re.search(r"(\d{1,2})\s*[hH]\s*(\d{2})?", text or "")
    if not match:
        return None
    hours = Decimal(match.group(1))
    if match.group(2):
        hours += (Decimal(match.group(2)) / 60).quantize(Decimal("0.1"))
    return hours


def schedule_from(text):
    """Schedule codes from a France Travail working-time text or a list of codes/labels."""
    codes = []
    for part in re.split(r"[|,;/]", text or ""):
        code = SCHEDULE_WORDS.get(fold(part))
        if code and code not in codes:
            codes.append(str(code))
    words = fold_words(text or "")
    if not codes:
        if "nuit" in words:
            codes.append(str(Schedule.NIGHT))
        if "week end" in words or "samedi" in words or "dimanche" in words:
            codes.append(str(Schedule.WEEKEND))
        if "matin" in words and "tot" in words:
            codes.append(str(Schedule.EARLY))
        if not codes or "horaires normaux" in words or "journee" in words:
            codes.insert(0, str(Schedule.DAY))
    return codes


def contract_from(kind, nature="", alternance=False, label=""):
    """``(contract code, None)`` or ``(None, French problem)``."""
    nature_words = fold_words(nature)
    if alternance or "apprentissage" in nature_words or "professionnalisation" in nature_words:
        return str(ContractType.APPRENTICESHIP), None
    if "insertion" in nature_words or "cui" in nature_words.split() or "pec" in nature_words.split():
        return str(ContractType.INSERTION), None
    code = CONTRACT_CODES.get(fold(kind)) or CONTRACT_CODES.get(fold(label.split("-")[0] if label else ""))
    if code:
        return str(code), None
    if not (kind or "").strip():
        return None, "type de contrat manquant"
    return None, (f"type de contrat non reconnu « {kind.strip()[:40]} » (CDI, CDD, MIS, SAI, alternance, "
                  "insertion)")


def naf_code(text):
    """"56.10A" from "56.10A", "5610A" or "56.10 a"; "" if not a NAF code."""
    compact = re.sub(r"[\s.]", "", text or "").upper()
    if re.fullmatch(r"\d{4}[A-Z]", compact):
        return f"{compact[:2]}.{compact[2:]}"
    return ""


class Lookups:
    """ROME codes, appellations, communes, NAF codes: loaded once per file (few queries)."""

    def __init__(self, territory):
        from spie.referentials.models import NafCode, RomeCode

        self.territory = territory
        self.romes = set(RomeCode.objects.values_list("code", flat=True))
        self.nafs = set(NafCode.objects.values_list("code", flat=True))
        self._communes = {}
        self._by_name = {}
        self._appellations = {}

    def preload_communes(self, codes):
        from spie.referentials.models import Commune

        wanted = {c for c in codes if c and c not in self._communes}
        if wanted:
            found = dict(Commune.objects.filter(code_insee__in=wanted).values_list("code_insee", "departement"))
            for code in wanted:
                self._communes[code] = found.get(code)

    def commune(self, code):
        """The département of the commune of INSEE ``code`` (None: unknown)."""
        if code not in self._communes:
            self.preload_communes([code])
        return self._communes[code]

    def commune_by_name(self, name, postal_code=""):
        from spie.referentials.selectors import AmbiguousCommune, CommuneNotFound, resolve_commune

        text = f"{name} ({postal_code})" if postal_code else name
        if text not in self._by_name:
            try:
                commune = resolve_commune(text, departement=self.territory.code, territory=self.territory.code)
            except CommuneNotFound:
                self._by_name[text] = (None, f"commune introuvable « {name[:60]} » dans le territoire "
                                             "(indiquez le code INSEE)")
            except AmbiguousCommune:
                self._by_name[text] = (None, f"plusieurs communes s'appellent « {name[:60]} » : indiquez le code "
                                             "INSEE ou le code postal")
            else:
                self._communes[commune.code_insee] = commune.departement
                self._by_name[text] = (commune.code_insee, None)
        return self._by_name[text]

    def appellation(self, rome_code, text):
        """The appellation (code OGR) of ``rome_code`` named or numbered ``text``, or None."""
        from spie.referentials.models import RomeAppellation

        if rome_code not in self._appellations:
            found = {}
            for code, label in RomeAppellation.objects.filter(rome_id=rome_code).values_list("code_ogr", "label"):
                found[code] = code
                found.setdefault(fold(label), code)
            self._appellations[rome_code] = found
        known = self._appellations[rome_code]
        return known.get(text.strip()) or known.get(fold(text))


def _place(raw, lookups, problems):
    """The commune (INSEE code) of the offer, or None with a problem recorded."""
    place = _object(raw.get("lieuTravail", "")) or {}
    postal_code = str(raw.get("codePostal") or place.get("codePostal") or "").strip()
    code = str(raw.get("commune") or place.get("commune") or "").strip().upper()
    where = "commune" if raw.get("commune") else "lieuTravail"
    if code and re.fullmatch(r"\d[0-9AB]\d{3}|\d{4}", code):
        if len(code) == 4:
            code = "0" + code
        departement = lookups.commune(code)
        if departement is None:
            problems[where] = f"commune introuvable : code INSEE « {code} »"
            return None
        if departement != lookups.territory.code:
            problems[where] = f"la commune « {code} » n'est pas dans le territoire ({lookups.territory.code})"
            return None
        return code
    name = code or ""
    if not name:
        text = raw.get("lieuTravail", "") if not place else place.get("libelle", "")
        # France Travail's libelle: "31 - TOULOUSE"; a département alone ("31 - Haute-Garonne") is not a place.
        name = re.sub(r"^\s*\d[0-9AB]?\s*-\s*", "", str(text or "")).strip()
    if not name:
        if postal_code:
            name = postal_code
        else:
            problems[where] = "commune du lieu de travail manquante"
            return None
    found, problem = lookups.commune_by_name(name, postal_code if name != postal_code else "")
    if problem:
        problems[where] = problem
    return found


def _company(raw, problems):
    """``{"siret", "name", "description", "naf"}`` as the row says them (checked later)."""
    value = raw.get("entreprise", "")
    obj = _object(value)
    if obj is None:
        obj = {"nom": value} if (value or "").strip() else {}
    siret = re.sub(r"\s", "", str(raw.get("siret") or obj.get("siret") or ""))
    company = {
        "siret": siret,
        "name": str(obj.get("nom") or "").strip()[:200],
        "description": str(raw.get("entrepriseDescription") or obj.get("description") or "").strip(),
        "naf": "",
    }
    if siret and not (siret.isdigit() and len(siret) == 14):
        problems["siret"] = f"SIRET invalide « {siret[:20]} » (14 chiffres)"
    elif siret and not luhn_ok(siret):
        problems["siret"] = f"SIRET invalide « {siret} » (clé de contrôle incorrecte)"
    return company


def _required_items(items):
    """Labels of the list's items whose ``exigence`` is E (or plain text items)."""
    labels = []
    for item in items:
        if isinstance(item, dict):
            if str(item.get("exigence", "E")).upper() != "E":
                continue
            label = str(item.get("libelle") or "").strip()
        else:
            label = str(item).strip()
        if label and label not in labels:
            labels.append(label)
    return labels


def _licence(text):
    """Is a car licence (B) required? From a France Travail list or "B", "oui", "non"."""
    items = _items(text)
    if len(items) == 1 and isinstance(items[0], str):
        word = fold(items[0])
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    for label in _required_items(items):
        words = fold_words(label).split()
        if words and words[0] == "b" or "vehicule leger" in fold_words(label):
            return True
    return False


def _qualification(raw):
    parts = []
    for item in _items(raw.get("formations", "")):
        if isinstance(item, dict):
            if str(item.get("exigence", "E")).upper() != "E":
                continue
            text = " ".join(str(item.get(k) or "").strip() for k in ("niveauLibelle", "domaineLibelle")).strip()
        else:
            text = str(item).strip()
        if text:
            parts.append(text)
    if not parts and (raw.get("qualificationLibelle") or "").strip():
        parts.append(raw["qualificationLibelle"].strip())
    return "; ".join(parts)[:200]


def parse_offer(raw, *, lookups, default_source=""):
    """``(fields, problems)`` for one row of text cells keyed by column name.

    ``fields`` are JSON values (the import's ``cleaned``): the opening's fields (``rome_id``,
    ``commune_id``…), ``source``/``source_id``, and ``company`` (the row's SIRET, name,
    description and NAF code; resolved to a company of the territory by the validator).
    ``problems`` maps a column name (or ``"__all__"``) to a French problem.
    """
    problems, fields = {}, {}

    def text(name, limit=None):
        value = str(raw.get(name) or "").strip()
        limit = limit or next((c.max_length for c in COLUMNS if c.name == name), 300)
        if len(value) > limit:
            problems.setdefault(name, f"texte trop long ({len(value)} caractères, {limit} au plus)")
            return value[:limit]
        return value

    title = text("intitule", 200)
    if not title:
        problems["intitule"] = "intitulé manquant"
    fields["title"] = title
    fields["description"] = text("description")
    source_id = text("id", 60)
    fields["source_id"] = source_id
    fields["source"] = (text("source", 30) or default_source) if source_id else ""

    rome = text("romeCode").upper()
    if not rome:
        problems["romeCode"] = "code ROME manquant : chaque offre doit indiquer son métier"
    elif rome not in lookups.romes:
        problems["romeCode"] = f"code ROME inconnu « {rome[:10]} »"
    fields["rome_id"] = rome
    appellation = text("appellationlibelle")
    fields["appellation_id"] = lookups.appellation(rome, appellation) if appellation and not problems.get(
        "romeCode") else None

    try:
        alternance = _bool(raw.get("alternance", ""))
    except ValueError:
        problems["alternance"] = f"valeur non reconnue « {raw.get('alternance')} » (attendu : oui ou non)"
        alternance = False
    contract, problem = contract_from(text("typeContrat"), text("natureContrat"), alternance,
                                      text("typeContratLibelle"))
    if problem:
        problems["typeContrat"] = problem
    fields["contract_type"] = contract
    duration = None
    try:
        duration = _int(raw.get("dureeContratMois", ""))
    except ValueError:
        problems["dureeContratMois"] = f"durée illisible « {raw.get('dureeContratMois')} » (nombre de mois)"
    if duration is None:
        match = re.search(r"(\d+)\s*mois", _words(text("typeContratLibelle")))
        duration = int(match.group(1)) if match else None
    fields["duration_months"] = duration if duration and duration < 32767 else None

    hours = None
    if (raw.get("heuresHebdo") or "").strip():
        try:
            hours = Decimal(raw["heuresHebdo"].strip().replace(",", ".").lower().rstrip("h"))
        except InvalidOperation:
            problems["heuresHebdo"] = f"nombre d'heures illisible « {raw['heuresHebdo'][:20]} »"
    if hours is None:
        hours = weekly_hours_from(text("dureeTravailLibelle"))
    if hours is None:
        converted = fold_words(text("dureeTravailLibelleConverti"))
        hours = PART_TIME_HOURS if "partiel" in converted else Decimal("35")
    if not Decimal("1") <= hours <= Decimal("48"):
        problems.setdefault("heuresHebdo", f"{hours} heures par semaine : entre 1 et 48 heures attendues")
    fields["weekly_hours"] = str(hours.quantize(Decimal("0.1")))
    fields["schedule"] = schedule_from(text("dureeTravailLibelle"))

    try:
        remote = _bool(raw.get("teletravail", ""))
    except ValueError:
        problems["teletravail"] = f"valeur non reconnue « {raw.get('teletravail')} » (attendu : oui ou non)"
        remote = False
    fields["remote"] = remote
    if remote and not any((raw.get(k) or "").strip() for k in ("commune", "lieuTravail", "codePostal")):
        fields["commune_id"] = None
    else:
        fields["commune_id"] = _place(raw, lookups, problems)

    try:
        positions = _int(raw.get("nombrePostes", ""))
    except ValueError:
        positions = None
        problems["nombrePostes"] = f"nombre de postes illisible « {raw.get('nombrePostes')} »"
    if positions == 0:
        problems["nombrePostes"] = "au moins un poste à pourvoir"
    fields["positions"] = min(positions or 1, 32767)

    fields["requires_licence"] = _licence(raw.get("permis", ""))
    fields["qualification"] = _qualification(raw)
    exigence = text("experienceExige").upper()
    months = 0
    if (raw.get("experienceLibelle") or "").strip() and exigence != "D":
        words = fold_words(raw["experienceLibelle"])
        if "debutant" not in words:
            found = experience_months(raw["experienceLibelle"])
            if found is None:
                problems["experienceLibelle"] = (f"expérience illisible « {raw['experienceLibelle'][:40]} » "
                                                 "(par exemple « 2 ans » ou « 6 mois »)")
            elif exigence != "S":  # only a required experience filters candidates
                months = found
    fields["min_experience_months"] = min(months, 600)
    fields["languages"] = _required_items(_items(raw.get("langues", "")))[:10]
    for name, key in (("accessibleTH", "adapted_position"), ("formationProposee", "offers_training")):
        try:
            fields[key] = _bool(raw.get(name, ""))
        except ValueError:
            problems[name] = f"valeur non reconnue « {raw.get(name)} » (attendu : oui ou non)"
            fields[key] = False
    try:
        opened = _date(raw.get("dateCreation", ""))
    except ValueError:
        problems["dateCreation"] = f"date illisible « {raw.get('dateCreation')} » (attendu JJ/MM/AAAA)"
        opened = None
    fields["opened_on"] = (opened or date.today()).isoformat()

    company = _company(raw, problems)
    naf = naf_code(text("codeNAF"))
    company["naf"] = naf if naf in lookups.nafs else ""
    fields["company"] = company
    return fields, problems


def model_values(fields):
    """The :class:`JobOpening` keyword arguments of parsed ``fields`` (company excluded)."""
    values = {name: fields.get(name) for name in OPENING_FIELDS if name in fields}
    if values.get("weekly_hours") is not None:
        values["weekly_hours"] = Decimal(values["weekly_hours"])
    if values.get("opened_on"):
        values["opened_on"] = date.fromisoformat(values["opened_on"])
    return values


def stored_values(opening):
    """An opening's stored fields in the JSON form of parsed fields (for the preview's diff)."""
    return {
        "title": opening.title, "description": opening.description, "rome_id": opening.rome_id,
        "appellation_id": opening.appellation_id, "contract_type": opening.contract_type,
        "duration_months": opening.duration_months,
        "weekly_hours": str(Decimal(opening.weekly_hours).quantize(Decimal("0.1"))),
        "schedule": list(opening.schedule or []), "commune_id": opening.commune_id, "remote": opening.remote,
        "positions": opening.positions, "requires_licence": opening.requires_licence,
        "qualification": opening.qualification, "min_experience_months": opening.min_experience_months,
        "languages": list(opening.languages or []), "adapted_position": opening.adapted_position,
        "offers_training": opening.offers_training, "opened_on": opening.opened_on.isoformat(),
    }


def _display(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def opening_diff(stored, fields):
    """``{field: [old, new]}`` (display text) of the fields an update would change. The
    publication date is kept when the offer is already recorded."""
    diff = {}
    for name in OPENING_FIELDS:
        if name == "opened_on" or name not in fields:
            continue
        if stored.get(name) != fields[name]:
            diff[name] = [_display(stored.get(name)), _display(fields[name])]
    return diff
