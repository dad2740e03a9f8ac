"""Synthetic demonstration data for Haute-Garonne: the SPIE network and persons accompanied.

Everything here is fictitious (DESIGN.md §5): names come from Faker, e-mail domains end in
``.example``, phone numbers are in the ranges ARCEP reserves for fiction (05 36 49…, 06 39 98…),
NIRs are well-formed but invented. Only the partner institutions and the communes are real.

The generation is deterministic for a given seed (and a given day, since ages and dates are
relative to today): two independent random streams, one for the network and one for the
persons, so that re-running on a database where the network already exists yields the same
persons. Persons and their rows are written in batches of 2,000 with :func:`fast_insert`
(``executemany`` / ``COPY`` rather than ``bulk_create``) inside one transaction: 100,000
persons take about 35 s on SQLite or PostgreSQL on a 2-core machine (``make bench``).
"""

import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from spie.core.bulk import fast_insert
from spie.core.text import fold, fold_words

DEMO_PASSWORD = "spie-demo-2026"
DEMO_URL = "http://127.0.0.1:8000"
TERRITORY_CODE = "31"
DEFAULT_PERSONS = 2000
DEFAULT_SEED = 31
BATCH_SIZE = 2000
SUPERUSER_EMAIL = "admin@spie31.example"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    first_name: str
    last_name: str
    role: str  # network.Membership.Role value
    structure_key: str
    job_title: str
    role_label: str  # shown by ``demo_logins``
    summary: str  # what to try with it, shown by ``demo_logins``


DEMO_ACCOUNTS = [
    DemoAccount(
        "referente.demo@spie31.example", "Julie", "Fabre", "referent", "mds-toulouse-bonnefoy",
        "Travailleuse sociale, référente RSA", "Référente unique", "sa file active, les dossiers",
    ),
    DemoAccount(
        "conseiller.demo@spie31.example", "Karim", "Mansouri", "referent", "ft-toulouse-bonnefoy",
        "Conseiller emploi", "Référent unique", "accompagnement vers l'emploi",
    ),
    DemoAccount(
        "orientation.demo@spie31.example", "Nadia", "Benali", "orientation", "cd31",
        "Chargée d'orientation", "Chargée d'orientation", "orientation des personnes du territoire",
    ),
    DemoAccount(
        "admin.demo@spie31.example", "Thomas", "Roques", "admin", "ml-haute-garonne",
        "Responsable de secteur", "Administrateur de la structure", "membres et offre de la structure",
    ),
    DemoAccount(
        "coordination.demo@spie31.example", "Hélène", "Sabatier", "coordinator", "cd31",
        "Coordinatrice du SPIE", "Coordinatrice SPIE", "coordination et pilotage du réseau",
    ),
]

# Share of all persons whose référent unique is the demo référente / the demo conseiller
# (about 40 and 30 persons at the default 2,000).
DEMO_REFERENTE_SHARE = 0.02
DEMO_CONSEILLER_SHARE = 0.015


# --------------------------------------------------------------------------------------------
# The network: partner structures of the SPIE Haute-Garonne (DESIGN.md §1).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StructureSpec:
    key: str
    name: str
    kind: str  # network.Structure.Kind value
    insee: str
    postal_code: str
    domain: str
    referents: int
    # How it takes part in pathways. Référent unique: mds, ft, ml, cap, plie, asso (and the MSA, in
    # "health"); member of follow-up groups only: caf, health, employers, support; other: none.
    group: str
    publics: tuple
    themes: tuple
    description: str
    job_title: str = "Référent de parcours"
    admin_title: str = "Responsable de la structure"
    website: str = ""


_ALL_THEMES = ("emploi", "formation", "logement", "mobilite", "sante", "difficulte_financiere")

_MDS_DESC = (
    "Maison des solidarités du Conseil départemental : accueil social, accompagnement des "
    "bénéficiaires du RSA (orientation sociale), protection de l'enfance, aide aux familles."
)
_MDS_PUBLICS = ("beneficiaires-des-minimas-sociaux", "familles", "femmes", "personnes-en-situation-durgence")
_MDS_THEMES = ("logement", "difficulte_financiere", "difficulte_administrative", "sante", "contraintes_familiales")

_FT_DESC = (
    "Agence France Travail : inscription, indemnisation, accompagnement vers l'emploi, "
    "orientation professionnelle des bénéficiaires du RSA, mise en relation avec les employeurs."
)
_FT_PUBLICS = ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux", "jeunes", "seniors")
_FT_THEMES = ("emploi", "trouver_un_emploi", "preparer_sa_candidature", "choisir_un_metier", "se_former")


def _mds(key, name, insee, postal, referents):
    return StructureSpec(
        key, name, "departement", insee, postal, "mds31.example", referents, "mds", _MDS_PUBLICS,
        _MDS_THEMES, _MDS_DESC, job_title="Travailleur social, référent RSA", admin_title="Responsable de la MDS",
    )


def _ft(key, name, insee, postal, referents):
    return StructureSpec(
        key, name, "france_travail", insee, postal, "francetravail31.example", referents, "ft", _FT_PUBLICS,
        _FT_THEMES, _FT_DESC, job_title="Conseiller emploi", admin_title="Directeur d'agence",
    )


