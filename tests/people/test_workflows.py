"""Workflows on persons through the pages: creation and duplicate guard, référent unique,
join requests, consent opposition, derived publics, caseload and search."""

import datetime
from html import unescape

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from spie.network.models import Membership, Structure
from spie.people import policies
from spie.people.models import Consent, FollowUpMembership, JoinRequest, Person, TimelineEvent
from tests.conftest import login_client
from tests.network.factories import CommuneFactory, StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import PersonFactory, add_to_group


def nir_with_key(first13):
    """A NIR with its key: 97 - (13 digits mod 97), Corsica 2A/2B counted as 19/18."""
    digits = first13.upper().replace("2A", "19").replace("2B", "18")
    return f"{first13}{97 - int(digits) % 97:02d}"


NIR = nir_with_key("2900531555042")
OTHER_NIR = nir_with_key("1880731555017")


def years_ago(years, *, days=0):
    today = timezone.localdate()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = datetime.date(today.year - years, 2, 28)
    return day + datetime.timedelta(days=days)


@pytest.fixture
def world(db):
    territory = TerritoryFactory()
    commune = CommuneFactory()
    ref_structure = StructureFactory(territory=territory, name="Association Tremplin")
    other_structure = StructureFactory(territory=territory, name="Mission locale Ouest",
                                       kind=Structure.Kind.MISSION_LOCALE)
    return {
        "territory": territory,
        "commune": commune,
        "ref_structure": ref_structure,
        "other_structure": other_structure,
        "referent": make_professional(structure=ref_structure, first_name="Rose", last_name="Référente",
                                      email="rose@tremplin.example"),
        "colleague": make_professional(structure=ref_structure),
        "member": make_professional(structure=other_structure),
        "outsider": make_professional(structure=StructureFactory(territory=territory, name="CCAS Colomiers"),
                                      first_name="Oscar", last_name="Extérieur"),
        "admin_other": make_professional(Membership.Role.ADMIN, structure=other_structure),
        "coordinator": make_professional(
            Membership.Role.COORDINATOR,
            structure=StructureFactory(territory=territory, kind=Structure.Kind.DEPARTEMENT),
        ),
    }


def person_post(**overrides):
    data = {
        "first_name": "Éloïse", "last_name": "DUPONT", "birth_name": "", "birth_date": "1990-05-06", "sex": "F",
        "commune": "31555", "address": "3 allée des Tilleuls", "phone": "0612345678", "email": "",
        "nir": "", "caf_number": "", "msa_number": "", "france_travail_id": "", "internal_id": "",
        "children_birth_years": "", "languages": "français", "education_level": "4", "driving_licence": "B",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------------------------
# Creation and duplicate guard.


def test_create_person_makes_the_creator_referent_and_adds_events(world):
    client = login_client(world["referent"])
    response = client.post(reverse("people:create"), person_post(nir=NIR))
    person = Person.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("people:record", args=[person.pk])
    assert person.commune == world["commune"]
    assert person.territory == world["territory"]
    assert person.nir == NIR
    assert person.created_by == world["referent"]
    assert person.languages == ["français"]
    referent = FollowUpMembership.objects.get(person=person)
    assert referent.kind == FollowUpMembership.Kind.REFERENT
    assert referent.user == world["referent"]
    assert referent.structure == world["ref_structure"]
    assert referent.end_date is None
    assert set(TimelineEvent.objects.filter(person=person).values_list("kind", flat=True)) == {"created", "referent"}
    # The creator opens the record straight away.
    record = client.get(response["Location"])
    assert record.status_code == 200
    assert "Entrée dans le parcours" in record.content.decode()


def test_coordinator_cannot_create(world):
    response = login_client(world["coordinator"]).post(reverse("people:create"), person_post())
    assert response.status_code == 403
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("first_name", "last_name"),
    [("eloise", "Dupont"), ("ELOÏSE", "dupont"), ("Éloïse", "Dupónt"), (" Eloise ", "DUPONT")],
)
def test_same_names_and_birth_date_show_the_existing_person(world, first_name, last_name):
    existing = PersonFactory(territory=world["territory"], first_name="Éloïse", last_name="DUPONT",
                             birth_date=datetime.date(1990, 5, 6))
    add_to_group(existing, world["member"], FollowUpMembership.Kind.REFERENT)
    response = login_client(world["referent"]).post(
        reverse("people:create"), person_post(first_name=first_name, last_name=last_name)
    )
    assert response.status_code == 200
    assert Person.objects.count() == 1
    html = response.content.decode()
    assert "Cette personne existe peut-être déjà" in html
    assert f'href="{reverse("people:record", args=[existing.pk])}"' in html
    assert "Mission locale Ouest" in html  # the existing référent's structure
    assert "voir la fiche et demander à rejoindre" in html


