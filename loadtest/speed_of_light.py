"""The speed-of-light reference: the front page's query and a plain HTML list, with nothing else.

A raw WSGI app (psycopg + string joins): no framework, no ORM objects, no templates, no middleware.
It runs the same SQL the Django selector issues for the anonymous front page, so the scaling bench
can state what Django's conveniences cost as a ratio. Not part of the app; never deployed.

    DATABASE_URL=postgres://... gunicorn loadtest.speed_of_light:application
"""

from __future__ import annotations

import html
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

FRONT_PAGE_SQL = """
    SELECT p.id, p.title, p.url, p.score, p.comment_count, p.created, u.username
    FROM board_post p JOIN accounts_user u ON u.id = p.author_id
    ORDER BY p.hot DESC, p.id DESC
    LIMIT 30
"""

_connection: psycopg.Connection[Any] | None = None


def _rows() -> list[tuple[Any, ...]]:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    with _connection.cursor() as cursor:
        cursor.execute(FRONT_PAGE_SQL)
        return cursor.fetchall()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    items = [
        f'<li><a href="{html.escape(url or f"/post/{pid}")}">{html.escape(title)}</a> '
        f'{score} points by {html.escape(author)} | <a href="/post/{pid}">{comments} comments</a></li>'
        for pid, title, url, score, comments, _created, author in _rows()
    ]
    body = ("<!doctype html><title>Scaleboard</title><ol>" + "".join(items) + "</ol>").encode()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


@contextmanager
def serving(
    env: dict[str, str], port: int, workers: int, preexec_fn: Callable[[], None] | None = None, threads: int = 1
) -> Iterator[int]:
    """Run this app under gunicorn on 127.0.0.1:port until the block ends; yields the master's pid.
    threads > 1: gunicorn's gthread worker (keep-alive), as the app server gets with GUNICORN_THREADS."""
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [str(root / ".venv/bin/gunicorn"), "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads", str(threads),
         "--no-control-socket",
         "loadtest.speed_of_light:application"],
        env={**env, "PYTHONPATH": str(root)}, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=preexec_fn, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the speed-of-light server did not start on port {port}") from None
                time.sleep(0.1)
        yield process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