STRUCTURES = [
    StructureSpec(
        "cd31", "Conseil départemental de la Haute-Garonne", "departement", "31555", "31000", "cd31.example", 0,
        "other", ("beneficiaires-des-minimas-sociaux", "tous-publics"), _ALL_THEMES,
        "Chef de file de l'insertion : coordonne le SPIE, oriente les bénéficiaires du RSA, finance "
        "l'offre d'insertion du programme départemental d'insertion.",
        admin_title="Directeur de l'insertion",
    ),
    _mds("mds-toulouse-bonnefoy", "MDS Toulouse Bonnefoy", "31555", "31500", 6),
    _mds("mds-toulouse-mirail", "MDS Toulouse Mirail", "31555", "31100", 5),
    _mds("mds-toulouse-lalande", "MDS Toulouse Lalande", "31555", "31200", 5),
    _mds("mds-colomiers", "MDS Colomiers", "31149", "31770", 5),
    _mds("mds-blagnac", "MDS Blagnac", "31069", "31700", 5),
    _mds("mds-ramonville", "MDS Ramonville-Saint-Agne", "31446", "31520", 5),
    _mds("mds-muret", "MDS Muret", "31395", "31600", 5),
    _mds("mds-villefranche", "MDS Villefranche-de-Lauragais", "31582", "31290", 5),
    _mds("mds-saint-gaudens", "MDS Saint-Gaudens", "31483", "31800", 5),
    StructureSpec(
        "ddets31", "DDETS 31", "state", "31555", "31000", "ddets31.example", 0, "other",
        ("tous-publics",), ("emploi", "formation"),
        "Direction départementale de l'emploi, du travail et des solidarités : co-pilote du SPIE pour l'État, "
        "financement de l'insertion par l'activité économique.",
        admin_title="Chef du pôle insertion",
    ),
    _ft("ft-toulouse-bonnefoy", "France Travail Toulouse Bonnefoy", "31555", "31500", 5),
    _ft("ft-toulouse-mirail", "France Travail Toulouse Mirail", "31555", "31100", 5),
    _ft("ft-blagnac", "France Travail Blagnac", "31069", "31700", 5),
    _ft("ft-colomiers", "France Travail Colomiers", "31149", "31770", 5),
    _ft("ft-labege", "France Travail Labège", "31254", "31670", 5),
    _ft("ft-muret", "France Travail Muret", "31395", "31600", 5),
    _ft("ft-saint-gaudens", "France Travail Saint-Gaudens", "31483", "31800", 5),
    StructureSpec(
        "caf31", "CAF de la Haute-Garonne", "caf", "31555", "31000", "caf31.example", 3, "caf",
        ("familles", "beneficiaires-des-minimas-sociaux"),
        ("difficulte_financiere", "logement", "contraintes_familiales"),
        "Caisse d'allocations familiales : ouverture des droits RSA, prestations familiales et logement, "
        "accompagnement social des familles.",
        job_title="Travailleur social CAF",
    ),
    StructureSpec(
        "cpam31", "CPAM de la Haute-Garonne", "cpam", "31555", "31000", "cpam31.example", 2, "health",
        ("tous-publics",), ("sante", "difficulte_administrative"),
        "Caisse primaire d'assurance maladie : accès aux droits santé, complémentaire santé solidaire, "
        "prévention de la désinsertion professionnelle.",
        job_title="Conseiller service social",
    ),
    StructureSpec(
        "msa-mps", "MSA Midi-Pyrénées Sud", "msa", "31555", "31000", "msa-mps.example", 2, "health",
        ("beneficiaires-des-minimas-sociaux", "familles"), ("difficulte_financiere", "sante", "emploi"),
        "Mutualité sociale agricole : protection sociale du monde agricole, RSA des non-salariés agricoles.",
        job_title="Travailleur social MSA",
    ),
    StructureSpec(
        "ars-dd31", "ARS Occitanie, délégation départementale de la Haute-Garonne", "ars", "31555", "31000",
        "ars-occitanie.example", 0, "other", ("tous-publics",), ("sante",),
        "Agence régionale de santé : accès aux soins, santé mentale, coordination avec les acteurs de l'insertion.",
    ),
    StructureSpec(
        "ml-haute-garonne", "Mission locale Haute-Garonne", "mission_locale", "31395", "31600", "mlhg.example", 6,
        "ml", ("jeunes",), ("emploi", "formation", "mobilite", "logement", "choisir_un_metier"),
        "Accompagnement global des jeunes de 16 à 25 ans hors Toulouse : contrat d'engagement jeune, "
        "emploi, formation, mobilité, logement, santé.",
        job_title="Conseiller en insertion professionnelle",
    ),
    StructureSpec(
        "ml-toulouse", "Mission locale de Toulouse", "mission_locale", "31555", "31000", "ml-toulouse.example", 8,
        "ml", ("jeunes",), ("emploi", "formation", "mobilite", "logement", "choisir_un_metier"),
        "Accompagnement global des jeunes toulousains de 16 à 25 ans : contrat d'engagement jeune, "
        "emploi, formation, logement, santé.",
        job_title="Conseiller en insertion professionnelle",
    ),
    StructureSpec(
        "cap-emploi-31", "Cap emploi 31", "cap_emploi", "31555", "31200", "capemploi31.example", 6, "cap",
        ("personnes-en-situation-de-handicap",), ("emploi", "sante", "formation"),
        "Accompagnement vers l'emploi et maintien dans l'emploi des personnes en situation de handicap.",
        job_title="Chargé d'accompagnement",
    ),
    StructureSpec(
        "toulouse-metropole", "Toulouse Métropole", "local_authority", "31555", "31000", "toulouse-metropole.example",
        0, "other", ("tous-publics", "residents-qpv-frr"), ("emploi", "mobilite", "logement"),
        "Métropole : politique de la ville, développement économique, clauses sociales dans les marchés publics.",
    ),
    StructureSpec(
        "tme-plie", "Toulouse Métropole Emploi (PLIE)", "plie", "31555", "31000", "tme-plie.example", 8, "plie",
        ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux", "residents-qpv-frr"),
        ("emploi", "trouver_un_emploi", "preparer_sa_candidature", "se_former"),
        "Plan local pour l'insertion et l'emploi de la métropole toulousaine : parcours renforcés vers l'emploi "
        "durable, clauses sociales.",
        job_title="Référent de parcours PLIE",
    ),
    StructureSpec(
        "muretain-agglo", "Muretain Agglo", "local_authority", "31395", "31600", "muretain-agglo.example", 2, "plie",
        ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"), ("emploi", "mobilite"),
        "Communauté d'agglomération du Muretain : service emploi et PLIE intercommunal.",
        job_title="Référent de parcours PLIE",
    ),
    StructureSpec(
        "sicoval", "SICOVAL", "local_authority", "31254", "31670", "sicoval.example", 2, "plie",
        ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"), ("emploi", "mobilite"),
        "Communauté d'agglomération du Sud-Est toulousain : maison commune emploi formation.",
        job_title="Conseiller emploi",
    ),
    StructureSpec(
        "region-occitanie", "Région Occitanie", "local_authority", "31555", "31400", "region-occitanie.example", 0,
        "other", ("tous-publics",), ("formation", "se_former"),
        "Région : formation professionnelle des demandeurs d'emploi, orientation, apprentissage.",
    ),
    StructureSpec(
        "maisons-de-chomeurs", "Maisons de chômeurs", "association", "31555", "31100", "maisons-chomeurs.example", 3,
        "asso", ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"),
        ("emploi", "numerique", "difficulte_administrative"),
        "Lieux d'accueil, d'entraide et d'activités collectives pour les personnes privées d'emploi.",
        job_title="Accompagnateur socio-professionnel",
    ),
    StructureSpec(
        "to7", "TO7", "association", "31555", "31300", "to7.example", 2, "asso",
        ("jeunes", "residents-qpv-frr"), ("emploi", "mobilite", "numerique"),
        "Association d'insertion toulousaine : remobilisation, accompagnement vers l'emploi, actions de quartier.",
        job_title="Accompagnateur socio-professionnel",
    ),
    StructureSpec(
        "fa-sol-mi", "FA-SOL-MI", "association", "31555", "31100", "fa-sol-mi.example", 2, "asso",
        ("familles", "femmes", "personnes-exilees"), ("maitrise_langue", "contraintes_familiales", "numerique"),
        "Association de solidarité : apprentissage du français, accompagnement des familles, médiation.",
        job_title="Médiateur social",
    ),
    StructureSpec(
        "cbe-net", "CBE du Nord-Est toulousain", "association", "31561", "31240", "cbe-net.example", 3, "asso",
        ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"), ("emploi", "mobilite", "creer_une_entreprise"),
        "Comité de bassin d'emploi : accompagnement vers l'emploi, relations entreprises, mobilité.",
        job_title="Chargé d'insertion",
    ),
    StructureSpec(
        "cbe-revel", "CBE Revel", "association", "31451", "31250", "cbe-revel.example", 2, "asso",
        ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"), ("emploi", "mobilite"),
        "Comité de bassin d'emploi du Lauragais revélois : emploi, mobilité, création d'activité.",
        job_title="Chargé d'insertion",
    ),
    StructureSpec(
        "afpa", "AFPA Toulouse", "training", "31555", "31200", "afpa.example", 2, "employers",
        ("demandeurs-emploi", "actifs"), ("formation", "se_former", "choisir_un_metier"),
        "Formation professionnelle qualifiante, découverte des métiers, prépa compétences.",
        job_title="Conseiller en formation",
    ),
    StructureSpec(
        "fas-occitanie", "FAS Occitanie", "association", "31555", "31000", "fas-occitanie.example", 1, "support",
        ("personnes-en-situation-durgence",), ("logement", "difficulte_financiere"),
        "Fédération des acteurs de la solidarité : réseau de l'hébergement, de l'accueil et de l'insertion.",
        job_title="Chargé de mission insertion",
    ),
    StructureSpec(
        "coorace", "Coorace Occitanie", "association", "31555", "31000", "coorace.example", 1, "employers",
        ("demandeurs-emploi",), ("emploi", "trouver_un_emploi"),
        "Réseau des structures de l'insertion par l'activité économique et de l'économie solidaire.",
        job_title="Chargé de mission IAE",
    ),
    StructureSpec(
        "agefiph", "AGEFIPH Occitanie", "association", "31555", "31000", "agefiph.example", 1, "support",
        ("personnes-en-situation-de-handicap",), ("emploi", "sante"),
        "Aides et services pour l'emploi des personnes handicapées et leurs employeurs.",
        job_title="Chargé d'études et de développement",
    ),
    StructureSpec(
        "face-grand-toulouse", "FACE Grand Toulouse", "employers", "31555", "31000", "face-gt.example", 2,
        "employers", ("demandeurs-emploi", "residents-qpv-frr"), ("emploi", "trouver_un_emploi"),
        "Fondation agir contre l'exclusion : parrainage, visites d'entreprises, rencontres avec les recruteurs.",
        job_title="Chargé de relations entreprises",
    ),
    StructureSpec(
        "btp31", "Fédération du BTP 31", "employers", "31555", "31000", "btp31.example", 1, "employers",
        ("demandeurs-emploi", "jeunes"), ("emploi", "choisir_un_metier"),
        "Fédération du bâtiment et des travaux publics de la Haute-Garonne : métiers et recrutements du BTP.",
        job_title="Chargé emploi formation",
    ),
    StructureSpec(
        "crepi", "CREPI Toulouse", "employers", "31555", "31000", "crepi.example", 2, "employers",
        ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"), ("emploi", "preparer_sa_candidature"),
        "Club régional d'entreprises partenaires de l'insertion : découverte des métiers, jobdating.",
        job_title="Chargé de projets insertion",
    ),
    StructureSpec(
        "club-entreprises-inclusives", "Club des entreprises inclusives de la Haute-Garonne", "employers", "31069",
        "31700", "club-inclusif31.example", 1, "employers", ("tous-publics",), ("emploi", "trouver_un_emploi"),
        "Entreprises engagées pour l'inclusion : immersions, recrutements, parrainage.",
        job_title="Animateur du club",
    ),
    StructureSpec(
        "cci-toulouse", "CCI Toulouse Haute-Garonne", "chamber", "31555", "31000", "cci-toulouse.example", 1,
        "employers", ("actifs", "demandeurs-emploi"), ("creer_une_entreprise", "emploi"),
        "Chambre de commerce et d'industrie : création d'entreprise, besoins de recrutement des entreprises.",
        job_title="Conseiller création d'entreprise",
    ),
    StructureSpec(
        "cma31", "Chambre de métiers et de l'artisanat de la Haute-Garonne", "chamber", "31555", "31000",
        "cma31.example", 1, "employers", ("jeunes", "actifs"), ("creer_une_entreprise", "formation"),
        "Artisanat : apprentissage, création et reprise d'entreprise artisanale.",
        job_title="Conseiller apprentissage",
    ),
    StructureSpec(
        "fei-occitanie", "Fédération des entreprises d'insertion Occitanie", "employers", "31555", "31000",
        "fei-occitanie.example", 1, "employers", ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"),
        ("emploi",), "Réseau des entreprises d'insertion et des entreprises de travail temporaire d'insertion.",
        job_title="Délégué régional",
    ),
    StructureSpec(
        "geiq-btp-31", "GEIQ BTP 31", "geiq", "31555", "31200", "geiq-btp31.example", 2, "employers",
        ("demandeurs-emploi", "jeunes"), ("emploi", "formation"),
        "Groupement d'employeurs pour l'insertion et la qualification dans le BTP : contrats en alternance.",
        job_title="Chargé d'accompagnement socio-professionnel",
    ),
]

