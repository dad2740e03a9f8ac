"""Download of the published catalogue in the data·inclusion v1 format (JSON or CSV).

``/catalogue/export/?format=json|csv[&territoire=31]``: public, like the catalogue page. The
actions' contact details (name, e-mail, phone) are only in the file for logged-in
professionals (``policies.can_see_contacts``); the file names no person, so no access log.
The file is streamed: the catalogue of a département (thousands of actions) never sits in
memory. The search page links here in its « Télécharger le catalogue » section.
"""

import csv

from django.conf import settings
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone

from spie.core.exports import neutralise
from spie.core.policies import view_policy
from spie.network.models import Territory

from .. import interop, policies

FORMATS = ("json", "csv")


def export_territory(request):
    """The territory asked (``?territoire=31``), else the active membership's, else the
    platform's (``settings.SPIE_TERRITORY``), else the first one."""
    code = (request.GET.get("territoire") or "").strip()
    if code:
        territory = Territory.objects.filter(code=code).first()
        if territory is None:
            raise Http404("Territoire inconnu.")
        return territory
    membership = getattr(request, "membership", None)
    if membership is not None:
        return membership.structure.territory
    return (
        Territory.objects.filter(code=settings.SPIE_TERRITORY).first()
        or Territory.objects.order_by("code").first()
    )


class _Echo:
    def write(self, value):
        return value


# Columns holding JSON numbers: written as they are (``-1.55`` is no formula, and stays a number).
NUMBER_COLUMNS = frozenset(key for key in interop.CSV_COLUMNS if interop.json_types(key) & {"number", "integer"})


def csv_stream(actions, with_contacts, *, base_url):
    """The CSV file: UTF-8 with a byte-order mark, semicolons (as the platform's other exports);
    text cells a spreadsheet would run are neutralised (CWE-1236), the import reads them back."""
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff"
    yield writer.writerow(interop.CSV_COLUMNS)
    for row in interop.catalogue_csv_rows(actions, with_contacts, base_url=base_url):
        yield writer.writerow([cell if key in NUMBER_COLUMNS else neutralise(cell)
                               for key, cell in zip(interop.CSV_COLUMNS, row, strict=True)])


@view_policy("catalogue.export", login=False)
def export(request):
    fmt = (request.GET.get("format") or "json").strip().lower()
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            f"Format inconnu « {fmt[:20]} » : choisissez « json » ou « csv ».".encode(),
            content_type="text/plain; charset=utf-8",
        )
    territory = export_territory(request)
    if territory is None:
        raise Http404("Aucun territoire.")
    with_contacts = policies.can_see_contacts(request.user)
    base_url = request.build_absolute_uri("/")[:-1]
    actions = interop.catalogue_queryset(territory)
    if fmt == "json":
        response = StreamingHttpResponse(
            interop.catalogue_json(actions, with_contacts, base_url=base_url),
            content_type="application/json; charset=utf-8",
        )
    else:
        response = StreamingHttpResponse(csv_stream(actions, with_contacts, base_url=base_url),
                                         content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="catalogue-{interop.territory_source(territory)}-{stamp}.{fmt}"'
    )
    # The file differs for a logged-in professional (contacts): never shared by a cache.
    response["Cache-Control"] = "private, no-store"
    response["Vary"] = "Cookie"
    return response


urlpatterns = [
    path("export/", export, name="export"),
]
