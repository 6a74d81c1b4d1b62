"""`make bench-microcache`: what nginx's microcache saves the app servers, under Locust's anonymous readers.

The split stack (APP_SERVERS app servers, production settings) serves the locustfile's Reader users (front
page, /new, post pages, search, the stylesheet, with their think times) for DURATION, first with the microcache
off, then on; the same users both times. For each run: requests, failures, p95, and the CPU time the app servers,
nginx and PostgreSQL spent per 1,000 requests.

Knobs (environment): DURATION (Locust's 60s/2m; 60s), READERS (100), APP_SERVERS (2), SEED_POSTS (2000).
Output: loadtest/reports/<timestamp>-microcache/report.md (also printed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.local import stack as local_stack
from loadtest.cpu import stack_cpu_seconds
from loadtest.progress import log
from loadtest.report_dir import ROOT, report_dir
from loadtest.soak import locust_totals, seconds

# nginx, PostgreSQL and app servers from +2 up: clear of the other benches' ports.
PORTS = 18720


@dataclass(frozen=True)
class Run:
    microcache: bool
    requests: int
    failures: int
    p95_ms: float | None  # None: no request answered
    cpu_seconds: dict[str, float]  # app servers, nginx, PostgreSQL

    def per_thousand(self, part: str) -> float:
        """CPU seconds of `part` per 1,000 requests."""
        return 1000 * self.cpu_seconds[part] / max(self.requests, 1)


def measure(directory: Path, out: Path, *, microcache: bool, servers: int, posts: int, duration: str) -> Run:
    """One Locust run of the readers against a stack brought up with or without the microcache."""
    stack = local_stack.up(
        directory, topology="split", app_servers=servers, port=PORTS, first_app_port=PORTS + 2,
        database_port=PORTS + 1, workers=2, seed=(50, posts, posts * 3), extra_env=local_stack.BENCHMARK_ENV,
        nginx_overrides=local_stack.benchmark_nginx(microcache=microcache),
    )  # fmt: skip
    name = "on" if microcache else "off"
    users = os.environ.get("READERS", "100")
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py"), "Reader",
        "--headless", "--host", stack.url("").rstrip("/"), "--users", users, "--spawn-rate", users,
        "--run-time", duration, "--csv", str(out / f"locust-{name}"), "--only-summary", "--stop-timeout", "5",
    ]  # fmt: skip
    try:
        before = stack_cpu_seconds(stack)
        with (out / f"locust-{name}.log").open("w") as output:
            subprocess.run(command, env={**os.environ, "LOADTEST_REPORT_DIR": str(out)}, stdout=output, cwd=ROOT,
                           stderr=subprocess.STDOUT, check=False, timeout=seconds(duration) + 120)  # fmt: skip
        after = stack_cpu_seconds(stack)
    finally:
        local_stack.down(directory)
    requests, failures, p95 = locust_totals(out / f"locust-{name}_stats.csv")
    used = {part: after[part] - before[part] for part in after}
    return Run(microcache, requests, failures, p95, used)


def row(run: Run) -> str:
    parts = ("app", "nginx", "postgres")
    return (
        f"| {'on' if run.microcache else 'off'} | {run.requests:,} | {run.failures} | "
        f"{'n/a' if run.p95_ms is None else f'{run.p95_ms:.0f}'} | "
        + " | ".join(f"{run.per_thousand(part):.2f}" for part in parts)
        + " |"
    )


def report(runs: list[Run], servers: int, duration: str) -> str:
    off, on = runs
    saved = 1 - on.per_thousand("app") / off.per_thousand("app") if off.per_thousand("app") else 0.0
    lines = [
        f"# Microcache: Locust's readers, {os.environ.get('USERS', '100')} users, {servers} app servers, {duration}",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.uname().nodename} "
        f"({os.cpu_count()} CPUs): `make bench-microcache DURATION={duration}`.",
        "",
        "| microcache | requests | failures | p95 ms | app servers' CPU s / 1,000 requests | nginx | PostgreSQL |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(row(run) for run in runs),
        "",
        f"The microcache saved the app servers {saved:.0%} of their CPU per request.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    duration = os.environ.get("DURATION", "60s")
    seconds(duration)  # a bad value stops here, before anything starts
    servers = int(os.environ.get("APP_SERVERS", "2"))
    posts = int(os.environ.get("SEED_POSTS", "2000"))
    out = report_dir("microcache")
    directory = Path(os.environ.get("BENCH_STACK_DIR", ROOT / ".var" / "bench-microcache"))
    log(f"bench-microcache: Locust's readers for {duration}, microcache off then on; report in {out}")
    try:
        runs = [measure(directory, out, microcache=on, servers=servers, posts=posts, duration=duration)
                for on in (False, True)]  # fmt: skip
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    text = report(runs, servers, duration)
    (out / "report.md").write_text(text)
    sys.stdout.write(text)
    return 1 if any(run.failures for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
