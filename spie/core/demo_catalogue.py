"""Demo data of the shared bank of actions ("banque d'actions commune") and of referrals to it.

Runs after ``seed_followup`` (``spie.core.demo.seed``). Everything is synthetic (DESIGN.md §5):
names, summaries and descriptions are built from the templates below, one per kind of offer a
partner of the SPIE Haute-Garonne really makes (the plan's own actions first: "faire ensemble
contre les préjugés", job-discovery webinars, company visits with AFPA, CREPI and FACE, the lab for
people over 50, immersions, childcare and mobility help, the référents' training…); contacts are
invented, e-mails end in ``.example``, phones are "05 61 00 xx xx". Only the partner
institutions, the communes and the vocabularies (data·inclusion thématiques, the pathway
référentiel) are real.

- :func:`seed_catalogue` writes ``count`` actions of the demo structures with their sessions.
  Action ``i`` is drawn from its own random stream and has a fixed ``uid`` (derived from the
  territory and ``i``), so the generation is deterministic for a seed and a day, and running it
  again only adds the actions still missing (``count=5000`` after the default 320 tops up).
  Rows are written with ``fast_insert``: 5,000 actions take a few seconds.
- :func:`seed_referrals` sends persons of the demo référents' caseloads to published actions, in
  every status, through the real workflow (``workflows.record_creation`` / ``transition``, so the
  transition log follows the table), then backdates the log, recounts the places
  (``places.refresh_action``), writes timeline events and links a few referrals to the plan.
"""

import json
import math
import random
import time
import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.text import slugify

from spie.core.text import fold_words

DEFAULT_ACTIONS = 320
DEFAULT_REFERRALS = 300
DEFAULT_SEED = 31
BATCH = 1000
REFERENTE_EMAIL = "referente.demo@spie31.example"
ADMIN_EMAIL = "admin.demo@spie31.example"
# Fixed uids: the same demo action keeps the same public address from one seed to the next.
UID_NAMESPACE = uuid.UUID("0b3a51d5-31c0-4e1c-9a6b-5e1d31ca7a10")

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "referentials" / "data" / "data_inclusion_schema" / (
    "service.json")


def thematiques_vocabulary():
    """The data·inclusion thématiques (``category--subtheme``) of the schema kept in the repository."""
    with open(SCHEMA_FILE, encoding="utf-8") as handle:
        return list(json.load(handle)["$defs"]["Thematique"]["enum"])


# --------------------------------------------------------------------------------------------
# Templates: one per kind of offer, with the structures that make it.
# --------------------------------------------------------------------------------------------

FT = ("ft-toulouse-bonnefoy", "ft-toulouse-mirail", "ft-blagnac", "ft-colomiers", "ft-labege", "ft-muret",
      "ft-saint-gaudens")
MDS = ("mds-toulouse-bonnefoy", "mds-toulouse-mirail", "mds-toulouse-lalande", "mds-colomiers", "mds-blagnac",
       "mds-ramonville", "mds-muret", "mds-villefranche", "mds-saint-gaudens")
ML = ("ml-toulouse", "ml-haute-garonne")
PLIE = ("tme-plie", "muretain-agglo", "sicoval")
ASSO = ("maisons-de-chomeurs", "to7", "fa-sol-mi", "cbe-net", "cbe-revel", "fas-occitanie")
EMPLOYERS = ("face-grand-toulouse", "crepi", "club-entreprises-inclusives", "btp31", "geiq-btp-31")

SECTORS = [
    "la logistique", "l'aide à domicile", "le bâtiment", "la restauration", "la propreté", "le transport de personnes",
    "l'industrie aéronautique", "le commerce", "l'agriculture et les espaces verts", "la sécurité",
    "l'hôtellerie", "le soin et l'accompagnement",
]

# Reception: "in" (in person, sometimes both), "mix", "remote" (mostly remote).
# Sessions: "event" (one-day dated sessions), "cohort" (groups over several weeks), "weekly"
# (a recurring workshop), "none" (entries all year round).


@dataclass(frozen=True)
class Template:
    key: str
    kind: str  # catalogue.SpieKind value
    type: str  # catalogue.ServiceType value
    axis: str  # catalogue.SpieAxis value
    names: tuple
    summary: str
    description: str
    themes: tuple  # data·inclusion thématiques, the first ones first
    publics: tuple
    structures: tuple
    sessions: str = "none"
    hours: tuple = ((3, 1),)  # (weekly hours, weeks) options
    capacity: tuple | None = None  # (low, high) places: per session, or for the action without sessions
    reception: str = "in"
    fees: str = "gratuit"
    fees_details: str = ""
    plan: tuple | None = None  # (pathway theme code, référentiel action label)
    access: str = ""
    prerequisites: str = ""
    documents: str = "Pièce d'identité"
    mobilisation: tuple = ("envoyer-un-courriel", "telephoner")
    mobilisable_by: tuple = ("professionnels", "usagers")
    languages: tuple = ()
    publics_details: str = ""
    weight: int = 3


