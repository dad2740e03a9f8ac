"""Main journey of a référent, in a real browser: log in with password and TOTP enrolment,
find a person, open the record, see the access-log entry the visit created, and be refused
the record of a person one does not follow (only the minimal card and "ask to join")."""

import base64
import re

import pytest
from django_otp.oath import totp

from spie.core.models import AccessLog
from spie.people.models import FollowUpMembership
from tests.network.factories import CommuneFactory, StructureFactory, make_professional
from tests.people.factories import HealthInfoFactory, PersonFactory, add_to_group

PASSWORD = "motdepasse-tres-solide"


@pytest.fixture
def journey_data(transactional_db):
    commune = CommuneFactory()
    mds = StructureFactory(name="MDS Toulouse Bonnefoy", slug="mds-bonnefoy", commune=commune)
    ft = StructureFactory(name="France Travail Muret", slug="ft-muret", commune=commune)
    referente = make_professional(structure=mds, email="referente@spie.example", first_name="Claire",
                                  last_name="Dubois")
    other = make_professional(structure=ft, email="autre@spie.example")
    followed = PersonFactory(first_name="Éloïse", last_name="Dupont", nir="", phone="0611223344")
    add_to_group(followed, referente, FollowUpMembership.Kind.REFERENT)
    stranger = PersonFactory(first_name="Marc", last_name="Durand", phone="0699887766", address="12 rue Secrète")
    add_to_group(stranger, other, FollowUpMembership.Kind.REFERENT)
    HealthInfoFactory(person=stranger, work_restrictions="Restriction confidentielle")
    return {"referente": referente, "followed": followed, "stranger": stranger}


def test_referent_journey(live_server, page, journey_data, settings):
    settings.SPIE_DEMO_SKIP_2FA = False
    followed, stranger = journey_data["followed"], journey_data["stranger"]

    # 1. Log in: password, then second-factor enrolment with a TOTP code.
    page.goto(live_server.url + "/")
    assert "/compte/connexion/" in page.url
    page.get_by_label("Adresse électronique").fill("referente@spie.example")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Activer la vérification en deux étapes").wait_for()
    secret = re.sub(r"\s+", "", page.locator("#cle-secrete").inner_text())
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label(re.compile("Code")).first.fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Activer").click()
    page.get_by_role("heading", name=re.compile("Codes de secours")).wait_for()
    page.goto(live_server.url + "/")

    # 2. Home: "Mes personnes accompagnées" lists the followed person only.
    page.get_by_role("heading", name="Mes personnes accompagnées").wait_for()
    assert page.get_by_role("link", name=re.compile("DUPONT Éloïse")).count() == 1
    assert page.get_by_text("DURAND").count() == 0

    # 3. Search without accents and open the record.
    page.get_by_role("link", name="Rechercher", exact=True).click()
    page.get_by_role("searchbox").fill("eloise dup")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Ouvrir le dossier").click()
    page.get_by_role("heading", name="Éloïse DUPONT").wait_for()
    assert "0611223344" in page.content()

    # 4. The access log shows the visit just made.
    log_section = page.get_by_role("region", name="Qui a consulté ce dossier")
    assert "Claire Dubois" in log_section.inner_text()
    assert AccessLog.objects.filter(person=followed, user=journey_data["referente"], section="record").count() == 1

    # 5. A person not followed: only the minimal card and "ask to join".
    page.goto(f"{live_server.url}/personnes/{stranger.pk}/")
    page.get_by_role("heading", name="Demander à rejoindre le groupe de suivi").wait_for()
    html = page.content()
    assert "0699887766" not in html and "12 rue Secrète" not in html and "Restriction confidentielle" not in html
    page.goto(f"{live_server.url}/personnes/{stranger.pk}/sante/")
    assert "Restriction confidentielle" not in page.content()
    assert not AccessLog.objects.filter(person=stranger, section__in=["record", "health"]).exists()
