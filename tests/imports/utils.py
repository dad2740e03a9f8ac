"""Helpers of the import tests: build files in memory, run the steps synchronously."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from spie.imports import services
from spie.imports.models import ImportKind

HEADER = ["Identifiant", "Nom", "Prénom", "Date naiss.", "NIR", "N° allocataire", "Courriel", "RSA"]


def nir(body):
    """A (fictitious) NIR with a correct key for a 13-digit ``body``."""
    return f"{body}{97 - int(body) % 97:02d}"


NIR_1 = nir("2850431555001")
NIR_2 = nir("1900675103123")
NIR_3 = nir("2920131555042")


def csv_bytes(rows, header=HEADER, *, sep=";", encoding="utf-8", bom=False, trailing_blank=0):
    lines = [sep.join(header)] + [sep.join(str(c) for c in row) for row in rows]
    lines += [sep * (len(header) - 1)] * trailing_blank
    text = "\r\n".join(lines) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows, header=HEADER):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(membership, content, *, name="liste.csv", kind=ImportKind.PERSONS):
    return services.create_job(membership=membership, kind=kind,
                               uploaded_file=SimpleUploadedFile(name, content))


def validate(job, membership, *, mapping=None, match_key=None, referent=None):
    """Map (the guessed mapping unless given) and validate synchronously."""
    services.set_mapping(job=job, membership=membership, mapping=mapping or job.mapping, match_key=match_key,
                         referent=referent, enqueue=False)
    return services.run_validation(job.pk)


def commit(job, membership):
    services.request_commit(job=job, membership=membership, enqueue=False)
    return services.run_commit(job.pk, membership.user_id)


def row(job, line):
    return job.rows.get(line=line)
