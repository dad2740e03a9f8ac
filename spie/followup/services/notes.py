"""Writes on follow-up notes: add (with checked attachments), edit and delete by the author.

The confidentiality rules live in :mod:`spie.followup.policies` (``note_classes_writable``,
``can_change_note``); this module only applies them. A note's body never leaves the note:
the timeline says that a note was added (group), that a note reserved to a structure was added
(structure), or nothing at all (health); no e-mail, no log line carries it.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from spie.people import policies as people_policies
from spie.people import services as people_services

from .. import attachments as attachment_checks
from .. import policies
from ..models import Note
from .contacts import record_contact

WRITE_DENIED = "Vous ne pouvez pas écrire de note dans le dossier de cette personne."
CLASS_DENIED = "Vous ne pouvez pas écrire une note de cette confidentialité dans ce dossier."
CHANGE_DENIED = "Seul l'auteur d'une note peut la modifier ou la supprimer."
MAX_BODY = 20000


def _access(person, membership):
    return people_policies.access_for(membership.user, membership, person)


def _check_fields(access, *, confidentiality, kind, body, is_contact, contact_on):
    errors = {}
    body = (body or "").strip()
    if not body:
        errors["body"] = ["Écrivez la note."]
    elif len(body) > MAX_BODY:
        errors["body"] = [f"La note ne doit pas dépasser {MAX_BODY} caractères ({len(body)} saisis)."]
    if kind not in Note.Kind.values:
        errors["kind"] = ["Choisissez la nature de la note."]
    if confidentiality not in Note.Confidentiality.values:
        errors["confidentiality"] = ["Choisissez qui peut lire la note."]
    elif confidentiality not in policies.note_classes_writable(access):
        raise PermissionDenied(CLASS_DENIED)
    if is_contact and contact_on and contact_on > timezone.localdate():
        errors["contact_on"] = ["La date du contact ne peut pas être dans le futur."]
    return body, errors


def _timeline(note, membership, title):
    people_services.add_event(note.person, "note", title, actor=membership.user, structure=membership.structure)


@transaction.atomic
def add_note(person, membership, *, confidentiality, kind, body, is_contact=False, contact_on=None,
             files=(), access=None):
    """Write a note (and up to 3 checked attachments); a contact moves ``last_contact_on``."""
    access = access or _access(person, membership)
    if not policies.note_classes_writable(access):
        raise PermissionDenied(WRITE_DENIED)
    body, errors = _check_fields(access, confidentiality=confidentiality, kind=kind, body=body,
                                 is_contact=is_contact, contact_on=contact_on)
    checked = []
    try:
        checked = attachment_checks.validate_attachments(files)
    except ValidationError as exc:
        errors["attachments"] = exc.messages
    if errors:
        raise ValidationError(errors)
    note = Note.objects.create(
        person=person, confidentiality=confidentiality, kind=kind, is_contact=bool(is_contact), body=body,
        author=membership.user, author_structure=membership.structure,
    )
    stored = []
    try:
        for upload, fmt in checked:
            stored.append(attachment_checks.store(note, upload, fmt))
        if confidentiality == Note.Confidentiality.GROUP:
            _timeline(note, membership, "Note ajoutée")
        elif confidentiality == Note.Confidentiality.STRUCTURE:
            _timeline(note, membership, f"Note réservée à {membership.structure.name} ajoutée")
        # Health notes leave no trace in the timeline: its readers may not see the health section.
        if is_contact:
            record_contact(person, on=contact_on or timezone.localdate())
    except Exception:
        # The files are written before the commit: do not leave them behind a rolled-back note.
        for attachment in stored:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return note


@transaction.atomic
def update_note(note, membership, *, body, kind, confidentiality, is_contact=False, contact_on=None, access=None):
    """The author edits the text, the kind or the class (within the classes they may write)."""
    access = access or _access(note.person, membership)
    if not policies.can_change_note(membership.user, access, note):
        raise PermissionDenied(CHANGE_DENIED)
    body, errors = _check_fields(access, confidentiality=confidentiality, kind=kind, body=body,
                                 is_contact=is_contact, contact_on=contact_on)
    if errors:
        raise ValidationError(errors)
    was_contact = note.is_contact
    note.body, note.kind, note.confidentiality, note.is_contact = body, kind, confidentiality, bool(is_contact)
    note.save(update_fields=["body", "kind", "confidentiality", "is_contact", "updated_at"])
    if is_contact and not was_contact:
        record_contact(note.person, on=contact_on or timezone.localdate(note.created_at))
    return note


@transaction.atomic
def delete_note(note, membership, *, access=None):
    """The author deletes a note and its files; the timeline keeps "Note supprimée", without content."""
    person = note.person
    access = access or _access(person, membership)
    if not policies.can_change_note(membership.user, access, note):
        raise PermissionDenied(CHANGE_DENIED)
    files = [(a.file.storage, a.file.name) for a in note.attachments.all()]
    confidentiality = note.confidentiality
    note.delete()

    def remove_files():
        for storage, name in files:
            storage.delete(name)

    transaction.on_commit(remove_files)
    if confidentiality != Note.Confidentiality.HEALTH:
        _timeline(note, membership, "Note supprimée")
