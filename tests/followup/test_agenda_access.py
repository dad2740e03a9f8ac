"""The agenda shows only the appointments of persons the professional still follows: once they
have left the person's follow-up group (or the structure on whose behalf they followed the
person), the person's name and the appointment's purpose leave the agenda and its exports."""

import datetime

from django.urls import reverse
from django.utils import timezone

from spie.core.models import AccessLog
from spie.followup.models import Appointment
from spie.followup.services import appointments as services
from spie.network.models import Membership
from spie.people.models import FollowUpMembership
from tests.people.factories import PersonFactory, add_to_group

SECRET_PURPOSE = "Dossier de surendettement"


def at(days, hour=10):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def make(person, user, structure, days):
    return Appointment.objects.create(
        person=person, starts_at=at(days), purpose=SECRET_PURPOSE, with_user=user, mode="phone",
        structure=structure, created_by=user,
    )


def export_lines(client, tab):
    response = client.get(reverse("followup:agenda") + f"?onglet={tab}&format=csv")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()


def test_agenda_hides_persons_whose_group_the_user_left(world, client_for):
    referent, structure = world["referent"], world["ref_structure"]
    person = world["person"]
    make(person, referent, structure, days=2)
    make(person, referent, structure, days=-2)
    client = client_for(referent)
    body = client.get(reverse("followup:agenda")).content.decode()
    assert SECRET_PURPOSE in body and "DUPUIS Camille" in body

    FollowUpMembership.objects.filter(person=person, user=referent).update(end_date=timezone.localdate())

    for tab in ("a-venir", "a-renseigner"):
        body = client.get(reverse("followup:agenda") + f"?onglet={tab}").content.decode()
        assert SECRET_PURPOSE not in body
        assert "DUPUIS" not in body
        assert export_lines(client, tab) == [export_lines(client, tab)[0]]  # the header only
    assert not AccessLog.objects.filter(section=AccessLog.Section.EXPORT, person=person).exists()
    territory = world["territory"]
    assert not services.agenda_upcoming(referent, territory).exists()
    assert not services.agenda_to_record(referent, territory).exists()


def test_agenda_hides_follow_up_taken_for_a_structure_the_user_left(world, client_for):
    referent = world["referent"]
    former = world["other_structure"]
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Membership.objects.create(user=referent, structure=former, start_date=yesterday - datetime.timedelta(days=90),
                              end_date=yesterday)
    other = PersonFactory(territory=world["territory"], first_name="Léon", last_name="Ancien")
    FollowUpMembership.objects.create(person=other, user=referent, structure=former,
                                      kind=FollowUpMembership.Kind.MEMBER)
    make(other, referent, former, days=3)
    make(world["person"], referent, world["ref_structure"], days=4)

    body = client_for(referent).get(reverse("followup:agenda")).content.decode()
    assert "DUPUIS Camille" in body
    assert "ANCIEN" not in body
    assert body.count(SECRET_PURPOSE) == 1


def test_agenda_still_lists_a_person_followed_again(world, client_for):
    """Leaving one person's group does not hide the other persons the user follows."""
    referent = world["referent"]
    other = PersonFactory(territory=world["territory"], first_name="Zoé", last_name="Suivie")
    add_to_group(other, referent, FollowUpMembership.Kind.REFERENT)
    make(other, referent, world["ref_structure"], days=1)
    make(world["person"], referent, world["ref_structure"], days=2)
    FollowUpMembership.objects.filter(person=world["person"], user=referent).update(end_date=timezone.localdate())
    lines = export_lines(client_for(referent), "a-venir")
    assert len(lines) == 2 and "SUIVIE;Zoé" in lines[1]
