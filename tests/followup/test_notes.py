"""Follow-up notes: who reads each confidentiality class, writing, editing and deleting by the
author, the timeline (never the body), contacts, exports, the record's summary, query counts."""

import io
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from spie.core.models import AccessLog
from spie.followup import policies
from spie.followup.models import Note
from spie.followup.services import notes as note_services
from spie.people import policies as people_policies
from spie.people.models import FollowUpMembership, TimelineEvent
from tests.conftest import login_client
from tests.pathways.factories import days_ago
from tests.people.factories import add_to_group, oppose_sharing

from .conftest import membership_of

C = Note.Confidentiality
GROUP_BODY = "Note de groupe : a repris contact avec la mission locale"
STRUCTURE_BODY = "Note réservée à Tremplin : dette de loyer"
HEALTH_BODY = "Note santé : suivi psychiatrique en cours"
MEMBER_BODY = "Note réservée à la mission locale : inscription atelier"


def html_of(response):
    return unescape(response.content.decode())


def notes_url(person):
    return reverse("followup:notes", args=[person.pk])


def note(world, body, confidentiality=C.GROUP, *, author="referent", structure="ref_structure", person=None):
    return Note.objects.create(person=person or world["person"], confidentiality=confidentiality, body=body,
                               author=world[author], author_structure=world[structure])


@pytest.fixture
def notes(world):
    return {
        "group": note(world, GROUP_BODY),
        "structure": note(world, STRUCTURE_BODY, C.STRUCTURE),
        "health": note(world, HEALTH_BODY, C.HEALTH),
        "member": note(world, MEMBER_BODY, C.STRUCTURE, author="member", structure="other_structure"),
    }


def visible_bodies(world, who):
    response = login_client(world[who]).get(notes_url(world["person"]))
    if response.status_code != 200:
        return response.status_code
    html = html_of(response)
    return {key for key, body in (("group", GROUP_BODY), ("structure", STRUCTURE_BODY), ("health", HEALTH_BODY),
                                  ("member", MEMBER_BODY)) if body in html}


# --- Who reads which class ------------------------------------------------------------------


def test_referent_reads_group_own_structure_and_health(world, notes):
    assert visible_bodies(world, "referent") == {"group", "structure", "health"}


def test_member_of_another_structure_reads_group_and_own_structure_only(world, notes):
    assert visible_bodies(world, "member") == {"group", "member"}


def test_member_with_health_right_reads_health_notes(world, notes):
    FollowUpMembership.objects.filter(person=world["person"], user=world["member"]).update(can_see_health=True)
    assert visible_bodies(world, "member") == {"group", "member", "health"}


def test_colleague_of_the_author_in_the_group_reads_the_structure_note(world, notes):
    add_to_group(world["person"], world["colleague"])
    assert visible_bodies(world, "colleague") == {"group", "structure"}


def test_colleague_of_the_author_outside_the_group_reads_nothing(world, notes):
    assert visible_bodies(world, "colleague") == 403


def test_structure_admin_outside_the_group_reads_neither_group_nor_structure_notes(world, notes):
    # The admin opens the record to manage the group without being a member: the structure class
    # restricts the group class, it never widens it.
    assert visible_bodies(world, "admin_ref") == set()


def test_structure_admin_in_the_group_reads_the_notes_of_their_structure(world, notes):
    add_to_group(world["person"], world["admin_ref"])
    assert visible_bodies(world, "admin_ref") == {"group", "structure"}


def test_orientation_officer_reads_only_own_notes(world, notes):
    assert visible_bodies(world, "officer") == set()
    own = note(world, "Note de la chargée d'orientation", author="officer", structure="departement")
    html = html_of(login_client(world["officer"]).get(notes_url(world["person"])))
    assert own.body in html


@pytest.mark.parametrize("who, expected", [("outsider", 403), ("coordinator", 403), ("gers_officer", 404)])
def test_no_record_no_notes(world, notes, who, expected):
    assert visible_bodies(world, who) == expected


def test_opposition_to_sharing(world, notes):
    oppose_sharing(world["person"])
    assert visible_bodies(world, "member") == 403
    assert visible_bodies(world, "officer") == 403
    assert visible_bodies(world, "referent") == {"group", "structure", "health"}


def test_author_loses_own_health_note_with_the_health_right(world):
    person = world["person"]
    FollowUpMembership.objects.filter(person=person, user=world["member"]).update(can_see_health=True)
    own = note(world, HEALTH_BODY, C.HEALTH, author="member", structure="other_structure")
    assert visible_bodies(world, "member") == {"health"}
    FollowUpMembership.objects.filter(person=person, user=world["member"]).update(can_see_health=False)
    assert visible_bodies(world, "member") == set()
    url = reverse("followup:note_edit", args=[person.pk, own.pk])
    assert login_client(world["member"]).get(url).status_code == 404


