"""Reads for the network directory and structure pages, with a constant number of queries."""

from django.db.models import Count, F, Q, TextField, Value
from django.db.models.functions import Cast
from django.db.models.lookups import Contains
from django.utils import timezone

from spie.core.text import fold_words

from .models import Membership, Structure


def directory(territory, *, query="", kind="", role="", theme="", public="", epci=""):
    today = timezone.localdate()
    qs = Membership.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today),
        is_active=True, start_date__lte=today,
        user__is_active=True, structure__territory=territory, structure__is_active=True,
    ).select_related("user", "structure", "structure__commune")
    if query:
        for word in fold_words(query).split():
            qs = qs.filter(
                Q(user__search_key__contains=word) | Q(structure__search_key__contains=word)
                | Q(search_key__contains=word)
            )
    if kind:
        qs = qs.filter(structure__kind=kind)
    if role:
        qs = qs.filter(role=role)
    if theme:
        qs = qs.filter(json_list_contains("themes", theme) | json_list_contains("structure__themes", theme))
    if public:
        qs = qs.filter(json_list_contains("publics", public) | json_list_contains("structure__publics", public))
    if epci:
        qs = qs.filter(structure__commune__epci_siren=epci)
    return qs.order_by("user__last_name", "user__first_name", "structure__name", "id")


def json_list_contains(field, value):
    """``field`` (a JSON list of codes) contains ``value``: the one seam between databases.

    PostgreSQL uses jsonb containment; SQLite, which lacks it, matches the quoted code in the
    JSON text (codes are slugs, so a quoted match is exact).
    """
    from django.db import connection

    if connection.features.supports_json_field_contains:
        return Q(**{f"{field}__contains": [value]})
    return Q(Contains(Cast(F(field), TextField()), Value(f'"{value}"')))


def structures(territory, *, query="", kind=""):
    qs = Structure.objects.filter(territory=territory, is_active=True).select_related("commune")
    if query:
        for word in fold_words(query).split():
            qs = qs.filter(search_key__contains=word)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.annotate(
        member_count=Count("memberships", filter=Q(memberships__is_active=True), distinct=True)
    ).order_by("name")
