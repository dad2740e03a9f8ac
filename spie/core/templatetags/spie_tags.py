from django import template

register = template.Library()


@register.filter
def label(code, labels):
    """Human label of a vocabulary code: ``{{ code|label:labels }}`` (falls back to the code)."""
    if not labels:
        return code
    return labels.get(code, code)
