"""Template tags of the follow-up notes.

``{% notes_summary person access %}`` shows, on the person's record, the 3 latest notes this
professional may read (an excerpt; a health note shows no text outside the notes page) and a link.
One query. It writes no access-log row: the record page that includes it logs its own read.
"""

from django import template
from django.utils.html import format_html

from .. import policies
from ..models import Note

register = template.Library()

CLASS_BADGES = {
    Note.Confidentiality.GROUP: ("badge", "Groupe de suivi"),
    Note.Confidentiality.STRUCTURE: ("badge badge-warn", "Réservée à la structure"),
    Note.Confidentiality.HEALTH: ("badge badge-restricted", "Santé — accès restreint"),
}


@register.inclusion_tag("followup/notes/_summary.html", takes_context=True)
def notes_summary(context, person, access):
    if not policies.can_read(access):
        return {"visible": False}
    request = context.get("request")
    user = getattr(request, "user", None)
    membership = getattr(request, "membership", None)
    if user is None:
        return {"visible": False}
    notes = list(
        Note.objects.filter(person=person)
        .filter(policies.visible_notes_q(user, membership, access))
        .select_related("author", "author_structure")
        .order_by("-created_at", "-id")[:3]
    )
    return {"visible": True, "person": person, "notes": notes,
            "can_write": bool(policies.note_classes_writable(access))}


@register.simple_tag
def note_class_badge(confidentiality):
    css, label = CLASS_BADGES.get(confidentiality, ("badge", confidentiality))
    return format_html('<span class="{}">{}</span>', css, label)
