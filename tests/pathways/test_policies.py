"""Who may read, propose, decide, request a réorientation, cancel, edit and sign: allows and denies."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from spie.network.models import Membership
from spie.pathways import policies, services
from spie.people import policies as people_policies
from spie.people.models import FollowUpMembership
from tests.conftest import login_client
from tests.network.factories import MembershipFactory
from tests.people.factories import add_to_group, oppose_sharing

from .conftest import membership_of
from .factories import make_contract, make_orientation

WHO = ["referent", "member", "officer", "gers_officer", "admin_ref", "colleague", "outsider",
       "new_referent", "coordinator"]

# who: (read, propose, decide, request réorientation, edit contract, sign contract) — written out.
EXPECTED = {
    "referent": (True, True, False, True, True, True),
    "member": (True, True, False, False, False, False),
    "officer": (True, True, True, False, False, False),
    "gers_officer": (False, False, False, False, False, False),
    "admin_ref": (True, False, False, False, False, False),
    "colleague": (False, False, False, False, False, False),
    "outsider": (False, False, False, False, False, False),
    "new_referent": (False, False, False, False, False, False),
    "coordinator": (False, False, False, False, False, False),
}


def _access(world, who):
    user = world[who]
    membership = membership_of(user)
    return people_policies.access_for(user, membership, world["person"]), membership


@pytest.mark.parametrize("who", WHO)
def test_policy_matrix(world, who):
    person = world["person"]
    access, membership = _access(world, who)
    read, propose, decide, reorient, edit, sign = EXPECTED[who]
    assert policies.can_read(access) is read
    assert policies.can_propose(access, membership, person) is propose
    assert policies.can_decide(membership, person) is decide
    assert policies.can_request_reorientation(access, membership, person) is reorient
    assert policies.can_edit_contract(access, membership, person) is edit
    assert policies.can_sign_contract(access, membership, person) is sign


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("referent", True), ("member", True), ("officer", True), ("admin_ref", False), ("outsider", False)],
)
def test_cancel_policy(world, who, allowed):
    orientation = make_orientation(world["person"], world["member"])
    access, membership = _access(world, who)
    assert policies.can_cancel(orientation, access, membership, world["person"]) is allowed


def test_author_may_cancel_their_own_proposal_only(world):
    person = world["person"]
    add_to_group(person, world["colleague"])
    by_member = make_orientation(person, world["member"])
    access, membership = _access(world, "colleague")
    assert not policies.can_cancel(by_member, access, membership, person)
    by_member.proposed_by = world["colleague"]
    assert policies.can_cancel(by_member, access, membership, person)


def test_chargé_d_orientation_who_is_referent_may_edit_but_never_sign(world):
    person = world["person"]
    FollowUpMembership.objects.filter(person=person).update(end_date=person.entered_on)
    officer_followup = FollowUpMembership.objects.create(
        person=person, user=world["officer"], structure=world["departement"], kind=FollowUpMembership.Kind.REFERENT
    )
    access, membership = _access(world, "officer")
    assert access.relation == people_policies.REFERENT
    assert policies.can_edit_contract(access, membership, person)
    assert not policies.can_sign_contract(access, membership, person)
    contract = make_contract(person, world["officer"], officer_followup.structure)
    with pytest.raises(PermissionDenied):
        services.sign_contract(contract, membership, person_signed_on=person.entered_on,
                               referent_signed_on=person.entered_on)


def test_opposition_closes_the_record_but_not_the_decision(world):
    """With sharing opposed the chargé d'orientation no longer reads the record, but keeps the
    orientation and the contract (deciding is a duty of the territory)."""
    person = world["person"]
    oppose_sharing(person)
    access, membership = _access(world, "officer")
    assert not access.can_open_record
    assert policies.can_read(access)
    assert policies.can_propose(access, membership, person)
    assert policies.can_decide(membership, person)


def test_membership_of_another_structure_decides_the_role(world):
    """The role is the *active* membership's: the same user acting as a référent does not decide."""
    officer = world["officer"]
    referent_membership = MembershipFactory(user=officer, structure=world["ref_structure"],
                                            role=Membership.Role.REFERENT)
    assert not policies.can_decide(referent_membership, world["person"])
    assert policies.can_decide(membership_of_role(officer, Membership.Role.ORIENTATION), world["person"])


def membership_of_role(user, role):
    return user.active_memberships().get(role=role)


@pytest.mark.parametrize(
    ("who", "url_name", "needs_pending"),
    [
        ("outsider", "pathways:propose", False),
        ("admin_ref", "pathways:propose", False),
        ("referent", "pathways:decide", True),
        ("member", "pathways:decide", True),
        ("member", "pathways:refuse", True),
        ("member", "pathways:reorient", False),
        ("admin_ref", "pathways:cancel", True),
    ],
)
def test_pages_refuse_what_the_policy_denies(world, who, url_name, needs_pending):
    person = world["person"]
    args = [person.pk]
    if needs_pending:
        args.append(make_orientation(person, world["member"]).pk)
    response = login_client(world[who]).post(reverse(url_name, args=args), {"reason": "x"})
    assert response.status_code in (403, 404)


@pytest.mark.parametrize("who", ["member", "officer", "admin_ref"])
def test_only_the_referent_edits_and_signs_the_contract_pages(world, who):
    person = world["person"]
    contract = make_contract(person, world["referent"], world["ref_structure"])
    client = login_client(world[who])
    assert client.get(reverse("pathways:contract", args=[person.pk])).status_code == 200
    assert client.get(reverse("pathways:contract_edit", args=[person.pk])).status_code == 403
    assert client.get(reverse("pathways:contract_sign", args=[person.pk, contract.version])).status_code == 403
    assert client.post(reverse("pathways:contract_sign", args=[person.pk, contract.version]),
                       {"person_signed_on": "2026-01-01", "referent_signed_on": "2026-01-01"}).status_code == 403
    contract.refresh_from_db()
    assert contract.status == contract.Status.DRAFT
