"""SMS to persons (appointment invitations and reminders), pluggable like Django's e-mail.

``settings.SMS_BACKEND`` chooses how a message leaves:

- ``console``: written to standard output (development);
- ``file``: one line per message appended to ``settings.SMS_FILE_PATH`` (demo, staging);
- ``locmem``: kept in :data:`outbox` (tests reset it), never in production;
- ``http``: a JSON ``{"sender", "to", "text"}`` POSTed to ``settings.SMS_HTTP_URL`` with
  ``Authorization: Bearer <SMS_HTTP_TOKEN>``, a provider's gateway.

:func:`send_sms` normalises the number to E.164 (``+33…``; French overseas mobiles get their own
country code) and raises :class:`SmsError` for an invalid number or a failed delivery. The text
of a message is never written to the logs nor to an error message: it may say where and when
the person is expected, which is nobody else's business.
"""

import json
import logging
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

logger = logging.getLogger(__name__)

HTTP_TIMEOUT = 10  # seconds
MAX_LENGTH = 160  # one SMS in the GSM 03.38 alphabet

# Messages kept by the "locmem" backend (tests): a list of :class:`SmsMessage`.
outbox = []


class SmsError(Exception):
    """The SMS could not be sent (invalid number, gateway error). The message is French and
    never contains the text of the SMS."""


@dataclass(frozen=True)
class SmsMessage:
    sender: str
    to: str
    text: str


# French overseas departments: national mobile prefix -> country calling code.
OVERSEAS_MOBILE = {
    "0639": "262",  # Mayotte
    "0690": "590", "0691": "590",  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "0692": "262", "0693": "262",  # La Réunion
    "0694": "594",  # Guyane
    "0696": "596", "0697": "596",  # Martinique
}
OVERSEAS_CODES = set(OVERSEAS_MOBILE.values())
_SEPARATORS = re.compile(r"[\s.\-/()]")


def normalise_phone(raw, *, mobile_only=False):
    """``"06 12 34 56 78"`` -> ``"+33612345678"``; raises :class:`SmsError` when invalid.

    Accepts national numbers (0X XX XX XX XX), ``+33``/``0033`` forms (with an optional ``(0)``)
    and the French overseas codes (+262, +590, +594, +596). With ``mobile_only``, only numbers
    that can receive an SMS (06, 07 and the overseas mobiles) pass.
    """
    text = (raw or "").strip()
    if not text:
        raise SmsError("Aucun numéro de téléphone.")
    text = text.replace("(0)", "")
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    national = None
    if compact.startswith("+33"):
        national = "0" + compact[3:]
    elif compact.startswith("+") and compact[1:4] in OVERSEAS_CODES:
        national = "0" + compact[4:]
    elif compact.startswith("0"):
        national = compact
    if national is None or not re.fullmatch(r"0[1-9]\d{8}", national):
        raise SmsError("Numéro de téléphone invalide : un numéro français à 10 chiffres est attendu (06 12 34 56 78).")
    overseas = OVERSEAS_MOBILE.get(national[:4])
    if compact.startswith("+") and compact[1:4] in OVERSEAS_CODES and overseas is None:
        raise SmsError("Numéro de téléphone invalide pour ce département d'outre-mer.")
    if mobile_only and national[1] not in "67":
        raise SmsError("Ce numéro n'est pas un numéro de mobile : il ne peut pas recevoir de SMS.")
    if overseas:
        return f"+{overseas}{national[1:]}"
    return f"+33{national[1:]}"


def is_valid_mobile(raw):
    try:
        normalise_phone(raw, mobile_only=True)
    except SmsError:
        return False
    return True


# Characters of the GSM 03.38 basic alphabet that French needs; others are folded so that a
# message stays one 160-character SMS instead of a 70-character Unicode one.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_FOLD = {
    "â": "a", "ê": "e", "ë": "e", "î": "i", "ï": "i", "ô": "o", "û": "u", "ç": "c", "œ": "oe",
    "À": "A", "Â": "A", "È": "E", "Ê": "E", "Ë": "E", "Î": "I", "Ï": "I", "Ô": "O", "Ù": "U", "Û": "U",
    "Œ": "OE", "’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"', "–": "-", "—": "-",
    "\u00a0": " ", "\u202f": " ", "…": "...",
}


def to_gsm(text):
    """``text`` with the characters outside the GSM basic alphabet folded (ê -> e, « -> ")."""
    folded = "".join(_FOLD.get(ch, ch) for ch in text)
    return "".join(ch if ch in _GSM_BASIC else "?" for ch in folded)


def _mask(number):
    return number[:-6] + "••••" + number[-2:] if len(number) > 6 else "••••"


# --- Backends ---------------------------------------------------------------------------------


class BaseBackend:
    def __init__(self, sender):
        self.sender = sender

    def send(self, message):  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Development: the message goes to standard output, like Django's console e-mail backend."""

    def send(self, message):
        stream = sys.stdout
        stream.write(f"SMS de {message.sender} à {message.to} :\n{message.text}\n{'-' * 40}\n")
        stream.flush()


class LocmemBackend(BaseBackend):
    def send(self, message):
        outbox.append(message)


class FileBackend(BaseBackend):
    """One line per message: ISO time, sender, number, text (line breaks escaped)."""

    def send(self, message):
        path = settings.SMS_FILE_PATH
        text = message.text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "")
        line = f"{timezone.now().isoformat()}\t{message.sender}\t{message.to}\t{text}\n"
        try:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError as exc:
            raise SmsError(f"Écriture du SMS impossible dans le fichier ({exc.strerror or exc}).") from exc


class HttpBackend(BaseBackend):
    """A provider's gateway: JSON POST with a bearer token; anything but 2xx is a failure."""

    def send(self, message):
        url = settings.SMS_HTTP_URL
        if not url.startswith(("https://", "http://")):
            raise ImproperlyConfigured("SMS_HTTP_URL (http:// ou https://) est requis avec SMS_BACKEND=http.")
        body = json.dumps({"sender": message.sender, "to": message.to, "text": message.text}).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 - URL from settings
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}",
        })
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310 - URL from settings
                status = response.status
                response.read()
        except urllib.error.HTTPError as exc:
            raise SmsError(f"La passerelle SMS a refusé le message (HTTP {exc.code}).") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SmsError(f"Passerelle SMS injoignable ({reason}).") from None
        if not 200 <= status < 300:
            raise SmsError(f"La passerelle SMS a refusé le message (HTTP {status}).")


BACKENDS = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "locmem": LocmemBackend,
    "http": HttpBackend,
}


def get_backend(name=None):
    name = name or settings.SMS_BACKEND
    try:
        backend_class = BACKENDS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"SMS_BACKEND inconnu « {name} » : choisissez parmi {', '.join(sorted(BACKENDS))}."
        ) from None
    return backend_class(getattr(settings, "SMS_SENDER_NAME", "SPIE"))


def send_sms(to, text, *, backend=None):
    """Send ``text`` to the number ``to`` (any French form); returns the E.164 number used.

    Raises :class:`SmsError` for an invalid or non-mobile number, an empty text or a delivery
    failure. Logs who (masked number) and when, never the text.
    """
    number = normalise_phone(to, mobile_only=True)
    text = (text or "").strip()
    if not text:
        raise SmsError("Le texte du SMS est vide.")
    sender = get_backend(backend)
    sender.send(SmsMessage(sender=sender.sender, to=number, text=text))
    logger.info("SMS envoyé à %s (%d caractères)", _mask(number), len(text))
    return number
