from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "spie.catalogue"
    verbose_name = "Banque d'actions"
