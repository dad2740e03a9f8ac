import json
from unittest import mock

import pytest


@pytest.mark.django_db
def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert body["database"] is True and body["migrations"] is True
    assert body["version"]


@pytest.mark.django_db
def test_healthz_503_when_migrations_pending(client):
    with mock.patch("django.db.migrations.executor.MigrationExecutor.migration_plan", return_value=[("x", False)]):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["migrations"] is False


@pytest.mark.django_db
def test_healthz_503_when_database_unreachable(client):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=Exception("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["database"] is False
