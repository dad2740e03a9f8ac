"""The date of the last contact with the person, which feeds the "no contact" alert."""

from django.utils import timezone

from spie.people.models import Person


def record_contact(person, on=None):
    """Move ``person.last_contact_on`` forward to ``on`` (never backwards)."""
    on = on or timezone.localdate()
    if on > timezone.localdate():
        return person.last_contact_on
    if person.last_contact_on is None or on > person.last_contact_on:
        person.last_contact_on = on
        Person.objects.filter(pk=person.pk).update(last_contact_on=on)
    return person.last_contact_on
