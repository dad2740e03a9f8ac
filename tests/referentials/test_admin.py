import pytest
from django.contrib import admin
from django.urls import reverse

from spie.referentials import models
from tests.conftest import login_client
from tests.network.factories import UserFactory
from tests.referentials.factories import make_communes


@pytest.fixture
def admin_client(db):
    make_communes()
    return login_client(UserFactory(is_staff=True, is_superuser=True))


def test_every_referential_is_registered():
    for model in (
        models.Commune,
        models.Departement,
        models.RomeDomain,
        models.RomeCode,
        models.RomeAppellation,
        models.RomeMobility,
        models.NafCode,
        models.PathwayTheme,
        models.PathwayItem,
        models.DataInclusionTerm,
        models.ReferentialVersion,
    ):
        assert admin.site.is_registered(model), model


def test_changelists_are_searchable_and_read_only(admin_client):
    for model in admin.site._registry:
        if model._meta.app_label != "referentials":
            continue
        url = reverse(f"admin:referentials_{model._meta.model_name}_changelist")
        response = admin_client.get(url, {"q": "toul"})
        assert response.status_code == 200, url
    response = admin_client.get(reverse("admin:referentials_commune_change", args=["31555"]))
    assert response.status_code == 200
    assert "Toulouse" in response.content.decode()
    assert admin_client.get(reverse("admin:referentials_commune_add")).status_code == 403
