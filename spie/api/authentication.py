"""API authentication: a browser session counts only once the second factor is passed.

Token authentication (``Authorization: Token …``) is unaffected: a token can only be created
from "Mon compte", which itself requires the second factor.
"""

from django.conf import settings
from rest_framework.authentication import SessionAuthentication


def session_second_factor_passed(user):
    """True when the session's user passed the TOTP step (``django_otp`` middleware), or demo mode."""
    if settings.SPIE_DEMO_SKIP_2FA:
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(callable(is_verified) and is_verified())


class VerifiedSessionAuthentication(SessionAuthentication):
    """DRF session authentication that ignores sessions without the second factor.

    Such a request is treated as anonymous (``None``) rather than failing outright, so that
    public API routes keep working and protected ones answer "not authenticated".
    CSRF is enforced, as in the parent class, for accepted sessions.
    """

    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        if not user or not user.is_active:
            return None
        if not session_second_factor_passed(user):
            return None
        self.enforce_csrf(request)
        return (user, None)
