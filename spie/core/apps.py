from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "spie.core"
    label = "core"
    verbose_name = "Socle"
