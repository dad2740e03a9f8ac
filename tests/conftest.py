import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SPIE_DEMO_SKIP_2FA = False
    settings.AXES_ENABLED = False
    # Background tasks run at once inside the test; SMS are kept in memory (spie.core.sms.outbox).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default"]}}
    settings.SMS_BACKEND = "locmem"


@pytest.fixture
def territory(db):
    from tests.network.factories import TerritoryFactory

    return TerritoryFactory()


def login_client(user, *, verified=True):
    """A test client logged in as ``user`` with the second factor passed."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if verified:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="test", confirmed=True
        )
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def client_for():
    return login_client
