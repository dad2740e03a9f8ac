"""Who may see and do what on a person's record (DESIGN.md §5). Plain functions, deny by default.

The decision depends on the *relation* between the professional and the person:

- ``referent``: the active référent unique;
- ``member``: an active member of the follow-up group;
- ``orientation``: the active structure role is "chargé d'orientation" in the person's territory
  (the orientation and contract section even when the person opposes sharing);
- ``structure_admin``: the active role is structure admin of a structure that has an active
  member in the group (to manage the group and answer join requests);
- ``coordinator``: SPIE coordinator (aggregates only, no records);
- ``outsider``: any other professional of the same territory (directory card only);
- ``none``: another territory, or no active membership: nothing at all.

When the person opposes sharing (consent scope "sharing" with status "opposed"), only the
members of the référent's structure keep access to the record; the others see the card.
"""

from dataclasses import dataclass, field

from spie.network.models import Membership

from .models import Consent, FollowUpMembership

# Sections of a record.
CARD = "card"
RECORD = "record"  # identity, situation, rights, follow-up group
TIMELINE = "timeline"
HEALTH = "health"
ACCESS_LOG = "access_log"
# Orientation and contract of the RSA procedure: the Département's chargés d'orientation keep
# it even when the person opposes sharing, because deciding the orientation is their duty.
PATHWAY = "pathway"
SECTIONS = (CARD, RECORD, TIMELINE, HEALTH, ACCESS_LOG, PATHWAY)

# Relations.
REFERENT = "referent"
MEMBER = "member"
ORIENTATION = "orientation"
STRUCTURE_ADMIN = "structure_admin"
COORDINATOR = "coordinator"
OUTSIDER = "outsider"
NONE = "none"


@dataclass
class Access:
    """What one professional may do on one person, computed once per request."""

    relation: str
    sections: frozenset = field(default_factory=frozenset)
    can_edit: bool = False
    can_manage_group: bool = False
    can_ask_to_join: bool = False
    opposed: bool = False

    def can_see(self, section):
        return section in self.sections

    @property
    def can_open_record(self):
        return RECORD in self.sections

    @property
    def can_see_health(self):
        return HEALTH in self.sections

    @property
    def can_see_access_log(self):
        return ACCESS_LOG in self.sections


def _sharing_restricted(person, consents=None):
    """True when the latest sharing consent is an opposition or a withdrawal.

    Without any record the person has been informed and has not opposed: the record is
    shared within the follow-up group (secret partagé).
    """
    consents = consents if consents is not None else person.consents.filter(scope=Consent.Scope.SHARING)
    latest = max(
        (c for c in consents if c.scope == Consent.Scope.SHARING),
        key=lambda c: (c.given_on, c.id),
        default=None,
    )
    return latest is not None and latest.status in {Consent.Status.OPPOSED, Consent.Status.WITHDRAWN}


def current_structure_ids(user):
    """Structures where ``user`` holds a current membership, cached on the user object.

    A follow-up row taken on behalf of a structure the user has left gives no access.
    """
    cached = getattr(user, "_spie_structure_ids", None)
    if cached is None:
        cached = frozenset(m.structure_id for m in user.active_memberships())
        user._spie_structure_ids = cached
    return cached


def access_for(user, membership, person, *, followups=None, consents=None):
    """Compute the :class:`Access` of ``user`` (acting as ``membership``) on ``person``.

    Rights are the union of every relation that applies (a structure admin who is also a
    group member keeps the admin's rights). ``followups`` and ``consents`` may be passed
    already fetched (active follow-up memberships and the person's consents) so pages keep
    a constant number of queries.
    """
    if user is None or not user.is_authenticated or membership is None:
        return Access(NONE)
    if membership.structure.territory_id != person.territory_id:
        return Access(NONE)

    if followups is None:
        followups = list(
            FollowUpMembership.objects.filter(person=person, end_date__isnull=True).select_related("structure")
        )
    opposed = _sharing_restricted(person, consents)
    referent_fu = next((f for f in followups if f.kind == FollowUpMembership.Kind.REFERENT), None)
    mine = next((f for f in followups if f.user_id == user.id), None)
    if mine is not None and mine.structure_id not in current_structure_ids(user):
        mine = None  # left the structure on whose behalf they followed the person
    group_structures = {f.structure_id for f in followups}
    role = membership.role

    # Opposition or withdrawal: only the référent's structure keeps the record.
    def blocked_by_opposition(structure_id):
        return opposed and (referent_fu is None or structure_id != referent_fu.structure_id)

    relation, sections = None, {CARD}
    can_edit = can_manage_group = False
    if mine is not None and mine.kind == FollowUpMembership.Kind.REFERENT:
        relation = REFERENT
        sections |= {RECORD, TIMELINE, HEALTH, ACCESS_LOG}
        can_edit = can_manage_group = True
    elif mine is not None and not blocked_by_opposition(mine.structure_id):
        relation = MEMBER
        sections |= {RECORD, TIMELINE} | ({HEALTH} if mine.can_see_health else set())
        can_edit = True
    if (
        role == Membership.Role.ADMIN
        and membership.structure_id in group_structures
        and not blocked_by_opposition(membership.structure_id)
    ):
        relation = relation or STRUCTURE_ADMIN
        sections |= {RECORD, TIMELINE, ACCESS_LOG}
        can_manage_group = True
    if role == Membership.Role.ORIENTATION:
        relation = relation or ORIENTATION
        sections |= {PATHWAY}
        if not opposed:
            sections |= {RECORD, TIMELINE}
            can_edit = True
    if RECORD in sections:
        sections |= {PATHWAY}
    if relation is None:
        relation = COORDINATOR if role == Membership.Role.COORDINATOR else OUTSIDER
    return Access(
        relation,
        frozenset(sections),
        can_edit=can_edit,
        can_manage_group=can_manage_group,
        can_ask_to_join=relation == OUTSIDER and mine is None,
        opposed=opposed,
    )


def can_create_person(membership):
    return membership is not None and membership.role in {
        Membership.Role.REFERENT,
        Membership.Role.ORIENTATION,
        Membership.Role.ADMIN,
    }


def can_search_persons(membership):
    """Coordinators work on aggregates and company users on anonymous profiles: neither
    searches individual people."""
    return membership is not None and membership.role not in {
        Membership.Role.COORDINATOR,
        Membership.Role.EMPLOYER,
    }


def visible_persons_filter(user, membership):
    """Queryset filter kwargs for "persons whose record this professional may open" lists.

    Used by the caseload and the API list: persons in whose group the user is active.
    """
    return {
        "territory_id": membership.structure.territory_id,
        "followups__user": user,
        "followups__end_date__isnull": True,
    }
