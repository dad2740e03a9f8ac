"""Imports and personal data: only the persons the importing structure follows are updated (and
their stored values shown), every display of stored values is logged (pages and API), a stale
preview never creates duplicates, and a finished import keeps neither its file nor its cells."""

import json
import os
from datetime import date

import pytest
from django.core import mail
from django.utils import timezone

from spie.core.models import AccessLog
from spie.imports import services
from spie.imports.models import ImportRow, ImportStatus, MatchKey, RowAction
from spie.network.models import Membership
from spie.people.models import FollowUpMembership, Person, TimelineEvent
from tests.api.conftest import token_client
from tests.network.factories import make_professional
from tests.pathways.conftest import PERSON_EMAIL
from tests.people.factories import PersonFactory, oppose_sharing

from .conftest import membership_of
from .utils import NIR_1, commit, csv_bytes, row, upload, validate

NAMES = MatchKey.NAMES_BIRTH_DATE
NEW_EMAIL = "camille.nouvelle@example.org"
KNOWN = ("Ligne 2 : cette personne est déjà connue de la plateforme et suivie par une autre structure : l'import ne "
         "peut pas modifier son dossier ; demandez à rejoindre son groupe de suivi.")


@pytest.fixture
def admin(world):
    return membership_of(world["admin_ref"])


@pytest.fixture
def outsider_admin(world):
    return membership_of(make_professional(Membership.Role.ADMIN, structure=world["outsider_structure"]))


def camille_row(person, *, email=NEW_EMAIL, internal_id=""):
    return [internal_id, person.last_name, person.first_name, person.birth_date.strftime("%d/%m/%Y"), "", "",
            email, "oui"]