T = Template
TEMPLATES = [
    # ---- The SPIE action plan's own actions -----------------------------------------------------
    T("prejuges", "prejudice", "atelier", "axe1",
      ("Faire ensemble contre les préjugés", "Faire ensemble contre les préjugés : atelier d'échanges",
       "Ensemble contre les préjugés : personnes accompagnées, employeurs et professionnels"),
      "Une demi-journée d'échanges entre personnes accompagnées, employeurs et professionnels pour dépasser "
      "les idées reçues sur le RSA, l'âge, l'origine ou le handicap.",
      "Action du plan SPIE (axe 1). Des personnes accompagnées, des employeurs et des professionnels de "
      "l'insertion se retrouvent en petit groupe, animé par un binôme formé à l'éducation populaire. Jeux de "
      "rôle, témoignages et quiz permettent de mettre des mots sur les préjugés vécus ou entendus, de "
      "connaître ses droits face à une discrimination et de repartir avec des arguments et des contacts.",
      ("difficultes-administratives-ou-juridiques--connaitre-ses-droits-face-a-une-discrimination",
       "remobilisation--bien-etre-confiance-en-soi", "remobilisation--lien-social"),
      ("beneficiaires-des-minimas-sociaux", "tous-publics", "demandeurs-emploi"), ("cd31",) + MDS,
      sessions="event", hours=((3, 1),), capacity=(10, 16), access="Aucun prérequis : chacun vient comme il est.",
      documents="", plan=("contraintes_familiales",
                          "Participation à des formations / ateliers : actions collectives de sociabilisation"),
      weight=4),
    T("webinaire-metiers", "webinar", "information", "axe3",
      ("Webinaire « Découvrir les métiers de {sector} »", "Webinaire métiers : {sector} recrute",
       "Découvrir un métier sans préjugés : {sector}"),
      "Une heure en ligne pour découvrir les métiers de {sector}, les conditions de travail et les "
      "recrutements en Haute-Garonne, avec des professionnels du secteur.",
      "Action du plan SPIE (axe 3, découverte des métiers contre les préjugés). Des salariés et des "
      "recruteurs présentent leur métier, leur parcours et les postes à pourvoir dans {sector}. Les "
      "participants posent leurs questions par écrit ou à l'oral, caméra facultative. Un lien vers les "
      "prochaines visites d'entreprise et immersions est envoyé après le webinaire.",
      ("choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite",
       "choisir-un-metier--connaitre-les-opportunites-demploi"),
      ("tous-publics", "demandeurs-emploi", "jeunes"), FT + ("face-grand-toulouse", "crepi", "btp31", "cd31"),
      sessions="event", hours=((1.5, 1),), capacity=(40, 100), reception="remote",
      prerequisites="Un téléphone ou un ordinateur connecté à internet.", documents="",
      mobilisation=("utiliser-lien-mobilisation", "envoyer-un-courriel"), weight=6),
    T("visite-afpa", "company_visit", "information", "axe3",
      ("Visite des plateaux techniques de l'AFPA : {sector}", "Portes ouvertes des plateaux techniques AFPA"),
      "Visiter les ateliers de formation de l'AFPA, essayer les gestes d'un métier de {sector} et rencontrer "
      "formateurs et stagiaires.",
      "Action du plan SPIE (axe 3). Une matinée sur les plateaux techniques de l'AFPA : présentation des "
      "métiers de {sector}, démonstrations et essais de gestes professionnels, échanges avec des stagiaires "
      "en formation. Les participants repartent avec le calendrier des prochaines formations et des "
      "informations sur leur financement.",
      ("choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite", "se-former--trouver-sa-formation"),
      ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux", "jeunes"), ("afpa",),
      sessions="event", hours=((3, 1),), capacity=(8, 14), documents="Chaussures fermées conseillées",
      plan=("emploi", "Réalisation d'enquêtes métiers")),
    T("visite-crepi", "company_visit", "information", "axe3",
      ("Les entreprises ouvrent leurs portes avec le CREPI : {sector}", "Visite d'entreprise avec le CREPI"),
      "Visiter une entreprise de {sector} avec le CREPI, rencontrer des salariés et découvrir les postes "
      "ouverts aux débutants.",
      "Action du plan SPIE (axe 3). Le CREPI organise avec ses entreprises adhérentes des visites en petit "
      "groupe : accueil par l'encadrement, visite des postes de travail, échange avec des salariés recrutés "
      "récemment. La visite est préparée en amont avec le référent et peut déboucher sur une immersion.",
      ("choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite",
       "trouver-un-emploi--faire-des-candidatures-spontanees"),
      ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"), ("crepi",),
      sessions="event", hours=((3, 1),), capacity=(6, 12), mobilisable_by=("professionnels",),
      documents="Pièce d'identité (badge d'accès au site)", plan=("emploi", "Réalisation d'enquêtes métiers")),
    T("visite-face", "company_visit", "information", "axe3",
      ("Rencontre en entreprise avec FACE Grand Toulouse : {sector}", "Visite d'entreprise : les métiers de {sector}"),
      "Une rencontre sur site avec une entreprise de {sector} engagée avec FACE Grand Toulouse.",
      "Action du plan SPIE (axe 3). Découverte d'une entreprise de {sector} : présentation de l'activité et "
      "des métiers, visite, échange avec les recruteurs. Les entreprises de FACE s'engagent à répondre aux "
      "candidatures des participants et proposent des parrainages.",
      ("choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite",
       "preparer-sa-candidature--developper-son-reseau"),
      ("demandeurs-emploi", "residents-qpv-frr", "femmes"), ("face-grand-toulouse",),
      sessions="event", hours=((3, 1),), capacity=(6, 12), mobilisable_by=("professionnels",)),
    T("job-dating", "job_discovery", "information", "axe3",
      ("Job dating : {sector}", "Forum de l'emploi et des métiers", "Rencontres métiers et recrutement"),
      "Rencontrer en direct des employeurs qui recrutent dans {sector}, CV en main, sans rendez-vous préalable.",
      "Des employeurs du territoire présentent leurs postes et mènent de courts entretiens sur place. Un "
      "espace conseil aide à mettre à jour son CV avant de se présenter. Les personnes accompagnées peuvent "
      "venir avec leur référent.",
      ("trouver-un-emploi--repondre-a-des-offres-demploi", "choisir-un-metier--connaitre-les-opportunites-demploi",
       "trouver-un-emploi--convaincre-un-recruteur-en-entretien"),
      ("tous-publics", "demandeurs-emploi"), FT + PLIE + ("cbe-net", "cbe-revel", "ml-toulouse"),
      sessions="event", hours=((4, 1),), capacity=(30, 120), documents="CV en plusieurs exemplaires",
      plan=("emploi", "Participation à un forum emploi"), mobilisation=("se-presenter", "telephoner"), weight=4),
    T("decouverte-btp", "job_discovery", "atelier", "axe3",
      ("Découverte des métiers du bâtiment", "Une journée sur un chantier : métiers du BTP",
       "Découvrir les métiers des travaux publics"),
      "Une journée pour essayer les gestes des métiers du bâtiment et rencontrer des entreprises qui recrutent.",
      "Sur un plateau pédagogique ou un chantier école, les participants découvrent maçonnerie, "
      "plâtrerie, peinture et travaux publics avec des compagnons. L'après-midi, des entreprises et le "
      "GEIQ présentent les contrats en alternance et les formations qualifiantes.",
      ("choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite",
       "choisir-un-metier--confirmer-son-choix-de-metier"),
      ("demandeurs-emploi", "jeunes", "femmes"), ("btp31", "geiq-btp-31"),
      sessions="event", hours=((7, 1),), capacity=(8, 15), documents="Chaussures de sécurité prêtées sur place",
      plan=("emploi", "Orientation vers un partenaire pour un recrutement dans les métiers en tension")),
    T("enquetes-metiers", "job_discovery", "accompagnement", "axe3",
      ("Enquêtes métiers accompagnées", "Aller à la rencontre des professionnels : enquêtes métiers"),
      "Préparer et réaliser des enquêtes auprès de professionnels pour confirmer un projet de métier.",
      "Le conseiller aide à préparer les questions, à trouver des professionnels à rencontrer et à faire le "
      "bilan de chaque entretien. L'objectif : vérifier qu'un métier correspond à ses attentes avant de "
      "s'engager dans une formation ou une candidature.",
      ("choisir-un-metier--confirmer-son-choix-de-metier",
       "choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite"),
      ("demandeurs-emploi", "jeunes"), FT + ML + ("tme-plie",), hours=((3, 3),), capacity=(5, 15),
      plan=("emploi", "Réalisation d'enquêtes métiers"), weight=2),
    T("lab-50", "seniors_lab", "atelier", "axe3",
      ("Lab des plus de 50 ans", "Lab 50+ : mon expérience, un atout",
       "Lab des plus de 50 ans : rebondir vers l'emploi"),
      "Six semaines en groupe pour valoriser son expérience, reprendre confiance et rencontrer des employeurs "
      "ouverts aux candidats de plus de 50 ans.",
      "Action du plan SPIE (axe 3). Le lab réunit une douzaine de personnes de plus de 50 ans : ateliers sur "
      "les compétences transférables, le numérique et les réseaux professionnels, entraînement aux "
      "entretiens, rencontres avec des employeurs et des salariés seniors. Chaque participant construit un "
      "plan d'action personnel, suivi pendant trois mois après le lab.",
      ("preparer-sa-candidature--valoriser-ses-competences", "trouver-un-emploi--convaincre-un-recruteur-en-entretien",
       "remobilisation--bien-etre-confiance-en-soi", "preparer-sa-candidature--developper-son-reseau"),
      ("seniors",), FT + ("tme-plie", "maisons-de-chomeurs", "cd31"),
      sessions="cohort", hours=((6, 6), (8, 6)), capacity=(10, 14), publics_details="Personnes de 50 ans et plus",
      access="Avoir 50 ans ou plus et être en recherche d'emploi.",
      plan=("emploi", "Orientation vers un partenaire pour accélérer la mise en emploi"), weight=3),
    T("formation-referents", "training", "formation", "axe2",
      ("Formation des référents SPIE : le référencement des parcours",
       "Formation inter-institutionnelle des référents de parcours",
       "Formation des référents : le diagnostic à trame unique"),
      "Deux journées de formation commune aux référents du réseau SPIE : parcours, diagnostic partagé, "
      "secret partagé et outils numériques.",
      "Action du plan SPIE (axe 2). Cette formation réunit des référents de toutes les institutions du "
      "réseau : Département, France Travail, missions locales, PLIE, associations. Au programme : le "
      "référencement des parcours, le diagnostic à trame unique, le contrat d'engagement, le partage "
      "d'informations dans le respect du secret partagé et la banque d'actions commune.",
      ("difficultes-administratives-ou-juridiques--beneficier-dune-mesure-daccompagnement-adapte",),
      ("tous-publics",), ("cd31", "ddets31"), sessions="cohort", hours=((7, 1), (14, 1)), capacity=(12, 20),
      mobilisable_by=("professionnels",), publics_details="Professionnels référents du réseau SPIE Haute-Garonne",
      documents="", access="Réservée aux professionnels du réseau SPIE.", weight=1),
    T("passeport-emploi", "workshop", "atelier", "axe2",
      ("Atelier Passeport emploi : valoriser ses expériences", "Construire son passeport emploi"),
      "Rassembler ses expériences, compétences et attestations dans son passeport emploi, pour les montrer aux "
      "employeurs.",
      "Action du plan SPIE (axe 2). En atelier, chacun recense ses expériences (emploi, bénévolat, vie "
      "familiale), les traduit en compétences et les inscrit dans son passeport emploi. Des employeurs "
      "partenaires viennent expliquer ce qu'ils regardent dans un parcours. Le passeport reste la propriété "
      "de la personne, qui choisit avec qui le partager.",
      ("preparer-sa-candidature--valoriser-ses-competences",
       "choisir-un-metier--identifier-ses-points-forts-et-ses-competences"),
      ("tous-publics", "beneficiaires-des-minimas-sociaux"), ("cd31", "tme-plie", "maisons-de-chomeurs") + ML,
      sessions="weekly", hours=((3, 2),), capacity=(8, 12), plan=("formation", "Atelier CV")),
    T("immersion", "immersion", "accompagnement", "axe3",
      ("Immersion en entreprise (PMSMP) : {sector}", "Période d'immersion dans {sector}",
       "Immersion professionnelle : découvrir {sector}"),
      "Quelques jours à deux semaines dans une entreprise de {sector} pour découvrir un métier ou confirmer "
      "un projet.",
      "Une période de mise en situation en milieu professionnel (PMSMP) dans une entreprise partenaire de "
      "{sector}. Le tuteur accompagne la personne sur le poste ; le référent prépare la convention et fait "
      "le bilan à la fin. La personne garde son statut et ses allocations pendant l'immersion.",
      ("choisir-un-metier--confirmer-son-choix-de-metier",
       "choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite"),
      ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux", "jeunes"),
      ("club-entreprises-inclusives", "face-grand-toulouse", "btp31", "geiq-btp-31", "cap-emploi-31") + FT[:3] + ML,
      hours=((35, 1), (35, 2), (24, 1)), capacity=(1, 4), mobilisable_by=("professionnels",),
      documents="Convention PMSMP signée par le prescripteur", plan=("emploi", "Réalisation d’une PMSMP"), weight=9),
    T("creche-avip", "childcare", "aide-materielle", "axe3",
      ("Places en crèche à vocation d'insertion professionnelle (AVIP)",
       "Crèche AVIP : une place pour chercher un emploi"),
      "Une place d'accueil pour un enfant de moins de 3 ans pendant la recherche d'emploi ou la formation du parent.",
      "Les crèches à vocation d'insertion professionnelle réservent des places aux parents qui cherchent un "
      "emploi ou entrent en formation. L'accueil peut commencer rapidement et se poursuit pendant six mois "
      "après la reprise d'emploi. Le tarif suit le barème de la CAF.",
      ("famille--garde-denfants",), ("familles", "femmes", "beneficiaires-des-minimas-sociaux"),
      ("caf31", "toulouse-metropole", "muretain-agglo", "sicoval", "cd31"), hours=((0, 0),), capacity=(2, 8),
      fees="payant", fees_details="Barème de la CAF selon les ressources (quelques euros par jour au RSA).",
      documents="Attestation CAF, justificatif de recherche d'emploi ou d'entrée en formation",
      plan=("contraintes_familiales", "Accès à un mode de garde"), weight=3),
    T("garde-atypique", "childcare", "aide-materielle", "axe3",
      ("Garde d'enfants à horaires atypiques", "Garde d'enfants tôt le matin et le soir"),
      "Une solution de garde à domicile ou en relais tôt le matin, le soir et le week-end pour les parents "
      "qui reprennent un emploi.",
      "Pour les métiers à horaires décalés (propreté, aide à domicile, logistique, restauration), un service "
      "de garde prend le relais à domicile avant l'ouverture ou après la fermeture des crèches et écoles. "
      "L'aide est mobilisable dès l'entretien d'embauche et pendant les premiers mois d'emploi.",
      ("famille--garde-denfants", "trouver-un-emploi--maintien-dans-lemploi"),
      ("familles", "femmes"), ("caf31", "toulouse-metropole", "fa-sol-mi"), hours=((0, 0),), capacity=(3, 10),
      fees="payant", fees_details="Reste à charge de 1 € de l'heure après les aides.",
      plan=("contraintes_familiales", "Accès à un mode de garde"), weight=2),
    T("grille-potentialites", "coaching", "accompagnement", "axe1",
      ("Grille des potentialités : mères d'enfants de moins de 3 ans",
       "Accompagnement des mères de jeunes enfants vers l'emploi"),
      "Un accompagnement pour les mères d'enfants de moins de 3 ans : faire le point sur ses atouts, la "
      "garde et le projet professionnel.",
      "Action du plan SPIE (axe 1). À partir de la grille des potentialités, une conseillère aide à "
      "identifier les compétences acquises, les contraintes de garde et les envies de chaque mère, puis à "
      "construire un projet réaliste : formation, emploi à temps choisi, création d'activité. Les rendez-vous "
      "peuvent avoir lieu avec l'enfant.",
      ("choisir-un-metier--identifier-ses-points-forts-et-ses-competences",
       "famille--soutien-a-la-parentalite-et-a-leducation", "famille--garde-denfants"),
      ("femmes", "familles", "beneficiaires-des-minimas-sociaux"), MDS + ("caf31",), hours=((2, 8),),
      capacity=(6, 12), access="Mère d'un enfant de moins de 3 ans.",
      plan=("emploi", "Orientation vers un partenaire pour définir le projet professionnel")),
    T("permis", "mobility_help", "aide-financiere", "axe3",
      ("Aide au financement du permis de conduire", "Bourse au permis de conduire",
       "Permis B : aide financière pour l'insertion"),
      "Une aide pour financer une partie du permis B quand il est nécessaire à un projet d'emploi ou de formation.",
      "L'aide prend en charge une partie du coût du permis (code et conduite) auprès d'une auto-école "
      "partenaire. Le dossier est constitué avec le référent, qui atteste du lien avec le projet "
      "professionnel. En contrepartie, le bénéficiaire s'engage à suivre régulièrement les cours.",
      ("mobilite--preparer-un-permis", "mobilite--financer-ma-mobilite"),
      ("beneficiaires-des-minimas-sociaux", "jeunes", "demandeurs-emploi"), ("cd31", "region-occitanie") + ML + FT[:2],
      hours=((0, 0),), mobilisable_by=("professionnels",), plan=("mobilite", "Bourse au permis"),
      documents="Devis de l'auto-école, pièce d'identité, justificatif de domicile", weight=3),
    T("location-vehicules", "mobility_help", "aide-materielle", "axe3",
      ("Location solidaire de voitures et scooters", "Prêt de véhicules pour aller travailler",
       "Location de vélos électriques à petit prix"),
      "Un véhicule à petit prix pour se rendre à un emploi, une formation ou un entretien, le temps de "
      "trouver une solution durable.",
      "La plateforme loue des scooters, des voitures et des vélos à assistance électrique aux personnes en "
      "insertion, pour quelques semaines à quelques mois. Un conseiller en mobilité fait le point sur les "
      "trajets et cherche avec la personne une solution durable (covoiturage, transport en commun, achat "
      "d'un véhicule).",
      ("mobilite--acceder-a-un-vehicule", "mobilite--mobilite-douce-partagee-collective"),
      ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux", "jeunes"), ("to7", "cbe-net", "cbe-revel") + PLIE,
      hours=((0, 0),), capacity=(4, 15), fees="payant", fees_details="De 2 à 8 € par jour selon le véhicule.",
      documents="Permis de conduire pour les voitures, attestation d'emploi ou de formation",
      plan=("mobilite", "Mise à disposition de véhicules ( voiture, vélos électriques, trottinettes électriques… )")),
    T("garage-solidaire", "mobility_help", "aide-materielle", "axe3",
      ("Garage solidaire", "Réparer sa voiture au garage solidaire"),
      "Entretien et réparation de véhicules à prix solidaire pour les personnes en insertion.",
      "Le garage solidaire répare et entretient les véhicules au prix des pièces et d'une main-d'œuvre "
      "réduite. Il propose aussi des véhicules d'occasion révisés et des ateliers pour apprendre les "
      "gestes d'entretien courant.",
      ("mobilite--entretenir-reparer-son-vehicule", "mobilite--acceder-a-un-vehicule"),
      ("beneficiaires-des-minimas-sociaux", "demandeurs-emploi"), ("fas-occitanie", "cbe-revel", "to7"),
      hours=((0, 0),), fees="payant", fees_details="Main-d'œuvre à 15 € de l'heure, pièces à prix coûtant.",
      documents="Carte grise, attestation de ressources", plan=("mobilite", "Mobilisation d’un garage solidaire"),
      mobilisation=("telephoner", "se-presenter"), weight=2),
    T("conseil-mobilite", "mobility_help", "accompagnement", "axe3",
      ("Conseil en mobilité : bilan et plan de déplacement", "Plateforme mobilité : trouver une solution de transport"),
      "Un bilan de ses trajets et de ses moyens de déplacement pour trouver une solution adaptée à son projet.",
      "Un conseiller en mobilité fait le point sur les trajets nécessaires, les transports disponibles, le "
      "budget et les aides mobilisables (chèques mobilité, carte solidaire, aide au permis). Il construit "
      "avec la personne un plan de déplacement et l'accompagne dans les premières démarches.",
      ("mobilite--etre-accompagne-dans-son-parcours-mobilite", "mobilite--financer-ma-mobilite"),
      ("tous-publics", "beneficiaires-des-minimas-sociaux"), PLIE + ("to7", "cbe-net") + ML,
      hours=((2, 4),), capacity=(8, 20), reception="mix",
      plan=("mobilite", "Prescription auprès d’un conseiller en mobilité")),
    T("atelier-transports", "workshop", "atelier", "axe3",
      ("Apprendre à se déplacer : transports en commun et vélo", "Atelier mobilité : Tisséo, train et covoiturage"),
      "Un atelier pratique pour lire un plan, préparer un trajet et utiliser les transports en commun, le "
      "vélo ou le covoiturage.",
      "En petit groupe, les participants apprennent à préparer un itinéraire sur téléphone, à acheter un "
      "titre de transport, à connaître la tarification solidaire et à se repérer dans une gare. Une sortie "
      "accompagnée termine l'atelier.",
      ("mobilite--mobilite-douce-partagee-collective", "mobilite--etre-accompagne-dans-son-parcours-mobilite"),
      ("tous-publics", "personnes-exilees", "seniors"), ASSO + ("toulouse-metropole",), sessions="weekly",
      hours=((3, 1),), capacity=(6, 10),
      plan=("mobilite", "Création d’une carte de transport en commun ( réseaux urbain / interurbain )")),
    T("info-plie", "collective_info", "information", "axe3",
      ("Information collective : le PLIE, un parcours renforcé vers l'emploi", "Réunion d'information PLIE"),
      "Découvrir le PLIE : un référent unique, des étapes de parcours et un suivi jusqu'à six mois dans l'emploi.",
      "Présentation du plan local pour l'insertion et l'emploi : qui peut entrer, comment se passe "
      "l'accompagnement renforcé, quelles étapes (formation, immersion, emploi en insertion, clauses "
      "sociales) et quel suivi après l'embauche. Un premier entretien individuel peut être fixé à l'issue.",
      ("trouver-un-emploi--repondre-a-des-offres-demploi",
       "preparer-sa-candidature--organiser-ses-demarches-de-recherche-demploi"),
      ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux", "residents-qpv-frr"), PLIE,
      sessions="event", hours=((2, 1),), capacity=(12, 25), plan=("emploi", "Orientation PLIE")),
    T("info-cej", "collective_info", "information", "axe3",
      ("Information collective : le contrat d'engagement jeune", "Réunion d'information CEJ"),
      "Tout savoir sur le contrat d'engagement jeune : accompagnement intensif, allocation et premières étapes.",
      "Les conseillers de la mission locale présentent le contrat d'engagement jeune : 15 à 20 heures "
      "d'activités par semaine, une allocation selon les ressources, un conseiller dédié. Les jeunes "
      "intéressés prennent rendez-vous pour un premier entretien à l'issue de la réunion.",
      ("trouver-un-emploi--repondre-a-des-offres-demploi", "choisir-un-metier--connaitre-les-opportunites-demploi"),
      ("jeunes",), ML, sessions="event", hours=((2, 1),), capacity=(10, 20),
      publics_details="Jeunes de 16 à 25 ans (29 ans en situation de handicap)", access="Avoir entre 16 et 25 ans.",
      plan=("emploi", "Accompagnement global")),
    T("info-rsa", "collective_info", "information", "axe1",
      ("Réunion d'information : droits et devoirs des bénéficiaires du RSA",
       "Accueil collectif des nouveaux bénéficiaires du RSA"),
      "Comprendre le RSA, l'orientation, le contrat d'engagement et les aides mobilisables dès l'entrée "
      "dans le dispositif.",
      "Action du plan SPIE (axe 1). Une réunion pour les personnes qui viennent d'ouvrir leurs droits au "
      "RSA : montant et déclarations trimestrielles, orientation vers un référent unique, contrat "
      "d'engagement et heures d'activité, aides à la mobilité et à la garde d'enfants. Un rendez-vous de "
      "diagnostic est proposé à la fin.",
      ("difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
       "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"),
      ("beneficiaires-des-minimas-sociaux",), ("cd31",) + MDS, sessions="event", hours=((2, 1),),
      capacity=(15, 30), plan=("difficulte_administrative", "Réalisation d’une demande de RSA / Prime d’activité")),
    T("info-formations-region", "collective_info", "information", "axe3",
      ("Information collective : les formations financées par la Région", "Se former avec la Région Occitanie"),
      "Connaître les formations gratuites financées par la Région Occitanie et la façon de s'y inscrire.",
      "Présentation du programme régional de formation : formations qualifiantes et certifiantes, "
      "pré-qualification, rémunération des stagiaires, aides au transport et à l'hébergement. Les "
      "participants repèrent les prochaines sessions près de chez eux.",
      ("se-former--trouver-sa-formation", "se-former--monter-son-dossier-de-formation"),
      ("demandeurs-emploi", "jeunes"), ("region-occitanie",) + FT[:2], sessions="event", hours=((2, 1),),
      capacity=(15, 40), reception="mix", plan=("formation", "Orientation vers une formation qualifiante")),
    T("info-iae", "collective_info", "information", "axe3",
      ("Travailler dans l'insertion par l'activité économique : réunion d'information",
       "Découvrir les structures d'insertion par l'activité économique"),
      "Découvrir les chantiers d'insertion, entreprises d'insertion et entreprises de travail temporaire "
      "d'insertion qui recrutent.",
      "Des structures de l'insertion par l'activité économique présentent leurs postes (espaces verts, "
      "bâtiment, recyclage, restauration, services), le contrat de travail et l'accompagnement proposé "
      "pendant le contrat. Les candidatures peuvent être transmises le jour même.",
      ("trouver-un-emploi--repondre-a-des-offres-demploi", "choisir-un-metier--connaitre-les-opportunites-demploi"),
      ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"), ("coorace", "fei-occitanie"), sessions="event",
      hours=((2, 1),), capacity=(15, 30), plan=("emploi", "Orientation SIAE")),
    T("epicerie", "other", "aide-materielle", "axe3",
      ("Épicerie solidaire", "Épicerie sociale et solidaire"),
      "Des produits alimentaires et d'hygiène à petit prix, et un lieu d'échanges et d'ateliers.",
      "L'épicerie solidaire propose des produits frais et d'épicerie à 10 à 30 % de leur prix habituel, "
      "pour une durée limitée liée à un projet (rembourser une dette, financer un permis…). Des ateliers "
      "cuisine et budget y sont organisés chaque semaine.",
      ("equipement-et-alimentation--alimentation",
       "difficultes-financieres--prevenir-une-degradation-de-la-situation-financiere"),
      ("beneficiaires-des-minimas-sociaux", "familles"), ("fas-occitanie", "maisons-de-chomeurs",
       "fa-sol-mi") + MDS[:3],
      hours=((0, 0),), fees="payant", fees_details="10 à 30 % du prix habituel des produits.",
      documents="Attestation de ressources, avis d'imposition", plan=("difficulte_financiere",
      "Demande d'aide alimentaire"),
      mobilisable_by=("professionnels",)),
    T("vestiaire", "other", "aide-materielle", "axe3",
      ("Vestiaire solidaire : une tenue pour l'entretien d'embauche", "Vestiaire solidaire"),
      "Des vêtements pour les entretiens d'embauche et la prise de poste, avec des conseils d'image.",
      "Le vestiaire prête ou donne des vêtements adaptés aux entretiens et à la prise de poste. Une "
      "bénévole conseille sur la tenue selon le métier visé ; une séance photo pour le CV peut être proposée.",
      ("equipement-et-alimentation--habillement", "trouver-un-emploi--convaincre-un-recruteur-en-entretien"),
      ("tous-publics",), ("face-grand-toulouse", "fas-occitanie", "maisons-de-chomeurs"), hours=((0, 0),),
      documents="Convocation à l'entretien si possible", weight=2),
    T("electromenager", "other", "aide-materielle", "axe3",
      ("Électroménager reconditionné à prix solidaire", "Équiper son logement : électroménager et mobilier solidaires"),
      "Des appareils électroménagers révisés et garantis, et du mobilier de base, à prix solidaire.",
      "Une ressourcerie partenaire propose des réfrigérateurs, lave-linge, plaques de cuisson et meubles "
      "révisés et garantis six mois. Le kit d'installation aide les personnes qui entrent dans un logement "
      "après une période d'hébergement.",
      ("equipement-et-alimentation--electromenager", "equipement-et-alimentation--aide-menagere"),
      ("beneficiaires-des-minimas-sociaux", "familles"), ("fas-occitanie", "coorace"), hours=((0, 0),),
      fees="payant", fees_details="De 20 à 90 € selon l'appareil ; livraison possible.", weight=1),
    T("cv", "workshop", "atelier", "axe3",
      ("Atelier CV et lettre de motivation", "Atelier « Mon CV en une matinée »",
       "Atelier CV : se présenter à l'écrit"),
      "Un atelier en petit groupe pour rédiger ou mettre à jour son CV et préparer une lettre de motivation.",
      "Chaque participant repart avec un CV à jour, adapté au métier visé, et un modèle de lettre de "
      "motivation. Le conseiller aide à mettre en valeur toutes les expériences, y compris bénévoles ou "
      "familiales, et à utiliser les sites d'offres d'emploi.",
      ("preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation",
       "preparer-sa-candidature--valoriser-ses-competences"),
      ("tous-publics", "demandeurs-emploi"), FT + ML + PLIE + ASSO, sessions="weekly", hours=((3, 1), (3, 2)),
      capacity=(6, 12), reception="mix", plan=("formation", "Atelier CV"), weight=8),
    T("entretien", "workshop", "atelier", "axe3",
      ("Atelier simulation d'entretien d'embauche", "Convaincre un recruteur : s'entraîner à l'entretien"),
      "S'entraîner à l'entretien d'embauche avec des mises en situation filmées et les conseils de recruteurs.",
      "Mises en situation devant des recruteurs bénévoles d'entreprises partenaires, retours "
      "personnalisés, travail sur la présentation de son parcours et les questions difficiles. La "
      "dernière séance se fait en conditions réelles.",
      ("trouver-un-emploi--convaincre-un-recruteur-en-entretien",),
      ("tous-publics", "demandeurs-emploi", "jeunes"), FT + ("face-grand-toulouse", "crepi", "tme-plie") + ML,
      sessions="weekly", hours=((3, 1), (3, 2)), capacity=(6, 10), weight=5),
    T("club-recherche", "workshop", "atelier", "axe3",
      ("Club de recherche d'emploi", "Club emploi : chercher ensemble, trouver plus vite"),
      "Un groupe qui se retrouve chaque semaine pour organiser sa recherche d'emploi, partager des pistes et "
      "relancer les employeurs.",
      "Le club se réunit deux matinées par semaine : tableau de bord des candidatures, veille des offres, "
      "candidatures spontanées, relances téléphoniques, préparation des entretiens. L'entraide entre "
      "participants et les contacts du réseau d'entreprises du conseiller font la force du club.",
      ("preparer-sa-candidature--organiser-ses-demarches-de-recherche-demploi",
       "trouver-un-emploi--suivre-ses-candidatures-et-relancer-les-employeurs",
       "trouver-un-emploi--faire-des-candidatures-spontanees"),
      ("demandeurs-emploi",), FT + PLIE + ("maisons-de-chomeurs", "cbe-net", "cbe-revel"), sessions="cohort",
      hours=((6, 4), (6, 6)), capacity=(8, 14), plan=("emploi", "Orientation sur l'aide à la recherche d'emploi"),
      weight=4),
    T("reseaux", "workshop", "atelier", "axe3",
      ("Atelier candidatures spontanées et réseaux professionnels", "Développer son réseau professionnel"),
      "Apprendre à repérer les entreprises, à envoyer des candidatures spontanées et à utiliser les réseaux "
      "professionnels en ligne.",
      "L'atelier montre comment cibler des entreprises qui recrutent sans publier d'offre, préparer un "
      "message court, relancer par téléphone et construire un profil sur un réseau professionnel. Chaque "
      "participant repart avec une liste d'entreprises à contacter.",
      ("trouver-un-emploi--faire-des-candidatures-spontanees", "preparer-sa-candidature--developper-son-reseau"),
      ("tous-publics", "demandeurs-emploi"), FT + ("face-grand-toulouse", "cbe-net"), sessions="weekly",
      hours=((3, 1),), capacity=(8, 12), reception="mix"),
    T("budget", "workshop", "atelier", "axe3",
      ("Atelier budget : gérer son budget au quotidien", "Atelier « Mes comptes, mes projets »"),
      "Un atelier pour faire ses comptes, anticiper les dépenses et éviter les découverts.",
      "En groupe et avec des outils simples, les participants apprennent à suivre leurs dépenses, à "
      "préparer les échéances, à comparer les offres (énergie, téléphone, assurance) et à connaître les "
      "aides en cas de difficulté. Un rendez-vous individuel est possible ensuite.",
      ("difficultes-financieres--ameliorer-sa-gestion-budgetaire",
       "difficultes-financieres--acquerir-une-autonomie-budgetaire"),
      ("tous-publics", "familles", "beneficiaires-des-minimas-sociaux"), ("caf31", "msa-mps") + MDS + ("fa-sol-mi",),
      sessions="weekly", hours=((2, 3),), capacity=(6, 12),
      plan=("difficulte_financiere", "Mise en place d’une aide éducative budgétaire")),
    T("surendettement", "coaching", "accompagnement", "axe3",
      ("Accompagnement budgétaire et prévention du surendettement",
       "Sortir du surendettement : accompagnement individuel"),
      "Un accompagnement individuel pour faire le point sur ses dettes, négocier avec les créanciers et "
      "préparer un dossier de surendettement.",
      "Une conseillère en économie sociale et familiale fait l'inventaire des ressources, charges et dettes, "
      "contacte les créanciers pour des échéanciers et, si besoin, constitue le dossier de surendettement "
      "avec la personne. Elle peut proposer une mesure d'accompagnement social personnalisé.",
      ("difficultes-financieres--situation-dendettement-surendettement",
       "difficultes-financieres--prevenir-une-degradation-de-la-situation-financiere",
       "difficultes-financieres--mettre-en-place-une-mesure-de-protection-financiere"),
      ("tous-publics", "beneficiaires-des-minimas-sociaux"), MDS + ("caf31", "msa-mps"), hours=((1, 12),),
      capacity=(10, 25), documents="Relevés de compte, courriers des créanciers, avis d'imposition",
      plan=("difficulte_financiere", "Mise en place d’un plan de surendettement")),
    T("masp", "coaching", "accompagnement", "axe1",
      ("Mesure d'accompagnement social personnalisé (MASP)", "Accompagnement social personnalisé"),
      "Un accompagnement renforcé pour gérer ses prestations sociales et retrouver une autonomie dans la "
      "gestion de son budget.",
      "La MASP est un contrat passé avec le Département : une travailleuse sociale aide la personne à "
      "gérer ses prestations, à payer en priorité le loyer et les charges et à retrouver peu à peu son "
      "autonomie. La mesure dure de six mois à deux ans.",
      ("difficultes-administratives-ou-juridiques--beneficier-dune-mesure-daccompagnement-adapte",
       "difficultes-financieres--mettre-en-place-une-mesure-de-protection-financiere"),
      ("beneficiaires-des-minimas-sociaux", "tous-publics"), ("cd31",) + MDS, hours=((1, 26),),
      capacity=(8, 20), mobilisable_by=("professionnels",),
      plan=("difficulte_administrative",
            "Demande de protection administratives ou judiciaires ( MASP, tutelle, curatelle, "
            "sauvegarde de justice… )"),
      weight=1),
    T("acces-droits", "coaching", "accompagnement", "axe1",
      ("Permanence d'accès aux droits", "Rendez-vous droits : RSA, prime d'activité, aides au logement"),
      "Une permanence pour vérifier ses droits, faire une demande ou débloquer un dossier CAF, MSA, France "
      "Travail ou CPAM.",
      "Un travailleur social reçoit sur rendez-vous ou sans rendez-vous pour faire le point sur les droits "
      "(RSA, prime d'activité, aides au logement, complémentaire santé solidaire), aider aux demandes en "
      "ligne et servir d'intermédiaire avec les organismes quand un dossier est bloqué.",
      ("difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
       "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"),
      ("tous-publics",), MDS + ("caf31", "msa-mps", "cpam31"), hours=((0, 0),), reception="mix",
      mobilisation=("se-presenter", "telephoner"),
      plan=("difficulte_administrative", "L’accompagnement par les travailleurs sociaux en matière d'accès au droit"),
      weight=4),
    T("ecrivain-public", "coaching", "accompagnement", "axe3",
      ("Écrivain public numérique", "Aide aux démarches en ligne et aux courriers"),
      "Une aide pour rédiger un courrier, remplir un formulaire ou faire une démarche administrative en ligne.",
      "Des médiateurs numériques et écrivains publics reçoivent sans rendez-vous deux demi-journées par "
      "semaine : courriers, formulaires, création d'espaces personnels (CAF, France Travail, impôts, "
      "ANTS), prise de rendez-vous en ligne. La personne est accompagnée pour apprendre à le faire seule.",
      ("difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
       "numerique--acceder-a-des-services-en-ligne"),
      ("tous-publics", "personnes-exilees", "seniors"), ("maisons-de-chomeurs", "fa-sol-mi", "to7", "cbe-net"),
      hours=((0, 0),), mobilisation=("se-presenter",), plan=("difficulte_administrative", "Ecrivain Public Numérique")),
    T("permanence-juridique", "other", "accompagnement", "axe3",
      ("Permanence juridique gratuite", "Consultation juridique gratuite"),
      "Une consultation gratuite avec un juriste pour comprendre une procédure, un jugement ou ses droits.",
      "Un juriste reçoit sur rendez-vous pour informer sur les droits et les procédures : logement, "
      "travail, famille, dettes, casier judiciaire, discriminations. Il oriente si besoin vers un avocat "
      "et aide à préparer une demande d'aide juridictionnelle.",
      ("difficultes-administratives-ou-juridiques--prendre-en-compte-une-problematique-judiciaire",
       "difficultes-administratives-ou-juridiques--connaitre-ses-droits-face-a-une-discrimination"),
      ("tous-publics", "personnes-en-situation-juridique-specifique"), ("fas-occitanie", "cd31", "fa-sol-mi"),
      hours=((0, 0),), mobilisation=("telephoner",),
      plan=("difficulte_administrative", "Réalisation d’une demande d’aide juridictionnelle"), weight=2),
    T("citoyennete", "workshop", "atelier", "axe3",
      ("Parcours citoyenneté : vivre et travailler en France", "Atelier citoyenneté et valeurs de la République"),
      "Des ateliers pour connaître les institutions, ses droits et devoirs et préparer les démarches de "
      "titre de séjour ou de naturalisation.",
      "Les ateliers abordent les institutions, les services publics, le droit du travail et les démarches "
      "de séjour et de naturalisation. Ils complètent les cours de français et se terminent par une visite "
      "de la mairie et d'un service public.",
      ("difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-a-la-citoyennete",),
      ("personnes-exilees",), ("fa-sol-mi", "fas-occitanie"), sessions="cohort", hours=((4, 5),), capacity=(8, 15),
      languages=("Anglais", "Arabe"), weight=1),
    T("logement-atelier", "workshop", "atelier", "axe3",
      ("Atelier logement : bien préparer sa demande de logement social", "Atelier « Trouver un logement »"),
      "Comprendre la demande de logement social, préparer son dossier et connaître ses droits de locataire.",
      "En groupe, les participants apprennent à déposer et renouveler une demande de logement social, à "
      "constituer un dossier de location dans le parc privé, à calculer leur budget logement et à "
      "connaître les aides (APL, garantie Visale, FSL), ainsi que l'accession sociale à la propriété.",
      ("logement-hebergement--louer-un-logement",
       "logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement",
       "logement-hebergement--changer-de-logement", "logement-hebergement--acheter-un-logement"),
      ("tous-publics", "jeunes", "familles"), ML + MDS[:4] + ("fas-occitanie",), sessions="weekly", hours=((2, 1),),
      capacity=(6, 12), plan=("logement", "Actions collectives liées au logement")),
    T("asll", "coaching", "accompagnement", "axe3",
      ("Accompagnement social lié au logement (ASLL)", "Se maintenir dans son logement : accompagnement"),
      "Un accompagnement pour accéder à un logement, s'y installer et s'y maintenir, notamment en cas "
      "d'impayés de loyer.",
      "Financé par le fonds de solidarité logement, l'accompagnement aide à entrer dans un logement, à "
      "régler une dette de loyer avec un plan d'apurement, à éviter une procédure d'expulsion et à "
      "s'approprier son logement (énergie, voisinage, assurance).",
      ("logement-hebergement--se-maintenir-dans-le-logement", "logement-hebergement--reduire-les-impayes-de-loyer"),
      ("beneficiaires-des-minimas-sociaux", "familles"), ("fas-occitanie", "cd31") + MDS[:3], hours=((1, 26),),
      capacity=(10, 25), mobilisable_by=("professionnels",),
      plan=("logement", "Mesure d'Accompagnement Social Lié au Logement ( ASLL )")),
    T("hebergement", "coaching", "accompagnement", "axe3",
      ("Recherche d'une solution d'hébergement temporaire", "Accès à l'hébergement : orientation et accompagnement"),
      "Une évaluation de la situation et une orientation vers un hébergement d'urgence, d'insertion ou un "
      "logement temporaire.",
      "Un travailleur social évalue la situation, fait la demande auprès du service intégré d'accueil et "
      "d'orientation et accompagne la personne jusqu'à l'entrée dans un hébergement ou un logement "
      "temporaire, puis vers un logement durable.",
      ("logement-hebergement--rechercher-une-solution-dhebergement-temporaire",),
      ("personnes-en-situation-durgence", "familles", "jeunes"), ("fas-occitanie",) + MDS[:3], hours=((0, 0),),
      mobilisable_by=("professionnels",), plan=("logement", "Demande d'hébergement ( SIAO )"), weight=2),
    T("numerique-bases", "workshop", "atelier", "axe3",
      ("Atelier numérique : premiers pas", "Atelier numérique : réussir ses démarches en ligne",
       "Les bases de l'ordinateur et du smartphone"),
      "Apprendre à utiliser un ordinateur ou un smartphone : courriel, internet, démarches en ligne.",
      "Un médiateur numérique accompagne des petits groupes de niveau débutant : allumer et utiliser un "
      "ordinateur, créer une adresse électronique, naviguer sur internet, envoyer un document, se connecter "
      "à ses espaces personnels en sécurité. Des ordinateurs sont prêtés pendant l'atelier.",
      ("numerique--maitriser-les-fondamentaux-du-numerique", "numerique--acceder-a-des-services-en-ligne"),
      ("tous-publics", "seniors", "personnes-exilees"), ASSO + ("maisons-de-chomeurs",) + FT[:3],
      sessions="cohort", hours=((4, 4), (3, 6)), capacity=(6, 10),
      plan=("maitrise_langue", "Participation à des formations / ateliers : numériques"), weight=5),
    T("ordinateurs", "other", "aide-materielle", "axe3",
      ("Ordinateurs reconditionnés à petit prix", "Équipement numérique solidaire"),
      "Un ordinateur portable ou une tablette reconditionnés à prix solidaire, avec une prise en main.",
      "Des ordinateurs et tablettes reconditionnés, garantis un an, sont proposés aux personnes en "
      "insertion, avec une séance de prise en main et un accompagnement pour obtenir une connexion à "
      "internet à tarif social.",
      ("numerique--acquerir-un-equipement", "numerique--acceder-a-une-connexion-internet"),
      ("beneficiaires-des-minimas-sociaux", "demandeurs-emploi", "etudiants"), ("to7", "cbe-net", "coorace"),
      hours=((0, 0),), capacity=(5, 20), fees="payant", fees_details="De 30 à 80 € selon le matériel.", weight=2),
    T("acces-libre", "other", "information", "axe3",
      ("Espace numérique en accès libre", "Point d'accès numérique : ordinateurs et wifi"),
      "Des ordinateurs, une imprimante et le wifi en accès libre pour ses démarches et sa recherche d'emploi.",
      "L'espace est ouvert aux horaires d'accueil : ordinateurs connectés, impression et numérisation des "
      "documents, wifi gratuit. Un professionnel est présent pour aider en cas de difficulté.",
      ("numerique--acceder-a-une-connexion-internet", "numerique--acceder-a-des-services-en-ligne"),
      ("tous-publics",), FT + ("maisons-de-chomeurs",) + MDS[:4], hours=((0, 0),), mobilisation=("se-presenter",),
      documents="", weight=2),
    T("confiance", "workshop", "atelier", "axe3",
      ("Atelier confiance en soi", "Reprendre confiance : atelier image de soi et communication",
       "Atelier estime de soi et prise de parole"),
      "Un atelier en petit groupe pour reprendre confiance, oser prendre la parole et valoriser son image.",
      "Théâtre-forum, exercices de communication, conseils en image et partages d'expériences aident les "
      "participants à retrouver l'estime de soi et l'envie d'avancer. L'atelier se termine par un projet "
      "collectif présenté aux proches et aux référents.",
      ("remobilisation--bien-etre-confiance-en-soi", "remobilisation--lien-social"),
      ("tous-publics", "femmes", "beneficiaires-des-minimas-sociaux"), ASSO + PLIE + ML, sessions="cohort",
      hours=((4, 4), (6, 3)), capacity=(8, 12),
      plan=("emploi", "Orientation vers un partenaire pour identifier et lever les freins"), weight=5),
    T("sport", "workshop", "atelier", "axe3",
      ("Sport et insertion : remise en forme collective", "Bouger pour rebondir : activités sportives"),
      "Des séances de sport adaptées en groupe pour retrouver énergie, rythme et lien social.",
      "Encadrées par un éducateur sportif, les séances (marche, gymnastique douce, sports collectifs) "
      "permettent de reprendre un rythme, de travailler la ponctualité et l'esprit d'équipe. Aucun niveau "
      "n'est demandé ; une tenue de sport est prêtée si besoin.",
      ("remobilisation--activites-sportives-et-culturelles", "remobilisation--lien-social"),
      ("tous-publics", "jeunes"), ("to7", "cbe-revel") + ML + ("toulouse-metropole",), sessions="weekly",
      hours=((2, 8),), capacity=(10, 16), documents="", weight=2),
    T("culture", "workshop", "atelier", "axe3",
      ("Sorties culturelles et ateliers d'expression", "Culture du cœur : sorties et ateliers"),
      "Des sorties au musée, au théâtre ou au concert, préparées en groupe, pour rompre l'isolement.",
      "Chaque mois, une sortie culturelle est préparée en atelier et suivie d'un temps d'échange. Les "
      "places sont offertes par des lieux culturels partenaires ; le transport est organisé.",
      ("remobilisation--activites-sportives-et-culturelles", "remobilisation--lien-social"),
      ("tous-publics", "familles", "seniors"), ("maisons-de-chomeurs", "fa-sol-mi", "fas-occitanie"),
      sessions="event", hours=((3, 1),), capacity=(8, 15), documents="", weight=2),
    T("comite-usagers", "other", "atelier", "transverse",
      ("Comité des personnes accompagnées du SPIE", "Participer à l'amélioration du SPIE : comité citoyen"),
      "Donner son avis sur l'accompagnement et participer aux décisions du SPIE avec d'autres personnes "
      "accompagnées.",
      "Action transverse du plan SPIE (participation citoyenne). Le comité se réunit tous les deux mois "
      "avec les partenaires : retours d'expérience, avis sur les outils et les courriers, propositions "
      "d'amélioration. Les frais de transport et de garde sont pris en charge.",
      ("remobilisation--benevolat-action-citoyenne", "remobilisation--lien-social"),
      ("beneficiaires-des-minimas-sociaux", "demandeurs-emploi"), ("cd31", "ddets31"), sessions="event",
      hours=((3, 1),), capacity=(12, 20), documents="", weight=1),
    T("benevolat", "other", "information", "axe3",
      ("Bénévolat et engagement citoyen : découvrir les associations", "S'engager comme bénévole"),
      "Trouver une mission de bénévolat près de chez soi pour reprendre une activité, se rendre utile et "
      "acquérir des compétences.",
      "Un conseiller présente les associations qui accueillent des bénévoles (aide alimentaire, sport, "
      "culture, environnement) et met en relation. Les compétences acquises peuvent être inscrites dans le "
      "passeport emploi.",
      ("remobilisation--benevolat-action-citoyenne",), ("tous-publics",), ("maisons-de-chomeurs", "to7", "fa-sol-mi"),
      hours=((0, 0),), weight=1),
    T("parentalite", "workshop", "atelier", "axe3",
      ("Café des parents", "Atelier parentalité : concilier vie familiale et projet professionnel"),
      "Un temps d'échange entre parents sur l'éducation, l'organisation familiale et la reprise d'activité.",
      "Animé par une conseillère en économie sociale et familiale et une éducatrice de jeunes enfants, le "
      "café des parents aborde l'organisation du quotidien, les modes de garde, la scolarité et la "
      "conciliation avec un emploi ou une formation. Les enfants sont accueillis sur place.",
      ("famille--soutien-a-la-parentalite-et-a-leducation", "famille--garde-denfants"),
      ("familles", "femmes"), ("caf31", "fa-sol-mi") + MDS[:4], sessions="weekly", hours=((2, 1),),
      capacity=(6, 12), documents=""),
    T("aidants", "coaching", "accompagnement", "axe3",
      ("Accompagnement des proches aidants", "Soutien aux aidants familiaux"),
      "Un soutien pour les personnes qui aident un proche dépendant : droits, répit et conciliation avec "
      "un projet professionnel.",
      "Une conseillère informe sur le statut d'aidant, les aides et les solutions de répit, aide à "
      "organiser la prise en charge de la personne aidée et à préserver un projet d'emploi ou de formation.",
      ("famille--soutien-aidants", "famille--prise-en-charge-personne-dependante"),
      ("familles", "seniors"), ("msa-mps", "caf31", "cd31"), hours=((1, 6),), capacity=(10, 20), reception="mix",
      plan=("contraintes_familiales", "Réalisation de démarches visant à devenir obtenir le statut d'aidant"),
      weight=1),
    T("violences", "coaching", "accompagnement", "axe3",
      ("Accompagnement des femmes victimes de violences", "Écoute et accompagnement : séparation, conflits, violences"),
      "Un accueil confidentiel et un accompagnement pour les personnes victimes de violences ou en "
      "situation de séparation difficile.",
      "Des professionnelles formées accueillent en toute confidentialité, informent sur les droits, aident "
      "aux démarches (plainte, hébergement, garde des enfants, séparation) et accompagnent vers l'emploi "
      "et l'autonomie financière.",
      ("famille--surmonter-conflits-separation-violence",),
      ("femmes", "familles"), ("fa-sol-mi", "fas-occitanie"), hours=((0, 0),), reception="mix",
      mobilisation=("telephoner",), weight=1),
    T("fle", "training", "formation", "axe3",
      ("Français langue étrangère à visée professionnelle", "Cours de français pour l'emploi",
       "Atelier sociolinguistique : le français au quotidien"),
      "Des cours de français à l'oral et à l'écrit, orientés vers l'emploi et les démarches du quotidien.",
      "Les cours, en groupes de niveau, travaillent la compréhension et l'expression orale, la lecture et "
      "l'écriture à partir de situations professionnelles (entretien, consignes de sécurité, planning). Un "
      "test de positionnement a lieu avant l'entrée.",
      ("lecture-ecriture-calcul--maitriser-le-francais",),
      ("personnes-exilees", "tous-publics"), ("fa-sol-mi", "afpa", "region-occitanie", "maisons-de-chomeurs"),
      sessions="cohort", hours=((9, 10), (12, 8), (6, 12)), capacity=(10, 16),
      languages=("Anglais", "Arabe", "Espagnol"),
      plan=("maitrise_langue", "Participation à des formations / ateliers : Français Langue Étrangère"), weight=4),
    T("savoirs-base", "training", "formation", "axe3",
      ("Remise à niveau en français et calcul (préparation CléA)", "Savoirs de base : lire, écrire, compter"),
      "Reprendre les bases en français et en calcul pour accéder à une formation ou à un emploi, jusqu'à la "
      "certification CléA.",
      "Après une évaluation, chaque stagiaire suit un parcours personnalisé : lecture, écriture, calcul, "
      "raisonnement, numérique de base. Le parcours peut se terminer par la certification CléA, reconnue "
      "par les employeurs.",
      ("lecture-ecriture-calcul--maitriser-le-calcul", "lecture-ecriture-calcul--maitriser-le-francais"),
      ("tous-publics", "demandeurs-emploi"), ("afpa", "region-occitanie", "maisons-de-chomeurs"), sessions="cohort",
      hours=((12, 8), (20, 6)), capacity=(8, 14),
      plan=("maitrise_langue",
      "Participation à des formations / ateliers : amélioration des savoirs lecture / écriture")),
    T("prepa-competences", "training", "formation", "axe3",
      ("Prépa Compétences", "Prépa Compétences : construire son projet de formation"),
      "Quelques semaines pour construire un projet de formation réaliste et s'y préparer.",
      "Prépa Compétences aide à choisir une formation adaptée au marché du travail : découverte de "
      "métiers, évaluation des acquis, remise à niveau ciblée, immersion en entreprise et construction du "
      "plan de financement. L'entrée en formation qualifiante est préparée avec le conseiller.",
      ("se-former--trouver-sa-formation", "choisir-un-metier--confirmer-son-choix-de-metier",
       "se-former--monter-son-dossier-de-formation"),
      ("demandeurs-emploi",), ("afpa",), sessions="cohort", hours=((30, 4), (30, 6)), capacity=(10, 15),
      plan=("formation", "Prépa Compétences"), weight=3),
    T("formation-qualifiante", "training", "formation", "axe3",
      ("Formation qualifiante : agent de propreté et d'hygiène", "Formation qualifiante : préparateur de commandes",
       "Formation qualifiante : assistant de vie aux familles", "Formation : agent de restauration"),
      "Une formation qualifiante rémunérée, avec des périodes en entreprise, vers un métier qui recrute.",
      "La formation alterne cours, plateau technique et stages en entreprise. Elle prépare un titre "
      "professionnel reconnu. Les stagiaires peuvent être rémunérés et bénéficier d'aides au transport ; "
      "des entreprises partenaires participent au recrutement final.",
      ("se-former--trouver-sa-formation", "se-former--monter-son-dossier-de-formation"),
      ("demandeurs-emploi", "jeunes"), ("afpa", "region-occitanie"), sessions="cohort",
      hours=((35, 12), (35, 16), (30, 20)), capacity=(10, 14), prerequisites="Savoir lire et écrire le français.",
      documents="Pièce d'identité, attestation d'inscription à France Travail, CV",
      plan=("formation", "Orientation vers une formation qualifiante"), weight=3),
    T("prequalif-btp", "training", "formation", "axe3",
      ("Pré-qualification aux métiers du bâtiment", "Contrat de professionnalisation dans le BTP : préparation"),
      "Quelques semaines de remise à niveau et de pratique sur chantier école avant un contrat en alternance "
      "dans le bâtiment.",
      "Le groupement d'employeurs prépare les candidats à un contrat de professionnalisation : sécurité sur "
      "chantier, gestes de base, savoirs utiles (mesures, plans), visites d'entreprises adhérentes. À "
      "l'issue, les participants signent un contrat en alternance de 12 à 18 mois avec un suivi "
      "socio-professionnel.",
      ("se-former--trouver-sa-formation", "choisir-un-metier--confirmer-son-choix-de-metier"),
      ("demandeurs-emploi", "jeunes", "beneficiaires-des-minimas-sociaux"), ("geiq-btp-31", "btp31"),
      sessions="cohort", hours=((35, 4), (35, 6)), capacity=(8, 12), prerequisites="Être apte au travail en extérieur.",
      plan=("emploi", "Réalisation d’une alternance"), weight=2),
    T("dossier-formation", "coaching", "accompagnement", "axe3",
      ("Accompagnement au montage du dossier de formation", "Financer sa formation : accompagnement"),
      "Une aide pour trouver la bonne formation et monter le dossier de financement.",
      "Le conseiller aide à comparer les formations, à mobiliser le compte personnel de formation et les "
      "aides de la Région et de France Travail, et à constituer le dossier jusqu'à l'entrée en formation.",
      ("se-former--monter-son-dossier-de-formation", "se-former--trouver-sa-formation"),
      ("demandeurs-emploi", "jeunes", "actifs"), FT + ML, hours=((1, 4),), reception="mix",
      plan=("formation", "Recherche de formation")),
    T("creation-atelier", "workshop", "atelier", "axe3",
      ("Atelier créer son entreprise : premiers pas", "Réunion d'information : créer son activité"),
      "Une matinée pour tester son idée de création d'entreprise et connaître les étapes, les statuts et "
      "les aides.",
      "L'atelier présente les étapes de la création : étude de marché, choix du statut (dont la "
      "micro-entreprise), prévisionnel, aides et financements (ACRE, microcrédit, prêts d'honneur). Un "
      "rendez-vous individuel est proposé ensuite.",
      ("creer-une-entreprise--definir-son-projet-de-creation-dentreprise",
       "creer-une-entreprise--structurer-son-projet-de-creation-dentreprise"),
      ("tous-publics", "demandeurs-emploi"), ("cci-toulouse", "cma31"), sessions="event", hours=((3, 1),),
      capacity=(10, 25), reception="mix",
      plan=("emploi", "Orientation vers les partenaires entreprenariat ( CCI, ADIE… )")),
    T("creation-accompagnement", "coaching", "accompagnement", "axe3",
      ("Accompagnement à la création et au développement d'entreprise",
       "Suivi post-création : développer son activité"),
      "Un accompagnement individuel pour structurer son projet de création et développer son activité "
      "pendant les premières années.",
      "Un conseiller création suit le porteur de projet : business plan, recherche de financements, "
      "démarches d'immatriculation, puis suivi post-création (gestion, développement commercial, "
      "embauche du premier salarié).",
      ("creer-une-entreprise--structurer-son-projet-de-creation-dentreprise",
       "creer-une-entreprise--developper-son-entreprise"),
      ("actifs", "demandeurs-emploi", "beneficiaires-des-minimas-sociaux"), ("cci-toulouse", "cma31"),
      hours=((1, 12),), capacity=(10, 30), reception="mix", plan=("emploi", "Appui à la création d'entreprise")),
    T("plie-renforce", "coaching", "accompagnement", "axe3",
      ("Accompagnement renforcé vers l'emploi", "Parcours PLIE : accompagnement individuel renforcé"),
      "Un référent unique et des rendez-vous fréquents pour accéder à un emploi durable, avec un suivi "
      "après l'embauche.",
      "Le référent de parcours construit avec la personne les étapes vers l'emploi (formation, immersion, "
      "emploi en insertion, clauses sociales), la met en relation avec des employeurs et la suit pendant "
      "six mois après l'embauche.",
      ("trouver-un-emploi--repondre-a-des-offres-demploi",
       "preparer-sa-candidature--organiser-ses-demarches-de-recherche-demploi"),
      ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"), PLIE, hours=((2, 26),), capacity=(20, 40),
      mobilisable_by=("professionnels",), plan=("emploi", "Orientation PLIE")),
    T("parrainage", "coaching", "accompagnement", "axe3",
      ("Parrainage vers l'emploi", "Un parrain ou une marraine pour trouver un emploi"),
      "Un professionnel en activité accompagne bénévolement la recherche d'emploi pendant six mois.",
      "Le parrain ou la marraine, salarié ou dirigeant d'une entreprise partenaire, partage son réseau, "
      "relit les candidatures, prépare les entretiens et ouvre des portes. Des rencontres collectives "
      "réunissent filleuls et parrains chaque trimestre.",
      ("preparer-sa-candidature--developper-son-reseau", "trouver-un-emploi--convaincre-un-recruteur-en-entretien"),
      ("demandeurs-emploi", "jeunes", "residents-qpv-frr"), ("face-grand-toulouse", "club-entreprises-inclusives"),
      hours=((1, 26),), capacity=(10, 30), reception="mix", weight=2),
    T("clauses", "coaching", "accompagnement", "axe3",
      ("Clauses sociales : positionnement sur les chantiers et marchés publics",
       "Emplois des clauses d'insertion : candidater"),
      "Être positionné sur les emplois réservés par les clauses d'insertion des marchés publics.",
      "Les facilitateurs des clauses sociales recensent les heures d'insertion prévues dans les marchés "
      "publics (bâtiment, propreté, espaces verts, services) et positionnent les candidats auprès des "
      "entreprises attributaires, avec un suivi pendant la mission.",
      ("trouver-un-emploi--repondre-a-des-offres-demploi",),
      ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux", "residents-qpv-frr"),
      ("tme-plie", "toulouse-metropole", "muretain-agglo"), hours=((0, 0),), mobilisable_by=("professionnels",),
      plan=("emploi", "Positionnement sur les clauses d'insertion"), weight=2),
    T("maintien-emploi", "coaching", "accompagnement", "transverse",
      ("Accompagnement dans l'emploi : les six premiers mois", "Jusque dans l'emploi : suivi après l'embauche"),
      "Un suivi après l'embauche, avec le salarié et l'employeur, pour que l'emploi dure.",
      "Action transverse du plan SPIE (accompagnement jusque dans l'emploi). Pendant les six premiers "
      "mois, le référent fait des points réguliers avec la nouvelle recrue et son employeur, aide à "
      "résoudre les difficultés (transport, garde, horaires, intégration) et mobilise si besoin les "
      "partenaires du réseau.",
      ("trouver-un-emploi--maintien-dans-lemploi",),
      ("actifs", "beneficiaires-des-minimas-sociaux"), PLIE + FT[:3] + ("cap-emploi-31", "cd31"), hours=((1, 26),),
      capacity=(15, 40), reception="mix", mobilisable_by=("professionnels",)),
    T("handicap-emploi", "coaching", "accompagnement", "axe3",
      ("Accompagnement vers l'emploi des personnes en situation de handicap",
       "Maintien dans l'emploi et adaptation du poste"),
      "Un accompagnement spécialisé vers l'emploi ou pour le maintien dans l'emploi, avec les aides de "
      "l'Agefiph.",
      "Un chargé d'accompagnement spécialisé construit le projet professionnel en tenant compte des "
      "restrictions, mobilise les aides (aménagement de poste, formation, compensation) et accompagne le "
      "recrutement et l'intégration dans l'entreprise.",
      ("trouver-un-emploi--maintien-dans-lemploi", "trouver-un-emploi--repondre-a-des-offres-demploi"),
      ("personnes-en-situation-de-handicap",), ("cap-emploi-31", "agefiph"), hours=((1, 26),), capacity=(15, 40),
      mobilisable_by=("professionnels",), access="Reconnaissance de la qualité de travailleur handicapé ou "
      "demande en cours.", plan=("emploi", "Inscription à Cap emploi")),
    T("mdph", "coaching", "accompagnement", "axe3",
      ("Aide à la constitution du dossier MDPH", "Dossier MDPH et invalidité : accompagnement"),
      "Une aide pour constituer un dossier auprès de la MDPH ou une demande de pension d'invalidité.",
      "Un travailleur social aide à rassembler les pièces, à rédiger le projet de vie et à suivre la "
      "demande (reconnaissance de travailleur handicapé, allocation, orientation), en lien avec le "
      "médecin traitant.",
      ("sante--constituer-un-dossier-mdph-invalidite",),
      ("personnes-en-situation-de-handicap", "tous-publics"), ("cap-emploi-31", "cpam31") + MDS[:3], hours=((0, 0),),
      plan=("sante", "Constitution d’un dossier MDPH"), weight=2),
    T("bilan-sante", "other", "information", "axe3",
      ("Bilan de santé gratuit", "Examen de prévention en santé"),
      "Un bilan de santé complet et gratuit, pris en charge par l'Assurance maladie.",
      "Le centre d'examens de santé propose un bilan complet (examens, entretien avec un médecin, "
      "prévention) et aide à trouver un médecin traitant. Les résultats sont remis à la personne seule.",
      ("sante--acces-aux-soins",), ("tous-publics", "beneficiaires-des-minimas-sociaux"), ("cpam31", "msa-mps"),
      sessions="event", hours=((3, 1),), capacity=(10, 20), documents="Carte Vitale ou attestation de droits",
      plan=("sante", "Réalisation d’un bilan de santé")),
    T("acces-soins", "other", "accompagnement", "axe3",
      ("Permanence d'accès aux soins et aux droits santé", "Complémentaire santé solidaire : être accompagné"),
      "Une aide pour ouvrir ses droits à l'assurance maladie, à la complémentaire santé solidaire et trouver "
      "un médecin traitant.",
      "Un conseiller de l'Assurance maladie vérifie les droits, aide à la demande de complémentaire santé "
      "solidaire et à la déclaration du médecin traitant, et oriente vers les soins (dentaire, optique) à "
      "tarifs maîtrisés.",
      ("sante--acces-aux-soins", "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits"),
      ("tous-publics",), ("cpam31", "msa-mps"), hours=((0, 0),), reception="mix",
      plan=("sante", "Réalisation de démarches auprès de la Sécurité sociale ( CSS, AME… )"), weight=2),
    T("ecoute-jeunes", "coaching", "accompagnement", "axe3",
      ("Point écoute jeunes", "Consultation jeunes : addictions et conduites à risque"),
      "Un lieu d'écoute gratuit et confidentiel pour les jeunes et leurs proches.",
      "Des psychologues et éducateurs reçoivent gratuitement, avec ou sans rendez-vous, les jeunes qui "
      "s'interrogent sur leurs consommations, leur moral ou leur vie affective, et leurs proches.",
      ("sante--addictions", "sante--sante-mentale"), ("jeunes",), ML, hours=((0, 0),),
      mobilisation=("telephoner", "se-presenter"), plan=("sante",
      "Mise en relation avec d’autres professionnels de santé"),
      weight=1),
    T("sante-sexuelle", "collective_info", "information", "axe3",
      ("Information santé sexuelle et prévention", "Atelier prévention santé pour les jeunes"),
      "Une information collective sur la santé sexuelle, la contraception et le dépistage, avec des "
      "professionnels de santé.",
      "Des professionnels d'un centre de santé sexuelle animent un temps d'échange libre et anonyme sur "
      "la contraception, le dépistage et le consentement, et présentent les lieux de consultation gratuits.",
      ("sante--sante-sexuelle",), ("jeunes",), ML + ("cpam31",), sessions="event", hours=((2, 1),),
      capacity=(8, 20), documents="", weight=1),
    T("groupe-parole", "workshop", "atelier", "axe3",
      ("Groupe de parole : prendre soin de soi", "Atelier bien-être et gestion du stress"),
      "Un groupe d'échange animé par une psychologue pour parler de ce qui pèse et retrouver de l'énergie.",
      "Le groupe se réunit tous les quinze jours : relaxation, gestion du stress, échanges libres dans un "
      "cadre bienveillant et confidentiel. Une orientation vers un suivi individuel est possible.",
      ("sante--sante-mentale", "remobilisation--bien-etre-confiance-en-soi"),
      ("tous-publics",), ("fas-occitanie", "maisons-de-chomeurs"), sessions="weekly", hours=((2, 6),),
      capacity=(6, 10), documents="", plan=("sante", "Participation à des groupes de soutien"), weight=1),
    T("international", "webinar", "information", "axe3",
      ("Webinaire : travailler ou se former à l'étranger", "Partir en Europe : stages, volontariat et emploi"),
      "Un webinaire pour découvrir les possibilités de stage, de volontariat et d'emploi à l'étranger, et "
      "les aides pour partir.",
      "Des conseillers présentent les programmes de mobilité européenne et internationale (stages, "
      "volontariat, emploi saisonnier), les aides financières et la préparation du départ, avec le "
      "témoignage de jeunes revenus d'une mobilité.",
      ("souvrir-a-linternational--connaitre-les-opportunites-demploi-a-letranger",
       "souvrir-a-linternational--sinformer-sur-les-aides-pour-travailler-a-letranger"),
      ("jeunes", "demandeurs-emploi"), ML + FT[:2], sessions="event", hours=((1.5, 1),), capacity=(30, 80),
      reception="remote", mobilisation=("utiliser-lien-mobilisation",), documents="", weight=1),
    T("retour-france", "coaching", "accompagnement", "axe3",
      ("Retour en France : reprendre ses démarches", "Accompagnement au retour en France"),
      "Une aide pour s'organiser après un séjour à l'étranger : droits, inscription, reconnaissance de "
      "l'expérience acquise.",
      "Le conseiller aide à rouvrir les droits (assurance maladie, France Travail, CAF), à faire "
      "reconnaître les diplômes et l'expérience acquise à l'étranger et à relancer la recherche d'emploi.",
      ("souvrir-a-linternational--sorganiser-suite-a-son-retour-en-france",),
      ("tous-publics",), FT[:2], hours=((1, 3),), reception="mix", weight=1),
    T("diagnostic", "coaching", "accompagnement", "axe1",
      ("Diagnostic socio-professionnel approfondi", "Bilan de situation à l'entrée dans le parcours"),
      "Un diagnostic partagé à l'entrée dans le parcours : situation, freins, atouts et premières étapes.",
      "Action du plan SPIE (axe 1). Le diagnostic à trame unique est co-construit avec la personne en un "
      "ou deux entretiens : situation sociale, santé dans la mesure de ce qu'elle souhaite dire, "
      "compétences, envies, freins à lever. Il débouche sur une orientation et un premier plan d'action.",
      ("choisir-un-metier--identifier-ses-points-forts-et-ses-competences",
       "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits"),
      ("beneficiaires-des-minimas-sociaux",), ("cd31",) + MDS + FT[:3], hours=((2, 2),), reception="mix",
      mobilisable_by=("professionnels",), plan=("emploi", "Accompagnement global"), weight=2),
    T("bilan-competences", "coaching", "accompagnement", "axe3",
      ("Bilan de compétences", "Mes compétences, mon projet : bilan personnalisé"),
      "Faire le point sur ses compétences, ses motivations et ses pistes de métier avec un consultant.",
      "En plusieurs rendez-vous, le consultant aide à analyser le parcours, identifier les compétences "
      "transférables et les intérêts, explorer des métiers et construire un projet réaliste, formalisé dans "
      "une synthèse remise à la personne.",
      ("choisir-un-metier--identifier-ses-points-forts-et-ses-competences",
       "choisir-un-metier--confirmer-son-choix-de-metier"),
      ("actifs", "demandeurs-emploi"), ("afpa",) + FT[:3], hours=((3, 8),), capacity=(6, 15), reception="mix",
      plan=("formation", "Bilan de compétences")),
]

