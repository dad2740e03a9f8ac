"""Synthetic import files (Faker, French locale): for tests, demos and the benchmark.

Only made-up people: valid-looking NIRs (right key, fictitious), CAF numbers, addresses.

    .venv/bin/python -m spie.imports.samples var/rsa.csv 50000
"""

import csv
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


if __name__ == "__main__":  # pragma: no cover
    write_persons_csv(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
