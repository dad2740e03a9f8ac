"""API access: the active structure membership, and the base every API view builds on.

``ActiveMembershipMiddleware`` sets ``request.membership`` from the session, but DRF
authenticates *after* the middleware: with a token the middleware saw an anonymous user. The API
therefore computes the membership itself, once authentication is done (:func:`get_membership`),
and stores it on the request so that ``spie.core.audit.log_access`` records the structure.

A user in several structures picks one with the ``X-SPIE-Structure`` header (a structure id);
without it, the session's choice (browser) or the first active membership is used.
"""

from rest_framework import permissions

STRUCTURE_HEADER = "X-SPIE-Structure"
NO_MEMBERSHIP = "Aucun rattachement actif à une structure."
NO_MEMBERSHIP_IN_STRUCTURE = (
    "Aucun rattachement actif à la structure demandée (en-tête X-SPIE-Structure)."
)

_UNSET = object()


def _resolve_membership(request):
    """Return ``(membership or None, reason)`` for the authenticated user of ``request``."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None, NO_MEMBERSHIP
    memberships = list(user.active_memberships())
    user._spie_structure_ids = frozenset(m.structure_id for m in memberships)
    wanted = (request.headers.get(STRUCTURE_HEADER) or "").strip()
    if wanted:
        if not wanted.isdigit():
            return None, NO_MEMBERSHIP_IN_STRUCTURE
        structure_id = int(wanted)
        chosen = next((m for m in memberships if m.structure_id == structure_id), None)
        return chosen, NO_MEMBERSHIP_IN_STRUCTURE
    # Browser session: honour the structure chosen in the pages (set by the middleware).
    django_request = getattr(request, "_request", request)
    session_choice = getattr(django_request, "membership", None)
    if session_choice is not None and session_choice.user_id == user.pk:
        chosen = next((m for m in memberships if m.pk == session_choice.pk), None)
        if chosen is not None:
            return chosen, NO_MEMBERSHIP
    return (memberships[0] if memberships else None), NO_MEMBERSHIP


def get_membership(request):
    """The active :class:`~spie.network.models.Membership` of this API request, or None.

    Computed once per request and stored as ``request.membership`` (on the DRF request and on
    the underlying Django request, so that the audit log sees it whichever it is given).
    """
    cached = getattr(request, "_spie_membership", _UNSET)
    if cached is not _UNSET:
        return cached
    membership, reason = _resolve_membership(request)
    request._spie_membership = membership
    request._spie_membership_reason = reason
    request.membership = membership
    django_request = getattr(request, "_request", None)
    if django_request is not None:
        django_request.membership = membership
    return membership


class HasActiveMembership(permissions.BasePermission):
    """Deny (403, French message) a professional without an active structure membership.

    Anonymous requests are refused with 401 by ``IsAuthenticated``, checked first.
    """

    message = NO_MEMBERSHIP

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if get_membership(request) is None:
            self.message = getattr(request, "_spie_membership_reason", NO_MEMBERSHIP)
            return False
        return True


class SpieAPIMixin:
    """Base of every API view: authenticated professional acting for an active membership.

    Subclasses must set ``spie_policy`` (the meta-test ``tests/core/test_policies_declared.py``
    walks the URL resolver and fails on a route without it).
    """

    spie_policy = None
    permission_classes = [permissions.IsAuthenticated, HasActiveMembership]

    @property
    def membership(self):
        return get_membership(self.request)

    @property
    def is_schema_generation(self):
        return getattr(self, "swagger_fake_view", False)
