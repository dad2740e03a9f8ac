"""``manage.py load_frameworks``: validate and store the framework files (``spie/diagnostics/frameworks/``)."""

from django.core.management.base import BaseCommand, CommandError

from spie.diagnostics import engine, loaders


class Command(BaseCommand):
    help = (
        "Valide et charge les trames de diagnostic (spie/diagnostics/frameworks/*.yaml). Idempotent : "
        "une version déjà chargée n'est jamais modifiée ; la version la plus haute de chaque trame devient "
        "la version courante."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--directory",
            default="",
            help="Dossier des fichiers de trames (par défaut : spie/diagnostics/frameworks/).",
        )

    def handle(self, *args, directory="", verbosity=1, **options):
        stdout = self.stdout if verbosity >= 1 else None
        try:
            loaders.load_frameworks(directory or None, stdout=stdout)
        except engine.FrameworkError as error:
            count = len(error.errors)
            details = "\n".join(f"  - {message}" for message in error.errors)
            raise CommandError(
                f"Chargement des trames impossible ({count} erreur{'s' if count > 1 else ''}, rien n'a été "
                f"enregistré) :\n{details}"
            ) from error
