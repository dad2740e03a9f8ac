from django.urls import path

from . import views

app_name = "referentials"

urlpatterns = [
    path("communes/", views.communes, name="communes"),
    path("communes/options/", views.commune_options, name="commune_options"),
]
