"""Reading the files people really have: CSV (comma, semicolon or tab; UTF-8 with or without a
byte-order mark, or Windows-1252), XLSX (first sheet, values only) and JSON (a list of objects,
such as a data·inclusion export of services, or ``{"services": [...]}``).

Every reader returns a :class:`Table`: normalised headers and the data rows as lists of text,
each with its line number in the file (the header is line 1, as a spreadsheet shows it; in a
JSON file, the object's position in the list). Fully empty rows (the trailing ones a spreadsheet
leaves) are skipped. A JSON object becomes a row with its keys as headers: lists are joined with
``|`` (the data·inclusion CSV convention), nulls are empty cells. A France Travail offers file
(``{"resultats": [...]}``) is read the same way.
"""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

CSV = "csv"
XLSX = "xlsx"
JSON = "json"
LIST_SEPARATOR = "|"
ZIP_MAGIC = b"PK\x03\x04"
MAX_COLUMNS = 200


class UnreadableFile(Exception):
    """The file is neither a CSV text nor an XLSX workbook; the message is French."""


@dataclass
class Table:
    headers: list
    rows: list = field(default_factory=list)  # [(line, [cell text, …]), …]
    file_format: str = CSV
    encoding: str = ""
    separator: str = ""


def sniff_format(head):
    """``"xlsx"`` (zip magic), ``"json"`` (text opening a list or an object), ``"csv"`` (other
    text without NUL bytes) or None."""
    if head.startswith(ZIP_MAGIC):
        return XLSX
    if not head or b"\x00" in head:
        return None
    if head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"[", b"{"):
        return JSON
    return CSV


def decode(data):
    """``(text, encoding)``: UTF-8 with a BOM, UTF-8, else Windows-1252 (charset by elimination)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Every byte but five is defined in Windows-1252: the rare undefined ones are replaced.
        return data.decode("cp1252", errors="replace"), "windows-1252"


def sniff_separator(text):
    """The separator of the header line: the most frequent of ``;``, ``,`` and tab outside quotes."""
    first = ""
    for line in text.splitlines():
        if line.strip():
            first = line
            break
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {sep: unquoted.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: (counts[sep], sep == ";"))
    return best if counts[best] else ";"


def normalise_headers(cells):
    """Trimmed, single-spaced headers; blank ones named « Colonne N », repeats numbered."""
    headers, seen = [], {}
    for index, cell in enumerate(cells, start=1):
        name = " ".join(str(cell if cell is not None else "").replace("\ufeff", "").split())
        if not name:
            name = f"Colonne {index}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        headers.append(name)
    return headers


def _trim_blank_tail(header, rows):
    """Drop trailing header cells that are empty and have no data below (``Nom;Prénom;;``)."""
    header = list(header)
    while header and not str(header[-1] or "").strip() and not any(
        len(cells) >= len(header) and cells[len(header) - 1] for _, cells in rows
    ):
        header.pop()
    return header


def read_csv_bytes(data):
    text, encoding = decode(data)
    separator = sniff_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header = None
    rows = []
    for line, cells in enumerate(reader, start=1):
        if header is None:
            if not any(c.strip() for c in cells):
                continue
            header = cells[:MAX_COLUMNS]
            continue
        cells = [c.strip() for c in cells[:MAX_COLUMNS]]
        if any(cells):
            rows.append((line, cells))
    if header is None:
        raise UnreadableFile("Le fichier est vide : aucune ligne d'en-têtes n'a été trouvée.")
    return Table(normalise_headers(_trim_blank_tail(header, rows)), rows, CSV, encoding, separator)


def _xlsx_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_xlsx(path_or_file):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path_or_file, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any parse error means an unreadable workbook
        raise UnreadableFile("Ce classeur Excel est illisible ou protégé : enregistrez-le à nouveau en .xlsx.") from exc
    try:
        sheet = workbook.worksheets[0]
        header = None
        rows = []
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_xlsx_text(v) for v in values[:MAX_COLUMNS]]
            if header is None:
                if any(cells):
                    header = cells
                continue
            if any(cells):
                rows.append((line, cells))
    finally:
        workbook.close()
    if header is None:
        raise UnreadableFile("La première feuille du classeur est vide : aucune ligne d'en-têtes n'a été trouvée.")
    return Table(normalise_headers(_trim_blank_tail(header, rows)), rows, XLSX, "", "")


def _json_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(_json_cell(v) if not isinstance(v, dict) else json.dumps(v, ensure_ascii=False)
                                   for v in value if v is not None)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def read_json_bytes(data):
    """A JSON list of objects (or an object holding it under ``services``) as a table."""
    text, encoding = decode(data)
    try:
        document = json.loads(text)
    except ValueError as exc:
        where = f" (ligne {exc.lineno}, colonne {exc.colno})" if hasattr(exc, "lineno") else ""
        raise UnreadableFile(f"Ce fichier JSON est mal formé{where} : vérifiez qu'il est complet.") from exc
    if isinstance(document, dict):
        # data·inclusion: {"services": [...]}; France Travail "Offres d'emploi v2": {"resultats": [...]}.
        document = document.get("services") if "services" in document else document.get("resultats")
    if not isinstance(document, list):
        raise UnreadableFile("Le fichier JSON doit contenir une liste de services (ou d'offres), ou un objet dont la "
                             "clé « services » ou « resultats » contient cette liste.")
    headers, seen = [], set()
    for position, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            raise UnreadableFile(f"L'élément n° {position} de la liste n'est pas un objet JSON.")
        for key in item:
            if key not in seen and len(headers) < MAX_COLUMNS:
                seen.add(key)
                headers.append(str(key))
    if not headers:
        raise UnreadableFile("Le fichier JSON ne contient aucun service.")
    rows = []
    for position, item in enumerate(document, start=1):
        cells = [_json_cell(item.get(key)) for key in headers]
        if any(cells):
            rows.append((position, cells))
    return Table(normalise_headers(headers), rows, JSON, encoding, "")


def read_table(path):
    """Read the file at ``path`` (CSV, XLSX or JSON, told by its content, not its name)."""
    with open(path, "rb") as handle:
        data = handle.read()
    fmt = sniff_format(data[:4096])
    if fmt == XLSX:
        return read_xlsx(io.BytesIO(data))
    if fmt == JSON:
        return read_json_bytes(data)
    if fmt == CSV:
        return read_csv_bytes(data)
    raise UnreadableFile("Ce fichier n'est ni un CSV (texte) ni un classeur Excel (.xlsx) ni un fichier JSON.")


# --- Cell values -------------------------------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")
_SERIAL = re.compile(r"^\d{1,6}(?:[.,]0+)?$")
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug absorbed)


def parse_date(text):
    """A date from ``JJ/MM/AAAA``, ``JJ-MM-AAAA``, ``JJ.MM.AAAA``, ``AAAA-MM-JJ`` or an Excel serial.

    Raises ValueError for anything else (and for impossible dates like 31/02/1990).
    """
    text = text.strip()
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    match = _YMD.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return date(year, month, day)
    if _SERIAL.match(text):
        serial = int(text.replace(",", ".").split(".")[0])
        if 1 <= serial <= 73050:  # up to 2099-12-31
            return EXCEL_EPOCH + timedelta(days=serial)
    raise ValueError(text)


TRUE_WORDS = {"oui", "o", "1", "vrai", "x", "true", "yes", "y"}
FALSE_WORDS = {"non", "n", "0", "faux", "false", "no"}


def parse_bool(text):
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(text)
