"""The employer side's main journey, in a real browser.

A référente opens the job search of a person she follows: the opening that fits comes with its
reasons, the one that needs a driving licence is shown apart with the catalogue action that lifts
the blocker. She puts the person forward (the consent box is required), the company answers from
the signed link of its e-mail, without an account, "Recrutée": the job and its 1/3/6-month
checkpoints are recorded, the opening is filled and the référente sees it. The company's user,
logged in, sees candidates of another opening as anonymous profiles only.
"""

import re

import pytest
from django.core import mail
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from spie.employers import matching_adapter
from spie.employers.models import JobOpening, OpeningStatus, Positioning, PositioningStatus
from spie.followup.models import Checkpoint, Employment
from spie.network.models import Structure
from spie.people.models import FollowUpMembership, TimelineEvent
from tests.catalogue.factories import ActionFactory
from tests.e2e.test_catalogue_journey import log_in_with_second_factor
from tests.employers.factories import JobOpeningFactory, company_with_account, profile_for
from tests.network.factories import CommuneFactory, StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import PersonFactory, add_to_group

FITS = "Commis de cuisine — service du midi"
NEEDS_LICENCE = "Livreur de repas en tournée"
OTHER = "Aide de cuisine du soir"
LICENCE_HELP = "Permis solidaire de Toulouse"
MESSAGE = "Inès a fait un stage en restauration collective ; disponible dès lundi."
ANSWER_LINK = re.compile(r"https?://[^\s]+/emploi/reponse/[^\s/]+/")


@pytest.fixture
def employers_data(transactional_db):
    territory = TerritoryFactory()
    toulouse = CommuneFactory()
    mds = StructureFactory(territory=territory, name="MDS Toulouse Bonnefoy", slug="mds-bonnefoy", commune=toulouse,
                           kind=Structure.Kind.DEPARTEMENT)
    referente = make_professional(structure=mds, email="referente@spie.example", first_name="Claire",
                                  last_name="Dubois")
    device = TOTPDevice.objects.create(user=referente, name="Téléphone", confirmed=True)
    person = PersonFactory(territory=territory, commune=toulouse, first_name="Inès", last_name="Diagne",
                           driving_licence="none", has_vehicle=False)
    add_to_group(person, referente, FollowUpMembership.Kind.REFERENT)
    profile_for(person, "G1602", commune=toulouse, visible_to_employers=True, skills="HACCP\nMise en place")

    company, company_user = company_with_account(territory=territory, name="Brasserie du Canal", commune=toulouse)
    company_device = TOTPDevice.objects.create(user=company_user, name="Téléphone", confirmed=True)
    fits = JobOpeningFactory(company=company, title=FITS, commune=toulouse)
    licence = JobOpeningFactory(company=company, title=NEEDS_LICENCE, commune=toulouse, requires_licence=True)
    other = JobOpeningFactory(company=company, title=OTHER, commune=toulouse)
    ActionFactory(territory=territory, commune=toulouse, name=LICENCE_HELP,
                  thematiques=["mobilite--preparer-un-permis"])
    matching_adapter.recompute_territory(territory)
    return {"referente": referente, "device": device, "person": person, "company": company,
            "company_user": company_user, "company_device": company_device, "fits": fits, "licence": licence,
            "other": other}


def card(page, region, title):
    """The card (an ``article``) of the offer called ``title`` within ``region``."""
    return region.locator("article.jobsearch-card", has=page.get_by_role("heading", name=title, exact=True))


