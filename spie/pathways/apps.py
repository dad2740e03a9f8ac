from django.apps import AppConfig


class PathwaysConfig(AppConfig):
    name = "spie.pathways"
    label = "pathways"
    verbose_name = "Parcours"
