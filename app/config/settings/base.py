"""Settings shared by every environment. Environment-specific files import * from here."""

from __future__ import annotations

from config.env import APP_DIR, value

DEBUG = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "scaleboard.ops",
    "scaleboard.accounts",
    "scaleboard.board",
    "scaleboard.api",
]

MIDDLEWARE = [
    # Answers /healthz and /metrics before anything validates the Host header or touches the database.
    "scaleboard.ops.middleware.health_check_middleware",
    "scaleboard.ops.middleware.request_id_middleware",
    "scaleboard.ops.metrics.metrics_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session and CSRF work, and long before any password hashing.
    "scaleboard.ops.rate_limits.sign_in_limit_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "board:hot"
LOGOUT_REDIRECT_URL = "board:hot"

TEMPLATES = [
    {
        # The app's pages (app/jinja2/): compiled to Python, several times faster than Django templates.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [APP_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "config.jinja2.environment"},
    },
    {
        # The admin and form widgets ship Django templates.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_settings() -> dict[str, object]:
    """DATABASES['default'] from DATABASE_URL plus the connection behaviour knobs of the contract."""
    config = value("DATABASE_URL")
    if config is None:
        return {}
    options = dict(config.get("OPTIONS", {}))
    options.setdefault("connect_timeout", value("DB_CONNECT_TIMEOUT"))
    # A statement timeout turns a stuck query into a fast error instead of a hung worker.
    options.setdefault("options", f"-c statement_timeout={value('DB_STATEMENT_TIMEOUT_MS')}")
    if value("DB_PREPARED_STATEMENTS"):
        # Django's default sends each query as text with its values inlined, which PostgreSQL parses and
        # plans on every run (what that costs: docs/performance.md).
        # With the values sent apart, psycopg prepares a query on its 6th run on a connection (its own
        # default threshold, which Django turns off for the sake of transaction-mode poolers).
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", 5)
    return {
        **config,
        # Django's PostgreSQL backend with faster timestamps and server-side binding's safeguards (its docstring).
        "ENGINE": "scaleboard.ops.postgres",
        "OPTIONS": options,
        "CONN_MAX_AGE": value("DB_CONN_MAX_AGE"),
        # Reused connections are still checked at the start of every request, so the app recovers by itself
        # after a database restart: by scaleboard.ops.connections, a look at the socket instead of Django's
        # SELECT 1 round trip.
        "CONN_HEALTH_CHECKS": False,
    }


DATABASES = {"default": database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = value("DJANGO_STATIC_ROOT") or str(APP_DIR / "staticfiles")
STATICFILES_DIRS = [APP_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DATA_UPLOAD_MAX_MEMORY_SIZE = value("DJANGO_MAX_BODY_BYTES")
CSRF_TRUSTED_ORIGINS = value("DJANGO_CSRF_TRUSTED_ORIGINS")
METRICS_ALLOWED_NETWORKS = value("METRICS_ALLOWED_NETWORKS")
# The proxies gunicorn trusts for X-Forwarded-*; the rate limits find the client's address behind them.
FORWARDED_ALLOW_IPS = [item.strip() for item in value("FORWARDED_ALLOW_IPS").split(",") if item.strip()]

RATE_LIMITS_ENABLED = value("RATE_LIMITS_ENABLED")
# Per action (scaleboard.ops.rate_limits): Rate(limit, seconds).
RATE_LIMITS = {
    "sign_in": value("RATE_LIMIT_SIGN_IN"),
    "sign_up": value("RATE_LIMIT_SIGN_UP"),
    "post": value("RATE_LIMIT_POST"),
    "comment": value("RATE_LIMIT_COMMENT"),
    "vote": value("RATE_LIMIT_VOTE"),
    "token": value("RATE_LIMIT_TOKEN"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "scaleboard.ops.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "scaleboard.ops.logging.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["stdout"], "level": value("DJANGO_LOG_LEVEL")},
    "loggers": {
        # Our request log line replaces django.server/django.request's for successful requests.
        "django.request": {"level": "ERROR"},
    },
}
