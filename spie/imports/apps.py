from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "spie.imports"
    label = "imports"
    verbose_name = "Imports"
