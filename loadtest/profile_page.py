"""`make profile-page`: where a page's CPU time goes, measured inside the app.

bench-app times pages through gunicorn and nginx; this takes the server and the network away. It brings
up bench-app's stack (production settings, the same demo set), then serves each page through Django's
WSGI handler in this process, pinned to CPU 0, with PostgreSQL on CPU 1. For each page: CPU ms per
request (median of ROUNDS rounds of REQUESTS). Then one run of the first page under cProfile, counting CPU
time: its share by layer (templates, database client, Django, the app's own code) and the functions with
the most time of their own. cProfile's cost per call inflates code made of many small calls, so the
shares describe the profiled run; the CPU ms figures come from the unprofiled rounds.

Knobs (environment): PAGES="/ /new post /api/posts" ("post": the post with about 100 comments)
REQUESTS=1000 ROUNDS=5 TOP=20 SEED_POSTS=100000; QUICK=1 (50 requests, 2 rounds, a small data set).
Output: loadtest/reports/<timestamp>-profile/profile.md (also printed).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from deploy.local import stack as local_stack
from loadtest.bench_app import (
    APP_CPU,
    LOAD_CPU,
    log,
    pin,
    post_with_comments,
    stack_knobs,
    up_bench_stack,
)
from loadtest.report_dir import report_dir

ROOT = Path(__file__).resolve().parents[1]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Which layer a function belongs to, by its file; the first match wins. Built-ins and the standard
# library count for the layer of the code that called them (see layer_shares).
LAYERS = (
    ("templates: Jinja2, MarkupSafe, app/jinja2, config/jinja2*.py", ("/jinja2/", "/markupsafe/", "/config/jinja2")),
    ("database client: psycopg, django.db, scaleboard.ops.postgres", ("/psycopg/", "/django/db/", "/ops/postgres/")),
    ("Django: request handling, middleware, whitenoise, metrics", ("/django/", "/whitenoise/", "/prometheus_client/")),
    ("the app's own code: scaleboard, config", ("/app/scaleboard/", "/app/config/")),
)  # fmt: skip
UNATTRIBUTED = "other: the profiler's own calls, and code no layer called"
STDLIB = os.path.dirname(os.__file__)


class ProfileError(RuntimeError):
    """A page could not be profiled (it did not answer 200)."""


def get(application: WSGIApp, path: str) -> bytes:
    """One GET through the WSGI application, as gunicorn would call it; the body, or ProfileError."""
    path_info, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path_info, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_ACCEPT": "text/html", "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http", "wsgi.multithread": False, "wsgi.multiprocess": True,
    }  # fmt: skip
    statuses: list[str] = []
    response = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        body = b"".join(response)
    finally:
        close = getattr(response, "close", None)
        if close:
            close()  # Django's request_finished: what a server does after every response
    if not statuses[0].startswith("200"):
        raise ProfileError(f"{path} answered {statuses[0]}, not 200: profile pages that exist (PAGES=...)")
    return body


def cpu_ms_per_request(application: WSGIApp, path: str, requests: int, rounds: int) -> list[float]:
    """CPU ms per request of this process, one figure per round, sorted; after a warm-up round."""
    for _ in range(min(requests, 200)):
        get(application, path)
    figures = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            get(application, path)
        figures.append((time.process_time() - started) * 1000 / requests)
    return sorted(figures)


def profiled(application: WSGIApp, path: str, requests: int) -> pstats.Stats:
    profile = cProfile.Profile(time.process_time)  # CPU time: waiting for PostgreSQL is not the app's cost
    profile.runcall(lambda: [get(application, path) for _ in range(requests)])
    return pstats.Stats(profile)


def layer_of(filename: str) -> str | None:
    return next((name for name, parts in LAYERS if any(part in filename for part in parts)), None)


def layer_shares(stats: pstats.Stats) -> dict[str, float]:
    """Each layer's share of the profiled CPU time (the own time of its functions). A built-in or standard
    library function counts for the layers of the code that called it, in proportion to the time each
    caller's calls cost, following callers up until a layer is found."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]  # pstats' function -> timings table
    memo: dict[Any, dict[str, float]] = {}

    def weights(function: Any, seen: frozenset[Any]) -> dict[str, float]:
        layer = layer_of(function[0])
        if layer:
            return {layer: 1.0}
        if function in memo:
            return memo[function]
        callers = {c: t[2] for c, t in table.get(function, (0, 0, 0, 0, {}))[4].items() if c not in seen}
        total = sum(callers.values())
        result: dict[str, float] = {}
        for caller, own in callers.items():
            for name, weight in weights(caller, seen | {function}).items():
                share = own / total if total else 1 / len(callers)
                result[name] = result.get(name, 0.0) + weight * share
        memo[function] = result or {UNATTRIBUTED: 1.0}
        return memo[function]

    seconds: dict[str, float] = {}
    for function, (_, _, own, _, _) in table.items():
        for name, weight in weights(function, frozenset()).items():
            seconds[name] = seconds.get(name, 0.0) + own * weight
    everything = sum(seconds.values()) or 1.0
    return {name: value / everything for name, value in sorted(seconds.items(), key=lambda item: -item[1])}


