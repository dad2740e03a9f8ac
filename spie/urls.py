from django.contrib import admin
from django.urls import include, path

from spie.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("a-propos/", core_views.about, name="about"),
    path("compte/", include("spie.network.auth_urls")),
    path("reseau/", include("spie.network.urls")),
    path("api/", include("spie.api.urls")),
    path("referentiels/", include("spie.referentials.urls")),
    path("admin/", admin.site.urls),
    path("", include("spie.diagnostics.urls")),
    path("", include("spie.pathways.urls")),
    path("", include("spie.followup.urls")),
    path("catalogue/", include("spie.catalogue.urls")),
    path("emploi/", include("spie.employers.urls")),
    path("imports/", include("spie.imports.urls")),
    path("", include("spie.people.urls")),
]
