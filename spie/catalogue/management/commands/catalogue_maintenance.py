"""``manage.py catalogue_maintenance [--territory 31]``: the catalogue's nightly upkeep (cron).

Publishes again the actions whose suspension date has passed, then counts, per territory, the
visible actions whose content is older than the freshness period ("mise à jour nécessaire"),
so the coordinators can prompt the providers.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from spie.catalogue.services.actions import resume_expired_suspensions, stale_actions


class Command(BaseCommand):
    help = (
        "Entretien quotidien de la banque d'actions : republie les actions dont la suspension a pris fin et "
        "compte, par territoire, les actions publiées dont la fiche doit être mise à jour."
    )

    def add_arguments(self, parser):
        parser.add_argument("--territory", metavar="CODE", help="code du territoire (ex. 31) ; défaut : tous")

    def handle(self, *args, **options):
        from spie.network.models import Territory

        today = timezone.localdate()
        territories = Territory.objects.order_by("code")
        if options["territory"]:
            territories = territories.filter(code=options["territory"])
            if not territories.exists():
                raise CommandError(f"Territoire inconnu : {options['territory']}.")
        resumed = resume_expired_suspensions(today, territories=territories)
        self.stdout.write(f"{resumed} action(s) republiée(s) : leur suspension a pris fin.")
        total = 0
        for territory in territories:
            days = territory.setting("catalogue_freshness_days")
            n = stale_actions(territory, today).count()
            total += n
            self.stdout.write(
                f"{territory.code} {territory.name} : {n} action(s) à mettre à jour (fiche non confirmée depuis plus "
                f"de {days} jours)."
            )
        self.stdout.write(f"Total : {total} action(s) à mettre à jour.")
