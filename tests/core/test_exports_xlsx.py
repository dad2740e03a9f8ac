"""The XLSX export helper: a real workbook, bold header, native dates and numbers, formula-like
cells neutralised, and an empty list still gives a valid file with its header."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import RequestFactory

from spie.core.exports import export_format, export_response, xlsx_response

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(response):
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_header_rows_and_types():
    paris = ZoneInfo("Europe/Paris")
    rows = iter([
        ["Éloïse", datetime.date(2026, 1, 31), datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC), 3,
         Decimal("15.5"), True, None, ["RSA", "ARE"]],
    ])
    response = xlsx_response("liste", ["Nom", "Né le", "Vu le", "N", "Heures", "RSA", "Vide", "Droits"], rows,
                             sheet_title="Personnes accompagnées — un titre beaucoup trop long")
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="liste-')
    assert response["Cache-Control"] == "no-store"
    book = workbook(response)
    sheet = book.active
    assert sheet.title == "Personnes accompagnées — un tit"[:31]
    header, line = list(sheet.iter_rows(values_only=True))
    assert header == ("Nom", "Né le", "Vu le", "N", "Heures", "RSA", "Vide", "Droits")
    assert sheet["A1"].font.bold
    assert line[0] == "Éloïse"
    assert line[1] == datetime.datetime(2026, 1, 31)  # a real date cell, not text
    assert sheet["B2"].is_date
    # Aware datetimes are written in local time (Europe/Paris), without a time zone.
    assert line[2] == datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC).astimezone(paris).replace(tzinfo=None)
    assert line[3] == 3 and line[4] == 15.5
    assert line[5] == "oui" and line[6] is None and line[7] == "RSA, ARE"


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+33 6 12 34 56 78", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells_are_neutralised(value):
    book = workbook(xlsx_response("liste", ["=Titre"], [[value]]))
    header, line = list(book.active.iter_rows(values_only=True))
    assert header == ("'=Titre",)
    # (XML stores a carriage return as a line feed: compare what follows the first character.)
    assert line[0][0] == "'" and line[0][2:] == value[1:]
    assert book.active["A2"].data_type == "s"  # text, never a formula


def test_empty_list_gives_the_header_only():
    book = workbook(xlsx_response("vide", ["Nom", "Prénom"], iter([])))
    assert list(book.active.iter_rows(values_only=True)) == [("Nom", "Prénom")]


def test_export_response_and_format_choice():
    factory = RequestFactory()
    assert export_format(factory.get("/", {"format": "xlsx"})) == "xlsx"
    assert export_format(factory.get("/", {"format": "csv"})) == "csv"
    assert export_format(factory.get("/", {"format": "pdf"})) is None
    assert export_format(factory.get("/")) is None
    assert export_response("xlsx", "l", ["A"], [])["Content-Type"] == XLSX_TYPE
    assert export_response("csv", "l", ["A"], [])["Content-Type"].startswith("text/csv")


def test_rows_are_consumed_lazily_once():
    consumed = []

    def rows():
        for i in range(3):
            consumed.append(i)
            yield [i]

    book = workbook(xlsx_response("l", ["N"], rows()))
    assert consumed == [0, 1, 2]
    assert [r[0] for r in book.active.iter_rows(min_row=2, values_only=True)] == [0, 1, 2]
