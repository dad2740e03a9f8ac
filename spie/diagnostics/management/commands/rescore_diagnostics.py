"""``manage.py rescore_diagnostics``: recompute the results of completed diagnostics.

Run after a change of the scoring engine. Each diagnostic is scored again with its own
framework version (never the current one), so loading a new framework version changes
nothing here; only the engine's behaviour can.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from spie.diagnostics.models import Diagnostic, Framework
from spie.diagnostics.services import rescore


class Command(BaseCommand):
    help = (
        "Recalcule le résultat (freins, points d'appui, orientation proposée) des diagnostics terminés, "
        "chacun avec sa propre version de trame."
    )

    def add_arguments(self, parser):
        parser.add_argument("--framework", default="", help="Code de la trame (par défaut : toutes).")
        parser.add_argument("--batch-size", type=int, default=2000, help="Diagnostics par lot (défaut : 2000).")

    def handle(self, *args, framework="", batch_size=2000, verbosity=1, **options):
        if batch_size < 1:
            raise CommandError("--batch-size doit être un entier positif.")
        queryset = Diagnostic.objects.filter(status=Diagnostic.Status.COMPLETED)
        if framework:
            if not Framework.objects.filter(code=framework).exists():
                raise CommandError(f"Trame inconnue : « {framework} ».")
            queryset = queryset.filter(framework__code=framework)
        total = queryset.count()
        with tqdm(
            total=total, unit="diag", desc="Recalcul", disable=verbosity < 1, file=self.stderr._out,
        ) as bar:
            counts = rescore(queryset, batch_size=batch_size, progress=bar.update)
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts['scored']} diagnostic(s) recalculé(s), {counts['changed']} résultat(s) modifié(s)."
            )
        )
