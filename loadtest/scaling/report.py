"""The bench's output: results.csv, steps.csv, failures.csv, five plots and report.md, conclusion first."""

from __future__ import annotations

import csv
import math
import os
import platform
import subprocess
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path

from deploy.ansible.inventory import GROUPS
from deploy.local.cpu_cap import PERIOD_US
from loadtest.scaling import cost, observed, usl
from loadtest.scaling.failure import Failure
from loadtest.scaling.results import Point
from loadtest.scaling.settings import Settings
from loadtest.scaling.workloads import WORKLOADS

ROOT = Path(__file__).resolve().parents[2]
LINES = {
    "vertical": "one bigger server",
    "horizontal": "more one-unit servers",
    "cached": "more one-unit servers, nginx's microcache on",
}
STYLES = {"vertical": "o-", "horizontal": "s--", "cached": "^-."}
# The lines that measure the app path; the cached line shows what the microcache changes.
APP_PATH = ("vertical", "horizontal")
# Within this ratio the two lines are reported as serving the same.
SAME = 1.03


# -- what the numbers say --------------------------------------------------------------------------------
def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def line_points(points: list[Point], workload: str, line: str, valid_only: bool = True) -> list[Point]:
    return sorted(
        (p for p in points if p.workload == workload and p.line == line and (p.valid or not valid_only) and p.rps),
        key=lambda p: p.units,
    )


def fits(points: list[Point], settings: Settings) -> dict[tuple[str, str], usl.Fit | None]:
    return {
        (workload, line): usl.fit([p.units for p in series], [p.rps for p in series])
        for workload in settings.workloads
        for line in LINES
        for series in [line_points(points, workload, line)]
    }


def efficiency(points: list[Point], workload: str, line: str) -> float | None:
    series = line_points(points, workload, line)
    if len(series) < 2 or series[0].units != 1:
        return None
    return series[-1].rps / (series[-1].units * series[0].rps)


def describe_config(p: Point) -> str:
    size = f"{p.cpus:g} CPU, {p.workers} workers"
    return f"{p.servers} x {p.app_instance} app server{'s' if p.servers > 1 else ''} ({size})"


def frontier(options: list[tuple[float, float, Point]]) -> list[tuple[float, float, Point]]:
    """(capacity, cost, point) options no other option beats on both: more capacity costs more along it."""
    best: list[tuple[float, float, Point]] = []
    for capacity, price, point in sorted(options, key=lambda o: (o[1], -o[0])):
        if not best or capacity > best[-1][0]:
            best.append((capacity, price, point))
    return best


def buying_guide(points: list[Point], failures: list[Failure], workload: str) -> list[str]:
    """Cheapest measured setup for each load, and the same when it must survive losing a server (the app
    path: cache_words says what the microcache adds)."""
    valid = [
        p
        for p in points
        if p.workload == workload
        and p.valid
        and p.rps
        and p.line in APP_PATH
        and not (p.line == "horizontal" and p.units == 1)
    ]
    if not valid:
        return [f"- No valid point for {WORKLOADS[workload].title}: nothing to recommend."]
    kept = {(f.line, f.units): f.kept for f in failures if f.workload == workload}
    words = []
    for title, options in (
        ("at the lowest price", [(p.rps, p.usd_per_hour, p) for p in valid]),
        ("still serving after one app server dies", [
            (p.rps * kept[(p.line, p.units)], p.usd_per_hour, p) for p in valid
            if p.servers > 1 and (p.line, p.units) in kept]),
    ):  # fmt: skip
        steps = frontier(options)
        if not steps:
            words.append(f"- {sentence(title)}: no measured setup kept serving through a kill.")
            continue
        low = 0.0
        parts = []
        for capacity, price, point in steps:
            parts.append(
                f"{low:.0f}-{capacity:.0f} req/s: {describe_config(point)} behind one load balancer, "
                f"{price:.3f} USD/h ({point.usd_per_million:.2f} USD per million requests at that load)"
            )
            low = capacity
        words.append(f"- {sentence(title)}: " + "; ".join(parts) + ".")
    return words


