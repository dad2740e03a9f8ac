"""``manage.py load_referentials``: load the public referentials from ``spie/referentials/data/``."""

import time

from django.core.management.base import BaseCommand, CommandError

from spie.referentials import loaders


class Command(BaseCommand):
    help = (
        "Charge les référentiels publics (communes, ROME, NAF, référentiel de parcours, "
        "vocabulaires data·inclusion) depuis spie/referentials/data/. Idempotent : un référentiel "
        "dont les fichiers n'ont pas changé n'est pas rechargé."
    )

    def add_arguments(self, parser):
        names = ", ".join(referential.name for referential in loaders.REFERENTIALS)
        parser.add_argument(
            "--only",
            default="",
            help=f"Référentiels à charger, séparés par des virgules (parmi : {names}). Par défaut : tous.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Recharge même si les fichiers n'ont pas changé.",
        )

    def handle(self, *args, only="", force=False, verbosity=1, **options):
        started = time.perf_counter()
        names = [name for name in only.split(",") if name.strip()]
        try:
            selected = loaders.select(names)
        except KeyError as error:
            known = ", ".join(referential.name for referential in loaders.REFERENTIALS)
            raise CommandError(f"Référentiel inconnu : {error.args[0]}. Choix possibles : {known}.") from error

        def progress(report):
            if verbosity < 1:
                return
            if report.up_to_date:
                if verbosity > 1:
                    self.stdout.write(f"{report.label} : à jour")
                return
            for stats in report.stats:
                self.stdout.write(stats.message())

        reports = []
        for referential in selected:
            try:
                report = loaders.load(referential, force=force)
            except (OSError, KeyError, ValueError) as error:
                # Everything of this referential was rolled back; earlier ones stay loaded.
                raise CommandError(f"{referential.label} : chargement impossible ({error!r}).") from error
            reports.append(report)
            progress(report)

        if all(report.up_to_date for report in reports):
            self.stdout.write(self.style.SUCCESS("Référentiels à jour"))
            return
        seconds = f"{time.perf_counter() - started:.1f}".replace(".", ",")
        self.stdout.write(self.style.SUCCESS(f"Référentiels chargés en {seconds} s"))
