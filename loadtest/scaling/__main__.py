"""python -m loadtest.scaling (`make bench-scaling`): see loadtest/scaling/__init__.py."""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path

from deploy.lab import lab as lab_module
from deploy.lab.lab import LabError
from deploy.local.cpu_cap import CpuCapError, check_available
from deploy.local.stack import StackError
from loadtest.progress import log
from loadtest.report_dir import report_dir
from loadtest.scaling import cost, failure, observed, report
from loadtest.scaling.lab_target import LabTarget, LabTargetError
from loadtest.scaling.results import Point, search
from loadtest.scaling.settings import Settings, SettingsError
from loadtest.scaling.stack_target import StackTarget
from loadtest.scaling.workloads import WORKLOADS

ROOT = Path(__file__).resolve().parents[2]
FAILURE_SECONDS = 45
QUICK_FAILURE_SECONDS = 16


def configurations(points: int, quick: bool = False) -> list[tuple[str, int]]:
    """The order the lab changes least in: horizontal from the largest point down to one server (the
    one-unit point both lines share), then that server grown; then the cached line, the horizontal one with
    nginx's microcache on (QUICK: its largest point only)."""
    cached = [points] if quick else range(1, points + 1)
    return (
        [("horizontal", n) for n in range(points, 1, -1)]
        + [("vertical", n) for n in range(1, points + 1)]
        + [("cached", n) for n in cached]
    )


def shape(line: str, units: int, settings: Settings) -> tuple[int, float, int]:
    """(servers, CPUs per server, workers per server) of a point; the cached line's are the horizontal's."""
    if line == "vertical":
        return 1, units * settings.unit, units * settings.workers_per_unit
    return units, settings.unit, settings.workers_per_unit


def preflight(settings: Settings) -> None:
    """Say what is missing before anything starts."""
    check_available()
    if settings.target == "stack" and not any(Path(p, "nginx").exists() for p in ("/usr/sbin", "/usr/bin")):
        raise StackError("nginx not found: apt-get install nginx (or scripts/install-system-packages.sh)")
    if settings.target == "lab":
        lab_module.require_tools()
        if lab_module.running_hosts():
            raise LabError("a lab is running: the bench boots its own; `make lab-down` first")


def measure(
    settings: Settings, target: StackTarget | LabTarget, out: Path
) -> tuple[list[Point], list[failure.Failure]]:
    points: list[Point] = []
    failures: list[failure.Failure] = []
    failure_seconds = QUICK_FAILURE_SECONDS if settings.quick else FAILURE_SECONDS
    for line, units in configurations(settings.points, settings.quick):
        servers, cpus, workers = shape(line, units, settings)
        log(f"{line}: {units} unit(s) = {servers} server(s) x {cpus:g} CPU, {workers} workers each")
        target.configure(servers, cpus, workers, microcache=line == "cached")
        for name in settings.workloads:
            workload = WORKLOADS[name]
            point = search(target, workload, Point(name, line, units, servers, workers, cpus), settings, out / "steps")
            bill = cost.price(servers, cpus, point.app_memory_mib, {"app": point.app_cpu, "nginx": point.nginx_cpu,
                              "postgres": point.postgres_cpu}, point.rps)  # fmt: skip
            point.app_instance, point.usd_per_hour, point.usd_per_million = (
                bill.app_instance,
                bill.usd_per_hour,
                bill.usd_per_million,
            )
            if target.prometheus and point.users:
                try:
                    point.observed = observed.read(target.prometheus, point.window, target.roles())
                except OSError as exc:
                    log(f"  {name}: Prometheus at {target.prometheus} did not answer ({exc}): no figures from it")
            points.append(point)
            if line == "vertical" and units == 1:  # one server of one unit: the same point on both lines
                points.append(Point(**{**asdict(point), "line": "horizontal"}))
            # A server dies: on every horizontal point of 2+ servers, and on the largest single server
            # (QUICK: only horizontal, only the first workload). Not on the cached line: the kill measures
            # the app path, and cached readers would hide it.
            full = not settings.quick
            killed = servers > 1 or (units == settings.points and full)
            if point.users and line != "cached" and killed and (full or not failures):
                log(f"  {name}: kill -9 of one app server at {point.users} users")
                workdir = out / "steps" / f"{name}-{line}-{units}u-kill"
                failures.append(failure.run(target, workload, (line, units, servers), point.users, failure_seconds,
                                            workdir, settings.locust_processes))  # fmt: skip
                kept = failures[-1]
                log(
                    f"  kept {kept.kept:.0%} of {kept.before_rps:.0f} req/s, {kept.errors} errors, recovered "
                    + (
                        f"{kept.recovery_s:.0f} s after the kill"
                        if kept.recovery_s is not None
                        else "not within the step"
                    )
                )
    return points, failures


def main() -> int:
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so every `finally` removes caps, processes and hosts.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows in a log file as it runs
    try:
        settings = Settings.from_env()
        preflight(settings)
    except (SettingsError, CpuCapError, StackError, LabError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = report_dir("scaling")
    started = time.monotonic()
    log(f"bench-scaling: TARGET={settings.target}, unit {settings.unit} CPU, {settings.points} points per line, "
        f"workloads {', '.join(settings.workloads)}, SLO p95 {settings.slo_p95_ms:g} ms; report in {out}")  # fmt: skip
    if settings.target == "lab":
        target: StackTarget | LabTarget = LabTarget(settings, out)
    else:
        target = StackTarget(settings, Path(os.environ.get("BENCH_STACK_DIR", ROOT / ".var" / "bench-stack")))
    try:
        target.prepare()
        points, failures = measure(settings, target, out)
    except (LabError, LabTargetError, StackError, CpuCapError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        target.close()
    minutes = (time.monotonic() - started) / 60
    report.write(out, settings, target.describe(), points, failures, minutes)
    log(f"bench-scaling: {minutes:.0f} min; report in {out}/report.md")
    print((out / "report.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
