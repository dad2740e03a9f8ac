"""Engagements: creation (for a company or by a structure), list with counts by kind and month,
export and constant query count, registration of a followed person (access logged, capacity,
once), attendance by the organiser, coordinators see counts without names."""

# ruff: noqa: F811 -- pytest fixtures (world, emp) are imported from test_companies_fixtures

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from spie.core.models import AccessLog
from spie.employers.models import Engagement, EngagementRegistration
from spie.employers.services import companies as services
from spie.people import policies as people_policies
from spie.people.models import TimelineEvent
from tests.people.factories import PersonFactory

from .factories import EngagementFactory
from .test_companies_fixtures import _media_root, emp, membership_of, queries, world  # noqa: F401

LIST = reverse("employers:engagements")


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def register(engagement, person, user):
    membership = membership_of(user)
    access = people_policies.access_for(user, membership, person)
    return services.register_person(engagement, person, membership=membership, access=access)


# --- Create ---------------------------------------------------------------------------------------------


def test_create_for_a_company_and_by_a_structure(world, emp, client_for):
    client = client_for(world["referent"])
    data = {"kind": "visit", "title": "Visite du chantier", "date": days(7).isoformat(), "capacity": "10",
            "commune": "Muret", "description": "", "partner": str(emp["club"].pk)}
    url = reverse("employers:engagement_new") + f"?entreprise={emp['spaced'].uid}"
    assert client.post(url, data).status_code == 302
    engagement = Engagement.objects.get(title="Visite du chantier")
    assert engagement.company == emp["spaced"] and engagement.partner == emp["club"]
    response = client.post(reverse("employers:engagement_new"),
                           {**data, "title": "Webinaire métiers", "kind": "webinar", "commune": "", "remote": "on",
                            "partner": ""})
    assert response.status_code == 302
    webinar = Engagement.objects.get(title="Webinaire métiers")
    assert webinar.company is None and webinar.territory == world["territory"]


