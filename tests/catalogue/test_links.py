"""The provider's signed link: valid, expired, tampered, an older version after an answer or a
renewal, and the absolute address put in e-mails."""

import datetime

import pytest
from django.core import signing
from django.utils import timezone

from spie.catalogue import links, workflows
from spie.catalogue.models import Referral, ReferralStatus
from spie.catalogue.services import referrals as services

from .test_referrals import send

S = ReferralStatus


def test_a_valid_link_opens_its_referral(world, provider):
    referral = send(world, provider)
    token = links.make_token(referral)
    assert links.read_token(token) == referral
    assert str(referral.uid) not in token  # an encoded, signed payload, not a bare identifier


def test_an_expired_link_says_so_and_names_its_referral(world, provider):
    referral = send(world, provider)
    token = links.make_token(referral)
    Referral.objects.filter(pk=referral.pk).update(link_expires_at=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(links.LinkExpired) as exc:
        links.read_token(token)
    assert exc.value.referral == referral
    # Reading "now" before the expiry still works: the lifetime is on the referral, not in the token.
    assert links.read_token(token, now=timezone.now() - datetime.timedelta(hours=1)) == referral


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: "x" + t,  # payload changed
    lambda t: "not-a-token",
    lambda t: "",
])
def test_a_tampered_link_is_invalid(world, provider, mangle):
    token = links.make_token(send(world, provider))
    with pytest.raises(links.LinkInvalid):
        links.read_token(mangle(token))


def test_a_link_signed_for_another_purpose_or_referral_is_invalid(world, provider):
    referral = send(world, provider)
    other_salt = signing.dumps({"r": str(referral.uid), "v": referral.link_version}, salt="autre.usage")
    with pytest.raises(links.LinkInvalid):
        links.read_token(other_salt)
    unknown = signing.dumps({"r": "00000000-0000-0000-0000-000000000000", "v": 1}, salt=links.SALT)
    with pytest.raises(links.LinkInvalid):
        links.read_token(unknown)
    malformed = signing.dumps({"uid": str(referral.uid)}, salt=links.SALT)
    with pytest.raises(links.LinkInvalid):
        links.read_token(malformed)


def test_an_answer_through_the_link_kills_it_and_issues_the_next(world, provider):
    referral = send(world, provider)
    token = links.make_token(referral)
    Referral.objects.filter(pk=referral.pk).update(link_expires_at=timezone.now() + datetime.timedelta(hours=1))
    services.move(links.read_token(token), S.ACCEPTED, actor=workflows.PROVIDER, via_link=True)
    referral.refresh_from_db()
    assert referral.answered_via_link and referral.answered_by is None
    with pytest.raises(links.LinkInvalid):
        links.read_token(token)  # cannot answer twice
    fresh = links.make_token(referral)
    assert links.read_token(fresh) == referral
    assert referral.link_expires_at > timezone.now() + datetime.timedelta(days=7)  # renewed for the next steps


def test_a_final_answer_in_the_space_kills_the_link_a_non_final_one_does_not(world, provider):
    referral = send(world, provider)
    token = links.make_token(referral)
    services.move(referral, S.ACCEPTED, actor=workflows.PROVIDER, by=provider["admin"])
    assert links.read_token(token) == referral  # accepted in the space: the link may tell the start
    services.move(referral, S.DROPPED, actor=workflows.SENDER, by=world["referent"], reason="job")
    with pytest.raises(links.LinkInvalid):
        links.read_token(token)


def test_renewal_replaces_an_expired_link(world, provider):
    referral = send(world, provider)
    old = links.make_token(referral)
    Referral.objects.filter(pk=referral.pk).update(link_expires_at=timezone.now() - datetime.timedelta(days=1))
    referral.refresh_from_db()
    with pytest.raises(links.LinkExpired):
        links.read_token(old)
    services.renew_link(referral, by=world["referent"])
    referral.refresh_from_db()
    with pytest.raises(links.LinkInvalid):
        links.read_token(old)
    assert links.read_token(links.make_token(referral)) == referral
    assert referral.link_expires_at > timezone.now() + datetime.timedelta(days=7)


def test_answer_url_is_absolute(world, provider, settings):
    referral = send(world, provider)
    settings.SITE_URL = "https://spie31.example/"
    url = links.answer_url(referral)
    assert url.startswith("https://spie31.example/catalogue/reponse/")
    assert links.read_token(url.rstrip("/").rsplit("/", 1)[1]) == referral
    assert links.answer_url(referral, "http://testserver").startswith("http://testserver/catalogue/reponse/")
