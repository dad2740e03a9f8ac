from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("nouveau/", views.upload, name="upload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/correspondance/", views.mapping_view, name="mapping"),
    path("<int:pk>/progression/", views.progress, name="progress"),
    path("<int:pk>/lignes/<int:row_id>/", views.row_action, name="row"),
    path("<int:pk>/importer/", views.commit, name="commit"),
    path("<int:pk>/annuler/", views.cancel, name="cancel"),
]