def test_employers_journey(live_server, browser, page, employers_data, settings):
    settings.SPIE_DEMO_SKIP_2FA = False
    data = employers_data
    person, fits = data["person"], data["fits"]
    mail.outbox.clear()

    # 1. From the record, the person's job search: the fitting opening with its reasons, the blocked one apart.
    log_in_with_second_factor(page, live_server, "referente@spie.example", data["device"])
    page.goto(f"{live_server.url}/personnes/{person.pk}/")
    page.get_by_role("link", name="Recherche d'emploi et offres adaptées").click()
    page.get_by_role("heading", name=re.compile(r"^Recherche d'emploi de Inès")).wait_for()
    offers = page.get_by_role("region", name=re.compile(r"^Offres adaptées"))
    fitting = card(page, offers, FITS)
    assert "Brasserie du Canal · Toulouse" in fitting.inner_text()
    fitting.get_by_text("Pourquoi cette proposition ?").click()
    reasons = fitting.locator("details.jobsearch-reasons").inner_text()
    assert "Même code ROME que le métier recherché" in reasons, reasons
    assert "en transports en commun" in reasons and "estimation" in reasons  # travel time estimated, said so
    assert card(page, offers, NEEDS_LICENCE).count() == 0  # never among the fitting offers
    lifted = card(page, page.get_by_role("region", name=re.compile(r"^Offres accessibles avec un coup de pouce")),
                  NEEDS_LICENCE)
    text = lifted.inner_text()
    assert "Bloquée par :" in text and "Levée par :" in text and LICENCE_HELP in text

    # 2. "Mettre en relation": the person's consent is required, the message is kept on error.
    fitting.get_by_role("button", name="Mettre en relation").click()
    page.get_by_role("heading", name=re.compile(r"^Mettre .* en relation$")).wait_for()
    page.get_by_label("Message à l'entreprise").fill(MESSAGE)
    page.get_by_role("button", name="Transmettre la candidature").click()
    page.get_by_text("Recueillez l'accord de la personne").first.wait_for()
    assert page.get_by_label("Message à l'entreprise").input_value() == MESSAGE
    assert not Positioning.objects.exists()
    page.get_by_label(re.compile("La personne est d.accord pour que son profil soit transmis")).check()
    page.get_by_role("button", name="Transmettre la candidature").click()
    page.wait_for_url(re.compile(r"/emploi/(mises-en-relation|personnes)/"))
    positioning = Positioning.objects.get(person=person, opening=fits)
    assert positioning.status == PositioningStatus.PROPOSED and positioning.consent
    assert positioning.message == MESSAGE

    # 3. The company opens the signed link of its e-mail, without an account, and answers "Recrutée".
    to_company = [m for m in mail.outbox if data["company_user"].email in m.to]
    assert len(to_company) == 1, [(m.to, m.subject) for m in mail.outbox]
    body = to_company[0].body
    assert "Diagne" not in body and "DIAGNE" not in body and "Inès D." in body
    link = ANSWER_LINK.findall(body)
    assert len(link) == 1, body
    company_context = browser.new_context(locale="fr-FR")
    try:
        answer = company_context.new_page()
        answer.set_default_timeout(10_000)
        answer.goto(link[0])
        answer.get_by_role("heading", name="Candidature de Inès D.").wait_for()
        assert "/compte/connexion/" not in answer.url
        content = answer.locator("main").inner_text()
        assert MESSAGE in content and "Diagne" not in content
        answer.get_by_role("radio", name="Recrutée").check()
        with answer.expect_response(lambda r: r.request.method == "POST" and "/emploi/reponse/" in r.url) as sent:
            answer.get_by_role("button", name="Enregistrer la réponse").click()
        assert sent.value.status in (200, 302), f"the answer was refused ({sent.value.status})"
        answer.get_by_text("Votre réponse est enregistrée").wait_for()
    finally:
        company_context.close()

    # 4. The job and its checkpoints are recorded, the opening is filled, the référente is told.
    positioning.refresh_from_db()
    assert positioning.status == PositioningStatus.HIRED and positioning.employment_id
    employment = Employment.objects.get(person=person)
    assert employment.employer_name == "Brasserie du Canal" and employment.job_title == FITS
    assert sorted(Checkpoint.objects.filter(employment=employment).values_list("month", flat=True)) == [1, 3, 6]
    assert JobOpening.objects.get(pk=fits.pk).status == OpeningStatus.FILLED
    assert TimelineEvent.objects.filter(person=person, kind="positioning_hired").exists()
    assert any("referente@spie.example" in m.to for m in mail.outbox)
    page.goto(f"{live_server.url}/emploi/personnes/{person.pk}/")
    followed = page.get_by_role("region", name="Mises en relation et immersions")
    assert "Recrutée" in followed.get_by_role("row", name=re.compile(re.escape(FITS))).inner_text()

    # 5. The company's user sees candidates of another opening as anonymous profiles only.
    company_page = browser.new_context(locale="fr-FR").new_page()
    try:
        company_page.set_default_timeout(10_000)
        company_page.goto(live_server.url + "/")
        company_page.get_by_label("Adresse électronique").fill(data["company_user"].email)
        company_page.get_by_label("Mot de passe").fill("motdepasse-tres-solide")
        company_page.get_by_role("button", name="Se connecter").click()
        company_page.get_by_label("Code à 6 chiffres").fill(f"{totp(data['company_device'].bin_key):06d}")
        company_page.get_by_role("button", name="Valider", exact=True).click()
        company_page.get_by_role("heading", name="Brasserie du Canal", exact=True).wait_for()
        assert "/emploi/espace-entreprise/" in company_page.url
        assert company_page.get_by_role("link", name="Rechercher").count() == 0  # no person search for a company
        company_page.goto(f"{live_server.url}/emploi/offres/{data['other'].uid}/candidats/")
        company_page.get_by_role("heading", name=f"Profils pour « {OTHER} »").wait_for()
        main = company_page.locator("main").inner_text()
        assert "HACCP" in main  # her skills, without her identity
        assert "Diagne" not in main and "Inès" not in main
        assert company_page.get_by_role("button", name="Demander une mise en relation").count() >= 1
    finally:
        company_page.context.close()