def _body(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8-sig", errors="replace")
    return response.content.decode()


# --- Finding 1: only the persons the structure follows become updates ---------------------------


@pytest.mark.parametrize("match_key", [MatchKey.NAMES_BIRTH_DATE, MatchKey.INTERNAL_ID])
def test_person_followed_by_others_is_an_error_without_stored_values(world, client_for, outsider_admin, match_key):
    person = world["person"]
    Person.objects.filter(pk=person.pk).update(internal_id="D31-007")
    job = validate(upload(outsider_admin, csv_bytes([camille_row(person, internal_id="D31-007")])), outsider_admin,
                   match_key=match_key)
    bad = row(job, 2)
    assert bad.action == RowAction.ERROR
    assert bad.errors["__all__"] == KNOWN
    assert (bad.target_id, bad.diff) == (None, {})
    assert (job.error_count, job.create_count, job.update_count) == (1, 0, 0)

    # Neither the page, nor the error export, nor the API shows a stored value.
    client = client_for(outsider_admin.user)
    html = _body(client.get(f"/imports/{job.pk}/"))
    assert "déjà connue de la plateforme et suivie par une autre structure" in html
    assert PERSON_EMAIL not in html and NEW_EMAIL in html
    exported = _body(client.get(f"/imports/{job.pk}/?format=csv"))
    assert "suivie par une autre structure" in exported and PERSON_EMAIL not in exported
    api = token_client(outsider_admin.user).get(f"/api/v1/imports/{job.pk}/rows/")
    assert api.status_code == 200
    assert PERSON_EMAIL not in json.dumps(api.json()) and api.json()["results"][0]["target_id"] is None
    assert not AccessLog.objects.filter(person=person).exists()

    # A fix does not get round it, and the row can only be dropped: no update, no duplicate.
    fixed = services.fix_row(job=job, row=bad, membership=outsider_admin, values={"email": "autre@example.org"})
    assert fixed.action == RowAction.ERROR and fixed.errors["__all__"] == KNOWN and fixed.target_id is None
    with pytest.raises(services.ValidationError, match="en erreur"):
        services.request_commit(job=job, membership=outsider_admin, enqueue=False)
    services.drop_row(job=job, row=fixed, membership=outsider_admin)
    job.refresh_from_db()
    with pytest.raises(services.ValidationError, match="Aucune ligne à importer"):
        services.request_commit(job=job, membership=outsider_admin, enqueue=False)
    person.refresh_from_db()
    assert person.email == PERSON_EMAIL
    assert Person.objects.filter(last_name=person.last_name, first_name=person.first_name).count() == 1


def test_structure_following_the_person_updates_it(world, admin):
    job = validate(upload(admin, csv_bytes([camille_row(world["person"])])), admin, match_key=NAMES)
    update = row(job, 2)
    assert (update.action, update.target_id) == (RowAction.UPDATE, world["person"].pk)
    assert update.diff["email"] == [PERSON_EMAIL, NEW_EMAIL]


def test_member_structure_updates_unless_the_person_opposes_sharing(world):
    # "Mission locale Ouest" follows Camille through Mona (member of the group, référent elsewhere).
    other_admin = membership_of(make_professional(Membership.Role.ADMIN, structure=world["other_structure"]))
    job = validate(upload(other_admin, csv_bytes([camille_row(world["person"])])), other_admin, match_key=NAMES)
    assert row(job, 2).action == RowAction.UPDATE
    oppose_sharing(world["person"])
    job = validate(upload(other_admin, csv_bytes([camille_row(world["person"])]), name="2.csv"), other_admin,
                   match_key=NAMES)
    assert row(job, 2).errors["__all__"] == KNOWN and row(job, 2).diff == {}
    # The référent's structure keeps it despite the opposition.
    admin = membership_of(world["admin_ref"])
    job = validate(upload(admin, csv_bytes([camille_row(world["person"])]), name="3.csv"), admin, match_key=NAMES)
    assert row(job, 2).action == RowAction.UPDATE


def test_ended_follow_up_gives_no_update(world):
    other_admin = membership_of(make_professional(Membership.Role.ADMIN, structure=world["other_structure"]))
    FollowUpMembership.objects.filter(user=world["member"]).update(end_date=timezone.localdate())
    job = validate(upload(other_admin, csv_bytes([camille_row(world["person"])])), other_admin, match_key=NAMES)
    assert row(job, 2).errors["__all__"] == KNOWN


# --- Finding 2: the API writes the access log like the page --------------------------------------


def test_api_rows_and_fix_write_the_access_log(world, admin):
    job = validate(upload(admin, csv_bytes([camille_row(world["person"]),
                                            ["", "Neuve", "Nina", "01/01/1990", "", "", "", "oui"]])), admin,
                   match_key=NAMES)
    client = token_client(world["admin_ref"])
    response = client.get(f"/api/v1/imports/{job.pk}/rows/")
    assert response.status_code == 200 and PERSON_EMAIL in json.dumps(response.json())
    logs = AccessLog.objects.filter(section=AccessLog.Section.IMPORT)
    assert list(logs.values_list("person_id", "user_id", "structure_id")) == [
        (world["person"].pk, world["admin_ref"].pk, world["ref_structure"].pk)]
    assert logs.get().path.startswith(f"/api/v1/imports/{job.pk}/rows/")
    # Created rows reveal nothing recorded: no log for them.
    client.get(f"/api/v1/imports/{job.pk}/rows/?status=create")
    assert logs.count() == 1
    update = row(job, 2)
    response = client.patch(f"/api/v1/imports/{job.pk}/rows/{update.pk}/", {"values": {"email": "x@example.org"}},
                            format="json")
    assert response.status_code == 200 and response.json()["diff"]["email"] == [PERSON_EMAIL, "x@example.org"]
    assert logs.count() == 2


# --- Finding 4: the same file committed twice creates nobody twice -------------------------------


@pytest.mark.parametrize("match_key", [MatchKey.INTERNAL_ID, MatchKey.NAMES_BIRTH_DATE])
def test_two_previews_of_the_same_file_create_persons_once(world, admin, match_key,
                                                            django_capture_on_commit_callbacks):
    rows = [["D1", "MARTIN", "Léa", "01/02/1990", NIR_1, "", "", "oui"],
            ["D2", "Durand", "Paul", "04/03/1985", "", "", "", "non"]]
    first = validate(upload(admin, csv_bytes(rows)), admin, match_key=match_key)
    second = validate(upload(admin, csv_bytes(rows), name="encore.csv"), admin, match_key=match_key)
    assert first.create_count == second.create_count == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert commit(first, admin).status == ImportStatus.COMMITTED
    before = (Person.objects.count(), FollowUpMembership.objects.count(), TimelineEvent.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        second = commit(second, admin)
    assert second.status == ImportStatus.FAILED
    assert ("Des personnes de ce fichier ont été créées depuis la vérification : relancez la vérification."
            in second.error_message)
    assert (Person.objects.count(), FollowUpMembership.objects.count(), TimelineEvent.objects.count()) == before
    assert Person.objects.filter(first_name="Léa", last_name="MARTIN").count() == 1
    # The file is kept: the admin validates again, and the rows are now unchanged.
    again = validate(second, admin, match_key=match_key)
    assert again.status == ImportStatus.READY
    assert (again.create_count, again.unchanged_count) == (0, 2)


def test_person_recorded_by_hand_since_the_preview_blocks_the_creation(world, admin):
    job = validate(upload(admin, csv_bytes([["D1", "MARTIN", "Léa", "01/02/1990", "", "", "", "oui"]])), admin,
                   match_key=MatchKey.INTERNAL_ID)
    PersonFactory(territory=world["territory"], last_name="Martin", first_name="Léa",
                  birth_date=date(1990, 2, 1), internal_id="")
    job = commit(job, admin)
    assert job.status == ImportStatus.FAILED and "relancez la vérification" in job.error_message
    assert Person.objects.filter(first_name="Léa").count() == 1


def test_update_of_a_person_no_longer_followed_is_refused(world):
    other_admin = membership_of(make_professional(Membership.Role.ADMIN, structure=world["other_structure"]))
    job = validate(upload(other_admin, csv_bytes([camille_row(world["person"])])), other_admin, match_key=NAMES)
    assert job.update_count == 1
    FollowUpMembership.objects.filter(user=world["member"]).update(end_date=timezone.localdate())
    job = commit(job, other_admin)
    assert job.status == ImportStatus.FAILED
    assert "ne sont plus suivies par votre structure depuis la vérification" in job.error_message
    world["person"].refresh_from_db()
    assert world["person"].email == PERSON_EMAIL


# --- Finding 7: a finished import keeps neither the file nor the cells ---------------------------


def _assert_discarded(job, path):
    job.refresh_from_db()
    assert not os.path.exists(path)
    assert not job.file
    for values in ImportRow.objects.filter(job=job).values("raw", "cleaned", "diff", "key", "nir"):
        assert values == {"raw": {}, "cleaned": {}, "diff": {}, "key": "", "nir": ""}


def test_commit_deletes_the_file_and_blanks_the_rows(world, admin, client_for, django_capture_on_commit_callbacks):
    rows = [["D1", "MARTIN", "Léa", "01/02/1990", NIR_1, "", "lea@example.org", "oui"], camille_row(world["person"]),
            ["D3", "Petit", "Anna", "31/02/1990", "", "", "", ""]]
    job = validate(upload(admin, csv_bytes(rows)), admin, match_key=NAMES)
    services.drop_row(job=job, row=row(job, 4), membership=admin)
    path = job.file.path
    assert os.path.exists(path)
    with django_capture_on_commit_callbacks(execute=True):
        job = commit(job, admin)
    assert job.status == ImportStatus.COMMITTED, job.error_message
    _assert_discarded(job, path)
    # What the import did is kept: lines, actions, errors, targets, counts.
    assert [(r.line, r.action) for r in job.rows.order_by("line")] == [
        (2, RowAction.CREATE), (3, RowAction.UPDATE), (4, RowAction.DROPPED)]
    assert row(job, 2).target_id == Person.objects.get(nir=NIR_1).pk and row(job, 3).target_id == world["person"].pk
    assert "date illisible" in row(job, 4).errors["birth_date"]
    assert (job.create_count, job.update_count, job.dropped_count) == (1, 1, 1)
    html = client_for(world["admin_ref"]).get(f"/imports/{job.pk}/").content.decode()
    assert "Import terminé" in html and "ont été effacés après l'import" in html
    assert NIR_1 not in html and "lea@example.org" not in html


def test_cancel_deletes_the_file_and_blanks_the_rows(world, admin, client_for, django_capture_on_commit_callbacks):
    job = validate(upload(admin, csv_bytes([["D1", "MARTIN", "Léa", "01/02/1990", NIR_1, "", "", "oui"]])), admin)
    path = job.file.path
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world["admin_ref"]).post(f"/imports/{job.pk}/annuler/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    _assert_discarded(job, path)
    assert row(job, 2).action == RowAction.CREATE


def test_failed_commit_keeps_the_file_to_validate_again(world, admin, django_capture_on_commit_callbacks):
    job = validate(upload(admin, csv_bytes([camille_row(world["person"])])), admin, match_key=NAMES)
    FollowUpMembership.objects.filter(person=world["person"]).update(end_date=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        job = commit(job, admin)
    assert job.status == ImportStatus.FAILED
    assert os.path.exists(job.file.path) and row(job, 2).raw["email"] == NEW_EMAIL


# --- Finding 8: a failed professionals import invites nobody -------------------------------------


def test_failed_professionals_commit_sends_no_invitation(world, admin, django_capture_on_commit_callbacks):
    header = ["Courriel", "Prénom", "Nom", "Rôle"]
    rows = [["nouveau@tremplin.example", "Nadia", "Nouvelle", "Référent"],
            ["mona@ml-ouest.example", "Mona", "Membre", "référente"]]
    job = validate(upload(admin, csv_bytes(rows, header=header), kind="professionals"), admin)
    assert job.to_commit_count == 2
    # Mona joins the structure by hand before the commit: the second invitation fails, all is rolled back.
    Membership.objects.create(user=world["member"], structure=world["ref_structure"], role=Membership.Role.REFERENT)
    with django_capture_on_commit_callbacks(execute=True):
        job = commit(job, admin)
    assert job.status == ImportStatus.FAILED and "ligne 3" in job.error_message
    assert mail.outbox == []
    assert not Membership.objects.filter(user__email="nouveau@tremplin.example").exists()
