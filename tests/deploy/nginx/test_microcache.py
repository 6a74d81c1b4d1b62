"""The microcache, through real nginx in front of a real app server (production settings, the live database):
anonymous readers share each page for the TTL; nobody signed in gets a stored page or another visitor's; no
stored answer sets a cookie; a new post shows within TTL + 1 s; stored pages outlive every app server."""

from __future__ import annotations

import http.client
import json
import shutil
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from deploy.local.stack import manage
from deploy.nginx.render import defaults
from tests.deploy.nginx.echo import nginx_in_front_of
from tests.harness.leftovers import scratch_dir
from tests.harness.requires import needs
from tests.harness.servers import Gunicorn

pytestmark = [pytest.mark.live, needs("nginx")]

TTL = float(defaults()["nginx_microcache_ttl"].removesuffix("s"))
READERS = ("cachereader1", "cachereader2")

# Two signed-in visitors: users with a session each, made by the app's own code (manage.py shell).
SESSIONS = f"""
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
keys = {{}}
for name in {READERS!r}:
    user, _ = get_user_model().objects.get_or_create(username=name)
    session = SessionStore()
    session.update({{SESSION_KEY: str(user.pk), HASH_SESSION_KEY: user.get_session_auth_hash(),
                    BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend"}})
    session.create()
    keys[name] = session.session_key
print(json.dumps(keys))
"""
NEW_POST = """
from django.contrib.auth import get_user_model
from scaleboard.board import services
author = get_user_model().objects.get(username="cachereader1")
print(services.post_create(author=author, title="{title}", url="", body="fresh").pk)
"""


@pytest.fixture(scope="module")
def app_server(live_app: Gunicorn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """An app server of this module's own (the outage test stops it), on the live database."""
    server = Gunicorn(env=live_app.env, log_path=tmp_path_factory.mktemp("microcache") / "gunicorn.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def site(app_server: Gunicorn) -> Iterator[str]:
    workdir = scratch_dir("nginx-microcache")
    try:
        with nginx_in_front_of(workdir, app_server.port) as port:
            yield f"http://127.0.0.1:{port}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def sessions(app_server: Gunicorn) -> dict[str, str]:
    printed = manage(app_server.env, "shell", "-c", "import json\n" + SESSIONS)
    keys: dict[str, str] = json.loads(printed.splitlines()[-1])  # after the app's own log lines
    return keys


def fetch(site: str, path: str, **headers: str) -> tuple[int, str, str, bytes]:
    """(status, X-Cache-Status, Set-Cookie, body) of a GET through nginx; redirects are answers, not followed."""
    connection = http.client.HTTPConnection(urlsplit(site).netloc, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.getheader("X-Cache-Status", ""), answer.getheader("Set-Cookie", ""), answer.read()
    finally:
        connection.close()


def test_anonymous_readers_share_a_copy(site: str) -> None:
    for path in ("/", "/api/posts"):
        fetch(site, path)
        status, cache, _, _ = fetch(site, path)
        assert (status, cache) == (200, "HIT"), path


def test_signed_in_visitors_get_their_own_page_never_a_stored_one(site: str, sessions: dict[str, str]) -> None:
    fetch(site, "/")  # an anonymous copy is stored
    for name, key in sessions.items():
        status, cache, _, body = fetch(site, "/", Cookie=f"sessionid={key}")
        assert (status, cache) == (200, "BYPASS")
        others = [other for other in READERS if other != name]
        assert name.encode() in body, "not the visitor's own page"
        assert not any(other.encode() in body for other in others), "another visitor's page"
    status, cache, _, body = fetch(site, "/")
    assert status == 200
    assert not any(name.encode() in body for name in READERS), "a signed-in visitor's page was stored"
    assert fetch(site, "/", Cookie="csrftoken=x")[1] == "BYPASS"
    assert fetch(site, "/api/posts", Authorization="Bearer not-a-token")[1] == "BYPASS"


def test_answers_that_set_a_cookie_or_are_not_200_or_404_are_never_stored(site: str) -> None:
    for path in ("/login", "/signup"):  # they set the CSRF cookie
        for _ in range(3):
            status, cache, cookie, _ = fetch(site, path)
            assert status == 200
            assert "csrftoken=" in cookie
            assert cache == "MISS", f"{path}: a page that sets a cookie was served from the cache"
    for _ in range(3):
        status, cache, _, _ = fetch(site, "/submit")  # anonymous: a redirect to the login page
        assert (status, cache) == (302, "MISS")
    fetch(site, "/post/999999999")
    status, cache, _, _ = fetch(site, "/post/999999999")
    assert (status, cache) == (404, "HIT"), "a 404 is kept for the TTL too"


def test_a_new_post_shows_to_anonymous_readers_within_the_ttl(site: str, app_server: Gunicorn) -> None:
    fetch(site, "/new")
    assert fetch(site, "/new")[1] == "HIT"
    title = f"microcache {time.time_ns()}"
    manage(app_server.env, "shell", "-c", NEW_POST.format(title=title))
    time.sleep(TTL + 1)
    status, _, _, body = fetch(site, "/new")
    assert status == 200
    assert title.encode() in body


def test_stored_pages_outlive_every_app_server(site: str, app_server: Gunicorn, sessions: dict[str, str]) -> None:
    fetch(site, "/")
    app_server.stop()
    try:
        time.sleep(TTL + 0.5)  # the copy has expired: only its stale use is left
        for _ in range(3):
            status, cache, _, body = fetch(site, "/")
            assert (status, cache) == (200, "STALE")
            assert b"<html" in body.lower()
        status, cache, _, _ = fetch(site, "/", Cookie=f"sessionid={sessions[READERS[0]]}")
        assert status == 502, "a signed-in visitor must never get a stored page"
        assert fetch(site, "/new?never-stored")[0] == 502
    finally:
        app_server.start()
