"""`make bench-scaling`: a bigger server or more servers? Measured on this machine.

A "unit" is a CPU quota (cgroup) of UNIT CPUs. Vertical: one app server with 1..N units (and workers
scaled with them, as on a bigger box). Horizontal: 1..N app servers of one unit each behind nginx.
nginx, PostgreSQL and the load generator run outside the caps; their CPU is measured, so the report
can say when they, not the app, are the wall. For each point a step load (closed-loop users, no think
time, the anonymous front page) finds the highest throughput whose p95 stays under the SLO with
< 0.1% errors. A point whose load generator used >= 90% of a core is marked invalid. A raw-WSGI
speed-of-light page (loadtest/speed_of_light.py) is measured on one unit too.

Knobs (environment): UNIT=0.25 POINTS=4 SLO_P95_MS=500 STEP_SECONDS=15 WORKERS_PER_UNIT=2 QUICK=1
(2 points per line, short steps). Output: loadtest/reports/<timestamp>-scaling/{results.csv,scaling.png,report.md}.
Traffic goes only to 127.0.0.1; every step is bounded in time; caps and processes go on exit.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.local import stack as local_stack  # noqa: E402 - needs the sys.path line above
from deploy.local.cpu_cap import CpuCap, check_available  # noqa: E402
from loadtest import speed_of_light  # noqa: E402
from loadtest.cpu import tree_cpu_seconds  # noqa: E402
from loadtest.report_dir import report_dir  # noqa: E402

GENERATOR_LIMIT = 0.9
WARMUP_SECONDS = 2.0  # Locust's start-up and user spawning, left out of the CPU window
MAX_ERROR_RATIO = 0.001
# nginx, PostgreSQL, app servers from +2 up, the raw-WSGI reference at +19: clear of `make stack-up`'s.
BENCH_PORTS = 18480
SPEED_OF_LIGHT_PORT = BENCH_PORTS + 19


@dataclass
class Settings:
    unit: float = 0.25
    points: int = 4
    # A quarter-CPU unit turns the front page's ~25 ms of CPU into ~100 ms per request; 500 ms leaves
    # room for a few requests in flight per unit.
    slo_p95_ms: float = 500
    step_seconds: float = 15
    workers_per_unit: int = 2
    quick: bool = False
    seed_posts: int = 5000

    @classmethod
    def from_env(cls) -> Settings:
        quick = os.environ.get("QUICK", "") not in ("", "0")
        settings = cls(
            unit=float(os.environ.get("UNIT", "0.25")),
            points=int(os.environ.get("POINTS", "2" if quick else "4")),
            slo_p95_ms=float(os.environ.get("SLO_P95_MS", "500")),
            step_seconds=float(os.environ.get("STEP_SECONDS", "4" if quick else "15")),
            workers_per_unit=int(os.environ.get("WORKERS_PER_UNIT", "2")),
            quick=quick,
            seed_posts=int(os.environ.get("SEED_POSTS", "500" if quick else "5000")),
        )
        if not 0 < settings.unit <= 1 or not 1 <= settings.points <= 8:
            raise SystemExit("error: UNIT must be in (0, 1] and POINTS in 1..8")
        return settings

    def user_steps(self, units: int) -> list[int]:
        factors = (1, 2, 4) if self.quick else (1, 2, 3, 4, 6, 8, 12)
        return [units * factor for factor in factors]


@dataclass
class Point:
    line: str
    units: int
    app_servers: int
    workers_per_server: int
    users: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    error_ratio: float = 0.0
    app_cpu: float = 0.0
    nginx_cpu: float = 0.0
    postgres_cpu: float = 0.0
    generator_cpu: float = 0.0
    valid: bool = False
    note: str = ""


def log(message: str) -> None:
    print(f"[{datetime.now(tz=UTC):%H:%M:%S}] {message}", flush=True)


def run_step(url: str, users: int, seconds: float, workdir: Path, roots: dict[str, list[int]]) -> dict[str, float]:
    """One closed-loop Locust run against `url`: its summary, plus the cores each part used (the load
    generator included) in a window that skips Locust's start-up and wind-down."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "LOADTEST_THINK_SECONDS": "0,0",
        "LOADTEST_REPORT_DIR": str(workdir),
        "LOADTEST_MAX_P95_MS": "1e9",  # the bench judges the SLO itself
        "LOADTEST_MAX_ERROR_RATIO": "1",
    }
    command = [
        str(ROOT / ".venv/bin/locust"), "-f", str(ROOT / "loadtest/locustfile.py"), "Reader",
        "--headless", "--host", url, "--users", str(users), "--spawn-rate", str(users),
        "--run-time", f"{seconds:.0f}s", "--stop-timeout", "5", "--only-summary", "--tags", "front",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(WARMUP_SECONDS)
        parts = {**roots, "generator": [process.pid]}
        before = {name: tree_cpu_seconds(*pids) for name, pids in parts.items()}
        window_start = time.monotonic()
        time.sleep(max(1.0, seconds - WARMUP_SECONDS))
        window = time.monotonic() - window_start
        cpu = {name: (tree_cpu_seconds(*pids) - before[name]) / window for name, pids in parts.items()}
        process.wait(timeout=seconds + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    summary = json.loads((workdir / "summary.json").read_text())
    return {**summary, **{f"{name}_cpu": value for name, value in cpu.items()}}


def measure(
    line: str,
    units: int,
    servers: list[int],
    nginx_pid: int,
    db_pid: int,
    url: str,
    settings: Settings,
    workdir: Path,
) -> Point:
    """The step load against one configuration; the best step within the SLO is the point."""
    point = Point(line, units, len(servers), 0)
    # The load generator (Locust) and nginx, PostgreSQL run uncapped; their CPU is measured with the app's.
    roots = {"app": servers, "nginx": [nginx_pid] if nginx_pid else [], "postgres": [db_pid]}
    for users in settings.user_steps(units):
        step = run_step(url, users, settings.step_seconds, workdir / f"{line}-{units}u-{users}users", roots)
        cpu = {name: step[f"{name}_cpu"] for name in roots}
        within = step["p95_ms"] <= settings.slo_p95_ms and step["error_ratio"] < MAX_ERROR_RATIO
        generator_ok = step["generator_cpu"] < GENERATOR_LIMIT
        log(
            f"  {line:10} {units} unit(s) {users:3} users: {step['rps']:7.1f} req/s p95 {step['p95_ms']:5.0f} ms "
            f"errors {step['error_ratio']:.3%} | CPU app {cpu['app']:.2f} nginx {cpu['nginx']:.2f} "
            f"pg {cpu['postgres']:.2f} generator {step['generator_cpu']:.2f}"
            + ("" if within else "  (over SLO)")
            + ("" if generator_ok else "  (generator saturated)")
        )
        if within and step["rps"] > point.rps:
            point = Point(
                line, units, len(servers), 0, users, step["rps"], step["p50_ms"], step["p95_ms"], step["p99_ms"],
                step["error_ratio"], cpu["app"], cpu["nginx"], cpu["postgres"], step["generator_cpu"],
                valid=generator_ok, note="" if generator_ok else "load generator saturated",
            )  # fmt: skip
        if not within:
            break
    if not point.users:
        point.note = "no step met the SLO"
    return point


def with_stack(directory: Path, app_servers: int, cpus: float, workers: int, settings: Settings) -> local_stack.Stack:
    return local_stack.up(
        directory,
        topology="split",
        app_servers=app_servers,
        port=BENCH_PORTS,
        first_app_port=BENCH_PORTS + 2,
        database_port=BENCH_PORTS + 1,
        workers=workers,
        cpus_per_server=cpus,
        seed=(50, settings.seed_posts, settings.seed_posts * 3),
        extra_env=local_stack.BENCHMARK_ENV,
    )


def measure_line_point(line: str, units: int, settings: Settings, directory: Path, workdir: Path) -> Point:
    if line == "vertical":
        servers, cpus, workers = 1, units * settings.unit, settings.workers_per_unit * units
    else:
        servers, cpus, workers = units, settings.unit, settings.workers_per_unit
    stack = with_stack(directory, servers, cpus, workers, settings)
    try:
        point = measure(
            line, units, [s.pid for s in stack.app_servers], stack.nginx_pid, stack.cluster.postmaster_pid(),
            stack.url("").rstrip("/"), settings, workdir,
        )  # fmt: skip
        point.workers_per_server = workers
        return point
    finally:
        local_stack.down(directory)


def measure_speed_of_light(settings: Settings, directory: Path, workdir: Path) -> tuple[Point, Point]:
    """Django and the raw-WSGI page, each on one unit, each hit directly (no nginx), same method."""
    stack = with_stack(directory, 1, settings.unit, settings.workers_per_unit, settings)
    cap = CpuCap(f"{directory.name}-speed-of-light", settings.unit)
    try:
        cap.create()
        with speed_of_light.serving(stack.app_env(), SPEED_OF_LIGHT_PORT, settings.workers_per_unit, cap.join) as pid:
            db = stack.cluster.postmaster_pid()
            app = stack.app_servers[0]
            django = measure("django", 1, [app.pid], 0, db, app.url("").rstrip("/"), settings, workdir)
            raw = measure("raw-wsgi", 1, [pid], 0, db, f"http://127.0.0.1:{SPEED_OF_LIGHT_PORT}", settings, workdir)
        for point in (django, raw):
            point.workers_per_server = settings.workers_per_unit
        return django, raw
    finally:
        cap.remove()
        local_stack.down(directory)


def write_csv(points: list[Point], path: Path) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=[f.name for f in fields(Point)])
        writer.writeheader()
        writer.writerows(asdict(point) for point in points)


def plot(points: list[Point], settings: Settings, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (throughput, p95, efficiency) = plt.subplots(1, 3, figsize=(15, 4.5))
    top_efficiency = 1.3
    for line, style in (("vertical", "o-"), ("horizontal", "s--")):
        series = [p for p in points if p.line == line and p.valid]
        if not series:
            continue
        units = [p.units for p in series]
        one_unit = next((p.rps for p in series if p.units == 1), series[0].rps / series[0].units)
        throughput.plot(units, [p.rps for p in series], style, label=line)
        p95.plot(units, [p.p95_ms for p in series], style, label=line)
        ratios = [p.rps / (p.units * one_unit) for p in series]
        top_efficiency = max(top_efficiency, max(ratios) * 1.1)
        efficiency.plot(units, ratios, style, label=line)
    throughput.set(title="Throughput within the SLO", xlabel=f"units ({settings.unit} CPU each)", ylabel="req/s")
    p95.set(title="p95 at that throughput", xlabel="units", ylabel="ms")
    p95.axhline(settings.slo_p95_ms, color="grey", linestyle=":", label="SLO")
    efficiency.set(title="Efficiency = rps / (units x one-unit rps)", xlabel="units", ylim=(0, top_efficiency))
    for axis in (throughput, p95, efficiency):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def _pairs(points: list[Point]) -> list[tuple[Point, Point]]:
    """(vertical, horizontal) points measured at the same number of units, both valid."""
    vertical = {p.units: p for p in points if p.line == "vertical" and p.valid}
    horizontal = {p.units: p for p in points if p.line == "horizontal" and p.valid}
    return [(vertical[u], horizontal[u]) for u in sorted(vertical.keys() & horizontal.keys()) if u > 1]


def explain(points: list[Point], settings: Settings, sol: tuple[Point, Point]) -> list[str]:
    """Plain words for what the numbers say: where each line bends and what the wall was."""
    words = []
    for line in ("vertical", "horizontal"):
        series = sorted((p for p in points if p.line == line and p.valid), key=lambda p: p.units)
        if len(series) < 2:
            words.append(f"- **{line}**: too few valid points to say how it scales.")
            continue
        one = series[0].rps / series[0].units
        bend = next((p for p in series if p.rps / (p.units * one) < 0.8), None)
        last = series[-1]
        quota = last.units * settings.unit
        walls = {
            "the app servers' CPU quota": last.app_cpu / quota,
            "PostgreSQL's CPU": last.postgres_cpu,
            "nginx's CPU": last.nginx_cpu,
            "the load generator": last.generator_cpu / GENERATOR_LIMIT,
        }
        wall = max(walls, key=lambda name: walls[name])
        efficiency = last.rps / (last.units * one)
        if bend is None:
            words.append(
                f"- **{line}**: near-linear up to {last.units} units ({last.rps:.0f} req/s, efficiency "
                f"{efficiency:.2f}); at the top the app used {last.app_cpu:.2f} of its {quota:.2f} CPU quota, "
                f"so {wall} is what the next unit would buy more of."
            )
        else:
            words.append(
                f"- **{line}**: bends at {bend.units} units (efficiency {bend.rps / (bend.units * one):.2f}); at "
                f"{last.units} units it serves {last.rps:.0f} req/s. The busiest part there was {wall} "
                f"(app {last.app_cpu:.2f}/{quota:.2f} CPU, PostgreSQL {last.postgres_cpu:.2f}, nginx "
                f"{last.nginx_cpu:.2f}, generator {last.generator_cpu:.2f} of a core)."
            )
    for v, h in _pairs(points):
        units = v.units
        better = "one bigger server" if v.rps > h.rps else "more servers"
        words.append(
            f"- At {units} units, {better} wins: vertical {v.rps:.0f} vs horizontal {h.rps:.0f} req/s "
            f"({max(v.rps, h.rps) / max(min(v.rps, h.rps), 0.001):.2f}x)."
        )
    if any(v.rps > 1.1 * h.rps for v, h in _pairs(points)):
        words.append(
            "- Why the bigger server wins where it does: its workers share one quota, so a busy worker can use "
            "CPU another leaves idle; separate servers cannot lend each other idle CPU, and round-robin keeps "
            "sending requests to a server that is momentarily behind. More servers buy redundancy, not speed."
        )
    django, raw = sol
    if django.rps and raw.rps:
        words.append(
            f"- Speed of light on one unit: the raw-WSGI front page serves {raw.rps:.0f} req/s, Django "
            f"{django.rps:.0f} req/s: Django runs at **{django.rps / raw.rps:.2f}x** of it (direct, no nginx)."
        )
    return words


def report(points: list[Point], settings: Settings, sol: tuple[Point, Point], path: Path) -> None:
    header = (
        "| line | units | servers x workers | users | req/s | p50 | p95 | p99 | errors | CPU app/nginx/pg/gen | valid |"
    )
    rows = [
        f"| {p.line} | {p.units} | {p.app_servers} x {p.workers_per_server} | {p.users} | {p.rps:.1f} | "
        f"{p.p50_ms:.0f} | {p.p95_ms:.0f} | {p.p99_ms:.0f} | {p.error_ratio:.2%} | "
        f"{p.app_cpu:.2f}/{p.nginx_cpu:.2f}/{p.postgres_cpu:.2f}/{p.generator_cpu:.2f} | "
        f"{'yes' if p.valid else 'no: ' + p.note} |"
        for p in [*points, *sol]
    ]
    text = [
        "# Vertical vs horizontal scaling",
        "",
        f"One unit = {settings.unit} CPU (cgroup quota). SLO: p95 <= {settings.slo_p95_ms:.0f} ms, errors < 0.1%. "
        f"Step load of closed-loop users on the anonymous front page, {settings.step_seconds:.0f} s per step"
        f"{' (QUICK mode)' if settings.quick else ''}. nginx, PostgreSQL and Locust run uncapped; their CPU "
        "is in cores used during the best step.",
        "",
        "## What the numbers say",
        "",
        *explain(points, settings, sol),
        "",
        "## Results",
        "",
        header,
        "|" + "---|" * 11,
        *rows,
        "",
        "![scaling](scaling.png)",
        "",
    ]
    path.write_text("\n".join(text))


def main() -> int:
    # SIGTERM (e.g. from a CI timeout) unwinds like Ctrl-C, so every `finally` removes caps and processes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    settings = Settings.from_env()
    try:
        check_available()
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        print("error: nginx not found: sudo apt-get install nginx", file=sys.stderr)
        return 1
    out = report_dir("scaling")
    directory = Path(os.environ.get("BENCH_STACK_DIR", ROOT / ".var" / "bench-stack"))
    log(f"bench-scaling: unit {settings.unit} CPU, {settings.points} points per line, SLO p95 {settings.slo_p95_ms} ms")
    points: list[Point] = []
    for units in range(1, settings.points + 1):
        for line in ("vertical", "horizontal"):
            if line == "horizontal" and units == 1:
                # One server of one unit is the same configuration on both lines: measure it once.
                points.append(Point(**{**asdict(points[-1]), "line": "horizontal"}))
                continue
            log(f"{line}: {units} unit(s)")
            points.append(measure_line_point(line, units, settings, directory, out / "steps"))
    log("speed of light: Django vs raw WSGI on one unit")
    sol = measure_speed_of_light(settings, directory, out / "steps")
    write_csv([*points, *sol], out / "results.csv")
    plot(points, settings, out / "scaling.png")
    report(points, settings, sol, out / "report.md")
    log(f"bench-scaling: report in {out}/report.md")
    print((out / "report.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
