from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "spie.people"
    label = "people"
    verbose_name = "Personnes accompagnées"
