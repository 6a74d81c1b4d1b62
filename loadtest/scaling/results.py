"""A point of a line (the best step within the SLO), how its steps are searched, and what its wall was."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.scaling import steps
from loadtest.scaling.settings import Settings
from loadtest.scaling.workloads import Workload

MAX_ERROR_RATIO = 0.001
# A load generator process at this share of its one core, or the machine at this share of all its
# cores, no longer measures the servers: the point is invalid.
GENERATOR_LIMIT = 0.9
MACHINE_LIMIT = 0.9
# A part used this share of what it has: it is the wall.
SATURATED = 0.9
# The search stops early once throughput has levelled off: this many steps in a row that add less
# than PLATEAU_GAIN to the best one (more users past that point only wait in queues).
PLATEAU_STEPS = 2
PLATEAU_GAIN = 1.03
CORES = os.cpu_count() or 1


@dataclass
class Point:
    workload: str
    line: str
    units: int
    servers: int
    workers: int  # per server
    cpus: float  # quota per server
    users: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    error_ratio: float = 0.0
    rate_limited: int = 0
    app_cpu: float = 0.0
    nginx_cpu: float = 0.0
    postgres_cpu: float = 0.0
    generator_cpu: float = 0.0
    machine_cpu: float = 0.0
    app_memory_mib: float = 0.0
    db_on_cpu: float = 0.0
    db_lock_waits: float = 0.0
    db_lwlock_waits: float = 0.0
    db_io_waits: float = 0.0
    db_idle_in_transaction: float = 0.0
    db_connections: float = 0.0
    db_max_connections: int = 0
    wall: str = ""
    valid: bool = False
    note: str = ""
    app_instance: str = ""
    usd_per_hour: float = 0.0
    usd_per_million: float = 0.0
    window: tuple[float, float] = (0.0, 0.0)  # the best step's measured window, Unix time
    # What the target's Prometheus saw in that window (loadtest/scaling/observed.py); empty without one.
    observed: dict[str, float] = field(default_factory=dict)
    step_log: list[dict[str, float]] = field(default_factory=list, repr=False)

    @property
    def app_utilisation(self) -> float:
        return self.app_cpu / (self.servers * self.cpus)

    def take(self, step: steps.Step) -> None:
        self.users, self.rps = step.users, step.rps
        self.p50_ms, self.p95_ms, self.p99_ms = step.p50_ms, step.p95_ms, step.p99_ms
        self.error_ratio, self.rate_limited = step.error_ratio, step.rate_limited
        cpu = step.cpu
        self.app_cpu, self.nginx_cpu, self.postgres_cpu = cpu["app"], cpu["nginx"], cpu["postgres"]
        self.generator_cpu, self.machine_cpu = cpu["generator"], cpu["machine"]
        db = step.db
        self.db_on_cpu, self.db_lock_waits, self.db_lwlock_waits = db.on_cpu, db.lock, db.lwlock
        self.db_io_waits, self.db_idle_in_transaction = db.io, db.idle_in_transaction
        self.db_connections, self.db_max_connections = db.connections, db.max_connections
        self.window = step.window


def invalid_because(step: steps.Step, processes: int) -> str:
    if step.unsettled:
        return "sign-ins ran into the measured window (a longer STEP_SECONDS gives them time)"
    if step.cpu["generator"] >= GENERATOR_LIMIT * processes:
        return f"load generator saturated ({step.cpu['generator']:.2f} of {processes} core(s))"
    if step.cpu["machine"] >= MACHINE_LIMIT * CORES:
        return f"machine saturated ({step.cpu['machine']:.2f} of {CORES} cores busy)"
    return ""


def name_wall(point: Point) -> str:
    """What stopped this point, judged from what each part used and what PostgreSQL's sessions waited on."""
    if not point.valid:
        return "this machine or the load generator (invalid)"
    if point.app_utilisation >= SATURATED:
        return "app CPU"
    active = point.db_on_cpu + point.db_lock_waits + point.db_lwlock_waits + point.db_io_waits
    if point.db_lock_waits >= 0.5 and point.db_lock_waits >= 0.3 * active:
        return "row locks"
    if point.db_max_connections and point.db_connections >= SATURATED * point.db_max_connections:
        return "connections"
    if point.postgres_cpu >= SATURATED:
        return "PostgreSQL CPU"
    if point.nginx_cpu >= SATURATED:
        return "nginx CPU"
    return "latency: the SLO broke before any part was saturated"


def search(target: steps.Target, workload: Workload, point: Point, settings: Settings, workdir: Path) -> Point:
    """Closed-loop steps of more users until p95 or errors break the SLO, or throughput levels off; the best
    step within the SLO is the point."""
    best: steps.Step | None = None
    flat = 0
    for users in settings.user_steps(point.units, workload.fewest_users):
        # The warm-up (and the mix's sign-ins) comes first; STEP_SECONDS is the steady part measured after it.
        step = steps.run(target, workload, users, workload.warmup_seconds + settings.step_seconds,
                         workdir / f"{workload.name}-{point.line}-{point.units}u-{users}users",
                         settings.locust_processes)  # fmt: skip
        within = step.p95_ms <= settings.slo_p95_ms and step.error_ratio < MAX_ERROR_RATIO and step.requests > 0
        invalid = invalid_because(step, settings.locust_processes)
        point.step_log.append({"users": users, "rps": step.rps, "p95_ms": step.p95_ms, "error_ratio": step.error_ratio,
                            "within_slo": within, **{f"{k}_cpu": v for k, v in step.cpu.items()}})  # fmt: skip
        print(
            f"    {workload.name:5} {point.line:10} {point.units}u {users:3} users: {step.rps:6.1f} req/s "
            f"p95 {step.p95_ms:5.0f} ms errors {step.error_ratio:6.2%} | CPU app {step.cpu['app']:.2f} "
            f"nginx {step.cpu['nginx']:.2f} pg {step.cpu['postgres']:.2f} gen {step.cpu['generator']:.2f} "
            f"machine {step.cpu['machine']:.2f} | pg sessions cpu {step.db.on_cpu:.1f} lock {step.db.lock:.1f}"
            + ("" if within else "  (over SLO)")
            + (f"  ({invalid})" if invalid else ""),
            flush=True,
        )
        flat = flat + 1 if best is not None and step.rps < PLATEAU_GAIN * best.rps else 0
        if within and (best is None or step.rps > best.rps):
            best = step
            point.note = invalid
        if not within or flat >= PLATEAU_STEPS:
            break
    if best is None:
        point.note = "no step met the SLO"
        return point
    point.take(best)
    point.valid = not point.note
    point.app_memory_mib = target.app_memory_mib()
    point.wall = name_wall(point)
    return point
