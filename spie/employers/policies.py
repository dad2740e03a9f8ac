"""Who may do what on the employer side. Plain functions, deny by default (DESIGN.md §5).

- Company users (role ``employer`` in their company's own structure) manage their company, its
  openings, immersion offers and engagements, see *anonymous* profiles of candidates for their
  openings and answer positionings. They never open a person's record nor search persons.
- Professionals of the territory (référents, chargés d'orientation, structure admins) see the
  companies and openings of their territory and create companies. A company is managed by its
  own users (once it has its space) and by the structure that follows it (``followed_by``, a
  business-relations adviser or a référent); a company nobody follows yet and without a space
  may be managed by any professional of the territory.
- Positioning a person needs to be able to open the person's record (``Access``) and the
  person's agreement, recorded on the positioning.
- Coordinators read territory aggregates (congestion, fairness, engagements counts), never
  named proposals or positionings; structure admins see the same aggregates.
"""

from spie.network.models import Membership

R = Membership.Role
PROFESSIONAL_ROLES = {R.REFERENT, R.ORIENTATION, R.ADMIN}
SENDER = "sender"
COMPANY = "company"


def is_company_user(membership):
    return membership is not None and membership.role == R.EMPLOYER


def company_of(membership):
    """The company whose space ``membership`` belongs to, or None."""
    if not is_company_user(membership):
        return None
    return getattr(membership.structure, "company", None)


def is_professional(membership):
    return membership is not None and membership.role in PROFESSIONAL_ROLES


def is_coordinator(membership):
    return membership is not None and membership.role == R.COORDINATOR


def same_territory(membership, obj):
    return membership is not None and membership.structure.territory_id == obj.territory_id


def can_list_companies(membership):
    return membership is not None and (is_professional(membership) or is_coordinator(membership))


def can_see_company(membership, company):
    if membership is None:
        return False
    if is_company_user(membership):
        return company.account_id is not None and company.account_id == membership.structure_id
    return (is_professional(membership) or is_coordinator(membership)) and same_territory(membership, company)


def can_create_company(membership):
    return is_professional(membership)


def can_manage_company(membership, company):
    """Edit the company, its openings, immersion offers and engagements."""
    if membership is None:
        return False
    if is_company_user(membership):
        return company.account_id is not None and company.account_id == membership.structure_id
    if not is_professional(membership) or not same_territory(membership, company):
        return False
    if company.account_id is None and company.followed_by_id is None:
        return True  # acting for a company without an account that nobody follows yet
    return company.followed_by_id is not None and company.followed_by_id == membership.structure_id


def can_give_account(membership, company):
    """Open the company's own space and invite its first user."""
    return is_professional(membership) and same_territory(membership, company) and (
        company.followed_by_id in (None, membership.structure_id)
    )


def can_see_opening(membership, opening):
    return can_see_company(membership, opening.company)


def can_see_named_candidates(membership, opening):
    """Named candidates (among the persons the viewer follows): professionals of the territory."""
    return is_professional(membership) and same_territory(membership, opening)


def can_see_anonymous_candidates(membership, opening):
    """Anonymous profiles (skills, experience, area, availability; never identity or situation)."""
    return can_manage_company(membership, opening.company) or can_see_named_candidates(membership, opening)


def can_position(membership, access):
    """May the professional put forward the person whose ``Access`` is given?"""
    return is_professional(membership) and access is not None and access.can_open_record


def positioning_side(membership, positioning, access=None):
    """``"sender"`` (who may open the person's record, or the sending structure's members
    when the caller knows no access), ``"company"`` (who manages the opening's company) or None.
    Coordinators are never on a side."""
    if membership is None or is_coordinator(membership):
        return None
    if is_professional(membership):
        if access is not None and access.can_open_record:
            return SENDER
        if (
            positioning.structure_id is not None
            and membership.structure_id == positioning.structure_id
            and (access is None or positioning.proposed_by_id == membership.user_id)
        ):
            return SENDER
    if can_manage_company(membership, positioning.opening.company):
        return COMPANY
    return None


def can_see_matching_report(membership):
    """Congestion and fairness figures (aggregates only)."""
    return membership is not None and membership.role in {R.COORDINATOR, R.ADMIN}


def can_manage_engagement(membership, engagement):
    if engagement.company_id is not None:
        return can_manage_company(membership, engagement.company)
    return is_professional(membership) and same_territory(membership, engagement)


def can_register_person(membership, access):
    return is_professional(membership) and access is not None and access.can_open_record
