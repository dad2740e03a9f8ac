"""Import pages: the whole journey through the pages, access rules, query counts, exports."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spie.core.models import AccessLog
from spie.imports.models import ImportJob, ImportStatus, MatchKey
from spie.network.models import Membership
from spie.people.models import Person
from tests.network.factories import make_professional

from .conftest import membership_of
from .utils import NIR_1, commit, csv_bytes, row, upload, validate


@pytest.fixture
def admin(world):
    return membership_of(world["admin_ref"])


def test_journey_upload_map_fix_commit(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world["admin_ref"])
    assert client.get("/imports/").status_code == 200
    content = csv_bytes([["D1", "MARTIN", "Léa", "01/02/1990", NIR_1, "", "", "oui"],
                         ["D2", "Durand", "Paul", "31/02/1985", "", "", "", "non"]], encoding="cp1252")
    response = client.post("/imports/nouveau/", {"kind": "persons", "file": SimpleUploadedFile("rsa.csv", content)})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/correspondance/"
    page = client.get(f"/imports/{job.pk}/correspondance/")
    assert "Date naiss." in page.content.decode()
    data = {f"col_{t}": h for t, h in job.mapping.items()} | {"match_key": "internal_id",
                                                            "referent": str(world["admin_ref"].pk)}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{job.pk}/correspondance/", data)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.READY and job.error_count == 1
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Ligne 3, colonne « Date naiss. » : date illisible « 31/02/1985 »" in html
    assert "Importer 1 ligne" in html and "disabled" in html
    bad = row(job, 3)
    response = client.post(f"/imports/{job.pk}/lignes/{bad.pk}/",
                           {"action": "fix", f"r{bad.pk}-birth_date": "28/02/1985", f"r{bad.pk}-last_name": "Durand",
                            f"r{bad.pk}-first_name": "Paul", f"r{bad.pk}-internal_id": "D2"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.error_count, job.create_count) == (0, 2)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/importer/")
    job.refresh_from_db()
    assert job.status == ImportStatus.COMMITTED, job.error_message
    assert set(Person.objects.filter(internal_id__in=["D1", "D2"]).values_list("first_name", flat=True)) == {
        "Léa", "Paul"}
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Import terminé" in html and "Ouvrir le dossier" in html


def test_mapping_errors_are_shown_and_keep_the_choices(world, client_for, admin):
    job = upload(admin, csv_bytes([["D1", "MARTIN", "Léa", "01/02/1990", "", "", "", ""]]))
    client = client_for(world["admin_ref"])
    data = {"col_last_name": "Nom", "col_first_name": "Prénom", "match_key": "names_birth_date",
            "referent": str(world["admin_ref"].pk)}
    response = client.post(f"/imports/{job.pk}/correspondance/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Associez une colonne à chaque champ obligatoire : « Date de naissance »" in html
    assert '<option value="Nom" selected>' in html


def test_upload_refuses_a_binary_file(world, client_for):
    client = client_for(world["admin_ref"])
    response = client.post("/imports/nouveau/", {"kind": "persons",
                                                 "file": SimpleUploadedFile("photo.csv", b"\x89PNG\x00\x00\x00")})
    assert response.status_code == 200
    assert "ni un CSV (texte) ni un classeur Excel" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("who", ["referent", "officer", "coordinator", "member"])
def test_non_admins_are_refused(world, client_for, admin, who):
    job = upload(admin, csv_bytes([["D1", "MARTIN", "Léa", "01/02/1990", "", "", "", ""]]))
    client = client_for(world[who])
    assert client.get("/imports/").status_code == 403
    assert client.get("/imports/nouveau/").status_code == 403
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.post(f"/imports/{job.pk}/importer/").status_code == 404


def test_admin_of_another_structure_gets_404_and_rows_are_not_crossed(world, client_for, admin):
    job = validate(upload(admin, csv_bytes([["D1", "MARTIN", "Léa", "31/02/1990", "", "", "", ""]]),
                          name="tremplin-janvier.csv"), admin)
    other_admin = make_professional(Membership.Role.ADMIN, structure=world["other_structure"])
    other = client_for(other_admin)
    assert other.get(f"/imports/{job.pk}/").status_code == 404
    assert other.get(f"/imports/{job.pk}/correspondance/").status_code == 404
    assert other.get(f"/imports/{job.pk}/?format=csv").status_code == 404
    assert other.post(f"/imports/{job.pk}/lignes/{row(job, 2).pk}/", {"action": "drop"}).status_code == 404
    # A row id of another job, under my job's URL: 404 (no IDOR).
    other_job = validate(upload(membership_of(other_admin), csv_bytes([["D1", "X", "Y", "hier", "", "", "", ""]])),
                         membership_of(other_admin))
    mine = client_for(world["admin_ref"])
    assert mine.post(f"/imports/{job.pk}/lignes/{row(other_job, 2).pk}/", {"action": "drop"}).status_code == 404
    assert row(other_job, 2).action == "error"
    assert other.get("/imports/").content.decode().count(job.original_name) == 0


def _preview_queries(client, job):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/imports/{job.pk}/?filtre=a-mettre-a-jour")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_preview_query_count_does_not_grow_with_rows(world, client_for, admin):
    def job_with(n, prefix):
        rows = [[f"{prefix}{i}", f"Nom{prefix}{chr(65 + i)}", "Léa", "01/02/1990", "", "", "", "oui"]
                for i in range(n)]
        first = validate(upload(admin, csv_bytes(rows)), admin, match_key=MatchKey.INTERNAL_ID)
        commit(first, admin)
        changed = [[*r[:7], "non"] for r in rows]
        return validate(upload(admin, csv_bytes(changed)), admin, match_key=MatchKey.INTERNAL_ID)

    client = client_for(world["admin_ref"])
    small, large = job_with(2, "S"), job_with(10, "L")
    assert large.update_count == 10
    assert _preview_queries(client, small) == _preview_queries(client, large)
    # Showing the diff of recorded persons is written to their access log (section "import").
    assert AccessLog.objects.filter(section="import").count() == 2 + 10


def test_error_export_is_neutralised_in_csv_and_xlsx(world, client_for, admin):
    rows = [["=HYPERLINK(\"http://x\")", "+SOMME(A1)", "@moi", "31/02/1990", "", "", "", "-1"]]
    job = validate(upload(admin, csv_bytes(rows)), admin)
    client = client_for(world["admin_ref"])
    response = client.get(f"/imports/{job.pk}/?format=csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response.status_code == 200 and "lignes-en-erreur" in response["Content-Disposition"]
    assert "'=HYPERLINK" in text and "'+SOMME(A1)" in text and "'@moi" in text
    assert "date illisible « 31/02/1990 »" in text
    response = client.get(f"/imports/{job.pk}/?format=xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert {"'=HYPERLINK(\"http://x\")", "'+SOMME(A1)", "'@moi"} <= set(values)


def test_progress_fragment_polls_while_running_and_reloads_when_done(world, client_for, admin):
    job = upload(admin, csv_bytes([["D1", "MARTIN", "Léa", "01/02/1990", "", "", "", ""]]))
    from spie.imports import services

    services.set_mapping(job=job, membership=admin, mapping=job.mapping, enqueue=False)
    client = client_for(world["admin_ref"])
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in html and "<progress" in html
    fragment = client.get(f"/imports/{job.pk}/progression/", HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in fragment
    services.run_validation(job.pk)
    fragment = client.get(f"/imports/{job.pk}/progression/", HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true" and "hx-trigger" not in fragment.content.decode()


def test_drop_and_restore_a_row(world, client_for, admin):
    job = validate(upload(admin, csv_bytes([["D1", "MARTIN", "Léa", "31/02/1990", "", "", "", ""]])), admin)
    client = client_for(world["admin_ref"])
    bad = row(job, 2)
    client.post(f"/imports/{job.pk}/lignes/{bad.pk}/", {"action": "drop"})
    job.refresh_from_db()
    assert (job.error_count, job.dropped_count) == (0, 1)
    client.post(f"/imports/{job.pk}/lignes/{bad.pk}/", {"action": "restore"})
    job.refresh_from_db()
    assert (job.error_count, job.dropped_count) == (1, 0)


def test_cancel(world, client_for, admin):
    job = upload(admin, csv_bytes([["D1", "MARTIN", "Léa", "01/02/1990", "", "", "", ""]]))
    client_for(world["admin_ref"]).post(f"/imports/{job.pk}/annuler/")
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