def shared_ceilings(points: list[Point], workload: str, prices: cost.Prices) -> list[str]:
    """Where the shared servers would be full, from their CPU per request at the largest horizontal point:
    the load past which more app servers stop helping, whatever the USL says."""
    series = line_points(points, workload, "horizontal")
    if not series or not series[-1].rps:
        return []
    top = series[-1]
    parts = []
    for name, kind, used in (("PostgreSQL", "db", top.postgres_cpu), ("nginx", "lb", top.nginx_cpu)):
        instance = prices.instances[prices.defaults[kind]]
        per_request = used / top.rps
        if per_request > 0:
            ceiling = instance.vcpus / per_request
            parts.append(
                f"{name} used {1000 * per_request:.2f} ms of CPU per request, so Terraform's {kind} server "
                f"({instance.name}, {instance.vcpus} vCPUs) would be full at ~{ceiling:.0f} req/s "
                f"(~{ceiling / series[0].rps:.0f} one-unit app servers)"
            )
    return [f"- Past this machine: {'; '.join(parts)}. Beyond that, more app servers stop helping."] if parts else []


def usl_words(fit: usl.Fit | None) -> str:
    if fit is None:
        return "too few valid points to fit"
    peak = "none (no coherency cost measured)" if math.isinf(fit.peak_n) else f"{fit.peak_n:.1f} units"
    last = fit.last_useful_n
    return (
        f"sigma {fit.sigma:.3f}, kappa {fit.kappa:.4f}, fit error {fit.rms_error:.1%} (RMS over {fit.points} points); "
        f"predicted peak {peak}"
        + (f", {fit.peak_throughput:.0f} req/s; more than {last} units lowers throughput" if last else
           (f"; throughput levels off at {fit.peak_throughput:.0f} req/s" if fit.sigma > 0 else ""))
    )  # fmt: skip


def contention_source(points: list[Point], workload: str) -> str:
    """Which shared part the contention term stands for, from the largest valid horizontal point."""
    series = line_points(points, workload, "horizontal")
    if not series:
        return "unknown (no valid horizontal point)"
    top = series[-1]
    shared = {
        "PostgreSQL's CPU": top.postgres_cpu,
        "nginx's CPU": top.nginx_cpu,
        "row-lock waits in PostgreSQL": top.db_lock_waits,
    }
    busiest = max(shared, key=lambda k: shared[k])
    return (
        f"{busiest} (the busiest shared part at {top.units} servers: PostgreSQL {top.postgres_cpu:.2f} of a core, "
        f"nginx {top.nginx_cpu:.2f}, {top.db_lock_waits:.1f} sessions waiting on locks)"
    )


def by_servers(points: list[Point], workload: str) -> tuple[dict[int, Point], dict[int, Point]]:
    """The horizontal line's points and the cached line's (invalid ones too: lower bounds), by app servers."""
    uncached = {p.servers: p for p in line_points(points, workload, "horizontal")}
    cached = {p.servers: p for p in line_points(points, workload, "cached", valid_only=False)}
    return uncached, cached


def cache_words(points: list[Point], workload: str) -> list[str]:
    """What the microcache does to "how many servers": each cached point against the uncached horizontal
    point of as many servers. A cached point whose load generator or machine was the wall still counts, as
    a lower bound: the cache served all that was asked of it."""
    uncached, cached = by_servers(points, workload)
    pairs = [(c, uncached[n]) for n, c in cached.items() if n in uncached]
    if not pairs:
        return []
    parts = [
        f"{c.servers} server{'s serve' if c.servers > 1 else ' serves'} {'' if c.valid else 'at least '}"
        f"{c.rps:.0f} req/s with it, {h.rps:.0f} without ({'>= ' if not c.valid else ''}{c.rps / h.rps:.1f}x), "
        f"app CPU per request {_ms(c.app_cpu, c.rps)} vs {_ms(h.app_cpu, h.rps)} ms"
        for c, h in pairs
    ]
    return [
        f"- With nginx's microcache (anonymous reads served by nginx for its TTL): {'; '.join(parts)}."
        + ("" if all(c.valid for c, _ in pairs) else " (At least: the load generator or the machine was the wall.)")
    ]


def _ms(cpu: float, rps: float) -> str:
    return f"{1000 * cpu / rps:.2f}" if rps else "-"


