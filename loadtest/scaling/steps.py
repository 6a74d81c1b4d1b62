"""One load step, measured: Locust for a fixed time against a target, and what every part used meanwhile.

Throughput, latency and errors come from Locust's per-request log (LOADTEST_REQUEST_LOG), cut to the
same window as the CPU readings (one a second): from the end of the warm-up and of the last sign-in to
the step's last half second.
"""

from __future__ import annotations

import csv
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from loadtest.cpu import tree_cpu_seconds
from loadtest.request_names import SETUP_REQUESTS
from loadtest.scaling.workloads import Workload

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")
# One sample every 0.5 s (psql's \watch): sessions on CPU, waiting on a row or table lock, on an
# internal lock (LWLock), on I/O, idle inside a transaction; all client sessions; max_connections.
DB_ACTIVITY_SQL = (
    "SELECT count(*) FILTER (WHERE state = 'active' AND wait_event IS NULL), "
    "count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FILTER (WHERE wait_event_type = 'LWLock'), "
    "count(*) FILTER (WHERE wait_event_type = 'IO'), count(*) FILTER (WHERE state LIKE 'idle in transaction%'), "
    "count(*), current_setting('max_connections')::int FROM pg_stat_activity "
    "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
    "\\watch 0.5\n"
)
RATE_LIMITED = 429
# The shortest window a step is judged on, however long its sign-ins took.
MIN_WINDOW_SECONDS = 3.0


class Target(Protocol):
    """Where the app runs: stack_target.StackTarget or lab_target.LabTarget."""

    @property
    def url(self) -> str: ...

    @property
    def prometheus(self) -> str:
        """The URL of a Prometheus scraping the target, or "" (loadtest/scaling/observed.py)."""
        ...

    def roles(self) -> dict[str, str]:
        """{Prometheus instance: its host's role (app, db, lb, monitor)} for per-host figures."""
        ...

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by the parts: app (the active app servers), nginx, postgres."""
        ...

    def db_sampler(self, seconds: float) -> list[str]:
        """A command that runs DB_ACTIVITY_SQL (given on stdin) against the app's database for `seconds`."""
        ...

    def app_memory_mib(self) -> float:
        """The most memory one active app server uses (its process tree, or its whole host)."""
        ...

    def kill_app_server(self) -> None:
        """kill -9 of one active app server's service; its supervisor restarts it."""
        ...

    def wait_recovered(self) -> None:
        """Block until the killed server serves again (so the next point starts whole)."""
        ...


@dataclass
class DbActivity:
    """Mean PostgreSQL sessions in each state over a step's samples."""

    on_cpu: float = 0.0
    lock: float = 0.0
    lwlock: float = 0.0
    io: float = 0.0
    idle_in_transaction: float = 0.0
    connections: float = 0.0
    max_connections: int = 0
    samples: int = 0

    @classmethod
    def parse(cls, output: str) -> DbActivity:
        rows = [[int(v) for v in line.split("|")] for line in output.splitlines() if line.count("|") == 6]
        if not rows:
            return cls()
        on_cpu, lock, lwlock, io, idle, connections = (statistics.fmean(row[i] for row in rows) for i in range(6))
        return cls(on_cpu, lock, lwlock, io, idle, connections, max_connections=rows[-1][6], samples=len(rows))


@dataclass
class Step:
    users: int
    seconds: float = 0.0  # the measured window
    measured_from_s: float = 0.0  # where the window starts, in seconds from the step's start
    window: tuple[float, float] = (0.0, 0.0)  # the measured window, Unix time: what Prometheus is asked about
    # Sign-ins still ran in the window: it had to start before they ended to keep MIN_WINDOW_SECONDS, so its
    # figures mix the set-up with the steady state (the servers' own counters can stall on the hashes).
    unsettled: bool = False
    requests: int = 0
    errors: int = 0
    rate_limited: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # cores used: app, nginx, postgres, generator, machine
    db: DbActivity = field(default_factory=DbActivity)
    # (second of the step, requests that succeeded, requests that failed) for every second of the run.
    timeline: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def error_ratio(self) -> float:
        return self.errors / self.requests if self.requests else 1.0


