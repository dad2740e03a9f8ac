"""Signed links for a provider without an account: answer a referral from an e-mail.

A token carries the referral's ``uid`` and its ``link_version``, signed with the project's
secret under a salt of its own, so it cannot be forged nor reused for another purpose. Its
lifetime is not in the token but on the referral (``link_expires_at``): a renewal extends it
without changing what was sent, and a new version (renewal, final answer, answer given through
the link) kills every older link at once, so an e-mail forwarded or replayed cannot answer twice.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from .models import Referral

SALT = "catalogue.referral-answer"


class LinkInvalid(Exception):
    """Tampered, unknown, or an older version of the link."""


class LinkExpired(Exception):
    """A genuine, current link whose validity has ended: the holder may ask for a new one."""

    def __init__(self, referral):
        super().__init__("Lien expiré.")
        self.referral = referral


def make_token(referral):
    return signing.dumps({"r": str(referral.uid), "v": referral.link_version}, salt=SALT)


def read_token(token, now=None):
    """The referral ``token`` opens; raise :class:`LinkInvalid` or :class:`LinkExpired`."""
    try:
        payload = signing.loads(token, salt=SALT)
        uid, version = str(payload["r"]), int(payload["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid("Lien invalide.") from exc
    referral = (
        Referral.objects.select_related(
            "person", "action__structure", "action__commune", "session", "from_structure", "to_structure", "sent_by"
        )
        .filter(uid=uid)
        .first()
    )
    if referral is None or referral.link_version != version:
        raise LinkInvalid("Lien invalide.")
    now = now or timezone.now()
    if referral.link_expires_at is None or referral.link_expires_at <= now:
        raise LinkExpired(referral)
    return referral


def site_url(base_url=None):
    """The absolute root of the platform for links in e-mails: the request's when there is one,
    else the ``SITE_URL`` setting (tasks and commands have no request)."""
    return (base_url if base_url is not None else getattr(settings, "SITE_URL", "") or "").rstrip("/")


def answer_url(referral, base_url=None):
    return site_url(base_url) + reverse("catalogue:referral_answer", args=[make_token(referral)])


def detail_url(referral, base_url=None):
    return site_url(base_url) + reverse("catalogue:referral_detail", args=[referral.uid])