def test_create_errors_in_french(world, emp, client_for):
    response = client_for(world["referent"]).post(reverse("employers:engagement_new"), {
        "kind": "visit", "title": "Sans lieu", "date": "pas une date", "capacity": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Indiquez le lieu" in page and "Saisissez une date valide" in page and 'value="Sans lieu"' in page


def test_coordinator_cannot_create(world, emp, client_for):
    assert client_for(world["coordinator"]).get(reverse("employers:engagement_new")).status_code == 403


# --- List -------------------------------------------------------------------------------------------------


def test_list_counts_by_kind_and_month(world, emp, client_for):
    past = EngagementFactory(territory=world["territory"], company=emp["plain"], date=days(-3), kind="visit")
    EngagementFactory(territory=world["territory"], company=emp["spaced"], date=days(-2), kind="job_dating")
    person = world["person"]
    EngagementRegistration.objects.create(engagement=past, person=person, registered_by=world["referent"],
                                          structure=world["ref_structure"], attended=True)
    EngagementRegistration.objects.create(engagement=past, person=PersonFactory(territory=world["territory"]),
                                          registered_by=world["referent"], structure=world["ref_structure"],
                                          attended=False)
    response = client_for(world["coordinator"]).get(LIST)
    assert response.status_code == 200
    rows = response.context["by_month"]
    visit = next(r for r in rows if r["kind"] == "Visite d'entreprise")
    assert visit["events"] == 1 and visit["registered"] == 2 and visit["attended"] == 1
    assert response.context["totals"] == {"events": 2, "registered": 2, "attended": 1}
    assert "Camille" not in response.content.decode()
    assert {e.kind for e in client_for(world["referent"]).get(LIST, {"type": "visit"}).context["page"]} == {"visit"}


def test_company_user_sees_its_engagements_only(world, emp, client_for):
    own = EngagementFactory(territory=world["territory"], company=emp["spaced"])
    other = EngagementFactory(territory=world["territory"], company=emp["plain"])
    client = client_for(emp["company_user"])
    assert {e.pk for e in client.get(LIST).context["page"].object_list} == {own.pk}
    assert client.get(reverse("employers:engagement_detail", args=[other.uid])).status_code == 403


def test_export_and_query_count(world, emp, client_for):
    client = client_for(world["referent"])
    EngagementFactory(territory=world["territory"], company=emp["plain"])
    response = client.get(LIST, {"format": "csv"})
    assert response.status_code == 200 and len(b"".join(response.streaming_content).splitlines()) == 2
    before = queries(client, LIST)
    for i in range(4):
        engagement = EngagementFactory(territory=world["territory"], company=emp["spaced"], date=days(-40 * i))
        EngagementRegistration.objects.create(engagement=engagement, person=PersonFactory(
            territory=world["territory"]), registered_by=world["referent"], structure=world["ref_structure"])
    assert queries(client, LIST) == before


# --- Registration ----------------------------------------------------------------------------------------


def test_referent_registers_a_followed_person(world, emp, client_for):
    engagement = EngagementFactory(territory=world["territory"], company=emp["plain"], capacity=2)
    client = client_for(world["referent"])
    detail = client.get(reverse("employers:engagement_detail", args=[engagement.uid])).content.decode()
    assert "DUPUIS Camille" in detail  # in the choice of followed persons
    response = client.post(reverse("employers:engagement_register", args=[engagement.uid]),
                           {"person": world["person"].pk})
    assert response.status_code == 302
    registration = EngagementRegistration.objects.get(engagement=engagement)
    assert registration.person == world["person"] and registration.structure == world["ref_structure"]
    assert AccessLog.objects.filter(person=world["person"], section=AccessLog.Section.JOBS,
                                    user=world["referent"]).count() == 1
    assert TimelineEvent.objects.filter(person=world["person"], kind="engagement_registered").exists()
    # Once only.
    response = client.post(reverse("employers:engagement_register", args=[engagement.uid]),
                           {"person": world["person"].pk})
    assert response.status_code == 400 and "déjà inscrite" in response.content.decode()
    assert EngagementRegistration.objects.count() == 1


def test_cannot_register_a_person_not_followed(world, emp, client_for):
    engagement = EngagementFactory(territory=world["territory"], company=emp["plain"])
    for who in ("outsider", "coordinator"):
        response = client_for(world[who]).post(reverse("employers:engagement_register", args=[engagement.uid]),
                                               {"person": world["person"].pk})
        assert response.status_code in (400, 403)
    response = client_for(emp["company_user"]).post(
        reverse("employers:engagement_register", args=[engagement.uid]), {"person": world["person"].pk})
    assert response.status_code == 403
    assert not EngagementRegistration.objects.exists()


def test_capacity_is_checked(world, emp):
    engagement = EngagementFactory(territory=world["territory"], company=emp["plain"], capacity=1)
    other = PersonFactory(territory=world["territory"])
    EngagementRegistration.objects.create(engagement=engagement, person=other, registered_by=world["referent"],
                                          structure=world["ref_structure"])
    with pytest.raises(ValidationError, match="complet"):
        register(engagement, world["person"], world["referent"])


def test_past_engagement_refuses_registrations(world, emp):
    engagement = EngagementFactory(territory=world["territory"], company=emp["plain"], date=days(-1))
    with pytest.raises(ValidationError, match="passé"):
        register(engagement, world["person"], world["referent"])


# --- Names and attendance ------------------------------------------------------------------------------------


def _past_with_camille(world, emp):
    engagement = EngagementFactory(territory=world["territory"], company=emp["spaced"], date=days(-1))
    registration = EngagementRegistration.objects.create(
        engagement=engagement, person=world["person"], registered_by=world["referent"],
        structure=world["ref_structure"])
    return engagement, registration


def test_coordinator_sees_counts_without_names(world, emp, client_for):
    engagement, _registration = _past_with_camille(world, emp)
    page = client_for(world["coordinator"]).get(reverse("employers:engagement_detail", args=[engagement.uid])) \
        .content.decode()
    assert "<strong>1</strong> inscrit" in page
    assert "Camille" not in page and "Dupuis" not in page.replace("DUPUIS", "")


def test_other_professional_sees_only_the_persons_they_follow(world, emp, client_for):
    engagement, _registration = _past_with_camille(world, emp)
    page = client_for(world["outsider"]).get(reverse("employers:engagement_detail", args=[engagement.uid])) \
        .content.decode()
    assert "Camille" not in page and "1 autre personne inscrite" in page


def test_organiser_marks_attendance(world, emp, client_for):
    engagement, registration = _past_with_camille(world, emp)
    client = client_for(emp["company_user"])
    page = client.get(reverse("employers:engagement_detail", args=[engagement.uid])).content.decode()
    assert "Camille D." in page and "DUPUIS" not in page
    assert reverse("people:record", args=[world["person"].pk]) not in page
    assert AccessLog.objects.filter(person=world["person"], user=emp["company_user"],
                                    section=AccessLog.Section.JOBS).count() == 1
    response = client.post(reverse("employers:engagement_attendance", args=[engagement.uid]),
                           {f"r{registration.pk}": "yes"})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.attended is True
    # Not the organiser: 403.
    response = client_for(world["member"]).post(reverse("employers:engagement_attendance", args=[engagement.uid]),
                                                {f"r{registration.pk}": "no"})
    assert response.status_code == 403
    registration.refresh_from_db()
    assert registration.attended is True


def test_attendance_not_before_the_day(world, emp):
    engagement = EngagementFactory(territory=world["territory"], company=emp["spaced"], date=days(3))
    registration = register(engagement, world["person"], world["referent"])
    with pytest.raises(ValidationError, match="à partir du jour"):
        services.mark_attendance(engagement, membership=membership_of(world["referent"]),
                                 attendance={registration.pk: True})


def test_organiser_edits_the_engagement(world, emp, client_for):
    engagement = EngagementFactory(territory=world["territory"], company=emp["plain"], title="Visite", capacity=5)
    url = reverse("employers:engagement_edit", args=[engagement.uid])
    client = client_for(world["referent"])  # acts for a company without an account
    page = client.get(url).content.decode()
    assert "Modifier l&#x27;événement" in page or "Modifier l'événement" in page
    data = {"kind": "visit", "title": "Visite de l'atelier", "date": days(9).isoformat(), "capacity": "",
            "commune": "", "description": "", "partner": ""}
    response = client.post(url, data)
    assert response.status_code == 400 and "Indiquez le lieu" in response.content.decode()
    assert client.post(url, {**data, "commune": "Muret"}).status_code == 302
    engagement.refresh_from_db()
    assert engagement.title == "Visite de l'atelier" and engagement.date == days(9) and engagement.capacity is None
    # Who does not organise it may not edit it.
    assert client_for(world["coordinator"]).get(url).status_code == 403
    assert client_for(emp["company_user"]).post(url, data).status_code == 403


def test_unregister_before_attendance(world, emp, client_for):
    engagement = EngagementFactory(territory=world["territory"], company=emp["plain"])
    registration = register(engagement, world["person"], world["referent"])
    url = reverse("employers:engagement_unregister", args=[engagement.uid])
    # Someone who may not open the record cannot unregister the person.
    assert client_for(world["outsider"]).post(url, {"inscription": registration.pk}).status_code == 403
    assert EngagementRegistration.objects.filter(pk=registration.pk).exists()
    client = client_for(world["referent"])
    assert "Désinscrire" in client.get(reverse("employers:engagement_detail", args=[engagement.uid])).content.decode()
    assert client.post(url, {"inscription": "abc"}).status_code == 404
    assert client.post(url, {"inscription": registration.pk}).status_code == 302
    assert not EngagementRegistration.objects.filter(pk=registration.pk).exists()
    assert TimelineEvent.objects.filter(person=world["person"], kind="engagement_unregistered").exists()
    # Attendance noted: the registration stays.
    again = register(engagement, world["person"], world["referent"])
    EngagementRegistration.objects.filter(pk=again.pk).update(attended=True)
    response = client.post(url, {"inscription": again.pk}, follow=True)
    assert "La présence a déjà été notée" in response.content.decode()
    assert EngagementRegistration.objects.filter(pk=again.pk).exists()


def test_engagement_limits(world, emp):
    membership = membership_of(world["referent"])
    data = {"kind": "visit", "title": "Visite", "description": "", "date": days(5), "capacity": 10,
            "partner": None, "commune": emp["plain"].commune, "remote": False}
    for change, field in (({"date": datetime.date(1900, 1, 1)}, "date"), ({"capacity": 0}, "capacity"),
                          ({"capacity": 99999}, "capacity")):
        with pytest.raises(ValidationError) as exc:
            services.create_engagement(membership=membership, data={**data, **change}, company=emp["plain"])
        assert field in exc.value.message_dict
    assert not Engagement.objects.filter(title="Visite").exists()
