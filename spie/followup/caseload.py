"""The caseload ("file active") views' shared parts: filters, sort whitelist, counts and export.

Two caseloads use them:

- a professional's own (the home page): persons in whose follow-up group they are active;
- a structure's (``/structure/file-active/``), for its admins: persons with an active follow-up
  membership on behalf of the structure, whose record the admin may open
  (:func:`spie.people.policies.access_for`: not when the person opposes sharing, unless the
  référent unique belongs to the structure).

Everything here is a queryset or one aggregate query: counts by status, public and alert, per
professional, and a streamed export (rows from ``.iterator()``, person ids for the access log
from a ``values_list`` iterator), so no page's query count grows with the caseload.
"""

from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Lower

from spie.core.audit import log_export
from spie.core.exports import export_response
from spie.network.models import Membership
from spie.people.models import Consent, FollowUpMembership, Person
from spie.people.selectors import PUBLIC_FILTERS, name_query

from . import alerts

STATUS_ORDER = list(Person.Status.values)

# Sort whitelist: URL value (``?tri=``) -> column title. A "-" prefix sorts descending.
SORTS = {
    "nom": "Nom",
    "entree": "Entrée dans le parcours",
    "contact": "Dernier contact",
    "statut": "Situation",
}
DEFAULT_SORT = "nom"


def _status_rank():
    return Case(
        *[When(status=code, then=Value(i)) for i, code in enumerate(STATUS_ORDER)],
        default=Value(len(STATUS_ORDER)), output_field=IntegerField(),
    )


def _sort_expressions(key, descending):
    if key == "nom":
        # An expression (keys are already lower-case, so the order is the same) makes the
        # database sort the caseload itself instead of walking the territory's name index.
        fields = [Lower("last_name_key"), Lower("first_name_key")]
    elif key == "entree":
        fields = [F("entered_on")]
    elif key == "contact":
        fields = [F("last_contact_on")]
    else:
        fields = [_status_rank()]
    ordered = [f.desc(nulls_last=True) if descending else f.asc(nulls_first=True) for f in fields]
    if key != "nom":  # ties by name
        ordered += [Lower("last_name_key").asc(), Lower("first_name_key").asc()]
    ordered.append(F("id").desc() if descending else F("id").asc())  # pages never overlap
    return ordered


@dataclass
class CaseloadFilters:
    """The filters and sort of a caseload page, read from the query string (whitelisted: an
    unknown value is ignored, never passed to the database)."""

    status: str = ""
    public: str = ""
    alert: str = ""
    query: str = ""
    role: str = ""
    professional: int | None = None
    sort: str = DEFAULT_SORT
    descending: bool = False

    @classmethod
    def from_query(cls, params):
        status = params.get("statut", "")
        public = params.get("public", "")
        alert = params.get("alerte", "")
        role = params.get("role", "")
        sort = params.get("tri", "") or DEFAULT_SORT
        descending = sort.startswith("-")
        sort = sort[1:] if descending else sort
        try:
            professional = int(params.get("pro") or 0) or None
        except (TypeError, ValueError):
            professional = None
        return cls(
            status=status if status in Person.Status.values else "",
            public=public if public in PUBLIC_FILTERS else "",
            alert=alert if alert in alerts.KINDS else "",
            query=(params.get("q") or "").strip()[:100],
            role=role if role in FollowUpMembership.Kind.values else "",
            professional=professional,
            sort=sort if sort in SORTS else DEFAULT_SORT,
            descending=descending and sort in SORTS,
        )

    @property
    def active(self):
        """True when the list is narrowed (the page then counts it again)."""
        return bool(self.status or self.public or self.alert or self.query or self.role or self.professional)

    @property
    def sort_param(self):
        return f"-{self.sort}" if self.descending else self.sort

    def sort_links(self, params):
        """Per sortable column: the link that sorts on it (a second click reverses the order),
        keeping the filters, and the current direction for ``aria-sort``."""
        links = {}
        for key, title in SORTS.items():
            current = self.sort == key
            links[key] = {
                "title": title,
                "url": link(params, tri=f"-{key}" if current and not self.descending else key),
                "current": current,
                "aria": ("descending" if self.descending else "ascending") if current else "none",
            }
        return links


def narrow(qs, filters, scope):
    """Apply the filters that do not depend on the caseload's kind (status, public, alert, name)."""
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.public:
        qs = qs.filter(PUBLIC_FILTERS[filters.public][1]())
    if filters.alert:
        qs = qs.filter(pk__in=alerts.person_ids(scope, filters.alert))
    if filters.query:
        qs = qs.filter(name_query(filters.query))
    return qs


def order(qs, filters):
    return qs.order_by(*_sort_expressions(filters.sort, filters.descending))


# --- Counts -------------------------------------------------------------------------------


def count_aggregates():
    """Aggregates by status and public, for ``Person`` querysets (one query)."""
    aggregates = {"total": Count("id")}
    for code in STATUS_ORDER:
        aggregates[f"status_{code}"] = Count("id", filter=Q(status=code))
    for key, (_label, condition) in PUBLIC_FILTERS.items():
        aggregates[key] = Count("id", filter=condition())
    return aggregates


