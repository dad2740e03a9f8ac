from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    name = "spie.diagnostics"
    label = "diagnostics"
    verbose_name = "Diagnostics"
