"""REST API: OpenAPI schema, Swagger UI (local assets) and the versioned routes under ``v1/``."""

from django.urls import include, path

from . import views

app_name = "api"

router = views.SpieRouter()
router.register("persons", views.PersonViewSet, basename="person")
router.register("structures", views.StructureViewSet, basename="structure")
router.register("memberships", views.OwnMembershipViewSet, basename="membership")
router.register("directory", views.DirectoryViewSet, basename="directory")

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    path("v1/", include(router.urls)),
]
