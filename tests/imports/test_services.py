"""The import workflow on persons and professionals: validation per cell, re-import, commit."""

from datetime import date
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from spie.imports import services
from spie.imports.models import ImportStatus, ImportTransition, MatchKey, RowAction, SavedMapping
from spie.network.models import Membership
from spie.people.models import FollowUpMembership, Person, TimelineEvent
from tests.people.factories import PersonFactory, add_to_group

from .conftest import membership_of
from .utils import NIR_1, NIR_2, NIR_3, commit, csv_bytes, row, upload, validate


@pytest.fixture
def admin(world):
    return membership_of(world["admin_ref"])


def rows_ok():
    return [
        ["D1", "MARTIN", "Léa", "01/02/1990", NIR_1, "1234567", "lea@example.org", "oui"],
        ["D2", "Durand", "Paul", "1985-03-04", "", "7654321", "", "non"],
    ]


def test_full_import_creates_persons_with_the_referent_and_timeline(world, admin):
    job = validate(upload(admin, csv_bytes(rows_ok())), admin, match_key=MatchKey.INTERNAL_ID)
    assert job.status == ImportStatus.READY
    assert (job.rows_count, job.create_count, job.error_count) == (2, 2, 0)
    job = commit(job, admin)
    assert job.status == ImportStatus.COMMITTED, job.error_message
    lea = Person.objects.get(internal_id="D1")
    assert (lea.first_name, lea.last_name_key, lea.birth_date, lea.nir, lea.rsa) == (
        "Léa", "martin", date(1990, 2, 1), NIR_1, True)
    assert lea.territory == world["territory"] and lea.created_by == world["admin_ref"]
    referent = FollowUpMembership.objects.get(person=lea)
    assert (referent.kind, referent.user, referent.structure) == ("referent", world["admin_ref"],
                                                                    world["ref_structure"])
    assert TimelineEvent.objects.filter(person=lea, kind="created").exists()
    assert row(job, 2).target_id == lea.pk
    steps = list(ImportTransition.objects.filter(job=job).values_list("to_status", flat=True))
    assert steps == ["uploaded", "mapped", "validating", "ready", "committing", "committed"]


def test_chosen_referent_gets_the_persons(world, admin):
    job = validate(upload(admin, csv_bytes(rows_ok())), admin, referent=world["colleague"])
    commit(job, admin)
    assert FollowUpMembership.objects.filter(user=world["colleague"], kind="referent").count() == 2


def test_referent_outside_the_structure_is_refused(world, admin):
    job = upload(admin, csv_bytes(rows_ok()))
    with pytest.raises(ValidationError) as exc:
        validate(job, admin, referent=world["member"])
    assert "professionnel actif de votre structure" in str(exc.value)


def test_bad_date_names_the_cell(world, admin):
    rows = rows_ok() + [["D3", "Petit", "Anna", "31/02/1990", "", "", "", ""]]
    job = validate(upload(admin, csv_bytes(rows)), admin)
    bad = row(job, 4)
    assert bad.action == RowAction.ERROR
    assert bad.errors["birth_date"] == (
        "Ligne 4, colonne « Date naiss. » : date illisible « 31/02/1990 » (attendu JJ/MM/AAAA)")
    assert job.error_count == 1 and job.create_count == 2


def test_cell_errors_of_other_types(world, admin):
    rows = [["D1", "", "Léa", "01/02/2090", "123", "", "pas-un-courriel", "peut-être"]]
    job = validate(upload(admin, csv_bytes(rows)), admin)
    errors = row(job, 2).errors
    assert errors["last_name"] == "Ligne 2, colonne « Nom » : valeur obligatoire manquante"
    assert "date de naissance impossible" in errors["birth_date"]
    assert errors["nir"].startswith("Ligne 2, colonne « NIR » : NIR invalide « 123 »")
    assert "adresse électronique invalide" in errors["email"]
    assert "attendu : oui ou non" in errors["rsa"]


def test_missing_required_column_is_refused_at_mapping(world, admin):
    content = csv_bytes([["MARTIN", "Léa"]], header=["Nom", "Prénom"])
    job = upload(admin, content)
    with pytest.raises(ValidationError) as exc:
        validate(job, admin, mapping=job.mapping)
    assert "« Date de naissance »" in exc.value.message_dict["mapping"][0]
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED


def test_match_key_column_is_required(world, admin):
    content = csv_bytes([["MARTIN", "Léa", "01/02/1990"]], header=["Nom", "Prénom", "Date de naissance"])
    job = upload(admin, content)
    with pytest.raises(ValidationError, match="Identifiant départemental"):
        validate(job, admin, match_key=MatchKey.INTERNAL_ID)


def test_zero_valid_rows_commit_refused(world, admin):
    job = validate(upload(admin, csv_bytes([["D1", "X", "Y", "hier", "", "", "", ""]])), admin)
    services.drop_row(job=job, row=row(job, 2), membership=admin)
    job.refresh_from_db()
    with pytest.raises(ValidationError, match="Aucune ligne à importer"):
        services.request_commit(job=job, membership=admin, enqueue=False)


