"""Exports of the platform's tables to CSV and XLSX.

CSV: semicolon-separated UTF-8 with a byte-order mark, so that a double click opens it
correctly in the spreadsheets French offices use, streamed row by row.
XLSX: written by openpyxl in write-only mode (rows go to a temporary file as they come, memory
stays flat), then streamed from that file, which is unlinked at once.
In both, cells a spreadsheet would execute (leading ``=``, ``+``, ``-``, ``@``, tab or carriage
return) are neutralised with a leading apostrophe (CWE-1236).

A view exports with::

    fmt = export_format(request)
    if fmt:
        log_export(request, person_ids, reason="…")      # when the list names persons
        return export_response(fmt, "nom-du-fichier", header, rows)

where ``rows`` is a lazy iterable (``queryset.iterator(chunk_size=…)``), never a list.
"""

import csv
import os
import tempfile
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell value safe to open in a spreadsheet (formula injection, CWE-1236)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if timezone.is_aware(value) else \
            value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def csv_response(filename, header, rows):
    """A streamed CSV download of ``rows`` (an iterable of sequences) under ``header``."""
    writer = csv.writer(_Echo(), delimiter=";")

    def stream():
        yield "\ufeff"
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([neutralise(cell) for cell in row])

    stamp = timezone.localdate().isoformat()
    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def wants_csv(request):
    return request.GET.get("format") == CSV


def export_format(request):
    """``"csv"`` or ``"xlsx"`` when the request asks for an export (``?format=…``), else None."""
    fmt = request.GET.get("format")
    return fmt if fmt in FORMATS else None


def _xlsx_cell(value):
    """Native numbers and dates in XLSX; everything else as neutralised text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value
    return neutralise(value)


def xlsx_response(filename, header, rows, *, sheet_title="Export"):
    """An XLSX download of ``rows`` under ``header``, built in constant memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    bold = Font(bold=True)
    header_cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=neutralise(title))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_cell(cell) for cell in row])
    handle = tempfile.NamedTemporaryFile(prefix="spie-export-", suffix=".xlsx", delete=False)
    try:
        handle.close()
        workbook.save(handle.name)
        stream = open(handle.name, "rb")  # noqa: SIM115 - closed by FileResponse
    finally:
        os.unlink(handle.name)  # the open handle keeps the data until the response is sent
    stamp = timezone.localdate().isoformat()
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=f"{filename}-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "no-store"
    return response


def export_response(fmt, filename, header, rows, *, sheet_title="Export"):
    """The export of ``rows`` in ``fmt`` (``"csv"`` or ``"xlsx"``)."""
    if fmt == XLSX:
        return xlsx_response(filename, header, rows, sheet_title=sheet_title)
    return csv_response(filename, header, rows)