def status_rows(counts):
    """``[(code, label, n)]`` in pathway order, from :func:`count_aggregates` results."""
    return [(code, label, counts.get(f"status_{code}", 0)) for code, label in Person.Status.choices]


def public_rows(counts):
    return [(key, label, counts.get(key, 0)) for key, (label, _c) in PUBLIC_FILTERS.items()]


def alert_rows_of(summary):
    """``[(code, label, alerts, persons)]`` in the order of :data:`alerts.KINDS`."""
    return [(code, alerts.label(code), n, persons) for code, (n, persons) in summary.items()]


def link(params, **changes):
    """A query string: ``params`` (a QueryDict) with ``changes`` applied (an empty value removes
    the key), without the page and the export format."""
    query = params.copy()
    for key in ("page", "format"):
        query.pop(key, None)
    for key, value in changes.items():
        query.pop(key, None)
        if value not in ("", None):
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def count_links(params, rows, key):
    """Rows ``(code, label, n, …)`` with the link that filters the list on ``code`` (a second
    click on the active filter removes it)."""
    current = params.get(key, "")
    return [
        {"code": row[0], "label": row[1], "n": row[2], "extra": row[3:], "active": current == row[0],
         "url": link(params, **{key: "" if current == row[0] else row[0]})}
        for row in rows
    ]


def count_context(params, counts, summary):
    """The clickable counts of a caseload page: by status, by public, by alert (persons)."""
    return {
        "status_links": count_links(params, status_rows(counts), "statut"),
        "public_links": count_links(params, public_rows(counts), "public"),
        "alert_links": count_links(
            params, [(code, label, persons) for code, label, _n, persons in alert_rows_of(summary)], "alerte"
        ),
    }


# --- The structure caseload -----------------------------------------------------------------


def can_see_structure_caseload(membership):
    """Only a structure admin, for the structure of their active membership."""
    return membership is not None and membership.role == Membership.Role.ADMIN


def structure_caseload(membership):
    """Persons followed on behalf of the admin's active structure whose record the admin may
    open (same rule as :func:`spie.people.policies.access_for` for a structure admin)."""
    structure = membership.structure
    in_structure = FollowUpMembership.objects.filter(
        person=OuterRef("pk"), structure_id=structure.pk, end_date__isnull=True
    )
    latest_sharing = Consent.objects.filter(person=OuterRef("pk"), scope=Consent.Scope.SHARING).order_by(
        "-given_on", "-id"
    ).values("status")[:1]
    referent_structure = FollowUpMembership.objects.filter(
        person=OuterRef("pk"), kind=FollowUpMembership.Kind.REFERENT, end_date__isnull=True
    ).values("structure_id")[:1]
    restricted = (Consent.Status.OPPOSED, Consent.Status.WITHDRAWN)
    return (
        Person.objects.filter(territory_id=structure.territory_id)
        .filter(Exists(in_structure))
        .alias(sharing=Subquery(latest_sharing), referent_structure=Subquery(referent_structure))
        .filter(
            Q(sharing__isnull=True) | ~Q(sharing__in=restricted) | Q(referent_structure=structure.pk)
        )
    )


def per_professional(membership, persons):
    """``[(user, n)]``: persons of ``persons`` followed by each professional on behalf of the
    structure (two queries), most first."""
    from spie.network.models import User

    rows = list(
        FollowUpMembership.objects.filter(
            structure_id=membership.structure_id, end_date__isnull=True, person__in=persons.order_by().values("pk")
        )
        .values("user_id")
        .annotate(n=Count("person_id", distinct=True))
        .order_by("-n", "user_id")
    )
    users = User.objects.only("pk", "first_name", "last_name", "email").in_bulk([row["user_id"] for row in rows])
    return [(users[row["user_id"]], row["n"]) for row in rows if row["user_id"] in users]


# --- Export ---------------------------------------------------------------------------------

EXPORT_HEADER = ["Nom", "Prénom", "Date de naissance", "Commune", "Situation dans le parcours", "Droits",
                 "Publics", "Entrée dans le parcours", "Dernier contact", "Sortie du parcours"]


def export(request, fmt, qs, *, filename, reason, extra_header=(), extra=None):
    """Stream the caseload ``qs`` (already filtered and ordered) as CSV or XLSX; every person
    named is written to the access log first (from a ``values_list`` iterator)."""
    log_export(request, qs.values_list("pk", flat=True).iterator(chunk_size=2000), reason=reason)
    header = EXPORT_HEADER + list(extra_header)

    def rows():
        for p in qs.select_related("commune").iterator(chunk_size=1000):
            row = [p.last_name.upper(), p.first_name, p.birth_date, p.commune.name if p.commune else "",
                   p.get_status_display(), p.rights_labels, p.publics, p.entered_on, p.last_contact_on,
                   p.exited_on]
            if extra:
                row += extra(p)
            yield row

    return export_response(fmt, filename, header, rows(), sheet_title="File active")
