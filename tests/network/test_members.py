"""Structure admins manage their own structure's members: invite and deactivate. SIRET checks."""

import re
from html import unescape

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from spie.network.models import Membership, Structure, User
from spie.network.validators import validate_siret
from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.network.factories import MembershipFactory, StructureFactory, TerritoryFactory, make_professional
from tests.people.factories import PersonFactory, add_to_group


@pytest.fixture
def world(db):
    territory = TerritoryFactory()
    structure = StructureFactory(territory=territory, name="Association Élan Solidaire", slug="elan-solidaire")
    other = StructureFactory(territory=territory, name="PLIE du Sud", slug="plie-sud", kind=Structure.Kind.PLIE)
    dept = StructureFactory(territory=territory, name="Département", kind=Structure.Kind.DEPARTEMENT)
    return {
        "structure": structure,
        "other": other,
        "admin": make_professional(Membership.Role.ADMIN, structure=structure, first_name="Alice", last_name="Admin"),
        "referent": make_professional(structure=structure, first_name="Rémi", last_name="Référent"),
        "other_admin": make_professional(Membership.Role.ADMIN, structure=other),
        "coordinator": make_professional(Membership.Role.COORDINATOR, structure=dept),
        "orientation": make_professional(Membership.Role.ORIENTATION, structure=dept),
    }


def invite_data(**overrides):
    data = {"email": "Nouvelle.Pro@Example.org", "first_name": "Nina", "last_name": "Nouvelle",
            "role": "referent", "job_title": "Conseillère en insertion"}
    data.update(overrides)
    return data


def members_url(world):
    return reverse("network:members", args=[world["structure"].slug])


# ---------------------------------------------------------------------------------------------
# Who may open the members page.


