"""Commune picker endpoints used by forms (JSON and an htmx ``<option>`` fragment)."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from spie.core.policies import AUTHENTICATED, view_policy

from .selectors import MAX_RESULTS, search_communes


def _query(request):
    """The text typed: ``q``, or the parameter named by ``field`` (htmx sends the input's own name)."""
    query = request.GET.get("q")
    if query is None:
        field = request.GET.get("field")
        if field and field not in {"field", "dep"}:
            query = request.GET.get(field)
    return (query or "").strip()[:150]


def _options(request):
    return search_communes(_query(request), departement=request.GET.get("dep") or None, limit=MAX_RESULTS)


@view_policy(AUTHENTICATED)
@require_GET
def communes(request):
    """``?q=tou&dep=31`` -> ``[{code_insee, name, postal_code, departement, label}]``, at most 20."""
    return JsonResponse([option.as_dict() for option in _options(request)], safe=False)


@view_policy(AUTHENTICATED)
@require_GET
def commune_options(request):
    """``<option>`` elements for the ``<datalist>`` of a ``CommuneField`` (htmx)."""
    return render(request, "referentials/commune_options.html", {"options": _options(request)})