# Network action models, offered at several sites (``Action.model``): (template, owner, sites).
MODELS = [
    ("prejuges", "cd31", ("mds-toulouse-bonnefoy", "mds-toulouse-mirail", "mds-colomiers", "mds-muret",
                          "mds-saint-gaudens")),
    ("lab-50", "cd31", ("ft-toulouse-mirail", "ft-blagnac", "tme-plie", "ft-saint-gaudens")),
    ("passeport-emploi", "cd31", ("ml-toulouse", "maisons-de-chomeurs", "muretain-agglo")),
]

OPENING_HOURS = [
    "Mo-Fr 09:00-12:00,14:00-17:00", "Mo-Th 08:30-12:30,13:30-17:00; Fr 08:30-12:30", "Tu,Th 09:00-12:00",
    "Mo-Fr 09:00-17:00", "Mo,We,Fr 14:00-17:30", "Mo-Fr 08:30-12:00",
]
ACCESSIBILITY = [
    "Locaux de plain-pied, accessibles en fauteuil roulant.",
    "Accessible aux personnes à mobilité réduite ; boucle magnétique à l'accueil.",
    "Bâtiment accessible par ascenseur ; supports en FALC sur demande.",
    "Salle au premier étage sans ascenseur : contactez-nous pour une solution adaptée.",
    "",
]
REMOTE_ACCESSIBILITY = "Sous-titrage en direct ; supports envoyés à l'avance sur demande."
MOBILISATION_DETAILS = [
    "Orientation par le référent depuis la plateforme SPIE ; la structure recontacte la personne sous huit jours.",
    "Inscription par le référent ou directement par la personne, par courriel ou téléphone.",
    "Un entretien préalable est proposé avant l'entrée, pour vérifier que l'action répond au besoin.",
    "Prendre contact par téléphone ; un rendez-vous est fixé dans la semaine.",
]
EXTRA_LANGUAGES = ["Anglais", "Espagnol", "Arabe", "Portugais"]
SESSION_TIMES = {"event": ((9, 30), (10, 0), (14, 0), (14, 30)), "cohort": ((9, 0), (9, 30)),
                 "weekly": ((9, 30), (14, 0)), "webinar": ((10, 0), (11, 0), (14, 0))}


