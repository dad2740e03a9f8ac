"""Synthetic import files (Faker, French locale): for tests, demos and the benchmark.

Only made-up people: valid-looking NIRs (right key, fictitious), CAF numbers, addresses. And
catalogue actions of a partner, as a data·inclusion JSON list of services or as the CSV a
partner keeps in a spreadsheet (French headers).

    .venv/bin/python -m spie.imports.samples var/rsa.csv 50000
    .venv/bin/python -m spie.imports.samples var/actions.json 200
"""

import csv
import json
import random
import sys
from datetime import date, timedelta

PERSON_HEADER = [
    "Identifiant départemental", "Nom", "Prénom", "Date de naissance", "Sexe", "NIR", "N° allocataire",
    "Adresse", "Code postal", "Commune", "Téléphone", "Courriel", "Date d'ouverture des droits",
    "Droits et devoirs",
]
# A few communes of Haute-Garonne (INSEE code, name, postal code).
COMMUNES_31 = [
    ("31555", "Toulouse", "31000"), ("31149", "Colomiers", "31770"), ("31395", "Muret", "31600"),
    ("31069", "Blagnac", "31700"), ("31557", "Tournefeuille", "31170"), ("31483", "Saint-Gaudens", "31800"),
]


def fake_nir(rng, sex, birth):
    body = f"{1 if sex == 'M' else 2}{birth:%y%m}31{rng.randint(1, 599):03d}{rng.randint(1, 999):03d}"
    return f"{body}{97 - int(body) % 97:02d}"


def person_rows(rows, seed=31, *, communes=None, error_every=0, start_id=1):
    """Yield ``rows`` lists of cells under :data:`PERSON_HEADER`; every ``error_every``-th row
    has an impossible birth date (``31/02/…``) when ``error_every`` > 0."""
    from faker import Faker

    from spie.core.text import fold

    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    communes = communes or COMMUNES_31
    last_names = [fake.last_name() for _ in range(2000)]
    first_f = [fake.first_name_female() for _ in range(400)]
    first_m = [fake.first_name_male() for _ in range(400)]
    streets = [fake.street_name() for _ in range(500)]
    today = date.today()
    for n in range(rows):
        sex = rng.choice("FM")
        first = rng.choice(first_f if sex == "F" else first_m)
        last = rng.choice(last_names)
        birth = date(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 45))
        code, name, postal = rng.choice(communes)
        opened = today - timedelta(days=rng.randint(1, 60))
        birth_text = birth.strftime("%d/%m/%Y")
        if error_every and n % error_every == error_every - 1:
            birth_text = f"31/02/{birth.year}"
        yield [
            f"D31-{start_id + n:07d}", last.upper(), first, birth_text, sex, fake_nir(rng, sex, birth),
            f"{rng.randint(1000000, 9999999)}", f"{rng.randint(1, 120)} {rng.choice(streets)}", postal, name,
            f"06{rng.randint(0, 99999999):08d}", f"{fold(first)}.{fold(last)}{n}@example.org",
            opened.strftime("%d/%m/%Y"), rng.choice(["oui", "non", "oui"]),
        ]


def write_persons_csv(path, rows, seed=31, encoding="utf-8-sig", separator=";", *, communes=None, error_every=0):
    """Write a persons CSV as the CAF / Département monthly lists look; returns ``path``."""
    with open(path, "w", encoding=encoding, newline="", errors="replace") as handle:
        writer = csv.writer(handle, delimiter=separator)
        writer.writerow(PERSON_HEADER)
        for row in person_rows(rows, seed, communes=communes, error_every=error_every):
            writer.writerow(row)
    return path


# --- Catalogue actions --------------------------------------------------------------------------

