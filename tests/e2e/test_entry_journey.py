"""Entry into the pathway, in a real browser: a référent fills the diagnostic over several
steps, sees the explained proposal and sends it; the chargé d'orientation decides it from the
queue that flags the delay; the référent establishes and signs the contract (15 h a week)."""

import datetime
import re

import pytest
from django.utils import timezone

from spie.diagnostics.forms import input_name
from spie.network.models import Membership, Structure
from spie.pathways.models import EngagementContract, Orientation
from spie.people.models import FollowUpMembership, TimelineEvent
from tests.diagnostics.support import REQUIRED_SPIE
from tests.network.factories import CommuneFactory, StructureFactory, make_professional
from tests.people.factories import PersonFactory, add_to_group

PASSWORD = "motdepasse-tres-solide"


@pytest.fixture
def entry_data(transactional_db):
    from spie.diagnostics.loaders import load_frameworks

    load_frameworks()
    commune = CommuneFactory()
    mds = StructureFactory(name="MDS Muret", slug="mds-muret", commune=commune, kind=Structure.Kind.DEPARTEMENT)
    cd31 = StructureFactory(name="Conseil départemental", slug="cd31", commune=commune,
                            kind=Structure.Kind.DEPARTEMENT)
    referente = make_professional(structure=mds, email="referente@spie.example", first_name="Claire",
                                  last_name="Dubois")
    chargee = make_professional(role=Membership.Role.ORIENTATION, structure=cd31, email="orientation@spie.example",
                                first_name="Nadia", last_name="Benali")
    person = PersonFactory(first_name="Inès", last_name="Diagne",
                           rsa_rights_opened_on=timezone.localdate() - datetime.timedelta(days=60))
    add_to_group(person, referente, FollowUpMembership.Kind.REFERENT)
    return {"referente": referente, "chargee": chargee, "person": person, "mds": mds}


def log_in(page, live_server, email):
    page.goto(live_server.url + "/compte/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def test_diagnostic_orientation_contract(live_server, page, entry_data, settings):
    settings.SPIE_DEMO_SKIP_2FA = True  # the second factor has its own journey (test_referent_journey)
    person = entry_data["person"]

    # 1. The référente starts the diagnostic from the record and fills it step by step.
    log_in(page, live_server, "referente@spie.example")
    page.goto(f"{live_server.url}/personnes/{person.pk}/")
    page.get_by_role("link", name="Diagnostics", exact=True).click()
    page.locator("form[action$='commencer/'] button").first.click()
    for _ in range(20):
        page.wait_for_load_state()
        for code, value in REQUIRED_SPIE.items():
            choice = page.locator(f"input[name='{input_name(code)}'][value='{value}']")
            if choice.count():
                choice.check()
        finish = page.get_by_role("button", name="Terminer le diagnostic")
        if finish.count():
            finish.click()
            break
        page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_load_state()

    # 2. The result explains the proposal; she sends it.
    html = page.content()
    assert "Sociale" in html or "sociale" in html
    assert "Logement" in html
    page.get_by_role("button", name="Proposer cette orientation").click()
    page.get_by_role("button", name="Transmettre la proposition").click()
    page.wait_for_load_state()
    assert Orientation.objects.filter(person=person, status="proposed").count() == 1

    # 3. The chargée d'orientation sees her in the queue, over the 45-day delay, and decides.
    page.context.clear_cookies()
    log_in(page, live_server, "orientation@spie.example")
    page.goto(live_server.url + "/orientations/")
    row = page.locator("tr", has_text="DIAGNE")
    assert re.search(r"dépassé|retard", row.inner_text(), re.I)
    page.goto(f"{live_server.url}/personnes/{person.pk}/orientation/")
    page.get_by_label("Orientation décidée").select_option("sociale")
    page.get_by_label("Structure d'accompagnement").select_option(value=str(entry_data["mds"].pk))
    referent_membership = entry_data["referente"].memberships.get()
    page.get_by_label("Référent unique désigné").select_option(value=str(referent_membership.pk))
    page.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_load_state()
    orientation = Orientation.objects.get(person=person)
    assert orientation.status == "decided" and orientation.decided_at is not None

    # 4. The référente establishes the contract (15 h by default) and records the signatures.
    page.context.clear_cookies()
    log_in(page, live_server, "referente@spie.example")
    page.goto(f"{live_server.url}/personnes/{person.pk}/contrat/")
    page.get_by_role("button", name="Établir le contrat").click()
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Enregistrer la signature").click()
    today = timezone.localdate().isoformat()
    page.get_by_label("Signé par la personne le").fill(today)
    page.get_by_label("Signé par le référent unique le").fill(today)
    page.get_by_role("button", name="Enregistrer la signature").click()
    page.wait_for_load_state()
    contract = EngagementContract.objects.get(person=person)
    assert contract.status == "signed" and contract.weekly_hours == 15
    page.get_by_role("link", name="Version imprimable").click()
    assert "15" in page.content()

    # 5. Everything is in the person's timeline.
    kinds = set(TimelineEvent.objects.filter(person=person).values_list("kind", flat=True))
    assert {"diagnostic_completed", "orientation_proposed", "orientation_decided", "contract_signed"} <= kinds
