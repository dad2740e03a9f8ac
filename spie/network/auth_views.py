"""Sign-in of professionals and their account page.

Flow: e-mail + password (:func:`login_view`, counted by django-axes) → second factor
(:func:`two_factor`: TOTP enrolment the first time, then a TOTP or recovery code) → the page asked
for. ``RequireSecondFactorMiddleware`` keeps every page but ``/compte/`` closed until then; the
account pages that change credentials (API token, recovery codes, active structure) check the
second factor themselves, since ``/compte/`` is exempt from that middleware.
"""

from base64 import b32encode
from functools import wraps
from math import ceil
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as django_auth_views
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from spie.core.policies import PUBLIC, view_policy

from .auth_forms import (
    ApiTokenForm,
    LoginForm,
    OTPCodeForm,
    SpiePasswordResetForm,
    SpieSetPasswordForm,
    SwitchMembershipForm,
    format_recovery_code,
)
from .middleware import ActiveMembershipMiddleware

OWN_ACCOUNT = "accounts.own_account"
SECOND_FACTOR = "accounts.second_factor"

# Wrong second-factor codes allowed in one session before the user is logged out.
MAX_OTP_FAILURES = 5
OTP_FAILURES_SESSION_KEY = "spie_otp_failures"
RECOVERY_CODES_COUNT = 10


# --- helpers -----------------------------------------------------------------------------------


def safe_next(request, default=None):
    """The ``next`` parameter (POST, then GET) if it stays on this site, else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def with_next(url, next_url):
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def second_factor_passed(request):
    if settings.SPIE_DEMO_SKIP_2FA:
        return True
    is_verified = getattr(request.user, "is_verified", None)
    return bool(callable(is_verified) and is_verified())


def verified_required(view):
    """The view needs the second factor (or the demo setting), even under ``/compte/``."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not second_factor_passed(request):
            back = request.get_full_path() if request.method == "GET" else reverse("accounts:account")
            return redirect(with_next(reverse("accounts:two_factor"), back))
        return view(request, *args, **kwargs)

    return wrapped


