from django.urls import path

from . import views

app_name = "network"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("structures/<slug:slug>/", views.structure_detail, name="structure"),
    path("structures/<slug:slug>/membres/", views.members, name="members"),
    path("structures/<slug:slug>/membres/<int:membership_id>/desactiver/", views.deactivate, name="deactivate"),
]
