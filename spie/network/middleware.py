"""Request-level context: the active structure membership and the second-factor gate."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse


class ActiveMembershipMiddleware:
    """Set ``request.membership`` (the active one) and ``request.memberships`` (all current).

    A user in several structures chooses the active one (stored in the session); roles that
    depend on the structure (chargé d'orientation, admin, coordinator) are read from it.
    """

    SESSION_KEY = "active_membership_id"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.memberships = []
        if request.user.is_authenticated:
            memberships = list(request.user.active_memberships())
            request.memberships = memberships
            # Reused by people.policies.current_structure_ids without another query.
            request.user._spie_structure_ids = frozenset(m.structure_id for m in memberships)
            wanted = request.session.get(self.SESSION_KEY)
            request.membership = next(
                (m for m in memberships if m.id == wanted), memberships[0] if memberships else None
            )
        return self.get_response(request)


class RequireSecondFactorMiddleware:
    """Professionals must pass the TOTP second factor before any page but the auth pages.

    Only an explicit ``SPIE_DEMO_SKIP_2FA`` setting (refused in production) lifts it.
    The API's session authentication applies the same rule (see ``spie.api.authentication``).
    """

    EXEMPT_PREFIXES = ("/compte/", "/static/", "/healthz", "/a-propos/", "/api/", "/catalogue-public/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not settings.SPIE_DEMO_SKIP_2FA
            and not user.is_verified()
            and not request.path.startswith(self.EXEMPT_PREFIXES)
        ):
            return redirect(f"{reverse('accounts:two_factor')}?next={request.get_full_path()}")
        return self.get_response(request)