def test_admin_opens_the_members_page(world):
    response = login_client(world["admin"]).get(members_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert world["referent"].email in html
    assert "Inviter un membre" in html


@pytest.mark.parametrize("who", ["referent", "other_admin", "coordinator", "orientation"])
def test_others_get_403_on_members_page(world, who):
    client = login_client(world[who])
    assert client.get(members_url(world)).status_code == 403
    response = client.post(members_url(world), invite_data())
    assert response.status_code == 403
    assert not User.objects.filter(email="nouvelle.pro@example.org").exists()
    assert mail.outbox == []


def test_members_page_of_unknown_structure_is_404(world):
    response = login_client(world["admin"]).get(reverse("network:members", args=["inconnue"]))
    assert response.status_code == 404


def test_members_page_needs_login(world):
    response = Client().get(members_url(world))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# ---------------------------------------------------------------------------------------------
# Invitations.


def test_invite_creates_account_and_sends_a_french_email_with_a_password_link(world,
                                                                          django_capture_on_commit_callbacks):
    client = login_client(world["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(members_url(world), invite_data())
    assert response.status_code == 302
    user = User.objects.get(email="nouvelle.pro@example.org")
    assert (user.first_name, user.last_name) == ("Nina", "Nouvelle")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert membership.structure == world["structure"]
    assert membership.role == Membership.Role.REFERENT
    assert membership.job_title == "Conseillère en insertion"
    assert membership.invited_by == world["admin"]
    assert membership.is_active

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nouvelle.pro@example.org"]
    assert "invitation" in message.subject and "Association Élan Solidaire" in message.subject
    assert message.body.startswith("Bonjour")
    assert "mot de passe" in message.body
    assert "second facteur" in message.body
    match = re.search(r"http://testserver(/compte/\S+)", message.body)
    assert match, message.body
    link = match.group(1)

    # The link lets the invited professional choose a password, then sign in.
    anonymous = Client()
    response = anonymous.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = anonymous.post(form_url, {"new_password1": "Un-mot-de-passe-solide-42",
                                         "new_password2": "Un-mot-de-passe-solide-42"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Un-mot-de-passe-solide-42")
    # The link works once.
    assert "set-password" not in anonymous.get(link).get("Location", "")


def test_invite_existing_account_sends_no_password_link(world, django_capture_on_commit_callbacks):
    existing = make_professional(structure=world["other"], email="deja@plie.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = login_client(world["admin"]).post(members_url(world), invite_data(email="DEJA@plie.example"))
    assert response.status_code == 302
    assert Membership.objects.filter(user=existing, structure=world["structure"], is_active=True).exists()
    assert User.objects.filter(email__iexact="deja@plie.example").count() == 1
    assert len(mail.outbox) == 1
    assert "/compte/" not in mail.outbox[0].body
    assert "Connectez-vous avec votre compte habituel" in mail.outbox[0].body
    existing.refresh_from_db()
    assert existing.check_password("motdepasse-tres-solide")


def test_invitation_email_waits_for_the_commit_and_a_rollback_sends_nothing(world,
                                                                          django_capture_on_commit_callbacks):
    from django.db import transaction

    from spie.network.services import invite_member

    admin_membership = world["admin"].active_memberships().get()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            invite_member(by_membership=admin_membership, structure=world["structure"], email="annulee@example.org",
                          first_name="Anne", last_name="Annulée", role=Membership.Role.REFERENT)
            assert mail.outbox == []  # not sent while the transaction can still be rolled back
            raise RuntimeError("the import fails after the invitation")
    assert callbacks == [] and mail.outbox == []
    assert not User.objects.filter(email="annulee@example.org").exists()
    with django_capture_on_commit_callbacks(execute=True):
        invite_member(by_membership=admin_membership, structure=world["structure"], email="gardee@example.org",
                      first_name="Gaëlle", last_name="Gardée", role=Membership.Role.REFERENT)
        assert mail.outbox == []
    assert [m.to for m in mail.outbox] == [["gardee@example.org"]]


def test_invite_twice_with_the_same_role_is_refused_in_french(world):
    response = login_client(world["admin"]).post(members_url(world), invite_data(email=world["referent"].email))
    assert response.status_code == 200
    assert "déjà membre de la structure avec ce rôle" in response.content.decode()
    assert Membership.objects.filter(user=world["referent"]).count() == 1
    assert mail.outbox == []


def test_invite_with_invalid_email_shows_errors_and_keeps_input(world):
    response = login_client(world["admin"]).post(members_url(world), invite_data(email="pas-une-adresse"))
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert 'value="Nina"' in response.content.decode()
    assert mail.outbox == []


def test_admin_cannot_invite_into_another_structure(world):
    response = login_client(world["admin"]).post(
        reverse("network:members", args=[world["other"].slug]), invite_data()
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(structure=world["other"], user__email="nouvelle.pro@example.org").exists()


@pytest.mark.parametrize("role", [Membership.Role.ORIENTATION, Membership.Role.COORDINATOR])
def test_association_admin_cannot_grant_territory_wide_roles(world, role):
    response = login_client(world["admin"]).post(members_url(world), invite_data(email=world["admin"].email, role=role))
    assert not Membership.objects.filter(user=world["admin"], role=role).exists()
    assert response.status_code in (200, 403)


# ---------------------------------------------------------------------------------------------
# Deactivation.


def deactivate_url(world, membership):
    return reverse("network:deactivate", args=[world["structure"].slug, membership.pk])


def test_admin_deactivates_a_member(world):
    membership = world["referent"].memberships.get()
    response = login_client(world["admin"]).post(deactivate_url(world, membership))
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    assert membership.end_date == timezone.localdate()
    # The deactivated professional, with no other structure, loses every page.
    client = login_client(world["referent"])
    assert client.get(reverse("people:home")).status_code == 403
    assert client.get(reverse("network:directory")).status_code == 403


@pytest.mark.parametrize("who", ["referent", "other_admin", "coordinator", "orientation"])
def test_others_cannot_deactivate(world, who):
    membership = world["referent"].memberships.get() if who != "referent" else world["admin"].memberships.get()
    response = login_client(world[who]).post(deactivate_url(world, membership))
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.is_active


def test_admin_cannot_deactivate_themselves(world):
    own = world["admin"].memberships.get()
    response = login_client(world["admin"]).post(deactivate_url(world, own), follow=True)
    assert "Vous ne pouvez pas désactiver votre propre rattachement." in unescape(response.content.decode())
    own.refresh_from_db()
    assert own.is_active


def test_deactivate_with_a_membership_of_another_structure_is_404(world):
    foreign = world["other_admin"].memberships.get()
    response = login_client(world["admin"]).post(deactivate_url(world, foreign))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active


def test_deactivate_is_post_only(world):
    membership = world["referent"].memberships.get()
    response = login_client(world["admin"]).get(deactivate_url(world, membership))
    assert response.status_code == 405
    membership.refresh_from_db()
    assert membership.is_active


def test_members_page_offers_no_deactivation_of_oneself(world):
    own = world["admin"].memberships.get()
    html = login_client(world["admin"]).get(members_url(world)).content.decode()
    assert deactivate_url(world, own) not in html
    assert deactivate_url(world, world["referent"].memberships.get()) in html


def test_deactivated_member_loses_records_followed_for_that_structure(world):
    user = world["referent"]
    MembershipFactory(user=user, structure=world["other"])  # also works for the PLIE
    person = PersonFactory(territory=world["structure"].territory)
    add_to_group(person, world["admin"], FollowUpMembership.Kind.REFERENT)
    FollowUpMembership.objects.create(person=person, user=user, structure=world["structure"])
    login_client(world["admin"]).post(
        deactivate_url(world, Membership.objects.get(user=user, structure=world["structure"]))
    )
    response = login_client(user).get(reverse("people:record", args=[person.pk]))
    assert response.status_code in (200, 403, 404)
    assert "Identité et contact" not in response.content.decode()


# ---------------------------------------------------------------------------------------------
# SIRET.


@pytest.mark.parametrize("siret", ["73282932000074", "732 829 320 00074", "35600000000048"])
def test_valid_siret_passes(siret):
    validate_siret(siret)


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("73282932000075", "clé de contrôle"),
        ("73282932000084", "clé de contrôle"),
        ("7328293200007", "14 chiffres"),
        ("732829320000745", "14 chiffres"),
        ("7328293200007A", "14 chiffres"),
        ("", "14 chiffres"),
    ],
)
def test_invalid_siret_fails_in_french(siret, message):
    with pytest.raises(ValidationError) as exc:
        validate_siret(siret)
    assert message in " ".join(exc.value.messages)


@pytest.mark.django_db
def test_structure_model_validates_siret():
    structure = StructureFactory.build(territory=TerritoryFactory(), siret="73282932000075", commune=None)
    with pytest.raises(ValidationError) as exc:
        structure.full_clean()
    assert "siret" in exc.value.message_dict
    structure.siret = "73282932000074"
    structure.full_clean()
