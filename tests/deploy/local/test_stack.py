"""The local production stack, for real: PostgreSQL + 3 gunicorn app servers + nginx from the template.

Includes the reliability checks under load: an app server killed, all reloaded one by one, and the
database stopped for 10 seconds. They assert counts from the load run, never timings.
"""

from __future__ import annotations

import os
import re
import signal
import time
import urllib.request

import pytest

from deploy.local import stack as local_stack
from tests.harness.requires import needs
from tests.harness.servers import get
from tests.harness.traffic import Traffic

pytestmark = [
    pytest.mark.live,
    pytest.mark.usefixtures("stack"),
    needs("nginx"),
]

READ_PATHS = ["/", "/new", "/post/1", "/api/posts", "/search?q=postgres"]


def urls(stack: local_stack.Stack) -> list[str]:
    return [stack.url(path) for path in READ_PATHS]


def upstreams_used(stack: local_stack.Stack, since_line: int = 0) -> set[str]:
    lines = (stack.logs / "nginx.access.log").read_text().splitlines()[since_line:]
    return {m.group(1) for line in lines for m in [re.search(r'ua="([^"]+)"', line)] if m}


def access_log_length(stack: local_stack.Stack) -> int:
    return len((stack.logs / "nginx.access.log").read_text().splitlines())


def test_status_and_balancing(stack: local_stack.Stack) -> None:
    assert local_stack.status(stack.directory)
    before = access_log_length(stack)
    for _ in range(12):
        assert get(stack.url("/new"))[0] == 200
    assert upstreams_used(stack, before) == {f"127.0.0.1:{s.port}" for s in stack.app_servers}


def test_nginx_edge_behaviour(stack: local_stack.Stack) -> None:
    status, headers, body = get(stack.url("/healthz"), headers={"Host": "10.1.1.1"})
    assert (status, body) == (200, b"ok\n")
    status, headers, _ = get(stack.url("/"), headers={"X-Request-ID": "edge-1", "Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["X-Request-ID"] == "edge-1"
    assert headers["Content-Encoding"] == "gzip"
    # nginx logs a request after its response is sent: allow a moment for the line to appear.
    access_log = stack.logs / "nginx.access.log"
    deadline = time.monotonic() + 5
    while "rid=edge-1" not in access_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "rid=edge-1" in access_log.read_text()
    assert (
        "edge-1"
        in (stack.logs / "app-1.log").read_text()
        + (stack.logs / "app-2.log").read_text()
        + (stack.logs / "app-3.log").read_text()
    )


def test_one_copy_of_each_security_header(stack: local_stack.Stack) -> None:
    with urllib.request.urlopen(stack.url("/")) as response:  # noqa: S310 - loopback only
        names = [name.lower() for name, _ in response.getheaders()]
    for header in ("x-frame-options", "x-content-type-options", "referrer-policy", "x-request-id"):
        assert names.count(header) == 1, header


def test_static_files_come_from_nginx_with_long_cache(stack: local_stack.Stack) -> None:
    _, _, page = get(stack.url("/"))
    match = re.search(rb'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page)
    assert match
    status, headers, _ = get(stack.url(match.group(1).decode()), headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Cache-Control"] == "max-age=315360000"
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Server"] == "nginx"
    assert "ETag" in headers  # nginx's own; whitenoise would not be consulted


def test_oversized_bodies_are_refused_at_the_edge(stack: local_stack.Stack) -> None:
    assert get(stack.url("/submit"), data=b"x" * 2_000_000)[0] == 413


def test_login_posts_are_rate_limited(stack: local_stack.Stack) -> None:
    answers = [get(stack.url("/login"), data=b"username=x&password=y") for _ in range(25)]
    codes = [status for status, _, _ in answers]
    assert 429 in codes
    assert all(b"Too many attempts" in body for status, _, body in answers if status == 429)
    assert codes[0] != 429  # the burst lets the first ones through (to Django's CSRF check: 403)
    assert get(stack.url("/login"))[0] == 200  # GETs are never limited


def test_killed_app_server_costs_no_failed_gets(stack: local_stack.Stack) -> None:
    victim = stack.app_servers[1]
    with Traffic(urls(stack), clients=4, max_seconds=60) as traffic:
        time.sleep(2)
        killed_metrics = {path.name for path in stack.metrics_dir(victim).iterdir()}
        os.killpg(victim.pid, signal.SIGKILL)  # the whole server: master and workers
        time.sleep(4)
    # A kill -9 can cut off the responses the victim's workers were sending at that instant: nginx
    # retries failed connects and headers, never a body it has begun to pass on. Nothing else may fail.
    assert len(traffic.errors) <= stack.workers, traffic.errors
    assert all("IncompleteRead" in error for error in traffic.errors), traffic.errors
    assert set(traffic.statuses) == {200}, traffic.statuses
    assert traffic.total > 50
    # The pool recovers when the server returns: nginx sends it traffic again after fail_timeout.
    local_stack.stop_app_server(stack, victim)  # reap and clean up what the kill left
    assert killed_metrics, "its workers wrote their metrics into the stack's directory"
    assert not stack.metrics_dir(victim).exists()
    local_stack.start_app_server(stack, victim)
    stack.save()
    target = f"127.0.0.1:{victim.port}"
    before = access_log_length(stack)
    deadline = time.monotonic() + 30
    while target not in upstreams_used(stack, before) and time.monotonic() < deadline:
        get(stack.url("/new"))
        time.sleep(0.2)
    assert target in upstreams_used(stack, before)


def test_rolling_reload_costs_no_failed_requests(stack: local_stack.Stack) -> None:
    with Traffic(urls(stack), clients=4, max_seconds=60) as traffic:
        for server in stack.app_servers:
            time.sleep(1)
            os.kill(server.pid, signal.SIGHUP)  # gunicorn: new workers, old ones finish gracefully
        time.sleep(2)
    assert traffic.errors == []
    assert set(traffic.statuses) == {200}, traffic.statuses
    assert all(local_stack.process_alive(s.pid, "gunicorn") for s in stack.app_servers)


def test_database_restart_while_idle_fails_no_request(stack: local_stack.Stack) -> None:
    """Every worker holds a connection the restart has closed; each must notice before using it (the health
    check of reused connections), not answer its next visitor with an error."""
    for _ in range(60):
        assert get(stack.url("/"))[0] == 200
    stack.cluster.stop(mode="fast")
    stack.cluster.start()
    assert [get(stack.url(path))[0] for _ in range(12) for path in READ_PATHS] == [200] * 12 * len(READ_PATHS)


def test_database_outage_is_503_then_recovers_without_restarts(stack: local_stack.Stack) -> None:
    pids = [s.pid for s in stack.app_servers]
    with Traffic(urls(stack), clients=4, max_seconds=90, timeout=10) as traffic:
        time.sleep(1)
        stack.cluster.stop(mode="fast")
        time.sleep(10)
        stack.cluster.start()
        recovered_at = time.monotonic() + 3  # workers reconnect on their next request
        time.sleep(6)
    assert traffic.errors == [], "every request got an answer within the timeout"
    assert set(traffic.statuses) <= {200, 503}, traffic.statuses
    assert traffic.statuses[503] > 0
    assert set(traffic.statuses_since(recovered_at)) == {200}
    assert [s.pid for s in stack.app_servers] == pids
    assert all(local_stack.process_alive(pid, "gunicorn") for pid in pids)