def test_different_birth_date_is_not_a_duplicate(world):
    PersonFactory(territory=world["territory"], first_name="Éloïse", last_name="DUPONT",
                  birth_date=datetime.date(1990, 5, 7))
    response = login_client(world["referent"]).post(reverse("people:create"), person_post())
    assert response.status_code == 302
    assert Person.objects.count() == 2


def test_homonym_in_another_territory_is_not_a_duplicate(world):
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    PersonFactory(territory=gers, first_name="Éloïse", last_name="DUPONT", birth_date=datetime.date(1990, 5, 6))
    response = login_client(world["referent"]).post(reverse("people:create"), person_post())
    assert response.status_code == 302
    assert Person.objects.filter(territory=world["territory"]).count() == 1


def test_same_nir_shows_the_existing_person(world):
    existing = PersonFactory(territory=world["territory"], first_name="Autre", last_name="Nom", nir=NIR)
    response = login_client(world["referent"]).post(reverse("people:create"), person_post(nir=NIR))
    assert response.status_code == 200
    assert Person.objects.count() == 1
    assert f'href="{reverse("people:record", args=[existing.pk])}"' in response.content.decode()


def test_confirming_a_homonym_creates_it_and_records_it(world):
    PersonFactory(territory=world["territory"], first_name="Éloïse", last_name="DUPONT",
                  birth_date=datetime.date(1990, 5, 6), nir=OTHER_NIR)
    response = login_client(world["referent"]).post(reverse("people:create"), person_post(nir=NIR, confirm="1"))
    assert response.status_code == 302
    assert Person.objects.count() == 2
    created = Person.objects.get(nir=NIR)
    assert TimelineEvent.objects.filter(person=created, kind="duplicate_confirmed").exists()


def test_confirming_never_creates_a_second_same_nir(world):
    PersonFactory(territory=world["territory"], first_name="Éloïse", last_name="DUPONT",
                  birth_date=datetime.date(1990, 5, 6), nir=NIR)
    for post in (person_post(nir=NIR, confirm="1"), person_post(first_name="Zoé", nir=NIR, confirm="1")):
        response = login_client(world["referent"]).post(reverse("people:create"), post)
        assert response.status_code == 200
        assert "Cette personne existe peut-être déjà" in response.content.decode()
    assert Person.objects.count() == 1


def test_confirming_never_creates_a_second_same_corsican_nir_typed_in_lower_case(world):
    corsican = nir_with_key("185042A004123")
    PersonFactory(territory=world["territory"], first_name="Paul", last_name="Santoni",
                  birth_date=datetime.date(1985, 4, 1), nir=corsican)
    response = login_client(world["referent"]).post(
        reverse("people:create"),
        person_post(first_name="Paul", last_name="Santoni", birth_date="1985-04-01", nir=corsican.lower(),
                    confirm="1"),
    )
    assert response.status_code == 200
    assert Person.objects.filter(nir=corsican).count() == 1


