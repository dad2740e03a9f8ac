"""``manage.py seed_demo``: the demonstration network and persons (synthetic data only)."""

import time

from django.core.management.base import BaseCommand

from spie.core import demo
from spie.core.demo_catalogue import DEFAULT_ACTIONS
from spie.core.demo_employers import DEFAULT_COMPANIES


class Command(BaseCommand):
    help = "Crée les données de démonstration : réseau SPIE Haute-Garonne et personnes accompagnées fictives."

    def add_arguments(self, parser):
        parser.add_argument(
            "--persons", type=int, default=demo.DEFAULT_PERSONS,
            help=f"nombre de personnes accompagnées à créer (défaut : {demo.DEFAULT_PERSONS})",
        )
        parser.add_argument(
            "--seed", type=int, default=demo.DEFAULT_SEED,
            help=f"graine du générateur : mêmes données pour une même graine (défaut : {demo.DEFAULT_SEED})",
        )
        parser.add_argument(
            "--actions", type=int, default=DEFAULT_ACTIONS,
            help=f"nombre d'actions de la banque d'actions à créer (défaut : {DEFAULT_ACTIONS})",
        )
        parser.add_argument(
            "--companies", type=int, default=DEFAULT_COMPANIES,
            help=f"entreprises de démonstration, avec leurs offres (défaut : {DEFAULT_COMPANIES} ; 0 : aucune)",
        )
        parser.add_argument(
            "--if-empty", action="store_true",
            help="ne rien faire si des personnes existent déjà",
        )
        parser.add_argument("--no-progress", action="store_true", help="sans barre de progression")

    def handle(self, *args, **options):
        started = time.monotonic()
        # tqdm needs the raw stream: OutputWrapper would add a newline after each refresh.
        progress_file = None if options["no_progress"] else getattr(self.stderr, "_out", self.stderr)
        result = demo.seed(
            persons=options["persons"],
            seed=options["seed"],
            if_empty=options["if_empty"],
            actions=options["actions"],
            progress_file=progress_file,
            log=self.stdout.write,
        )
        if result.skipped:
            self.stdout.write("Données de démonstration déjà présentes : rien à faire.")
            return
        from spie.core.demo_employers import seed_employers

        result.counts.update(seed_employers(
            result.territory, seed=options["seed"], companies=options["companies"], log=self.stdout.write,
            progress_file=progress_file,
        ))
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"Données de démonstration créées en {elapsed:.1f} s : {result.persons} personnes, "
            f"{result.followups} membres de groupes de suivi, {result.consents} consentements, "
            f"{result.timeline_events} événements, {result.health_infos} sections santé."
        ))
        self.stdout.write("Comptes de démonstration : python manage.py demo_logins")
