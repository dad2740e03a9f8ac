"""Attachments of notes: checked by size, extension, declared type and real content; stored under a
random name with their sha256; served only through the note's policy, as a download, logged."""

import hashlib
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from spie.core.models import AccessLog
from spie.followup import attachments
from spie.followup.models import Note, NoteAttachment
from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.people.factories import PersonFactory, add_to_group

from .conftest import membership_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
TEXT = "Compte rendu d'entretien : très bien passé.\n".encode()


def upload(name, content, content_type):
    return SimpleUploadedFile(name, content, content_type=content_type)


def html_of(response):
    return unescape(response.content.decode())


def post_note(world, who, files, body="Entretien du jour", confidentiality="group"):
    return login_client(world[who]).post(reverse("followup:notes", args=[world["person"].pk]), {
        "confidentiality": confidentiality, "kind": "interview", "body": body, "attachments": files,
    })


# --- The checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, content, content_type, label", [
    ("cr.pdf", PDF, "application/pdf", "PDF"),
    ("photo.JPG", JPEG, "image/jpeg", "JPEG"),
    ("photo.jpeg", JPEG, "image/jpeg", "JPEG"),
    ("scan.png", PNG, "image/png", "PNG"),
    ("notes.txt", TEXT, "text/plain", "texte"),
    ("ancien.txt", "Élève très motivé\r\n".encode("cp1252"), "text/plain", "texte"),
])
def test_accepted_files(name, content, content_type, label):
    assert attachments.validate_attachment(upload(name, content, content_type)).label == label


@pytest.mark.parametrize("name, content, content_type, message", [
    ("cr.pdf", b"MZ\x90\x00 not a pdf", "application/pdf", "n'est pas celui d'un fichier PDF"),
    ("photo.png", PDF, "image/png", "L'extension de « photo.png » (.png) ne correspond pas à son contenu"),
    ("cr.pdf", PNG, "application/pdf", "ne correspond pas à son contenu (contenu réel : PNG)"),
    ("cr.pdf", PDF, "image/png", "Le type annoncé de « cr.pdf » (image/png) ne correspond pas"),
    ("notes.txt", PDF, "text/plain", "L'extension de « notes.txt » (.txt) ne correspond pas"),
    ("notes.txt", b"abc\x00\x01\x02", "text/plain", "n'est pas celui d'un fichier texte"),
    ("page.html", b"<script>alert(1)</script>", "text/html", "format non accepté"),
    ("virus.exe", b"MZ\x90\x00", "application/octet-stream", "format non accepté"),
    ("sans-extension", PDF, "application/pdf", "format non accepté"),
    ("vide.pdf", b"", "application/pdf", "est vide"),
])
def test_refused_files(name, content, content_type, message):
    with pytest.raises(ValidationError) as exc:
        attachments.validate_attachment(upload(name, content, content_type))
    assert message in " ".join(exc.value.messages)


def test_too_big_and_too_many():
    big = upload("gros.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf")
    with pytest.raises(ValidationError) as exc:
        attachments.validate_attachment(big)
    assert "« gros.pdf » est trop volumineux (5,0 Mo) : 5 Mo au maximum par fichier." in exc.value.messages
    with pytest.raises(ValidationError) as exc:
        attachments.validate_attachments([upload(f"{i}.pdf", PDF, "application/pdf") for i in range(4)])
    assert "3 pièces jointes au plus par note (4 reçues)." in exc.value.messages


def test_clean_name_strips_paths():
    assert attachments.clean_name("C:\\Users\\x\\..\\cr.pdf") == "cr.pdf"
    assert attachments.clean_name("../../etc/passwd.txt") == "passwd.txt"


# --- Through the page -------------------------------------------------------------------------


