"""``manage.py purge_records [--dry-run] [--territory 31]``: the retention purge (DESIGN.md §5)."""

from django.core.management.base import BaseCommand, CommandError

from spie.followup.services.exits import purge_records


class Command(BaseCommand):
    help = (
        "Supprime les dossiers des personnes sorties du parcours (sortie active) dont la sortie ET le "
        "dernier contact datent de plus que la durée de conservation du territoire (réglage "
        "« retention_months », 24 mois par défaut). La suppression est définitive et emporte tout le "
        "dossier : groupe de suivi, consentements, historique, diagnostics, orientations, contrats, plan, "
        "rendez-vous, notes et pièces jointes, sortie, emplois et points de suivi, les lignes des fichiers "
        "de personnes importés qui les concernent, ET les lignes du journal des consultations de ces personnes. "
        "Les personnes qui ne sont pas sorties du parcours ne sont "
        "jamais supprimées par cette commande. Chaque exécution est enregistrée (PurgeRun), simulation comprise."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true",
            help="simulation : compte les dossiers à supprimer sans rien supprimer (l'exécution est enregistrée)",
        )
        parser.add_argument("--territory", metavar="CODE", help="code du territoire (ex. 31) ; défaut : tous")

    def handle(self, *args, **options):
        from spie.network.models import Territory

        territories = Territory.objects.order_by("code")
        if options["territory"]:
            territories = territories.filter(code=options["territory"])
            if not territories.exists():
                raise CommandError(f"Territoire inconnu : {options['territory']}.")
        dry_run = options["dry_run"]
        total = 0
        for territory in territories:
            run = purge_records(territory, dry_run=dry_run)
            total += run.persons_purged
            verb = "à supprimer (simulation, rien n'est supprimé)" if dry_run else "supprimé(s)"
            self.stdout.write(
                f"{territory.code} {territory.name} : {run.persons_purged} dossier(s) {verb} — "
                f"sortie et dernier contact antérieurs au {run.cutoff:%d/%m/%Y}."
            )
        self.stdout.write(f"Total : {total} dossier(s){' (simulation)' if dry_run else ''}.")
