"""Demo data of the employer side (issue 6): companies, openings, immersion offers, engagements,
job-search profiles, positionings and immersions, then the proposals of the matching engine.

Runs after ``seed_referrals`` (``spie.core.demo.seed``). Everything is synthetic (DESIGN.md §5):
company names are built from the words below and the commune, SIRETs are invented (Luhn-valid
SIREN and SIRET, so they pass the platform's checks, but drawn at random), contacts end in
``.example``, phones are in the ARCEP fiction range "05 36 49". Only the communes of the 31, the
NAF codes and the ROME codes (real codes of the referential, consistent with each sector) are real.

- :func:`seed_employers` writes ``companies`` companies (60 by default) over the communes of the
  31 weighted by population, about ``openings`` openings (200 open by default, plus some filled
  or closed) in plausible sectors (restaurants, building, logistics, home help, cleaning, retail,
  industry, health, agriculture, security), immersion offers, engagements of every kind with
  registrations, a job-search profile for about 70 % of the persons not exited (targets from
  their last diagnostic when there is one), one company with its own space and the demo login
  ``entreprise.demo@spie31.example``, positionings and immersions in every status for persons of
  the demo référente, then computes the proposals (``matching_adapter.recompute_territory``).
- :func:`seed_profiles` and :func:`seed_openings` are the two bulk parts, reused by
  ``bench/employers.py`` at a larger scale.

Running it again on a territory that already has companies does nothing (the demo is one-off).
"""

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from spie.core.text import fold_words

DEFAULT_COMPANIES = 60
DEFAULT_OPENINGS = 200
DEFAULT_IMMERSION_OFFERS = 40
DEFAULT_ENGAGEMENTS = 30
PROFILE_SHARE = 0.7
COMPANY_EMAIL = "entreprise.demo@spie31.example"
COMPANY_NAME = "Brasserie des Carmes"
REFERENTE_EMAIL = "referente.demo@spie31.example"
BATCH = 2000


@dataclass(frozen=True)
class Sector:
    key: str
    label: str
    naf: tuple  # (code, label) — real NAF rév. 2 codes
    romes: tuple  # (code, ROME label, job titles) — real ROME codes
    words: tuple  # company name patterns ({commune} is replaced)
    schedules: tuple  # (schedule codes, weight)
    contracts: tuple  # (contract, weight)
    licence: float  # share of openings requiring the B licence
    health: tuple  # HealthDemand codes the jobs usually involve
    qualification: tuple = ()  # possible required qualifications (empty string: none)
    weight: int = 10