def test_invalid_nir_key_gets_a_french_error_and_creates_nothing(world):
    wrong = NIR[:13] + f"{(int(NIR[13:]) % 97) + 1:02d}"
    response = login_client(world["referent"]).post(reverse("people:create"), person_post(nir=wrong))
    assert response.status_code == 200
    assert "clé de contrôle" in response.content.decode()
    assert response.context["form"].errors["nir"]
    assert not Person.objects.exists()
    # What was typed is kept.
    assert 'value="3 allée des Tilleuls"' in response.content.decode()


def test_editing_a_nir_to_one_already_recorded_is_refused(world):
    PersonFactory(territory=world["territory"], first_name="Anna", last_name="Premiere", nir=NIR)
    second = PersonFactory(territory=world["territory"], first_name="Éloïse", last_name="DUPONT",
                           birth_date=datetime.date(1990, 5, 6))
    add_to_group(second, world["referent"], FollowUpMembership.Kind.REFERENT)
    response = login_client(world["referent"]).post(reverse("people:edit", args=[second.pk]), person_post(nir=NIR))
    assert response.status_code == 200
    second.refresh_from_db()
    assert second.nir == ""


def test_edit_records_changed_fields_in_the_timeline(world):
    person = PersonFactory(territory=world["territory"], first_name="Éloïse", last_name="DUPONT",
                           birth_date=datetime.date(1990, 5, 6), phone="")
    add_to_group(person, world["referent"], FollowUpMembership.Kind.REFERENT)
    response = login_client(world["referent"]).post(reverse("people:edit", args=[person.pk]),
                                                    person_post(phone="0700000000"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone == "0700000000"
    event = TimelineEvent.objects.get(person=person, kind="updated")
    assert "téléphone" in event.title
    assert "0700000000" not in event.title + event.detail


def test_unknown_commune_gets_a_french_error(world):
    response = login_client(world["referent"]).post(reverse("people:create"), person_post(commune="99999"))
    assert response.status_code == 200
    assert "Commune introuvable" in response.content.decode()
    assert not Person.objects.exists()


# ---------------------------------------------------------------------------------------------
# Référent unique.


def test_database_refuses_two_active_referents(world):
    person = PersonFactory(territory=world["territory"])
    add_to_group(person, world["referent"], FollowUpMembership.Kind.REFERENT)
    with pytest.raises(IntegrityError), transaction.atomic():
        add_to_group(person, world["member"], FollowUpMembership.Kind.REFERENT)
    # An ended référent row does not count.
    FollowUpMembership.objects.filter(person=person).update(end_date=timezone.localdate())
    add_to_group(person, world["member"], FollowUpMembership.Kind.REFERENT)
    assert FollowUpMembership.objects.filter(person=person, kind="referent").count() == 2


def test_database_refuses_two_active_rows_for_one_user(world):
    person = PersonFactory(territory=world["territory"])
    add_to_group(person, world["member"])
    with pytest.raises(IntegrityError), transaction.atomic():
        add_to_group(person, world["member"])


def test_change_referent_keeps_history(world):
    person = PersonFactory(territory=world["territory"])
    old = add_to_group(person, world["referent"], FollowUpMembership.Kind.REFERENT)
    member_row = add_to_group(person, world["member"])
    response = login_client(world["referent"]).post(
        reverse("people:group", args=[person.pk]),
        {"action": "referent", "followup": member_row.pk, "reason": "Entrée en garantie jeunes"},
    )
    assert response.status_code == 302
    today = timezone.localdate()
    old.refresh_from_db()
    member_row.refresh_from_db()
    assert old.end_date == today and "Entrée en garantie jeunes" in old.end_reason
    assert member_row.end_date == today
    new = FollowUpMembership.objects.get(person=person, kind="referent", end_date__isnull=True)
    assert new.user == world["member"]
    assert new.structure == world["other_structure"]
    assert new.reason == "Entrée en garantie jeunes"
    again = FollowUpMembership.objects.get(person=person, user=world["referent"], end_date__isnull=True)
    assert again.kind == FollowUpMembership.Kind.MEMBER
    assert not again.can_see_health
    assert TimelineEvent.objects.filter(person=person, kind="referent", detail="Entrée en garantie jeunes").exists()
    # The former référent still opens the record, as a member, without the health section.
    access = policies.access_for(world["referent"], world["referent"].memberships.get(), person)
    assert access.relation == policies.MEMBER
    assert not access.can_see_health
    # The group history lists the closed rows.
    html = login_client(world["member"]).get(reverse("people:group", args=[person.pk])).content.decode()
    assert "Changement de référent : Entrée en garantie jeunes" in html


def test_change_referent_requires_a_reason(world):
    person = PersonFactory(territory=world["territory"])
    old = add_to_group(person, world["referent"], FollowUpMembership.Kind.REFERENT)
    member_row = add_to_group(person, world["member"])
    response = login_client(world["referent"]).post(
        reverse("people:group", args=[person.pk]), {"action": "referent", "followup": member_row.pk, "reason": ""}
    )
    assert response.status_code == 200
    old.refresh_from_db()
    assert old.end_date is None
    assert FollowUpMembership.objects.get(person=person, kind="referent", end_date__isnull=True) == old


def test_referent_cannot_be_removed_from_the_group(world):
    person = PersonFactory(territory=world["territory"])
    old = add_to_group(person, world["referent"], FollowUpMembership.Kind.REFERENT)
    response = login_client(world["referent"]).post(
        reverse("people:group", args=[person.pk]), {"action": "remove", "followup": old.pk}, follow=True
    )
    assert "Désignez d'abord un autre référent unique." in unescape(response.content.decode())
    old.refresh_from_db()
    assert old.end_date is None


def test_member_cannot_change_the_referent(world):
    person = PersonFactory(territory=world["territory"])
    old = add_to_group(person, world["referent"], FollowUpMembership.Kind.REFERENT)
    member_row = add_to_group(person, world["member"])
    response = login_client(world["member"]).post(
        reverse("people:group", args=[person.pk]),
        {"action": "referent", "followup": member_row.pk, "reason": "Je prends la main"},
    )
    assert response.status_code == 403
    old.refresh_from_db()
    assert old.end_date is None


# ---------------------------------------------------------------------------------------------
# Join requests.


@pytest.fixture
def followed_person(world):
    person = PersonFactory(territory=world["territory"], first_name="Inès", last_name="Garnier",
                           nir=NIR, phone="0687654321")
    add_to_group(person, world["referent"], FollowUpMembership.Kind.REFERENT)
    add_to_group(person, world["member"])
    return person


def test_join_request_accepted_opens_the_record(world, followed_person):
    person, outsider = followed_person, world["outsider"]
    client = login_client(outsider)
    card = client.get(reverse("people:record", args=[person.pk]))
    assert "Demander à rejoindre" in card.content.decode()
    response = client.post(reverse("people:join", args=[person.pk]), {"reason": "Atelier CV chaque mardi"})
    assert response.status_code == 302
    join = JoinRequest.objects.get()
    assert join.status == JoinRequest.Status.PENDING
    assert join.structure == outsider.memberships.get().structure
    # The référent is told by e-mail, without personal data.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rose@tremplin.example"]
    assert "Garnier" not in mail.outbox[0].body and "Inès" not in mail.outbox[0].body
    # The card now says the request is pending and does not offer a second one.
    card = client.get(reverse("people:record", args=[person.pk])).content.decode()
    assert "en attente" in card and "Envoyer la demande" not in card
    # The référent sees it on the record and accepts.
    referent = login_client(world["referent"])
    assert "Atelier CV chaque mardi" in referent.get(reverse("people:record", args=[person.pk])).content.decode()
    response = referent.post(reverse("people:join_decide", args=[person.pk, join.pk]), {"decision": "accept"})
    assert response.status_code == 302
    join.refresh_from_db()
    assert join.status == JoinRequest.Status.ACCEPTED
    assert join.decided_by == world["referent"]
    row = FollowUpMembership.objects.get(person=person, user=outsider, end_date__isnull=True)
    assert row.kind == FollowUpMembership.Kind.MEMBER
    assert not row.can_see_health
    record = client.get(reverse("people:record", args=[person.pk]))
    assert "Identité et contact" in record.content.decode()
    assert NIR in record.content.decode()
    assert TimelineEvent.objects.filter(person=person, kind="group_joined").exists()


def test_join_request_needs_a_reason(world, followed_person):
    response = login_client(world["outsider"]).post(
        reverse("people:join", args=[followed_person.pk]), {"reason": ""}, follow=True
    )
    assert "Expliquez pourquoi" in response.content.decode()
    assert not JoinRequest.objects.exists()


def test_refusing_requires_a_reason(world, followed_person):
    person = followed_person
    join = JoinRequest.objects.create(person=person, requester=world["outsider"],
                                      structure=world["outsider"].memberships.get().structure, reason="Suivi")
    client = login_client(world["referent"])
    response = client.post(reverse("people:join_decide", args=[person.pk, join.pk]),
                           {"decision": "refuse", "reason": "  "}, follow=True)
    assert "Indiquez le motif du refus." in response.content.decode()
    join.refresh_from_db()
    assert join.status == JoinRequest.Status.PENDING
    client.post(reverse("people:join_decide", args=[person.pk, join.pk]),
                {"decision": "refuse", "reason": "Pas d'accompagnement en cours"})
    join.refresh_from_db()
    assert join.status == JoinRequest.Status.REFUSED
    assert join.decision_reason == "Pas d'accompagnement en cours"
    assert not FollowUpMembership.objects.filter(person=person, user=world["outsider"]).exists()
    assert TimelineEvent.objects.filter(person=person, kind="join_refused").exists()
    # A decided request cannot be decided again.
    response = client.post(reverse("people:join_decide", args=[person.pk, join.pk]), {"decision": "accept"},
                           follow=True)
    assert "déjà été traitée" in response.content.decode()
    assert not FollowUpMembership.objects.filter(person=person, user=world["outsider"]).exists()


@pytest.mark.parametrize("who", ["member", "outsider", "colleague", "coordinator"])
def test_only_referent_or_structure_admin_decide(world, followed_person, who):
    person = followed_person
    add_to_group(person, world["colleague"])
    requester = make_professional(structure=StructureFactory(territory=world["territory"]))
    join = JoinRequest.objects.create(person=person, requester=requester,
                                      structure=requester.memberships.get().structure, reason="Suivi")
    response = login_client(world[who]).post(reverse("people:join_decide", args=[person.pk, join.pk]),
                                             {"decision": "accept"})
    assert response.status_code == 403
    join.refresh_from_db()
    assert join.status == JoinRequest.Status.PENDING


def test_requester_cannot_accept_their_own_request(world, followed_person):
    join = JoinRequest.objects.create(person=followed_person, requester=world["outsider"],
                                      structure=world["outsider"].memberships.get().structure, reason="Suivi")
    response = login_client(world["outsider"]).post(
        reverse("people:join_decide", args=[followed_person.pk, join.pk]), {"decision": "accept"}
    )
    assert response.status_code == 403
    assert not FollowUpMembership.objects.filter(person=followed_person, user=world["outsider"]).exists()


def test_structure_admin_of_a_group_structure_decides(world, followed_person):
    join = JoinRequest.objects.create(person=followed_person, requester=world["outsider"],
                                      structure=world["outsider"].memberships.get().structure, reason="Suivi")
    response = login_client(world["admin_other"]).post(
        reverse("people:join_decide", args=[followed_person.pk, join.pk]), {"decision": "accept"}
    )
    assert response.status_code == 302
    join.refresh_from_db()
    assert join.status == JoinRequest.Status.ACCEPTED
    assert join.decided_by == world["admin_other"]


def test_home_counts_pending_requests_for_the_referent(world, followed_person):
    JoinRequest.objects.create(person=followed_person, requester=world["outsider"],
                               structure=world["outsider"].memberships.get().structure, reason="Suivi")
    html = login_client(world["referent"]).get(reverse("people:home")).content.decode()
    assert "1 demande d'accès à un groupe de suivi en attente" in html
    html = login_client(world["member"]).get(reverse("people:home")).content.decode()
    assert "demande d'accès à un groupe de suivi en attente" not in html


# ---------------------------------------------------------------------------------------------
# Consent.


def test_opposition_recorded_through_the_page_changes_access(world, followed_person):
    person = followed_person
    add_to_group(person, world["colleague"])
    member, colleague = login_client(world["member"]), login_client(world["colleague"])
    assert "Identité et contact" in member.get(reverse("people:record", args=[person.pk])).content.decode()

    response = login_client(world["referent"]).post(
        reverse("people:consents", args=[person.pk]),
        {"scope": "sharing", "status": "opposed", "channel": "in_person", "given_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    consent = Consent.objects.get(person=person)
    assert consent.status == Consent.Status.OPPOSED
    assert consent.recorded_by == world["referent"]
    assert consent.withdrawn_on == timezone.localdate()
    assert TimelineEvent.objects.filter(person=person, kind="consent").exists()

    html = member.get(reverse("people:record", args=[person.pk])).content.decode()
    assert "Fiche annuaire" in html and NIR not in html
    assert "opposée au partage" in html
    assert member.get(reverse("people:timeline", args=[person.pk])).status_code == 403
    assert member.get(reverse("people:edit", args=[person.pk])).status_code == 403
    html = colleague.get(reverse("people:record", args=[person.pk])).content.decode()
    assert "Identité et contact" in html and NIR in html

    # Giving consent again restores the member's access.
    login_client(world["referent"]).post(
        reverse("people:consents", args=[person.pk]),
        {"scope": "sharing", "status": "given", "channel": "paper", "given_on": timezone.localdate().isoformat()},
    )
    assert "Identité et contact" in member.get(reverse("people:record", args=[person.pk])).content.decode()


# ---------------------------------------------------------------------------------------------
# Derived publics.


def test_derived_publics_from_birth_date():
    assert Person(birth_date=years_ago(26, days=1)).is_under_26
    assert not Person(birth_date=years_ago(26)).is_under_26
    assert Person(birth_date=years_ago(50)).is_over_50
    assert not Person(birth_date=years_ago(50, days=1)).is_over_50


def test_derived_publics_from_children_years():
    this_year = timezone.localdate().year
    assert Person(birth_date=years_ago(30), children_birth_years=[this_year]).has_child_under_3
    assert Person(birth_date=years_ago(30), children_birth_years=[this_year - 5, this_year - 2]).has_child_under_3
    assert not Person(birth_date=years_ago(30), children_birth_years=[this_year - 3]).has_child_under_3
    assert not Person(birth_date=years_ago(30), children_birth_years=[]).has_child_under_3


def test_publics_shown_on_the_record(world):
    this_year = timezone.localdate().year
    response = login_client(world["referent"]).post(
        reverse("people:create"),
        person_post(birth_date=years_ago(22).isoformat(), children_birth_years=f"{this_year - 1}"),
    )
    person = Person.objects.get()
    assert person.children_birth_years == [this_year - 1]
    html = login_client(world["referent"]).get(response["Location"]).content.decode()
    assert "Moins de 26 ans" in html
    assert "Parent d'un enfant de moins de 3 ans" in unescape(html)
    assert "50 ans et plus" not in html


def test_invalid_child_year_gets_a_french_error(world):
    response = login_client(world["referent"]).post(reverse("people:create"), person_post(children_birth_years="20x1"))
    assert "n'est pas une année valide" in unescape(response.content.decode())
    assert not Person.objects.exists()


# ---------------------------------------------------------------------------------------------
# Caseload.


@pytest.fixture
def caseload(world):
    referent, other = world["referent"], world["member"]
    t = world["territory"]
    young = PersonFactory(territory=t, first_name="Yanis", last_name="Jeune", birth_date=years_ago(22), rsa=True)
    senior = PersonFactory(territory=t, first_name="Sylvie", last_name="Aînée", birth_date=years_ago(55), rsa=True)
    middle = PersonFactory(territory=t, first_name="Marc", last_name="Milieu", birth_date=years_ago(40), rsa=False)
    stranger = PersonFactory(territory=t, first_name="Stéphane", last_name="Inconnu", birth_date=years_ago(23))
    former = PersonFactory(territory=t, first_name="Fabien", last_name="Ancien", birth_date=years_ago(30))
    add_to_group(young, referent, FollowUpMembership.Kind.REFERENT)
    add_to_group(young, other)
    add_to_group(young, world["colleague"])
    add_to_group(middle, referent, FollowUpMembership.Kind.REFERENT)
    add_to_group(senior, other, FollowUpMembership.Kind.REFERENT)
    add_to_group(senior, referent)
    add_to_group(stranger, other, FollowUpMembership.Kind.REFERENT)
    ended = add_to_group(former, referent, FollowUpMembership.Kind.REFERENT)
    ended.end_date = timezone.localdate()
    ended.save()
    return {"young": young, "senior": senior, "middle": middle, "stranger": stranger, "former": former}


def listed(response):
    return [p.pk for p in response.context["page"].object_list]


def test_caseload_lists_active_followups_only(world, caseload):
    response = login_client(world["referent"]).get(reverse("people:home"))
    assert response.status_code == 200
    assert sorted(listed(response)) == sorted(caseload[k].pk for k in ("young", "senior", "middle"))
    counts = response.context["counts"]
    assert counts["total"] == 3
    assert counts["referent"] == 2
    assert counts["rsa"] == 2
    assert counts["moins26"] == 1
    assert counts["plus50"] == 1
    html = response.content.decode()
    assert "JEUNE" in html
    assert "INCONNU" not in html  # not followed
    assert "ANCIEN" not in html  # follow-up ended


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"public": "moins26"}, ["young"]),
        ({"public": "plus50"}, ["senior"]),
        ({"public": "rsa"}, ["senior", "young"]),
        ({"q": "jeu"}, ["young"]),
        ({"q": "SYLV"}, ["senior"]),
        ({"q": "aine"}, ["senior"]),
        ({"q": "inconnu"}, []),
    ],
)
def test_caseload_filters(world, caseload, params, expected):
    response = login_client(world["referent"]).get(reverse("people:home"), params)
    assert sorted(listed(response)) == sorted(caseload[k].pk for k in expected)
    assert response.context["page"].paginator.count == len(expected)


