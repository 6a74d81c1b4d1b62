"""The container image, built with podman from docker/Dockerfile on a local Debian 12 base, and run."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.postgres import Cluster
from tests.harness.servers import REPO, free_port_block, get

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        os.geteuid() != 0 or not shutil.which("podman") or not shutil.which("mmdebstrap"),
        reason="needs root, podman and mmdebstrap (sudo apt-get install podman mmdebstrap); .ci/run installs them",
    ),
]

TEST_IMAGE = f"localhost/scaleboard:test-{uuid.uuid4().hex[:8]}"
BASE_IMAGE = "localhost/scaleboard-base:bookworm"
ENV = {**os.environ, "CONTAINERS_CONF": str(REPO / "docker/podman/containers.conf")}
# The layers our Dockerfile adds must leave room for the official python:3.11-slim base (~125 MB)
# under the 200 MB budget.
APP_LAYERS_BUDGET = 75 * 1024 * 1024
# Containers reach the host's loopback (where the test PostgreSQL listens) at this address.
NETWORK = "slirp4netns:allow_host_loopback=true"
HOST_FROM_CONTAINER = "10.0.2.2"


def podman(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], env=ENV, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    base = subprocess.run(
        ["docker/build-local-base.sh"], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=900
    )
    assert base.returncode == 0, base.stderr
    started = time.monotonic()
    build = subprocess.run(
        ["make", "--no-print-directory", "docker-build", f"IMAGE={TEST_IMAGE}", f"BASE_IMAGE={BASE_IMAGE}"],
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    print(f"\nimage build: {time.monotonic() - started:.1f}s")
    yield TEST_IMAGE
    podman("rmi", "--force", TEST_IMAGE, check=False)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="scaleboard-image-"))
    directory.chmod(0o755)
    cluster = Cluster(directory / "pg", throwaway=True, port=free_port_block(1, start=19000), listen_tcp=True)
    # The container connects from the slirp4netns network, which arrives at 127.0.0.1 on the host.
    cluster.start()
    try:
        yield f"postgres://scaleboard@{HOST_FROM_CONTAINER}:{cluster.port}/scaleboard"
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)


def env_args(database_url: str, **extra: str) -> list[str]:
    values = {
        "DJANGO_SECRET_KEY": "container-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": database_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_HTTPS": "false",
        "WEB_CONCURRENCY": "2",
        **extra,
    }
    return [arg for name, value in values.items() for arg in ("-e", f"{name}={value}")]


def one_off(image: str, database_url: str, *command: str) -> str:
    """A release-phase command in a throwaway container, as compose's `migrate` or a k8s Job runs it."""
    return podman("run", "--rm", "--network", NETWORK, *env_args(database_url), image, *command).stdout


@pytest.fixture(scope="module")
def server(image: str, database: str) -> Iterator[tuple[str, str]]:
    one_off(image, database, "python3", "manage.py", "migrate", "--noinput")
    one_off(image, database, "python3", "manage.py", "seed_demo", "--users", "3", "--posts", "40", "--comments", "60")
    name, port = f"scaleboard-test-{uuid.uuid4().hex[:8]}", free_port_block(1, start=19100)
    started = time.monotonic()
    podman("run", "-d", "--name", name, "--network", NETWORK, "-p", f"127.0.0.1:{port}:8000",
           *env_args(database), image)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while get(f"http://127.0.0.1:{port}/readyz", timeout=2)[0] != 200:
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


def test_image_is_within_the_size_budget(image: str) -> None:
    def size(name: str) -> int:
        return int(json.loads(podman("image", "inspect", name).stdout)[0]["Size"])

    total, base = size(image), size(BASE_IMAGE)
    print(f"\nimage {total / 2**20:.0f} MB = base {base / 2**20:.0f} MB + app layers {(total - base) / 2**20:.0f} MB")
    assert total - base < APP_LAYERS_BUDGET
    history = podman("history", "--format", "{{.CreatedBy}}", image).stdout
    assert "uv" not in podman("run", "--rm", "--entrypoint", "sh", image, "-c", "ls /opt").stdout.split()
    assert "gcc" not in history


def test_sigterm_lets_the_request_in_flight_finish(image: str, database: str) -> None:
    name, port = f"scaleboard-stop-{uuid.uuid4().hex[:8]}", free_port_block(1, start=19200)
    podman("run", "-d", "--name", name, "--network", NETWORK, "-p", f"127.0.0.1:{port}:8000",
           *env_args(database, WEB_CONCURRENCY="1"), image)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while get(f"http://127.0.0.1:{port}/healthz", timeout=2)[0] != 200:
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