def _chooser(rng, pairs):
    values = [v for v, _ in pairs]
    cumulative = list(accumulate(w for _, w in pairs))
    return values[min(bisect_right(cumulative, rng.random() * cumulative[-1]), len(values) - 1)]


def _km(lat1, lon1, lat2, lon2):
    dx = (lon1 - lon2) * math.cos(math.radians((lat1 + lat2) / 2)) * 111.32
    dy = (lat1 - lat2) * 110.57
    return math.hypot(dx, dy)


# --------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """What every action draws from: structures, communes, people to name as contacts."""

    territory: object
    today: date
    structures: dict  # key -> Structure
    domains: dict  # structure pk -> e-mail domain
    admins: dict  # structure pk -> user pk
    communes: list
    commune_weights: list
    by_code: dict
    streets: list
    contacts: list  # (first name, last name)
    plan_items: dict  # folded (theme, label) -> PathwayItem pk
    vocabulary: set
    nearest: dict = field(default_factory=dict)


def _context(territory, today, seed):
    from faker import Faker

    from spie.core.demo import STRUCTURES
    from spie.network.models import Membership, Structure
    from spie.referentials.models import Commune, PathwayItem

    specs = {slugify(spec.name): spec for spec in STRUCTURES}
    structures, domains = {}, {}
    for structure in Structure.objects.filter(territory=territory, is_active=True).select_related("commune"):
        spec = specs.get(structure.slug)
        key = spec.key if spec else structure.slug
        structures[key] = structure
        email_domain = structure.email.rpartition("@")[2] if structure.email else ""
        domains[structure.pk] = spec.domain if spec else (
            email_domain if email_domain.endswith(".example") else f"{structure.slug}.example")
    admins = {}
    for structure_id, user_id in Membership.objects.filter(
        structure__territory=territory, role=Membership.Role.ADMIN, is_active=True
    ).order_by("structure_id", "pk").values_list("structure_id", "user_id"):
        admins.setdefault(structure_id, user_id)
    communes = list(Commune.objects.filter(departement=territory.code, lat__isnull=False).order_by("code_insee"))
    weights = list(accumulate(math.sqrt(c.population or 1) for c in communes))
    fake = Faker("fr_FR")
    fake.seed_instance(seed + 2)
    streets = [fake.street_name() for _ in range(400)]
    contacts = [(fake.first_name(), fake.last_name()) for _ in range(400)]
    plan_items = {
        (theme, fold_words(label)): pk
        for pk, theme, label in PathwayItem.objects.filter(kind=PathwayItem.Kind.ACTION)
        .values_list("pk", "theme_id", "label")
    }
    return _Context(territory, today, structures, domains, admins, communes, weights,
                    {c.code_insee: c for c in communes}, streets, contacts, plan_items, set(thematiques_vocabulary()))


