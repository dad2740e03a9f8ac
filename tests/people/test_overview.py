import pytest
from django.urls import reverse

from spie.network.models import Membership
from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.network.factories import make_professional
from tests.people.factories import PersonFactory, add_to_group


@pytest.mark.django_db
def test_coordinator_home_shows_aggregates_not_records():
    referent = make_professional()
    for _ in range(3):
        add_to_group(PersonFactory(last_name="Confidentiel"), referent, FollowUpMembership.Kind.REFERENT)
    coordinator = make_professional(role=Membership.Role.COORDINATOR)
    response = login_client(coordinator).get(reverse("people:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "données agrégées uniquement" in html
    assert response.context["overview"]["persons"]["total"] == 3
    assert "CONFIDENTIEL" not in html.upper()
