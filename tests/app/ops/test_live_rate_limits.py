"""Each rate limit through real gunicorn with two workers: the count is shared by the workers (it lives in
PostgreSQL), so the limit holds whichever worker answers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.stack import manage
from tests.harness.servers import Gunicorn, get, production_env

pytestmark = pytest.mark.live
LIMIT = 4
RATES = {f"RATE_LIMIT_{action}": f"{LIMIT}/m" for action in ("SIGN_IN", "SIGN_UP", "POST", "COMMENT", "VOTE", "TOKEN")}


@pytest.fixture(scope="module")
def limited_app(live_app: Gunicorn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """A second server on live_app's database and static files (migrated, seeded, collected), with low limits."""
    static_root = Path(live_app.env["DJANGO_STATIC_ROOT"])
    env = production_env(live_app.env["DATABASE_URL"], static_root, WEB_CONCURRENCY="2", **RATES)
    server = Gunicorn(env=env, log_path=tmp_path_factory.mktemp("limited") / "gunicorn.log")
    server.start()
    yield server
    server.stop()


def _in_one_window() -> None:
    """Wait for a fresh window when this one ends within 5 s: the limits count in fixed one-minute windows, so a
    burst that straddles a boundary is counted in two (as it should be)."""
    left = 60 - time.time() % 60
    if left < 5:
        time.sleep(left + 0.1)


def _statuses(server: Gunicorn, path: str, times: int, **request: object) -> list[int]:
    return [get(server.url(path), **request)[0] for _ in range(times)]  # type: ignore[arg-type]


def test_sign_in_and_sign_up_per_client_address(limited_app: Gunicorn) -> None:
    for path in ("/login", "/admin/login/", "/signup"):
        form = f"username=someone{len(path)}&password=wrong".encode()
        client_a = {"X-Forwarded-For": f"198.51.100.{len(path)}"}  # gunicorn's peer, 127.0.0.1, is trusted
        _in_one_window()
        statuses = _statuses(limited_app, path, LIMIT + 1, data=form, headers=client_a)
        # Refused for the missing CSRF cookie (403) while counted, then 429 before any other work.
        assert statuses[-1] == 429, (path, statuses)
        assert 429 not in statuses[:-1], (path, statuses)
        client_b = {"X-Forwarded-For": f"203.0.113.{len(path)}"}
        other = f"username=other{len(path)}&password=wrong".encode()
        assert get(limited_app.url(path), data=other, headers=client_b)[0] != 429, path


def test_writes_per_user(limited_app: Gunicorn) -> None:
    token = manage(limited_app.env, "create_api_token", "demo2", "--name", "limits").strip()
    auth = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    _, _, page = get(limited_app.url("/api/posts?limit=1"))
    post_id = json.loads(page)["items"][0]["id"]
    cases = [
        ("/api/posts", "POST", {"title": "limited", "url": "https://example.com/l"}, 201),
        (f"/api/posts/{post_id}/comments", "POST", {"body": "limited"}, 201),
        (f"/api/posts/{post_id}/vote", "PUT", None, 200),
        ("/api/tokens", "POST", {"name": "more"}, 201),
    ]
    for path, method, body, ok in cases:
        data = json.dumps(body).encode() if body is not None else b""
        _in_one_window()
        answers = [get(limited_app.url(path), headers=auth, data=data, method=method) for _ in range(LIMIT + 1)]
        assert [status for status, _, _ in answers] == [ok] * LIMIT + [429], path
        _, headers, body_bytes = answers[-1]
        assert 1 <= int(headers["Retry-After"]) <= 60
        assert "Too many requests" in json.loads(body_bytes)["error"]
    assert get(limited_app.url(f"/api/posts/{post_id}"))[0] == 200  # reads are never limited
