"""`make bench-app`: how fast each page is, against the speed of light, measured with wrk.

One app server (production settings, the one gunicorn config) and PostgreSQL, seeded with a fixed demo
set, pinned to CPU 0; wrk pinned to CPU 1 (when the machine has two). For each page: req/s, p50/p99
and the CPU time spent on CPU 0 per request, the median of REPEATS runs with the spread. The raw-WSGI
front page (loadtest/speed_of_light.py, the selector's SQL + string joins) runs interleaved with every
page's runs, so every page gets a ratio to runs made seconds apart (shared machines drift by tens of
percent over a session), and the same pages through nginx get an nginx/direct ratio. The pages are measured
without nginx's microcache; one more row measures the anonymous front page through a second nginx with it on.

Knobs (environment): REPEATS=5 DURATION=10 CONNECTIONS=8 WEB_CONCURRENCY (deploy/defaults.env) THREADS=1
SEED_POSTS=100000
QUICK=1 (1 run of 2 s, a small data set). THREADS > 1: the app server and the reference on gunicorn's
gthread worker (keep-alive; nginx then reuses its upstream connections). WORKER_CLASS=gthread|sync: the app
server's worker class (GUNICORN_WORKER_CLASS), the reference unchanged.
Output: loadtest/reports/<timestamp>-app/{bench-app.csv,summary.md}.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import NamedTuple

from deploy import defaults
from deploy.local import stack as local_stack
from loadtest import speed_of_light
from loadtest.cpu import _children, tree_cpu_seconds
from loadtest.progress import log
from loadtest.report_dir import report_dir

ROOT = Path(__file__).resolve().parents[1]

PORTS = 18600  # nginx; PostgreSQL +1, the app server +2, nginx with the microcache +8, the raw-WSGI reference +9
APP_CPU, LOAD_CPU = 0, 1


@dataclass
class Result:
    page: str
    via: str
    rps_median: float
    rps_min: float
    rps_max: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    ratio_to_speed_of_light: float = 0.0
    nginx_to_direct: float = 0.0


def pin(pids: list[int], cpu: int) -> None:
    """Pin process trees (and what they fork or start later) to one CPU, when the machine has more than one.
    Every thread of each process: affinity is per thread, and gthread workers start theirs before this runs."""
    if (os.cpu_count() or 1) < 2:
        return
    children = _children()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        try:
            threads = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
        except OSError:
            continue
        for thread in threads:
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(thread, {cpu})
        stack.extend(children.get(pid, []))


def _ms(value: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not found:
        raise RuntimeError(f"cannot read wrk's latency {value!r}")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


class Run(NamedTuple):
    rps: float
    p50_ms: float
    p99_ms: float
    # CPU time of everything on the app core (app server, PostgreSQL, nginx, the reference) per request:
    # steadier than req/s on a shared machine, whose stolen time slows a run without costing CPU here.
    cpu_ms: float


def wrk(url: str, duration: float, connections: int, *, retry: bool = True, cpu_of: tuple[int, ...] = ()) -> Run:
    """One wrk run; fails loudly on non-2xx answers or socket errors. `cpu_of`: the process trees whose CPU
    time is counted per request.

    A run whose only fault is timeouts is made once more: on a shared machine the load generator itself
    can be frozen for seconds (seen: nginx logged 13 ms answers that wrk had given up on). Twice is a fault.
    """
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:.0f}s", "--latency", "--timeout", "5s", url]
    if (os.cpu_count() or 1) >= 2:
        command = ["taskset", "-c", str(LOAD_CPU), *command]
    cpu_before = tree_cpu_seconds(*cpu_of)
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30, check=True).stdout
    cpu_seconds = tree_cpu_seconds(*cpu_of) - cpu_before
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if retry and errors and errors.group(1, 2, 3) == ("0", "0", "0") and "Non-2xx" not in output:
        log(f"  {url}: {errors.group(4)} timeout(s), the load generator may have stalled; running it again")
        return wrk(url, duration, connections, retry=False, cpu_of=cpu_of)
    if "Non-2xx" in output or errors:
        raise RuntimeError(f"{url} did not answer cleanly under load:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return Run(rps, p50, p99, 1000 * cpu_seconds / max(requests, 1))


def summarise(page: str, via: str, runs: list[Run]) -> Result:
    rates = [run.rps for run in runs]
    result = Result(
        page, via, statistics.median(rates), min(rates), max(rates), statistics.median(run.p50_ms for run in runs),
        statistics.median(run.p99_ms for run in runs), statistics.median(run.cpu_ms for run in runs),
    )  # fmt: skip
    log(f"  {via:6} {page:28} {result.rps_median:8.1f} req/s ({result.rps_min:.0f}-{result.rps_max:.0f}) "
        f"p50 {result.p50_ms:6.1f} ms p99 {result.p99_ms:6.1f} ms "
        f"CPU {result.cpu_ms_per_request:.2f} ms/req")  # fmt: skip
    return result


def paired_ratio(runs: list[Run], reference: list[Run]) -> float:
    """The median of run-by-run ratios: each run is divided by the reference run made just before it."""
    return statistics.median(run[0] / ref[0] for run, ref in zip(runs, reference, strict=True))


def measure_page(
    urls: dict[str, str], repeats: int, duration: float, connections: int, cpu_of: tuple[int, ...]
) -> dict[str, list[Run]]:
    """Runs of the raw-WSGI reference, the page direct and through nginx, interleaved round by round:
    the machine's speed drifts (shared cores), so each ratio compares runs made seconds apart."""
    for url in urls.values():
        wrk(url, min(duration, 2), connections)  # warm-up: connections, caches, the template loader
    runs: dict[str, list[Run]] = {via: [] for via in urls}
    for _ in range(repeats):
        for via, url in urls.items():
            runs[via].append(wrk(url, duration, connections, cpu_of=cpu_of))
    return runs