def test_policy_functions_agree_with_the_queryset(world, notes):
    """``can_read_note`` and ``visible_notes_q`` give the same answer for every note and user."""
    person = world["person"]
    add_to_group(person, world["colleague"])
    for who in ("referent", "member", "colleague", "admin_ref", "officer", "outsider"):
        user = world[who]
        membership = membership_of(user)
        access = people_policies.access_for(user, membership, person)
        by_q = set(Note.objects.filter(person=person).filter(policies.visible_notes_q(user, membership, access)))
        by_function = {n for n in notes.values() if policies.can_read_note(user, membership, access, n)}
        assert by_q == by_function, who


# --- Writing ----------------------------------------------------------------------------------


def test_classes_offered_follow_the_rights(world):
    person = world["person"]
    form = login_client(world["referent"]).get(notes_url(person)).context["form"]
    assert [c for c, _ in form.fields["confidentiality"].choices] == ["group", "structure", "health"]
    form = login_client(world["member"]).get(notes_url(person)).context["form"]
    assert [c for c, _ in form.fields["confidentiality"].choices] == ["group", "structure"]
    assert login_client(world["admin_ref"]).get(notes_url(person)).context["form"] is None


def test_add_group_note_with_contact(world):
    person = world["person"]
    response = login_client(world["member"]).post(notes_url(person), {
        "confidentiality": "group", "kind": "interview", "body": GROUP_BODY, "is_contact": "on",
        "contact_on": days_ago(2).isoformat(),
    })
    assert response.status_code == 302
    saved = Note.objects.get(person=person)
    assert (saved.author, saved.author_structure, saved.is_contact, saved.kind) == (
        world["member"], world["other_structure"], True, "interview")
    person.refresh_from_db()
    assert person.last_contact_on == days_ago(2)
    event = TimelineEvent.objects.get(person=person, kind="note")
    assert (event.title, event.detail) == ("Note ajoutée", "")


def test_structure_note_timeline_names_the_structure_without_the_body(world):
    person = world["person"]
    login_client(world["referent"]).post(notes_url(person), {
        "confidentiality": "structure", "kind": "observation", "body": STRUCTURE_BODY,
    })
    event = TimelineEvent.objects.get(person=person, kind="note")
    assert event.title == "Note réservée à Association Tremplin ajoutée"
    assert STRUCTURE_BODY not in event.title + event.detail
    person.refresh_from_db()
    assert person.last_contact_on is None


def test_health_note_adds_nothing_to_the_timeline(world):
    person = world["person"]
    before = TimelineEvent.objects.filter(person=person).count()
    response = login_client(world["referent"]).post(notes_url(person), {
        "confidentiality": "health", "kind": "observation", "body": HEALTH_BODY,
    })
    assert response.status_code == 302
    assert Note.objects.filter(person=person, confidentiality=C.HEALTH).count() == 1
    assert TimelineEvent.objects.filter(person=person).count() == before
    assert not any(HEALTH_BODY in (e.title + e.detail) for e in TimelineEvent.objects.all())


def test_a_class_one_may_not_write_is_refused(world):
    person = world["person"]
    response = login_client(world["member"]).post(notes_url(person), {
        "confidentiality": "health", "kind": "observation", "body": "Tentative",
    })
    assert response.status_code == 400
    html = html_of(response)
    assert "Vous ne pouvez pas écrire une note de cette confidentialité" in html
    assert "Tentative" in html
    assert not Note.objects.exists()
    with pytest.raises(PermissionDenied):
        note_services.add_note(person, membership_of(world["member"]), confidentiality=C.HEALTH, kind="other",
                               body="x")
    assert login_client(world["admin_ref"]).post(notes_url(person), {
        "confidentiality": "group", "kind": "observation", "body": "x"}).status_code == 403
    assert login_client(world["outsider"]).post(notes_url(person), {
        "confidentiality": "group", "kind": "observation", "body": "x"}).status_code == 403
    assert not Note.objects.exists()


def test_empty_body_and_future_contact(world):
    person = world["person"]
    response = login_client(world["referent"]).post(notes_url(person), {
        "confidentiality": "group", "kind": "phone", "body": "  ", "is_contact": "on",
        "contact_on": days_ago(-3).isoformat(),
    })
    html = html_of(response)
    assert "Écrivez la note." in html
    assert "La date du contact ne peut pas être dans le futur." in html
    assert not Note.objects.exists()


# --- Edit and delete ----------------------------------------------------------------------------


def test_only_the_author_edits(world, notes):
    person = world["person"]
    url = reverse("followup:note_edit", args=[person.pk, notes["group"].pk])
    assert login_client(world["member"]).get(url).status_code == 403
    response = login_client(world["member"]).post(url, {"confidentiality": "group", "kind": "other", "body": "Pirate"})
    assert response.status_code == 403
    # A note one may not read is a 404, not a 403.
    url_health = reverse("followup:note_edit", args=[person.pk, notes["health"].pk])
    assert login_client(world["member"]).get(url_health).status_code == 404
    client = login_client(world["referent"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"confidentiality": "structure", "kind": "phone", "body": "Corrigée"})
    assert response.status_code == 302
    notes["group"].refresh_from_db()
    assert (notes["group"].body, notes["group"].kind, notes["group"].confidentiality) == ("Corrigée", "phone",
                                                                                          "structure")


