"""``manage.py stats``: how many rows of each main entity the database holds."""

import json

from django.core.management.base import BaseCommand
from django.utils.formats import number_format

from spie.core import stats


class Command(BaseCommand):
    help = "Affiche le nombre d'enregistrements des principales entités (--json pour un objet JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="sortie JSON (clé : nombre)")

    def handle(self, *args, **options):
        counts = stats.collect()
        if options["json"]:
            self.stdout.write(json.dumps(counts, indent=2))
            return
        labels = stats.labels()
        formatted = {key: number_format(value, force_grouping=True) for key, value in counts.items()}
        label_width = max(len(label) for label in labels.values())
        value_width = max(len(value) for value in formatted.values())
        rule = "-" * (label_width + value_width + 3)
        self.stdout.write(f"{'Entité'.ljust(label_width)}   {'Nombre'.rjust(value_width)}")
        self.stdout.write(rule)
        for key, value in formatted.items():
            self.stdout.write(f"{labels[key].ljust(label_width)}   {value.rjust(value_width)}")
