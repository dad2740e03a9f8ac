from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "spie.followup"
    label = "followup"
    verbose_name = "Suivi de parcours"