# Association référents who also work for the PLIE (a membership in each structure).
DOUBLE_MEMBERSHIPS = [
    ("maisons-de-chomeurs", "tme-plie"),
    ("to7", "tme-plie"),
    ("cbe-net", "tme-plie"),
    ("fa-sol-mi", "tme-plie"),
    ("cbe-revel", "sicoval"),
]

CHARGES_ORIENTATION = 5  # at the Département, the demo one included

_MEMBER_REASONS = {
    "mds": "Accompagnement social",
    "ft": "Suivi France Travail",
    "ml": "Accompagnement jeune",
    "cap": "Accompagnement handicap et emploi",
    "plie": "Parcours PLIE",
    "asso": "Accompagnement associatif",
    "caf": "Suivi des droits CAF",
    "health": "Accès aux droits santé",
    "employers": "Découverte des métiers et mise en relation",
    "support": "Appui du réseau",
}

_WORK_RESTRICTIONS = [
    "Pas de port de charges lourdes",
    "Station debout prolongée déconseillée",
    "Pas de travail de nuit",
    "Temps partiel thérapeutique recommandé",
    "Éviter les gestes répétitifs des membres supérieurs",
    "",
    "",
]

_FOREIGN_LANGUAGES = [
    ("Anglais", 40), ("Arabe", 22), ("Espagnol", 15), ("Portugais", 5), ("Turc", 3), ("Roumain", 4),
    ("Italien", 4), ("Tamazight", 3), ("Wolof", 2), ("Russe", 2),
]
_BIRTH_COUNTRIES = ["350", "352", "351", "134", "139", "127", "208", "341", "123"]  # INSEE country codes
_OTHER_DEPARTMENTS = [
    "09", "11", "12", "32", "46", "65", "81", "82", "75", "93", "13", "33", "34", "69", "59", "64", "66", "92",
]


