"""The catalogue's main journey, in a real browser: from a barrier of her diagnostic, a référente
looks for an action for the person (the search starts from the person's commune, with the
barrier's thématiques), finds a nearby action with places left (the one beyond the radius is
not listed, the remote one is), and refers the person to a session; the provider answers
without an account through the signed link e-mailed to it, and accepts; the référente then sees
the referral accepted and one place fewer. Anonymous visitors browse the public catalogue
without the contacts, and download it as JSON."""

import datetime
import json
import re

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from spie.catalogue import places
from spie.catalogue.models import Referral, ReferralStatus
from spie.network.models import Structure
from spie.people.models import FollowUpMembership
from tests.catalogue.factories import ActionFactory, ActionSessionFactory
from tests.diagnostics.support import completed
from tests.network.factories import CommuneFactory, StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import PersonFactory, add_to_group

PASSWORD = "motdepasse-tres-solide"
HOUSING = ["logement-hebergement--louer-un-logement"]
NEAR = "Atelier « Trouver un logement »"
FAR = "Permanence logement du Comminges"
REMOTE = "Accompagnement logement à distance"
OFF_TOPIC = "Atelier CV express"
PROVIDER_EMAIL = "accueil@habitat-jeunes.example"
ACTION_EMAIL = "logement@habitat-jeunes.example"
MOTIVATION = "Hébergée chez un tiers : préparer un dossier de logement social avec un appui collectif."
ANSWER_LINK = re.compile(r"https?://[^\s]+/catalogue/reponse/[^\s/]+/")


@pytest.fixture
def catalogue_data(transactional_db):
    from spie.diagnostics.loaders import load_frameworks

    load_frameworks()
    territory = TerritoryFactory()
    toulouse = CommuneFactory()
    muret = CommuneFactory(code_insee="31395", name="Muret", postal_codes="31600", population=25000,
                           epci_siren="200068815", epci_name="Le Muretain Agglo", lat=43.4617, lon=1.3264)
    saint_gaudens = CommuneFactory(code_insee="31483", name="Saint-Gaudens", postal_codes="31800", population=11000,
                                   epci_siren="200072643", epci_name="Cœur et Coteaux du Comminges",
                                   lat=43.1081, lon=0.7233)  # about 80 km from Toulouse
    mds = StructureFactory(territory=territory, name="MDS Toulouse Bonnefoy", slug="mds-bonnefoy", commune=toulouse,
                           kind=Structure.Kind.DEPARTEMENT)
    referente = make_professional(structure=mds, email="referente@spie.example", first_name="Claire",
                                  last_name="Dubois")
    device = TOTPDevice.objects.create(user=referente, name="Téléphone", confirmed=True)
    person = PersonFactory(territory=territory, commune=toulouse, first_name="Inès", last_name="Diagne")
    add_to_group(person, referente, FollowUpMembership.Kind.REFERENT)
    diagnostic = completed(person, referente)  # no home: a blocking housing barrier

    provider = StructureFactory(territory=territory, name="Habitat Jeunes Muret", slug="habitat-jeunes-muret",
                                commune=muret, email=PROVIDER_EMAIL)
    near = ActionFactory(territory=territory, structure=provider, commune=muret, name=NEAR, email=ACTION_EMAIL,
                         thematiques=HOUSING, summary="Un atelier collectif pour constituer son dossier de logement.")
    session = ActionSessionFactory(action=near, capacity=8,
                                   starts_on=timezone.localdate() + datetime.timedelta(days=21))
    places.refresh_action(near)
    far = ActionFactory(territory=territory, commune=saint_gaudens, name=FAR, thematiques=HOUSING)
    ActionSessionFactory(action=far, capacity=5)
    places.refresh_action(far)
    ActionFactory(territory=territory, name=REMOTE, thematiques=HOUSING, remote=True)
    ActionFactory(territory=territory, commune=toulouse, name=OFF_TOPIC)  # nearby, but not about housing
    return {"referente": referente, "device": device, "person": person, "diagnostic": diagnostic, "near": near,
            "session": session, "provider": provider}


def log_in_with_second_factor(page, live_server, email, device):
    page.goto(live_server.url + "/")
    assert "/compte/connexion/" in page.url
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Code de vérification").wait_for()
    page.get_by_label("Code à 6 chiffres").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Valider", exact=True).click()
    page.get_by_role("heading", name="Mes personnes accompagnées").wait_for()


def result(page, name):
    """The search result (an ``article``) of the action called ``name``."""
    return page.locator("li.search-item article", has=page.get_by_role("heading", name=name, exact=True))


