"""API v1 of the staged imports: upload, mapping, rows (fix, drop), commit; access rules."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from spie.imports.models import ImportJob
from spie.network.models import Membership
from spie.people.models import Person
from tests.imports.utils import NIR_1, csv_bytes
from tests.network.factories import make_professional
from tests.pathways.conftest import _media_root, world  # noqa: F401 - fixtures of the pathways tests

from .conftest import token_client

ROWS = [["D1", "MARTIN", "Léa", "01/02/1990", NIR_1, "", "", "oui"],
        ["D2", "Durand", "Paul", "31/02/1985", "", "", "", "non"]]


def _upload(client, content=None):
    return client.post("/api/v1/imports/", {"kind": "persons",
                                            "file": SimpleUploadedFile("rsa.csv", content or csv_bytes(ROWS))},
                       format="multipart")


def test_api_import_journey(world, django_capture_on_commit_callbacks):  # noqa: F811 - the fixture imported above
    client = token_client(world["admin_ref"])
    response = _upload(client)
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "uploaded" and job["mapping"]["birth_date"] == "Date naiss."
    assert job["encoding"] == "utf-8" and job["separator"] == ";"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/imports/{job['id']}/mapping/",
                               {"mapping": job["mapping"], "match_key": "internal_id"}, format="json")
    assert response.status_code == 202, response.content
    state = client.get(f"/api/v1/imports/{job['id']}/").json()
    assert (state["status"], state["create_count"], state["error_count"]) == ("ready", 1, 1)
    errors = client.get(f"/api/v1/imports/{job['id']}/rows/?status=error").json()
    assert errors["count"] == 1
    bad = errors["results"][0]
    assert bad["errors"]["birth_date"].startswith("Ligne 3, colonne « Date naiss. » : date illisible")
    refused = client.post(f"/api/v1/imports/{job['id']}/commit/")
    assert refused.status_code == 400 and "en erreur" in str(refused.json())
    fixed = client.patch(f"/api/v1/imports/{job['id']}/rows/{bad['id']}/", {"values": {"birth_date": "28/02/1985"}},
                         format="json")
    assert fixed.status_code == 200 and fixed.json()["action"] == "create"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/imports/{job['id']}/commit/")
    assert response.status_code == 202
    assert client.get(f"/api/v1/imports/{job['id']}/").json()["status"] == "committed"
    assert Person.objects.filter(internal_id__in=["D1", "D2"]).count() == 2
    listing = client.get("/api/v1/imports/").json()
    assert [j["id"] for j in listing["results"]] == [job["id"]]


def test_api_mapping_errors_are_french(world):  # noqa: F811 - the fixture imported above
    client = token_client(world["admin_ref"])
    job = _upload(client).json()
    response = client.post(f"/api/v1/imports/{job['id']}/mapping/", {"mapping": {"last_name": "Nom"}}, format="json")
    assert response.status_code == 400
    assert "Associez une colonne à chaque champ obligatoire" in response.json()["mapping"][0]
    bad_kind = client.post("/api/v1/imports/", {"kind": "chats", "file": SimpleUploadedFile("a.csv", b"a;b\n1;2\n")},
                           format="multipart")
    assert bad_kind.status_code == 400 and "Valeur inconnue" in bad_kind.json()["kind"][0]


def test_api_drop_row(world, django_capture_on_commit_callbacks):  # noqa: F811 - the fixture imported above
    client = token_client(world["admin_ref"])
    job = _upload(client).json()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/v1/imports/{job['id']}/mapping/", {"mapping": job["mapping"]}, format="json")
    bad = client.get(f"/api/v1/imports/{job['id']}/rows/?status=error").json()["results"][0]
    response = client.patch(f"/api/v1/imports/{job['id']}/rows/{bad['id']}/", {"dropped": True}, format="json")
    assert response.json()["action"] == "dropped"
    assert client.get(f"/api/v1/imports/{job['id']}/").json()["error_count"] == 0


@pytest.mark.parametrize("who", ["referent", "officer", "coordinator"])
def test_api_non_admins_get_403_and_404(world, who):  # noqa: F811 - the fixture imported above
    job = _upload(token_client(world["admin_ref"])).json()
    client = token_client(world[who])
    assert client.get("/api/v1/imports/").status_code == 403
    assert _upload(client).status_code == 403
    assert client.get(f"/api/v1/imports/{job['id']}/").status_code == 404
    assert client.post(f"/api/v1/imports/{job['id']}/commit/").status_code == 404


def test_api_other_structure_admin_gets_404(world):  # noqa: F811 - the fixture imported above
    job = _upload(token_client(world["admin_ref"])).json()
    other = token_client(make_professional(Membership.Role.ADMIN, structure=world["other_structure"]))
    assert other.get(f"/api/v1/imports/{job['id']}/").status_code == 404
    assert other.get(f"/api/v1/imports/{job['id']}/rows/").status_code == 404
    assert other.get("/api/v1/imports/").json()["count"] == 0
    assert ImportJob.objects.count() == 1


def test_api_requires_authentication(world):  # noqa: F811 - the fixture imported above
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/imports/").status_code in (401, 403)
