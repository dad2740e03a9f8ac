"""REST API: OpenAPI schema, Swagger UI (local assets) and the versioned routes under ``v1/``."""

from django.urls import include, path

from . import appointments, catalogue, diagnostics, employers, exits, imports, notes, pathways, plans, views

app_name = "api"

router = views.SpieRouter()
router.register("persons", views.PersonViewSet, basename="person")
router.register("structures", views.StructureViewSet, basename="structure")
router.register("memberships", views.OwnMembershipViewSet, basename="membership")
router.register("directory", views.DirectoryViewSet, basename="directory")
router.register("frameworks", diagnostics.FrameworkViewSet, basename="framework")
router.register("diagnostics", diagnostics.DiagnosticViewSet, basename="diagnostic")
router.register("orientations", pathways.OrientationViewSet, basename="orientation")
router.register("contracts", pathways.ContractViewSet, basename="contract")

# Routes under a person (``persons/{id}/…``) and the framework versions (``frameworks/{code}/{version}/``).
nested = [
    path(
        "frameworks/<slug:code>/<int:version>/",
        diagnostics.FrameworkViewSet.as_view({"get": "definition"}),
        name="framework-definition",
    ),
    path(
        "persons/<int:pk>/diagnostics/",
        diagnostics.PersonDiagnosticViewSet.as_view({"get": "list", "post": "create"}),
        name="person-diagnostics",
    ),
    path(
        "persons/<int:pk>/orientations/",
        pathways.PersonOrientationViewSet.as_view({"get": "overview", "post": "propose"}),
        name="person-orientations",
    ),
    path(
        "persons/<int:pk>/reorientation/",
        pathways.PersonOrientationViewSet.as_view({"post": "reorient"}, spie_policy="pathways.reorient"),
        name="person-reorientation",
    ),
    path(
        "persons/<int:pk>/contracts/",
        pathways.PersonContractViewSet.as_view({"get": "list", "post": "create"}),
        name="person-contracts",
    ),
]

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    path("v1/", include(nested)),
    # Follow-up, imports, catalogue and employers: each module declares its own routes (``urlpatterns``).
    path("v1/", include(plans.urlpatterns + appointments.urlpatterns + notes.urlpatterns + exits.urlpatterns
                        + imports.urlpatterns + catalogue.urlpatterns + employers.urlpatterns)),
    path("v1/", include(router.urls)),
]
