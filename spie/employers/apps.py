from django.apps import AppConfig


class EmployersConfig(AppConfig):
    name = "spie.employers"
    verbose_name = "Entreprises, offres et rapprochement"
