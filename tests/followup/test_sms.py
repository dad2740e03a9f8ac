"""The pluggable SMS sender: number normalisation, backends (console, file, locmem, http against a
real local HTTP server) and failures, without the text ever reaching the logs."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from spie.core import sms

SECRET_TEXT = "RDV le 03/03 a 10h00 avec R. Referente"


@pytest.fixture(autouse=True)
def _empty_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.mark.parametrize("raw, expected", [
    ("06 12 34 56 78", "+33612345678"),
    ("0612345678", "+33612345678"),
    ("07.12.34.56.78", "+33712345678"),
    ("06-12-34-56-78", "+33612345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+33 (0)6 12 34 56 78", "+33612345678"),
    ("0033612345678", "+33612345678"),
    ("05 61 00 00 00", "+33561000000"),
    ("0692 12 34 56", "+262692123456"),
    ("+262 692 12 34 56", "+262692123456"),
    ("0696 12 34 56", "+596696123456"),
])
def test_normalise_french_numbers_to_e164(raw, expected):
    assert sms.normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "12345", "06 12 34 56", "06 12 34 56 78 90", "+44 20 7946 0958",
                                 "00 12 34 56 78", "numéro", "+262 5 61 00 00 00"])
def test_invalid_numbers_are_rejected_in_french(raw):
    with pytest.raises(sms.SmsError) as exc:
        sms.normalise_phone(raw)
    assert "numéro" in str(exc.value).lower()


def test_mobile_only_rejects_landlines():
    with pytest.raises(sms.SmsError, match="mobile"):
        sms.normalise_phone("05 61 00 00 00", mobile_only=True)
    assert sms.normalise_phone("07 00 00 00 01", mobile_only=True) == "+33700000001"
    assert sms.is_valid_mobile("06 12 34 56 78")
    assert not sms.is_valid_mobile("05 61 00 00 00")
    assert not sms.is_valid_mobile("")


def test_to_gsm_folds_characters_outside_the_gsm_alphabet():
    assert sms.to_gsm("Empêché(e) ? « Rôle » — Noël") == 'Empeché(e) ? " Role " - Noel'
    assert sms.to_gsm("été à Muret, Ç") == "été à Muret, Ç"  # in the GSM alphabet: kept


def test_locmem_backend_keeps_the_message(settings):
    settings.SMS_BACKEND = "locmem"
    settings.SMS_SENDER_NAME = "SPIE31"
    number = sms.send_sms("06 12 34 56 78", SECRET_TEXT)
    assert number == "+33612345678"
    assert sms.outbox == [sms.SmsMessage(sender="SPIE31", to="+33612345678", text=SECRET_TEXT)]


def test_send_refuses_invalid_number_and_empty_text(settings):
    settings.SMS_BACKEND = "locmem"
    with pytest.raises(sms.SmsError):
        sms.send_sms("05 61 00 00 00", SECRET_TEXT)
    with pytest.raises(sms.SmsError, match="vide"):
        sms.send_sms("06 12 34 56 78", "  ")
    assert sms.outbox == []


def test_file_backend_appends_one_line_per_message(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.log"
    sms.send_sms("0612345678", "Ligne 1\nLigne 2")
    sms.send_sms("0712345678", "Deuxième")
    lines = (tmp_path / "sms.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("\t+33612345678\tLigne 1\\nLigne 2")
    assert lines[1].endswith("\t+33712345678\tDeuxième")


def test_file_backend_failure_is_an_sms_error(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "missing-dir" / "sms.log"
    with pytest.raises(sms.SmsError, match="fichier"):
        sms.send_sms("0612345678", SECRET_TEXT)


def test_console_backend_prints(settings, capsys):
    settings.SMS_BACKEND = "console"
    sms.send_sms("0612345678", "Bonjour")
    out = capsys.readouterr().out
    assert "+33612345678" in out and "Bonjour" in out


def test_unknown_backend_is_a_configuration_error(settings):
    settings.SMS_BACKEND = "pigeon"
    with pytest.raises(ImproperlyConfigured, match="pigeon"):
        sms.send_sms("0612345678", "Bonjour")


def test_the_text_never_reaches_the_logs(settings, caplog):
    settings.SMS_BACKEND = "locmem"
    with caplog.at_level(logging.DEBUG, logger="spie.core.sms"):
        sms.send_sms("0612345678", SECRET_TEXT)
    assert caplog.records, "the send is logged (who, masked)"
    assert all(SECRET_TEXT not in r.getMessage() for r in caplog.records)
    assert all("0612345678" not in r.getMessage() and "+33612345678" not in r.getMessage() for r in caplog.records)


# --- http backend against a real local server --------------------------------------------------


class _Gateway(BaseHTTPRequestHandler):
    received = []
    status = 200

    def do_POST(self):  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length", 0))
        type(self).received.append({
            "path": self.path,
            "auth": self.headers.get("Authorization"),
            "content_type": self.headers.get("Content-Type"),
            "body": json.loads(self.rfile.read(length)),
        })
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    _Gateway.received = []
    _Gateway.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, _Gateway
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_http_backend_posts_json_with_bearer_token(settings, gateway):
    server, handler = gateway
    settings.SMS_BACKEND = "http"
    settings.SMS_SENDER_NAME = "SPIE31"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_HTTP_TOKEN = "jeton-secret"
    assert sms.send_sms("06 12 34 56 78", SECRET_TEXT) == "+33612345678"
    assert handler.received == [{
        "path": "/send",
        "auth": "Bearer jeton-secret",
        "content_type": "application/json",
        "body": {"sender": "SPIE31", "to": "+33612345678", "text": SECRET_TEXT},
    }]


def test_http_backend_error_status_is_an_sms_error_without_the_text(settings, gateway):
    server, handler = gateway
    handler.status = 502
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_HTTP_TOKEN = "jeton-secret"
    with pytest.raises(sms.SmsError) as exc:
        sms.send_sms("0612345678", SECRET_TEXT)
    assert "502" in str(exc.value)
    assert SECRET_TEXT not in str(exc.value) and "jeton-secret" not in str(exc.value)


def test_http_backend_unreachable_gateway_is_an_sms_error(settings):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{port}/send"
    with pytest.raises(sms.SmsError, match="injoignable"):
        sms.send_sms("0612345678", SECRET_TEXT)


def test_http_backend_needs_an_http_url(settings):
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = "file:///etc/passwd"
    with pytest.raises(ImproperlyConfigured):
        sms.send_sms("0612345678", SECRET_TEXT)
