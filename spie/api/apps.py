from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "spie.api"
    label = "api"
    verbose_name = "API"
