"""Staged import of catalogue actions: a partner's CSV (French headers) and data·inclusion JSON
(the platform's own export included), French errors per cell, re-imports that update instead of
duplicating, and the rights of the existing imports (structure admins, their structure only)."""

import csv
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from spie.catalogue import interop
from spie.catalogue.models import Action, ActionStatus
from spie.imports import samples, services
from spie.imports.models import ImportKind, ImportStatus, RowAction
from tests.catalogue.factories import ActionFactory
from tests.network.factories import CommuneFactory

from .conftest import membership_of
from .utils import commit, csv_bytes, row, upload, validate

pytestmark = pytest.mark.django_db

COMMUNES = [("31555", "Toulouse", "31000"), ("31395", "Muret", "31600")]


@pytest.fixture
def communes(world):
    CommuneFactory(code_insee="31395", name="Muret", postal_codes="31600", epci_siren="200068807",
                   epci_name="Le Muretain Agglo", lat=43.4616, lon=1.3269)
    return CommuneFactory()  # Toulouse


@pytest.fixture
def admin(world, communes):
    return membership_of(world["admin_ref"])


def actions_csv(count=4, **kwargs):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(samples.ACTION_HEADER)
    writer.writerows(samples.action_rows(count, communes=COMMUNES, **kwargs))
    return buffer.getvalue().encode("utf-8")


def actions_json(count=4, *, wrap=False, **kwargs):
    services_ = list(samples.action_services(count, communes=COMMUNES, **kwargs))
    return json.dumps({"services": services_} if wrap else services_).encode("utf-8")


def run(admin, content, name="actions.csv", mapping=None):
    job = upload(admin, content, name=name, kind=ImportKind.ACTIONS)
    return validate(job, admin, mapping=mapping)


def structure_actions(admin):
    return Action.objects.filter(structure=admin.structure).order_by("source_id")


def test_csv_with_french_headers_is_mapped_validated_and_creates_draft_actions(admin):
    job = upload(admin, actions_csv(4), kind=ImportKind.ACTIONS)
    assert job.mapping["nom"] == "Nom de l'action"
    assert job.mapping["spie_type_action"] == "Type d'action SPIE"
    assert job.mapping["code_postal"] == "Code postal" and job.mapping["spie_capacite"] == "Places"
    job = validate(job, admin)
    assert job.status == ImportStatus.READY
    assert (job.create_count, job.error_count) == (4, 0)
    assert not Action.objects.exists()  # nothing before the commit
    job = commit(job, admin)
    assert job.status == ImportStatus.COMMITTED
    actions = list(structure_actions(admin))
    assert len(actions) == 4
    first = actions[0]
    assert first.status == ActionStatus.DRAFT and first.territory == admin.structure.territory
    assert first.source == "" and first.source_id == "partenaire-31--1"
    assert first.thematiques == ["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"]
    assert first.commune_id in {"31555", "31395"} and first.lat is not None
    assert first.spie_kind == "workshop" and first.capacity == 12 and first.places_left_total == 12
    assert first.created_by == admin.user
    assert " cv " in first.search_text and first.theme_key  # derived search keys written by Action.save
    remote = actions[3]
    assert remote.reception_modes == ["a-distance"] and remote.commune_id is None


def test_reimport_updates_instead_of_duplicating_and_shows_the_changes(admin):
    commit(run(admin, actions_csv(3)), admin)
    again = run(admin, actions_csv(3))
    assert (again.create_count, again.update_count, again.unchanged_count) == (0, 0, 3)
    rows = list(samples.action_rows(3, communes=COMMUNES))
    rows[1][2] = "Une description entièrement revue pour la rentrée."
    rows[1][16] = "20"
    changed = run(admin, csv_bytes(rows, header=samples.ACTION_HEADER))
    assert (changed.create_count, changed.update_count, changed.unchanged_count) == (0, 1, 2)
    updated_row = row(changed, 3)
    assert updated_row.diff["description"][1] == "Une description entièrement revue pour la rentrée."
    assert updated_row.diff["capacity"] == ["12", "20"]
    commit(changed, admin)
    assert structure_actions(admin).count() == 3
    action = Action.objects.get(source_id="partenaire-31--2")
    assert action.description == "Une description entièrement revue pour la rentrée."
    assert action.capacity == 20 and action.places_left_total == 20