def test_rows_in_error_block_the_commit_until_fixed(world, admin):
    rows = rows_ok() + [["D3", "Petit", "Anna", "31/02/1990", "", "", "", ""]]
    job = validate(upload(admin, csv_bytes(rows)), admin)
    with pytest.raises(ValidationError, match="1 ligne est en erreur"):
        services.request_commit(job=job, membership=admin, enqueue=False)
    fixed = services.fix_row(job=job, row=row(job, 4), membership=admin, values={"birth_date": "28/02/1990"})
    assert fixed.action == RowAction.CREATE and fixed.errors == {} and fixed.fixed
    job.refresh_from_db()
    assert (job.error_count, job.create_count) == (0, 3)
    commit(job, admin)
    assert Person.objects.get(internal_id="D3").birth_date == date(1990, 2, 28)


def test_empty_file_rows(world, admin):
    job = validate(upload(admin, csv_bytes([], trailing_blank=2)), admin)
    assert job.status == ImportStatus.READY and job.rows_count == 0
    with pytest.raises(ValidationError, match="Aucune ligne à importer"):
        services.request_commit(job=job, membership=admin, enqueue=False)


def test_duplicates_inside_the_file_flag_the_later_line(world, admin):
    rows = rows_ok() + [["D1", "Martin", "Léa", "01/02/1990", "", "", "", ""],
                        ["D9", "Autre", "Nom", "01/01/1980", NIR_1, "", "", ""]]
    job = validate(upload(admin, csv_bytes(rows)), admin, match_key=MatchKey.INTERNAL_ID)
    assert row(job, 2).action == RowAction.CREATE
    assert row(job, 4).errors["__all__"] == (
        "Ligne 4 : doublon de la ligne 2 dans le fichier (même identifiant départemental)")
    assert row(job, 5).errors["nir"] == "Ligne 5, colonne « NIR » : même NIR que la ligne 2 du fichier"
    # Fixing the later line's key clears the duplicate; the earlier line stays valid.
    fixed = services.fix_row(job=job, row=row(job, 4), membership=admin, values={"Identifiant": "x",
                                                                                  "internal_id": "D4"})
    assert fixed.action == RowAction.CREATE
    again = services.fix_row(job=job, row=row(job, 4), membership=admin, values={"internal_id": "D2"})
    assert "doublon de la ligne 3" in again.errors["__all__"]


def test_nir_already_recorded_for_another_person(world, admin):
    PersonFactory(territory=world["territory"], nir=NIR_1, first_name="Autre", last_name="Personne")
    job = validate(upload(admin, csv_bytes(rows_ok())), admin, match_key=MatchKey.INTERNAL_ID)
    assert row(job, 2).errors["nir"] == (
        "Ligne 2, colonne « NIR » : ce NIR est déjà enregistré pour une autre personne du territoire")


def test_reimport_updates_instead_of_duplicating_and_shows_the_diff(world, admin):
    job = validate(upload(admin, csv_bytes(rows_ok())), admin, match_key=MatchKey.INTERNAL_ID)
    commit(job, admin)
    changed = [
        ["D1", "MARTIN", "Léa", "01/02/1990", NIR_1, "1111111", "", "non"],  # CAF number and RSA change
        ["D2", "Durand", "Paul", "04/03/1985", "", "7654321", "", "non"],  # same values
        ["D3", "Nouveau", "Noé", "05/05/2000", NIR_2, "", "", "oui"],
    ]
    second = validate(upload(admin, csv_bytes(changed), name="liste-2.csv"), admin, match_key=MatchKey.INTERNAL_ID)
    assert (second.update_count, second.unchanged_count, second.create_count) == (1, 1, 1)
    lea = Person.objects.get(internal_id="D1")
    update = row(second, 2)
    assert update.target_id == lea.pk
    # The empty e-mail cell does not erase the stored e-mail, so it is not in the diff.
    assert update.diff == {"caf_number": ["1234567", "1111111"], "rsa": [True, False]}
    commit(second, admin)
    lea.refresh_from_db()
    assert (lea.caf_number, lea.rsa, lea.email) == ("1111111", False, "lea@example.org")
    assert Person.objects.filter(territory=world["territory"], internal_id__in=["D1", "D2", "D3"]).count() == 3
    event = TimelineEvent.objects.get(person=lea, kind="updated")
    assert "numéro d'allocataire caf" in event.title and "1111111" not in event.title


def test_reimport_by_names_fills_a_missing_identifier(world, admin):
    person = PersonFactory(territory=world["territory"], first_name="Léa", last_name="Martin",
                           birth_date=date(1990, 2, 1), internal_id="", nir="")
    add_to_group(person, world["colleague"])  # followed by the importing structure
    job = validate(upload(admin, csv_bytes(rows_ok()[:1])), admin, match_key=MatchKey.INTERNAL_ID)
    update = row(job, 2)
    assert (update.action, update.target_id) == (RowAction.UPDATE, person.pk)
    assert update.diff["internal_id"] == ["", "D1"]


