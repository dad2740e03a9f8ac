"""Who may do what in the network (plain functions, deny by default)."""

from .models import Membership, Structure


def can_see_directory(membership):
    """Every professional with an active membership sees the directory of their territory;
    company users (role employer) work in their company space and do not browse it."""
    return membership is not None and membership.role != Membership.Role.EMPLOYER


def can_manage_members(membership, structure):
    """Structure admins manage their own structure's members; nobody else does."""
    return (
        membership is not None
        and membership.role == Membership.Role.ADMIN
        and membership.structure_id == structure.id
    )


# Territory-wide roles belong to the institutions that hold them.
ROLE_STRUCTURE_KINDS = {
    Membership.Role.ORIENTATION: {Structure.Kind.DEPARTEMENT},
    Membership.Role.COORDINATOR: {Structure.Kind.DEPARTEMENT, Structure.Kind.STATE},
    Membership.Role.EMPLOYER: {Structure.Kind.COMPANY},
}


def grantable_roles(structure):
    """Roles a structure admin may grant in ``structure``: chargé d'orientation only at the
    Département, SPIE coordinator only at the Département or a State service."""
    return [
        role for role in Membership.Role
        if role not in ROLE_STRUCTURE_KINDS or structure.kind in ROLE_STRUCTURE_KINDS[role]
    ]
