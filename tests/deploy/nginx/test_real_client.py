"""Behind a load balancer, through real nginx: the rate limit keys on the client the trusted balancer names,
and an X-Forwarded-For from anyone else is ignored."""

from __future__ import annotations

import http.client
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploy.local.stack import wait_for
from deploy.nginx.render import render
from tests.harness.leftovers import scratch_dir
from tests.harness.requires import needs
from tests.harness.servers import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BALANCER = "127.0.0.2"  # a loopback address of its own: the "load balancer" in front of nginx
CLIENT = "127.0.0.1"  # anyone else
pytestmark = needs("nginx")


class _Echo(BaseHTTPRequestHandler):
    """The app's stand-in: answers every request with the X-Forwarded-For nginx sent it."""

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = (self.headers.get("X-Forwarded-For") or "").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def nginx_behind_a_balancer() -> Iterator[int]:
    workdir = scratch_dir("nginx-realip")
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    site = render(
        "site",
        nginx_upstream_servers=[f"127.0.0.1:{upstream.server_address[1]}"],
        nginx_listen_address="127.0.0.1",
        nginx_listen_port=port,
        nginx_static_root="",
        nginx_trusted_proxies=[f"{BALANCER}/32"],
        nginx_rate_limit="1r/m",
        nginx_rate_limit_burst=1,
        nginx_access_log=str(workdir / "access.log"),
        nginx_error_log=str(workdir / "error.log"),
    )
    (workdir / "site.conf").write_text(site)
    main = render("main", nginx_runtime_dir=str(workdir), nginx_site_config=str(workdir / "site.conf"),
                  nginx_error_log=str(workdir / "error.log"), nginx_worker_processes=1)  # fmt: skip
    (workdir / "nginx.conf").write_text(main)
    command = [NGINX, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(workdir / "nginx.conf")]
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", timeout=20)
        yield port
    finally:
        subprocess.run([*command, "-s", "stop"], capture_output=True, timeout=30, check=False)
        upstream.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)


def _login(port: int, source: str, forwarded: str) -> tuple[int, str]:
    """A sign-in POST from `source` (the TCP peer nginx sees) carrying `forwarded` as X-Forwarded-For."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("POST", "/login", body=b"username=x", headers={"X-Forwarded-For": forwarded})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_clients_behind_a_trusted_balancer_are_limited_apart(nginx_behind_a_balancer: int) -> None:
    port = nginx_behind_a_balancer
    first = [_login(port, BALANCER, "198.51.100.1") for _ in range(3)]
    assert [status for status, _ in first] == [200, 200, 429]  # 1r/m with a burst of 1
    # What the app is told: the client the balancer named, once.
    assert first[0][1] == "198.51.100.1"
    status, forwarded = _login(port, BALANCER, "198.51.100.2")
    assert (status, forwarded) == (200, "198.51.100.2")
    # A client-written entry further left is neither believed nor lost: the app sees it left of the real one.
    assert _login(port, BALANCER, "6.6.6.6, 198.51.100.3") == (200, "6.6.6.6, 198.51.100.3")


def test_a_spoofed_header_from_an_untrusted_address_is_ignored(nginx_behind_a_balancer: int) -> None:
    port = nginx_behind_a_balancer
    answers = [_login(port, CLIENT, f"203.0.113.{i}") for i in range(3)]
    # Three "different clients" by their header, one client by its address: limited as one.
    assert [status for status, _ in answers] == [200, 200, 429]
    # nginx appends the address it saw, so the app (trusting only nginx) finds the real client rightmost.
    assert answers[0][1] == f"203.0.113.0, {CLIENT}"