def _uid(territory, index):
    return uuid.uuid5(UID_NAMESPACE, f"{territory.code}:{index}")


def _plan(count):
    """What action ``i`` is, for every ``i < count``: (template, structure key or None, role) where role
    is "model", ("instance", model index) or "" — models first, then every template once, then
    templates drawn with their weights (in :func:`_build`, from the action's own stream)."""
    by_key = {t.key: t for t in TEMPLATES}
    plan = []
    for template_key, owner, _sites in MODELS:
        plan.append((by_key[template_key], owner, "model"))
    for model_index, (template_key, _owner, sites) in enumerate(MODELS):
        for site in sites:
            plan.append((by_key[template_key], site, ("instance", model_index)))
    for template in TEMPLATES:
        plan.append((template, None, ""))
    return plan[:count]


# Actions before this index are the models, their sites and every template once (all published).
COVERAGE = len(MODELS) + sum(len(sites) for _, _, sites in MODELS) + len(TEMPLATES)


def _sector(rng):
    return rng.choice(SECTORS)


def _fill(text, values):
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


class _ActionBuilder:
    """Builds action ``i`` and its sessions from its own random stream."""

    def __init__(self, ctx, seed):
        from spie.catalogue.models import Action, ActionSession

        self.ctx = ctx
        self.seed = seed
        self.Action = Action
        self.ActionSession = ActionSession
        self.plan = None
        self.weights = [(t, t.weight) for t in TEMPLATES]
        self.names_used = set()
        self.tz = ZoneInfo(settings.TIME_ZONE)

    # ------------------------------------------------------------------
    def structure_for(self, rng, template, key):
        ctx = self.ctx
        if key and key in ctx.structures:
            return ctx.structures[key]
        candidates = [ctx.structures[k] for k in template.structures if k in ctx.structures]
        if not candidates:
            candidates = sorted(ctx.structures.values(), key=lambda s: s.pk)
        return rng.choice(candidates)

    def commune_for(self, rng, structure):
        ctx = self.ctx
        home = ctx.by_code.get(structure.commune_id) if structure.commune_id else None
        if home is not None and (rng.random() < (0.8 if home.code_insee != "31555" else 0.5)):
            return home
        if not ctx.communes:
            return None
        return ctx.communes[min(bisect_right(ctx.commune_weights, rng.random() * ctx.commune_weights[-1]),
                                len(ctx.communes) - 1)]

    def nearest(self, commune, k):
        cached = self.ctx.nearest.get(commune.code_insee)
        if cached is None:
            cached = [c.code_insee for c in sorted(
                self.ctx.communes, key=lambda c: _km(commune.lat, commune.lon, c.lat, c.lon))[:12]]
            self.ctx.nearest[commune.code_insee] = cached
        return cached[:k]

    def reception(self, rng, template):
        r = rng.random()
        if template.reception == "remote":
            return ["a-distance"] if r < 0.85 else ["en-presentiel", "a-distance"]
        if template.reception == "mix":
            return ["en-presentiel"] if r < 0.45 else (["en-presentiel", "a-distance"] if r < 0.75 else ["a-distance"])
        return ["en-presentiel"] if r < 0.88 else ["en-presentiel", "a-distance"]

    # ------------------------------------------------------------------
    def build(self, index, entry, models_by_index):
        """The action (unsaved) and its sessions' keyword arguments."""
        ctx, today = self.ctx, self.ctx.today
        rng = random.Random(f"{self.seed}-catalogue-{index}")
        if entry is None:
            template, key, role = _chooser(rng, self.weights), None, ""
        else:
            template, key, role = entry
        model = None
        if isinstance(role, tuple):
            model = models_by_index.get(role[1])
        structure = self.structure_for(rng, template, key)
        values = {"sector": _sector(rng)}

        # What it is: from the model for an instance (kept in step by the model), else the template.
        if model is not None:
            name, summary, description = model.name, model.summary, model.description
            thematiques, publics = list(model.thematiques), list(model.publics)
        else:
            name = _fill(rng.choice(template.names), values)
            summary = _fill(template.summary, values)[:280]
            description = _fill(template.description, values)
            themes = list(template.themes)
            extra = [t for t in themes[1:] if rng.random() < 0.6]
            thematiques = [t for t in themes if t == themes[0] or t in extra]
            publics = list(template.publics[: rng.randint(1, len(template.publics))])
        thematiques = [t for t in thematiques if t in ctx.vocabulary]

        is_model = role == "model"
        modes = ["en-presentiel"] if is_model else self.reception(rng, template)
        if model is not None:
            modes = list(model.reception_modes) if "a-distance" in model.reception_modes else modes
        remote_only = modes == ["a-distance"]
        commune = None if (remote_only or is_model) else self.commune_for(rng, structure)
        address = postal = ""
        lat = lon = None
        if commune is not None:
            address = f"{rng.randint(1, 140)} {rng.choice(ctx.streets)}"
            codes = (commune.postal_codes or "").split()
            postal = (structure.postal_code if structure.commune_id == commune.code_insee and structure.postal_code
                      else (rng.choice(codes) if codes else ""))
            spread = 0.03 if commune.code_insee == "31555" else 0.006
            lat = round(commune.lat + rng.uniform(-spread, spread), 6)
            lon = round(commune.lon + rng.uniform(-spread * 1.4, spread * 1.4), 6)

        # Eligibility zone: the département, the EPCI, a few communes around, or none.
        r = rng.random()
        if commune is None:
            zone = [ctx.territory.code] if r < 0.7 else []
        elif r < 0.45:
            zone = [ctx.territory.code]
        elif r < 0.65 and commune.epci_siren:
            zone = [commune.epci_siren]
        elif r < 0.82:
            zone = self.nearest(commune, rng.randint(3, 8))
        else:
            zone = []

        first, last = rng.choice(ctx.contacts)
        domain = ctx.domains.get(structure.pk) or "spie31.example"
        email = (f"{fold_words(first).replace(' ', '-')}.{fold_words(last).replace(' ', '-')}@{domain}"
                 if rng.random() < 0.7 else f"contact@{domain}")
        phone = f"05 61 00 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"

        weekly, weeks = rng.choice(template.hours)
        languages = ["Français"] + list(template.languages)
        if rng.random() < 0.1:
            languages.append(rng.choice([lang for lang in EXTRA_LANGUAGES if lang not in languages] or ["Anglais"]))
        accessibility = REMOTE_ACCESSIBILITY if remote_only else rng.choice(ACCESSIBILITY)
        plan_item = None
        if template.plan and rng.random() < 0.75:
            plan_item = ctx.plan_items.get((template.plan[0], fold_words(template.plan[1])))

        # Lifecycle.
        status, suspended_until, stale = "published", None, False
        special = index - COVERAGE  # 0, 1, 2… after the coverage block
        if is_model or isinstance(role, tuple) or entry is not None:
            status = "published"
        elif special == 3:
            status, suspended_until = "suspended", today - timedelta(days=10)
        elif special == 7:
            status, suspended_until = "suspended", today + timedelta(days=20)
        elif special == 11:
            status = "draft"
        elif special == 13:
            status = "archived"
        else:
            status = _chooser(rng, [("published", 84), ("draft", 6), ("suspended", 3), ("archived", 7)])
            if status == "suspended":
                suspended_until = today + timedelta(days=rng.randint(5, 60))
        if status in ("published", "suspended") and not is_model and (special == 5 or rng.random() < 0.12):
            stale = True
        updated = today - timedelta(days=rng.randint(181, 520) if stale else rng.randint(0, 170))
        published_at = None
        if status != "draft":
            day = updated - timedelta(days=rng.randint(0, 60))
            published_at = datetime(day.year, day.month, day.day, 9, rng.randint(0, 59), tzinfo=UTC)

        # Sessions (none for a model: each site has its own).
        pattern = "none" if is_model else template.sessions
        sessions = self.sessions(rng, template, pattern, status, modes, address, commune, weeks)
        capacity = None
        if pattern == "none" and template.capacity and not is_model:
            capacity = rng.randint(*template.capacity)
        registration_deadline = None
        if pattern == "none" and capacity and rng.random() < 0.15:
            registration_deadline = today + timedelta(days=rng.randint(10, 60))

        # Derived place fields (``places.refresh_action`` computes the same from the database).
        upcoming = [s for s in sessions if not s["is_cancelled"] and s["starts_on"] >= today]
        next_on = min((s["starts_on"] for s in upcoming), default=None)
        if upcoming:
            left = sum(s["capacity"] for s in upcoming)
        else:
            left = capacity

        if not is_model and model is None:
            name = self.unique_name(rng, template, values, name, structure, commune)
        self.names_used.add((name, structure.pk))

        fees = template.fees
        mobilisation_modes = list(template.mobilisation)
        link = ""
        if "utiliser-lien-mobilisation" in mobilisation_modes or rng.random() < 0.15:
            link = f"https://www.{domain}/inscription"
            if "utiliser-lien-mobilisation" not in mobilisation_modes:
                mobilisation_modes.append("utiliser-lien-mobilisation")
        action = self.Action(
            territory=ctx.territory,
            structure=structure,
            uid=_uid(ctx.territory, index),
            is_model=is_model,
            model_id=model.pk if model is not None else None,
            name=name,
            summary=summary,
            description=description,
            type=template.type,
            thematiques=thematiques,
            fees=fees,
            fees_details=template.fees_details,
            publics=publics,
            publics_details=template.publics_details,
            access_conditions=template.access,
            prerequisites=template.prerequisites,
            documents=template.documents,
            reception_modes=modes,
            address=address,
            postal_code=postal,
            commune=commune,
            lat=lat,
            lon=lon,
            eligibility_zone=zone,
            contact_name=f"{first} {last}",
            email=email,
            phone=phone,
            mobilisation_modes=mobilisation_modes,
            mobilisable_by=list(template.mobilisable_by),
            mobilisation_details=rng.choice(MOBILISATION_DETAILS),
            mobilisation_link=link,
            opening_hours="" if remote_only else rng.choice(OPENING_HOURS),
            weekly_hours=Decimal(str(weekly)) if weekly else None,
            weeks=weeks or None,
            spie_kind=template.kind,
            spie_axis=template.axis,
            plan_item_id=plan_item,
            capacity=capacity,
            registration_deadline=registration_deadline,
            languages=languages,
            accessibility=accessibility,
            status=status,
            suspended_until=suspended_until,
            published_at=published_at,
            content_updated_on=updated,
            created_by_id=ctx.admins.get(structure.pk),
            next_session_on=next_on,
            places_left_total=left,
        )
        return action, sessions

    def unique_name(self, rng, template, values, name, structure, commune):
        """One structure does not offer two actions of the same name: another wording of the template,
        then the place, then a number."""
        used = self.names_used
        if (name, structure.pk) not in used:
            return name[:150]
        variants = [_fill(variant, values) for variant in template.names]
        rng.shuffle(variants)
        where = commune.name if commune is not None else "à distance"
        for candidate in [*variants, *(f"{variant} – {where}" for variant in variants)]:
            if (candidate[:150], structure.pk) not in used:
                return candidate[:150]
        number = 2
        while (f"{name} – n° {number}"[:150], structure.pk) in used:
            number += 1
        return f"{name} – n° {number}"[:150]

    def sessions(self, rng, template, pattern, status, modes, address, commune, weeks):
        """Dated sessions: some in the last six months, some in the next three (none ahead when archived)."""
        if pattern == "none":
            return []
        today = self.ctx.today
        remote_only = modes == ["a-distance"]
        place = "En ligne : lien de connexion envoyé la veille" if remote_only else (
            f"{address}, {commune.name}" if commune is not None else "")
        low, high = template.capacity or (8, 15)
        times = SESSION_TIMES["webinar" if template.kind == "webinar" else pattern]
        starts = []
        if pattern == "event":
            past = rng.randint(1, 4)
            ahead = 0 if status == "archived" else rng.randint(1, 4)
            starts += [today - timedelta(days=rng.randint(3, 180)) for _ in range(past)]
            starts += [today + timedelta(days=rng.randint(2, 90)) for _ in range(ahead)]
        elif pattern == "weekly":
            step = rng.choice((7, 14))
            first = today - timedelta(days=step * rng.randint(2, 5) + rng.randint(0, 6))
            count = rng.randint(3, 5) + (0 if status == "archived" else rng.randint(3, 6))
            starts = [first + timedelta(days=step * k) for k in range(count)]
            starts = [d for d in starts if d <= today + timedelta(days=90)]
            if status == "archived":
                starts = [d for d in starts if d < today]
        else:  # cohort
            span = max(1, weeks or 1) * 7
            first = today - timedelta(days=span + rng.randint(20, 120))
            starts = [first]
            if rng.random() < 0.5:
                starts.append(first + timedelta(days=span + rng.randint(14, 40)))
            if status != "archived":
                starts.append(today + timedelta(days=rng.randint(7, 45)))
                if rng.random() < 0.4:
                    starts.append(today + timedelta(days=rng.randint(50, 90)))
        sessions = []
        for number, day in enumerate(sorted(set(starts)), start=1):
            hour, minute = rng.choice(times)
            if pattern == "cohort":
                ends = day + timedelta(days=max(1, weeks or 1) * 7 - 3)
                deadline = day - timedelta(days=7)
                label = f"Groupe {number}"
            else:
                ends = None
                deadline = day - timedelta(days=3) if template.kind == "company_visit" else None
                label = ""
            sessions.append({
                "label": label, "starts_on": day, "ends_on": ends,
                "start_time": datetime(2000, 1, 1, hour, minute).time(), "place": place,
                "capacity": rng.randint(low, high), "registration_deadline": deadline,
                "is_cancelled": day > today and rng.random() < 0.03,
            })
        return sessions


