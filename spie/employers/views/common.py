"""What several pages of the employer side share."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from spie.people import policies as people_policies
from spie.people import selectors as people_selectors

from .. import policies

COMPANY_DENIED = "Les entreprises voient des profils anonymes, jamais le dossier d'une personne."


def person_and_access(request, pk, *, allowed, denied, coordinator_denied):
    """The person ``pk`` (404 when unknown) and the viewer's ``Access`` to the record, for a
    professional for whom ``allowed(membership, access)`` holds; company users and coordinators
    never get a named person."""
    membership = request.membership
    if policies.is_company_user(membership):
        raise PermissionDenied(COMPANY_DENIED)
    if policies.is_coordinator(membership):
        raise PermissionDenied(coordinator_denied)
    person = people_selectors.person_for_record(pk)
    if person is None:
        raise Http404
    access = people_policies.access_for(
        request.user, membership, person, followups=person.active_followups, consents=person.all_consents
    )
    if not allowed(membership, access):
        raise PermissionDenied(denied)
    return person, access