@pytest.mark.parametrize(("role", "expected"), [("referent", ["young", "middle"]), ("member", ["senior"])])
def test_caseload_role_filter(world, caseload, role, expected):
    response = login_client(world["referent"]).get(reverse("people:home"), {"role": role})
    assert sorted(listed(response)) == sorted(caseload[k].pk for k in expected)
    assert response.context["page"].paginator.count == len(expected)


def test_caseload_my_role_column(world, caseload):
    response = login_client(world["referent"]).get(reverse("people:home"))
    roles = {p.pk: p.my_role for p in response.context["page"].object_list}
    assert roles[caseload["young"].pk] == "referent"
    assert roles[caseload["senior"].pk] == "member"


def test_caseload_is_paginated(world):
    for _ in range(30):
        add_to_group(PersonFactory(territory=world["territory"]), world["referent"], FollowUpMembership.Kind.REFERENT)
    client = login_client(world["referent"])
    first = client.get(reverse("people:home"))
    second = client.get(reverse("people:home"), {"page": 2})
    assert len(listed(first)) == 25 and len(listed(second)) == 5
    assert not set(listed(first)) & set(listed(second))
    assert first.context["counts"]["total"] == 30


# ---------------------------------------------------------------------------------------------
# Search.


@pytest.fixture
def searchable(world):
    t = world["territory"]
    eloise = PersonFactory(territory=t, first_name="Éloïse", last_name="Dupont", birth_date=datetime.date(1985, 4, 12),
                           caf_number="4455667")
    jean = PersonFactory(territory=t, first_name="Jean", last_name="Dupuis", birth_date=datetime.date(1972, 1, 3))
    other = PersonFactory(territory=t, first_name="Amélie", last_name="Élan", birth_date=datetime.date(1985, 4, 12))
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    faraway = PersonFactory(territory=gers, first_name="Éloïse", last_name="Dupont",
                            birth_date=datetime.date(1985, 4, 12), caf_number="4455667")
    add_to_group(eloise, world["referent"], FollowUpMembership.Kind.REFERENT)
    add_to_group(jean, world["member"], FollowUpMembership.Kind.REFERENT)
    return {"eloise": eloise, "jean": jean, "other": other, "faraway": faraway}


