"""``manage.py referral_reminders``: deadlines of referrals to actions, run by cron."""

from django.core.management.base import BaseCommand

from spie.catalogue.services import referrals as referral_services


def _plural(n, word):
    return f"{n} {word}{'s' if n > 1 else ''}"


class Command(BaseCommand):
    help = (
        "Expire les orientations vers des actions restées sans réponse au-delà du délai du territoire "
        "(30 jours par défaut), puis relance une fois les structures qui n'ont pas répondu après le délai de "
        "relance (10 jours par défaut), avec un nouveau lien. Sans effet si on la relance : chaque orientation "
        "n'a qu'une relance. À lancer par cron, par exemple toutes les heures : "
        "« 15 * * * * cd /srv/spie && .venv/bin/python manage.py referral_reminders »."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site-url", default=None,
                            help="Adresse de la plateforme pour les liens des courriels (sinon le réglage SITE_URL).")

    def handle(self, *args, **options):
        base_url = options.get("site_url")
        expired = referral_services.expire_due(base_url=base_url)
        reminded = referral_services.send_due_reminders(base_url=base_url)
        self.stdout.write(
            f"{_plural(expired, 'orientation')} expirée{'s' if expired > 1 else ''}, "
            f"{_plural(reminded, 'relance')} envoyée{'s' if reminded > 1 else ''}."
        )