def provider_link(action):
    """The signed answer link of the e-mail sent to the action's structure."""
    messages = [m for m in mail.outbox if PROVIDER_EMAIL in m.to]
    assert len(messages) == 1, [(m.to, m.subject) for m in mail.outbox]
    message = messages[0]
    assert action.name in message.subject
    assert MOTIVATION not in message.body  # the motivation is read behind the link, never e-mailed
    links = ANSWER_LINK.findall(message.body)
    assert len(links) == 1, message.body
    return links[0]


def test_catalogue_journey(live_server, browser, page, catalogue_data, settings):
    settings.SPIE_DEMO_SKIP_2FA = False  # the real second factor, with a device already enrolled
    person, near, session = catalogue_data["person"], catalogue_data["near"], catalogue_data["session"]
    full_name = f"{person.first_name} {person.last_name.upper()}"
    mail.outbox.clear()

    # 1. The référente opens the result of the person's diagnostic from the record.
    log_in_with_second_factor(page, live_server, "referente@spie.example", catalogue_data["device"])
    page.get_by_role("link", name="DIAGNE Inès").first.click()
    page.get_by_role("heading", name=full_name, exact=True).wait_for()
    page.get_by_role("link", name="Diagnostics", exact=True).click()
    page.get_by_role("link", name="Voir le résultat").click()
    page.get_by_role("heading", name="Freins, objectifs et actions suggérés").wait_for()
    assert page.url.endswith(f"/personnes/{person.pk}/diagnostics/{catalogue_data['diagnostic'].pk}/")

    # 2. "Trouver une action" on the housing barrier: a search for her, from her commune.
    housing = page.locator("article.barrier-card", has=page.get_by_role("heading", name=re.compile(r"^Logement\b")))
    housing.get_by_role("link", name="Trouver une action").click()
    page.get_by_role("heading", name="Banque d'actions", exact=True).wait_for()
    assert "/catalogue/?" in page.url and f"personne={person.pk}" in page.url
    assert "thematique=logement-hebergement--louer-un-logement" in page.url
    banner = page.get_by_role("region", name="Personne accompagnée")
    assert "Recherche pour Inès D." in banner.inner_text()
    assert "départ : Toulouse" in banner.inner_text()
    assert page.get_by_role("heading", name="2 actions", exact=True).is_visible()
    assert "1 en présentiel à moins de 50 km de Toulouse, 1 à distance." in page.locator("#resultats").inner_text()
    found = result(page, NEAR)
    facts = found.inner_text()
    assert "Habitat Jeunes Muret · Muret" in facts and "à 18 km" in facts
    assert "8 places disponibles" in facts
    assert f"Prochaine session : {session.starts_on:%d/%m/%Y}" in facts
    assert result(page, REMOTE).count() == 1 and "à distance" in result(page, REMOTE).inner_text()
    assert result(page, FAR).count() == 0  # beyond the 50 km radius
    assert result(page, OFF_TOPIC).count() == 0  # not about housing

    # 3. "Orienter": the form for her, with the session, her consent and why.
    found.get_by_role("button", name="Orienter").click()
    page.get_by_role("heading", name=f"Orienter {full_name} vers une action").wait_for()
    page.get_by_label("Session").select_option(value=str(session.pk))
    page.get_by_label(re.compile("La personne est d.accord pour participer")).check()
    page.get_by_label(re.compile(r"^Pourquoi cette action")).fill(MOTIVATION)
    page.get_by_label("Disponibilités de la personne").fill("Les matins, pas le mercredi")
    page.get_by_role("radio", name="Par l'intermédiaire du référent").check()
    page.get_by_role("button", name="Envoyer l'orientation").click()
    page.get_by_text(f"Orientation de Inès D. vers « {NEAR} » envoyée à « Habitat Jeunes Muret ».").wait_for()
    assert "Envoyée" in page.locator("hgroup").inner_text()
    referral = Referral.objects.get(person=person, action=near)
    assert referral.status == ReferralStatus.SENT and referral.session_id == session.pk
    assert referral.consent and referral.motivation == MOTIVATION

    # 4. The provider opens the signed link of its e-mail, without an account, and accepts.
    link = provider_link(near)
    provider_context = browser.new_context(locale="fr-FR")
    try:
        answer = provider_context.new_page()
        answer.set_default_timeout(10_000)
        answer.goto(link)
        answer.get_by_role("heading", name=f"Orientation de Inès D. vers « {NEAR} »").wait_for()
        assert "/compte/connexion/" not in answer.url
        content = answer.locator("main").inner_text()
        assert MOTIVATION in content and "Les matins, pas le mercredi" in content
        assert "Claire Dubois" in content or "referente@spie.example" in content  # who to call back
        accept = answer.locator("form", has=answer.get_by_role("button", name="Accepter", exact=True))
        accept.get_by_label("Session").select_option(value=str(session.pk))
        with answer.expect_response(lambda r: r.request.method == "POST" and "/catalogue/reponse/" in r.url) as sent:
            accept.get_by_role("button", name="Accepter", exact=True).click()
        # A 403 here is Django's CSRF check refusing the browser's "Origin: null" (sent when the
        # page's Referrer-Policy is "no-referrer").
        assert sent.value.status == 200, f"the answer was refused ({sent.value.status})"
        answer.get_by_role("heading", name="Merci, votre réponse est enregistrée").wait_for()
        assert f"Orientation vers « {NEAR} » : acceptée." in answer.get_by_role("status").inner_text()
        answer.goto(link)  # the link used is dead: a new one went to the structure, for what comes next
        answer.get_by_role("heading", name="Ce lien ne fonctionne pas").wait_for()
        renewed = [found for m in mail.outbox if PROVIDER_EMAIL in m.to for found in ANSWER_LINK.findall(m.body)]
        assert len(renewed) == 2 and renewed[-1] != link
        answer.goto(renewed[-1])
        answer.get_by_role("heading", name="Suite de l'orientation").wait_for()
        assert "Acceptée" in answer.locator("hgroup").inner_text()
    finally:
        provider_context.close()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED and referral.answered_via_link
    session.refresh_from_db()
    assert session.places_taken == 1 and session.places_left == 7

    # 5. The référente sees the referral accepted, on the record and in the sent list.
    page.goto(f"{live_server.url}/personnes/{person.pk}/")
    referrals = page.get_by_role("region", name="Orientations vers des actions")
    row = referrals.get_by_role("row", name=re.compile(re.escape(NEAR)))
    assert "Acceptée" in row.inner_text() and "Habitat Jeunes Muret" in row.inner_text()
    page.goto(f"{live_server.url}/catalogue/orientations/envoyees/")
    page.get_by_role("heading", name="Orientations envoyées par ma structure").wait_for()
    row = page.get_by_role("row", name=re.compile(re.escape(NEAR)))
    assert "Acceptée" in row.inner_text() and "Inès D." in row.inner_text()

    # 6. One place fewer: the search for her (pre-filled from the diagnostic) shows 7 places left.
    page.goto(f"{live_server.url}/personnes/{person.pk}/")
    page.get_by_role("link", name="Chercher une action pour Inès").click()
    page.get_by_role("heading", name="Banque d'actions", exact=True).wait_for()
    assert "Thématiques pré-remplies d'après les freins de son diagnostic" in page.get_by_role(
        "region", name="Personne accompagnée").inner_text()
    assert "7 places disponibles" in result(page, NEAR).inner_text()

    # 7. Anonymous: the public catalogue without contacts, and its JSON export.
    visitor_context = browser.new_context(locale="fr-FR")
    try:
        visitor = visitor_context.new_page()
        visitor.set_default_timeout(10_000)
        visitor.goto(live_server.url + "/catalogue/")
        visitor.get_by_role("heading", name="Banque d'actions", exact=True).wait_for()
        assert "/compte/connexion/" not in visitor.url
        assert visitor.get_by_role("region", name="Personne accompagnée").count() == 0
        listed = result(visitor, NEAR)
        assert "7 places disponibles" in listed.inner_text()
        assert listed.get_by_role("button", name="Orienter").count() == 0
        assert result(visitor, FAR).count() == 1  # no origin, no radius: the whole territory
        listed.get_by_role("link", name=NEAR).click()
        visitor.get_by_role("heading", name=NEAR, exact=True).wait_for()
        sheet = visitor.content()
        assert ACTION_EMAIL not in sheet and PROVIDER_EMAIL not in sheet
        assert near.phone not in visitor.locator("main").inner_text()
        assert visitor.get_by_text("Les coordonnées du contact sont réservées aux professionnels connectés.").count()
        assert visitor.get_by_role("button", name="Orienter une personne").count() == 0

        response = visitor.request.get(live_server.url + "/catalogue/export/?format=json")
        assert response.status == 200
        assert response.headers["content-type"].startswith("application/json")
        services = json.loads(response.text())
        by_name = {service["nom"]: service for service in services}
        assert {NEAR, FAR, REMOTE, OFF_TOPIC} <= set(by_name)
        exported = by_name[NEAR]
        assert exported["courriel"] is None and exported["telephone"] is None
        assert exported["spie_places_restantes"] == 7
        assert ACTION_EMAIL not in response.text() and "Diagne" not in response.text()
    finally:
        visitor_context.close()