def conclusion(points: list[Point], failures: list[Failure], settings: Settings) -> list[str]:
    words = []
    for workload in settings.workloads:
        title = WORKLOADS[workload].title
        words.append(f"**{sentence(title)}**")
        words.append("")
        for line, name in LINES.items():
            series = line_points(points, workload, line)
            e = efficiency(points, workload, line)
            if series:
                walls = sorted({p.wall for p in series})
                words.append(
                    f"- {sentence(name)}: {series[-1].rps:.0f} req/s at {series[-1].units} units"
                    + (f", efficiency {e:.2f} (1.0 = each unit adds what the first gave)" if e is not None else "")
                    + f"; the wall: {', '.join(walls)}."
                )
        pairs = [
            (v, h)
            for v in line_points(points, workload, "vertical")
            for h in line_points(points, workload, "horizontal")
            if v.units == h.units and v.units > 1
        ]  # fmt: skip
        for v, h in pairs:
            ratio = max(v.rps, h.rps) / max(min(v.rps, h.rps), 1e-9)
            winner = "one bigger server" if v.rps >= h.rps else "more servers"
            verdict = "both serve about the same" if ratio < SAME else f"{winner} serves more"
            words.append(f"- At {v.units} units {verdict}: {v.rps:.0f} vs {h.rps:.0f} req/s ({ratio:.2f}x).")
        for f in (f for f in failures if f.workload == workload):
            words.append(
                (f"- Kill one of {f.servers} servers" if f.servers > 1 else "- Kill the only server")
                + f" ({f.line}, {f.units} units): {f.kept:.0%} of {f.before_rps:.0f} req/s kept, "
                f"{f.errors} failed requests, back "
                + (f"{f.recovery_s:.0f} s after the kill." if f.recovery_s is not None else "not within the step.")
            )
        words += cache_words(points, workload)
        words += shared_ceilings(points, workload, prices=cost.load())
        words += buying_guide(points, failures, workload)
        words.append("")
    return words


# -- files -------------------------------------------------------------------------------------------------
def observed_rows(points: list[Point]) -> list[str]:
    """What the target's Prometheus saw at each point (loadtest/scaling/observed.py), if it had one."""
    seen = [p for p in points if p.observed and not (p.line == "horizontal" and p.units == 1)]
    if not seen:
        return []

    def value(p: Point, key: str, shown: str = "{:.1f}") -> str:
        return shown.format(p.observed[key]) if key in p.observed else "-"

    rows = [
        "| workload | line | units | req/s: Locust / app counters | SQL queries/s | PostgreSQL commits/s | "
        f"connections: most / max | CPU busy, cores (node exporter): {' / '.join(GROUPS)} |",
        "|" + "---|" * 8,
    ]
    for p in seen:
        cpu = " / ".join(value(p, f"{role}_host_cpu", "{:.2f}") for role in GROUPS)
        rows.append(
            f"| {p.workload} | {p.line} | {p.units} | {p.rps:.1f} / {value(p, 'app_rps')} | {value(p, 'app_sql')} | "
            f"{value(p, 'pg_commits')} | {value(p, 'pg_connections', '{:.0f}')} / "
            f"{value(p, 'pg_max_connections', '{:.0f}')} | {cpu} |"
        )
    return [
        "## What Prometheus saw",
        "",
        "The same windows, from the target's Prometheus (scraping every "
        f"{observed.SCRAPE_SECONDS} s): the figures a dashboard of a real deployment shows. The app counters "
        "count what reached the app servers, sign-ins and errors included; Locust also counts what nginx "
        "answered itself (static files, the microcache's pages). Hosts that share one kernel (the lab's nspawn "
        "hosts) all report the machine's CPU: compare the machine column above. A dash: not scraped there.",
        "",
        *rows,
        "",
    ]


