"""``manage.py refresh_statuses [--territory 31]``: the nightly recomputation of ``Person.status``."""

from django.core.management.base import BaseCommand, CommandError

from spie.followup.services.status import refresh_due_statuses


class Command(BaseCommand):
    help = (
        "Recalcule la situation dans le parcours (« statut ») des personnes que le calendrier a pu changer "
        "sans aucune saisie : un emploi enregistré à l'avance commence aujourd'hui (la personne passe « en "
        "emploi »), une date de début d'emploi a été reportée, une fin d'emploi prévue vient de passer. "
        "Sans effet si on la relance ; une nuit manquée est rattrapée la nuit suivante. À lancer chaque nuit "
        "par cron, après minuit : « 10 0 * * * cd /srv/spie && .venv/bin/python manage.py refresh_statuses ». "
        "Affiche le nombre de personnes vérifiées et de statuts modifiés."
    )

    def add_arguments(self, parser):
        parser.add_argument("--territory", metavar="CODE", help="code du territoire (ex. 31) ; défaut : tous")

    def handle(self, *args, **options):
        from spie.network.models import Territory

        territory = None
        if options["territory"]:
            territory = Territory.objects.filter(code=options["territory"]).first()
            if territory is None:
                raise CommandError(f"Territoire inconnu : {options['territory']}.")
        checked, changed = refresh_due_statuses(territory=territory)
        self.stdout.write(f"{checked} personne(s) vérifiée(s), {changed} statut(s) mis à jour.")
