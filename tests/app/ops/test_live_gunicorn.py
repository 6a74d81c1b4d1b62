"""The app as servers run it: production settings, app/gunicorn.conf.py, real gunicorn and PostgreSQL."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.stack import manage
from tests.harness.database import remove_cluster, start_throwaway_cluster
from tests.harness.servers import APP, Gunicorn, get, production_env

pytestmark = pytest.mark.live


def test_health_answers_for_a_load_balancer_probing_by_ip(live_app: Gunicorn) -> None:
    status, _, body = get(live_app.url("/healthz"), headers={"Host": "10.0.0.7"})
    assert (status, body) == (200, b"ok\n")
    status, _, _ = get(live_app.url("/"), headers={"Host": "10.0.0.7"})
    assert status == 400


def test_ready_and_serving_the_seeded_board(live_app: Gunicorn) -> None:
    status, _, body = get(live_app.url("/readyz"))
    assert (status, json.loads(body)) == (200, {"status": "ready"})
    status, headers, body = get(live_app.url("/"), headers={"X-Request-ID": "live-check-1"})
    assert status == 200
    assert body.count(b'class="post"') == 30
    assert headers["X-Request-ID"] == "live-check-1"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_served_hashed_and_cached(live_app: Gunicorn) -> None:
    _, _, page = get(live_app.url("/new"))
    match = re.search(rb'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page)
    assert match, "the page links a content-hashed stylesheet"
    status, headers, _ = get(live_app.url(match.group(1).decode()), headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert "max-age=315360000" in headers["Cache-Control"]
    assert headers.get("Content-Encoding") == "gzip"


def test_metrics_answer_nginx_over_the_unix_socket(live_app: Gunicorn, tmp_path: Path) -> None:
    """All-in-one servers bind gunicorn to a Unix socket, whose peer has no address."""
    path = tmp_path / "gunicorn.sock"
    env = {**live_app.env, "GUNICORN_BIND": f"unix:{path}", "WEB_CONCURRENCY": "1"}
    with (tmp_path / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(APP / "gunicorn.conf.py")], cwd=APP,
                                   env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not path.exists():
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "no socket within 30 s"
            time.sleep(0.1)
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(10)
            client.connect(str(path))
            client.sendall(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            answer = b"".join(iter(lambda: client.recv(65536), b""))
        assert answer.split(b"\r\n", 1)[0].endswith(b" 200 OK"), answer[:300]
        assert b"scaleboard_db_query_duration_seconds_count" in answer
    finally:
        process.terminate()
        process.wait(timeout=30)


def answered(server: Gunicorn, view: str) -> int:
    """GET 200s of one view, as the server's /metrics counts them."""
    _, _, body = get(server.url("/metrics"))
    pattern = rf'scaleboard_http_requests_total\{{method="GET",status="200",view="{view}"\}} ([0-9.]+)'.encode()
    found = re.search(pattern, body)
    return int(float(found.group(1))) if found else 0


def test_metrics_add_up_across_workers(live_app: Gunicorn) -> None:
    before = answered(live_app, "board:search")
    for i in range(20):
        assert get(live_app.url(f"/search?q=load{i}"))[0] == 200
    assert answered(live_app, "board:search") - before == 20


def test_recycled_workers_keep_their_counts_and_leave_no_files(live_app: Gunicorn, tmp_path: Path) -> None:
    """Workers replaced every 5 requests: every request stays counted, histograms included, and only the living
    workers have files (prometheus_client alone would keep every gone worker's files, growing without bound)."""
    metrics = tmp_path / "metrics"
    metrics.mkdir()  # a configured directory exists (the stack makes it; Kubernetes mounts it)
    env = {**live_app.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics), "GUNICORN_MAX_REQUESTS": "5",
           "GUNICORN_MAX_REQUESTS_JITTER": "0"}  # fmt: skip
    server = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log")
    server.start()
    try:
        for i in range(60):
            assert get(server.url(f"/search?q=recycle{i}"))[0] == 200
        assert server.log().count("Booting worker") >= 10, "the workers were recycled"
        assert answered(server, "board:search") == 60
        _, _, body = get(server.url("/metrics"))
        count = re.search(rb'scaleboard_http_request_duration_seconds_count\{view="board:search"\} ([0-9.]+)', body)
        assert count, body[:2000]
        assert float(count.group(1)) == 60, "the latency histogram counts every request too"
        files = sorted(path.relative_to(metrics) for path in metrics.rglob("*.db"))
        assert len(files) <= 2 * 2, f"a counter file and a histogram file per living worker at most: {files}"
    finally:
        assert server.stop() == 0


