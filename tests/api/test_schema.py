"""OpenAPI schema, Swagger UI with local assets, and a declared policy on every API route."""

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from spie.core.policies import declared_policy


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    # --fail-on-warn raises SchemaGenerationError on any warning.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in (
        "/api/v1/persons/", "/api/v1/persons/{id}/", "/api/v1/persons/{id}/health/",
        "/api/v1/persons/{id}/access-log/", "/api/v1/persons/{id}/timeline/",
        "/api/v1/structures/", "/api/v1/structures/{id}/", "/api/v1/memberships/", "/api/v1/directory/",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/persons/"]) == {"get", "post"}
    assert set(paths["/api/v1/persons/{id}/"]) == {"get", "patch"}
    assert "409" in paths["/api/v1/persons/"]["post"]["responses"]
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


@pytest.mark.django_db
def test_schema_endpoint_serves_the_schema():
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/persons/" in response.content


@pytest.mark.django_db
def test_docs_use_local_assets():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
    assert "/api/schema/" in html


def _api_routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _api_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_api_route_declares_its_policy():
    routes = [(route, cb) for route, cb in _api_routes(get_resolver().url_patterns) if route.startswith("api/")]
    assert len(routes) >= 10
    assert [route for route, cb in routes if declared_policy(cb) is None] == []
    policies = {declared_policy(cb) for _route, cb in routes}
    assert {"people.record", "network.directory", "network.structures", "network.own_memberships"} <= policies
    # The record's sections carry a finer name on their route.
    by_route = {route: cb for route, cb in routes}
    health = next(cb for route, cb in by_route.items() if route.endswith("/health/$"))
    assert health.initkwargs["spie_policy"] == "people.health"