def stack_knobs(quick: bool) -> tuple[Path, int]:
    """Where the benches' stack lives and how many demo posts it holds (BENCH_STACK_DIR, SEED_POSTS):
    bench-app and profile-page read them here, so both measure the same data."""
    directory = Path(os.environ.get("BENCH_STACK_DIR", ROOT / ".var" / "bench-app"))
    return directory, int(os.environ.get("SEED_POSTS", "2000" if quick else "100000"))


def up_bench_stack(
    directory: Path, posts: int, *, workers: int = 2, threads: int = 1, worker_class: str = ""
) -> local_stack.Stack:
    """The stack the benches measure: one app server, PostgreSQL on TCP, nginx, a demo set of `posts`
    posts (3 comments each on average); make profile-page profiles the app on the same one.
    Exits with a message when it cannot start (its ports are taken: another bench is running)."""
    try:
        return local_stack.up(
            directory, topology="split", app_servers=1, port=PORTS, database_port=PORTS + 1,
            first_app_port=PORTS + 2, workers=workers, seed=(1000, posts, posts * 3),
            extra_env={**local_stack.BENCHMARK_ENV, "GUNICORN_THREADS": str(threads),
                       **({"GUNICORN_WORKER_CLASS": worker_class} if worker_class else {})},
            nginx_overrides=local_stack.benchmark_nginx(),
        )  # fmt: skip
    except (local_stack.StackError, local_stack.PostgresError) as exc:
        raise SystemExit(
            f"error: {exc}\n(make bench-app and make profile-page use the same ports: one at a time)"
        ) from exc


def post_with_comments(stack: local_stack.Stack, wanted: int) -> int:
    sql = f"SELECT id FROM board_post ORDER BY abs(comment_count - {int(wanted)}), id LIMIT 1"  # noqa: S608 - an int
    return int(stack.cluster.psql(sql, database="scaleboard"))