# --------------------------------------------------------------------------------------------
# Small pure helpers
# --------------------------------------------------------------------------------------------


def nir_key(first13):
    """Control key of a NIR: 97 - (13 digits mod 97), Corsica 2A/2B read as 19/18."""
    digits = first13.replace("2A", "19").replace("2B", "18")
    return f"{97 - int(digits) % 97:02d}"


def make_nir(rng, sex, birth_date, department, commune3):
    sex_digit = {"M": "1", "F": "2"}.get(sex) or rng.choice("12")
    order = rng.randint(1, 999)
    body = f"{sex_digit}{birth_date.year % 100:02d}{birth_date.month:02d}{department}{commune3}{order:03d}"
    return body + nir_key(body)


def fiction_phone(rng, prefix):
    """A number in a range reserved by ARCEP for fiction (e.g. "05 36 49", "06 39 98")."""
    return f"{prefix} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"


def _distance(a, b):
    if a is None or b is None or a.lat is None or b.lat is None:
        return math.inf
    dx = (a.lon - b.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    dy = a.lat - b.lat
    return dx * dx + dy * dy


def _years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return date(day.year - years, 2, 28)


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


# --------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------


@dataclass
class SeedResult:
    territory: object = None
    structures: int = 0
    users: int = 0
    memberships: int = 0
    persons: int = 0
    followups: int = 0
    consents: int = 0
    timeline_events: int = 0
    health_infos: int = 0
    skipped: bool = False
    counts: dict = field(default_factory=dict)


class _Pros:
    """The professionals, by structure and by pathway group, for fast random picks."""

    def __init__(self):
        self.referents = {}  # structure key -> [(user, structure)]
        self.groups = {}  # group -> [structure key] (structures having référents)


def ensure_communes(territory_code=TERRITORY_CODE):
    """Return the territory's communes, loading the referentials first if none are there."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from spie.referentials.models import Commune

    qs = Commune.objects.filter(departement=territory_code).order_by("code_insee")
    if not qs.exists():
        try:
            call_command("load_referentials")
        except CommandError as exc:
            raise CommandError(
                "Aucune commune en base et le chargement des référentiels a échoué : "
                f"lancez d'abord « python manage.py load_referentials » ({exc})."
            ) from exc
    communes = list(qs)
    if not communes:
        raise CommandError(f"Aucune commune du département {territory_code} après load_referentials.")
    return communes


def seed(*, persons=DEFAULT_PERSONS, seed=DEFAULT_SEED, if_empty=False, progress_file=None, log=print, today=None,
         actions=None):
    """Create the demo network and ``persons`` persons (and ``actions`` actions of the catalogue, 320 by
    default). Returns a :class:`SeedResult`."""
    from spie.people.models import Person

    if if_empty and Person.objects.exists():
        return SeedResult(skipped=True)
    communes = ensure_communes()
    today = today or timezone.localdate()
    with transaction.atomic():
        result = SeedResult()
        network = _seed_network(seed, communes, today, result)
        log(
            f"Réseau : {result.structures} structures créées, {result.users} comptes, "
            f"{result.memberships} rattachements."
        )
        _seed_persons(persons, seed, communes, network, today, result, progress_file)
    from .demo_pathways import seed_pathways

    result.counts.update(seed_pathways(result.territory, seed=seed, today=today, log=log, progress_file=progress_file))
    from .demo_followup import seed_followup

    result.counts.update(seed_followup(result.territory, seed=seed, today=today, log=log, progress_file=progress_file))
    from .demo_catalogue import DEFAULT_ACTIONS, seed_catalogue, seed_referrals

    result.counts.update(seed_catalogue(
        result.territory, count=DEFAULT_ACTIONS if actions is None else actions, seed=seed, today=today, log=log,
        progress_file=progress_file,
    ))
    result.counts.update(seed_referrals(result.territory, seed=seed, today=today, log=log))
    _analyze()
    return result


def _analyze():
    """Refresh PostgreSQL's planner statistics after the bulk load, as autovacuum would later.

    Without it the first queries run with no statistics and plans (hence benchmarks) depend on
    when autovacuum happens to pass. SQLite keeps no statistics unless asked: left as is.
    """
    from django.db import connection

    from spie.network.models import Membership, Structure, User
    from spie.people.models import Consent, FollowUpMembership, HealthInfo, Person, TimelineEvent

    if connection.vendor != "postgresql":
        return
    from spie.diagnostics.models import Barrier, Diagnostic
    from spie.followup.models import (
        Appointment,
        Checkpoint,
        Employment,
        Note,
        PathwayExit,
        PlanAction,
        PlanObjective,
        PlanTransition,
    )
    from spie.pathways.models import EngagementContract, Orientation, OrientationTransition

    models = [Structure, User, Membership, Person, FollowUpMembership, Consent, TimelineEvent, HealthInfo,
              Diagnostic, Barrier, Orientation, OrientationTransition, EngagementContract,
              PlanObjective, PlanAction, PlanTransition, Appointment, Note, PathwayExit, Employment, Checkpoint]
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _seed_network(seed, communes, today, result):
    from faker import Faker

    from spie.network.models import Membership, Structure, Territory, User

    rng = random.Random(f"{seed}-network")
    fake = Faker("fr_FR")
    fake.seed_instance(seed)

    territory, _ = Territory.objects.get_or_create(
        code=TERRITORY_CODE, defaults={"name": "Haute-Garonne", "display_name": "SPIE Haute-Garonne"}
    )
    result.territory = territory
    commune_by_code = {c.code_insee: c for c in communes}

    # Structures: created when missing (matched by slug), kept otherwise.
    existing = {s.slug: s for s in Structure.objects.filter(slug__in=[slugify(spec.name) for spec in STRUCTURES])}
    new_structures = []
    structures = {}
    for spec in STRUCTURES:
        slug = slugify(spec.name)
        commune = commune_by_code.get(spec.insee)
        phone = fiction_phone(rng, "05 36 49")  # drawn even when the structure exists: same stream
        street = f"{rng.randint(1, 120)} {fake.street_name()}"
        if slug in existing:
            structures[spec.key] = existing[slug]
            continue
        structure = Structure(
            territory=territory,
            name=spec.name,
            slug=slug,
            kind=spec.kind,
            address=street,
            postal_code=spec.postal_code,
            commune=commune,
            phone=phone,
            email=f"contact@{spec.domain}",
            website=f"https://www.{spec.domain}",
            description=spec.description,
            publics=list(spec.publics),
            themes=list(spec.themes),
            search_key=fold_words(spec.name),
        )
        structures[spec.key] = structure
        new_structures.append(structure)
    Structure.objects.bulk_create(new_structures)
    result.structures = len(new_structures)
    specs = {spec.key: spec for spec in STRUCTURES}

    # Professionals: all drawn from ``rng`` first (so the stream never depends on the database).
    password = make_password(DEMO_PASSWORD)  # hashed once for every account
    used_emails = {a.email for a in DEMO_ACCOUNTS} | {SUPERUSER_EMAIL}
    planned = []  # (user kwargs, [(structure key, role, job_title, publics, themes)])

    def person_name():
        female = rng.random() < 0.62  # the profession is mostly female
        first = fake.first_name_female() if female else fake.first_name_male()
        return first, fake.last_name(), female

    def email_for(first, last, domain):
        base = f"{fold_words(first).replace(' ', '-')}.{fold_words(last).replace(' ', '-')}"
        candidate, n = f"{base}@{domain}", 1
        while candidate in used_emails:
            n += 1
            candidate = f"{base}{n}@{domain}"
        used_emails.add(candidate)
        return candidate

    def start_date():
        return today - timedelta(days=rng.randint(200, 3200))

    def feminine(title, female):
        if not female:
            return title
        for masc, fem in (
            ("Travailleur social", "Travailleuse sociale"), ("Conseiller", "Conseillère"), ("Chargé ", "Chargée "),
            ("Référent", "Référente"), ("Accompagnateur", "Accompagnatrice"), ("Directeur", "Directrice"),
            ("Chef ", "Cheffe "), ("Médiateur social", "Médiatrice sociale"), ("Animateur", "Animatrice"),
            ("Délégué régional", "Déléguée régionale"),
        ):
            title = title.replace(masc, fem)
        return title

    demo_admins = {a.structure_key for a in DEMO_ACCOUNTS if a.role == "admin"}
    for spec in STRUCTURES:
        if spec.key not in demo_admins:  # else the demo account is that structure's admin
            first, last, female = person_name()
            planned.append((
                {"first_name": first, "last_name": last, "email": email_for(first, last, spec.domain)},
                [(spec.key, "admin", feminine(spec.admin_title, female), list(spec.publics), list(spec.themes))],
            ))
        for _ in range(spec.referents):
            first, last, female = person_name()
            publics = rng.sample(list(spec.publics), k=min(len(spec.publics), rng.randint(1, 3)))
            themes = rng.sample(list(spec.themes), k=min(len(spec.themes), rng.randint(1, 3)))
            planned.append((
                {"first_name": first, "last_name": last, "email": email_for(first, last, spec.domain)},
                [(spec.key, "referent", feminine(spec.job_title, female), publics, themes)],
            ))
    for _ in range(CHARGES_ORIENTATION - 1):
        first, last, female = person_name()
        planned.append((
            {"first_name": first, "last_name": last, "email": email_for(first, last, "cd31.example")},
            [("cd31", "orientation", feminine("Chargé d'orientation", female),
              ["beneficiaires-des-minimas-sociaux"], ["emploi", "logement"])],
        ))
    first, last, female = person_name()
    planned.append((
        {"first_name": first, "last_name": last, "email": email_for(first, last, "ddets31.example")},
        [("ddets31", "coordinator", feminine("Chargé de mission SPIE", female), [], [])],
    ))
    # A few association référents also work for a PLIE: add their second membership.
    for source, target in DOUBLE_MEMBERSHIPS:
        candidates = [i for i, (_, ms) in enumerate(planned) if ms[0][0] == source and ms[0][1] == "referent"]
        chosen = planned[candidates[rng.randrange(len(candidates))]][1]
        if len(chosen) == 1:
            target_spec = specs[target]
            chosen.append((target, "referent", target_spec.job_title, ["demandeurs-emploi"], ["emploi"]))
    for account in DEMO_ACCOUNTS:
        spec = specs[account.structure_key]
        planned.append((
            {"first_name": account.first_name, "last_name": account.last_name, "email": account.email},
            [(account.structure_key, account.role, account.job_title, list(spec.publics)[:2], list(spec.themes)[:3])],
        ))
    starts = [start_date() for _ in planned]
    phones = [fiction_phone(rng, "05 36 49") for _ in planned]

    # Write the missing accounts and their memberships.
    existing_users = {u.email: u for u in User.objects.filter(email__in=[p[0]["email"] for p in planned])}
    new_users, new_memberships = [], []
    users = []
    for (kwargs, memberships), start, phone in zip(planned, starts, phones, strict=True):
        user = existing_users.get(kwargs["email"])
        if user is None:
            user = User(
                password=password,
                phone=phone,
                search_key=fold_words(f"{kwargs['last_name']} {kwargs['first_name']}"),
                **kwargs,
            )
            new_users.append(user)
            for key, role, job_title, publics, themes in memberships:
                new_memberships.append(Membership(
                    user=user, structure=structures[key], role=role, job_title=job_title,
                    publics=publics, themes=themes, start_date=start, search_key=fold_words(job_title),
                ))
        users.append((user, memberships))
    User.objects.bulk_create(new_users, batch_size=500)  # sets their pk: memberships can refer to them
    Membership.objects.bulk_create(new_memberships, batch_size=500)
    if not User.objects.filter(email=SUPERUSER_EMAIL).exists():
        User.objects.create(
            email=SUPERUSER_EMAIL, first_name="Administrateur", last_name="Technique", password=password,
            is_staff=True, is_superuser=True, search_key=fold_words("Technique Administrateur"),
        )
        new_users.append(None)
    result.users = len(new_users)
    result.memberships = len(new_memberships)

    pros = _Pros()
    for user, memberships in users:
        for key, role, *_ in memberships:
            if role == "referent":
                pros.referents.setdefault(key, []).append((user, structures[key]))
    for spec in STRUCTURES:
        if spec.key in pros.referents:
            pros.groups.setdefault(spec.group, []).append(spec.key)
    by_email = {u.email: u for u, _ in users}
    pros.demo_referente = (by_email["referente.demo@spie31.example"], structures["mds-toulouse-bonnefoy"])
    pros.demo_conseiller = (by_email["conseiller.demo@spie31.example"], structures["ft-toulouse-bonnefoy"])
    # The demo référents are not drawn at random: they get fixed shares of persons.
    for user, structure in (pros.demo_referente, pros.demo_conseiller):
        key = next(k for k, s in structures.items() if s is structure)
        pros.referents[key] = [pair for pair in pros.referents[key] if pair[0] is not user]
    pros.structures = structures
    pros.specs = specs
    return pros


def _seed_persons(n, seed, communes, pros, today, result, progress_file):
    from faker import Faker
    from tqdm import tqdm

    from spie.people.models import Consent, FollowUpMembership, HealthInfo, Person, TimelineEvent

    if n <= 0:
        return
    rng = random.Random(f"{seed}-persons")
    fake = Faker("fr_FR")
    fake.seed_instance(seed + 1)

    # Pools of names and streets, drawn once; persons pick from them.
    last_names = [fake.last_name() for _ in range(4000)]
    last_names += [f"{fake.last_name()}-{fake.last_name()}" for _ in range(120)]
    female_names = [fake.first_name_female() for _ in range(3000)]
    male_names = [fake.first_name_male() for _ in range(3000)]
    streets = [fake.street_name() for _ in range(3000)]
    mail_domains = ["courriel.example", "messagerie.example", "boite.example"]

    # Communes weighted by population; each commune's nearest structure per pathway group.
    commune_weights = []
    total = 0
    for commune in communes:
        total += commune.population or 1
        commune_weights.append(total)
    structure_by_key = pros.structures
    home = {key: structure_by_key[key].commune for key in structure_by_key}
    nearest_cache = {}

    def local_structures(commune, group):
        cached = nearest_cache.get((commune.code_insee, group))
        if cached is None:
            keys = pros.groups.get(group, [])
            same = [k for k in keys if home[k] is not None and home[k].code_insee == commune.code_insee]
            if same:
                cached = same
            else:
                scored = sorted(keys, key=lambda k: _distance(commune, home[k]))
                best = _distance(commune, home[scored[0]]) if scored else math.inf
                cached = [k for k in scored if _distance(commune, home[k]) == best] if best < math.inf else keys
            nearest_cache[(commune.code_insee, group)] = cached
        return cached

    pool_cache = {}

    def pick_in(commune, group, local=True):
        """A random référent of the group's structures (the nearest ones when ``local``)."""
        cache_key = (commune.code_insee if local else "", group)
        pool = pool_cache.get(cache_key)
        if pool is None:
            keys = local_structures(commune, group) if local else pros.groups.get(group, [])
            pool = pool_cache[cache_key] = [pair for key in keys for pair in pros.referents[key]]
        return rng.choice(pool) if pool else None

    # Demo référents: their share of persons, drawn from the Toulouse zone when it exists.
    toulouse = [c for c in communes if c.code_insee == "31555"]
    toulouse_share = (toulouse[0].population or 1) / total if toulouse else 1.0
    p_demo_referente = min(0.95, DEMO_REFERENTE_SHARE / (0.6 * toulouse_share))
    p_demo_conseiller = min(0.95, DEMO_CONSEILLER_SHARE / (0.82 * toulouse_share))

    territory = result.territory
    this_year = today.year
    start_number = Person.objects.filter(territory=territory).count() + 1
    used_nirs = set(Person.objects.filter(territory=territory).exclude(nir="").values_list("nir", flat=True))
    tz_hours = list(range(7, 16))
    Education = Person.Education
    education_choices = [Education.NONE, Education.LEVEL_3, Education.LEVEL_4, Education.LEVEL_5,
                         Education.LEVEL_6, Education.LEVEL_7]
    education_cw = [20, 52, 76, 87, 95, 100]
    licence_choices = ["B", "none", "in_progress", "other"]
    licence_cw = [48, 84, 94, 100]
    languages, language_w = zip(*_FOREIGN_LANGUAGES, strict=True)

    def at(day):
        return datetime(day.year, day.month, day.day, rng.choice(tz_hours), rng.randint(0, 59), tzinfo=UTC)

    def clamp(day):
        return min(day, today)

    progress = tqdm(
        total=n, desc="Personnes accompagnées", unit=" pers.", file=progress_file,
        disable=True if progress_file is None else None, mininterval=0.5, dynamic_ncols=True,
    )
    done = 0
    while done < n:
        size = min(BATCH_SIZE, n - done)
        batch = []  # (person, profile dict)
        for i in range(size):
            number = start_number + done + i
            commune = communes[_pick(commune_weights, rng.random() * total)]
            r = rng.random()
            sex = "F" if r < 0.53 else ("M" if r < 0.995 else "X")
            r = rng.random()
            if r < 0.18:
                age = rng.randint(18, 25)
            elif r < 0.38:
                age = rng.randint(50, 64)
            else:
                age = rng.randint(26, 49)
            birth_date = _years_before(today, age) - timedelta(days=rng.randint(1, 364))
            if sex == "F" or (sex == "X" and rng.random() < 0.5):
                first_name = rng.choice(female_names)
            else:
                first_name = rng.choice(male_names)
            last_name = rng.choice(last_names)
            birth_name = rng.choice(last_names) if sex == "F" and age > 28 and rng.random() < 0.3 else ""

            # Household
            children = []
            if rng.random() < 0.35 and age >= 19:
                if age <= 45 and rng.random() < 0.3:
                    children.append(this_year - rng.randint(0, 2))
                older = rng.choices([0, 1, 2, 3], weights=[20, 45, 25, 10])[0] if children else rng.choices(
                    [1, 2, 3], weights=[50, 35, 15])[0]
                low = max(birth_date.year + 18, this_year - 24)
                high = this_year - 3
                if low <= high:
                    children.extend(rng.randint(low, high) for _ in range(older))
                if not children:
                    children.append(this_year - rng.randint(0, 2))
                children.sort(reverse=True)
            lone_parent = bool(children) and rng.random() < (0.5 if sex == "F" else 0.12)

            # Rights
            rsa = rng.random() < 0.6
            rsa_opened = today - timedelta(days=rng.randint(0, 3 * 365)) if rsa else None
            if rsa:
                entered_on = clamp(rsa_opened + timedelta(days=rng.randint(0, 60)))
            else:
                entered_on = today - timedelta(days=rng.randint(0, 3 * 365))
            rqth = rng.random() < 0.07
            msa = rsa and rng.random() < 0.05
            nir = ""
            if rng.random() < 0.5:
                r = rng.random()
                if r < 0.55:
                    department, commune3 = "31", commune.code_insee[2:]
                elif r < 0.88:
                    department, commune3 = rng.choice(_OTHER_DEPARTMENTS), f"{rng.randint(1, 400):03d}"
                else:
                    department, commune3 = "99", rng.choice(_BIRTH_COUNTRIES)
                nir = make_nir(rng, sex, birth_date, department, commune3)
                while nir in used_nirs:  # one NIR, one person (drawn again: a new order number)
                    nir = make_nir(rng, sex, birth_date, department, commune3)
                used_nirs.add(nir)
            # Situation
            if rng.random() < 0.92:
                spoken = ["Français"]
                if rng.random() < 0.3:
                    spoken.append(rng.choices(languages, weights=language_w)[0])
            else:
                spoken = [rng.choices(languages, weights=language_w)[0], "Français (notions)"]
            licence = licence_choices[_pick(licence_cw, rng.random() * 100)]
            vehicle = rng.random() < (0.65 if licence in ("B", "other") else 0.03)
            email = ""
            if rng.random() < 0.6:
                email = f"{fold(first_name)}.{fold(last_name)}{rng.randint(1, 99)}@{rng.choice(mail_domains)}"
            last_contact = entered_on + timedelta(days=rng.randint(0, max(0, (today - entered_on).days)))
            person = Person(
                territory=territory,
                first_name=first_name,
                last_name=last_name,
                birth_name=birth_name,
                birth_date=birth_date,
                sex=sex,
                commune=commune,
                address=f"{rng.randint(1, 180)} {rng.choice(streets)}",
                phone=fiction_phone(rng, "06 39 98") if rng.random() < 0.8 else "",
                email=email,
                nir=nir,
                caf_number=f"{rng.randint(1000000, 9999999)}" if rsa and not msa and rng.random() < 0.95 else "",
                msa_number=f"{rng.randint(10000000, 99999999)}" if msa else "",
                france_travail_id=(
                    f"{rng.randint(1000000, 9999999)}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
                    if rng.random() < (0.5 if rsa else 0.85) else ""
                ),
                internal_id=f"D{territory.code}-{number:06d}",
                lone_parent=lone_parent,
                children_birth_years=children,
                rsa=rsa,
                rsa_rights_opened_on=rsa_opened,
                rsa_droits_devoirs=rsa and rng.random() < 0.85,
                are=rng.random() < (0.05 if rsa else 0.45),
                ass=rng.random() < 0.04,
                aah=rqth and rng.random() < 0.3,
                prime_activite=rng.random() < 0.12,
                education_level=education_choices[_pick(education_cw, rng.random() * 100)],
                languages=spoken,
                driving_licence=licence,
                has_vehicle=vehicle,
                last_name_key=fold(last_name),
                first_name_key=fold(first_name),
                entered_on=entered_on,
                last_contact_on=last_contact,
            )
            batch.append((person, {"age": age, "rqth": rqth, "msa": msa}))

        # Référent unique and follow-up group (decided before the insert: created_by is the référent).
        groups = []
        for person, profile in batch:
            commune = person.commune
            in_toulouse = not toulouse or commune.code_insee == "31555"
            young = profile["age"] < 26
            if in_toulouse and person.rsa and rng.random() < p_demo_referente:
                referent, group = pros.demo_referente, "mds"
            elif in_toulouse and not young and rng.random() < p_demo_conseiller:
                referent, group = pros.demo_conseiller, "ft"
            else:
                if young:
                    group = _weighted(rng, [("ml", 65), ("ft", 20), ("mds" if person.rsa else "asso", 15)])
                elif profile["rqth"] and rng.random() < 0.5:
                    group = "cap"
                elif person.rsa:
                    group = _weighted(rng, [("mds", 40), ("ft", 30), ("plie", 15), ("asso", 12),
                                            ("health" if profile["msa"] else "mds", 3)])
                else:
                    group = _weighted(rng, [("ft", 65), ("plie", 15), ("asso", 15), ("mds", 5)])
                if group == "ml":
                    # Mission locale de Toulouse in Toulouse, Mission locale Haute-Garonne elsewhere.
                    key = "ml-toulouse" if commune.code_insee == "31555" else "ml-haute-garonne"
                    referent = rng.choice(pros.referents[key])
                elif group == "health":  # agricultural RSA: the MSA follows the person
                    referent = rng.choice(pros.referents["msa-mps"])
                else:
                    referent = pick_in(commune, group, local=group not in ("cap", "health"))
            person.created_by = referent[0]
            members = []
            opposed = rng.random() < 0.02
            if not opposed:
                k = rng.choices([0, 1, 2, 3], weights=[35, 35, 20, 10])[0]
                options = {
                    "ft": 30, "caf": 25 if person.rsa else 5, "employers": 20, "asso": 12, "health": 5, "support": 4,
                }
                if person.rsa:
                    options["mds"] = 20
                if profile["rqth"]:
                    options["cap"] = 40
                if young:
                    options["ml"] = 30
                options.pop(group, None)
                taken = {referent[0].pk}
                for _ in range(k):
                    if not options:
                        break
                    member_group = _weighted(rng, list(options.items()))
                    del options[member_group]
                    member = pick_in(commune, member_group, local=member_group in ("ft", "mds", "asso", "plie"))
                    if member is None or member[0].pk in taken or member[1] is referent[1]:
                        continue
                    taken.add(member[0].pk)
                    members.append((member, member_group))
            groups.append((referent, members, opposed))

        persons = [p for p, _ in batch]
        fast_insert(Person, persons, assign_pk=True)

        followups, consents, events, healths = [], [], [], []
        for (person, profile), (referent, members, opposed) in zip(batch, groups, strict=True):
            user, structure = referent
            assigned = clamp(person.entered_on + timedelta(days=rng.randint(0, 45)))
            followups.append(FollowUpMembership(
                person=person, user=user, structure=structure, kind="referent", can_see_health=True,
                start_date=assigned, reason="Orientation" if person.rsa else "Accompagnement", added_by=user,
            ))
            events.append(TimelineEvent(
                person=person, at=at(person.entered_on), kind="created", title="Entrée dans le parcours",
                detail="Ouverture des droits RSA" if person.rsa else "", actor=user, structure=structure,
            ))
            if rng.random() < 0.9:
                events.append(TimelineEvent(
                    person=person, at=at(assigned), kind="referent",
                    title=f"Référent désigné : {user.first_name} {user.last_name} ({structure.name})",
                    actor=user, structure=structure,
                ))
            for (member_user, member_structure), member_group in members:
                joined = clamp(assigned + timedelta(days=rng.randint(0, 120)))
                followups.append(FollowUpMembership(
                    person=person, user=member_user, structure=member_structure, kind="member",
                    can_see_health=profile["rqth"] and member_group == "cap", start_date=joined,
                    reason=_MEMBER_REASONS.get(member_group, ""), added_by=user,
                ))
            if members:
                (member_user, member_structure), _ = members[0]
                events.append(TimelineEvent(
                    person=person, at=at(clamp(assigned + timedelta(days=rng.randint(0, 120)))),
                    kind="group_joined",
                    title=f"{member_user.first_name} {member_user.last_name} ({member_structure.name}) "
                    "rejoint le groupe de suivi",
                    actor=user, structure=structure,
                ))
            if opposed:
                consents.append(Consent(
                    person=person, scope=Consent.Scope.SHARING, status=Consent.Status.OPPOSED,
                    given_on=assigned, channel=Consent.Channel.IN_PERSON, recorded_by=user,
                ))
            elif rng.random() < 0.9:
                consents.append(Consent(
                    person=person, scope=Consent.Scope.SHARING, status=Consent.Status.GIVEN, given_on=assigned,
                    channel=_weighted(rng, [("in_person", 75), ("paper", 15), ("phone", 7), ("online", 3)]),
                    recorded_by=user,
                ))
            if profile["rqth"]:
                healths.append(HealthInfo(
                    person=person, rqth=True,
                    rqth_until=today + timedelta(days=rng.randint(30, 5 * 365)),
                    work_restrictions=rng.choice(_WORK_RESTRICTIONS), updated_by=user,
                ))
        fast_insert(FollowUpMembership, followups)
        fast_insert(Consent, consents)
        fast_insert(TimelineEvent, events)
        fast_insert(HealthInfo, healths)

        result.persons += len(persons)
        result.followups += len(followups)
        result.consents += len(consents)
        result.timeline_events += len(events)
        result.health_infos += len(healths)
        done += size
        progress.update(size)
    progress.close()


def _pick(cumulative, x):
    """Index of the first cumulative weight strictly above ``x``."""
    return min(bisect_right(cumulative, x), len(cumulative) - 1)
