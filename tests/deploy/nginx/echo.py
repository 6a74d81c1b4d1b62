"""Real nginx, rendered from the one template, in front of a stand-in app that echoes what nginx sent it."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from deploy.local.stack import wait_for
from deploy.nginx.render import render
from tests.harness.servers import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Echo(BaseHTTPRequestHandler):
    """Answers every request with the X-Forwarded-For nginx sent it."""

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


@contextmanager
def nginx_in_front_of_echo(workdir: Path, *, upstream_port: int | None = None, **site: Any) -> Iterator[int]:
    """nginx's port, proxying to the echo server (or to `upstream_port`, e.g. one nobody listens on)."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    rendered = render(
        "site",
        nginx_upstream_servers=[f"127.0.0.1:{upstream_port or upstream.server_address[1]}"],
        nginx_listen_address="127.0.0.1",
        nginx_listen_port=port,
        nginx_static_root="",
        nginx_access_log=str(workdir / "access.log"),
        nginx_error_log=str(workdir / "error.log"),
        **site,
    )
    (workdir / "site.conf").write_text(rendered)
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
