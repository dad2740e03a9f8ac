"""Who may do what on orientations and engagement contracts. Plain functions, deny by default.

They build on :func:`spie.people.policies.access_for` (the relation between a professional and
a person) and on the role of the active structure membership:

- read orientations and contracts: anyone whose access opens the record, and the chargés
  d'orientation of the territory even when the person opposes sharing (PATHWAY section);
- propose an orientation: the référent unique or a member of the follow-up group, or a
  chargé d'orientation of the person's territory who may open the record;
- decide (or refuse a réorientation): a chargé d'orientation of the person's territory only;
- request a réorientation: the current référent unique;
- cancel a pending proposal: its author, the référent unique, or a chargé d'orientation;
- edit and sign the contract: the référent unique; a chargé d'orientation never signs.
"""

from spie.network.models import Membership
from spie.people import policies as people_policies

# Roles that may be designated référent unique by an orientation decision.
REFERENT_ROLES = (Membership.Role.REFERENT, Membership.Role.ADMIN)


def _in_territory(membership, person):
    return membership is not None and membership.structure.territory_id == person.territory_id


def is_orientation_officer(membership, territory=None):
    """True when the active membership is a chargé d'orientation (of ``territory`` if given)."""
    if membership is None or membership.role != Membership.Role.ORIENTATION:
        return False
    return territory is None or membership.structure.territory_id == territory.pk


def can_read(access):
    """Orientations and contracts: with the record, or the pathway section of a chargé
    d'orientation (kept when the person opposes sharing the rest of the record)."""
    return access is not None and access.can_see(people_policies.PATHWAY)


def can_propose(access, membership, person):
    if not can_read(access) or not _in_territory(membership, person):
        return False
    if access.relation in (people_policies.REFERENT, people_policies.MEMBER):
        return True
    return membership.role == Membership.Role.ORIENTATION


def can_decide(membership, person):
    """Only a chargé d'orientation of the person's territory decides (or refuses)."""
    return _in_territory(membership, person) and membership.role == Membership.Role.ORIENTATION


def can_request_reorientation(access, membership, person):
    return (
        access is not None
        and access.relation == people_policies.REFERENT
        and _in_territory(membership, person)
    )


def can_cancel(orientation, access, membership, person):
    if not can_read(access) or not _in_territory(membership, person):
        return False
    return (
        orientation.proposed_by_id == membership.user_id
        or access.relation == people_policies.REFERENT
        or membership.role == Membership.Role.ORIENTATION
    )


def can_edit_contract(access, membership, person):
    """The référent unique writes the contract (drafts, new versions)."""
    return (
        access is not None
        and access.relation == people_policies.REFERENT
        and _in_territory(membership, person)
    )


def can_sign_contract(access, membership, person):
    """The référent unique signs with the person; a chargé d'orientation may not sign."""
    return can_edit_contract(access, membership, person) and membership.role != Membership.Role.ORIENTATION
