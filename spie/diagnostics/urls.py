from django.urls import path

from . import views

app_name = "diagnostics"

urlpatterns = [
    path("personnes/<int:pk>/diagnostics/", views.person_diagnostics, name="list"),
    path("personnes/<int:pk>/diagnostics/commencer/", views.start, name="start"),
    path("personnes/<int:pk>/diagnostics/comparer/", views.compare, name="compare"),
    path("personnes/<int:pk>/diagnostics/<int:diagnostic_id>/", views.detail, name="detail"),
    path("personnes/<int:pk>/diagnostics/<int:diagnostic_id>/etape/<int:step>/", views.step, name="step"),
    path(
        "personnes/<int:pk>/diagnostics/<int:diagnostic_id>/etape/<int:step>/enregistrer/",
        views.autosave,
        name="autosave",
    ),
    path("personnes/<int:pk>/diagnostics/<int:diagnostic_id>/imprimer/", views.print_view, name="print"),
    # ROME picker (no referentials endpoint yet); may move to referentials/urls.py unchanged.
    path("referentiels/rome/", views.rome_options, name="rome_options"),
]
