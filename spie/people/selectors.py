"""Non-trivial reads on persons: caseload, search, duplicates, a record's page data.

Every function keeps a constant number of queries whatever the number of persons or group
members (tests/people/test_query_counts.py).
"""

import datetime
import re
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from spie.core.models import AccessLog
from spie.core.text import fold, prefix_range

from . import policies
from .models import (
    Consent,
    FollowUpMembership,
    JoinRequest,
    Person,
    TimelineEvent,
    birth_date_bounds_for_age,
)

# Public filters of the caseload, computed from data (never typed twice).
PUBLIC_FILTERS = {
    "moins26": ("Moins de 26 ans", lambda: Q(**birth_date_bounds_for_age(max_age=25))),
    "plus50": ("50 ans et plus", lambda: Q(**birth_date_bounds_for_age(min_age=50))),
    "rsa": ("Bénéficiaires du RSA", lambda: Q(rsa=True)),
    "droits_devoirs": ("Soumis aux droits et devoirs", lambda: Q(rsa_droits_devoirs=True)),
    "parent_isole": ("Parents isolés", lambda: Q(lone_parent=True)),
}


def active_referent_prefetch():
    return Prefetch(
        "followups",
        queryset=FollowUpMembership.objects.filter(end_date__isnull=True).select_related("user", "structure"),
        to_attr="active_followups",
    )


def caseload(user, membership, *, kind=None, public=None, commune=None, query=None):
    """Persons in whose follow-up group ``user`` is active, in the active territory.

    The membership conditions go in one ``filter()`` call so they apply to the same
    follow-up row (one active row per user and person, enforced by the database).
    """
    conditions = policies.visible_persons_filter(user, membership)
    if kind in {FollowUpMembership.Kind.REFERENT, FollowUpMembership.Kind.MEMBER}:
        conditions["followups__kind"] = kind
    qs = Person.objects.filter(**conditions)
    if public in PUBLIC_FILTERS:
        qs = qs.filter(PUBLIC_FILTERS[public][1]())
    if commune:
        qs = qs.filter(commune_id=commune)
    if query:
        qs = qs.filter(name_query(query))
    return qs


def caseload_counts(user, membership):
    """Counts for the home page, in one aggregate query: total, as référent unique, by status
    (``status_<code>``) and by public (the keys of :data:`PUBLIC_FILTERS`)."""
    base = Person.objects.filter(**policies.visible_persons_filter(user, membership))
    aggregates = {
        "total": Count("id"),
        "referent": Count("id", filter=Q(followups__kind=FollowUpMembership.Kind.REFERENT)),
    }
    for code in Person.Status.values:
        aggregates[f"status_{code}"] = Count("id", filter=Q(status=code))
    for key, (_label, condition) in PUBLIC_FILTERS.items():
        aggregates[key] = Count("id", filter=condition())
    return base.aggregate(**aggregates)


