from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "spie.network"
    label = "network"
    verbose_name = "Réseau"
