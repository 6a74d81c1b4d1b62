"""The container image, built with podman from docker/Dockerfile on a local Debian 12 base, and run."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator

import pytest

from deploy.local.stack import http_status
from tests.deploy.conftest import BASE_IMAGE, NETWORK, env_args, needs_podman, one_off, podman
from tests.harness.servers import free_port_block, get

pytestmark = [pytest.mark.live, needs_podman]
# The layers our Dockerfile adds must leave room for the official python:3.11-slim base (~125 MB)
# under the 200 MB budget.
APP_LAYERS_BUDGET = 75 * 1024 * 1024


@pytest.fixture(scope="module")
def server(app_image: str, container_database: str) -> Iterator[tuple[str, str]]:
    image, database = app_image, container_database
    one_off(image, database, "python3", "manage.py", "migrate", "--noinput")
    one_off(image, database, "python3", "manage.py", "seed_demo", "--users", "3", "--posts", "40", "--comments", "60")
    name, port = f"scaleboard-test-{uuid.uuid4().hex[:8]}", free_port_block(1, start=19100)
    started = time.monotonic()
    podman("run", "-d", "--name", name, "--network", NETWORK, "-p", f"127.0.0.1:{port}:8000",
           *env_args(database), image)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while http_status(f"http://127.0.0.1:{port}/readyz") != 200:
            assert time.monotonic() < deadline, podman("logs", name, check=False).stderr[-3000:]
            time.sleep(0.2)
        print(f"\ncold start to ready: {time.monotonic() - started:.1f}s")
        yield name, f"http://127.0.0.1:{port}"
    finally:
        podman("rm", "--force", "--time", "5", name, check=False)


def test_serves_the_seeded_board_as_non_root(server: tuple[str, str]) -> None:
    name, url = server
    assert get(f"{url}/healthz", headers={"Host": "10.9.9.9"})[:3:2] == (200, b"ok\n")
    status, _, page = get(f"{url}/")
    assert status == 200
    assert page.count(b'class="post"') == 30
    assert podman("exec", name, "id", "-u").stdout.strip() == "10001"
    assert podman("healthcheck", "run", name).returncode == 0


def test_static_files_were_collected_at_build(server: tuple[str, str]) -> None:
    _, url = server
    _, _, page = get(f"{url}/")
    css = page.split(b'href="/static/css/site.')[1].split(b'"')[0].decode()
    status, headers, _ = get(f"{url}/static/css/site.{css}", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert "max-age=315360000" in headers["Cache-Control"]  # whitenoise: hashed name, cached forever
    assert headers.get("Content-Encoding") == "gzip"


def test_image_is_within_the_size_budget(app_image: str) -> None:
    image = app_image

    def size(name: str) -> int:
        return int(json.loads(podman("image", "inspect", name).stdout)[0]["Size"])

    total, base = size(image), size(BASE_IMAGE)
    print(f"\nimage {total / 2**20:.0f} MB = base {base / 2**20:.0f} MB + app layers {(total - base) / 2**20:.0f} MB")
    assert total - base < APP_LAYERS_BUDGET
    history = podman("history", "--format", "{{.CreatedBy}}", image).stdout
    assert "uv" not in podman("run", "--rm", "--entrypoint", "sh", image, "-c", "ls /opt").stdout.split()
    assert "gcc" not in history


def test_sigterm_lets_the_request_in_flight_finish(app_image: str, container_database: str) -> None:
    image, database = app_image, container_database
    name, port = f"scaleboard-stop-{uuid.uuid4().hex[:8]}", free_port_block(1, start=19200)
    podman("run", "-d", "--name", name, "--network", NETWORK, "-p", f"127.0.0.1:{port}:8000",
           *env_args(database, WEB_CONCURRENCY="1"), image)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while http_status(f"http://127.0.0.1:{port}/healthz") != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        body = b'{"title": "in flight", "url": "https://example.com"}'
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            # Start a request and hold back half its body, so it is in flight when SIGTERM arrives.
            client.sendall(
                b"POST /api/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body[:10]
            )
            time.sleep(0.5)
            podman("kill", "--signal", "TERM", name)
            time.sleep(1)
            client.sendall(body[10:])
            response = b""
            while chunk := client.recv(65536):
                response += chunk
        # A complete answer (401: no token), not a reset connection.
        assert response.startswith(b"HTTP/1.1 401"), response[:200]
        stopped = podman("wait", name, timeout=60).stdout.strip()
        assert stopped == "0"
        assert "Shutting down: Master" in podman("logs", name).stderr
    finally:
        podman("rm", "--force", name, check=False)
