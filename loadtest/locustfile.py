"""Scaleboard's traffic, modelled on a link board: mostly readers, some writers, a few API clients.

    python -m locust -f loadtest/locustfile.py --host http://127.0.0.1:8080    (or `make loadtest HOST=...`)

Weights (users of each kind): readers 8, writers 1, API clients 1 — reads dominate real boards.
Tags select subsets: `read`, `write`, `api` (make loadtest SCENARIO=read); `front` is the front page
alone (the scaling bench).
Thresholds leave out sign-in (see SETUP_REQUESTS). Writers and API clients sign
in as the seeded demo users (`manage.py seed_demo`, password demo-password), so run against a
seeded target. Thresholds (exit code 1 when broken): LOADTEST_MAX_ERROR_RATIO (default 0.01) and
LOADTEST_MAX_P95_MS (default 1000). LOAD_SHAPE=ramp|step|spike|soak replaces -u/-r/-t with a shape.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locust import FastHttpUser, LoadTestShape, between, events, tag, task
from locust.env import Environment
from locust.runners import WorkerRunner
from locust.stats import StatsEntry

from loadtest import shapes
from loadtest.request_names import SETUP_REQUESTS

DEMO_USERS = int(os.environ.get("LOADTEST_DEMO_USERS", "50"))
DEMO_PASSWORD = os.environ.get("LOADTEST_DEMO_PASSWORD", "demo-password")
SEARCH_WORDS = ["postgres", "nginx", "scaling", "cache", "latency", "deploy", "kubernetes", "backup"]
POST_LINK = re.compile(rb'href="/post/(\d+)"')
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
STATIC_LINK = re.compile(rb"(/static/css/site\.[0-9a-f]+\.css)")

if os.environ.get("LOAD_SHAPE"):
    # A shape class in the locustfile takes over -u/-r/-t; define it only when asked for.
    class StagedShape(LoadTestShape):
        """Runs the stages of shapes.SHAPES[LOAD_SHAPE], each lasting its seconds times LOAD_SHAPE_SCALE."""

        def __init__(self) -> None:
            super().__init__()
            name = os.environ["LOAD_SHAPE"]
            if name not in shapes.SHAPES:
                raise ValueError(f"LOAD_SHAPE must be one of {', '.join(shapes.SHAPES)}, not {name!r}")
            scale = float(os.environ.get("LOAD_SHAPE_SCALE", "1"))
            self.stages = [(seconds * scale, users, rate) for seconds, users, rate in shapes.SHAPES[name]]

        def tick(self) -> tuple[int, float] | None:
            elapsed = self.get_run_time()
            end = 0.0
            for seconds, users, rate in self.stages:
                end += seconds
                if elapsed < end:
                    return users, rate
            return None


class BoardUser(FastHttpUser):
    """What every kind of user does: read the front page and learn which posts exist."""

    abstract = True
    post_ids: list[int]

    def on_start(self) -> None:
        self.post_ids = []
        self.read_front_page()

    def read_front_page(self) -> bytes:
        with self.client.get("/", name="/", catch_response=True) as response:
            body = response.content or b""
            ids = [int(found) for found in POST_LINK.findall(body)]
            if ids:
                self.post_ids = ids
            elif response.status_code == 200:
                response.failure("front page lists no posts: seed the target (make seed)")
        return body

    def some_post(self) -> int:
        return random.choice(self.post_ids) if self.post_ids else 1

    def form_token(self, path: str, name: str) -> str | None:
        """GET a page with a Django form and return its CSRF token (None if the page has no form)."""
        found = CSRF_FIELD.search(self.client.get(path, name=name).content or b"")
        return found.group(1).decode() if found else None

    def sign_in(self, username: str) -> bool:
        """Django's login form with its CSRF token; a 429 from the edge is retried, as a person would."""
        for attempt in range(5):
            token = self.form_token("/login", "/login")
            if not token:
                return False
            with self.client.post(
                "/login",
                data={
                    "username": username,
                    "password": DEMO_PASSWORD,
                    "csrfmiddlewaretoken": token,
                },
                headers={"Referer": f"{self.host}/login"},
                name="POST /login",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code == 302:
                    return True
                if response.status_code == 429:
                    response.success()  # the rate limiter did its job; back off and retry
                    time.sleep(2**attempt)
                    continue
                response.failure(f"login as {username} answered {response.status_code}")
                return False
        return False


# Multiplies every user's pause between requests (readers 1-3 s, writers 2-5 s, API clients 1-2 s):
# 1 paces them like people, 0 sends the next request at once (the scaling bench saturates this way).
THINK_SCALE = float(os.environ.get("LOADTEST_THINK_SCALE", "1"))


def think(low: float, high: float) -> Callable[[Any], float]:
    return between(low * THINK_SCALE, high * THINK_SCALE)


class Reader(BoardUser):
    """Anonymous: front page, newest, post pages, search, the stylesheet."""

    weight = 8
    wait_time = think(1, 3)

    @tag("read", "front")
    @task(10)
    def front_page(self) -> None:
        self.read_front_page()

    @tag("read")
    @task(3)
    def newest(self) -> None:
        self.client.get("/new", name="/new")

    @tag("read")
    @task(8)
    def post_page(self) -> None:
        self.client.get(f"/post/{self.some_post()}", name="/post/[id]")

    @tag("read")
    @task(2)
    def search(self) -> None:
        self.client.get(f"/search?q={random.choice(SEARCH_WORDS)}", name="/search?q=[word]")

    @tag("read")
    @task(1)
    def stylesheet(self) -> None:
        link = STATIC_LINK.search(self.read_front_page())
        if link:
            self.client.get(link.group(1).decode(), name="/static/[css]")


class Writer(BoardUser):
    """Signed in as a demo user: votes, comments, sometimes submits."""

    weight = 1
    wait_time = think(2, 5)

    def on_start(self) -> None:
        super().on_start()
        self.signed_in = self.sign_in(f"demo{random.randint(1, DEMO_USERS)}")

    @tag("write")
    @task(6)
    def vote(self) -> None:
        post_id = self.some_post()
        token = self.form_token(f"/post/{post_id}", "/post/[id]")
        if self.signed_in and token:
            self.client.post(
                f"/post/{post_id}/vote", name="POST /post/[id]/vote",
                data={"csrfmiddlewaretoken": token, "up": random.choice("10")},
                headers={"Accept": "application/json", "Referer": f"{self.host}/post/{post_id}"},
            )  # fmt: skip

    @tag("write")
    @task(3)
    def comment(self) -> None:
        post_id = self.some_post()
        token = self.form_token(f"/post/{post_id}", "/post/[id]")
        if self.signed_in and token:
            self.client.post(
                f"/post/{post_id}", name="POST /post/[id] (comment)", allow_redirects=False,
                data={"csrfmiddlewaretoken": token, "body": f"Measured: {random.choice(SEARCH_WORDS)}"},
                headers={"Referer": f"{self.host}/post/{post_id}"},
            )  # fmt: skip

    @tag("write")
    @task(1)
    def submit(self) -> None:
        token = self.form_token("/submit", "/submit")
        if self.signed_in and token:
            self.client.post(
                "/submit", name="POST /submit", allow_redirects=False,
                data={"csrfmiddlewaretoken": token, "title": f"Load test finding {random.randint(1, 10**6)}",
                      "url": f"https://example.com/finding/{random.randint(1, 10**6)}"},
                headers={"Referer": f"{self.host}/submit"},
            )  # fmt: skip


class ApiClient(BoardUser):
    """A script with a personal token: lists pages of posts, reads comments, votes."""

    weight = 1
    wait_time = think(1, 2)

    def on_start(self) -> None:
        super().on_start()
        self.auth: dict[str, str] = {}
        if self.sign_in(f"demo{random.randint(1, DEMO_USERS)}"):
            token = self.form_token("/settings/tokens", "/settings/tokens")
            created = self.client.post(
                "/settings/tokens", name="POST /settings/tokens",
                data={"name": "locust", "csrfmiddlewaretoken": token or ""},
                headers={"Referer": f"{self.host}/settings/tokens"},
            )  # fmt: skip
            found = re.search(rb'<code id="new-token">([^<]+)</code>', created.content or b"")
            if found:
                self.auth = {"Authorization": f"Token {found.group(1).decode()}"}

    @tag("api")
    @task(5)
    def list_posts(self) -> None:
        page = self.client.get("/api/posts?sort=new&limit=30", name="/api/posts").json()
        if page.get("next_cursor"):
            self.client.get(f"/api/posts?sort=new&limit=30&cursor={page['next_cursor']}", name="/api/posts?cursor")

    @tag("api")
    @task(3)
    def read_comments(self) -> None:
        self.client.get(f"/api/posts/{self.some_post()}/comments", name="/api/posts/[id]/comments")

    @tag("api")
    @task(1)
    def vote(self) -> None:
        if self.auth:
            self.client.put(f"/api/posts/{self.some_post()}/vote", headers=self.auth, name="PUT /api/posts/[id]/vote")


# --- thresholds and the run summary -----------------------------------------------------------------


def steady_state(environment: Environment) -> StatsEntry:
    """All requests except the one-off sign-in and token set-up, as one stats entry."""
    entry = StatsEntry(environment.stats, "steady state", "", use_response_times_cache=False)
    for (name, _method), stats in environment.stats.entries.items():
        if name not in SETUP_REQUESTS:
            entry.extend(stats)
    return entry


# LOADTEST_REQUEST_LOG=1: every request as a row (end time, name, status, ms, failed) in
# requests-<pid>.csv under LOADTEST_REPORT_DIR, one file per Locust process. The scaling bench reads
# them to judge a time window of its own choosing (the one it measures CPU in, a server's kill).
REQUEST_LOG: list[tuple[float, str, int, float, int]] = []


@events.request.add_listener
def log_request(name: str, response_time: float, exception: Exception | None, response: Any = None, **_: Any) -> None:
    if os.environ.get("LOADTEST_REQUEST_LOG"):
        status = getattr(response, "status_code", 0) or 0
        REQUEST_LOG.append((time.time(), name, status, response_time, 1 if exception else 0))


@events.quitting.add_listener
def write_request_log(environment: Environment, **_: Any) -> None:
    report_dir = os.environ.get("LOADTEST_REPORT_DIR")
    if REQUEST_LOG and report_dir:
        with Path(report_dir, f"requests-{os.getpid()}.csv").open("w", newline="") as out:
            csv.writer(out).writerows(REQUEST_LOG)


@events.quitting.add_listener
def apply_thresholds(environment: Environment, **_: Any) -> None:
    """Exit non-zero when the error ratio or p95 break their limits; write summary.json for reports."""
    if isinstance(environment.runner, WorkerRunner):
        return  # with --processes, the master holds the whole run's statistics
    stats = steady_state(environment)
    max_error_ratio = float(os.environ.get("LOADTEST_MAX_ERROR_RATIO", "0.01"))
    max_p95_ms = float(os.environ.get("LOADTEST_MAX_P95_MS", "1000"))
    p95 = stats.get_response_time_percentile(0.95) or 0.0
    summary = {
        "requests": stats.num_requests,
        "failures": stats.num_failures,
        "error_ratio": stats.fail_ratio,
        "rps": stats.total_rps,
        "setup_requests_excluded": sorted(SETUP_REQUESTS),
        "p50_ms": stats.get_response_time_percentile(0.5) or 0.0,
        "p95_ms": p95,
        "p99_ms": stats.get_response_time_percentile(0.99) or 0.0,
        "generator_cpu_warning": bool(getattr(environment.runner, "cpu_warning_emitted", False)),
        "thresholds": {"max_error_ratio": max_error_ratio, "max_p95_ms": max_p95_ms},
    }
    broken = []
    if stats.num_requests == 0:
        broken.append("no requests were made")
    if stats.fail_ratio > max_error_ratio:
        broken.append(f"error ratio {stats.fail_ratio:.4f} > {max_error_ratio}")
    if p95 > max_p95_ms:
        broken.append(f"p95 {p95:.0f} ms > {max_p95_ms:.0f} ms")
    summary["passed"] = not broken
    report_dir = os.environ.get("LOADTEST_REPORT_DIR")
    if report_dir:
        Path(report_dir, "summary.json").write_text(json.dumps(summary, indent=2))
    if broken:
        print("loadtest: thresholds failed: " + "; ".join(broken), file=sys.stderr)
        environment.process_exit_code = 1
    else:
        print(f"loadtest: thresholds met ({stats.num_requests} requests, p95 {p95:.0f} ms)", file=sys.stderr)