def seed_catalogue(territory, *, count=DEFAULT_ACTIONS, seed=DEFAULT_SEED, today=None, log=print, progress_file=None):
    """Make sure the first ``count`` demo actions of ``territory`` exist, with their sessions.

    Returns counts: ``catalogue_actions`` and ``catalogue_sessions`` written by this run,
    ``catalogue_models`` among them, ``catalogue_kept`` already there (kept as they are).
    """
    from tqdm import tqdm

    from spie.catalogue.models import Action, ActionSession
    from spie.catalogue.search import derive_keys
    from spie.core.bulk import fast_insert

    started = time.monotonic()
    today = today or timezone.localdate()
    counts = {"catalogue_actions": 0, "catalogue_sessions": 0, "catalogue_models": 0, "catalogue_kept": 0}
    if count <= 0:
        return counts
    ctx = _context(territory, today, seed)
    if not ctx.structures:
        log("Banque d'actions : aucune structure sur le territoire, rien à créer.")
        return counts
    uids = [_uid(territory, i) for i in range(count)]
    existing = {}
    for start in range(0, count, 2000):
        existing.update(Action.objects.filter(uid__in=uids[start:start + 2000]).values_list("uid", "pk"))
    counts["catalogue_kept"] = len(existing)
    plan = _plan(count)
    builder = _ActionBuilder(ctx, seed)
    for action in Action.objects.filter(uid__in=list(existing)).values_list("name", "structure_id"):
        builder.names_used.add(action)
    models_by_index = {}
    model_indexes = [i for i, entry in enumerate(plan) if entry[2] == "model"]
    progress = tqdm(
        total=count - len(existing), desc="Banque d'actions", unit=" actions", file=progress_file,
        disable=True if progress_file is None else None, mininterval=0.5, dynamic_ncols=True,
    )
    with transaction.atomic():
        # Models first: their sites point to them.
        kept_models = Action.objects.in_bulk([existing[uids[i]] for i in model_indexes if uids[i] in existing])
        for i in model_indexes:
            if uids[i] in existing:
                models_by_index[model_indexes.index(i)] = kept_models[existing[uids[i]]]
        batch, session_rows = [], []

        def flush():
            if not batch:
                return
            for action in batch:
                derive_keys(action)
            fast_insert(Action, batch, assign_pk=True)
            rows = [ActionSession(action_id=action.pk, **kwargs) for action, sessions in zip(
                batch, session_rows, strict=True) for kwargs in sessions]
            fast_insert(ActionSession, rows)
            counts["catalogue_actions"] += len(batch)
            counts["catalogue_sessions"] += len(rows)
            progress.update(len(batch))
            batch.clear()
            session_rows.clear()

        for position, i in enumerate(model_indexes):
            if uids[i] in existing:
                continue
            action, sessions = builder.build(i, plan[i], models_by_index)
            models_by_index[position] = action
            batch.append(action)
            session_rows.append(sessions)
            counts["catalogue_models"] += 1
        flush()
        for i in range(count):
            if uids[i] in existing or (i < len(plan) and plan[i][2] == "model"):
                continue
            action, sessions = builder.build(i, plan[i] if i < len(plan) else None, models_by_index)
            batch.append(action)
            session_rows.append(sessions)
            if len(batch) >= BATCH:
                flush()
        flush()
    progress.close()
    _analyze(Action, ActionSession)
    elapsed = time.monotonic() - started
    kept = f" ({counts['catalogue_kept']} déjà présentes, conservées)" if counts["catalogue_kept"] else ""
    log(
        f"Banque d'actions : {_n(counts['catalogue_actions'])} actions dont {counts['catalogue_models']} modèles, "
        f"{_n(counts['catalogue_sessions'])} sessions{kept} en {elapsed:.1f} s."
    )
    return counts


def _n(value):
    """French thousands separator (narrow no-break space)."""
    return f"{value:,}".replace(",", "\u202f")


