"""``manage.py recompute_matches [--territory 31]``: recompute every proposal (nightly cron).

For each territory: the active job-search profiles against the open openings and immersion
offers; the territory's proposals are replaced and a full ``MatchRun`` keeps the congestion and
fairness figures. Progress lines are written as the computation goes.
"""

from django.core.management.base import BaseCommand, CommandError

from spie.employers.matching_adapter import recompute_territory


class Command(BaseCommand):
    help = (
        "Recalcule les propositions d'offres et d'immersions de chaque personne en recherche d'emploi "
        "(rapprochement), territoire par territoire."
    )

    def add_arguments(self, parser):
        parser.add_argument("--territory", metavar="CODE", help="code du territoire (ex. 31) ; défaut : tous")

    def handle(self, *args, **options):
        from spie.network.models import Territory

        territories = Territory.objects.order_by("code")
        if options["territory"]:
            territories = territories.filter(code=options["territory"])
            if not territories.exists():
                raise CommandError(f"Territoire inconnu : {options['territory']}.")
        for territory in territories:
            self.stdout.write(f"{territory.code} {territory.name} : calcul en cours…")

            def progress(text, code=territory.code):
                self.stdout.write(f"  {code} · {text}")

            run = recompute_territory(territory, progress=progress)
            self.stdout.write(self.style.SUCCESS(
                f"{territory.code} {territory.name} : {run.proposals} proposition(s), {run.blocked} bloquée(s), "
                f"{run.persons} personne(s), {run.openings} offre(s) en {run.duration_s:.1f} s."
            ))
