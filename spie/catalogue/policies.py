"""Who may do what in the catalogue and on referrals. Plain functions, deny by default.

- Browsing the published catalogue is open to everyone; contact details (name, e-mail,
  phone of the action) only to logged-in professionals (:func:`can_see_contacts`).
- A structure's actions are managed by its structure admins and its référents
  (:func:`can_manage_actions`); the coordinator reads everything, edits nothing.
- A référent, a chargé d'orientation or a structure admin may refer a person whose record
  they may open (:func:`can_refer`), i.e. as a member of the person's follow-up group.
- A referral is seen by the sending side (the sender's structure, and whoever may open the
  person's record) and by the receiving structure's members (:func:`referral_side`); the
  receiving side sees only what the referral carries, never the record.
"""

from spie.network.models import Membership

MANAGING_ROLES = {Membership.Role.ADMIN, Membership.Role.REFERENT}
REFERRING_ROLES = {Membership.Role.REFERENT, Membership.Role.ORIENTATION, Membership.Role.ADMIN}


def can_see_contacts(user):
    return bool(user and user.is_authenticated)


def can_manage_actions(membership, structure):
    """May ``membership`` create and edit the actions of ``structure``?"""
    return (
        membership is not None
        and membership.structure_id == getattr(structure, "pk", structure)
        and membership.role in MANAGING_ROLES
    )


def manageable_structure_ids(membership):
    return {membership.structure_id} if membership is not None and membership.role in MANAGING_ROLES else set()


def can_refer(membership, access):
    """May the professional refer the person whose :class:`~spie.people.policies.Access` is given?"""
    return (
        membership is not None
        and membership.role in REFERRING_ROLES
        and access is not None
        and access.can_open_record
    )


SENDER = "sender"
PROVIDER = "provider"


def referral_side(membership, referral, access=None):
    """``"sender"``, ``"provider"`` or None for the professional acting as ``membership``.

    Sender: a member of the sending structure, or anyone who may open the person's record
    (``access`` given by the caller). Provider: a member of the receiving structure.
    A professional of a structure that refers to its own action is the sender first.
    """
    if membership is None or membership.role == Membership.Role.COORDINATOR:
        return None  # coordinators work on aggregates, never on named referrals
    if access is not None and access.can_open_record:
        return SENDER
    if membership.structure_id == referral.from_structure_id and (
        access is None or referral.sent_by_id == membership.user_id
    ):
        # A colleague of the sender who may not open the record is not on the sending side
        # when the caller knows the access; the sender always is.
        return SENDER
    if membership.structure_id == referral.to_structure_id and membership.role != Membership.Role.COORDINATOR:
        return PROVIDER
    return None


def can_answer(membership, referral):
    """May ``membership`` answer for the receiving structure?"""
    return (
        membership is not None
        and membership.structure_id == referral.to_structure_id
        and membership.role != Membership.Role.COORDINATOR
    )
