"""Sign-in of professionals: password, lockout, TOTP second factor, recovery codes, account page,
password reset, API tokens and the API's session authentication."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from spie.api.authentication import VerifiedSessionAuthentication
from spie.core.policies import declared_policy
from spie.network import auth_urls
from spie.network.auth_forms import LOGIN_ERROR
from spie.network.middleware import ActiveMembershipMiddleware
from tests.conftest import login_client
from tests.network.factories import MembershipFactory, UserFactory, make_professional

pytestmark = pytest.mark.django_db

PASSWORD = "motdepasse-tres-solide"
LOGIN_URL = "/compte/connexion/"


def code_for(device):
    """The TOTP code the user's application shows right now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def confirmed_device(user):
    return TOTPDevice.objects.create(user=user, name="Téléphone", confirmed=True)


def post_login(client, email, password=PASSWORD, **extra):
    return client.post(reverse("accounts:login"), {"username": email, "password": password, **extra})


# --- URLs and the login page ---------------------------------------------------------------------


def test_every_account_url_declares_a_policy():
    for pattern in auth_urls.urlpatterns:
        assert declared_policy(pattern.callback), pattern.name


def test_login_page_is_public_and_explains():
    response = Client().get(reverse("accounts:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Connexion</h1>" in html
    assert "Mot de passe oublié ?" in html
    assert 'name="username"' in html and 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert reverse("accounts:password_reset") in html


# --- password step -------------------------------------------------------------------------------


def test_login_success_rotates_session_and_redirects_to_second_factor():
    user = make_professional()
    client = Client()
    session = client.session
    session["before"] = 1
    session.save()
    key_before = session.session_key

    response = post_login(client, user.email.upper(), next="/personnes/recherche/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor"))
    assert "next=%2Fpersonnes%2Frecherche%2F" in response["Location"]
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session.session_key != key_before


def test_login_drops_an_unsafe_next():
    user = make_professional()
    response = post_login(Client(), user.email, next="https://evil.example/")
    assert response.status_code == 302
    assert "evil" not in response["Location"]


@pytest.mark.parametrize("email, password", [("known", "mauvais-mot-de-passe"), ("inconnu@spie.example", PASSWORD)])
def test_wrong_credentials_get_one_generic_message(email, password):
    user = make_professional()
    client = Client()
    response = post_login(client, user.email if email == "known" else email, password)
    assert response.status_code == 200
    html = response.content.decode()
    assert LOGIN_ERROR.replace("'", "&#x27;") in html
    assert 'role="alert"' in html
    assert SESSION_KEY not in client.session


def test_inactive_user_cannot_log_in():
    user = make_professional(is_active=False)
    response = post_login(Client(), user.email)
    assert response.status_code == 200
    assert "incorrect" in response.content.decode()


def test_lockout_after_five_failures(settings):
    settings.AXES_ENABLED = True
    user = make_professional()
    client = Client()
    statuses = [post_login(client, user.email, "mauvais-mot-de-passe").status_code for _ in range(5)]
    assert statuses[:4] == [200, 200, 200, 200]
    assert statuses[4] == 429

    # Even the right password is refused while locked out.
    response = post_login(client, user.email)
    assert response.status_code == 429
    assert SESSION_KEY not in client.session
    html = response.content.decode()
    assert "Connexion temporairement bloquée" in html
    assert "15 minutes" in html

    # Another account from the same address is not locked.
    other = make_professional()
    assert post_login(Client(), other.email).status_code == 302


def test_logout_is_post_only():
    user = make_professional()
    client = login_client(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert SESSION_KEY not in client.session


# --- second factor: enrolment --------------------------------------------------------------------


def test_two_factor_needs_a_login():
    response = Client().get(reverse("accounts:two_factor"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_enrolment_shows_inline_svg_qr_and_secret():
    user = make_professional()
    client = login_client(user, verified=False)
    response = client.get(reverse("accounts:two_factor"))
    assert response.status_code == 200
    html = response.content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert "<svg" in html and "<img" not in html and "<script" not in html.split("</header>", 1)[1]
    assert 'inputmode="numeric"' in html and 'autocomplete="one-time-code"' in html
    assert html.count("<svg") == 1
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    # Reloading keeps the same (unconfirmed) device, hence the same QR code.
    client.get(reverse("accounts:two_factor"))
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_enrolment_with_a_wrong_code_is_refused():
    user = make_professional()
    client = login_client(user, verified=False)
    client.get(reverse("accounts:two_factor"))
    device = TOTPDevice.objects.get(user=user)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("accounts:two_factor"), {"code": wrong})
    assert response.status_code == 200
    assert "ne correspond pas" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_enrolment_confirms_device_and_shows_ten_recovery_codes():
    user = make_professional()
    client = login_client(user, verified=False)
    client.get(reverse("accounts:two_factor"))
    device = TOTPDevice.objects.get(user=user)

    response = client.post(reverse("accounts:two_factor"), {"code": code_for(device), "next": "/compte/"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Codes de secours" in html
    assert "no-store" in response["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed
    tokens = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(tokens) == 10 and len(set(tokens)) == 10
    for token in tokens:
        assert f"{token[:4]}-{token[4:]}" in html
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("accounts:account")).status_code == 200


# --- second factor: verification -----------------------------------------------------------------


def test_verify_with_totp_code():
    user = make_professional()
    device = confirmed_device(user)
    client = login_client(user, verified=False)

    page = client.get(reverse("accounts:two_factor"), {"next": "/compte/"})
    assert page.status_code == 200
    assert "Code de vérification" in page.content.decode()

    response = client.post(reverse("accounts:two_factor"), {"code": code_for(device), "next": "/compte/"})
    assert response.status_code == 302
    assert response["Location"] == "/compte/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_verify_redirects_to_root_for_an_unsafe_next():
    user = make_professional()
    device = confirmed_device(user)
    client = login_client(user, verified=False)
    response = client.post(reverse("accounts:two_factor"), {"code": code_for(device), "next": "//evil.example/"})
    assert response["Location"] == "/"


def test_verify_with_recovery_code_once_only():
    user = make_professional()
    confirmed_device(user)
    static = StaticDevice.objects.create(user=user, name="Codes de secours", confirmed=True)
    StaticToken.objects.create(device=static, token="abcdefgh")
    StaticToken.objects.create(device=static, token="ijklmnop")

    client = login_client(user, verified=False)
    response = client.post(reverse("accounts:two_factor"), {"code": "ABCD-EFGH", "method": "recovery"})
    assert response.status_code == 302
    assert client.session[DEVICE_ID_SESSION_KEY] == static.persistent_id
    assert list(static.token_set.values_list("token", flat=True)) == ["ijklmnop"]

    other = login_client(user, verified=False)
    response = other.post(reverse("accounts:two_factor"), {"code": "abcd-efgh", "method": "recovery"})
    assert response.status_code == 200
    assert "Code incorrect" in response.content.decode()
    assert DEVICE_ID_SESSION_KEY not in other.session


def test_five_wrong_codes_log_the_user_out(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # test the session counter alone
    user = make_professional()
    device = confirmed_device(user)
    client = login_client(user, verified=False)
    wrong = f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"
    for attempt in range(4):
        response = client.post(reverse("accounts:two_factor"), {"code": wrong})
        assert response.status_code == 200, attempt
        assert SESSION_KEY in client.session
    assert "Il vous reste 1 essai " in response.content.decode()

    response = client.post(reverse("accounts:two_factor"), {"code": wrong})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert SESSION_KEY not in client.session
    page = client.get(response["Location"])
    assert "Trop de codes incorrects" in page.content.decode()


def test_quick_retries_are_throttled_without_counting():
    user = make_professional()
    device = confirmed_device(user)
    client = login_client(user, verified=False)
    right = code_for(device)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    client.post(reverse("accounts:two_factor"), {"code": wrong})
    assert client.session["spie_otp_failures"] == 1

    # Right away, even the right code is not checked (django_otp throttling: 1 s, 2 s, 4 s…).
    response = client.post(reverse("accounts:two_factor"), {"code": right})
    assert response.status_code == 200
    assert "patientez 1 seconde" in response.content.decode()
    assert client.session["spie_otp_failures"] == 1
    assert DEVICE_ID_SESSION_KEY not in client.session

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(seconds=5))
    response = client.post(reverse("accounts:two_factor"), {"code": right})
    assert response.status_code == 302
    assert "spie_otp_failures" not in client.session


def test_pages_redirect_to_second_factor_until_verified():
    user = make_professional(is_staff=True, is_superuser=True)
    client = login_client(user, verified=False)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:two_factor')}?next=/admin/"
    assert login_client(user).get("/admin/").status_code == 200


def test_account_pages_need_the_second_factor_even_under_compte():
    user = make_professional()
    client = login_client(user, verified=False)
    response = client.get(reverse("accounts:account"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor"))
    response = client.post(reverse("accounts:api_token"), {"action": "create"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=user).exists()


def test_demo_setting_skips_second_factor(settings):
    settings.SPIE_DEMO_SKIP_2FA = True
    user = make_professional(is_staff=True, is_superuser=True)
    client = Client()
    response = post_login(client, user.email, next="/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("accounts:account")).status_code == 200


# --- account page --------------------------------------------------------------------------------


def test_account_page_lists_memberships():
    user = make_professional()
    second = MembershipFactory(user=user)
    response = login_client(user).get(reverse("accounts:account"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mon compte" in html
    assert second.structure.name in html
    assert "Structure active" in html


def test_switch_membership_accepts_only_own_memberships():
    user = make_professional()
    second = MembershipFactory(user=user)
    foreign = MembershipFactory(user=UserFactory())
    ended = MembershipFactory(user=user, is_active=False)
    client = login_client(user)
    key = ActiveMembershipMiddleware.SESSION_KEY

    response = client.post(reverse("accounts:switch_membership"), {"membership_id": second.id})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:account")
    assert client.session[key] == second.id
    assert client.get(reverse("accounts:account")).context["active"].id == second.id

    for refused in (foreign.id, ended.id, "abc"):
        response = client.post(reverse("accounts:switch_membership"), {"membership_id": refused})
        assert response.status_code == 403
        assert client.session[key] == second.id


def test_api_token_create_regenerate_revoke():
    user = make_professional()
    client = login_client(user)
    url = reverse("accounts:api_token")

    response = client.post(url, {"action": "create"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = Token.objects.get(user=user).key
    assert key in response.content.decode()
    # Shown once only.
    assert key not in client.get(reverse("accounts:account")).content.decode()

    response = client.post(url, {"action": "regenerate"})
    new_key = Token.objects.get(user=user).key
    assert new_key != key and new_key in response.content.decode()

    response = client.post(url, {"action": "revoke"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=user).exists()


def test_regenerate_recovery_codes_replaces_the_old_ones():
    user = make_professional()
    device = confirmed_device(user)
    static = StaticDevice.objects.create(user=user, name="Codes de secours", confirmed=True)
    StaticToken.objects.create(device=static, token="abcdefgh")
    client = login_client(user)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id

    response = client.post(reverse("accounts:recovery_codes"))
    assert response.status_code == 200
    tokens = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(tokens) == 10 and "abcdefgh" not in tokens
    assert "Codes de secours" in response.content.decode()
    assert client.get(reverse("accounts:account")).status_code == 200


# --- password reset ------------------------------------------------------------------------------


def test_password_reset_by_email():
    user = make_professional()
    client = Client()
    assert client.get(reverse("accounts:password_reset")).status_code == 200
    response = client.post(reverse("accounts:password_reset"), {"email": user.email})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "mot de passe" in message.subject.lower()
    assert "Bonjour" in message.body
    link = re.search(r"https?://testserver(/compte/\S+/)", message.body).group(1)

    response = client.get(link)
    assert response.status_code == 302  # to the URL without the token in it
    form_url = response["Location"]
    page = client.get(form_url)
    assert page.status_code == 200
    assert "Choisissez un nouveau mot de passe" in page.content.decode()
    new_password = "un-nouveau-mot-de-passe-solide"
    response = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_complete")

    assert post_login(Client(), user.email, PASSWORD).status_code == 200
    response = post_login(Client(), user.email, new_password)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor"))
    # The link served once.
    assert "Lien expiré" in Client().get(link).content.decode()


def test_password_reset_does_not_reveal_unknown_addresses():
    response = Client().post(reverse("accounts:password_reset"), {"email": "personne@spie.example"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


# --- API session authentication ------------------------------------------------------------------


def api_request(user, device=None):
    """A DRF request going through the session and django_otp middleware like a real one."""
    request = RequestFactory().get("/api/v1/")
    SessionMiddleware(lambda r: None).process_request(request)
    if device is not None:
        request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.user = user
    OTPMiddleware(lambda r: None)(request)
    return Request(request)


def test_api_session_needs_the_second_factor(settings):
    user = make_professional()
    device = confirmed_device(user)
    auth = VerifiedSessionAuthentication()

    assert auth.authenticate(api_request(user)) is None
    authenticated, _ = auth.authenticate(api_request(user, device))
    assert authenticated.pk == user.pk

    other_device = confirmed_device(UserFactory())
    assert auth.authenticate(api_request(user, other_device)) is None

    settings.SPIE_DEMO_SKIP_2FA = True
    assert auth.authenticate(api_request(user))[0].pk == user.pk