SECTORS = [
    Sector(
        "restauration", "Restauration",
        (("56.10A", "Restauration traditionnelle"), ("56.10C", "Restauration de type rapide"),
         ("56.29A", "Restauration collective sous contrat")),
        (("G1602", "Personnel de cuisine", ("Commis de cuisine", "Cuisinier / Cuisinière", "Second de cuisine")),
         ("G1603", "Personnel polyvalent en restauration", ("Employé polyvalent de restauration",
                                                            "Équipier / Équipière polyvalent")),
         ("G1803", "Service en restauration", ("Serveur / Serveuse", "Chef de rang")),
         ("G1605", "Plonge en restauration", ("Plongeur / Plongeuse",))),
        ("Brasserie {commune}", "Le Bistrot de {commune}", "Restaurant L'Occitan", "Cantine du Canal",
         "Resto'Garonne", "Traiteur des Coteaux"),
        ((("day", "late"), 40), (("day", "late", "weekend"), 35), (("day",), 25)),
        (("cdi", 30), ("cdd", 30), ("saisonnier", 15), ("interim", 10), ("alternance", 10), ("insertion", 5)),
        0.05, ("standing",), weight=14,
    ),
    Sector(
        "btp", "Bâtiment et travaux publics",
        (("43.99C", "Travaux de maçonnerie générale et gros œuvre de bâtiment"),
         ("43.34Z", "Travaux de peinture et vitrerie"), ("42.11Z", "Construction de routes et autoroutes")),
        (("F1703", "Maçonnerie", ("Maçon / Maçonne", "Aide-maçon")),
         ("F1704", "Préparation du gros œuvre et des travaux publics", ("Manœuvre du bâtiment",
                                                                        "Ouvrier / Ouvrière de chantier")),
         ("F1606", "Peinture en bâtiment", ("Peintre en bâtiment",)),
         ("F1702", "Construction de routes et voies", ("Ouvrier / Ouvrière des travaux publics",))),
        ("Bâtir {commune}", "Maçonnerie du Lauragais", "Entreprise Garonne Construction", "Peintures de l'Hers",
         "Routes et Réseaux du Comminges", "SCOP Les Bâtisseurs"),
        ((("day", "early"), 60), (("day",), 40)),
        (("cdi", 25), ("cdd", 20), ("interim", 30), ("alternance", 10), ("insertion", 15)),
        0.5, ("heavy_loads", "outdoor", "standing"), ("", "", "CACES R482"), weight=12,
    ),
    Sector(
        "logistique", "Logistique et transport",
        (("52.10B", "Entreposage et stockage non frigorifique"), ("49.41B", "Transports routiers de fret de proximité"),
         ("53.20Z", "Autres activités de poste et de courrier")),
        (("N1103", "Magasinage et préparation de commandes", ("Préparateur / Préparatrice de commandes",
                                                              "Magasinier / Magasinière")),
         ("N1105", "Manutention manuelle de charges", ("Manutentionnaire",)),
         ("N1101", "Conduite d'engins de déplacement des charges", ("Cariste",)),
         ("N4105", "Conduite et livraison par tournées sur courte distance", ("Chauffeur livreur / Chauffeuse "
                                                                               "livreuse",))),
        ("Logistique Sud-Ouest {commune}", "Entrepôts de l'Eurocentre", "Plateforme Garonne Log", "Colis Express 31",
         "Transports du Volvestre"),
        ((("early", "day"), 35), (("day",), 25), (("night",), 15), (("early", "day", "late"), 25)),
        (("cdi", 20), ("cdd", 20), ("interim", 45), ("insertion", 15)),
        0.35, ("heavy_loads", "standing"), ("", "", "CACES R489"), weight=13,
    ),
    Sector(
        "aide_personne", "Aide à la personne",
        (("88.10A", "Aide à domicile"), ("87.10A", "Hébergement médicalisé pour personnes âgées")),
        (("K1302", "Assistance auprès d'adultes", ("Auxiliaire de vie", "Assistant / Assistante de vie aux "
                                                                        "familles")),
         ("K1304", "Services domestiques", ("Aide ménager / ménagère à domicile", "Employé / Employée de maison"))),
        ("Âge d'Or Services {commune}", "Domicile Plus 31", "Les Mains Solidaires", "ADMR {commune}",
         "Présence Occitanie"),
        ((("day",), 40), (("early", "day"), 30), (("day", "weekend"), 30)),
        (("cdi", 55), ("cdd", 30), ("insertion", 15)),
        0.6, ("standing",), ("", "", "Titre professionnel ADVF"), weight=12,
    ),
    Sector(
        "proprete", "Propreté",
        (("81.21Z", "Nettoyage courant des bâtiments"), ("81.22Z", "Autres activités de nettoyage des bâtiments")),
        (("K2204", "Nettoyage de locaux", ("Agent / Agente de propreté", "Agent / Agente de nettoyage")),),
        ("Net'Services {commune}", "Propreté du Sud-Ouest", "Clair Net 31", "Entreprise d'insertion Éclat"),
        ((("early",), 30), (("early", "late"), 30), (("late",), 20), (("day",), 20)),
        (("cdi", 40), ("cdd", 30), ("insertion", 30)),
        0.1, ("standing",), weight=10,
    ),
    Sector(
        "commerce", "Commerce",
        (("47.11D", "Supermarchés"), ("47.11F", "Hypermarchés"), ("47.71Z", "Commerce de détail d'habillement en "
                                                                             "magasin spécialisé")),
        (("D1507", "Mise en rayon libre-service", ("Employé / Employée de libre-service",)),
         ("D1505", "Personnel de caisse", ("Hôte / Hôtesse de caisse",)),
         ("D1106", "Vente en alimentation", ("Vendeur / Vendeuse en boulangerie", "Vendeur / Vendeuse en "
                                                                                  "alimentation")),
         ("D1214", "Vente en habillement et accessoires de la personne", ("Vendeur / Vendeuse en prêt-à-porter",))),
        ("Supermarché du Marché {commune}", "Boulangerie Au Pain d'Autan", "Hyper Occitanie {commune}",
         "Boutique Violette"),
        ((("early", "day"), 35), (("day", "weekend"), 40), (("day", "late", "weekend"), 25)),
        (("cdi", 35), ("cdd", 35), ("interim", 10), ("alternance", 10), ("saisonnier", 10)),
        0.02, ("standing",), weight=12,
    ),
    Sector(
        "industrie", "Industrie",
        (("30.30Z", "Construction aéronautique et spatiale"), ("10.71A", "Fabrication industrielle de pain et de "
                                                                          "pâtisserie fraîche"),
         ("25.62B", "Mécanique industrielle")),
        (("H3302", "Opérations manuelles d'assemblage, tri ou emballage", ("Opérateur / Opératrice de "
                                                                           "conditionnement",)),
         ("H2102", "Conduite d'équipement de production alimentaire", ("Conducteur / Conductrice de ligne de "
                                                                       "production alimentaire",)),
         ("H2913", "Soudage manuel", ("Soudeur / Soudeuse",)),
         ("H3203", "Fabrication de pièces en matériaux composites", ("Stratifieur / Stratifieuse composites",))),
        ("Aéro Composites {commune}", "Mécanique de précision du Touch", "Boulangerie industrielle d'Occitanie",
         "Ateliers de la Save"),
        ((("early", "day", "late"), 40), (("day",), 35), (("night",), 25)),
        (("cdi", 30), ("cdd", 15), ("interim", 40), ("alternance", 15)),
        0.2, ("standing", "heavy_loads"), ("", "", "", "CQPM soudage"), weight=10,
    ),
    Sector(
        "sante", "Santé et médico-social",
        (("86.10Z", "Activités hospitalières"), ("87.10A", "Hébergement médicalisé pour personnes âgées")),
        (("J1501", "Soins d'hygiène, de confort du patient", ("Aide-soignant / Aide-soignante",)),
         ("J1301", "Personnel polyvalent des services hospitaliers", ("Agent / Agente de service hospitalier",))),
        ("EHPAD Les Tilleuls", "Clinique de la Garonne", "Résidence Les Coteaux {commune}", "Centre de soins du "
                                                                                          "Volvestre"),
        ((("early", "day"), 40), (("day", "late", "weekend"), 40), (("night",), 20)),
        (("cdi", 45), ("cdd", 45), ("interim", 10)),
        0.05, ("standing", "night_work"), ("", "Diplôme d'État d'aide-soignant"), weight=8,
    ),
    Sector(
        "agriculture", "Agriculture et espaces verts",
        (("81.30Z", "Services d'aménagement paysager"), ("01.13Z", "Culture de légumes, de melons, de racines et "
                                                                    "tubercules"),
         ("01.21Z", "Culture de la vigne")),
        (("A1203", "Aménagement et entretien des espaces verts", ("Jardinier / Jardinière paysagiste",
                                                                   "Ouvrier / Ouvrière paysagiste")),
         ("A1414", "Horticulture et maraîchage", ("Ouvrier / Ouvrière maraîcher",)),
         ("A1401", "Aide agricole de production fruitière ou viticole", ("Ouvrier / Ouvrière viticole",))),
        ("Jardins du Lauragais", "Paysages de {commune}", "Maraîchers de la Garonne", "Domaine de Fronton"),
        ((("early", "day"), 60), (("day",), 40)),
        (("cdd", 30), ("saisonnier", 35), ("cdi", 15), ("insertion", 20)),
        0.45, ("outdoor", "heavy_loads"), weight=7,
    ),
    Sector(
        "securite", "Sécurité",
        (("80.10Z", "Activités de sécurité privée"),),
        (("K2503", "Sécurité et surveillance privées", ("Agent / Agente de sécurité",)),),
        ("Sécurité Garonne {commune}", "Vigilance 31"),
        ((("night",), 40), (("day", "late", "weekend"), 60)),
        (("cdi", 40), ("cdd", 45), ("interim", 15)),
        0.15, ("standing", "night_work"), ("Carte professionnelle CNAPS",), weight=4,
    ),
]
SIZES = [("0-9", 40), ("10-49", 35), ("50-249", 18), ("250+", 7)]
CONTACT_FIRST = ["Claire", "Sophie", "Nathalie", "Julien", "Mehdi", "Sandrine", "Laurent", "Inès", "Marc", "Élodie",
                 "Fabien", "Samia", "Olivier", "Céline", "Yannick"]
CONTACT_LAST = ["Garrigues", "Castex", "Lacaze", "Baylac", "Fourcade", "Dupuy", "Sarraute", "Mercadier", "Bonnet",
                "Estrade", "Carrère", "Lafforgue", "Pujol", "Rouquette", "Vidal"]
