from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

# The characters reverse() leaves unquoted in a path (RFC 3986 sub-delims plus /~:@).
PATH_SAFE = "!$&'()*+,;=/~:@"


def user_path(username: str) -> str:
    # Built directly (reverse() is slow in long lists); quoted exactly as reverse() quotes.
    return "/user/" + quote(username, safe=PATH_SAFE)


class User(AbstractUser):
    # Sum of the scores of the user's posts and comments, kept in step by the vote service.
    karma = models.IntegerField(default=0)

    def get_absolute_url(self) -> str:
        return user_path(self.username)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token itself is shown once, at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters, kept so a user can tell tokens apart without the secret.
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    # None: the token works until it is revoked (deleted).
    expires = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"
