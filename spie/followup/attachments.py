"""Checking and storing the files attached to a note: size, extension, declared type, real content.

The browser's declared content type and the file name prove nothing; the first bytes of the file
(its "magic number", see :mod:`spie.pathways.scans`) tell what it really is. The extension, the
declared type and the content must all agree on one accepted format: PDF, JPEG, PNG (recognised
by their magic numbers, shared with the contract scans) or plain text (no magic number: the
whole content must decode as UTF-8 or Windows-1252 text without control characters, and must not
start like one of the binary formats).

Files are stored under MEDIA_ROOT (``NoteAttachment.file``'s ``upload_to``) with a random name of
our own; the original name is kept in the database only, for the download. They are read back
only through the note's policy (``spie.followup.views.notes.attachment``).
"""

import hashlib
import os
import unicodedata
import uuid

from django.core.exceptions import ValidationError

from spie.pathways import scans

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 3

TEXT = scans.ScanFormat(
    "texte", "txt", "text/plain", frozenset({"text/plain"}), b"",
)
_PDF, _JPEG, _PNG = scans.FORMATS
FORMATS = (_PDF, _JPEG, _PNG, TEXT)
EXTENSIONS = {"pdf": _PDF, "jpg": _JPEG, "jpeg": _JPEG, "png": _PNG, "txt": TEXT}
ACCEPTED_TYPES = frozenset().union(*(f.accepted_types for f in FORMATS))
ACCEPT_ATTRIBUTE = ".pdf,.jpg,.jpeg,.png,.txt,application/pdf,image/jpeg,image/png,text/plain"
HELP_TEXT = "PDF, JPEG, PNG ou texte (.txt), 5 Mo au maximum par fichier, 3 fichiers au plus."

_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f"}


def _megabytes(size):
    return f"{size / (1024 * 1024):.1f}".replace(".", ",")


def extension_of(name):
    base = os.path.basename((name or "").replace("\\", "/"))
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def clean_name(name):
    """The uploaded name without any path, trimmed to fit the column (shown at download only)."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C") or "piece-jointe"
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) < 10 else base[:200]
    return base


def _read_all(upload):
    upload.seek(0)
    data = b"".join(upload.chunks()) if hasattr(upload, "chunks") else upload.read()
    upload.seek(0)
    return data


def is_plain_text(data):
    """True when ``data`` reads as text (UTF-8, or Windows-1252) without binary control bytes."""
    if b"\x00" in data:
        return False
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS for c in text)
    return False


def validate_attachment(upload):
    """Return the format of ``upload`` or raise a French :class:`ValidationError` naming the file."""
    if upload is None:
        raise ValidationError("Aucun fichier reçu.")
    name = clean_name(getattr(upload, "name", ""))
    size = upload.size or 0
    if size == 0:
        raise ValidationError(f"« {name} » est vide.")
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            f"« {name} » est trop volumineux ({_megabytes(size)} Mo) : 5 Mo au maximum par fichier."
        )
    by_extension = EXTENSIONS.get(extension_of(name))
    if by_extension is None:
        raise ValidationError(
            f"« {name} » : format non accepté. Seuls les fichiers PDF, JPEG, PNG et texte (.txt) sont acceptés."
        )
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if declared not in ACCEPTED_TYPES:
        raise ValidationError(
            f"« {name} » : format non accepté. Seuls les fichiers PDF, JPEG, PNG et texte (.txt) sont acceptés."
        )
    if by_extension is TEXT:
        head = _read_all(upload)
        found = scans.detect(head) or (TEXT if is_plain_text(head) else None)
    else:
        upload.seek(0)
        found = scans.detect(upload.read(16) or b"")
        upload.seek(0)
    if found is None:
        raise ValidationError(
            f"Le contenu de « {name} » n'est pas celui d'un fichier {by_extension.label} : il a peut-être été "
            "renommé. Joignez un PDF, une image JPEG ou PNG, ou un fichier texte."
        )
    if found is not by_extension:
        raise ValidationError(
            f"L'extension de « {name} » (.{extension_of(name)}) ne correspond pas à son contenu "
            f"(contenu réel : {found.label})."
        )
    if declared not in found.accepted_types:
        raise ValidationError(
            f"Le type annoncé de « {name} » ({declared}) ne correspond pas à son contenu "
            f"(contenu réel : {found.label})."
        )
    return found


def validate_attachments(uploads):
    """Check every file (at most :data:`MAX_ATTACHMENTS`); all messages at once."""
    uploads = [u for u in (uploads or []) if u is not None]
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(f"{MAX_ATTACHMENTS} pièces jointes au plus par note ({len(uploads)} reçues).")
    errors = []
    checked = []
    for upload in uploads:
        try:
            checked.append((upload, validate_attachment(upload)))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return checked


def sha256_of(upload):
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def storage_name(attachment_format):
    """A random name: nothing of the uploaded name (nor of the person) reaches the disk."""
    return f"{uuid.uuid4().hex}.{attachment_format.extension}"


def store(note, upload, attachment_format):
    """Create the :class:`NoteAttachment` of a checked ``upload`` (file written under MEDIA_ROOT)."""
    from .models import NoteAttachment

    attachment = NoteAttachment(
        note=note,
        original_name=clean_name(upload.name),
        content_type=attachment_format.content_type,
        size=upload.size,
        sha256=sha256_of(upload),
    )
    attachment.file.save(storage_name(attachment_format), upload, save=False)
    attachment.save()
    return attachment