def machine_busy_seconds() -> float:
    """CPU seconds this machine spent not idle, all cores (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = values[3], values[4]
    return (sum(values[:8]) - idle - iowait) / TICKS


def read_requests(workdir: Path) -> Iterator[tuple[float, str, int, float, bool]]:
    for path in workdir.glob("requests-*.csv"):
        with path.open(newline="") as rows:
            for at, name, status, ms, failed in csv.reader(rows):
                yield float(at), name, int(status), float(ms), failed == "1"


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summarise(
    step: Step, rows: list[tuple[float, str, int, float, bool]], started: float, window: tuple[float, float]
) -> None:
    """Fill `step` from the request log: the window's figures and the whole run's timeline."""
    times: list[float] = []
    per_second: dict[int, list[int]] = {}
    for at, name, status, ms, failed in rows:
        if name in SETUP_REQUESTS:
            continue
        limited = failed and status == RATE_LIMITED  # the edge's answer to one address posting fast
        if not limited:
            per_second.setdefault(int(at - started), [0, 0])[1 if failed else 0] += 1
        if not window[0] <= at < window[1]:
            continue
        if limited:
            step.rate_limited += 1
            continue
        step.requests += 1
        step.errors += failed
        times.append(ms)
    step.seconds = window[1] - window[0]
    step.rps = (step.requests - step.errors) / step.seconds
    step.p50_ms, step.p95_ms, step.p99_ms = (percentile(times, f) for f in (0.5, 0.95, 0.99))
    seconds = range(max(per_second, default=-1) + 1)
    step.timeline = [(s, per_second.get(s, [0, 0])[0], per_second.get(s, [0, 0])[1]) for s in seconds]


def setup_done(rows: list[tuple[float, str, int, float, bool]]) -> float:
    """When the last sign-in finished (a password hash per user, which would otherwise weigh on the steady
    state's latency and CPU); 0 for a workload without any."""
    return max((at for at, name, *_ in rows if name in SETUP_REQUESTS), default=0.0)


def window(rows: list[tuple[float, str, int, float, bool]], earliest: float, end: float) -> float:
    """Where the measured window starts: after the warm-up and half a second after the last sign-in, but
    no later than MIN_WINDOW_SECONDS before the end."""
    return min(max(earliest, setup_done(rows) + 0.5), end - MIN_WINDOW_SECONDS)


def run(
    target: Target,
    workload: Workload,
    users: int,
    seconds: float,
    workdir: Path,
    processes: int = 1,
    at: tuple[float, Callable[[], None]] | None = None,
) -> Step:
    """Closed-loop users (no think time) for `seconds`; `at` = (seconds in, action) runs during the step."""
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob("requests-*.csv"):
        stale.unlink()
    env = {
        **os.environ,
        "LOADTEST_THINK_SCALE": "0",
        "LOADTEST_REPORT_DIR": str(workdir),
        "LOADTEST_REQUEST_LOG": "1",
        "LOADTEST_MAX_P95_MS": "1e9",  # the bench judges the SLO itself
        "LOADTEST_MAX_ERROR_RATIO": "1",
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest/locustfile.py"), *workload.user_classes,
        "--headless", "--host", target.url, "--users", str(users), "--spawn-rate", str(users),
        "--run-time", f"{seconds:.0f}s", "--stop-timeout", "5", "--only-summary",
        *(["--tags", *workload.tags] if workload.tags else []),
        *(["--processes", str(processes)] if processes > 1 else []),
    ]  # fmt: skip
    step = Step(users)
    started = time.time()
    log = (workdir / "locust.log").open("w")
    locust = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    sampler = subprocess.Popen(
        target.db_sampler(seconds), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    sampled: list[str] = []
    reader = threading.Thread(target=lambda: sampled.append(sampler.communicate(DB_ACTIVITY_SQL)[0]), daemon=True)
    reader.start()
    action = threading.Timer(at[0], at[1]) if at else None
    # Cumulative CPU of every part, once a second: the window is chosen after the run, from the log.
    readings: list[tuple[float, dict[str, float]]] = []
    try:
        if action:
            action.start()
        end = started + seconds - 0.5
        while time.time() < end:
            parts = {
                **target.cpu_seconds(),
                "generator": tree_cpu_seconds(locust.pid),
                "machine": machine_busy_seconds(),
            }
            readings.append((time.time(), parts))
            time.sleep(max(0.0, min(1.0, end - time.time())))
        locust.wait(timeout=seconds + 60)
        reader.join(timeout=30)
        if action:
            action.join(timeout=60)
    finally:
        if action:
            action.cancel()
        for process in (locust, sampler):
            if process.poll() is None:
                process.kill()
                process.wait()
        log.close()
    rows = list(read_requests(workdir))
    start = window(rows, started + min(workload.warmup_seconds, seconds / 2), readings[-1][0])
    first = next(reading for reading in readings if reading[0] >= start)
    last = readings[-1]
    step.cpu = {name: (last[1][name] - first[1][name]) / (last[0] - first[0]) for name in last[1]}
    summarise(step, rows, started, (first[0], last[0]))
    step.measured_from_s = first[0] - started
    step.window = (first[0], last[0])
    step.unsettled = setup_done(rows) > first[0]
    step.db = DbActivity.parse(sampled[0] if sampled else "")
    return step
