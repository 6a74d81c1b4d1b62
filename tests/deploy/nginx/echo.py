"""Real nginx, rendered from the one template, in front of an upstream: a real app server, or a stand-in app that
echoes what nginx sent it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from deploy.local import stack as local_stack
from tests.harness.servers import free_port


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
def nginx_in_front_of(workdir: Path, upstream_port: int, **site: Any) -> Iterator[int]:
    """nginx's port, proxying to 127.0.0.1:`upstream_port`; `site`: template variables over the defaults."""
    port = free_port()
    with local_stack.nginx_in_front_of(workdir, [upstream_port], port, **site):
        yield port


@contextmanager
def nginx_in_front_of_echo(workdir: Path, *, upstream_port: int | None = None, **site: Any) -> Iterator[int]:
    """nginx's port, proxying to the echo server (or to `upstream_port`, e.g. one nobody listens on)."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        with nginx_in_front_of(workdir, upstream_port or upstream.server_address[1], **site) as port:
            yield port
    finally:
        upstream.shutdown()
