"""Signed, versioned, expiring links: who has no account (a provider, a company) answers from an
e-mail (catalogue referrals, employer positionings).

A token carries the object's ``uid`` and its ``link_version``, signed with the project's secret
under a salt of each use, so it can be neither forged nor reused for another purpose. Its lifetime
is not in the token but on the object (``link_expires_at``): a renewal extends it without changing
what was sent, and a new version (renewal, final answer) kills every older link at once, so an
e-mail forwarded or replayed cannot answer twice.
"""

from django.conf import settings
from django.core import signing
from django.utils import timezone


class LinkInvalid(Exception):
    """Tampered, unknown, or an older version of the link."""


class LinkExpired(Exception):
    """A genuine, current link whose validity has ended: the holder may ask for a new one."""

    def __init__(self, obj):
        super().__init__("Lien expiré.")
        self.obj = obj


def make_token(obj, *, salt, key="u"):
    return signing.dumps({key: str(obj.uid), "v": obj.link_version}, salt=salt)


def open_token(token, queryset, *, salt, key="u", now=None, expired=LinkExpired):
    """The object of ``queryset`` that ``token`` opens; raise :class:`LinkInvalid`, or
    ``expired`` (a :class:`LinkExpired`) with the object when its link has run out."""
    try:
        payload = signing.loads(token, salt=salt)
        uid, version = str(payload[key]), int(payload["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid("Lien invalide.") from exc
    obj = queryset.filter(uid=uid).first()
    if obj is None or obj.link_version != version:
        raise LinkInvalid("Lien invalide.")
    if obj.link_expires_at is None or obj.link_expires_at <= (now or timezone.now()):
        raise expired(obj)
    return obj


def site_url(base_url=None):
    """The absolute root of the platform for links in e-mails: the request's when there is one,
    else the ``SITE_URL`` setting (tasks and commands have no request)."""
    return (base_url if base_url is not None else getattr(settings, "SITE_URL", "") or "").rstrip("/")


def request_base_url(request):
    """The root of the platform as the request reached it (``https://host``), for e-mailed links."""
    return request.build_absolute_uri("/")[:-1]