def test_only_the_author_deletes_with_confirmation(world, notes):
    person = world["person"]
    target = notes["structure"]
    url = reverse("followup:note_delete", args=[person.pk, target.pk])
    add_to_group(person, world["colleague"])
    assert login_client(world["colleague"]).post(url).status_code == 403
    client = login_client(world["referent"])
    response = client.get(url)
    assert response.status_code == 200 and "Supprimer définitivement" in html_of(response)
    assert Note.objects.filter(pk=target.pk).exists()
    assert client.post(url).status_code == 302
    assert not Note.objects.filter(pk=target.pk).exists()
    event = TimelineEvent.objects.get(person=person, kind="note", title="Note supprimée")
    assert event.detail == ""
    # A health note leaves no trace when deleted either.
    client.post(reverse("followup:note_delete", args=[person.pk, notes["health"].pk]))
    assert not Note.objects.filter(pk=notes["health"].pk).exists()
    assert TimelineEvent.objects.filter(person=person, title="Note supprimée").count() == 1


def test_note_of_another_person_in_the_url_is_404(world, notes):
    from tests.people.factories import PersonFactory

    other = PersonFactory(territory=world["territory"])
    add_to_group(other, world["referent"], FollowUpMembership.Kind.REFERENT)
    for name in ("followup:note_edit", "followup:note_delete"):
        url = reverse(name, args=[other.pk, notes["group"].pk])
        assert login_client(world["referent"]).get(url).status_code == 404


# --- List, filters, export -----------------------------------------------------------------------


def test_filters_and_access_log(world, notes):
    person = world["person"]
    client = login_client(world["referent"])
    html = html_of(client.get(notes_url(person), {"confidentiality": "structure"}))
    assert STRUCTURE_BODY in html and GROUP_BODY not in html
    row = AccessLog.objects.order_by("-id").first()
    assert (row.user, row.person, row.section) == (world["referent"], person, AccessLog.Section.NOTE)
    Note.objects.filter(pk=notes["group"].pk).update(kind="phone")
    html = html_of(client.get(notes_url(person), {"kind": "phone"}))
    assert GROUP_BODY in html and STRUCTURE_BODY not in html


def test_export_contains_only_readable_notes(world, notes):
    from openpyxl import load_workbook

    person = world["person"]
    client = login_client(world["member"])
    response = client.get(notes_url(person), {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert GROUP_BODY in body and MEMBER_BODY in body
    assert STRUCTURE_BODY not in body and HEALTH_BODY not in body
    assert AccessLog.objects.filter(person=person, section=AccessLog.Section.EXPORT, user=world["member"]).exists()
    response = client.get(notes_url(person), {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert len(rows) == 3
    assert {r[6] for r in rows[1:]} == {GROUP_BODY, MEMBER_BODY}


def test_pagination(world):
    for i in range(30):
        note(world, f"Note numéro {i:02d}")
    client = login_client(world["referent"])
    page1 = html_of(client.get(notes_url(world["person"])))
    assert "Note numéro 29" in page1 and "Note numéro 04" not in page1
    page2 = html_of(client.get(notes_url(world["person"]), {"page": 2}))
    assert "Note numéro 04" in page2


def _list_queries(world, count):
    person = world["person"]
    Note.objects.filter(person=person).delete()
    for i in range(count):
        n = note(world, f"Note {i}", [C.GROUP, C.STRUCTURE, C.HEALTH][i % 3])
        n.attachments.create(file=f"notes/x{i}.txt", original_name=f"f{i}.txt", content_type="text/plain", size=1,
                             sha256="0" * 64)
    client = login_client(world["referent"])
    client.get(notes_url(person))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(notes_url(person))
    assert response.status_code == 200
    assert html_of(response).count("f0.txt") == 1
    return len(ctx.captured_queries)


def test_notes_page_query_count_is_constant(world):
    assert _list_queries(world, 2) == _list_queries(world, 10)


# --- The record's summary ---------------------------------------------------------------------


def _render_summary(world, who):
    request = RequestFactory().get("/")
    user = world[who]
    request.user = user
    request.membership = membership_of(user)
    person = world["person"]
    access = people_policies.access_for(user, request.membership, person)
    template = Template("{% load notes_tags %}{% notes_summary person access %}")
    with CaptureQueriesContext(connection) as ctx:
        html = template.render(Context({"request": request, "person": person, "access": access}))
    return " ".join(unescape(strip_tags(html)).split()), len(ctx.captured_queries)


def test_notes_summary_shows_three_latest_visible_notes(world, notes):
    older = note(world, "Plus ancienne note de groupe")
    Note.objects.filter(pk=older.pk).update(created_at=timezone.now() - timezone.timedelta(days=10))
    html, queries = _render_summary(world, "referent")
    assert queries <= 2
    assert GROUP_BODY in html and STRUCTURE_BODY in html
    assert HEALTH_BODY not in html and "Contenu de la section santé" in html  # no health text on the record
    assert "Plus ancienne" not in html
    html, _ = _render_summary(world, "member")
    assert MEMBER_BODY in html and STRUCTURE_BODY not in html and "Plus ancienne" in html
    html, queries = _render_summary(world, "outsider")
    assert html == "" and queries == 0
