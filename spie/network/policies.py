"""Who may do what in the network (plain functions, deny by default)."""

from .models import Membership


def can_see_directory(membership):
    """Every professional with an active membership sees the directory of their territory."""
    return membership is not None


def can_manage_members(membership, structure):
    """Structure admins manage their own structure's members; nobody else does."""
    return (
        membership is not None
        and membership.role == Membership.Role.ADMIN
        and membership.structure_id == structure.id
    )
