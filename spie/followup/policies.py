"""Who may see and do what in the follow-up of a person (plan, appointments, notes, exit,
post-hiring follow-up). Plain functions on top of :func:`spie.people.policies.access_for`.

- The plan, appointments, exit and employment follow the record: readable with the RECORD
  section, writable with ``can_edit`` (référent, group member, chargé d'orientation without
  opposition).
- Notes have a confidentiality class:
  - ``group``: active members of the follow-up group (référent and members);
  - ``structure``: a restriction of the group class: the active group members who currently
    belong to the author's structure (a structure admin or a chargé d'orientation who opens the
    record without being in the group reads neither class, except their own notes);
  - ``health``: only those who see the restricted health section.
  The author keeps sight of their own note while they may open the record.
"""

from django.db.models import Q

from spie.people import policies as people_policies

from .models import Note

GROUP_RELATIONS = {people_policies.REFERENT, people_policies.MEMBER}


def can_read(access):
    return access.can_see(people_policies.RECORD)


def can_edit(access):
    return can_read(access) and access.can_edit


def can_close(access):
    """Exit and re-opening of the pathway: the référent unique (or a structure admin of the group)."""
    return can_read(access) and (access.relation == people_policies.REFERENT or access.can_manage_group)


def note_classes_writable(access):
    """Confidentiality classes this professional may write on this record."""
    if not can_edit(access):
        return []
    classes = [Note.Confidentiality.GROUP, Note.Confidentiality.STRUCTURE]
    if access.can_see_health:
        classes.append(Note.Confidentiality.HEALTH)
    return classes


def visible_notes_q(user, membership, access):
    """A Q selecting the notes of a record this professional may read (deny by default)."""
    if not can_read(access):
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    if access.relation in GROUP_RELATIONS:
        condition |= Q(confidentiality=Note.Confidentiality.GROUP)
        structure_ids = people_policies.current_structure_ids(user)
        condition |= Q(confidentiality=Note.Confidentiality.STRUCTURE, author_structure_id__in=structure_ids)
    if access.can_see_health:
        condition |= Q(confidentiality=Note.Confidentiality.HEALTH)
    # The author's own notes, except health notes once the health right is lost.
    condition |= Q(author_id=user.id) & ~Q(confidentiality=Note.Confidentiality.HEALTH)
    return condition


def can_read_note(user, membership, access, note):
    if not can_read(access):
        return False
    if note.confidentiality == Note.Confidentiality.HEALTH:
        return access.can_see_health
    if note.author_id == user.id:
        return True
    if access.relation not in GROUP_RELATIONS:
        return False
    if note.confidentiality == Note.Confidentiality.GROUP:
        return True
    return note.author_structure_id in people_policies.current_structure_ids(user)


def can_change_note(user, access, note):
    """Only the author edits or deletes a note, while they may still read it."""
    return note.author_id == user.id and can_edit(access) and can_read_note(user, None, access, note)
