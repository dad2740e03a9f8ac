"""Settings of the SPIE platform, read from the environment.

With nothing set, a development setup on SQLite under ``var/`` works. ``SPIE_ENV=production``
turns on every protection that ``manage.py check --deploy`` expects and refuses unsafe options.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SPIE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SPIE_ENV = os.environ.get("SPIE_ENV", "development")
PRODUCTION = SPIE_ENV == "production"
VERSION = "0.5.0"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY doit être défini en production.")
    # Development only: a fixed, obviously unsafe key so sessions survive restarts.
    SECRET_KEY = "dev-insecure-key-only-for-local-use-never-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The territory served by default (département code); see network.Territory.
SPIE_TERRITORY = os.environ.get("SPIE_TERRITORY", "31")

# Demo mode may skip the TOTP second factor for professionals, only when explicitly asked.
SPIE_DEMO_SKIP_2FA = env_bool("SPIE_DEMO_SKIP_2FA", default=False)
if PRODUCTION and SPIE_DEMO_SKIP_2FA:
    raise ImproperlyConfigured("SPIE_DEMO_SKIP_2FA est interdit en production.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "spie.core",
    "spie.referentials",
    "spie.network",
    "spie.people",
    "spie.diagnostics",
    "spie.pathways",
    "spie.followup",
    "spie.catalogue",
    "spie.employers",
    "spie.imports",
    "spie.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "spie.network.middleware.ActiveMembershipMiddleware",
    "spie.network.middleware.RequireSecondFactorMiddleware",
    "spie.core.middleware.SecurityHeadersMiddleware",
    # AxesMiddleware must be last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "spie.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "spie" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "spie.core.context_processors.platform",
            ],
        },
    },
]

WSGI_APPLICATION = "spie.wsgi.application"

# Database: SQLite (WAL) under var/ by default, PostgreSQL through DATABASE_URL.
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'spie.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    )

elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Planner cost of a random page read: PostgreSQL's default (4) assumes spinning disks;
    # 1.1 is the usual value on SSDs and lets the caseload queries use their indexes.
    # JIT compilation costs more than it saves on these short interactive queries. Parallel
    # workers per query keep PostgreSQL's default unless PG_MAX_PARALLEL_WORKERS_PER_GATHER is
    # set (measurements of the alerts at 100,000 persons were inconclusive on 2 cores).
    pg_options = f"-c random_page_cost={os.environ.get('PG_RANDOM_PAGE_COST', '1.1')} -c jit=off"
    if os.environ.get("PG_MAX_PARALLEL_WORKERS_PER_GATHER"):
        pg_options += f" -c max_parallel_workers_per_gather={os.environ['PG_MAX_PARALLEL_WORKERS_PER_GATHER']}"
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", pg_options)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "network.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "people:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Idle sessions expire after SESSION_IDLE_MINUTES (each request renews the cookie).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Lockout after repeated failures (django-axes): per e-mail + IP, cooling off.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "network/auth/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)

OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "SPIE")

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "spie" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded files (contract scans, note attachments, import files) live outside the web root
# and are never served by URL: views read them back through the record's policies.
MEDIA_ROOT = VAR_DIR / "media"

# Background work (e-mails and SMS, reminders, imports): Django's tasks API (django-tasks
# backport) with a database-backed queue run by ``manage.py db_worker``. "immediate" runs a
# task inside the request (tests use it); "database" is the default everywhere else.
SPIE_TASKS_BACKEND = os.environ.get("SPIE_TASKS_BACKEND", "database")
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[SPIE_TASKS_BACKEND],
        "QUEUES": ["default"],
    }
}

# SMS to persons (appointment invitations and reminders): a pluggable sender, like e-mail.
# "console" prints, "file" appends to SMS_FILE_PATH, "locmem" keeps them in memory (tests),
# "http" posts JSON to SMS_HTTP_URL with SMS_HTTP_TOKEN (a provider's gateway).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
SMS_SENDER_NAME = os.environ.get("SMS_SENDER_NAME", "SPIE31")
SMS_FILE_PATH = Path(os.environ.get("SMS_FILE_PATH", VAR_DIR / "sms.log"))
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
if PRODUCTION and SMS_BACKEND in {"locmem"}:
    raise ImproperlyConfigured("SMS_BACKEND=locmem est réservé aux tests.")

# E-mail: console in development, SMTP by settings, locmem in tests (pytest-django).
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "SPIE <ne-pas-repondre@spie.example>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "spie.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API de la plateforme SPIE",
    "DESCRIPTION": "API REST du Service public de l'insertion et de l'emploi (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "ENUM_NAME_OVERRIDES": {"NoteKindEnum": "spie.followup.models.Note.Kind"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Production hardening (manage.py check --deploy).
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Absolute address of the platform, for links in e-mails sent by tasks and commands (they have
# no request to build it from), e.g. "https://spie31.example". Empty: relative links.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
# Lifetime of the signed link a company answers a positioning with (renewable).
SPIE_POSITIONING_LINK_DAYS = int(os.environ.get("SPIE_POSITIONING_LINK_DAYS", "30"))
