"""Rate limits: fixed-window counters in PostgreSQL, so every worker of every app server shares them.

PostgreSQL rather than a cache because every target already has it (Heroku, where no nginx stands in front,
included) and one upsert per limited request is cheap: only sign-in, sign-up and writes are counted.
Signed-in writes are counted per user; sign-in and sign-up, where there is no user yet, per client address
(and sign-in also per username tried, so guessing one account's password from many addresses is slowed too).
"""

from __future__ import annotations

import functools
import ipaddress
import math
import random
import time
from collections.abc import Callable
from typing import Any

from config.env import Rate
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse

View = Callable[..., HttpResponse]
# Old windows are deleted now and then (on about one counted request in this many), so the table stays small.
_CLEANUP_EVERY = 1000


def rate(action: str) -> Rate | None:
    """The configured rate of an action (a key of settings.RATE_LIMITS); None when limits are off."""
    return settings.RATE_LIMITS[action] if settings.RATE_LIMITS_ENABLED else None


def hit(key: str, allowed: Rate) -> int:
    """Count one request against `key`; the seconds until it may retry when over the limit, else 0."""
    now = time.time()
    window = math.floor(now / allowed.seconds) * allowed.seconds
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ops_ratecounter (key, window_start, hits) VALUES (%s, %s, 1)"
            " ON CONFLICT (key, window_start) DO UPDATE SET hits = ops_ratecounter.hits + 1 RETURNING hits",
            [key, int(window)],
        )
        (hits,) = cursor.fetchone()
        if hits == 1 and random.randrange(_CLEANUP_EVERY) == 0:  # noqa: S311 - housekeeping, not security
            cursor.execute("DELETE FROM ops_ratecounter WHERE window_start < %s", [int(now) - 86400])
    return 0 if hits <= allowed.limit else max(1, math.ceil(window + allowed.seconds - now))


def client_address(request: HttpRequest) -> str:
    """The client's address: the direct peer, unless that is a trusted proxy (FORWARDED_ALLOW_IPS, the same list
    gunicorn trusts); then the nearest X-Forwarded-For entry that is not one, read from the right, as each proxy
    appends the address it saw. Entries further left were written by the client and may be anything."""
    trusted = settings.FORWARDED_ALLOW_IPS
    peer = request.META.get("REMOTE_ADDR", "")
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    # An empty peer is a unix socket: only a proxy on the same host can be on the other end.
    if peer and not _is_trusted(peer, trusted):
        return peer
    if "*" in trusted:  # every peer is a proxy (a PaaS router, a private network): take what the last one saw
        return hops[-1][:64] if hops else peer
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer


def _is_trusted(address: str, trusted: list[str]) -> bool:
    if "*" in trusted:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    """429 with Retry-After, as JSON under /api/ and as a page elsewhere."""
    message = f"Too many requests. Please wait {retry_after} seconds and try again."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"error": message}, status=429)
    else:
        page = render_to_string("errors/error.html", {"message": message, "status": 429})
        response = HttpResponse(page, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def limited(action: str) -> Callable[[View], View]:
    """Count a signed-in user's unsafe requests (POST, PUT, DELETE) to a view against the action's rate.

    Goes inside the decorator that finds the user (login_required, api_user): anonymous requests never get here."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            allowed = rate(action)
            if allowed and request.method not in ("GET", "HEAD") and request.user.is_authenticated:
                retry_after = hit(f"{action}:user:{request.user.pk}", allowed)
                if retry_after:
                    return too_many(request, retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


@functools.cache
def _anonymous_actions() -> dict[str, str]:
    """The paths of sign-in (site and admin) and sign-up, read from the URLconf once."""
    return {reverse("login"): "sign_in", reverse("admin:login"): "sign_in", reverse("signup"): "sign_up"}


def sign_in_limit_middleware(get_response: View) -> View:
    """Sign-in and sign-up POSTs, counted per client address before any password hashing; sign-in also per
    username tried."""

    def middleware(request: HttpRequest) -> HttpResponse:
        action = _anonymous_actions().get(request.path) if request.method == "POST" else None
        allowed = rate(action) if action else None
        if action and allowed:
            keys = [f"{action}:addr:{client_address(request)}"]
            username = request.POST.get("username", "") if action == "sign_in" else ""
            if username:
                keys.append(f"{action}:username:{username.strip().lower()[:150]}")
            retry_after = max(hit(key, allowed) for key in keys)
            if retry_after:
                return too_many(request, retry_after)
        return get_response(request)

    return middleware
