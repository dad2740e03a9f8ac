"""Template tags of the diagnostics: the record section and small display helpers."""

from django import template

from spie.diagnostics import policies, selectors
from spie.diagnostics.models import Severity

register = template.Library()

SEVERITY_LABELS = dict(Severity.choices)


@register.inclusion_tag("diagnostics/_record_section.html")
def diagnostic_summary(person, access):
    """The "Diagnostic" section of the person's record, in at most two queries.

    Usage: ``{% load diagnostics_tags %}{% diagnostic_summary person access %}``. Shows the
    latest diagnostic (status, date), the latest completed one's proposed orientation and top
    barriers, and the links the user's access allows. The record page logs the read.
    """
    if not policies.can_read(access):
        return {"person": person, "visible": False}
    data = selectors.summary(person)
    return {
        "person": person,
        "visible": True,
        "summary": data,
        "can_start": policies.can_start(access),
    }


@register.filter
def severity_label(value):
    return SEVERITY_LABELS.get(value, value)