def write_csvs(out: Path, points: list[Point], failures: list[Failure]) -> None:
    names = [f.name for f in fields(Point) if f.name not in ("step_log", "observed")]
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(asdict(p) for p in points)
    rows = [{"workload": p.workload, "line": p.line, "units": p.units, **s} for p in points for s in p.step_log]
    if rows:
        with (out / "steps.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    seen = [{"workload": p.workload, "line": p.line, "units": p.units, **p.observed} for p in points if p.observed]
    if seen:
        with (out / "observed.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for row in seen for k in row)))
            writer.writeheader()
            writer.writerows(seen)
    with (out / "failures.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(Failure)])
        writer.writeheader()
        writer.writerows(asdict(f) for f in failures)


def plot(out: Path, points: list[Point], failures: list[Failure], settings: Settings) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = settings.workloads
    fitted = fits(points, settings)
    unit = f"units ({settings.unit:g} CPU each)"

    figure, axes = plt.subplots(1, len(workloads), figsize=(6.5 * len(workloads), 4.5), squeeze=False)
    for axis, workload in zip(axes[0], workloads, strict=True):
        for line in APP_PATH:  # the cached line is an order of magnitude higher: cache.png
            name = LINES[line]
            series = line_points(points, workload, line)
            if series:
                axis.plot([p.units for p in series], [p.rps for p in series], STYLES[line], label=f"{line}: {name}")
            fit = fitted[(workload, line)]
            if fit:
                xs = [1 + i / 10 for i in range(10 * (2 * settings.points - 1) + 1)]
                axis.plot(xs, [fit.throughput(x) for x in xs], ":", color=axis.lines[-1].get_color(), alpha=0.6,
                          label=f"{line}: USL fit, sigma {fit.sigma:.3f} kappa {fit.kappa:.4f}")  # fmt: skip
        axis.set(title=f"Throughput within the SLO: {workload}", xlabel=unit, ylabel="req/s")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "throughput.png", dpi=100)
    plt.close(figure)

    figure, axes = plt.subplots(1, len(workloads), figsize=(6.5 * len(workloads), 4.5), squeeze=False)
    for axis, workload in zip(axes[0], workloads, strict=True):
        for p in (
            p for p in points if p.workload == workload and p.step_log and not (p.line == "horizontal" and p.units == 1)
        ):
            if p.units in (1, settings.points):
                axis.plot(
                    [s["users"] for s in p.step_log],
                    [s["p95_ms"] for s in p.step_log],
                    STYLES[p.line],
                    label=f"{p.line} {p.units}u",
                )
        axis.axhline(settings.slo_p95_ms, color="grey", linestyle=":", label="SLO")
        axis.set(title=f"p95 as load grows: {workload}", xlabel="offered load: closed-loop users, no think time",
                 ylabel="p95 ms")  # fmt: skip
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "latency.png", dpi=100)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(6.5, 4.5))
    for workload in workloads:
        for line in LINES:
            series = line_points(points, workload, line)
            if series:
                axis.plot(
                    [p.units for p in series],
                    [p.usd_per_million for p in series],
                    STYLES[line],
                    label=f"{workload}, {line}",
                )
    axis.set(title="Cost per million requests within the SLO", xlabel=unit, ylabel="USD per million requests")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "cost.png", dpi=100)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(1.2 * len(failures) + 2, 4.5))
    labels = [f"{f.workload}\n1 of {f.servers}" if f.servers > 1 else f"{f.workload}\nthe only one" for f in failures]
    axis.bar(
        labels,
        [100 * f.kept for f in failures],
        color=["tab:blue" if f.line == "horizontal" else "tab:red" for f in failures],
    )
    axis.set(
        title="Throughput kept while a killed server comes back",
        ylabel="% of the throughput before the kill",
        ylim=(0, 110),
    )
    axis.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    figure.savefig(out / "failure.png", dpi=100)
    plt.close(figure)

    figure, axes = plt.subplots(1, len(workloads), figsize=(6.5 * len(workloads), 4.5), squeeze=False)
    for axis, workload in zip(axes[0], workloads, strict=True):
        uncached, cached = by_servers(points, workload)
        servers = sorted(set(uncached) | set(cached))
        slots = range(len(servers))
        axis.bar([x - 0.2 for x in slots], [uncached[n].rps if n in uncached else 0 for n in servers], 0.4,
                 label="microcache off")  # fmt: skip
        axis.bar(
            [x + 0.2 for x in slots],
            [cached[n].rps if n in cached else 0 for n in servers],
            0.4,
            label="microcache on",
            hatch=["" if n in cached and cached[n].valid else "//" for n in servers],
        )
        axis.set_xticks(list(slots), [str(n) for n in servers])
        axis.set_yscale("log")
        axis.set(
            title=f"What the microcache does: {workload} (hatched: at least; Locust or the machine was full)",
            xlabel="one-unit app servers",
            ylabel="req/s within the SLO (log)",
        )
        axis.title.set_fontsize(9)
        axis.grid(alpha=0.3, axis="y")
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "cache.png", dpi=100)
    plt.close(figure)


def commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unknown"