def confirmed_totp_device(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("id").first()


def new_recovery_codes(user):
    """Replace the user's recovery codes by ``RECOVERY_CODES_COUNT`` new ones; return them.

    The StaticDevice is kept (only its tokens change) so a session verified with a recovery
    code stays verified.
    """
    with transaction.atomic():
        device = StaticDevice.objects.filter(user=user).order_by("id").first()
        if device is None:
            device = StaticDevice.objects.create(user=user, name="Codes de secours", confirmed=True)
        elif not device.confirmed:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
        device.token_set.all().delete()
        codes = set()
        while len(codes) < RECOVERY_CODES_COUNT:
            codes.add(StaticToken.random_token())
        codes = sorted(codes)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [format_recovery_code(code) for code in codes]


def remaining_recovery_codes(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def mark_verified(request, device):
    """The second factor is passed: new session key, then remember the device in the session."""
    request.session.pop(OTP_FAILURES_SESSION_KEY, None)
    request.session.cycle_key()
    otp_login(request, device)


def qr_code_svg(device):
    qr = segno.make(device.config_url, error="m")
    return qr.svg_inline(
        scale=4,
        border=2,
        omitsize=True,  # a viewBox only: the SVG scales to its container
        dark="#000",
        light="#fff",
        title="QR code à scanner avec votre application d'authentification",
        svgclass="qr-code",
    )


def grouped_secret(device):
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def render_recovery_codes(request, codes, *, next_url, first_time):
    response = render(
        request,
        "network/auth/recovery_codes.html",
        {"codes": codes, "next_url": next_url, "first_time": first_time},
    )
    response["Cache-Control"] = "no-store"
    return response


# --- password step -----------------------------------------------------------------------------


@view_policy(PUBLIC, login=False)
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = safe_next(request)
    if request.user.is_authenticated:
        if second_factor_passed(request):
            return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
        return redirect(with_next(reverse("accounts:two_factor"), next_url))

    form = LoginForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        auth_login(request, form.user)  # rotates the session key
        if settings.SPIE_DEMO_SKIP_2FA:
            return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
        return redirect(with_next(reverse("accounts:two_factor"), next_url))
    return render(request, "network/auth/login.html", {"form": form, "next": next_url or ""})


@view_policy(PUBLIC, login=False)
@require_POST
def logout_view(request):
    auth_logout(request)
    messages.info(request, "Vous êtes déconnecté. À bientôt !")
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- second factor -----------------------------------------------------------------------------


@view_policy(SECOND_FACTOR, login=True, professional=False)
@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Verify a TOTP or recovery code, or enrol a TOTP device if the user has none yet."""
    next_url = safe_next(request, default="/")
    if request.user.is_verified():
        return redirect(next_url)
    if confirmed_totp_device(request.user) is not None:
        return _verify(request, next_url)
    return _enrol(request, next_url)


def _throttle_wait_seconds(devices):
    """Seconds to wait when every device refuses to verify for now (django_otp throttling), else 0."""
    waits = []
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if allowed:
            return 0
        locked_until = (data or {}).get("locked_until")
        waits.append((locked_until - timezone.now()).total_seconds() if locked_until else 1)
    return max(1, ceil(min(waits))) if waits else 0


def _verify(request, next_url):
    user = request.user
    method = "recovery" if request.POST.get("method") == "recovery" else "totp"
    bound = OTPCodeForm(request.POST, method=method) if request.method == "POST" else None
    if bound is not None and bound.is_valid():
        code = bound.cleaned_data["code"]
        model = TOTPDevice if bound.is_totp else StaticDevice
        devices = list(model.objects.devices_for_user(user, confirmed=True).order_by("id"))
        wait = _throttle_wait_seconds(devices)
        if wait:
            # Not checked, hence not counted: the device's own throttling slows guessing down.
            bound.add_error(
                "code",
                f"Trop d'essais rapprochés : patientez {wait} seconde{'s' if wait > 1 else ''}, "
                "puis saisissez le code actuellement affiché.",
            )
        else:
            response = _check_code(request, user, devices, code, bound, next_url)
            if response is not None:
                return response

    totp_form = bound if bound is not None and method == "totp" else OTPCodeForm(method="totp")
    recovery_form = bound if bound is not None and method == "recovery" else OTPCodeForm(method="recovery")
    return render(
        request,
        "network/auth/two_factor_verify.html",
        {
            "form": bound,
            "totp_form": totp_form,
            "recovery_form": recovery_form,
            "method": method,
            "next": next_url,
        },
    )


def _check_code(request, user, devices, code, bound, next_url):
    """Verify ``code``; return the response to send, or None after adding an error to ``bound``."""
    device = None
    for candidate in devices:
        device = verify_token(user, candidate.persistent_id, code)
        if device is not None:
            break
    if device is not None:
        mark_verified(request, device)
        if isinstance(device, StaticDevice):
            left = remaining_recovery_codes(user)
            messages.warning(
                request,
                f"Vous vous êtes connecté avec un code de secours ; il n'est plus valable. "
                f"Il vous en reste {left}. Vous pouvez en générer de nouveaux depuis « Mon compte ».",
            )
        return redirect(next_url)

    failures = request.session.get(OTP_FAILURES_SESSION_KEY, 0) + 1
    if failures >= MAX_OTP_FAILURES:
        auth_logout(request)
        messages.error(
            request,
            "Trop de codes incorrects : par sécurité, vous avez été déconnecté. "
            "Reconnectez-vous avec votre mot de passe, puis saisissez le code actuellement affiché "
            "par votre application (vérifiez que l'heure de votre téléphone est juste).",
        )
        return redirect("accounts:login")
    request.session[OTP_FAILURES_SESSION_KEY] = failures
    left = MAX_OTP_FAILURES - failures
    bound.add_error(
        "code",
        f"Code incorrect ou expiré. Il vous reste {left} essai{'s' if left > 1 else ''} avant d'être déconnecté.",
    )
    return None


def _enrol(request, next_url):
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Application d'authentification", confirmed=False)

    form = OTPCodeForm(request.POST or None, method="enrol")
    if request.method == "POST" and form.is_valid():
        verified = verify_token(user, device.persistent_id, form.cleaned_data["code"])
        if verified is not None:
            verified.confirmed = True
            verified.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            codes = new_recovery_codes(user)
            mark_verified(request, verified)
            messages.success(request, "Votre application d'authentification est activée.")
            return render_recovery_codes(request, codes, next_url=next_url, first_time=True)
        form.add_error(
            "code",
            "Ce code ne correspond pas. Saisissez le code actuellement affiché par l'application "
            "et vérifiez que l'heure de votre téléphone est réglée automatiquement.",
        )

    return render(
        request,
        "network/auth/two_factor_enrol.html",
        {
            "form": form,
            "qr_svg": qr_code_svg(device),
            "secret": grouped_secret(device),
            "next": next_url,
        },
    )


# --- account -----------------------------------------------------------------------------------


def _account_context(request, **extra):
    user = request.user
    return {
        "memberships": request.memberships,
        "active": request.membership,
        "totp_device": confirmed_totp_device(user),
        "recovery_left": remaining_recovery_codes(user),
        "token": Token.objects.filter(user=user).first(),
        **extra,
    }


@view_policy(OWN_ACCOUNT, login=True, professional=False)
@verified_required
@never_cache
@require_http_methods(["GET"])
def account(request):
    return render(request, "network/account.html", _account_context(request))


@view_policy(OWN_ACCOUNT, login=True, professional=False)
@verified_required
@require_POST
def switch_membership(request):
    """Make one of the user's own current memberships the active one."""
    form = SwitchMembershipForm(request.POST)
    membership = None
    if form.is_valid():
        wanted = form.cleaned_data["membership_id"]
        membership = next((m for m in request.memberships if m.id == wanted), None)
    if membership is None:
        raise PermissionDenied("Ce rattachement n'est pas le vôtre ou n'est plus actif.")
    request.session[ActiveMembershipMiddleware.SESSION_KEY] = membership.id
    messages.success(request, f"Structure active : {membership.structure.name} ({membership.get_role_display()}).")
    return redirect(safe_next(request, default=reverse("accounts:account")))


@view_policy(OWN_ACCOUNT, login=True, professional=False)
@verified_required
@never_cache
@require_POST
def api_token(request):
    """Create, regenerate or revoke the user's API token; a new key is shown once."""
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Action inconnue sur le jeton d'API.")
        return redirect("accounts:account")
    action = form.cleaned_data["action"]
    with transaction.atomic():
        Token.objects.filter(user=request.user).delete()
        token = None if action == "revoke" else Token.objects.create(user=request.user)
    if token is None:
        messages.success(request, "Votre jeton d'API est révoqué : il ne permet plus d'accéder à l'API.")
        return redirect("accounts:account")
    messages.success(
        request,
        "Nouveau jeton d'API créé. Copiez-le maintenant : il ne sera plus affiché."
        + (" L'ancien jeton ne fonctionne plus." if action == "regenerate" else ""),
    )
    response = render(request, "network/account.html", _account_context(request, new_token=token.key))
    response["Cache-Control"] = "no-store"
    return response


@view_policy(OWN_ACCOUNT, login=True, professional=False)
@verified_required
@never_cache
@require_POST
def recovery_codes(request):
    """Replace the recovery codes (the old ones stop working) and show the new ones once."""
    if confirmed_totp_device(request.user) is None:
        messages.error(request, "Activez d'abord une application d'authentification.")
        return redirect("accounts:account")
    codes = new_recovery_codes(request.user)
    messages.success(request, "Nouveaux codes de secours générés ; les anciens ne fonctionnent plus.")
    return render_recovery_codes(request, codes, next_url=reverse("accounts:account"), first_time=False)


# --- password reset (Django's views, French templates) -----------------------------------------


def _public(view):
    view.spie_policy = PUBLIC
    return view


password_reset = _public(
    django_auth_views.PasswordResetView.as_view(
        form_class=SpiePasswordResetForm,
        template_name="network/auth/password_reset_form.html",
        email_template_name="network/auth/password_reset_email.txt",
        subject_template_name="network/auth/password_reset_subject.txt",
        extra_email_context={"timeout_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)},
        success_url=reverse_lazy("accounts:password_reset_done"),
    )
)
password_reset_done = _public(
    django_auth_views.PasswordResetDoneView.as_view(template_name="network/auth/password_reset_done.html")
)
password_reset_confirm = _public(
    django_auth_views.PasswordResetConfirmView.as_view(
        form_class=SpieSetPasswordForm,
        template_name="network/auth/password_reset_confirm.html",
        success_url=reverse_lazy("accounts:password_reset_complete"),
    )
)
password_reset_complete = _public(
    django_auth_views.PasswordResetCompleteView.as_view(template_name="network/auth/password_reset_complete.html")
)
