"""Real processes for live tests: the app under production settings, served by gunicorn."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local.stack import app_server_env, port_is_free
from tests.harness.leftovers import GUNICORN_PID_FILE, scratch_dir

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app"

# nginx's X-Cache-Status when its microcache found a stored copy (fresh, expired, being refreshed, or stale).
MICROCACHE_STORED = {"HIT", "EXPIRED", "UPDATING", "STALE"}
# Headers of a request nginx's microcache never answers (a signed-out session's cookie): the app servers do.
PAST_THE_MICROCACHE = {"Cookie": "sessionid=signed-out"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(count: int, start: int = 18000) -> int:
    """The first of `count` consecutive free ports, searched below the kernel's ephemeral range
    (so no outgoing connection can take one of them meanwhile)."""
    for base in range(start, 32000 - count):
        ports = range(base, base + count)
        if all(port_is_free(port) for port in ports):
            return base
    raise RuntimeError(f"no {count} consecutive free ports between {start} and 32000")


def with_database(url: str, name: str) -> str:
    """The same server URL with another database name (works for TCP and socket URLs)."""
    base, _, rest = url.rpartition("/")
    query = rest.partition("?")[2]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def production_env(database_url: str, static_root: Path, **extra: str) -> dict[str, str]:
    """What the local stack gives its app servers (one definition: deploy/local/stack.py)."""
    return app_server_env(
        database_url=database_url,
        static_root=static_root,
        # checkov:skip=CKV_SECRET_6: signs nothing that outlives the test server
        secret_key="live-test-secret-key-that-is-long-enough-for-django-checks-0123456789",
        **extra,
    )


@dataclass
class Gunicorn:
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    pid_dir: Path = Path()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, timeout: float = 30) -> None:
        env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        # The pid, where the next test run finds it should this one be killed (tests/harness/leftovers.py).
        self.pid_dir = scratch_dir("gunicorn")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(APP / "gunicorn.conf.py"), "--pid",
                 str(self.pid_dir / GUNICORN_PID_FILE)],
                cwd=APP, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=1):  # noqa: S310 - loopback only
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"gunicorn did not answer /healthz in {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 40) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise
        finally:
            shutil.rmtree(self.pid_dir, ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def get(
    url: str,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
    data: bytes | None = None,
    method: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """A GET (a POST when `data` is given, or `method`) returning (status, headers, body); never raises on 4xx/5xx."""
    request = urllib.request.Request(url, headers=headers or {}, data=data, method=method)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