def test_its_own_metrics_directory_goes_with_it_after_reloads(live_app: Gunicorn, tmp_path: Path) -> None:
    # Its own TMPDIR, so the directory gunicorn.conf.py makes for the metrics is the only one in there.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    server = Gunicorn(env={**live_app.env, "TMPDIR": str(tmp)}, log_path=tmp_path / "gunicorn.log")
    server.start()
    try:
        assert get(server.url("/new"))[0] == 200
        (metrics,) = tmp.iterdir()
        assert metrics.name.startswith("scaleboard-metrics-")
        assert any(metrics.rglob("counter_*.db")), "the workers write their metrics there"
        assert server.process is not None
        for _ in range(2):  # how deploys reload: gunicorn reads its config file again, new workers start
            booted = server.log().count("Booting worker")
            server.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 30
            while server.log().count("Booting worker") < booted + 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert get(server.url("/new"))[0] == 200
        assert list(tmp.iterdir()) == [metrics]
        assert answered(server, "board:new") == 3, "the reloaded workers' counts are kept"
    finally:
        assert server.stop() == 0
    assert list(tmp.iterdir()) == [], "the metrics directory outlived its server"


def test_logs_are_json_lines_with_the_request_id(live_app: Gunicorn) -> None:
    get(live_app.url("/new"), headers={"X-Request-ID": "find-me-in-logs"})
    lines = [json.loads(line) for line in live_app.log().splitlines() if line.startswith("{")]
    ours = [line for line in lines if line.get("request_id") == "find-me-in-logs"]
    assert ours
    assert ours[0]["status"] == 200
    # gunicorn's access log carries the request time and the same id; gunicorn writes it just after
    # the response has gone out, so give it a moment.
    access_line = r'"GET /new HTTP/1.1" 200 \d+ \d+ms rid=find-me-in-logs'
    deadline = time.monotonic() + 5
    while not re.search(access_line, live_app.log()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert re.search(access_line, live_app.log())


@pytest.fixture
def app_with_own_database(tmp_path: Path) -> Iterator[tuple[Gunicorn, object]]:
    """A server whose PostgreSQL this test may stop and start."""
    cluster = start_throwaway_cluster()
    try:
        env = production_env(cluster.url(), tmp_path / "static", WEB_CONCURRENCY="2", DB_CONNECT_TIMEOUT="2")
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        manage(env, "seed_demo", "--users", "2", "--posts", "5", "--comments", "5")
        server = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log")
        server.start()
        try:
            yield server, cluster
        finally:
            server.stop()
    finally:
        remove_cluster(cluster)


def test_database_outage_gives_503_then_recovers_by_itself(
    app_with_own_database: tuple[Gunicorn, object],
) -> None:
    server, cluster = app_with_own_database
    assert get(server.url("/"))[0] == 200
    cluster.stop(mode="fast")  # type: ignore[attr-defined]
    # Each of several requests (both workers, held connections too) is a quick 503, never a 500 or a hang.
    for path in ("/", "/new", "/api/posts", "/", "/new", "/api/posts"):
        status, headers, _ = get(server.url(path), timeout=10)
        assert status == 503, path
        assert headers["Retry-After"] == "5"
    assert get(server.url("/healthz"))[0] == 200
    status, _, body = get(server.url("/readyz"), timeout=10)
    assert status == 503
    assert "database unreachable" in json.loads(body)["reason"]
    cluster.start()  # type: ignore[attr-defined]
    statuses = [get(server.url(path), timeout=10)[0] for path in ("/", "/new", "/api/posts", "/", "/new", "/readyz")]
    assert statuses == [200] * 6
    assert server.process is not None
    assert server.process.poll() is None, "gunicorn kept running; nothing was restarted"


def test_sigterm_stops_gunicorn_cleanly(app_with_own_database: tuple[Gunicorn, object]) -> None:
    server, _ = app_with_own_database
    assert server.stop() == 0
    assert "Shutting down: Master" in server.log()
