"""A server dies mid-step: kill -9 of one app server's service at the SLO load, and what the users saw.

The supervisor (systemd's Restart=, or the bench in its place on the stack) starts it again after
RestartSec. From the step's per-second log: throughput before the kill, the share of it kept until the
servers are back, the failed requests, and the recovery time (from the kill to the first three seconds
in a row at >= 90 % of the throughput before it).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from loadtest.scaling import steps
from loadtest.scaling.workloads import Workload

RECOVERED = 0.9
RECOVERED_SECONDS = 3


@dataclass
class Failure:
    workload: str
    line: str
    units: int
    servers: int
    users: int
    before_rps: float = 0.0
    kept: float = 0.0  # mean throughput from the kill until recovery, as a share of before_rps
    errors: int = 0
    requests: int = 0
    recovery_s: float | None = None  # None: not back within the step
    kill_at_s: float = 0.0


def analyse(failure: Failure, timeline: list[tuple[int, int, int]], steady_from: float, kill_at: float) -> Failure:
    """`steady_from`: seconds into the step when the warm-up and the sign-ins were over."""
    ok = [row[1] for row in timeline]
    kill = int(kill_at)
    before = ok[math.ceil(steady_from) : kill]
    failure.before_rps = statistics.fmean(before) if before else 0.0
    failure.errors = sum(row[2] for row in timeline[kill:])
    failure.requests = sum(row[1] + row[2] for row in timeline[kill:])
    failure.kill_at_s = kill_at
    threshold = RECOVERED * failure.before_rps
    back = next(
        (s for s in range(kill + 1, len(ok) - RECOVERED_SECONDS + 1)
         if all(v >= threshold for v in ok[s : s + RECOVERED_SECONDS])),
        None,
    )  # fmt: skip
    failure.recovery_s = None if back is None else back - kill_at
    # From the second after the kill's (partly before it) until recovery; at least that one second.
    during = ok[kill + 1 : max(back if back is not None else len(ok), kill + 2)]
    failure.kept = statistics.fmean(during) / failure.before_rps if during and failure.before_rps else 0.0
    return failure


def run(
    target: steps.Target,
    workload: Workload,
    point: tuple[str, int, int],
    users: int,
    seconds: float,
    workdir: Path,
    processes: int,
) -> Failure:
    """One step of `seconds` at `users`; one app server killed a third of the way in."""
    line, units, servers = point
    kill_at = float(max(int(workload.warmup_seconds) + 3, int(seconds // 3)))
    step = steps.run(target, workload, users, seconds, workdir, processes, at=(kill_at, target.kill_app_server))
    target.wait_recovered()
    steady_from = min(step.measured_from_s, kill_at - 1)
    return analyse(Failure(workload.name, line, units, servers, users), step.timeline, steady_from, kill_at)
