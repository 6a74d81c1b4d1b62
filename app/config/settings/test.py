"""pytest: the harness (tests/harness) provides DATABASE_URL for a throwaway PostgreSQL."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403 - settings modules extend base by design
from config.settings.base import DATABASES, STORAGES

SECRET_KEY = "test-only-not-a-secret"  # noqa: S105 - fixed test key
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Fast hashing: tests create many users, and the real hasher is slow on purpose.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests need no collectstatic run.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
if not DATABASES["default"]:
    raise ImproperlyConfigured("DATABASE_URL is not set: run the tests with `make test` or pytest from the repo root")
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Serve static files from the app folders as found, without a collectstatic run.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
