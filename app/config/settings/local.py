"""Development on your machine: `make run`. Debug on, a dev secret, the project-local database."""

from django.core.exceptions import ImproperlyConfigured

from config.env import value
from config.settings.base import *  # noqa: F403 - settings modules extend base by design
from config.settings.base import DATABASES

DEBUG = True
SECRET_KEY = value("DJANGO_SECRET_KEY", fallback="local-development-only-not-a-secret")
ALLOWED_HOSTS = value("DJANGO_ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]"]

if not DATABASES["default"]:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set: use `make run`/`make manage ARGS=...`, or "
        "`export DATABASE_URL=$(python3 deploy/local/postgres.py start)`"
    )

# Serve static files straight from the app folders, picking up edits without collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
