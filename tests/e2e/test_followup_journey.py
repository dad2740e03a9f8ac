"""Day-to-day follow-up of a person by her référente, in a real browser: the caseload on the home
page, the record and its summaries, the plan taken over from the signed contract (an action
added and started), an appointment with its e-mail and SMS invitation, a contact note with a
PDF attachment, a job start and its 1-month checkpoint, the exit with its bilan (printable),
then the home page and its XLSX export showing the person as exited."""

import datetime
import io
import re

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from openpyxl import load_workbook

from spie.core import sms
from spie.followup.models import Appointment, Checkpoint, Employment, Note, PathwayExit, PlanAction
from spie.network.models import Structure
from spie.pathways import services as pathways_services
from spie.people.models import FollowUpMembership, Person
from tests.network.factories import CommuneFactory, StructureFactory, TerritoryFactory, make_professional
from tests.pathways.factories import make_referentiel
from tests.people.factories import PersonFactory, add_to_group

PASSWORD = "motdepasse-tres-solide"
PERSON_EMAIL = "ines.diagne@example.org"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
BILAN_ACHIEVEMENTS = "Logement social obtenu, permis B en cours, embauche en CDI au bout de six semaines."
BILAN_PERSON_WORDS = "Je me sens prête à continuer seule, merci pour l'accompagnement."


