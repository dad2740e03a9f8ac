"""Pages of the follow-up notes: ``/personnes/<pk>/notes/`` and the notes' attachments.

The list shows only the notes this professional may read (``followup.policies.visible_notes_q``);
a note is edited or deleted by its author only (``can_change_note``); the classes one may write
come from ``note_classes_writable``. Attachments are served only through
``/personnes/<pk>/notes/<note_id>/pieces/<attachment_id>/`` after ``can_read_note``: an attachment
of another person, of a note one may not read, or unknown, is the same 404. Every read writes the
access log (section NOTE), exports write it as an export.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from spie.core.audit import log_access, log_export
from spie.core.exports import export_format, export_response
from spie.core.models import AccessLog
from spie.core.policies import view_policy

from .. import policies
from ..forms_notes import NoteFilterForm, NoteForm
from ..models import Note, NoteAttachment
from ..services import notes as note_services
from .plan import load

PAGE_SIZE = 25


def visible_notes(request, person, access):
    """The notes of ``person`` this professional may read, newest first, with authors and files."""
    return (
        Note.objects.filter(person=person)
        .filter(policies.visible_notes_q(request.user, request.membership, access))
        .select_related("author", "author_structure")
        .prefetch_related(Prefetch("attachments", queryset=NoteAttachment.objects.only(
            "pk", "note_id", "original_name", "content_type", "size"), to_attr="files"))
        .order_by("-created_at", "-id")
    )


def _note_of(request, person, access, note_id):
    """A note of this person that this professional may read, else 404 (the same for all causes)."""
    note = Note.objects.filter(pk=note_id, person=person).select_related("author", "author_structure").first()
    if note is None or not policies.can_read_note(request.user, request.membership, access, note):
        raise Http404
    note.person = person
    return note


def _render_list(request, person, access, *, form=None, status=200):
    filter_form = NoteFilterForm(request.GET or None)
    qs = visible_notes(request, person, access).filter(**filter_form.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    classes = policies.note_classes_writable(access)
    if form is None and classes:
        form = NoteForm(classes=classes)
    user_id = request.user.id
    for note in page.object_list:
        note.can_change = note.author_id == user_id and policies.can_edit(access)
    log_access(request, person, AccessLog.Section.NOTE)
    return render(request, "followup/notes/list.html", {
        "person": person,
        "access": access,
        "page": page,
        "filter_form": filter_form,
        "form": form,
    }, status=status)


@view_policy("followup.notes")
def notes(request, pk):
    person, access = load(request, pk)
    if request.method == "POST":
        return _add(request, person, access)
    fmt = export_format(request)
    if fmt:
        return _export(request, person, access, fmt)
    return _render_list(request, person, access)


def _add(request, person, access):
    classes = policies.note_classes_writable(access)
    if not classes:
        raise PermissionDenied(note_services.WRITE_DENIED)
    form = NoteForm(request.POST, request.FILES, classes=classes)
    if form.is_valid():
        data = form.cleaned_data
        try:
            note_services.add_note(
                person, request.membership, confidentiality=data["confidentiality"], kind=data["kind"],
                body=data["body"], is_contact=data["is_contact"], contact_on=data["contact_on"],
                files=data.get("attachments") or [], access=access,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Note enregistrée.")
            return redirect("followup:notes", pk=person.pk)
    return _render_list(request, person, access, form=form, status=400)


def _add_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _export(request, person, access, fmt):
    filter_form = NoteFilterForm(request.GET or None)
    log_export(request, [person.pk], reason="export des notes de suivi")
    header = ["Date", "Nature", "Visible par", "Contact avec la personne", "Auteur", "Structure", "Note",
              "Pièces jointes"]
    qs = visible_notes(request, person, access).filter(**filter_form.filters())

    def rows():
        # Only notes this user may read are in ``qs``: their body is exported, nothing else is.
        for note in qs.iterator(chunk_size=200):
            yield [note.created_at, note.get_kind_display(), note.get_confidentiality_display(), note.is_contact,
                   str(note.author), note.author_structure.name, note.body,
                   ", ".join(a.original_name for a in note.files)]

    return export_response(fmt, f"notes-{person.pk}", header, rows(), sheet_title="Notes de suivi")


@view_policy("followup.note_edit")
def edit(request, pk, note_id):
    person, access = load(request, pk)
    note = _note_of(request, person, access, note_id)
    if not policies.can_change_note(request.user, access, note):
        raise PermissionDenied(note_services.CHANGE_DENIED)
    classes = policies.note_classes_writable(access)
    if note.confidentiality not in classes:
        classes = [*classes, note.confidentiality]  # keep the current class selectable
    initial = {"confidentiality": note.confidentiality, "kind": note.kind, "body": note.body,
               "is_contact": note.is_contact, "contact_on": timezone.localdate(note.created_at)}
    form = NoteForm(request.POST or None, classes=classes, with_files=False, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            note_services.update_note(
                note, request.membership, body=data["body"], kind=data["kind"],
                confidentiality=data["confidentiality"], is_contact=data["is_contact"],
                contact_on=data["contact_on"], access=access,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("confidentiality", str(exc))
        else:
            messages.success(request, "Note modifiée.")
            return redirect("followup:notes", pk=person.pk)
    if request.method != "POST":
        log_access(request, person, AccessLog.Section.NOTE, reason="modification d'une note")
    return render(request, "followup/notes/edit.html", {"person": person, "note": note, "form": form},
                  status=400 if form.errors else 200)


@view_policy("followup.note_delete")
def delete(request, pk, note_id):
    person, access = load(request, pk)
    note = _note_of(request, person, access, note_id)
    if not policies.can_change_note(request.user, access, note):
        raise PermissionDenied(note_services.CHANGE_DENIED)
    if request.method == "POST":
        note_services.delete_note(note, request.membership, access=access)
        messages.success(request, "Note supprimée.")
        return redirect("followup:notes", pk=person.pk)
    log_access(request, person, AccessLog.Section.NOTE, reason="suppression d'une note")
    return render(request, "followup/notes/delete.html", {"person": person, "note": note})


@view_policy("followup.note_attachment")
def attachment(request, pk, note_id, attachment_id):
    """A note's file, only after ``can_read_note``, as a download (never rendered inline)."""
    person, access = load(request, pk)
    note = _note_of(request, person, access, note_id)
    item = NoteAttachment.objects.filter(pk=attachment_id, note=note).first()
    if item is None:
        raise Http404
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    log_access(request, person, AccessLog.Section.NOTE, reason=f"pièce jointe de la note {note.pk}")
    response = FileResponse(handle, as_attachment=True, filename=item.original_name, content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("personnes/<int:pk>/notes/", notes, name="notes"),
    path("personnes/<int:pk>/notes/<int:note_id>/modifier/", edit, name="note_edit"),
    path("personnes/<int:pk>/notes/<int:note_id>/supprimer/", delete, name="note_delete"),
    path("personnes/<int:pk>/notes/<int:note_id>/pieces/<int:attachment_id>/", attachment, name="note_attachment"),
]
