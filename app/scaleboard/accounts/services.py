"""Writes for accounts: sign-up and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from scaleboard.accounts.models import ApiToken, User

TOKEN_PREFIX = "sb_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for, not a secret


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough; slow password hashing would add nothing.
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, user: User, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns it with the plain token, which is never stored and cannot be shown again."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken.objects.create(
        user=user, name=name, prefix=plain[:10], key_hash=hash_token(plain), expires=expires
    )
    return token, plain


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Delete one of the user's tokens; False if the user has no such token. It stops working at once."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)


def api_token_authenticate(*, plain: str) -> User | None:
    """The active user a token belongs to, or None; records when the token was last used."""
    now = timezone.now()
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(plain)).first()
    if token is None or not token.user.is_active or (token.expires is not None and token.expires <= now):
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user