WHAT_WE_OFFER = [
    "Accueil par un tuteur pendant le premier mois, équipe bienveillante.",
    "Poste ouvert aux débutants : formation en interne.",
    "Tickets restaurant, mutuelle prise en charge à 60 %.",
    "Horaires fixes, planning connu un mois à l'avance.",
    "Possibilité d'évolution vers un poste de chef d'équipe.",
]
SKILLS = {
    "restauration": ["Respect des règles d'hygiène (HACCP)", "Travail en équipe", "Mise en place"],
    "btp": ["Lecture de plans simples", "Port des équipements de protection", "Maçonnerie"],
    "logistique": ["Préparation de commandes", "Lecture de bons de livraison", "Gestes et postures"],
    "aide_personne": ["Aide au repas", "Entretien du logement", "Écoute"],
    "proprete": ["Utilisation d'autolaveuse", "Produits d'entretien", "Autonomie"],
    "commerce": ["Encaissement", "Mise en rayon", "Accueil des clients"],
    "industrie": ["Conditionnement", "Contrôle qualité", "Respect des cadences"],
    "sante": ["Soins d'hygiène", "Bionettoyage", "Travail en équipe"],
    "agriculture": ["Taille", "Récolte", "Utilisation de petits engins"],
    "securite": ["Rondes de surveillance", "Contrôle d'accès", "Rédaction de rapports"],
}
ENGAGEMENT_TITLES = {
    "visit": ["Visite de l'entreprise {company}", "Une matinée chez {company}"],
    "discovery": ["Découverte des métiers : {sector}", "Les métiers de {sector} en vrai"],
    "webinar": ["Webinaire : recruter dans {sector}", "Webinaire : les métiers de {sector} qui recrutent"],
    "mentoring": ["Parrainage par un salarié de {company}", "Programme de parrainage {sector}"],
    "job_dating": ["Job dating {sector}", "Job dating des entreprises inclusives"],
}
EMPLOYER_PARTNERS = ("face-grand-toulouse", "crepi", "club-entreprises-inclusives", "btp31", "geiq-btp-31",
                     "fei-occitanie", "cci-toulouse", "cma31")
FOLLOWERS = ("face-grand-toulouse", "crepi", "club-entreprises-inclusives", "ft-toulouse-bonnefoy",
             "ft-toulouse-mirail", "ft-blagnac", "ft-colomiers", "ft-labege", "ft-muret", "ft-saint-gaudens")


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _n(value):
    return f"{value:,}".replace(",", "\u202f")


def _luhn_complete(digits):
    """``digits`` followed by the Luhn check digit."""
    from stdnum import luhn

    return digits + luhn.calc_check_digit(digits)


def invented_siret(rng):
    """A Luhn-valid SIREN and SIRET, drawn at random (an invented number, never looked up)."""
    siren = _luhn_complete(f"{rng.randint(1, 9)}{rng.randint(0, 9_999_999):07d}")
    return _luhn_complete(f"{siren}{rng.randint(1, 9999):04d}")