def found(response):
    return sorted(r.person.pk for r in response.context["results"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Dup", ["eloise", "jean"]),
        ("dupo", ["eloise"]),
        ("DUPONT", ["eloise"]),
        ("eloise", ["eloise"]),
        ("ÉLOÏ", ["eloise"]),
        ("élo dup", ["eloise"]),
        ("Dupont Éloïse", ["eloise"]),
        ("elan", ["other"]),
        ("12/04/1985", ["eloise", "other"]),
        ("1985-04-12", ["eloise", "other"]),
        ("dupont 12/04/1985", ["eloise"]),
        ("4455667", ["eloise"]),
        ("Martinez", []),
        ("31/02/1985", []),
    ],
)
def test_search(world, searchable, query, expected):
    response = login_client(world["referent"]).get(reverse("people:search"), {"q": query})
    assert response.status_code == 200
    assert found(response) == sorted(searchable[k].pk for k in expected)


def test_search_results_link_the_record_or_the_card(world, searchable):
    response = login_client(world["referent"]).get(reverse("people:search"), {"q": "dup"})
    by_pk = {r.person.pk: r for r in response.context["results"]}
    assert by_pk[searchable["eloise"].pk].access.can_open_record
    assert not by_pk[searchable["jean"].pk].access.can_open_record
    assert by_pk[searchable["jean"].pk].referent.structure == world["other_structure"]
    html = response.content.decode()
    assert "Ouvrir le dossier" in html and "Fiche et demande d'accès" in html
    # Search results show the card fields only.
    assert "03/01/1972" not in html


