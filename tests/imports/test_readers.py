"""The files people really have: encodings, separators, XLSX dates, empty rows, date formats."""

from datetime import date, datetime

import pytest

from spie.imports.mapping import auto_map
from spie.imports.readers import (
    UnreadableFile,
    parse_bool,
    parse_date,
    read_csv_bytes,
    read_table,
    read_xlsx,
    sniff_format,
)

from .utils import HEADER, csv_bytes, xlsx_bytes

ROW = ["D1", "Hélène", "Çécile", "01/02/1990", "", "", "", "oui"]


def test_utf8_with_bom_semicolon():
    table = read_csv_bytes(csv_bytes([ROW], bom=True))
    assert table.encoding == "utf-8-sig" and table.separator == ";"
    assert table.headers[0] == "Identifiant"  # no BOM glued to the first header
    assert table.rows == [(2, ROW)]


def test_utf8_without_bom_comma():
    table = read_csv_bytes(csv_bytes([ROW], sep=","))
    assert table.encoding == "utf-8" and table.separator == ","
    assert table.rows[0][1][1] == "Hélène"


def test_windows_1252_accents_and_tab():
    table = read_csv_bytes(csv_bytes([ROW], sep="\t", encoding="cp1252"))
    assert table.encoding == "windows-1252" and table.separator == "\t"
    assert table.headers[2] == "Prénom"
    assert table.rows[0][1][1:3] == ["Hélène", "Çécile"]


def test_quoted_separators_do_not_fool_the_sniffer():
    data = 'Nom,Adresse\r\nDUPONT,"3 rue A; bât. B"\r\n'.encode()
    table = read_csv_bytes(data)
    assert table.separator == "," and table.rows[0][1] == ["DUPONT", "3 rue A; bât. B"]


def test_trailing_empty_rows_and_columns_are_ignored():
    table = read_csv_bytes(csv_bytes([ROW, ROW], trailing_blank=3) + b";;\r\n\r\n")
    assert [line for line, _cells in table.rows] == [2, 3]
    assert len(table.headers) == len(HEADER)


def test_headers_normalised_blank_and_repeated():
    table = read_csv_bytes(b"  Nom  ;;Nom\r\nA;B;C\r\n")
    assert table.headers == ["Nom", "Colonne 2", "Nom (2)"]


def test_xlsx_real_dates_serials_and_empty_rows(tmp_path):
    rows = [
        ["D1", "Martin", "Léa", datetime(1990, 2, 1), "", "", "", "oui"],
        ["D2", "Durand", "Paul", 32874, "", "", "", 1],  # Excel serial of 1990-01-01
        [None] * 8,
        [None] * 8,
    ]
    path = tmp_path / "liste.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    table = read_table(path)
    assert table.file_format == "xlsx"
    assert [line for line, _ in table.rows] == [2, 3]
    assert table.rows[0][1][3] == "1990-02-01"
    assert parse_date(table.rows[1][1][3]) == date(1990, 1, 1)
    assert table.rows[1][1][7] == "1"


def test_content_decides_the_format_not_the_name(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(xlsx_bytes([ROW]))
    assert read_table(path).file_format == "xlsx"
    assert sniff_format(b"\x00\x01binary") is None
    bad = tmp_path / "image.csv"
    bad.write_bytes(b"\x89PNG\x00\x00")
    with pytest.raises(UnreadableFile, match="ni un CSV"):
        read_table(bad)


def test_broken_xlsx_is_a_french_error():
    with pytest.raises(UnreadableFile, match="illisible"):
        read_xlsx(__import__("io").BytesIO(b"PK\x03\x04 not really a zip"))


@pytest.mark.parametrize("text,expected", [
    ("01/02/1990", date(1990, 2, 1)), ("1/2/1990", date(1990, 2, 1)), ("01-02-1990", date(1990, 2, 1)),
    ("01.02.1990", date(1990, 2, 1)), ("1990-02-01", date(1990, 2, 1)), ("1990-02-01 00:00:00", date(1990, 2, 1)),
    ("32874", date(1990, 1, 1)), ("32874.0", date(1990, 1, 1)),
])
def test_dates_accepted(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/1990", "1990/13/01", "hier", "12/1990", "01/02/90", "0", "999999"])
def test_dates_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_booleans():
    assert [parse_bool(v) for v in ("oui", "OUI", "1", "x", "Vrai", "non", "0", "faux", "N")] == [
        True, True, True, True, True, False, False, False, False]
    with pytest.raises(ValueError):
        parse_bool("peut-être")


def test_auto_map_recognises_usual_headers():
    mapping = auto_map("persons", ["NOM", "Prénom", "Date naiss.", "N° allocataire", "NOM DE NAISSANCE", "Code postal",
                                   "Date de naissance (JJ/MM/AAAA)x", "Ville"])
    assert mapping["last_name"] == "NOM"
    assert mapping["first_name"] == "Prénom"
    assert mapping["birth_date"] == "Date naiss."
    assert mapping["caf_number"] == "N° allocataire"
    assert mapping["birth_name"] == "NOM DE NAISSANCE"
    assert mapping["postal_code"] == "Code postal"
    assert mapping["commune"] == "Ville"
