"""Forms of the professionals' sign-in: e-mail + password, then the TOTP second factor."""

import re

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm

LOGIN_ERROR = "Adresse électronique ou mot de passe incorrect."

TOTP_RE = re.compile(r"\d{6}")
# django_otp's StaticToken.random_token(): 8 lowercase base32 characters.
RECOVERY_RE = re.compile(r"[a-z2-7]{8,16}")


class LoginForm(forms.Form):
    """E-mail + password. The e-mail field is named ``username`` for django-axes.

    The error never tells whether the address has an account.
    """

    username = forms.EmailField(
        label="Adresse électronique",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True, "spellcheck": "false"}),
        error_messages={
            "required": "Saisissez votre adresse électronique.",
            "invalid": "Saisissez une adresse électronique valide (par exemple prenom.nom@structure.fr).",
        },
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Saisissez votre mot de passe."},
    )

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("username")
        password = cleaned.get("password")
        if email and password:
            # authenticate() goes through axes' backend (lockout) and emits
            # user_login_failed on failure, which axes counts per e-mail + IP.
            self.user = authenticate(request=self.request, username=email, password=password)
            if self.user is None:
                raise forms.ValidationError(LOGIN_ERROR, code="invalid_login")
        return cleaned


def normalise_code(value):
    """Drop the spaces and dashes people type or copy; lowercase (recovery codes are base32)."""
    return re.sub(r"[\s\-]", "", value or "").lower()


def format_recovery_code(token):
    """``abcdefgh`` → ``abcd-efgh``, easier to read and copy."""
    return f"{token[:4]}-{token[4:]}" if len(token) == 8 else token


class OTPCodeForm(forms.Form):
    """A second-factor code.

    ``method`` is ``"totp"`` (verification, also accepts a recovery code), ``"recovery"``
    (the same, presented for a recovery code) or ``"enrol"`` (only a 6-digit code).
    """

    code = forms.CharField(max_length=40, strip=True)

    def __init__(self, *args, method="totp", **kwargs):
        kwargs.setdefault("auto_id", f"id_{method}_%s")
        super().__init__(*args, **kwargs)
        self.method = method
        field = self.fields["code"]
        if method == "recovery":
            field.label = "Code de secours"
            field.help_text = "L'un des codes de secours remis lors de l'activation, par exemple « abcd-ef23 »."
            field.error_messages["required"] = "Saisissez l'un de vos codes de secours."
            field.widget.attrs.update({"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
        else:
            field.label = "Code à 6 chiffres"
            field.help_text = (
                "Le code affiché par votre application d'authentification ; il change toutes les 30 secondes."
            )
            field.error_messages["required"] = "Saisissez le code affiché par votre application d'authentification."
            field.widget.attrs.update({"inputmode": "numeric", "autocomplete": "one-time-code", "size": 8})
            if method == "totp":
                # On the enrolment page the focus must not skip the instructions and the QR code.
                field.widget.attrs["autofocus"] = True

    def clean_code(self):
        code = normalise_code(self.cleaned_data["code"])
        if TOTP_RE.fullmatch(code):
            return code
        if self.method != "enrol" and RECOVERY_RE.fullmatch(code):
            return code
        if self.method == "enrol":
            raise forms.ValidationError("Le code doit comporter 6 chiffres.", code="format")
        raise forms.ValidationError(
            "Saisissez le code à 6 chiffres de votre application, ou l'un de vos codes de secours.",
            code="format",
        )

    @property
    def is_totp(self):
        return bool(TOTP_RE.fullmatch(self.cleaned_data.get("code", "")))


class SwitchMembershipForm(forms.Form):
    membership_id = forms.IntegerField(min_value=1)


class ApiTokenForm(forms.Form):
    action = forms.ChoiceField(choices=[("create", "Créer"), ("regenerate", "Régénérer"), ("revoke", "Révoquer")])


class SpiePasswordResetForm(PasswordResetForm):
    """Django's form with French wording; it never tells whether the address has an account."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["email"]
        field.label = "Adresse électronique"
        field.help_text = "L'adresse avec laquelle vous vous connectez."
        field.error_messages.update(
            {
                "required": "Saisissez votre adresse électronique.",
                "invalid": "Saisissez une adresse électronique valide (par exemple prenom.nom@structure.fr).",
            }
        )
        field.widget.attrs.update({"autofocus": True, "spellcheck": "false"})


class SpieSetPasswordForm(SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Nouveau mot de passe"
        self.fields["new_password1"].help_text = (
            "Au moins 12 caractères, pas uniquement des chiffres ; évitez un mot de passe courant "
            "ou proche de votre nom ou de votre adresse."
        )
        self.fields["new_password2"].label = "Confirmation du nouveau mot de passe"
        self.fields["new_password2"].help_text = ""
