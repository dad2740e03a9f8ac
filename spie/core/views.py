"""Health check and the "À propos et sources" page."""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.shortcuts import render

from .policies import PUBLIC, view_policy


@view_policy(PUBLIC, login=False)
def healthz(request):
    """JSON health: database reachable, migrations applied, version. 503 when not healthy."""
    status = {"version": settings.VERSION, "database": False, "migrations": False}
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["database"] = True
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        status["migrations"] = not pending
        if pending:
            status["pending_migrations"] = len(pending)
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        status["error"] = exc.__class__.__name__
    healthy = status["database"] and status["migrations"]
    status["status"] = "ok" if healthy else "error"
    return JsonResponse(status, status=200 if healthy else 503)


@view_policy(PUBLIC, login=False)
def about(request):
    from spie.referentials.sources import SOURCES

    return render(request, "core/about.html", {"sources": SOURCES})
