"""Signed links for a company without an account (or away from its space): answer a positioning
("mise en relation") from an e-mail.

Same design as ``spie.catalogue.links``: a token carries the positioning's ``uid`` and its
``link_version``, signed with the project's secret under a salt of its own, so it can neither be
forged nor reused for another purpose. Its lifetime is not in the token but on the positioning
(``link_expires_at``, ``SPIE_POSITIONING_LINK_DAYS`` days, 30 by default): a renewal extends it
and bumps the version, and a final status bumps the version too, so an older e-mail (forwarded
or replayed) cannot answer twice.
"""

import datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from .models import Positioning

SALT = "employers.positioning-answer"
DEFAULT_DAYS = 30


class LinkInvalid(Exception):
    """Tampered, unknown, or an older version of the link."""


class LinkExpired(Exception):
    """A genuine, current link whose validity has ended: the holder may ask for a new one."""

    def __init__(self, positioning):
        super().__init__("Lien expiré.")
        self.positioning = positioning


def link_days():
    return int(getattr(settings, "SPIE_POSITIONING_LINK_DAYS", DEFAULT_DAYS))


def new_expiry(now=None):
    return (now or timezone.now()) + datetime.timedelta(days=link_days())


def make_token(positioning):
    return signing.dumps({"u": str(positioning.uid), "v": positioning.link_version}, salt=SALT)


def read_token(token, now=None):
    """The positioning ``token`` opens; raise :class:`LinkInvalid` or :class:`LinkExpired`."""
    try:
        payload = signing.loads(token, salt=SALT)
        uid, version = str(payload["u"]), int(payload["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid("Lien invalide.") from exc
    positioning = (
        Positioning.objects.select_related(
            "person", "opening__company", "opening__commune", "structure", "proposed_by"
        )
        .filter(uid=uid)
        .first()
    )
    if positioning is None or positioning.link_version != version:
        raise LinkInvalid("Lien invalide.")
    now = now or timezone.now()
    if positioning.link_expires_at is None or positioning.link_expires_at <= now:
        raise LinkExpired(positioning)
    return positioning


def site_url(base_url=None):
    """The absolute root of the platform for links in e-mails: the request's when there is one,
    else the ``SITE_URL`` setting (tasks and commands have no request)."""
    return (base_url if base_url is not None else getattr(settings, "SITE_URL", "") or "").rstrip("/")


def answer_url(positioning, base_url=None):
    return site_url(base_url) + reverse("employers:positioning_link", args=[make_token(positioning)])


def detail_url(positioning, base_url=None):
    return site_url(base_url) + reverse("employers:positioning_detail", args=[positioning.uid])
