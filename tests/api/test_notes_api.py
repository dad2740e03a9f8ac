"""API of notes: only readable notes are listed or returned, writing honours the writable classes,
author-only edits, attachments checked and served through the note's policy, access log (API)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spie.core.models import AccessLog
from spie.followup.models import Note, NoteAttachment
from spie.people.models import FollowUpMembership, TimelineEvent
from tests.people.factories import oppose_sharing

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def notes_url(person):
    return f"/api/v1/persons/{person.pk}/notes/"


def make_note(net, body, confidentiality=Note.Confidentiality.GROUP, author=None, structure=None, person=None):
    return Note.objects.create(person=person or net.person, body=body, confidentiality=confidentiality,
                               author=author or net.referent, author_structure=structure or net.struct_a)


@pytest.fixture
def notes(net):
    return {
        "group": make_note(net, "groupe"),
        "structure": make_note(net, "structure-a", Note.Confidentiality.STRUCTURE),
        "health": make_note(net, "sante", Note.Confidentiality.HEALTH),
        "member": make_note(net, "structure-b", Note.Confidentiality.STRUCTURE, author=net.member,
                            structure=net.struct_b),
    }


def bodies(response):
    return {n["body"] for n in response.json()["results"]}


@pytest.mark.parametrize("who, expected", [
    ("referent", {"groupe", "structure-a", "sante"}),
    ("colleague", {"groupe", "structure-a"}),  # group member of the author's structure
    ("member", {"groupe", "structure-b"}),
    ("admin_a", set()),  # reads the record, not a group member: no note class
    ("outsider", 403),
    ("foreigner", 404),
])
def test_list_shows_only_readable_notes(net, api_for, notes, who, expected):
    response = api_for(getattr(net, who)).get(notes_url(net.person))
    if isinstance(expected, int):
        assert response.status_code == expected
        return
    assert response.status_code == 200
    assert bodies(response) == expected
    row = AccessLog.objects.order_by("-id").first()
    assert (row.section, row.channel) == ("note", "api")


def test_health_right_and_opposition(net, api_for, notes):
    FollowUpMembership.objects.filter(person=net.person, user=net.member).update(can_see_health=True)
    assert "sante" in bodies(api_for(net.member).get(notes_url(net.person)))
    oppose_sharing(net.person)
    assert api_for(net.member).get(notes_url(net.person)).status_code == 403
    assert bodies(api_for(net.colleague).get(notes_url(net.person))) == {"groupe", "structure-a"}


def test_filters(net, api_for, notes):
    client = api_for(net.referent)
    assert bodies(client.get(notes_url(net.person), {"confidentiality": "health"})) == {"sante"}
    response = client.get(notes_url(net.person), {"kind": "nope"})
    assert response.status_code == 400 and "Valeur inconnue" in str(response.json())


def test_detail_is_404_when_not_readable(net, api_for, notes):
    client = api_for(net.member)
    hidden = client.get(f"/api/v1/notes/{notes['health'].pk}/")
    unknown = client.get("/api/v1/notes/999999/")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == unknown.json()
    response = client.get(f"/api/v1/notes/{notes['group'].pk}/")
    assert response.status_code == 200
    assert (response.json()["body"], response.json()["can_change"]) == ("groupe", False)
    assert api_for(net.outsider).get(f"/api/v1/notes/{notes['group'].pk}/").status_code == 403
    assert api_for(net.foreigner).get(f"/api/v1/notes/{notes['group'].pk}/").status_code == 404


def test_create_honours_writable_classes(net, api_for):
    client = api_for(net.member)
    response = client.post(notes_url(net.person), {"confidentiality": "health", "body": "x"}, format="json")
    assert response.status_code == 403
    assert "confidentialité" in response.json()["detail"]
    response = client.post(notes_url(net.person), {"confidentiality": "group", "kind": "phone", "body": "Appel",
                                                   "is_contact": True}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["author"]["id"], response.json()["can_change"]) == (net.member.pk, True)
    net.person.refresh_from_db()
    assert net.person.last_contact_on is not None
    assert TimelineEvent.objects.filter(person=net.person, title="Note ajoutée").exists()
    assert api_for(net.admin_a).post(notes_url(net.person), {"confidentiality": "group", "body": "x"},
                                     format="json").status_code == 403
    response = api_for(net.referent).post(notes_url(net.person), {"confidentiality": "health", "body": "Soins"},
                                          format="json")
    assert response.status_code == 201
    response = client.post(notes_url(net.person), {"confidentiality": "group", "body": ""}, format="json")
    assert response.status_code == 400


def test_create_with_attachments_multipart(net, api_for):
    client = api_for(net.referent)
    good = SimpleUploadedFile("cr.pdf", PDF, content_type="application/pdf")
    response = client.post(notes_url(net.person), {"confidentiality": "structure", "body": "Avec PJ",
                                                   "attachments": [good]}, format="multipart")
    assert response.status_code == 201, response.json()
    files = response.json()["attachments"]
    assert [f["name"] for f in files] == ["cr.pdf"]
    download = client.get(files[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["X-Content-Type-Options"] == "nosniff" and download["Cache-Control"] == "no-store"
    # The member may not read a structure note of struct_a: its file is a 404 too.
    assert api_for(net.member).get(files[0]["download_url"]).status_code == 404
    bad = SimpleUploadedFile("photo.png", PDF, content_type="image/png")
    response = client.post(notes_url(net.person), {"confidentiality": "group", "body": "Mauvais fichier",
                                                   "attachments": [bad]}, format="multipart")
    assert response.status_code == 400
    assert "ne correspond pas à son contenu" in str(response.json())
    assert Note.objects.count() == 1 and NoteAttachment.objects.count() == 1


def test_author_only_edits_and_deletes(net, api_for, notes):
    url = f"/api/v1/notes/{notes['group'].pk}/"
    assert api_for(net.member).patch(url, {"body": "Pirate"}, format="json").status_code == 403
    assert api_for(net.member).delete(url).status_code == 403
    response = api_for(net.referent).patch(url, {"body": "Corrigé"}, format="json")
    assert response.status_code == 200 and response.json()["body"] == "Corrigé"
    response = api_for(net.referent).patch(url, {"confidentiality": "nope"}, format="json")
    assert response.status_code == 400
    assert api_for(net.referent).delete(url).status_code == 204
    assert not Note.objects.filter(pk=notes["group"].pk).exists()
    assert TimelineEvent.objects.filter(person=net.person, title="Note supprimée").exists()


def _queries(net, api_for, count):
    Note.objects.filter(person=net.person).delete()
    for i in range(count):
        note = make_note(net, f"n{i}", [Note.Confidentiality.GROUP, Note.Confidentiality.STRUCTURE][i % 2])
        NoteAttachment.objects.create(note=note, file=f"notes/{i}.txt", original_name=f"{i}.txt",
                                      content_type="text/plain", size=1, sha256="0" * 64)
    client = api_for(net.referent)
    client.get(notes_url(net.person))  # the token is created on the first call
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(notes_url(net.person))
    assert len(response.json()["results"]) == count
    return len(ctx.captured_queries)


def test_notes_api_query_count_is_constant(net, api_for):
    assert _queries(net, api_for, 2) == _queries(net, api_for, 10)