def _analyze(*models):
    """Planner statistics after a bulk load on PostgreSQL (see ``spie.core.demo._analyze``)."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


# --------------------------------------------------------------------------------------------
# Referrals
# --------------------------------------------------------------------------------------------

STATUS_ORDER = ("sent", "accepted", "refused", "started", "completed", "dropped", "expired", "cancelled")
STATUS_WEIGHTS = [("sent", 13), ("accepted", 13), ("refused", 11), ("started", 14), ("completed", 20),
                  ("dropped", 8), ("expired", 11), ("cancelled", 7)]
HOLDING = ("accepted", "started", "completed")
SENSITIVE_THEMES = ("sante--", "famille--surmonter-conflits-separation-violence")
SENSITIVE_PUBLICS = ("personnes-en-situation-de-handicap",)

MOTIVATIONS = {
    "choisir-un-metier": [
        "La personne souhaite découvrir un secteur qui recrute avant de s'engager dans une formation.",
        "Projet professionnel à confirmer : l'action permettra de rencontrer des professionnels du métier.",
    ],
    "creer-une-entreprise": ["Projet de micro-entreprise à structurer ; besoin d'appui sur les démarches et le "
                             "financement."],
    "difficultes-administratives-ou-juridiques": ["Plusieurs démarches administratives en attente ; besoin d'un "
                                                  "appui pour les mener à bien."],
    "difficultes-financieres": ["La personne souhaite stabiliser son budget et anticiper les échéances."],
    "equipement-et-alimentation": ["Besoin d'une aide matérielle ponctuelle pendant la reprise d'activité."],
    "famille": ["La garde des enfants est le principal frein à la reprise d'emploi : une solution est nécessaire "
                "pour suivre l'action prévue au contrat."],
    "lecture-ecriture-calcul": ["La personne souhaite progresser en français écrit pour accéder à une formation "
                                "qualifiante."],
    "logement-hebergement": ["Recherche d'un logement plus proche des bassins d'emploi ; besoin d'appui pour le "
                             "dossier."],
    "mobilite": ["Pas de moyen de transport compatible avec les horaires décalés du poste visé.",
                 "Le projet d'emploi nécessite le permis B."],
    "numerique": ["La personne souhaite gagner en autonomie pour ses démarches en ligne et sa recherche d'emploi."],
    "preparer-sa-candidature": ["CV à reprendre pour cibler les métiers visés ; la personne souhaite un appui en "
                                "groupe."],
    "remobilisation": ["Après une longue période sans activité, la personne souhaite reprendre un rythme et "
                       "confiance en elle."],
    "se-former": ["Projet de formation identifié ; besoin d'aide pour le financement et l'inscription."],
    "souvrir-a-linternational": ["La personne est intéressée par une expérience professionnelle à l'étranger."],
    "trouver-un-emploi": ["Prête à reprendre un emploi rapidement ; souhaite être mise en relation avec des "
                          "employeurs.", "Objectif du contrat d'engagement : accéder à un emploi durable."],
}
GENERIC_MOTIVATION = (
    "La personne souhaite être accompagnée par votre structure ; elle est d'accord pour être contactée."
)
AVAILABILITIES = [
    "Disponible les matins", "Disponible du lundi au jeudi", "Disponible l'après-midi après 14 h",
    "Disponible tous les jours sauf le mercredi", "Disponible à partir de la semaine prochaine", "",
]
PROVIDER_INFOS = [
    "", "", "Pas de permis de conduire : prévoir un accès en transports en commun.", "A déjà un CV à jour.",
    "Préfère être contactée par SMS en journée.", "Parle couramment anglais et espagnol.",
    "Garde d'enfants organisée les matins uniquement.",
]
REFUSAL_TEXTS = {
    "full": "La session est complète ; nous proposerons la suivante.",
    "not_eligible": "L'action est réservée à un autre public.",
    "out_of_zone": "La personne réside hors de notre zone d'intervention.",
    "unreachable": "Trois appels et un SMS sans réponse.",
    "declined": "La personne préfère attendre la rentrée.",
    "better_elsewhere": "Une action plus adaptée existe près de chez elle.",
    "duplicate": "Demande déjà reçue la semaine dernière.",
    "other": "Action interrompue temporairement.",
}
DROP_TEXTS = {  # no health detail: the "health" reason is never drawn by the demo
    "job": "Reprise d'un emploi en CDD.",
    "family": "Contrainte de garde d'enfants.",
    "mobility": "Trajet trop long sans véhicule.",
    "not_suited": "Le contenu ne correspondait pas aux attentes.",
    "no_show": "Trois absences non excusées.",
    "other": "Déménagement hors du département.",
}
CANCEL_TEXTS = [
    "La personne a trouvé un emploi entre-temps.",
    "Orientation envoyée par erreur vers la mauvaise session.",
    "La personne a préféré une autre action plus proche de chez elle.",
    "Situation de la personne modifiée : orientation à revoir.",
]
EVENT_TITLES = {
    "sent": "Orientation vers {label}",
    "accepted": "Orientation acceptée : {label}",
    "refused": "Orientation refusée : {label}",
    "started": "Entrée dans l'action : {label}",
    "completed": "Action terminée : {label}",
    "dropped": "Action abandonnée : {label}",
    "expired": "Orientation expirée sans réponse : {label}",
    "cancelled": "Orientation annulée : {label}",
}
SENSITIVE_LABEL = "une action d'un partenaire"
PLAN_CLOSING_REASONS = {
    "refused": "Orientation refusée par la structure",
    "expired": "Orientation expirée sans réponse",
    "cancelled": "Orientation annulée",
    "dropped": "Action abandonnée",
}


@dataclass
class _A:
    """A published action, as the referral generator needs it."""

    pk: int
    structure_id: int
    name: str
    thematiques: list
    publics: list
    lat: float | None
    lon: float | None
    is_remote: bool
    zone_key: str
    capacity: int | None
    weeks: int | None
    plan_item_id: int | None
    sessions: list = field(default_factory=list)

    @property
    def sensitive(self):
        return any(t.startswith(SENSITIVE_THEMES) for t in self.thematiques) or any(
            p in SENSITIVE_PUBLICS for p in self.publics)


@dataclass
class _S:
    pk: int
    starts_on: date
    ends_on: date | None
    capacity: int
    deadline: date | None
    cancelled: bool

    @property
    def last_day(self):
        return self.ends_on or self.starts_on


@dataclass
class _P:
    pk: int
    age: int
    sex: str
    commune: object
    entered_on: date
    referent: tuple | None = None  # (user id, structure id)
    members: list = field(default_factory=list)
    rqth: bool = False
    objectives: list = field(default_factory=list)  # [[objective id, theme code, number of actions]]


@dataclass
class _Spec:
    status: str
    person: _P | None = None
    sender: tuple | None = None
    structure_id: int | None = None  # the provider structure, when forced
    fresh: bool = False  # sent yesterday: the provider's link is still valid
    relax: bool = False
    plan: bool = False
    action: _A | None = None  # forced action and session (to fill a session up)
    session: _S | None = None


class _ReferralGenerator:
    def __init__(self, territory, seed, today):
        self.territory = territory
        self.rng = random.Random(f"{seed}-referrals")
        self.today = today
        self.yesterday = today - timedelta(days=1)
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.link_days = territory.setting("referral_link_days")
        self.reminder_days = territory.setting("referral_reminder_days")
        self.expiry_days = territory.setting("referral_expiry_days")
        self.radius = territory.setting("catalogue_radius_km")
        self.used = {}  # ("s", session pk) or ("a", action pk) -> places held

    # ---- loading --------------------------------------------------------------------------
    def load(self, count):
        from spie.catalogue.models import Action, ActionSession, ActionStatus, Referral
        from spie.followup.models import OPEN_PLAN_STATUSES, PlanObjective
        from spie.network.models import Membership, Structure, User
        from spie.people.models import FollowUpMembership, HealthInfo, Person
        from spie.referentials.models import Commune, PathwayItem

        today = self.today
        visible = Q(status=ActionStatus.PUBLISHED) | Q(status=ActionStatus.SUSPENDED, suspended_until__lt=today)
        self.actions = {
            row[0]: _A(*row) for row in Action.objects.filter(visible, territory=self.territory, is_model=False)
            .order_by("pk").values_list("pk", "structure_id", "name", "thematiques", "publics", "lat", "lon",
                                        "is_remote", "zone_key", "capacity", "weeks", "plan_item_id")
        }
        for pk, action_id, starts, ends, capacity, deadline, cancelled in ActionSession.objects.filter(
            action__in=list(self.actions)
        ).order_by("starts_on", "pk").values_list("pk", "action_id", "starts_on", "ends_on", "capacity",
                                                  "registration_deadline", "is_cancelled"):
            self.actions[action_id].sessions.append(_S(pk, starts, ends, capacity, deadline, cancelled))
        # Places already held (by referrals of earlier runs or real use).
        for action_id, session_id, n in Referral.objects.filter(
            action__territory=self.territory, status__in=HOLDING
        ).values_list("action_id", "session_id").annotate(n=Count("id")).order_by():
            key = ("s", session_id) if session_id else ("a", action_id)
            self.used[key] = self.used.get(key, 0) + n
        self.action_list = list(self.actions.values())
        self.by_structure = {}
        for action in self.action_list:
            self.by_structure.setdefault(action.structure_id, []).append(action)
        self.structure_names = dict(Structure.objects.filter(territory=self.territory).values_list("pk", "name"))
        self.providers = {}
        for structure_id, user_id in Membership.objects.filter(
            structure__territory=self.territory, is_active=True,
            role__in=[Membership.Role.ADMIN, Membership.Role.REFERENT],
        ).order_by("structure_id", "role", "pk").values_list("structure_id", "user_id"):
            self.providers.setdefault(structure_id, []).append(user_id)
        self.item_themes = dict(PathwayItem.objects.values_list("pk", "theme_id"))

        # Persons seeded since the last run (keys above the last one having referrals), not exited: a
        # sample of them (three for each referral to make) and the demo référente's, read in chunks so
        # that 100,000 persons cost no more than a few thousand.
        top = Referral.objects.filter(person__territory=self.territory).aggregate(top=Max("person_id"))["top"] or 0
        eligible = Person.objects.filter(territory=self.territory, pk__gt=top).exclude(status=Person.Status.EXITED)
        ids = list(eligible.order_by("pk").values_list("pk", flat=True))
        self.eligible = len(ids)
        self.target = min(count, self.eligible // 3 + 2 * len(STATUS_ORDER))
        referente = User.objects.filter(email=REFERENTE_EMAIL).values_list("pk", flat=True).first()
        self.referente = referente
        hers = sorted(set(FollowUpMembership.objects.filter(
            user_id=referente, kind=FollowUpMembership.Kind.REFERENT, end_date__isnull=True,
            person__territory=self.territory, person_id__gt=top,
        ).exclude(person__status=Person.Status.EXITED).values_list("person_id", flat=True))) if referente else []
        mine = set(hers)
        others = [pk for pk in ids if pk not in mine]
        pool = self.rng.sample(others, min(len(others), 3 * self.target))
        pool += self.rng.sample(hers, min(len(hers), 80))
        pool.sort()
        communes = {c.code_insee: c for c in Commune.objects.filter(departement=self.territory.code)}
        persons = {}
        for start in range(0, len(pool), 2000):
            chunk = pool[start:start + 2000]
            for pk, birth, sex, commune_id, entered in Person.objects.filter(pk__in=chunk).order_by("pk").values_list(
                "pk", "birth_date", "sex", "commune_id", "entered_on"
            ):
                age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day)) if birth else 40
                persons[pk] = _P(pk, age, sex, communes.get(commune_id), entered or today - timedelta(days=365))
            for person_id, user_id, structure_id, kind in FollowUpMembership.objects.filter(
                person_id__in=chunk, end_date__isnull=True
            ).order_by("person_id", "pk").values_list("person_id", "user_id", "structure_id", "kind"):
                if kind == FollowUpMembership.Kind.REFERENT:
                    persons[person_id].referent = (user_id, structure_id)
                else:
                    persons[person_id].members.append((user_id, structure_id))
            for person_id in HealthInfo.objects.filter(person_id__in=chunk, rqth=True).values_list(
                "person_id", flat=True
            ):
                persons[person_id].rqth = True
            for pk, person_id, theme_id, n in PlanObjective.objects.filter(
                person_id__in=chunk, status__in=OPEN_PLAN_STATUSES
            ).annotate(n=Count("actions")).order_by("person_id", "position", "pk").values_list(
                "pk", "person_id", "theme_id", "n"
            ):
                persons[person_id].objectives.append([pk, theme_id, n])
        self.persons = [p for p in persons.values() if p.referent is not None]
        ids = {user for users in self.providers.values() for user in users}
        for person in self.persons:
            ids.add(person.referent[0])
            ids.update(user for user, _ in person.members)
        self.users = User.objects.in_bulk(sorted(ids))

    # ---- choices --------------------------------------------------------------------------
    def compatible(self, person, action):
        publics = set(action.publics)
        if publics and "tous-publics" not in publics:
            if publics == {"jeunes"} and person.age > 25:
                return False
            if publics == {"seniors"} and person.age < 50:
                return False
            if publics == {"personnes-en-situation-de-handicap"} and not person.rqth:
                return False
            if publics <= {"femmes", "familles"} and person.sex == "M":
                return False
        commune = person.commune
        if action.zone_key and commune is not None:
            codes = (self.territory.code, commune.code_insee, commune.epci_siren)
            if not any(code and f"|{code}|" in action.zone_key for code in codes):
                return False
        if action.lat is not None and commune is not None and commune.lat is not None and not action.is_remote:
            if _km(commune.lat, commune.lon, action.lat, action.lon) > self.radius:
                return False
        return True

    def has_place(self, action, session):
        if session is not None:
            return self.used.get(("s", session.pk), 0) < session.capacity
        if action.capacity is None:
            return True
        return self.used.get(("a", action.pk), 0) < action.capacity

    def days(self, low, high):
        return self.rng.randint(low, max(low, high))

    def timeline(self, status, action, spec):
        """Days and steps of a referral ending in ``status`` with ``action``; None if it cannot fit."""
        rng, today, y = self.rng, self.today, self.yesterday
        sessions = [s for s in action.sessions if not s.cancelled]
        with_sessions = bool(action.sessions)
        plan = {"session": None, "start_date": None, "steps": [], "from": None}
        duration = max(0, (action.weeks or 0) * 7 - 3) if action.weeks else rng.randint(0, 30)

        def upcoming(answer_by=None):
            if spec.session is not None:
                return [spec.session] if self.has_place(action, spec.session) else []
            return [s for s in sessions if s.starts_on > today and self.has_place(action, s)
                    and (s.deadline is None or s.deadline >= (answer_by or today))]

        def accepted_base():
            if with_sessions:
                options = upcoming()
                if not options:
                    return None
                session = rng.choice(options)
                sent = min(y - timedelta(days=1), max(y - timedelta(days=35),
                                                      session.starts_on - timedelta(days=rng.randint(10, 40))))
                limit = min(y, session.deadline or y)
                if limit <= sent:
                    return None
                answer = sent + timedelta(days=self.days(1, min(8, (limit - sent).days)))
                return sent, answer, session, session.starts_on
            if not self.has_place(action, None):
                return None
            sent = y - timedelta(days=rng.randint(1, 35))
            answer = sent + timedelta(days=self.days(1, min(8, (y - sent).days)))
            return sent, answer, None, today + timedelta(days=rng.randint(2, 45))

        def started_base(done):
            if with_sessions:
                if done:
                    options = [s for s in sessions if s.last_day <= y and s.starts_on >= today - timedelta(days=300)]
                else:
                    options = [s for s in sessions if s.starts_on <= y <= s.last_day and s.ends_on] or [
                        s for s in sessions if y - timedelta(days=20) <= s.starts_on <= y]
                options = [s for s in options if self.has_place(action, s)]
                if not options:
                    return None
                session = rng.choice(options)
                start, end = session.starts_on, session.last_day
            else:
                if not self.has_place(action, None):
                    return None
                session = None
                if done:
                    end = y - timedelta(days=rng.randint(0, 200))
                    start = end - timedelta(days=duration)
                else:
                    start = y - timedelta(days=rng.randint(0, 60))
                    end = start + timedelta(days=duration)
            answer = start - timedelta(days=rng.randint(2, 20))
            sent = answer - timedelta(days=rng.randint(1, 8))
            return sent, answer, session, start, end

        steps = plan["steps"]
        if status == "sent":
            sent = y if spec.fresh else y - timedelta(days=rng.randint(0, 24))
            options = upcoming(sent) if with_sessions else []
            if options and rng.random() < 0.7:
                plan["session"] = rng.choice(options)
        elif status == "accepted":
            base = accepted_base()
            if base is None:
                return None
            sent, answer, plan["session"], plan["start_date"] = base
            steps.append(("accepted", answer))
        elif status in ("started", "completed"):
            base = started_base(status == "completed")
            if base is None:
                return None
            sent, answer, plan["session"], start, end = base
            plan["start_date"] = start
            steps += [("accepted", answer), ("started", start)]
            if status == "completed":
                steps.append(("completed", end))
        elif status == "dropped":
            if rng.random() < 0.65:
                base = started_base(False) or started_base(True)
                if base is None:
                    return None
                sent, answer, plan["session"], start, end = base
                plan["start_date"] = start
                stop = start + timedelta(days=self.days(0, (min(end, y) - start).days))
                steps += [("accepted", answer), ("started", start), ("dropped", stop)]
                plan["from"] = "started"
            else:
                base = accepted_base()
                if base is None:
                    return None
                sent, answer, plan["session"], plan["start_date"] = base
                if answer >= y:
                    return None
                steps += [("accepted", answer), ("dropped", answer + timedelta(days=self.days(1, (y - answer).days)))]
                plan["from"] = "accepted"
        elif status == "refused":
            sent = y - timedelta(days=rng.randint(2, 240))
            steps.append(("refused", sent + timedelta(days=self.days(1, min(12, (y - sent).days)))))
        elif status == "expired":
            sent = y - timedelta(days=rng.randint(self.expiry_days + 1, 220))
            steps.append(("expired", sent + timedelta(days=self.expiry_days)))
        elif status == "cancelled":
            base = accepted_base() if rng.random() < 0.35 else None
            if base is not None and base[1] < y:
                sent, answer, plan["session"], plan["start_date"] = base
                steps += [("accepted", answer), ("cancelled", answer + timedelta(days=self.days(1, (y - answer).days)))]
            else:
                sent = y - timedelta(days=rng.randint(2, 200))
                steps.append(("cancelled", sent + timedelta(days=self.days(1, min(20, (y - sent).days)))))
        else:
            return None
        if sent < spec.person.entered_on or sent < today - timedelta(days=400):
            return None
        plan["sent"] = sent
        return plan

    def choose_action(self, spec, sender_structure):
        rng = self.rng
        if spec.action is not None:
            return spec.action
        if spec.structure_id is not None:
            pool = self.by_structure.get(spec.structure_id, [])
        else:
            pool = self.action_list
        if not pool:
            return None
        for _ in range(40):
            action = rng.choice(pool)
            if action.structure_id == sender_structure and spec.structure_id is None and rng.random() < 0.8:
                continue
            if spec.relax or self.compatible(spec.person, action):
                return action
        return None

    def realise(self, spec):
        """Person, sender, action and dates for ``spec`` (None when nothing fits)."""
        rng = self.rng
        for _ in range(30):
            person = spec.person or rng.choice(self.persons)
            if spec.sender is not None:
                sender = spec.sender
            elif person.members and rng.random() < 0.2:
                sender = rng.choice(person.members)
            else:
                sender = person.referent
            if spec.structure_id is not None and sender[1] == spec.structure_id:
                if spec.person is not None:
                    return None
                continue
            trial = _Spec(spec.status, person, sender, spec.structure_id, spec.fresh, spec.relax, spec.plan,
                          spec.action, spec.session)
            action = self.choose_action(trial, sender[1])
            if action is None:
                if spec.person is not None and not spec.relax:
                    spec = _Spec(spec.status, spec.person, spec.sender, spec.structure_id, spec.fresh, True, spec.plan,
                                 spec.action, spec.session)
                continue
            timeline = self.timeline(spec.status, action, trial)
            if timeline is None:
                continue
            if spec.status in HOLDING:
                session = timeline["session"]
                key = ("s", session.pk) if session is not None else ("a", action.pk)
                self.used[key] = self.used.get(key, 0) + 1
            return trial, action, timeline
        return None

    # ---- time ---------------------------------------------------------------------------
    def at(self, day, after=None):
        """An aware UTC moment during office hours of ``day`` (local), strictly after ``after``."""
        hour, minute = self.rng.choice((8, 9, 9, 10, 11, 13, 14, 15, 16)), self.rng.choice((0, 10, 20, 30, 40, 50))
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)
        moment = local.astimezone(UTC)
        if after is not None and moment <= after:
            moment = after + timedelta(minutes=self.rng.randint(15, 90))
        return moment


def _specs(gen, count):
    """The referrals to make: the demo accounts' first (every status for the référente, some to the demo
    admin's structure), then every status once, then statuses drawn with their weights."""
    from spie.network.models import Structure

    rng = gen.rng
    specs = []
    referente = gen.referente
    hers = [p for p in gen.persons if referente and p.referent and p.referent[0] == referente]
    if hers:
        for k, status in enumerate(STATUS_ORDER):
            person = hers[k % len(hers)]
            specs.append(_Spec(status, person, person.referent, fresh=status == "sent", plan=k in (1, 3)))
        specs.append(_Spec("sent", hers[-1], hers[-1].referent, fresh=True))
    admin_structures = list(Structure.objects.filter(
        memberships__user__email=ADMIN_EMAIL, memberships__is_active=True, territory=gen.territory
    ).values_list("pk", flat=True))
    for structure_id in admin_structures[:1]:
        if gen.by_structure.get(structure_id):
            specs += [_Spec("sent", structure_id=structure_id, fresh=True), _Spec("sent", structure_id=structure_id),
                      _Spec("accepted", structure_id=structure_id)]
    specs += [_Spec(status) for status in STATUS_ORDER]
    # Two small upcoming sessions filled up: "no place left" shows in the search and on the sheet.
    small = [(action, session) for action in gen.action_list for session in action.sessions
             if not session.cancelled and session.starts_on > gen.today + timedelta(days=7) and session.capacity <= 12
             and (session.deadline is None or session.deadline > gen.today)]
    for action, session in rng.sample(small, min(2, len(small))):
        free = session.capacity - gen.used.get(("s", session.pk), 0)
        specs += [_Spec("accepted", relax=True, action=action, session=session) for _ in range(free)]
    while len(specs) < count:  # the forced ones above are always kept
        status = _chooser(rng, STATUS_WEIGHTS)
        if hers and rng.random() < 0.1:
            person = rng.choice(hers)
            specs.append(_Spec(status, person, person.referent))
        else:
            specs.append(_Spec(status))
    return specs


