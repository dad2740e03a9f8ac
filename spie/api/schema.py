"""drf-spectacular extensions for the project's own API classes (imported by ``ApiConfig.ready``)."""

from drf_spectacular.authentication import SessionScheme


class VerifiedSessionScheme(SessionScheme):
    """The session cookie, accepted only once the second factor is passed."""

    target_class = "spie.api.authentication.VerifiedSessionAuthentication"
