from django.apps import AppConfig


class ReferentialsConfig(AppConfig):
    name = "spie.referentials"
    label = "referentials"
    verbose_name = "Référentiels"
