"""Hostile or broken input gets a 4xx, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from scaleboard.accounts.models import User

pytestmark = pytest.mark.django_db
HUGE_ID = "99999999999999999999"  # beyond bigint


@pytest.mark.parametrize(
    "path",
    [
        f"/post/{HUGE_ID}",
        f"/api/posts/{HUGE_ID}",
        f"/api/posts/{HUGE_ID}/comments",
        "/user/%00",
        "/user/a%00b",
        "/search?q=%00abc",
        "/search?q=" + "x" * 5000,
        "/search?q=!!!%20%7C%20&%20(",
        "/?p=%00",
        "/api/posts?cursor=" + "A" * 5000,
        "/api/posts?limit=%00",
    ],
)
def test_odd_gets(client: Client, path: str) -> None:
    assert client.get(path).status_code in (200, 400, 404)


def test_odd_posts(client: Client, make_user: Callable[..., User]) -> None:
    client.force_login(make_user())
    for path in (f"/post/{HUGE_ID}/vote", f"/comment/{HUGE_ID}/vote", f"/post/{HUGE_ID}"):
        assert client.post(path, {"body": "x"}).status_code == 404, path
    assert client.post("/submit", {"title": "a\x00b", "url": "https://e.com"}).status_code == 400
    assert (
        client.post("/api/posts", '{"title": "a\\u0000b", "body": "x"}', content_type="application/json").status_code
        == 400
    )