def test_bad_file_keeps_the_typed_text(world):
    response = post_note(world, "referent", [upload("photo.png", PDF, "image/png")],
                         body="Long compte rendu à ne pas perdre")
    assert response.status_code == 400
    html = html_of(response)
    assert "ne correspond pas à son contenu" in html
    assert "Long compte rendu à ne pas perdre" in html
    assert "joignez à nouveau des fichiers valides" in html
    assert not Note.objects.exists() and not NoteAttachment.objects.exists()


def test_too_big_file_through_the_page(world):
    big = upload("gros.pdf", PDF + b"0" * (5 * 1024 * 1024 + 10), "application/pdf")
    response = post_note(world, "referent", [big], body="Texte conservé")
    html = html_of(response)
    assert "trop volumineux" in html and "Texte conservé" in html
    assert not Note.objects.exists()


def test_stored_with_a_random_name_and_sha256(world):
    response = post_note(world, "referent", [upload("Compte rendu Dupuis.pdf", PDF, "application/pdf"),
                                             upload("notes.txt", TEXT, "text/plain")])
    assert response.status_code == 302
    files = list(NoteAttachment.objects.order_by("id"))
    assert [f.original_name for f in files] == ["Compte rendu Dupuis.pdf", "notes.txt"]
    first = files[0]
    assert first.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (first.size, first.content_type) == (len(PDF), "application/pdf")
    assert first.file.name.startswith("notes/") and "Dupuis" not in first.file.name
    assert first.file.name.endswith(".pdf")
    assert (Path(settings.MEDIA_ROOT) / first.file.name).read_bytes() == PDF


# --- Download ---------------------------------------------------------------------------------


@pytest.fixture
def stored(world):
    post_note(world, "referent", [upload("cr.pdf", PDF, "application/pdf")], confidentiality="structure")
    note = Note.objects.get()
    return note, note.attachments.get()


def attachment_url(person, note, item):
    return reverse("followup:note_attachment", args=[person.pk, note.pk, item.pk])


def test_download_for_a_reader(world, stored):
    note, item = stored
    person = world["person"]
    response = login_client(world["referent"]).get(attachment_url(person, note, item))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;") and "cr.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    row = AccessLog.objects.order_by("-id").first()
    assert (row.user, row.person, row.section) == (world["referent"], person, AccessLog.Section.NOTE)
    assert "cr.pdf" not in row.reason


def test_download_refused_to_who_may_not_read_the_note(world, stored):
    note, item = stored
    person = world["person"]
    url = attachment_url(person, note, item)
    # The member reads the record but not a note reserved to the référent's structure: same 404.
    assert login_client(world["member"]).get(url).status_code == 404
    assert login_client(world["outsider"]).get(url).status_code == 403
    assert login_client(world["gers_officer"]).get(url).status_code == 404
    add_to_group(person, world["colleague"])
    assert login_client(world["colleague"]).get(url).status_code == 200


def test_download_idor(world, stored):
    note, item = stored
    other = PersonFactory(territory=world["territory"])
    add_to_group(other, world["referent"], FollowUpMembership.Kind.REFERENT)
    client = login_client(world["referent"])
    # Another person's pk (that the user may read) with this note: 404.
    assert client.get(reverse("followup:note_attachment", args=[other.pk, note.pk, item.pk])).status_code == 404
    # An attachment of another note of the same person: 404.
    other_note = Note.objects.create(person=world["person"], body="x", author=world["referent"],
                                     author_structure=world["ref_structure"])
    assert client.get(reverse("followup:note_attachment", args=[world["person"].pk, other_note.pk, item.pk])
                      ).status_code == 404
    assert client.get(reverse("followup:note_attachment", args=[world["person"].pk, note.pk, 999999])
                      ).status_code == 404


def test_deleting_the_note_removes_the_file(world, stored, django_capture_on_commit_callbacks):
    from spie.followup.services import notes as note_services

    note, item = stored
    path = Path(settings.MEDIA_ROOT) / item.file.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        note_services.delete_note(note, membership_of(world["referent"]))
    assert not path.exists()
    assert not NoteAttachment.objects.exists()
