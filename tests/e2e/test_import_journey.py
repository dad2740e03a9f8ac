"""A structure admin imports the monthly list of new RSA beneficiaries in a real browser:
upload a CSV (Windows-1252, semicolons) → map a column the platform did not guess → see the
row with a bad date, fix it in the preview → import → the persons exist, once."""

import re

import pytest

from spie.imports.models import ImportJob
from spie.network.models import Membership
from spie.people.models import FollowUpMembership, Person
from tests.network.factories import CommuneFactory, StructureFactory, make_professional

PASSWORD = "motdepasse-tres-solide"
CSV = (
    "Matricule;NOM;Prénom;Date de venue au monde;Droits et devoirs\r\n"
    "D31-001;LEFÈVRE;Hélène;12/05/1988;oui\r\n"
    "D31-002;Garçon;Noël;31/02/1979;non\r\n"
    ";;;;\r\n"
).encode("cp1252")


@pytest.fixture
def import_data(transactional_db):
    commune = CommuneFactory()
    structure = StructureFactory(name="Maison des solidarités Muret", slug="mds-muret", commune=commune)
    admin = make_professional(role=Membership.Role.ADMIN, structure=structure, email="admin@mds.example",
                              first_name="Alice", last_name="Admin")
    return {"admin": admin, "structure": structure}


def test_import_with_mapping_and_fixed_row(live_server, page, import_data, settings, tmp_path):
    settings.SPIE_DEMO_SKIP_2FA = True  # the second factor has its own journey (test_referent_journey)
    settings.MEDIA_ROOT = tmp_path / "media"
    page.goto(live_server.url + "/compte/connexion/")
    page.get_by_label("Adresse électronique").fill("admin@mds.example")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()

    # 1. Upload.
    page.goto(live_server.url + "/imports/nouveau/")
    page.get_by_label("Le fichier contient").select_option("persons")
    page.get_by_label("Fichier CSV, Excel (.xlsx) ou JSON").set_input_files(
        files=[{"name": "nouveaux-rsa.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.get_by_role("button", name="Déposer le fichier").click()

    # 2. Mapping: the birth date and the identifier columns are chosen by hand.
    page.get_by_role("heading", name="Associer les colonnes").wait_for()
    assert page.get_by_role("combobox", name="Nom", exact=True).input_value() == "NOM"
    page.get_by_role("combobox", name="Date de naissance", exact=True).select_option("Date de venue au monde")
    page.get_by_role("combobox", name="Identifiant départemental").select_option("Matricule")
    page.get_by_role("radio", name="Identifiant départemental").check()
    page.get_by_role("button", name="Vérifier les lignes").click()

    # 3. Preview: the bad date names its cell; the row is fixed in place.
    page.get_by_role("heading", name=re.compile("vérifier les lignes")).wait_for()
    assert "Ligne 3, colonne « Date de venue au monde » : date illisible « 31/02/1979 »" in page.content()
    assert page.get_by_role("button", name="Importer 1 ligne").is_disabled()
    if page.locator("details[open]").count() == 0:  # the first row in error opens by itself
        page.get_by_text("Corriger la ligne 3").click()
    page.get_by_label(re.compile(r"^Date de naissance \(colonne")).fill("28/02/1979")
    page.get_by_role("button", name="Enregistrer la correction").click()
    page.get_by_text("Ligne 3 corrigée").wait_for()

    # 4. Commit.
    page.get_by_role("button", name="Importer 2 lignes").click()
    page.get_by_text(re.compile("Import terminé")).wait_for()
    job = ImportJob.objects.get()
    assert job.status == "committed" and (job.create_count, job.error_count) == (2, 0)
    noel = Person.objects.get(internal_id="D31-002")
    assert (noel.first_name, noel.birth_date.isoformat(), noel.rsa_droits_devoirs) == ("Noël", "1979-02-28", False)
    assert Person.objects.get(internal_id="D31-001").last_name == "LEFÈVRE"
    assert FollowUpMembership.objects.filter(user=import_data["admin"], kind="referent").count() == 2
    assert page.get_by_role("link", name="Ouvrir le dossier").count() == 2
