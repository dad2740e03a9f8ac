from django.urls import path

from . import views

app_name = "pathways"

urlpatterns = [
    path("orientations/", views.queue, name="queue"),
    path("personnes/<int:pk>/orientation/", views.orientations, name="orientations"),
    path("personnes/<int:pk>/orientation/proposer/", views.propose, name="propose"),
    path("personnes/<int:pk>/orientation/reorientation/", views.reorient, name="reorient"),
    path("personnes/<int:pk>/orientation/<int:orientation_id>/decider/", views.decide, name="decide"),
    path("personnes/<int:pk>/orientation/<int:orientation_id>/refuser/", views.refuse, name="refuse"),
    path("personnes/<int:pk>/orientation/<int:orientation_id>/annuler/", views.cancel, name="cancel"),
    path("personnes/<int:pk>/contrat/", views.contract, name="contract"),
    path("personnes/<int:pk>/contrat/modifier/", views.contract_edit, name="contract_edit"),
    path("personnes/<int:pk>/contrat/<int:version>/", views.contract_version, name="contract_version"),
    path("personnes/<int:pk>/contrat/<int:version>/imprimer/", views.contract_print, name="contract_print"),
    path("personnes/<int:pk>/contrat/<int:version>/signer/", views.contract_sign, name="contract_sign"),
    path("personnes/<int:pk>/contrat/<int:version>/scan/", views.contract_scan, name="contract_scan"),
    path("personnes/<int:pk>/contrat/<int:version>/scan/ajouter/", views.contract_scan_upload,
         name="contract_scan_upload"),
]