@pytest.fixture
def followup_data(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_referentiel()
    territory = TerritoryFactory()
    commune = CommuneFactory()
    mds = StructureFactory(territory=territory, name="MDS Toulouse Bonnefoy", slug="mds-bonnefoy",
                           commune=commune, kind=Structure.Kind.DEPARTEMENT)
    referente = make_professional(structure=mds, email="referente@spie.example", first_name="Claire",
                                  last_name="Dubois")
    device = TOTPDevice.objects.create(user=referente, name="Téléphone", confirmed=True)
    person = PersonFactory(territory=territory, commune=commune, first_name="Inès", last_name="Diagne",
                           email=PERSON_EMAIL, phone="06 12 34 56 78")
    add_to_group(person, referente, FollowUpMembership.Kind.REFERENT)
    membership = referente.memberships.get()
    contract = pathways_services.create_contract(person, membership, data={"objectives": [
        {"theme": "logement", "label": "Accéder à un logement", "source": "referentiel"},
        {"theme": "emploi", "label": "Trouver un emploi durable", "source": "referentiel"},
    ]})
    today = timezone.localdate()
    pathways_services.sign_contract(contract, membership, person_signed_on=today, referent_signed_on=today)
    person.refresh_from_db()
    assert person.status == Person.Status.IN_PATHWAY
    return {"referente": referente, "device": device, "person": person}


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


def status_count(page, label):
    """The number shown before ``label`` in the "Par situation" counts of the home page."""
    counts = page.get_by_role("list", name="Par situation dans le parcours")
    return int(counts.get_by_role("link", name=re.compile(re.escape(label))).locator("strong").inner_text())


def labelled(scope, label):
    """The field labelled exactly ``label`` (a required field's label ends with a "*")."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def open_record(page, person):
    page.get_by_role("link", name="← Retour au dossier").first.click()
    page.get_by_role("heading", name=f"{person.first_name} {person.last_name.upper()}", exact=True).wait_for()


def test_followup_journey(live_server, page, followup_data, settings):
    settings.SPIE_DEMO_SKIP_2FA = False  # the real second factor, with a device already enrolled
    person = followup_data["person"]
    full_name = f"{person.first_name} {person.last_name.upper()}"
    today = timezone.localdate()
    mail.outbox.clear()
    sms.outbox.clear()

    # 1. Log in; the home page lists her in the caseload, counted "En parcours".
    log_in_with_second_factor(page, live_server, "referente@spie.example", followup_data["device"])
    row = page.get_by_role("row", name=re.compile("DIAGNE Inès"))
    assert "En parcours" in row.inner_text()
    assert status_count(page, "En parcours") == 1
    assert status_count(page, "Sortie du parcours") == 0

    # 2. The record shows the summaries; the plan takes over the contract's 2 objectives.
    row.get_by_role("link", name="DIAGNE Inès").click()
    page.get_by_role("heading", name=full_name, exact=True).wait_for()
    for region in ("Plan d'action", "Rendez-vous", "Dernières notes de suivi", "Sortie et suivi dans l'emploi"):
        assert page.get_by_role("region", name=region, exact=True).is_visible(), region
    assert "Aucun rendez-vous prévu" in page.get_by_role("region", name="Rendez-vous", exact=True).inner_text()
    page.get_by_role("link", name="Plan d'action", exact=True).click()
    page.get_by_role("heading", name=f"Plan d'action de {full_name}").wait_for()
    page.get_by_role("button", name="Reprendre les objectifs du contrat signé").click()
    page.get_by_text("Repris du contrat signé : 2 objectifs.").wait_for()
    housing = page.locator("article", has=page.get_by_text("Accéder à un logement", exact=True))
    assert page.locator("article", has=page.get_by_text("Trouver un emploi durable", exact=True)).count() == 1
    housing.get_by_text("Ajouter une action").click()
    housing.get_by_label("Action du référentiel").select_option(label="Demande de logement social")
    housing.get_by_label("Début prévu").fill(today.isoformat())
    housing.get_by_label("Échéance").fill((today + datetime.timedelta(days=30)).isoformat())
    housing.get_by_role("button", name="Ajouter l'action").click()
    page.get_by_text("Action « Demande de logement social » ajoutée.").wait_for()
    action_row = page.get_by_role("row", name=re.compile("Demande de logement social"))
    assert "Prévue" in action_row.inner_text()
    action_row.get_by_text("Statut", exact=True).click()
    action_row.get_by_label("Nouveau statut").select_option(label="En cours")
    action_row.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("« Demande de logement social » : statut « En cours ».").wait_for()
    assert "En cours" in page.get_by_role("row", name=re.compile("Demande de logement social")).inner_text()
    assert PlanAction.objects.get(person=person).status == "in_progress"

    # 3. An appointment in 2 days, on site, with an e-mail and an SMS invitation.
    open_record(page, person)
    page.get_by_role("link", name="Rendez-vous", exact=True).click()
    page.get_by_role("heading", name="Rendez-vous", exact=True).wait_for()
    day = today + datetime.timedelta(days=2)
    form = page.locator("form", has=page.get_by_role("button", name="Fixer le rendez-vous"))
    labelled(form, "Date").fill(day.isoformat())
    form.get_by_label("Heure").fill("10:00")
    form.get_by_label("Modalité").select_option(label="Sur place")
    form.get_by_label("Lieu ou lien").fill("MDS Bonnefoy, 4 rue du Faubourg Bonnefoy, bureau 12")
    form.get_by_label("Objet").fill("Point sur la demande de logement")
    form.get_by_label("Prévenir la personne par courriel").check()
    form.get_by_label("Prévenir la personne par SMS").check()
    form.get_by_role("button", name="Fixer le rendez-vous").click()
    confirmation = page.get_by_role("status").filter(has_text="Rendez-vous fixé le")
    confirmation.wait_for()
    assert f"Rendez-vous fixé le {day:%d/%m/%Y} à 10h00." in confirmation.inner_text()
    assert "La convocation part par courriel et SMS." in confirmation.inner_text()
    upcoming = page.get_by_role("region", name="À venir")
    assert "Point sur la demande de logement" in upcoming.inner_text()
    assert Appointment.objects.get(person=person).mode == Appointment.Mode.IN_PERSON
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [PERSON_EMAIL]
    body = mail.outbox[0].body
    assert "à 10h00" in body and "4 rue du Faubourg Bonnefoy" in body
    assert "Point sur la demande" not in body  # the purpose is never sent to the person
    assert len(sms.outbox) == 1 and sms.outbox[0].to == "+33612345678"

    # 4. A contact note for the whole group, with a PDF attachment.
    page.get_by_role("link", name=full_name).click()
    page.get_by_role("link", name="Notes", exact=True).click()
    page.get_by_role("heading", name=f"Notes de suivi de {full_name}").wait_for()
    note_form = page.locator("form", has=page.get_by_role("button", name="Enregistrer la note"))
    note_form.get_by_label("Qui peut lire cette note").select_option(value="group")
    note_form.get_by_label("Nature").select_option(label="Entretien")
    note_form.get_by_label("Contact avec la personne").check()
    labelled(note_form, "Note").fill("Entretien à la MDS : dossier logement complet, déposé ce jour.")
    note_form.get_by_label("Pièces jointes").set_input_files(
        files=[{"name": "attestation-depot.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    note_form.get_by_role("button", name="Enregistrer la note").click()
    note = page.locator("article", has_text="dossier logement complet")
    note.wait_for()
    assert "contact avec la personne" in note.inner_text()
    attachment = note.get_by_role("link", name="attestation-depot.pdf")
    assert attachment.is_visible()
    with page.expect_download() as download_info:
        attachment.click()
    assert download_info.value.suggested_filename == "attestation-depot.pdf"
    note_row = Note.objects.get(person=person)
    assert note_row.is_contact and note_row.confidentiality == "group"
    person.refresh_from_db()
    assert person.last_contact_on == today

    # 5. A job started 40 days ago: checkpoints at 1, 3 and 6 months; the 1-month one is recorded.
    open_record(page, person)
    page.get_by_role("link", name="Emploi", exact=True).click()
    page.get_by_role("heading", name=f"Suivi dans l'emploi de {full_name}").wait_for()
    started = today - datetime.timedelta(days=40)
    job_form = page.locator("form", has=page.get_by_role("button", name="Enregistrer l'emploi"))
    labelled(job_form, "Employeur").fill("Boulangerie Au Bon Pain")
    job_form.get_by_label("Poste").fill("Vendeuse en boulangerie")
    job_form.get_by_label("Type de contrat").select_option(label="CDI")
    job_form.get_by_label("Heures par semaine").fill("35")
    labelled(job_form, "Début").fill(started.isoformat())
    job_form.get_by_role("button", name="Enregistrer l'emploi").click()
    page.get_by_text(re.compile("Emploi enregistré : .*Points de suivi programmés à 1, 3 et 6 mois.")).wait_for()
    checkpoints = page.get_by_role("table", name="Points de suivi")
    for month in (1, 3, 6):
        assert checkpoints.get_by_role("row", name=re.compile(f"^{month} mois")).count() == 1
    first = checkpoints.get_by_role("row", name=re.compile("^1 mois"))
    assert "En retard" in first.inner_text()  # due 10 days ago
    first.get_by_role("link", name="Renseigner le point").click()
    page.get_by_role("heading", name="Point de suivi à 1 mois").wait_for()
    page.get_by_label("Contact avec la personne").check()
    page.get_by_label("Situation").select_option(label="Toujours en poste")
    page.get_by_label("Commentaire").fill("Période d'essai validée, bonne intégration dans l'équipe.")
    page.get_by_role("button", name="Enregistrer le point de suivi").click()
    page.get_by_text("Point de suivi à 1 mois enregistré.").wait_for()
    first = page.get_by_role("table", name="Points de suivi").get_by_role("row", name=re.compile("^1 mois"))
    assert "Toujours en poste" in first.inner_text() and "personne" in first.inner_text()
    point = Checkpoint.objects.get(person=person, month=1)
    assert point.done_on == today and point.contacted_person and point.outcome == "in_job"
    assert Employment.objects.get(person=person).contract_type == "cdi"

    # 6. Exit: sustainable job, bilan written with the person; the printable bilan.
    open_record(page, person)
    page.get_by_role("link", name="Sortie et bilan", exact=True).click()
    page.get_by_role("heading", name=f"Sortie du parcours de {full_name}").wait_for()
    assert "1 rendez-vous est prévu après aujourd'hui." in page.content()  # the warning before closing
    exit_form = page.locator("form", has=page.get_by_role("button", name="Enregistrer la sortie"))
    exit_form.get_by_label("Motif de sortie").select_option(value="sustainable_job")
    exit_form.get_by_label("Ce qui a été réalisé").fill(BILAN_ACHIEVEMENTS)
    exit_form.get_by_label("Ce que la personne en dit").fill(BILAN_PERSON_WORDS)
    exit_form.get_by_label("Suites et relais").fill("Suivi dans l'emploi jusqu'au point à 6 mois.")
    exit_form.get_by_label("Bilan rédigé avec la personne").check()
    exit_form.get_by_role("button", name="Enregistrer la sortie").click()
    page.get_by_text(f"Le parcours est clos (sortie du {today:%d/%m/%Y}).").wait_for()
    current = page.get_by_role("region", name=re.compile("Parcours clos le"))
    assert "Emploi durable (CDI, ou CDD ou intérim de 6 mois et plus)" in current.inner_text()
    assert "Rédigé avec la personne" in current.inner_text()
    exit_ = PathwayExit.objects.get(person=person)
    assert exit_.reason == "sustainable_job" and exit_.written_with_person
    page.get_by_role("link", name="Bilan imprimable").click()
    page.get_by_role("heading", name="Bilan de fin de parcours").wait_for()
    bilan = page.locator("main").inner_text()
    assert "Emploi durable (CDI, ou CDD ou intérim de 6 mois et plus)" in bilan
    assert BILAN_ACHIEVEMENTS in bilan and BILAN_PERSON_WORDS in bilan
    assert "Bilan, rédigé avec la personne" in bilan
    assert "Vendeuse en boulangerie" in bilan and "Demande de logement social" in bilan

    # 7. Home: she is counted as exited; the XLSX export of the caseload names her.
    page.get_by_role("link", name="← Retour à la sortie du parcours").click()
    page.get_by_role("link", name="Mes personnes", exact=True).click()
    page.get_by_role("heading", name="Mes personnes accompagnées").wait_for()
    assert status_count(page, "Sortie du parcours") == 1
    assert status_count(page, "En parcours") == 0
    assert "Sortie du parcours" in page.get_by_role("row", name=re.compile("DIAGNE Inès")).inner_text()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Excel (XLSX)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(download.path().read_bytes()), read_only=True)  # the path has no suffix
    rows = list(workbook.active.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert len(data) == 1
    line = dict(zip(header, data[0], strict=False))
    assert (line["Nom"], line["Prénom"]) == ("DIAGNE", "Inès")
    assert line["Situation dans le parcours"] == "Sortie du parcours"