def seed_referrals(territory, *, seed=DEFAULT_SEED, today=None, log=print, count=DEFAULT_REFERRALS):
    """Referrals of persons seeded since the last run to published actions, in every status.

    About ``count`` referrals (fewer when there are few persons: about one for three persons).
    Returns counts by kind of row.
    """
    from spie.catalogue import workflows
    from spie.catalogue.models import Action, ActionSession, DropReason, Referral, ReferralTransition, RefusalReason
    from spie.catalogue.places import refresh_action
    from spie.followup.models import PlanAction, PlanTransition
    from spie.people.models import TimelineEvent

    started = time.monotonic()
    today = today or timezone.localdate()
    counts = {"referrals": 0, "referral_transitions": 0, "referral_timeline_events": 0, "referral_plan_actions": 0}
    gen = _ReferralGenerator(territory, seed, today)
    gen.load(count)
    if not gen.persons or not gen.action_list:
        log("Orientations vers des actions : aucune personne ou aucune action publiée, rien à créer.")
        return counts
    target = gen.target
    rng = gen.rng
    statuses = dict.fromkeys(STATUS_ORDER, 0)
    events, fixes, plan_transitions = [], [], []
    touched = set()
    with transaction.atomic():
        for spec in _specs(gen, target):
            realised = gen.realise(spec)
            if realised is None:
                continue
            spec, action, plan = realised
            person, (sender_id, sender_structure) = spec.person, spec.sender
            providers = gen.providers.get(action.structure_id) or [None]
            sensitive = action.sensitive
            label = SENSITIVE_LABEL if sensitive else (
                f"« {action.name} » ({gen.structure_names.get(action.structure_id, '')})")
            category = (action.thematiques[0].split("--")[0] if action.thematiques else "")
            motivations = MOTIVATIONS.get(category, [GENERIC_MOTIVATION])
            motivation = GENERIC_MOTIVATION if sensitive else rng.choice(motivations)
            sent_at = gen.at(plan["sent"])
            link_expires = sent_at + timedelta(days=gen.link_days)
            reminder = None
            if spec.status == "expired" or (
                spec.status == "sent" and (gen.yesterday - plan["sent"]).days >= gen.reminder_days
            ):
                reminder = gen.at(plan["sent"] + timedelta(days=gen.reminder_days), sent_at)
                link_expires = reminder + timedelta(days=gen.link_days)
            session = plan["session"]

            plan_action = None
            # An objective of the plan with room for one more action (the plan keeps 1 to 3 per objective).
            objective = next((o for o in person.objectives if o[2] < 3), None)
            if objective is not None and not sensitive and (spec.plan or rng.random() < 0.25):
                objective_id, theme = objective[0], objective[1]
                objective[2] += 1
                item = action.plan_item_id if gen.item_themes.get(action.plan_item_id) == theme else None
                plan_action = PlanAction.objects.create(
                    objective_id=objective_id, person_id=person.pk, item_id=item, label=action.name[:300],
                    planned_on=plan["sent"], due_on=plan["start_date"], responsible_structure_id=action.structure_id,
                    created_by_id=sender_id,
                )
                plan_transitions.append(PlanTransition(action=plan_action, from_status="", to_status="planned",
                                                       by_id=sender_id, at=sent_at))
                events.append(TimelineEvent(
                    person_id=person.pk, at=sent_at, kind="plan_action_added",
                    title=f"Action ajoutée au plan : {SENSITIVE_LABEL if sensitive else action.name}"[:250],
                    actor_id=sender_id, structure_id=sender_structure,
                ))
                counts["referral_plan_actions"] += 1

            referral = Referral.objects.create(
                uid=uuid.UUID(int=rng.getrandbits(128), version=4),
                person_id=person.pk, action_id=action.pk, session_id=session.pk if session else None,
                from_structure_id=sender_structure, to_structure_id=action.structure_id, sent_by_id=sender_id,
                plan_action=plan_action, consent=True, consent_on=plan["sent"], motivation=motivation,
                availability=rng.choice(AVAILABILITIES),
                preferred_contact=_chooser(rng, [("phone", 50), ("sms", 20), ("email", 15), ("referent", 15)]),
                provider_info="" if sensitive else rng.choice(PROVIDER_INFOS),
                sent_at=sent_at, reminder_sent_at=reminder, link_expires_at=link_expires,
                link_version=2 if reminder else 1,
            )
            workflows.record_creation(referral, gen.users[sender_id])
            events.append(TimelineEvent(
                person_id=person.pk, at=sent_at, kind="referral_sent",
                title=EVENT_TITLES["sent"].format(label=label)[:250],
                actor_id=sender_id, structure_id=sender_structure,
            ))
            moment = sent_at
            plan_status = "planned"
            for to_status, day in plan["steps"]:
                moment = gen.at(day, moment)
                via_link = False
                fields, reason = {}, ""
                if to_status in ("accepted", "refused"):
                    actor = workflows.PROVIDER
                    via_link = providers[0] is None or rng.random() < 0.35
                    by = None if via_link else rng.choice(providers)
                    fields.update(answered_at=moment, answered_by_id=by, answered_via_link=via_link,
                                  link_version=referral.link_version + 1)
                    if to_status == "accepted":
                        fields["start_date"] = plan["start_date"]
                    else:
                        refusal = _chooser(rng, [("full", 20), ("not_eligible", 15), ("out_of_zone", 8),
                                                 ("unreachable", 20), ("declined", 15), ("better_elsewhere", 10),
                                                 ("duplicate", 4), ("other", 8)])
                        text = REFUSAL_TEXTS[refusal]
                        fields.update(refusal_reason=refusal, status_text=text)
                        reason = f"{RefusalReason(refusal).label} : {text}"
                elif to_status == "expired":
                    actor, by = workflows.SYSTEM, None
                elif to_status == "cancelled":
                    actor, by = workflows.SENDER, sender_id
                    reason = rng.choice(CANCEL_TEXTS)
                    fields["status_text"] = reason
                else:  # started, completed, dropped: the provider or the sender
                    if rng.random() < 0.7 and providers[0] is not None:
                        actor, by = workflows.PROVIDER, rng.choice(providers)
                    else:
                        actor, by = workflows.SENDER, sender_id
                    if to_status == "started":
                        fields["started_on"] = day
                    else:
                        fields["ended_on"] = day
                    if to_status == "dropped":
                        drop = _chooser(rng, [("job", 25), ("family", 15), ("mobility", 15), ("not_suited", 20),
                                              ("no_show", 15), ("other", 10)])
                        fields.update(drop_reason=drop, status_text=DROP_TEXTS[drop])
                        reason = f"{DropReason(drop).label} : {DROP_TEXTS[drop]}"
                row = workflows.transition(referral, to_status, actor=actor, by=gen.users[by] if by else None,
                                           via_link=via_link, reason=reason, **fields)
                row.at = moment
                fixes.append(row)
                actor_structure = (action.structure_id if actor == workflows.PROVIDER else
                                   sender_structure if actor == workflows.SENDER else None)
                events.append(TimelineEvent(
                    person_id=person.pk, at=moment, kind=f"referral_{to_status}",
                    title=EVENT_TITLES[to_status].format(label=label)[:250],
                    detail=(fields.get("status_text", "") if to_status in ("refused", "dropped") else ""),
                    actor_id=by, structure_id=actor_structure,
                ))
                if plan_action is not None:
                    plan_status = _plan_step(plan_action, plan_status, to_status, plan.get("from"), day, moment,
                                             sender_id, plan_transitions)
            statuses[spec.status] += 1
            counts["referrals"] += 1
            touched.add(action.pk)
        ReferralTransition.objects.bulk_update(fixes, ["at"], batch_size=500)
        TimelineEvent.objects.bulk_create(events, batch_size=500)
        PlanTransition.objects.bulk_create(plan_transitions, batch_size=500)
        # Places: the actions touched now, and any whose counts no longer match (persons deleted).
        stale = set(Action.objects.filter(territory=territory, places_taken__gt=0).values_list("pk", flat=True))
        stale |= set(ActionSession.objects.filter(action__territory=territory, places_taken__gt=0)
                     .values_list("action_id", flat=True))
        for action in Action.objects.filter(pk__in=touched | stale).order_by("pk"):
            refresh_action(action)
    counts["referral_transitions"] = len(fixes) + counts["referrals"]
    counts["referral_timeline_events"] = len(events)
    _analyze(Referral, ReferralTransition)
    labels = {"sent": "envoyées", "accepted": "acceptées", "refused": "refusées", "started": "commencées",
              "completed": "terminées", "dropped": "abandonnées", "expired": "expirées", "cancelled": "annulées"}
    detail = ", ".join(f"{statuses[s]} {labels[s]}" for s in STATUS_ORDER)
    log(
        f"Orientations vers des actions : {counts['referrals']} orientations ({detail}), "
        f"{counts['referral_transitions']} changements de statut, {counts['referral_plan_actions']} liées au plan, "
        f"en {time.monotonic() - started:.1f} s."
    )
    return counts


def _plan_step(plan_action, current, to_status, dropped_from, day, moment, by, rows):
    """Move the linked plan action along ``PLAN_TRANSITIONS`` as the referral moves; return its status."""
    from spie.followup.models import PlanAction, PlanTransition

    target, reason = {
        "started": ("in_progress", ""),
        "completed": ("done", ""),
        "dropped": ("abandoned" if dropped_from == "started" else "cancelled", PLAN_CLOSING_REASONS["dropped"]),
        "refused": ("cancelled", PLAN_CLOSING_REASONS["refused"]),
        "expired": ("cancelled", PLAN_CLOSING_REASONS["expired"]),
        "cancelled": ("cancelled", PLAN_CLOSING_REASONS["cancelled"]),
    }.get(to_status, (current, ""))
    if target == current:
        return current
    updates = {"status": target}
    if target == "in_progress":
        updates["started_on"] = day
    if target in ("done", "abandoned", "cancelled"):
        updates["ended_on"] = day
    PlanAction.objects.filter(pk=plan_action.pk).update(**updates)
    rows.append(PlanTransition(action=plan_action, from_status=current, to_status=target, by_id=by,
                                              at=moment, reason=reason))
    return target