def test_search_htmx_returns_the_fragment(world, searchable):
    response = login_client(world["referent"]).get(reverse("people:search"), {"q": "dup"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "people/_search_results.html"
    assert "<html" not in response.content.decode()


def test_search_multi_word_surname(world):
    person = PersonFactory(territory=world["territory"], first_name="Lucas", last_name="Da Silva")
    response = login_client(world["referent"]).get(reverse("people:search"), {"q": "Da Silva"})
    assert found(response) == [person.pk]


def test_coordinators_get_403_on_search(world, searchable):
    response = login_client(world["coordinator"]).get(reverse("people:search"), {"q": "dup"})
    assert response.status_code == 403


def test_search_writes_no_access_log(world, searchable):
    from spie.core.models import AccessLog

    login_client(world["referent"]).get(reverse("people:search"), {"q": "dup"})
    assert not AccessLog.objects.exists()


def test_edit_through_the_page_saves_the_change(world):
    person = PersonFactory(territory=world["territory"], first_name="Éloïse", last_name="DUPONT",
                           birth_date=datetime.date(1990, 5, 6), phone="")
    add_to_group(person, world["member"])
    add_to_group(person, world["referent"], FollowUpMembership.Kind.REFERENT)
    response = login_client(world["member"]).post(reverse("people:edit", args=[person.pk]),
                                                  person_post(last_name="Dupont-Martin", phone="0700000000"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.last_name, person.last_name_key, person.phone) == ("Dupont-Martin", "dupontmartin", "0700000000")