def territory_overview(territory):
    """Aggregates for coordinators: counts only, never a list of persons."""
    from spie.network.models import Membership, Structure

    aggregates = {"total": Count("id")}
    for key, (_label, condition) in PUBLIC_FILTERS.items():
        aggregates[key] = Count("id", filter=condition())
    persons = Person.objects.filter(territory=territory).aggregate(**aggregates)
    by_kind = list(
        FollowUpMembership.objects.filter(
            person__territory=territory, end_date__isnull=True, kind=FollowUpMembership.Kind.REFERENT
        )
        .values("structure__kind")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    kind_labels = dict(Structure.Kind.choices)
    for row in by_kind:
        row["label"] = kind_labels.get(row["structure__kind"], row["structure__kind"])
        row["share"] = round(100 * row["n"] / persons["total"], 1) if persons["total"] else 0
    return {
        "persons": persons,
        "by_kind": by_kind,
        "structures": Structure.objects.filter(territory=territory, is_active=True).count(),
        "professionals": Membership.objects.filter(structure__territory=territory, is_active=True)
        .values("user").distinct().count(),
    }


def _prefix(field, key):
    low, high = prefix_range(key)
    condition = Q(**{f"{field}__gte": low})
    return condition & Q(**{f"{field}__lt": high}) if high else condition


def _any_name_prefix(key):
    return _prefix("last_name_key", key) | _prefix("first_name_key", key)


def name_query(query):
    """Q matching every word of ``query`` as a prefix of the last or first name (folded).

    Compound surnames are folded without spaces ("Da Silva" -> "dasilva"), so the first
    words taken together may also be the start of the last name ("da silva mar").
    """
    words = [key for key in (fold(word) for word in query.split()[:6]) if key]
    if not words:
        return Q()
    condition = Q()
    for key in words:
        condition &= _any_name_prefix(key)
    for k in range(2, len(words) + 1):
        compound = _prefix("last_name_key", "".join(words[:k]))
        for key in words[k:]:
            compound &= _prefix("first_name_key", key)
        condition |= compound
    return condition


_NIR = re.compile(r"[1-478]\d{4}(\d{2}|2[AB])\d{8}")
_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_date(text):
    match = _DATE.match(text)
    try:
        if match:
            return datetime.date(int(match[3]), int(match[2]), int(match[1]))
        match = _ISO_DATE.match(text)
        if match:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None


@dataclass
class SearchResult:
    person: Person
    access: policies.Access
    referent: FollowUpMembership | None


def search_persons(user, membership, query, *, limit=50):
    """Persons of the active territory matching ``query``: names, birth date or identifiers.

    Returns at most ``limit`` results with the access each allows (card or record), so the
    page shows the directory card and "demander à rejoindre" for persons one does not follow.
    """
    query = (query or "").strip()
    if not query or membership is None:
        return []
    territory_id = membership.structure.territory_id
    qs = Person.objects.filter(territory_id=territory_id)
    words, dates, identifiers = [], [], []
    compact = query.replace(" ", "").upper()
    if _NIR.fullmatch(compact):
        query = compact  # a NIR typed with spaces
    for token in query.split():
        parsed = parse_date(token)
        if parsed:
            dates.append(parsed)
        elif any(ch.isdigit() for ch in token):
            identifiers.append(token.replace(" ", "").upper())
        else:
            words.append(token)
    if not (words or dates or identifiers):
        return []
    if words:
        qs = qs.filter(name_query(" ".join(words)))
    for day in dates:
        qs = qs.filter(birth_date=day)
    for ident in identifiers:
        qs = qs.filter(
            Q(nir=ident) | Q(caf_number=ident) | Q(msa_number=ident)
            | Q(france_travail_id=ident) | Q(internal_id=ident)
        )
    return search_results_for(
        user, membership, qs.order_by("last_name_key", "first_name_key", "birth_date", "id")[:limit]
    )


def search_results_for(user, membership, persons):
    """Wrap persons (a queryset or list) with the access each allows, in constant queries."""
    ids = [p.pk for p in persons]
    persons = (
        Person.objects.filter(pk__in=ids)
        .select_related("commune")
        .prefetch_related(
            active_referent_prefetch(),
            Prefetch("consents", queryset=Consent.objects.filter(scope=Consent.Scope.SHARING), to_attr="sharing"),
        )
        .order_by("last_name_key", "first_name_key", "birth_date", "id")
    )
    results = []
    for person in persons:
        access = policies.access_for(
            user, membership, person, followups=person.active_followups, consents=person.sharing
        )
        referent = next((f for f in person.active_followups if f.kind == FollowUpMembership.Kind.REFERENT), None)
        results.append(SearchResult(person, access, referent))
    return results


def possible_duplicates(territory, *, first_name, last_name, birth_date, nir=""):
    """Existing persons matching by NIR, or by folded names + birth date (duplicate guard)."""
    condition = Q(last_name_key=fold(last_name), first_name_key=fold(first_name), birth_date=birth_date)
    nir = (nir or "").replace(" ", "").upper()
    if nir:
        condition |= Q(nir=nir)
    return list(Person.objects.filter(condition, territory=territory).select_related("commune")[:10])


def person_for_record(person_id):
    """The person with everything the record page shows, in a fixed number of queries."""
    return (
        Person.objects.select_related("commune", "territory", "created_by")
        .prefetch_related(
            Prefetch(
                "followups",
                queryset=FollowUpMembership.objects.filter(end_date__isnull=True).select_related(
                    "user", "structure"
                ),
                to_attr="active_followups",
            ),
            Prefetch("consents", queryset=Consent.objects.select_related("recorded_by"), to_attr="all_consents"),
        )
        .filter(pk=person_id)
        .first()
    )


def recent_timeline(person, limit=20):
    return list(TimelineEvent.objects.filter(person=person).select_related("actor", "structure")[:limit])


def recent_access_log(person, limit=10):
    return list(AccessLog.objects.filter(person=person).select_related("user", "structure")[:limit])


def pending_join_requests(person):
    return list(
        JoinRequest.objects.filter(person=person, status=JoinRequest.Status.PENDING).select_related(
            "requester", "structure"
        )
    )


def followup_history(person):
    return list(
        FollowUpMembership.objects.filter(person=person, end_date__isnull=False)
        .select_related("user", "structure")
        .order_by("-end_date")[:50]
    )


def today():
    return timezone.localdate()
