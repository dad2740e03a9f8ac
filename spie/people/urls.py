from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("", views.home, name="home"),
    path("personnes/recherche/", views.search, name="search"),
    path("personnes/nouvelle/", views.create, name="create"),
    path("personnes/<int:pk>/", views.record, name="record"),
    path("personnes/<int:pk>/modifier/", views.edit, name="edit"),
    path("personnes/<int:pk>/sante/", views.health, name="health"),
    path("personnes/<int:pk>/consultations/", views.access_log, name="access_log"),
    path("personnes/<int:pk>/historique/", views.timeline, name="timeline"),
    path("personnes/<int:pk>/rejoindre/", views.join, name="join"),
    path("personnes/<int:pk>/demandes/<int:join_id>/", views.join_decide, name="join_decide"),
    path("personnes/<int:pk>/groupe/", views.group, name="group"),
    path("personnes/<int:pk>/consentements/", views.consents, name="consents"),
]