def test_homonym_with_another_identifier_is_an_error(world, admin):
    PersonFactory(territory=world["territory"], first_name="Léa", last_name="Martin", birth_date=date(1990, 2, 1),
                  internal_id="AUTRE", nir="")
    job = validate(upload(admin, csv_bytes(rows_ok()[:1])), admin, match_key=MatchKey.INTERNAL_ID)
    assert "déjà ces nom, prénom et date de naissance" in row(job, 2).errors["__all__"]


def test_failed_commit_writes_nothing(world, admin):
    rows = rows_ok() + [["D3", "Nouveau", "Noé", "05/05/2000", NIR_3, "", "", "oui"]]
    job = validate(upload(admin, csv_bytes(rows)), admin, match_key=MatchKey.INTERNAL_ID)
    # Someone records the same NIR between the preview and the commit: the database refuses.
    PersonFactory(territory=world["territory"], nir=NIR_3, first_name="Entre", last_name="Temps")
    before = (Person.objects.count(), FollowUpMembership.objects.count(), TimelineEvent.objects.count())
    job = commit(job, admin)
    assert job.status == ImportStatus.FAILED
    assert "n'a rien enregistré" in job.error_message
    assert (Person.objects.count(), FollowUpMembership.objects.count(), TimelineEvent.objects.count()) == before
    assert not Person.objects.filter(internal_id__in=["D1", "D2"]).exists()


def test_unexpected_error_mid_commit_rolls_back(world, admin):
    job = validate(upload(admin, csv_bytes(rows_ok())), admin)
    before = Person.objects.count()
    with mock.patch("spie.imports.services._set_targets", side_effect=RuntimeError("disque plein")):
        job = commit(job, admin)
    assert job.status == ImportStatus.FAILED and "erreur inattendue" in job.error_message
    assert Person.objects.count() == before


def test_mapping_is_remembered_per_structure_and_kind(world, admin):
    header = ["NUM", "Nom usuel", "Prénom", "Naissance le", "Autre"]
    content = csv_bytes([["D1", "Martin", "Léa", "01/02/1990", "x"]], header=header)
    job = upload(admin, content)
    assert "internal_id" not in job.mapping
    mapping = {**job.mapping, "internal_id": "NUM", "birth_date": "Naissance le"}
    validate(job, admin, mapping=mapping, match_key=MatchKey.INTERNAL_ID)
    assert SavedMapping.objects.filter(structure=world["ref_structure"], kind="persons").count() == 1
    second = upload(admin, content, name="mois-suivant.csv")
    assert second.mapping == mapping and second.match_key == MatchKey.INTERNAL_ID
    assert second.mapping_was_saved


def test_only_structure_admins_import(world):
    for user in ("referent", "officer", "coordinator"):
        with pytest.raises(PermissionDenied):
            upload(membership_of(world[user]), csv_bytes(rows_ok()))


def test_admin_of_another_structure_cannot_touch_the_job(world, admin):
    from tests.network.factories import make_professional

    job = upload(admin, csv_bytes(rows_ok()))
    other = membership_of(make_professional(Membership.Role.ADMIN, structure=world["other_structure"]))
    with pytest.raises(PermissionDenied):
        validate(job, other)


def test_professionals_import_invites_and_adds_memberships(world, admin, django_capture_on_commit_callbacks):
    header = ["Courriel", "Prénom", "Nom", "Rôle"]
    rows = [
        ["nouveau@tremplin.example", "Nadia", "Nouvelle", "Référent"],
        ["mona@ml-ouest.example", "Mona", "Membre", "référente"],  # existing account, new structure
        ["rose@tremplin.example", "Rose", "Référente", "referent"],  # already there
        ["x@tremplin.example", "X", "Y", "Chargé d'orientation"],  # not at an association
        ["pas-un-courriel", "", "", "admin"],
    ]
    job = validate(upload(admin, csv_bytes(rows, header=header), kind="professionals"), admin)
    assert [row(job, n).action for n in range(2, 7)] == ["create", "update", "unchanged", "error", "error"]
    assert "ne peut pas être attribué" in row(job, 5).errors["role"]
    services.drop_row(job=job, row=row(job, 5), membership=admin)
    services.drop_row(job=job, row=row(job, 6), membership=admin)
    job.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        job = commit(job, admin)
    assert job.status == ImportStatus.COMMITTED, job.error_message
    assert Membership.objects.filter(user__email="nouveau@tremplin.example", structure=world["ref_structure"]).exists()
    assert Membership.objects.filter(user=world["member"], structure=world["ref_structure"]).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["mona@ml-ouest.example", "nouveau@tremplin.example"]