def top_functions(stats: pstats.Stats, count: int, requests: int) -> list[tuple[str, float, float]]:
    """(function, calls per request, share of the profiled CPU time) for the `count` with most own time."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    everything = sum(row[2] for row in table.values()) or 1.0
    rows = sorted(table.items(), key=lambda item: -item[1][2])[:count]
    return [(_label(key), row[1] / requests, row[2] / everything) for key, row in rows]


def _label(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name  # a built-in: "<built-in method builtins.getattr>"
    for marker in ("site-packages/", f"{ROOT}/", f"{STDLIB}/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line} {name}"


def report(
    posts: int, requests: int, rounds: int, cpu: dict[str, list[float]], path: str, stats: pstats.Stats, top: int
) -> str:
    lines = [
        "# profile-page", "",
        f"{posts} posts, production settings. This process serves the pages through Django's WSGI handler (no",
        f"HTTP server, no network) on CPU {APP_CPU}; PostgreSQL runs on CPU {LOAD_CPU}.", "",
        f"| page | CPU ms per request (median of {rounds} x {requests}) | min | max |", "|---|---|---|---|",
        *(f"| {page} | {statistics.median(f):.3f} | {f[0]:.3f} | {f[-1]:.3f} |" for page, f in cpu.items()), "",
        f"## {path}: {requests} requests under cProfile (CPU time)", "",
        "| layer | share |", "|---|---|",
        *(f"| {layer} | {share:.0%} |" for layer, share in layer_shares(stats).items()), "",
        "| function (own time) | calls per request | share |", "|---|---|---|",
        *(f"| `{name}` | {calls:.1f} | {share:.1%} |" for name, calls, share in top_functions(stats, top, requests)),
        "",
    ]  # fmt: skip
    return "\n".join(lines)


def django_application(stack: local_stack.Stack) -> WSGIApp:
    """The app as gunicorn's workers run it: the stack's production environment, metrics written to files
    (in the stack's directory, emptied first)."""
    metrics = stack.directory / "profile-metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir()
    os.environ.update(stack.app_env(PROMETHEUS_MULTIPROC_DIR=str(metrics)))
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def main() -> int:
    quick = os.environ.get("QUICK", "") not in ("", "0")
    requests = int(os.environ.get("REQUESTS", "50" if quick else "1000"))
    rounds = int(os.environ.get("ROUNDS", "2" if quick else "5"))
    top = int(os.environ.get("TOP", "20"))
    pages = os.environ.get("PAGES", "/ /new post /api/posts").split()
    directory, posts = stack_knobs(quick)
    if not pages or requests < 1 or rounds < 1:
        print("error: PAGES needs at least one path, REQUESTS and ROUNDS at least 1", file=sys.stderr)
        return 2
    log(f"profile-page: {posts} posts, {rounds} round(s) x {requests} requests per page")
    stack = up_bench_stack(directory, posts)
    try:
        pin([stack.cluster.postmaster_pid()], LOAD_CPU)  # its backends, forked later, inherit this
        pin([os.getpid()], APP_CPU)
        post = post_with_comments(stack, 100)
        paths = [f"/post/{post}" if page == "post" else page for page in pages]
        application = django_application(stack)
        cpu = {}
        for path in paths:
            cpu[path] = cpu_ms_per_request(application, path, requests, rounds)
            log(f"  {path:28} {statistics.median(cpu[path]):.3f} ms CPU per request")
        stats = profiled(application, paths[0], requests)
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        local_stack.down(directory)
    out = report_dir("profile")
    (out / "profile.md").write_text(report(posts, requests, rounds, cpu, paths[0], stats, top))
    log(f"profile-page: {out}/profile.md")
    print((out / "profile.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
