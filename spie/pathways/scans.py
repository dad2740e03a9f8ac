"""Checking an uploaded scan of a signed contract: declared type, real content, size.

The declared content type comes from the browser and proves nothing; the first bytes of the
file (its "magic number") tell what it really is. Both must agree on PDF, JPEG or PNG.
Files are stored under MEDIA_ROOT (``var/media``, never served by the web server) with a
name of our own, and read back only through a view that applies the contract read policy.
"""

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError

MAX_SCAN_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class ScanFormat:
    label: str
    extension: str
    content_type: str
    accepted_types: frozenset
    magic: bytes


FORMATS = (
    ScanFormat("PDF", "pdf", "application/pdf", frozenset({"application/pdf", "application/x-pdf"}), b"%PDF-"),
    ScanFormat("JPEG", "jpg", "image/jpeg", frozenset({"image/jpeg", "image/pjpeg", "image/jpg"}), b"\xff\xd8\xff"),
    ScanFormat("PNG", "png", "image/png", frozenset({"image/png"}), b"\x89PNG\r\n\x1a\n"),
)
ACCEPTED_TYPES = frozenset().union(*(f.accepted_types for f in FORMATS))
ACCEPT_ATTRIBUTE = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


def detect(head):
    """The :class:`ScanFormat` whose magic number starts ``head``, or None."""
    return next((f for f in FORMATS if head.startswith(f.magic)), None)


def format_for_name(name):
    extension = (name or "").rsplit(".", 1)[-1].lower()
    return next((f for f in FORMATS if f.extension == extension), None)


def _read_head(upload, size=16):
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head or b""


def validate_scan(upload):
    """Return the :class:`ScanFormat` of ``upload`` or raise a French :class:`ValidationError`."""
    if upload is None:
        raise ValidationError("Aucun fichier reçu.")
    size = upload.size or 0
    if size == 0:
        raise ValidationError("Le fichier est vide.")
    if size > MAX_SCAN_BYTES:
        raise ValidationError(
            f"Le fichier est trop volumineux ({size / (1024 * 1024):.1f} Mo) : 5 Mo au maximum."
        )
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if declared not in ACCEPTED_TYPES:
        raise ValidationError("Format non accepté : seuls les fichiers PDF, JPEG et PNG sont acceptés.")
    found = detect(_read_head(upload))
    if found is None:
        raise ValidationError(
            "Le contenu du fichier n'est pas celui d'un PDF, d'une image JPEG ou PNG : "
            "il a peut-être été renommé. Enregistrez le scan en PDF, JPEG ou PNG."
        )
    if declared not in found.accepted_types:
        raise ValidationError(
            f"Le type annoncé du fichier ne correspond pas à son contenu (contenu réel : {found.label})."
        )
    return found


def storage_name(contract, scan_format):
    """A name of our own: nothing of the uploaded name (nor of the person) reaches the disk."""
    return f"contrat-{contract.person_id}-v{contract.version}-{uuid.uuid4().hex}.{scan_format.extension}"
