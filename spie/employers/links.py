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
from django.urls import reverse
from django.utils import timezone

from spie.core import links as core_links
from spie.core.links import LinkInvalid, site_url  # noqa: F401 - this module's API

from .models import Positioning

SALT = "employers.positioning-answer"
DEFAULT_DAYS = 30


class LinkExpired(core_links.LinkExpired):
    """A genuine, current link whose validity has ended (``positioning``): a new one may be asked."""

    @property
    def positioning(self):
        return self.obj


def link_days():
    return int(getattr(settings, "SPIE_POSITIONING_LINK_DAYS", DEFAULT_DAYS))


def new_expiry(now=None):
    return (now or timezone.now()) + datetime.timedelta(days=link_days())


def make_token(positioning):
    return core_links.make_token(positioning, salt=SALT)


def read_token(token, now=None):
    """The positioning ``token`` opens; raise :class:`LinkInvalid` or :class:`LinkExpired`."""
    queryset = Positioning.objects.select_related(
        "person", "opening__company", "opening__commune", "structure", "proposed_by"
    )
    return core_links.open_token(token, queryset, salt=SALT, now=now, expired=LinkExpired)


def answer_url(positioning, base_url=None):
    return site_url(base_url) + reverse("employers:positioning_link", args=[make_token(positioning)])


def detail_url(positioning, base_url=None):
    return site_url(base_url) + reverse("employers:positioning_detail", args=[positioning.uid])