def _at(rng, day, hour_low=8, hour_high=17):
    return datetime(day.year, day.month, day.day, rng.randint(hour_low, hour_high), rng.randint(0, 59), tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Referentials
# --------------------------------------------------------------------------------------------


def ensure_romes():
    """{code: RomeCode} for every ROME code of :data:`SECTORS` (and the diagnostics' common codes).

    The codes come from the loaded referential; a code missing there (a test database without
    ``load_referentials``) is created with the label above, so the demo runs anyway.
    """
    from spie.referentials.models import RomeCode, RomeDomain

    wanted = {code: label for sector in SECTORS for code, label, _titles in sector.romes}
    found = RomeCode.objects.in_bulk(list(wanted))
    for code, label in wanted.items():
        if code not in found:
            domain, _ = RomeDomain.objects.get_or_create(
                code=code[:3], defaults={"label": f"Domaine {code[:3]}", "level": "domaine"}
            )
            found[code] = RomeCode.objects.create(code=code, label=label, domain=domain)
    return found


def _naf_codes():
    from spie.referentials.models import NafCode

    wanted = [code for sector in SECTORS for code, _label in sector.naf]
    return NafCode.objects.in_bulk(wanted)


def _communes(territory_code):
    from spie.referentials.models import Commune

    communes = list(Commune.objects.filter(departement=territory_code, lat__isnull=False).order_by("code_insee"))
    return communes


class _Picker:
    """Communes drawn by population (companies are where people are)."""

    def __init__(self, communes, rng):
        self.communes = communes
        self.weights = [max(c.population or 1, 1) for c in communes]
        self.rng = rng
        self.by_code = {c.code_insee: c for c in communes}

    def pick(self):
        return self.rng.choices(self.communes, weights=self.weights)[0]


# --------------------------------------------------------------------------------------------
# Companies and openings
# --------------------------------------------------------------------------------------------


def _company(rng, territory, sector, commune, nafs, index, used):
    from spie.employers.models import Company

    for _ in range(20):
        name = rng.choice(sector.words).format(commune=commune.name)
        if name not in used:
            break
        name = f"{name} ({commune.name})" if "{commune}" not in name else f"{name} {index}"
    used.add(name)
    naf_code = rng.choice(sector.naf)[0]
    first, last = rng.choice(CONTACT_FIRST), rng.choice(CONTACT_LAST)
    domain = slugify(name)[:30] + ".example"
    return Company(
        territory=territory, siret=invented_siret(rng), name=name, naf=nafs.get(naf_code),
        size=_weighted(rng, SIZES), commune=commune,
        address=f"{rng.randint(1, 120)} {rng.choice(['avenue', 'rue', 'chemin', 'allée'])} "
                f"{rng.choice(['des Artisans', 'de la Gare', 'du Canal', 'des Pyrénées', 'de l’Industrie'])}",
        contact_name=f"{first} {last}", contact_email=f"{fold_words(first).replace(' ', '-')}.rh@{domain}",
        contact_phone=f"05 36 49 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}",
        description=f"{sector.label} — entreprise de {commune.name}.",
        is_inclusive=rng.random() < 0.35, search_key=fold_words(name)[:200],
    )


def build_opening(rng, company, sector, romes, commune, today, *, status="open", remote=False):
    """An unsaved JobOpening of ``company`` in ``sector`` (dates relative to ``today``)."""
    from spie.employers.models import JobOpening

    code, _label, titles = rng.choice(sector.romes)
    contract = _weighted(rng, sector.contracts)
    duration = rng.choice((3, 6, 6, 12)) if contract in ("cdd", "saisonnier", "insertion") else (
        24 if contract == "alternance" else None)
    hours = rng.choice((35, 35, 35, 30, 28, 24, 20))
    schedule = list(_weighted(rng, sector.schedules))
    opened = today - timedelta(days=int(rng.expovariate(1 / 20)) % 120)
    opening = JobOpening(
        company=company, territory_id=company.territory_id, rome=romes[code], title=rng.choice(titles),
        description=f"{rng.choice(titles)} au sein de {company.name}. {rng.choice(WHAT_WE_OFFER)}",
        contract_type=contract, duration_months=duration, weekly_hours=Decimal(hours), schedule=schedule,
        commune=None if remote else commune, remote=remote, positions=rng.choices((1, 2, 3, 5), (70, 18, 8, 4))[0],
        requires_licence=rng.random() < sector.licence,
        qualification=rng.choice(sector.qualification) if sector.qualification else "",
        min_experience_months=rng.choice((0, 0, 0, 6, 12)),
        health_demands=[h for h in sector.health if rng.random() < 0.7],
        offers_training=rng.random() < 0.4, offers_mentoring=rng.random() < 0.3,
        adapted_position=rng.random() < 0.15, status=status, opened_on=opened,
    )
    if status == "filled":
        opening.filled_on = min(today, opened + timedelta(days=rng.randint(5, 40)))
    elif status == "closed":
        opening.closed_on = min(today, opened + timedelta(days=rng.randint(5, 60)))
    return opening


def seed_openings(territory, companies, count, *, rng, today, romes=None, closed_share=0.15):
    """``count`` open openings over ``companies`` [(company, sector)] plus about ``closed_share``
    more filled or closed ones; bulk-inserted. Returns the list of open openings."""
    from spie.core.bulk import fast_insert

    romes = romes or ensure_romes()
    rows = []
    for i in range(count + int(count * closed_share)):
        company, sector = companies[i % len(companies)] if i < len(companies) else rng.choice(companies)
        commune = company.commune
        status = "open" if i < count else rng.choice(("filled", "filled", "closed"))
        rows.append(build_opening(rng, company, sector, romes, commune, today, status=status))
    for start in range(0, len(rows), BATCH):
        fast_insert(type(rows[0]), rows[start:start + BATCH], assign_pk=True)
    return [o for o in rows if o.status == "open"]


def company_sectors(territory):
    """[(company, sector)] of the territory's companies, the sector read from the NAF code (or the
    description the demo writes), for adding openings consistent with each company."""
    from spie.employers.models import Company

    by_naf = {code: sector for sector in SECTORS for code, _label in sector.naf}
    by_label = {sector.label: sector for sector in SECTORS}
    out = []
    for company in Company.objects.filter(territory=territory, commune__lat__isnull=False).select_related("commune"):
        sector = by_naf.get(company.naf_id) or by_label.get(company.description.split(" — ")[0])
        if sector is not None:
            out.append((company, sector))
    return out


# --------------------------------------------------------------------------------------------
# Job-search profiles
# --------------------------------------------------------------------------------------------

# Targets drawn for a person without a diagnostic (codes of SECTORS), with weights.
PLAUSIBLE_TARGETS = [
    ("K2204", 12), ("K1304", 10), ("K1302", 8), ("N1103", 10), ("N1105", 5), ("G1603", 8), ("G1602", 6),
    ("G1803", 5), ("D1507", 8), ("D1505", 5), ("D1106", 3), ("F1703", 4), ("F1704", 5), ("H3302", 5),
    ("A1203", 5), ("J1301", 4), ("J1501", 2), ("K2503", 3), ("N4105", 3),
]


def _last_targets(person_ids):
    """{person_id: (ROME codes, years of experience)} from each person's last completed diagnostic."""
    from spie.diagnostics.models import Diagnostic

    out = {}
    ids = list(person_ids)
    for start in range(0, len(ids), 5000):
        rows = (
            Diagnostic.objects.filter(person_id__in=ids[start:start + 5000], status=Diagnostic.Status.COMPLETED)
            .order_by("person_id", "completed_at", "id")
            .values_list("person_id", "answers")
        )
        for person_id, answers in rows.iterator(chunk_size=2000):
            answers = answers or {}
            codes = [c for c in (answers.get("metiers_cibles") or []) if isinstance(c, str) and len(c) == 5]
            last = [c for c in (answers.get("dernier_emploi") or []) if isinstance(c, str) and len(c) == 5]
            years = answers.get("experience_annees")
            out[person_id] = (codes, last, years if isinstance(years, int | float) else None)  # last one wins
    return out


def seed_profiles(territory, *, rng, today, share=PROFILE_SHARE, persons=None, romes=None, progress=None):
    """Job-search profiles (with 1 to 3 targets) for ``share`` of the persons of ``territory``
    not exited (or of ``persons``: rows of ``values()``), bulk-inserted. Returns the number."""
    from spie.core.bulk import fast_insert
    from spie.employers.models import JobSearchProfile, TargetJob
    from spie.people.models import Person

    romes = romes or ensure_romes()
    from spie.referentials.models import RomeCode

    if persons is None:
        persons = list(
            Person.objects.filter(territory=territory).exclude(status=Person.Status.EXITED)
            .exclude(job_search__isnull=False).order_by("pk")
            .values("pk", "commune_id", "driving_licence", "has_vehicle", "children_birth_years", "birth_date",
                    "created_by_id")
        )
    chosen = [p for p in persons if rng.random() < share]
    diag = _last_targets(p["pk"] for p in chosen)
    known_codes = set(RomeCode.objects.filter(code__in={c for v in diag.values() for c in v[0] + v[1]})
                      .values_list("code", flat=True)) | set(romes)
    codes, weights = zip(*PLAUSIBLE_TARGETS, strict=True)
    profiles, targets = [], []
    done = 0
    for p in chosen:
        licence = p["driving_licence"] in ("B", "other")
        car = licence and p["has_vehicle"]
        if car:
            mode, minutes = "car", rng.choice((30, 40, 45, 60))
        else:
            mode = "public" if rng.random() < 0.85 else "active"
            minutes = rng.choice((30, 45, 45, 60)) if mode == "public" else rng.choice((15, 20, 30))
        young_children = [y for y in (p["children_birth_years"] or []) if today.year - int(y) < 12]
        conflicts = []
        if young_children and rng.random() < 0.6:
            conflicts = rng.choice((["early"], ["late"], ["early", "late"], ["weekend"], ["early", "weekend"]))
        availability = ["day"] + [s for s, share_ in (("early", 0.45), ("late", 0.4), ("weekend", 0.35),
                                                     ("night", 0.12)) if rng.random() < share_]
        # Hours the person could work if the children were looked after: the conflicts are among them.
        availability += [s for s in conflicts if s not in availability]
        age = (today - p["birth_date"]).days // 365 if p["birth_date"] else 35
        hours_max = 35 if rng.random() < 0.8 else rng.choice((24, 28, 30))
        contracts = sorted({"cdi", "cdd"} | {c for c, s in (("interim", 0.5), ("insertion", 0.5),
                                                            ("saisonnier", 0.2),
                                                            ("alternance", 0.5 if age < 30 else 0.05))
                                             if rng.random() < s})
        profile = JobSearchProfile(
            person_id=p["pk"], commune_id=p["commune_id"], travel_mode=mode, max_travel_minutes=minutes,
            availability=availability, childcare_conflicts=conflicts, contracts=contracts,
            hours_min=rng.choice((0, 15, 20, 24)), hours_max=hours_max,
            available_from=today + timedelta(days=rng.choice((0, 0, 0, 7, 15, 30))) if rng.random() < 0.3 else None,
            is_active=rng.random() < 0.95, visible_to_employers=rng.random() < 0.4,
            updated_by_id=p.get("created_by_id"),
        )
        wanted, last, years = diag.get(p["pk"], ([], [], None))
        picked = [c for c in wanted if c in known_codes][:3]
        if not picked:
            picked = []
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                code = rng.choices(codes, weights=weights)[0]
                if code not in picked:
                    picked.append(code)
        experience = int(min(years or rng.choice((0, 0, 1, 2, 5)), 30) * 12)
        profiles.append((profile, [
            (i, code, experience if (i == 0 or code in last) else rng.choice((0, 0, 6, 12)))
            for i, code in enumerate(picked)
        ]))
        if len(profiles) >= BATCH:
            done += _flush_profiles(profiles, targets, fast_insert, JobSearchProfile, TargetJob)
            if progress:
                progress(done)
    done += _flush_profiles(profiles, targets, fast_insert, JobSearchProfile, TargetJob)
    if progress:
        progress(done)
    return done


def _flush_profiles(profiles, targets, fast_insert, JobSearchProfile, TargetJob):  # noqa: N803
    if not profiles:
        return 0
    fast_insert(JobSearchProfile, [p for p, _ in profiles], assign_pk=True)
    for profile, items in profiles:
        for rank, code, months in items:
            targets.append(TargetJob(profile_id=profile.pk, rank=rank, rome_id=code, experience_months=months))
    fast_insert(TargetJob, targets)
    n = len(profiles)
    profiles.clear()
    targets.clear()
    return n


# --------------------------------------------------------------------------------------------
# The whole demo
# --------------------------------------------------------------------------------------------


def seed_employers(territory, *, seed=31, today=None, log=print, progress_file=None, companies=DEFAULT_COMPANIES,
                   openings=DEFAULT_OPENINGS, recompute=True):
    """The employer side of the demo (see the module docstring). Returns counts."""
    from spie.employers.models import Company

    started = time.monotonic()
    today = today or timezone.localdate()
    counts = {"companies": 0, "openings": 0, "immersion_offers": 0, "engagements": 0, "registrations": 0,
              "job_profiles": 0, "positionings": 0, "immersions": 0}
    if companies <= 0:
        return counts
    from spie.employers.models import JobSearchProfile

    has_companies = Company.objects.filter(territory=territory).exists()
    if has_companies and JobSearchProfile.objects.filter(person__territory=territory).exists():
        log("Entreprises : des entreprises et des profils existent déjà sur le territoire, rien à créer.")
        return counts
    communes = _communes(territory.code)
    if not communes:
        log("Entreprises : aucune commune du territoire avec coordonnées, rien à créer.")
        return counts
    with transaction.atomic():
        ctx = _Context(territory, random.Random(f"{seed}-employers"), today, communes)
        if has_companies:
            log("Entreprises : déjà créées, seules les données des personnes sont ajoutées.")
        else:
            ctx.companies(companies, counts)
            log(f"Entreprises : {counts['companies']} entreprises (dont « {COMPANY_NAME} » avec son espace).")
            ctx.openings(openings, counts)
            ctx.immersion_offers(counts)
            ctx.engagements(counts)
        # The persons' side has its own random stream and reads the companies from the database,
        # so re-seeding the persons (companies kept) gives the same result as the first run.
        ctx.rng = random.Random(f"{seed}-employers-persons")
        ctx.load_company_side()
        ctx.registrations(counts)
        counts["job_profiles"] = seed_profiles(territory, rng=ctx.rng, today=today, romes=ctx.romes)
        log(
            f"Offres : {counts['openings']} offres d'emploi, {counts['immersion_offers']} offres d'immersion, "
            f"{counts['engagements']} événements ({counts['registrations']} inscriptions), "
            f"{_n(counts['job_profiles'])} profils de recherche d'emploi."
        )
        ctx.demo_profiles()
        ctx.positionings(counts)
        ctx.immersions(counts)
        log(f"Mises en relation : {counts['positionings']} ; immersions : {counts['immersions']}.")
    _analyze()
    if recompute:
        counts.update(compute_proposals(territory, log=log))
    log(f"Côté entreprises créé en {time.monotonic() - started:.1f} s.")
    return counts


def compute_proposals(territory, *, log=print):
    """Run the matching engine on the territory (``matching_adapter.recompute_territory``)."""
    try:
        from spie.employers.matching_adapter import recompute_territory
    except ImportError as exc:
        log(f"Propositions : calcul impossible, le module de rapprochement est absent ({exc}) ; "
            "lancez plus tard « python manage.py recompute_matches ».")
        return {"proposals": 0, "blocked": 0}
    from spie.employers.models import Proposal

    started = time.monotonic()
    run = recompute_territory(territory)
    referente = _referente_persons(territory)
    mine = Proposal.objects.filter(person_id__in=referente)
    eligible = set(mine.filter(kind="eligible").values_list("person_id", flat=True))
    blocked = set(mine.filter(kind="blocked").values_list("person_id", flat=True))
    log(
        f"Propositions : {_n(run.proposals)} propositions et {_n(run.blocked)} rapprochements bloqués pour "
        f"{_n(run.persons)} personnes et {_n(run.openings)} offres en {time.monotonic() - started:.1f} s "
        f"(référente de démonstration : {len(eligible)} personnes avec propositions, {len(blocked)} avec "
        "rapprochements bloqués)."
    )
    return {"proposals": run.proposals, "blocked": run.blocked, "referente_with_proposals": len(eligible),
            "referente_with_blocked": len(blocked)}


def _analyze():
    """Planner statistics after the bulk load on PostgreSQL (see ``spie.core.demo._analyze``)."""
    from spie.core.demo_catalogue import _analyze as analyze
    from spie.employers.models import Company, ImmersionOffer, JobOpening, JobSearchProfile, TargetJob

    analyze(Company, JobOpening, ImmersionOffer, JobSearchProfile, TargetJob)


def _referente_persons(territory):
    from spie.people.models import FollowUpMembership

    return list(
        FollowUpMembership.objects.filter(
            person__territory=territory, user__email=REFERENTE_EMAIL, kind="referent", end_date=None
        ).values_list("person_id", flat=True)
    )


class _Context:
    def __init__(self, territory, rng, today, communes):
        from spie.network.models import Structure, User

        self.territory = territory
        self.rng = rng
        self.today = today
        self.picker = _Picker(communes, rng)
        self.romes = ensure_romes()
        self.nafs = _naf_codes()
        slugs = {slugify(name): key for key, name in _structure_names().items()}
        self.structures = {slugs[s.slug]: s for s in Structure.objects.filter(territory=territory, slug__in=slugs)}
        self.referente = User.objects.filter(email=REFERENTE_EMAIL).first()
        self.company_list = []  # [(company, sector)]
        self.open_openings = []

    # --- companies ------------------------------------------------------------------------
    def companies(self, n, counts):
        from spie.core.bulk import fast_insert
        from spie.employers.models import Company

        rng = self.rng
        used = set()
        toulouse = self.picker.by_code.get("31555") or self.picker.communes[0]
        sectors = list(SECTORS)
        weights = [s.weight for s in sectors]
        demo = _company(rng, self.territory, SECTORS[0], toulouse, self.nafs, 0, used)
        demo.name, demo.search_key, demo.is_inclusive = COMPANY_NAME, fold_words(COMPANY_NAME), True
        demo.contact_email = "recrutement@brasserie-des-carmes.example"
        demo.description = (
            "Brasserie de 40 couverts au cœur de Toulouse, engagée dans le club des entreprises inclusives."
        )
        rows = [(demo, SECTORS[0])]
        for i in range(1, n):
            # Every sector at least once, then by weight.
            sector = sectors[i - 1] if i - 1 < len(sectors) else rng.choices(sectors, weights=weights)[0]
            commune = toulouse if rng.random() < 0.35 else self.picker.pick()
            rows.append((_company(rng, self.territory, sector, commune, self.nafs, i, used), sector))
        for company, _sector in rows:
            key = rng.choice(FOLLOWERS)
            company.followed_by = self.structures.get(key)
        fast_insert(Company, [c for c, _ in rows], assign_pk=True)
        partners = [self.structures[k] for k in EMPLOYER_PARTNERS if k in self.structures]
        through = Company.partners.through
        links = []
        for company, _sector in rows:
            for structure in {rng.choice(partners) for _ in range(rng.choice((0, 1, 1, 2)))} if partners else ():
                links.append(through(company_id=company.pk, structure_id=structure.pk))
        through.objects.bulk_create(links)
        self.company_list = rows
        self.demo_company = demo
        self._demo_account(demo)
        counts["companies"] = len(rows)

    def _demo_account(self, company):
        from spie.core.demo import DEMO_PASSWORD
        from spie.network.models import Membership, Structure, User

        structure = Structure.objects.create(
            territory=self.territory, name=company.name, slug=slugify(f"entreprise-{company.name}")[:200],
            kind=Structure.Kind.COMPANY, siret=company.siret, commune=company.commune,
            address=company.address, postal_code=(company.commune.main_postal_code if company.commune else ""),
            email=company.contact_email, description=company.description, search_key=fold_words(company.name),
        )
        company.account = structure
        company.followed_by = self.structures.get("club-entreprises-inclusives", company.followed_by)
        company.save(update_fields=["account", "followed_by"])
        user = User.objects.filter(email=COMPANY_EMAIL).first()
        if user is None:
            # The same hash as the other demo accounts (hashed once by the network's seed).
            same = User.objects.filter(email="referente.demo@spie31.example").values_list("password", flat=True).first()
            user = User.objects.create(
                email=COMPANY_EMAIL, first_name="Sylvie", last_name="Carmes",
                password=same if same and check_password(DEMO_PASSWORD, same) else make_password(DEMO_PASSWORD),
                phone="05 36 49 31 31", search_key=fold_words("Carmes Sylvie"),
            )
        Membership.objects.create(
            user=user, structure=structure, role=Membership.Role.EMPLOYER, job_title="Gérante",
            start_date=self.today - timedelta(days=90),
        )
        self.company_user = user

    # --- openings -------------------------------------------------------------------------
    def openings(self, n, counts):
        from spie.core.bulk import fast_insert
        from spie.employers.models import JobOpening

        rng, today = self.rng, self.today
        demo_sector = SECTORS[0]
        # The demo company: day and evening jobs of the restaurant, in Toulouse (many persons of the
        # demo référente look for G16xx jobs: its openings have suggested profiles).
        demo_rows = []
        for code, title, schedule, contract in (
            ("G1603", "Employé polyvalent de restauration", ["day"], "cdi"),
            ("G1602", "Commis de cuisine", ["day", "late"], "cdd"),
            ("G1803", "Serveur / Serveuse", ["day", "late", "weekend"], "cdi"),
            ("G1605", "Plongeur / Plongeuse", ["late"], "insertion"),
        ):
            opening = build_opening(rng, self.demo_company, demo_sector, self.romes, self.demo_company.commune, today)
            opening.rome, opening.title, opening.schedule, opening.contract_type = self.romes[code], title, schedule, \
                contract
            opening.requires_licence, opening.qualification, opening.min_experience_months = False, "", 0
            opening.health_demands = ["standing"]
            opening.duration_months = 6 if contract in ("cdd", "insertion") else None
            demo_rows.append(opening)
        closed = build_opening(rng, self.demo_company, demo_sector, self.romes, self.demo_company.commune, today,
                               status="filled")
        demo_rows.append(closed)
        # Common targets of the demo's diagnostics, open in Toulouse: proposals for the demo référente.
        toulouse = self.demo_company.commune
        by_code = {code: (company, sector) for company, sector in self.company_list for code, *_ in sector.romes}
        extra = []
        for code in ("K2204", "K1304", "N1103", "D1507", "K1302", "F1703", "A1203", "N4105"):
            company, sector = by_code.get(code, (None, None))
            if company is None:
                continue
            opening = build_opening(rng, company, sector, self.romes, toulouse, today)
            opening.rome = self.romes[code]
            opening.title = next(titles for c, _l, titles in sector.romes if c == code)[0]
            extra.append(opening)
        # Some openings that need a licence or early hours (blocked for some persons, liftable).
        for code in ("K2204", "N1103"):
            company, sector = by_code.get(code, (None, None))
            if company is None:
                continue
            opening = build_opening(rng, company, sector, self.romes, toulouse, today)
            opening.rome, opening.requires_licence, opening.schedule = self.romes[code], True, ["early"]
            opening.title = next(titles for c, _l, titles in sector.romes if c == code)[0]
            opening.qualification = ""
            extra.append(opening)
        fast_insert(JobOpening, demo_rows + extra, assign_pk=True)
        remaining = max(0, n - len(demo_rows) - len(extra) + 1)
        others = [row for row in self.company_list if row[0] is not self.demo_company]
        self.open_openings = [o for o in demo_rows + extra if o.status == "open"]
        self.open_openings += seed_openings(self.territory, others, remaining, rng=rng, today=today, romes=self.romes)
        counts["openings"] = JobOpening.objects.filter(territory=self.territory).count()

    def immersion_offers(self, counts, n=DEFAULT_IMMERSION_OFFERS):
        from spie.employers.models import ImmersionOffer

        rng = self.rng
        rows = []
        for i in range(n):
            company, sector = self.company_list[i % len(self.company_list)] if i < 3 else rng.choice(self.company_list)
            code, _label, titles = rng.choice(sector.romes)
            rows.append(ImmersionOffer(
                company=company, territory=self.territory, rome=self.romes[code],
                title=f"Découverte : {rng.choice(titles).lower()}",
                description=f"Deux semaines pour découvrir le métier aux côtés d'un tuteur de {company.name}.",
                commune=company.commune, schedule=list(_weighted(rng, sector.schedules)),
                weekly_hours=Decimal(rng.choice((35, 30, 24))), places=rng.choice((1, 1, 2, 3)),
                is_open=rng.random() < 0.85,
            ))
        ImmersionOffer.objects.bulk_create(rows)
        self.immersion_offer_list = rows
        counts["immersion_offers"] = len(rows)

    def engagements(self, counts, n=DEFAULT_ENGAGEMENTS):
        from spie.employers.models import Engagement, EngagementKind

        rng, today = self.rng, self.today
        kinds = list(EngagementKind.values)
        partner_structures = [self.structures[k] for k in EMPLOYER_PARTNERS if k in self.structures]
        rows = []
        for i in range(n):
            kind = kinds[i % len(kinds)]
            company, sector = rng.choice(self.company_list)
            with_company = kind in ("visit", "mentoring") or rng.random() < 0.5
            day = today + timedelta(days=rng.randint(-150, 60))
            if day.year != today.year and rng.random() < 0.7:
                day = today - timedelta(days=rng.randint(0, max(0, (today - today.replace(month=1, day=1)).days)))
            title = rng.choice(ENGAGEMENT_TITLES[kind]).format(company=company.name, sector=sector.label.lower())
            remote = kind == "webinar"
            rows.append(Engagement(
                territory=self.territory, company=company if with_company else None,
                partner=rng.choice(partner_structures) if partner_structures and not with_company else None,
                kind=kind, title=title[:200], description=f"{title}. Inscription par le référent de la personne.",
                date=day, commune=None if remote else company.commune, remote=remote,
                capacity=rng.choice((8, 10, 12, 15, 20, 30)),
            ))
        Engagement.objects.bulk_create(rows)
        counts["engagements"] = len(rows)

    def load_company_side(self):
        """What the persons' side needs, read back from the database in a stable order."""
        from spie.employers.models import Company, Engagement, ImmersionOffer, JobOpening
        from spie.network.models import Membership

        self.demo_company = Company.objects.filter(territory=self.territory, name=COMPANY_NAME).order_by("pk").first()
        self.open_openings = list(JobOpening.objects.filter(territory=self.territory, status="open").order_by("pk"))
        self.immersion_offer_list = list(ImmersionOffer.objects.filter(territory=self.territory).order_by("pk"))
        self.engagement_list = list(Engagement.objects.filter(territory=self.territory).order_by("pk"))
        employer = Membership.objects.filter(
            structure__company=self.demo_company, role=Membership.Role.EMPLOYER
        ).select_related("user").order_by("pk").first() if self.demo_company else None
        self.company_user = employer.user if employer else None

    def registrations(self, counts):
        """Persons with a référent registered to engagements, a few per event; attendance known
        for past events."""
        from spie.employers.models import EngagementRegistration
        from spie.people.models import FollowUpMembership

        rng, today = self.rng, self.today
        followups = list(
            FollowUpMembership.objects.filter(person__territory=self.territory, kind="referent", end_date=None)
            .exclude(person__status="exited").order_by("person_id")
            .values_list("person_id", "user_id", "structure_id")[:4000]
        )
        registrations = []
        if followups:
            for engagement in self.engagement_list:
                taken = set()
                for _ in range(rng.randint(1, min(engagement.capacity or 8, 8))):
                    person_id, user_id, structure_id = rng.choice(followups)
                    if person_id in taken:
                        continue
                    taken.add(person_id)
                    attended = (rng.random() < 0.75) if engagement.date < today else None
                    registrations.append(EngagementRegistration(
                        engagement=engagement, person_id=person_id, registered_by_id=user_id,
                        structure_id=structure_id, attended=attended,
                    ))
        EngagementRegistration.objects.bulk_create(registrations)
        counts["registrations"] = len(registrations)

    # --- the demo référente's persons -----------------------------------------------------
    def demo_profiles(self):
        """Make sure the demo référente has persons with a profile visible to companies, some with
        childcare conflicts or without a licence (blocked near-matches), all looking for jobs the
        demo openings offer."""
        from spie.employers.models import JobSearchProfile, TargetJob

        rng = self.rng
        ids = _referente_persons(self.territory)
        profiles = list(JobSearchProfile.objects.filter(person_id__in=ids).select_related("person").order_by("pk"))
        self.referente_profiles = profiles
        for i, profile in enumerate(profiles[:16]):
            person = profile.person
            codes = [("G1603", "G1605"), ("K2204",), ("N1103", "N1105"), ("K1304", "K1302"), ("G1602", "G1603"),
                     ("D1507", "D1505")][i % 6]
            TargetJob.objects.filter(profile=profile).delete()
            TargetJob.objects.bulk_create([
                TargetJob(profile=profile, rank=r, rome=self.romes[c], experience_months=rng.choice((0, 6, 24)))
                for r, c in enumerate(codes)
            ])
            profile.is_active = True
            profile.commune_id = person.commune_id
            profile.visible_to_employers = i % 3 != 2
            profile.contracts = sorted(set(profile.contracts) | {"cdi", "cdd", "insertion"})
            profile.hours_min = 0
            if i % 4 == 1:
                profile.childcare_conflicts = ["early", "late"]
                profile.availability = sorted(set(profile.availability) | {"day", "early", "late"})
            if i % 4 == 3 and person.driving_licence not in ("B", "other"):
                profile.travel_mode = "public"
            profile.save()

    def positionings(self, counts):
        from spie.employers.models import Positioning, PositioningTransition
        from spie.network.models import Membership

        if self.referente is None or self.demo_company is None:
            return
        rng, today = self.rng, self.today
        membership = Membership.objects.filter(user=self.referente, is_active=True).select_related("structure").first()
        if membership is None:
            return
        profiles = getattr(self, "referente_profiles", [])
        demo_openings = [o for o in self.open_openings if o.company_id == self.demo_company.pk]
        others = [o for o in self.open_openings if o.company_id != self.demo_company.pk]
        plan = ["requested", "proposed", "proposed", "interested", "interview", "hired", "hired", "refused",
                "withdrawn", "declined", "proposed", "interview"]
        paths = {
            "requested": ["requested"],
            "proposed": ["proposed"],
            "interested": ["proposed", "interested"],
            "interview": ["proposed", "interested", "interview"],
            "hired": ["proposed", "interview", "hired"],
            "refused": ["proposed", "refused"],
            "withdrawn": ["proposed", "withdrawn"],
            "declined": ["requested", "declined"],
        }
        transitions = []
        pairs = set()
        for i, status in enumerate(plan):
            if i >= len(profiles) * 3 or not (demo_openings or others):
                break
            profile = profiles[i % len(profiles)]
            person = profile.person
            wanted = set(profile.targets.values_list("rome_id", flat=True))
            pool = demo_openings if (i % 2 == 0 and demo_openings) else (others or demo_openings)
            pool = [o for o in pool if o.rome_id in wanted] or [o for o in self.open_openings
                                                               if o.rome_id in wanted] or pool
            # Never the same pair twice: another opening of the pool, else any open one.
            fresh = [o for o in pool if (person.pk, o.pk) not in pairs] or [
                o for o in self.open_openings if (person.pk, o.pk) not in pairs]
            if not fresh:
                continue
            opening = rng.choice(fresh)
            pairs.add((person.pk, opening.pk))
            start = today - timedelta(days=rng.randint(10, 60))
            moment = _at(rng, start)
            company_side = status in ("requested", "declined")
            positioning = Positioning(
                person=person, opening=opening, status=status, proposal_score=round(rng.uniform(0.45, 0.85), 3),
                structure=None if status == "requested" else membership.structure,
                proposed_by=None if status == "requested" else self.referente,
                requested_by=self.company_user if company_side and opening.company_id == self.demo_company.pk
                else None,
                consent=status != "requested", consent_on=start if status != "requested" else None,
                message="Personne motivée, disponible rapidement ; a déjà travaillé dans le secteur.",
                proposed_at=None if status == "requested" else moment,
                link_expires_at=moment + timedelta(days=21), created_at=moment,
            )
            steps = paths[status]
            previous = ""
            rows = []
            for step in steps:
                by = self.referente if step in ("proposed", "withdrawn", "declined") else (
                    self.company_user if opening.company_id == self.demo_company.pk else None)
                rows.append(PositioningTransition(from_status=previous, to_status=step, by=by, at=moment,
                                                  via_link=by is None and step not in ("proposed",),
                                                  reason="Poste pourvu par une autre personne"
                                                  if step == "refused" else ""))
                previous = step
                moment += timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 5))
            if status in ("interested", "interview", "hired", "refused"):
                positioning.answered_at = rows[1].at
            if status == "interview":
                positioning.interview_at = _at(rng, today + timedelta(days=rng.randint(2, 10)), 9, 16)
            if status == "refused":
                positioning.refusal_reason = "filled"
                positioning.status_text = "Poste pourvu par une autre personne"
            if status == "hired":
                positioning.hired_on = min(today, rows[-1].at.date())
            positioning.save()
            for row in rows:
                row.positioning = positioning
            transitions.extend(rows)
            if status == "hired":
                self._employment(positioning, membership)
            counts["positionings"] += 1
        PositioningTransition.objects.bulk_create(transitions)

    def _employment(self, positioning, membership):
        """The Employment (with its 1/3/6-month checkpoints) through the follow-up service."""
        from spie.followup.services.employment import record_job
        from spie.people.policies import access_for

        opening = positioning.opening
        contract = {"cdi": "cdi", "cdd": "cdd", "interim": "interim", "alternance": "alternance",
                    "insertion": "iae", "saisonnier": "cdd"}[opening.contract_type]
        access = access_for(self.referente, membership, positioning.person)
        try:
            employment = record_job(positioning.person, membership, access=access, data={
                "employer_name": opening.company.name, "employer_siret": opening.company.siret,
                "job_title": opening.title, "contract_type": contract, "weekly_hours": opening.weekly_hours,
                "started_on": positioning.hired_on,
            })
        except Exception:  # noqa: BLE001 - the demo goes on without the follow-up if the service refuses
            return
        type(positioning).objects.filter(pk=positioning.pk).update(employment=employment)

    def immersions(self, counts):
        from spie.employers.models import Immersion
        from spie.network.models import Membership

        if self.referente is None:
            return
        rng, today = self.rng, self.today
        membership = Membership.objects.filter(user=self.referente, is_active=True).select_related("structure").first()
        profiles = getattr(self, "referente_profiles", [])
        offers = [o for o in getattr(self, "immersion_offer_list", []) if o.is_open]
        if membership is None or not profiles or not offers:
            return
        rows = []
        for i, status in enumerate(("requested", "requested", "agreed", "agreed", "done", "done", "done",
                                    "cancelled")):
            person = profiles[(i * 3 + 1) % len(profiles)].person
            offer = offers[i % len(offers)]
            if status in ("done",):
                start = today - timedelta(days=rng.randint(20, 90))
            elif status == "agreed":
                start = today + timedelta(days=rng.randint(-3, 15))
            else:
                start = today + timedelta(days=rng.randint(10, 30))
            row = Immersion(
                person=person, company=offer.company, offer=offer, rome=offer.rome,
                objective=rng.choice(("discover", "confirm", "recruit")), status=status,
                start_date=start, end_date=start + timedelta(days=11),
                tutor_name=offer.company.contact_name, tutor_email=offer.company.contact_email,
                requested_by=self.referente, structure=membership.structure,
                consent=True, consent_on=start - timedelta(days=14),
            )
            if status == "done":
                row.skills_observed = rng.sample(SKILLS["restauration"] + ["Ponctualité", "Travail en équipe"], 2)
                row.would_hire = rng.random() < 0.6
                row.assessment_comment = "Immersion réussie : la personne a montré de l'intérêt et de la régularité."
                row.assessed_on = row.end_date + timedelta(days=2)
            rows.append(row)
        Immersion.objects.bulk_create(rows)
        counts["immersions"] = len(rows)


def _structure_names():
    from spie.core.demo import STRUCTURES

    return {spec.key: spec.name for spec in STRUCTURES}
