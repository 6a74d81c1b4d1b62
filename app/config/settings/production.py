"""Servers: every target runs this. Secrets have no defaults; a missing one stops the start."""

from django.core.exceptions import ImproperlyConfigured

from config.env import missing_for_production, value
from config.settings.base import *  # noqa: F403 - settings modules extend base by design

_missing = missing_for_production()
if _missing:
    raise ImproperlyConfigured(
        "Missing required environment variables: " + ", ".join(_missing) + " (see .env.example for each one's meaning)"
    )

SECRET_KEY = value("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = value("DJANGO_ALLOWED_HOSTS")

# nginx (or the PaaS router) terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
_HTTPS = value("DJANGO_HTTPS")
SECURE_SSL_REDIRECT = _HTTPS
# Load balancers probe over plain HTTP; a redirect would fail their checks.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_HSTS_SECONDS = value("DJANGO_HSTS_SECONDS") if _HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _HTTPS
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload (W021) is a one-way commitment each operator makes for their own domain, not a default.
    "security.W021",
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
