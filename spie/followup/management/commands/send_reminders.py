"""``manage.py send_reminders``: the appointment reminders, run by cron."""

from django.core.management.base import BaseCommand

from spie.followup.services import appointments as appointment_services


class Command(BaseCommand):
    help = (
        "Envoie le rappel (courriel et/ou SMS) des rendez-vous prévus dans les 24 prochaines heures "
        "qui n'en ont pas encore eu. Sans effet si on la relance : chaque rendez-vous n'a qu'un rappel. "
        "À lancer régulièrement par cron, par exemple toutes les heures : "
        "« 5 * * * * cd /srv/spie && .venv/bin/python manage.py send_reminders ». "
        "Affiche le nombre de rendez-vous rappelés."
    )

    def handle(self, *args, **options):
        count = appointment_services.send_due_reminders()
        self.stdout.write(f"{count} rappel{'s' if count > 1 else ''} de rendez-vous envoyé{'s' if count > 1 else ''}.")
        return None
