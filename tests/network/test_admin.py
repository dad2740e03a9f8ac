import pytest
from django.contrib import admin

from spie.network.models import User
from spie.people.models import Person
from tests.conftest import login_client
from tests.network.factories import make_professional


@pytest.fixture
def superuser_client(db):
    user = make_professional(is_staff=True, is_superuser=True)
    return login_client(user), user


def test_admin_pages_render(superuser_client):
    client, user = superuser_client
    for url in ["/admin/", "/admin/network/user/", "/admin/network/user/add/", f"/admin/network/user/{user.pk}/change/",
                "/admin/network/structure/", "/admin/network/membership/", "/admin/core/accesslog/"]:
        assert client.get(url).status_code == 200, url


def test_admin_creates_user_with_email(superuser_client):
    client, _ = superuser_client
    response = client.post("/admin/network/user/add/", {
        "email": "Nouvelle@Spie.Example", "usable_password": "true",
        "password1": "une-phrase-de-passe-longue", "password2": "une-phrase-de-passe-longue",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302
    assert User.objects.filter(email="nouvelle@spie.example").exists()


def test_persons_are_not_in_the_admin():
    """Records are read only through the need-to-know policies and the access log."""
    assert Person not in admin.site._registry


def test_admin_requires_the_second_factor(db):
    user = make_professional(is_staff=True, is_superuser=True)
    client = login_client(user, verified=False)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/compte/second-facteur/" in response["Location"]