def test_preview_shows_the_changes_with_french_labels(admin, client_for, world):
    commit(run(admin, actions_csv(2)), admin)
    rows = list(samples.action_rows(2, communes=COMMUNES))
    rows[0][1] = "Atelier CV renouvelé"
    job = run(admin, csv_bytes(rows, header=samples.ACTION_HEADER))
    response = client_for(world["admin_ref"]).get(f"/imports/{job.pk}/", {"filtre": "a-mettre-a-jour"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nom : <del>Atelier CV et lettre de motivation n° 1</del> → <ins>Atelier CV renouvelé</ins>" in html


def test_data_inclusion_json_from_another_source_creates_then_updates(admin):
    job = run(admin, actions_json(3, source="dora", wrap=True), name="dora.json")
    assert job.file_format == "json"
    assert job.mapping["nom"] == "nom" and job.mapping["code_insee"] == "code_insee"
    assert (job.create_count, job.error_count) == (3, 0)
    commit(job, admin)
    action = Action.objects.get(source="dora", source_id="dora--2")
    assert action.structure == admin.structure and action.status == ActionStatus.DRAFT
    assert action.email == "contact2@partenaire.example"
    changed = [dict(s) for s in samples.action_services(3, source="dora", communes=COMMUNES)]
    changed[1]["description"] = "Nouvelle description de l'action du partenaire."
    changed[1]["thematiques"] = ["mobilite--preparer-un-permis", "mobilite--financer-ma-mobilite"]
    again = run(admin, json.dumps(changed).encode(), name="dora.json")
    assert (again.create_count, again.update_count, again.unchanged_count) == (0, 1, 2)
    assert row(again, 2).diff["thematiques"][1] == "mobilite--preparer-un-permis, mobilite--financer-ma-mobilite"
    commit(again, admin)
    assert Action.objects.filter(source="dora").count() == 3
    action.refresh_from_db()
    assert action.thematiques == ["mobilite--preparer-un-permis", "mobilite--financer-ma-mobilite"]


def test_the_platform_export_reimports_as_unchanged_and_updates_its_own_actions(admin, world):
    mine = ActionFactory(territory=world["territory"], structure=admin.structure, name="Atelier maison",
                         commune=CommuneFactory(), eligibility_zone=["31"])
    exported = [interop.to_service(a) for a in interop.catalogue_queryset(world["territory"])]
    job = run(admin, json.dumps(exported).encode(), name="export.json")
    assert (job.create_count, job.update_count, job.unchanged_count, job.error_count) == (0, 0, 1, 0)
    exported[0]["nom"] = "Atelier maison, nouvelle formule"
    job = run(admin, json.dumps(exported).encode(), name="export.json")
    assert job.update_count == 1 and set(row(job, 1).diff) == {"name"}
    commit(job, admin)
    mine.refresh_from_db()
    assert mine.name == "Atelier maison, nouvelle formule" and mine.source == "" and mine.source_id == ""
    assert Action.objects.count() == 1


def test_an_export_naming_another_structures_action_cannot_take_it_over(admin, world):
    other = ActionFactory(territory=world["territory"], structure=world["other_structure"], commune=CommuneFactory())
    job = run(admin, json.dumps([interop.to_service(other)]).encode(), name="export.json")
    assert job.error_count == 1
    assert "appartient à une autre structure" in " ".join(services.error_messages(row(job, 1)))


def test_a_row_matching_an_action_created_by_hand_updates_it(admin, world):
    hand = ActionFactory(territory=world["territory"], structure=admin.structure, name="Atelier CV et lettre de "
                         "motivation n° 1", commune=CommuneFactory(), source="", source_id="")
    rows = [r[:] for r in samples.action_rows(1, communes=[COMMUNES[0]])]
    rows[0][0] = ""  # no id column value: matched by name and commune
    job = run(admin, csv_bytes(rows, header=samples.ACTION_HEADER))
    assert job.update_count == 1 and row(job, 2).target_id == hand.pk


def test_bad_values_get_french_errors_per_cell_and_can_be_fixed(admin):
    rows = list(samples.action_rows(3, communes=COMMUNES))
    rows[0][4] = "cuisine--recettes"
    rows[1][11] = "pas-une-adresse"
    rows[2][5] = "selon revenus"
    rows[2][10] = "Atlantide"
    job = run(admin, csv_bytes(rows, header=samples.ACTION_HEADER))
    assert job.error_count == 3 and job.create_count == 0
    assert row(job, 2).errors["thematiques"].startswith(
        "Ligne 2, colonne « Thématiques » : valeur inconnue « cuisine--recettes »")
    assert row(job, 3).errors["courriel"] == (
        "Ligne 3, colonne « Courriel » : adresse électronique invalide « pas-une-adresse »")
    errors = row(job, 4).errors
    assert errors["frais"] == (
        "Ligne 4, colonne « Frais » : valeur inconnue « selon revenus » (attendu : gratuit ou payant)")
    assert errors["commune"].startswith("Ligne 4, colonne « Commune » : commune inconnue « Atlantide »")
    with pytest.raises(ValidationError, match="en erreur"):
        services.request_commit(job=job, membership=admin, enqueue=False)
    fixed = services.fix_row(job=job, row=row(job, 2), membership=admin,
                             values={"thematiques": "Réaliser un CV et/ou une lettre de motivation"})
    assert fixed.action == RowAction.CREATE and fixed.cleaned["thematiques"] == [
        "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"]
    services.drop_row(job=job, row=row(job, 3), membership=admin)
    services.drop_row(job=job, row=row(job, 4), membership=admin)
    commit(job, admin)
    assert structure_actions(admin).count() == 1


def test_duplicates_in_the_file_and_missing_required_cells(admin):
    rows = list(samples.action_rows(2, communes=COMMUNES))
    rows[1][0] = rows[0][0]
    rows.append(["", "", "Sans nom", "", "", "", "", "", "", "", "", "", "", "", "", "", ""])
    job = run(admin, csv_bytes(rows, header=samples.ACTION_HEADER))
    assert "doublon de la ligne 2 dans le fichier (même identifiant)" in row(job, 3).errors["__all__"]
    assert row(job, 4).errors["nom"] == "Ligne 4, colonne « Nom de l'action » : valeur obligatoire manquante"


def test_unreadable_json_and_json_for_other_kinds_are_refused_in_french(admin):
    with pytest.raises(ValidationError) as raised:
        upload(admin, b'[{"nom": "Atelier"', name="cassé.json", kind=ImportKind.ACTIONS)
    assert "Ce fichier JSON est mal formé" in raised.value.message_dict["file"][0]
    with pytest.raises(ValidationError) as raised:
        upload(admin, b'{"actions": []}', name="autre.json", kind=ImportKind.ACTIONS)
    assert "liste de services" in raised.value.message_dict["file"][0]
    with pytest.raises(ValidationError) as raised:
        upload(admin, actions_json(1), name="personnes.json", kind=ImportKind.PERSONS)
    assert "ne s'importe que pour les actions du catalogue" in raised.value.message_dict["file"][0]


def test_only_structure_admins_import_actions(world, communes):
    with pytest.raises(PermissionDenied):
        upload(membership_of(world["referent"]), actions_csv(1), kind=ImportKind.ACTIONS)


def test_upload_page_accepts_a_json_file(world, communes, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(world["admin_ref"])
    response = client.post("/imports/nouveau/", {
        "kind": ImportKind.ACTIONS, "file": SimpleUploadedFile("catalogue.json", actions_json(2)),
    })
    assert response.status_code == 302
    job_id = int(response["Location"].rstrip("/").split("/")[-2])
    mapping_page = client.get(f"/imports/{job_id}/correspondance/")
    assert mapping_page.status_code == 200
    assert "Atelier CV et lettre de motivation n° 1" in mapping_page.content.decode()  # first values shown


def test_committed_actions_are_linked_from_the_result_page(admin, world, client_for):
    job = commit(run(admin, actions_csv(1)), admin)
    action = Action.objects.get(structure=admin.structure)
    html = client_for(world["admin_ref"]).get(f"/imports/{job.pk}/").content.decode()
    assert "Les actions créées sont des brouillons" in html
    assert f'href="/catalogue/mes-actions/{action.uid}/">Ouvrir l\'action</a>' in html


def test_actions_import_through_the_api(admin, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.api.conftest import token_client

    client = token_client(world["admin_ref"])
    response = client.post("/api/v1/imports/", {"kind": "actions", "file": SimpleUploadedFile(
        "catalogue.json", actions_json(2))}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["file_format"] == "json" and response.json()["mapping"]["nom"] == "nom"


def test_without_ids_rows_match_by_name_and_commune_digits_included(admin):
    rows = [[""] + r[1:] for r in samples.action_rows(10, communes=[COMMUNES[0]])]
    job = run(admin, csv_bytes(rows, header=samples.ACTION_HEADER))
    assert (job.create_count, job.error_count) == (10, 0)  # "n° 1" and "n° 9" are two actions
    commit(job, admin)
    again = run(admin, csv_bytes(rows, header=samples.ACTION_HEADER))
    assert (again.create_count, again.update_count, again.unchanged_count) == (0, 0, 10)
    rows[8][2] = "Une autre description pour la neuvième action."
    changed = run(admin, csv_bytes(rows, header=samples.ACTION_HEADER))
    assert changed.update_count == 1 and set(row(changed, 10).diff) == {"description"}


def test_the_platform_csv_export_reimports_as_unchanged(admin, world, client_for):
    ActionFactory(territory=world["territory"], structure=admin.structure, name="Atelier maison",
                  commune=CommuneFactory(), phone="+33561000000", description="-- Atelier du lundi --")
    response = client_for(world["admin_ref"]).get("/catalogue/export/", {"format": "csv"})
    content = b"".join(response.streaming_content)
    assert b"'+33561000000" in content and b"'-- Atelier du lundi --" in content  # neutralised for spreadsheets
    job = run(admin, content, name="catalogue.csv")
    assert (job.create_count, job.update_count, job.unchanged_count, job.error_count) == (0, 0, 1, 0)



def test_a_reimport_may_not_break_a_published_action(admin, world):
    """The publish rules hold for imports too. An empty cell never erases a stored value (the
    thématiques cannot be emptied by a file), but a new mobilisation mode lacking what it needs
    would leave a published action unusable: a row error, and the action is left as it was; the
    same row on a draft goes through."""
    mine = ActionFactory(territory=world["territory"], structure=admin.structure, name="Atelier maison",
                         commune=CommuneFactory(), eligibility_zone=["31"], mobilisation_link="")
    assert mine.status == ActionStatus.PUBLISHED
    exported = [interop.to_service(a) for a in interop.catalogue_queryset(world["territory"])]
    exported[0]["thematiques"] = []  # left out: not a removal
    exported[0]["modes_mobilisation"] = ["utiliser-lien-mobilisation"]
    exported[0]["nom"] = "Atelier maison, nouvelle formule"
    content = json.dumps(exported).encode()
    job = run(admin, content, name="export.json")
    assert (job.update_count, job.error_count) == (0, 1)
    failed = row(job, 1)
    assert failed.action == RowAction.ERROR
    text = " ".join(services.error_messages(failed))
    assert "l'action « Atelier maison » est publiée et doit rester complète" in text
    assert "colonne « lien_mobilisation » : Ajoutez le lien de mobilisation" in text
    with pytest.raises(ValidationError, match="1 ligne est en erreur"):
        commit(job, admin)
    mine.refresh_from_db()
    assert mine.name == "Atelier maison" and mine.mobilisation_modes == ["envoyer-un-courriel"]
    assert mine.thematiques == ["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"]
    Action.objects.filter(pk=mine.pk).update(status=ActionStatus.DRAFT)
    job = run(admin, content, name="export.json")
    assert (job.update_count, job.error_count) == (1, 0)


def test_a_reimported_model_passes_its_content_on_to_its_sites(admin, world):
    model = ActionFactory(territory=world["territory"], structure=admin.structure, name="Atelier modèle",
                          commune=CommuneFactory(), eligibility_zone=["31"], is_model=True)
    site = ActionFactory(territory=world["territory"], structure=world["other_structure"], model=model,
                         name="Atelier modèle", commune=CommuneFactory())
    exported = [interop.to_service(model)]
    exported[0]["description"] = "Une description revue par le réseau pour tous ses sites."
    commit(run(admin, json.dumps(exported).encode(), name="export.json"), admin)
    site.refresh_from_db()
    assert site.description == "Une description revue par le réseau pour tous ses sites."
