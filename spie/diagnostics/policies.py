"""Who may read, start and fill a person's diagnostics. Plain functions over people's Access.

A diagnostic is part of the person's record: whoever may open the record (follow-up group,
chargé d'orientation of the territory, structure admin of a structure in the group) may read
the diagnostics; whoever may edit the record (référent, group members, chargé d'orientation)
may start, fill and complete one. Everyone else is denied (deny by default). Sections of a
framework marked ``restricted`` (health) are shown, filled and printed only by those who see
the record's health section (référent, members granted it).
"""

from spie.people import policies as people_policies


def can_read(access):
    return access.can_see(people_policies.RECORD)


def can_start(access):
    return access.can_edit


def can_fill(access, diagnostic=None):
    """Fill or complete a draft. Completed diagnostics are frozen for everybody."""
    if not access.can_edit:
        return False
    return diagnostic is None or not diagnostic.is_completed


def can_see_restricted(access):
    """Restricted sections of a framework (health) follow the record's health section."""
    return access.can_see(people_policies.HEALTH)


def access_for_membership(membership, person):
    """The :class:`~spie.people.policies.Access` of ``membership``'s user on ``person``."""
    return people_policies.access_for(membership.user, membership, person)