def main() -> int:
    quick = os.environ.get("QUICK", "") not in ("", "0")
    repeats = int(os.environ.get("REPEATS", "1" if quick else "5"))
    duration = float(os.environ.get("DURATION", "2" if quick else "10"))
    connections = int(os.environ.get("CONNECTIONS", "8"))
    workers = int(os.environ.get("WEB_CONCURRENCY", defaults.WEB_CONCURRENCY))
    threads = int(os.environ.get("THREADS", "1"))
    worker_class = os.environ.get("WORKER_CLASS", "")
    directory, posts = stack_knobs(quick)
    if not shutil.which("wrk"):
        print("error: wrk not found: sudo apt-get install wrk", file=sys.stderr)
        return 1
    out = report_dir("app")
    log(f"bench-app: {posts} posts, {repeats} run(s) x {duration:.0f} s per page, {connections} connections")
    stack = up_bench_stack(directory, posts, workers=workers, threads=threads, worker_class=worker_class)
    results: list[Result] = []
    try:
        postmaster = stack.cluster.postmaster_pid()
        app = stack.app_servers[0]
        with speed_of_light.serving(stack.app_env(), PORTS + 9, workers, threads=threads) as raw_pid:
            on_app_cpu = (app.pid, postmaster, stack.nginx_pid, raw_pid)
            pin(list(on_app_cpu), APP_CPU)
            post = post_with_comments(stack, 100)
            pages = {
                "front page": "/", "new": "/new", "post with ~100 comments": f"/post/{post}",
                "search": "/search?q=postgres", "API post list": "/api/posts", "healthz": "/healthz",
            }  # fmt: skip
            raw_url = f"http://127.0.0.1:{PORTS + 9}/"
            raw_runs: list[Run] = []
            for page, path in pages.items():
                log(f"{page}: raw WSGI, direct, nginx, {repeats} round(s)")
                urls = {"raw": raw_url, "direct": app.url(path), "nginx": stack.url(path)}
                runs = measure_page(urls, repeats, duration, connections, on_app_cpu)
                raw_runs += runs["raw"]
                direct = summarise(page, "direct", runs["direct"])
                proxied = summarise(page, "nginx", runs["nginx"])
                direct.ratio_to_speed_of_light = paired_ratio(runs["direct"], runs["raw"])
                proxied.ratio_to_speed_of_light = paired_ratio(runs["nginx"], runs["raw"])
                proxied.nginx_to_direct = paired_ratio(runs["nginx"], runs["direct"])
                results += [direct, proxied]
            # A second nginx in front of the same app server, with the microcache on as every target deploys it.
            cached_url = f"http://127.0.0.1:{PORTS + 8}/"
            with local_stack.nginx_in_front_of(
                stack.directory / "nginx-microcache", [app.port], PORTS + 8
            ) as cached_pid:
                pin([cached_pid], APP_CPU)
                log(f"front page, microcache: raw WSGI, nginx, {repeats} round(s)")
                runs = measure_page(
                    {"raw": raw_url, "nginx": cached_url}, repeats, duration, connections, (*on_app_cpu, cached_pid)
                )
                raw_runs += runs["raw"]
                cached = summarise("front page, microcache", "nginx", runs["nginx"])
                cached.ratio_to_speed_of_light = paired_ratio(runs["nginx"], runs["raw"])
                results.append(cached)
            # Every reference run of the session: its spread shows how much the machine drifted.
            results.insert(0, summarise("front page (raw WSGI)", "direct", raw_runs))
    finally:
        local_stack.down(directory)
    with (out / "bench-app.csv").open("w", newline="") as csv_file:
        writer = csv.DictWriter(csv_file, fieldnames=[f.name for f in fields(Result)])
        writer.writeheader()
        writer.writerows(asdict(r) for r in results)
    worker_model = f"gthread workers x {threads} threads" if threads > 1 else f"{worker_class or 'sync'} workers"
    lines = [
        "# bench-app", "",
        f"{posts} posts; one app server ({workers} {worker_model}) + PostgreSQL + nginx pinned to CPU {APP_CPU}, "
        f"wrk (1 thread, {connections} connections) on CPU {LOAD_CPU}; median of {repeats} x {duration:.0f} s.",
        "Ratios are medians of run-by-run ratios: each page run is paired with a raw-WSGI run made just",
        "before it (the raw row sums up all of them), so drift of a shared machine cancels out.",
        f"CPU ms/req: CPU time of everything on CPU {APP_CPU} (app server, PostgreSQL, nginx) per request.", "",
        "| page | via | req/s (min-max) | p50 ms | p99 ms | CPU ms/req | x speed of light | nginx / direct |",
        "|---|---|---|---|---|---|---|---|",
        *(f"| {r.page} | {r.via} | {r.rps_median:.0f} ({r.rps_min:.0f}-{r.rps_max:.0f}) | {r.p50_ms:.1f} | "
          f"{r.p99_ms:.1f} | {r.cpu_ms_per_request:.2f} | {r.ratio_to_speed_of_light or 1:.2f} | "
          f"{f'{r.nginx_to_direct:.2f}' if r.nginx_to_direct else ''} |" for r in results),
        "",
        "nginx answers /healthz itself (no app), so its nginx row measures nginx alone. The microcache row is the",
        "anonymous front page through nginx with its microcache on (deploy/nginx/defaults.yml); the other rows",
        "are measured without it.",
        "",
    ]  # fmt: skip
    (out / "summary.md").write_text("\n".join(lines))
    log(f"bench-app: {out}/summary.md")
    print((out / "summary.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
