"""`make soak DURATION=10m`: the locustfile's whole mix against a local stack for a long while, to see what only
time shows: errors that come and go, latency that creeps, memory that grows.

The stack is the production one of `make stack-up` (split topology, APP_SERVERS app servers, production
settings, worker recycling included, as servers run), on ports of its own. Every SAMPLE_SECONDS the resident
memory of each app server's process tree is read. The report (loadtest/reports/<time>-soak/) has the errors,
p95 per minute (Locust's rolling percentile) and each server's memory growth from the first tenth of the run to
the last; the targets are 0 errors and under 5 % growth.

Knobs (environment): DURATION (Locust's 90s/10m/1h; 10m), USERS (20), SPAWN_RATE (5), APP_SERVERS (2),
SAMPLE_SECONDS (10).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.local import stack as local_stack
from loadtest.cpu import tree_rss_mib
from loadtest.progress import log
from loadtest.report_dir import ROOT, report_dir

# nginx, PostgreSQL and app servers from +2 up: clear of `make stack-up`'s and bench-scaling's ports.
SOAK_PORTS = 18680
TARGET_GROWTH = 0.05
_UNITS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Memory:
    server: str
    start_mib: float
    end_mib: float

    @property
    def growth(self) -> float:
        return self.end_mib / self.start_mib - 1 if self.start_mib else 0.0


def seconds(duration: str) -> int:
    """Locust's run-time syntax, as this script needs it: one number with s, m or h."""
    number, unit = duration[:-1], duration[-1:]
    if unit not in _UNITS or not number.isdigit() or int(number) < 1:
        raise SystemExit(f"soak: DURATION is like 90s, 10m or 1h, not {duration!r}")
    return int(number) * _UNITS[unit]


def run_locust(url: str, out: Path, duration: str, rss: dict[str, list[tuple[float, float]]],
               stack: local_stack.Stack, sample_seconds: float) -> int:  # fmt: skip
    """Locust's exit status; memory samples land in `rss` while it runs."""
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py"),
        "--headless", "--host", url, "--users", os.environ.get("USERS", "20"),
        "--spawn-rate", os.environ.get("SPAWN_RATE", "5"), "--run-time", duration,
        "--csv", str(out / "locust"), "--csv-full-history", "--only-summary", "--stop-timeout", "10",
    ]  # fmt: skip
    env = {**os.environ, "LOADTEST_REPORT_DIR": str(out)}
    started = time.monotonic()
    with (out / "locust.log").open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
        while process.poll() is None:
            at = time.monotonic() - started
            for server in stack.app_servers:
                rss.setdefault(server.name, []).append((at, tree_rss_mib(server.pid)))
            try:
                process.wait(timeout=sample_seconds)
            except subprocess.TimeoutExpired:
                continue
    return process.returncode


def memory_growth(rss: dict[str, list[tuple[float, float]]], total: float) -> list[Memory]:
    """Mean memory over the first and the last tenth of the run (after a tenth of warm-up)."""
    tenth = total / 10
    result = []
    for server, samples in sorted(rss.items()):
        early = [mib for at, mib in samples if tenth <= at < 2 * tenth] or [samples[0][1]]
        late = [mib for at, mib in samples if at >= total - tenth] or [samples[-1][1]]
        result.append(Memory(server, sum(early) / len(early), sum(late) / len(late)))
    return result


def latency_per_minute(history: Path) -> list[tuple[int, float | None, int]]:
    """(minute, p95 ms, failures so far) from Locust's history of the aggregated stats."""
    rows = [row for row in csv.DictReader(history.open()) if row["Name"] == "Aggregated"]
    if not rows:
        return []
    first = int(rows[0]["Timestamp"])
    by_minute: dict[int, dict[str, str]] = {}
    for row in rows:
        by_minute[(int(row["Timestamp"]) - first) // 60] = row  # the minute's last row
    return [
        (minute, float(row["95%"]) if row["95%"] not in ("N/A", "") else None, int(row["Total Failure Count"]))
        for minute, row in sorted(by_minute.items())
    ]


def locust_totals(stats: Path) -> tuple[int, int, float | None]:
    """(requests, failures, p95 ms or None without requests) of Locust's aggregated row."""
    row = next(row for row in csv.DictReader(stats.open()) if row["Name"] == "Aggregated")
    p95 = float(row["95%"]) if row["95%"] not in ("N/A", "") else None
    return int(row["Request Count"]), int(row["Failure Count"]), p95


def write_report(out: Path, duration: str, servers: int, requests: int, failures: int,
                 minutes: list[tuple[int, float | None, int]], memory: list[Memory]) -> str:  # fmt: skip
    lines = [
        f"# Soak: {duration}, {os.environ.get('USERS', '20')} users, {servers} app servers",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.uname().nodename} "
        f"({os.cpu_count()} CPUs): `make soak DURATION={duration}`.",
        "",
        f"- Requests: {requests:,}; errors: {failures:,} (target 0).",
        "",
        "| minute | p95 ms | errors so far |",
        "| ---: | ---: | ---: |",
        *(f"| {minute + 1} | {'n/a' if p95 is None else f'{p95:.0f}'} | {failed} |" for minute, p95, failed in minutes),
        "",
        "| app server | memory early (MiB) | memory late (MiB) | growth (target < 5 %) |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {m.server} | {m.start_mib:.1f} | {m.end_mib:.1f} | {m.growth:+.1%} |" for m in memory),
        "",
        "Memory is the resident set of each app server's process tree (master and workers), sampled every "
        f"{os.environ.get('SAMPLE_SECONDS', '10')} s; early is the second tenth of the run, late the last tenth.",
    ]
    text = "\n".join(lines) + "\n"
    (out / "report.md").write_text(text)
    with (out / "memory.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["server", "early_mib", "late_mib", "growth"])
        writer.writerows((m.server, f"{m.start_mib:.1f}", f"{m.end_mib:.1f}", f"{m.growth:.4f}") for m in memory)
    return text


def main() -> int:
    duration = os.environ.get("DURATION", "10m")
    total = seconds(duration)
    servers = int(os.environ.get("APP_SERVERS", "2"))
    sample_seconds = float(os.environ.get("SAMPLE_SECONDS", "10"))
    out = report_dir("soak")
    directory = ROOT / ".var" / "soak"
    log(f"soak: {duration} against {servers} app servers; report in {out}")
    stack = local_stack.up(
        directory, topology="split", app_servers=servers, port=SOAK_PORTS, first_app_port=SOAK_PORTS + 2,
        database_port=SOAK_PORTS + 1, workers=2, seed=(50, 2000, 6000),
        nginx_overrides=local_stack.benchmark_nginx(),
    )  # fmt: skip
    rss: dict[str, list[tuple[float, float]]] = {}
    try:
        status = run_locust(stack.url("").rstrip("/"), out, duration, rss, stack, sample_seconds)
    finally:
        local_stack.down(directory)
        shutil.rmtree(directory, ignore_errors=True)
    requests, failures, _ = locust_totals(out / "locust_stats.csv")
    text = write_report(out, duration, servers, requests, failures,
                        latency_per_minute(out / "locust_stats_history.csv"), memory_growth(rss, total))  # fmt: skip
    sys.stdout.write(text)
    log(f"soak: Locust exited {status} (1: a threshold of locustfile.py failed); report {out / 'report.md'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