def tables(points: list[Point], failures: list[Failure], settings: Settings) -> list[str]:
    rows = [
        "| workload | line | units | servers x workers | users | req/s | app CPU ms/request | p50/p95/p99 ms | "
        "errors | CPU app/nginx/pg/gen/machine | pg sessions cpu/lock/lwlock/io, conns/max | wall | app instance | "
        "USD/h | USD/M req | valid |",
        "|" + "---|" * 16,
    ]
    for p in points:
        if p.line == "horizontal" and p.units == 1:
            continue
        rows.append(
            f"| {p.workload} | {p.line} | {p.units} | {p.servers} x {p.workers} | {p.users} | {p.rps:.1f} | "
            f"{1000 * p.app_cpu / p.rps if p.rps else 0:.1f} | "
            f"{p.p50_ms:.0f}/{p.p95_ms:.0f}/{p.p99_ms:.0f} | {p.error_ratio:.2%} | "
            f"{p.app_cpu:.2f}/{p.nginx_cpu:.2f}/{p.postgres_cpu:.2f}/{p.generator_cpu:.2f}/{p.machine_cpu:.2f} | "
            f"{p.db_on_cpu:.1f}/{p.db_lock_waits:.1f}/{p.db_lwlock_waits:.1f}/{p.db_io_waits:.1f}, "
            f"{p.db_connections:.0f}/{p.db_max_connections} | {p.wall} | {p.app_instance} | {p.usd_per_hour:.3f} | "
            f"{p.usd_per_million:.2f} | {'yes' if p.valid else 'no: ' + p.note} |"
        )
    kill_rows = [
        "| workload | line | units | servers | users | req/s before | kept | failed requests | recovered after |",
        "|" + "---|" * 9,
        *(
            f"| {f.workload} | {f.line} | {f.units} | {f.servers} | {f.users} | {f.before_rps:.1f} | {f.kept:.0%} | "
            f"{f.errors} of {f.requests} | "
            + (f"{f.recovery_s:.0f} s |" if f.recovery_s is not None else "not within the step |")
            for f in failures
        ),
    ]  # fmt: skip
    fitted = fits(points, settings)
    usl_rows = [
        "| workload | line | lambda (req/s at 1 unit) | USL |",
        "|---|---|---|---|",
        *(
            f"| {w} | {line} | {f'{fit.lam:.1f}' if fit else '-'} | {usl_words(fit)} |"
            for (w, line), fit in fitted.items()
        ),
    ]
    invalid = [f"- {p.workload} {p.line} {p.units} units: {p.note}" for p in points if not p.valid
               and not (p.line == "horizontal" and p.units == 1)]  # fmt: skip
    return [
        "## Points", "", *rows, "", "## A server killed mid-step", "", *kill_rows, "",
        "## Past this machine: the Universal Scalability Law", "", *usl_rows, "",
        *(f"- Contention ({w}) stands for {contention_source(points, w)}." for w in settings.workloads), "",
        "## Invalid points", "", *(invalid or ["- None: every point's load generator and machine had room."]), "",
        *observed_rows(points),
    ]  # fmt: skip


def write(
    out: Path, settings: Settings, where: str, points: list[Point], failures: list[Failure], minutes: float
) -> None:
    write_csvs(out, points, failures)
    plot(out, points, failures, settings)
    prices = cost.load()
    command = (
        "make bench-scaling"
        + (f" TARGET={settings.target}" if settings.target != "stack" else "")
        + (" QUICK=1" if settings.quick else "")
    )
    text = [
        "# Bigger server or more servers?",
        "",
        f"{command} on {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, {platform.node()} "
        f"({os.cpu_count()} cores, Linux {platform.release()}), {minutes:.0f} minutes. Where: {where}. "
        f"One unit = {settings.unit:g} CPU (a cgroup quota, {PERIOD_US // 1000} ms period); "
        f"vertical = one app server of N units with "
        f"{settings.workers_per_unit} workers per unit, horizontal = N one-unit servers behind nginx, both with "
        f"nginx's microcache off; cached = the horizontal line with it on. SLO: p95 <= "
        f"{settings.slo_p95_ms:g} ms, errors < 0.1 %. Steps of closed-loop users without think time: a warm-up "
        f"(the mix's sign-ins), then {settings.step_seconds:g} s measured. Prices: AWS on-demand, {prices.region}, "
        f"{prices.date} (deploy/terraform/prices.toml).",
        "",
        "## Conclusion",
        "",
        *conclusion(points, failures, settings),
        "![throughput](throughput.png) ![what the microcache does](cache.png)",
        "",
        *tables(points, failures, settings),
        "![p95 as load grows](latency.png) ![cost per million requests](cost.png) ![capacity kept](failure.png)",
        "",
    ]
    (out / "report.md").write_text("\n".join(text))