ACTION_SAMPLES = [
    ("Atelier CV et lettre de motivation", "atelier", "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-"
     "motivation", "workshop"),
    ("Simulation d'entretien d'embauche", "atelier", "trouver-un-emploi--convaincre-un-recruteur-en-entretien",
     "workshop"),
    ("Découverte des métiers du bâtiment", "information", "choisir-un-metier--decouvrir-un-metier-ou-un-secteur-"
     "dactivite", "job_discovery"),
    ("Permis B accompagné", "accompagnement", "mobilite--preparer-un-permis", "mobility_help"),
    ("Premiers pas sur l'ordinateur", "formation", "numerique--maitriser-les-fondamentaux-du-numerique", "training"),
    ("Garde d'enfants pour la reprise d'emploi", "aide-materielle", "famille--garde-denfants", "childcare"),
    ("Reprendre confiance en soi", "accompagnement", "remobilisation--bien-etre-confiance-en-soi", "coaching"),
    ("Visite d'entreprise industrielle", "information", "choisir-un-metier--connaitre-les-opportunites-demploi",
     "company_visit"),
]
ACTION_HEADER = [
    "Identifiant", "Nom de l'action", "Description", "Type", "Thématiques", "Frais", "Publics", "Modes d'accueil",
    "Adresse", "Code postal", "Commune", "Courriel", "Téléphone", "Heures par semaine", "Nombre de semaines",
    "Type d'action SPIE", "Places",
]


def action_services(count, seed=31, *, source="partenaire-31", communes=None):
    """``count`` data·inclusion services (dicts) of a made-up partner, ids ``<source>--<n>``."""
    rng = random.Random(seed)
    communes = communes or COMMUNES_31
    for n in range(count):
        name, kind, theme, spie_kind = ACTION_SAMPLES[n % len(ACTION_SAMPLES)]
        code, commune, postal = rng.choice(communes)
        remote = n % 4 == 3
        yield {
            "id": f"{source}--{n + 1}", "source": source, "structure_id": f"{source}--structure",
            "nom": f"{name} n° {n + 1}",
            "description": f"{name} : une action collective du réseau, pour avancer vers l'emploi à son rythme.",
            "date_maj": date.today().isoformat(), "type": kind, "thematiques": [theme], "frais": "gratuit",
            "publics": ["tous-publics"], "modes_accueil": ["a-distance"] if remote else ["en-presentiel"],
            "adresse": None if remote else f"{rng.randint(1, 90)} rue de la République",
            "code_postal": None if remote else postal, "commune": None if remote else commune,
            "code_insee": None if remote else code, "courriel": f"contact{n + 1}@partenaire.example",
            "telephone": "05 61 00 00 00", "modes_mobilisation": ["envoyer-un-courriel"],
            "mobilisable_par": ["professionnels"], "volume_horaire_hebdomadaire": rng.choice([2, 3, 6, 12]),
            "nombre_semaines": rng.choice([1, 4, 8]), "spie_type_action": spie_kind, "spie_capacite": 12,
        }


def write_actions_json(path, count, seed=31, **kwargs):
    """A data·inclusion JSON file of ``count`` actions; returns ``path``."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(list(action_services(count, seed, **kwargs)), handle, ensure_ascii=False, indent=1)
    return path


def action_rows(count, seed=31, **kwargs):
    """The same actions as rows under :data:`ACTION_HEADER` (a partner's spreadsheet)."""
    for s in action_services(count, seed, **kwargs):
        yield [
            s["id"], s["nom"], s["description"], s["type"], "|".join(s["thematiques"]), s["frais"],
            "|".join(s["publics"]), "|".join(s["modes_accueil"]), s["adresse"] or "", s["code_postal"] or "",
            s["commune"] or "", s["courriel"], s["telephone"], s["volume_horaire_hebdomadaire"],
            s["nombre_semaines"], s["spie_type_action"], s["spie_capacite"],
        ]


def write_actions_csv(path, count, seed=31, encoding="utf-8-sig", separator=";", **kwargs):
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=separator)
        writer.writerow(ACTION_HEADER)
        writer.writerows(action_rows(count, seed, **kwargs))
    return path


if __name__ == "__main__":  # pragma: no cover
    target, size = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    if target.endswith(".json"):
        write_actions_json(target, size)
    else:
        write_persons_csv(target, size)
