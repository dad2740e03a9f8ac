"""Signed links for a provider without an account: answer a referral from an e-mail.

A token carries the referral's ``uid`` and its ``link_version``, signed with the project's
secret under a salt of its own, so it cannot be forged nor reused for another purpose. Its
lifetime is not in the token but on the referral (``link_expires_at``): a renewal extends it
without changing what was sent, and a new version (renewal, final answer, answer given through
the link) kills every older link at once, so an e-mail forwarded or replayed cannot answer twice.
The mechanism is ``spie.core.links`` (shared with the employer side's positionings).
"""

from django.urls import reverse

from spie.core import links as core_links
from spie.core.links import LinkInvalid, site_url  # noqa: F401 - this module's API

from .models import Referral

SALT = "catalogue.referral-answer"


class LinkExpired(core_links.LinkExpired):
    """A genuine, current link whose validity has ended (``referral``): a new one may be asked."""

    @property
    def referral(self):
        return self.obj


def make_token(referral):
    return core_links.make_token(referral, salt=SALT, key="r")


def read_token(token, now=None):
    """The referral ``token`` opens; raise :class:`LinkInvalid` or :class:`LinkExpired`."""
    queryset = Referral.objects.select_related(
        "person", "action__structure", "action__commune", "session", "from_structure", "to_structure", "sent_by"
    )
    return core_links.open_token(token, queryset, salt=SALT, key="r", now=now, expired=LinkExpired)


def answer_url(referral, base_url=None):
    return site_url(base_url) + reverse("catalogue:referral_answer", args=[make_token(referral)])


def detail_url(referral, base_url=None):
    return site_url(base_url) + reverse("catalogue:referral_detail", args=[referral.uid])
