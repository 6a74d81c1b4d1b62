"""What the servers did during a load run, from their Prometheus: each host's CPU, each app server's request rate,
PostgreSQL's transactions and connections. `make loadtest PROMETHEUS=http://<monitor>:9090` writes it beside
Locust's report (servers.md) and prints it; without Prometheus there is nothing to read, and nothing is written.

    python -m loadtest.server_stats --prometheus URL --start UNIX --end UNIX [--out servers.md]

Queries select the jobs the scrape template names (deploy/monitoring/prometheus.yml.j2). A job Prometheus does
not scrape (no PostgreSQL exporter on a managed database, say) gives no row, said as such.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# (key, section, what, PromQL with {w} for the run's window in seconds, how to show a value)
QUERIES = [
    ("host_cpu", "hosts", "CPU busy (cores)",
     'sum by (instance) (rate(node_cpu_seconds_total{{job="node",mode!="idle"}}[{w}s]))', "{:.2f}"),
    ("host_share", "hosts", "CPU busy (share of the host)",
     '1 - avg by (instance) (rate(node_cpu_seconds_total{{job="node",mode="idle"}}[{w}s]))', "{:.0%}"),
    ("app_rps", "app servers", "requests/s",
     'sum by (instance) (rate(scaleboard_http_requests_total{{job="scaleboard-app"}}[{w}s]))', "{:.1f}"),
    ("app_sql", "app servers", "SQL queries/s",
     'sum by (instance) (rate(scaleboard_db_query_duration_seconds_count{{job="scaleboard-app"}}[{w}s]))', "{:.1f}"),
    ("pg_commits", "PostgreSQL", "transactions/s",
     'sum by (instance) (rate(pg_stat_database_xact_commit{{job="postgresql"}}[{w}s]))', "{:.1f}"),
    ("pg_connections", "PostgreSQL", "connections, most at once",
     'max by (instance) (max_over_time(sum by (instance) (pg_stat_activity_count{{job="postgresql"}})[{w}s:1s]))',
     "{:.0f}"),
    ("pg_max_connections", "PostgreSQL", "max_connections",
     'max by (instance) (pg_settings_max_connections{{job="postgresql"}})', "{:.0f}"),
]  # fmt: skip


@dataclass
class Row:
    key: str
    section: str
    what: str
    instance: str
    value: float
    shown: str = "{:.1f}"

    @property
    def text(self) -> str:
        return self.shown.format(self.value)


def query(prometheus: str, promql: str, at: float) -> dict[str, float]:
    """An instant query at `at`: {instance: value}."""
    url = f"{prometheus.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"})
    with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 - the operator's own Prometheus
        result = json.load(response)["data"]["result"]
    return {r["metric"].get("instance", "-"): float(r["value"][1]) for r in result}


def collect(prometheus: str, start: float, end: float, shortest: int = 30) -> list[Row]:
    """Every query over [start, end], or over the `shortest` seconds before `end` if the run was shorter:
    rate() wants a few scrapes in its window (the default suits 15 s scrapes)."""
    window = max(round(end - start), shortest)
    rows = []
    for key, section, what, promql, shown in QUERIES:
        for instance, value in sorted(query(prometheus, promql.format(w=window), end).items()):
            rows.append(Row(key, section, what, instance, value, shown))
    return rows


def markdown(rows: list[Row], prometheus: str, start: float, end: float) -> str:
    lines = [f"# The servers during the run ({end - start:.0f} s, from {prometheus})", ""]
    if not rows:
        return "\n".join([*lines, "Prometheus had no series for this window: is it scraping the targets?", ""])
    lines += ["| tier | measure | server | value |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.section} | {r.what} | {r.instance} | {r.text} |" for r in rows]
    missing = sorted({section for _, section, *_ in QUERIES} - {r.section for r in rows})
    if missing:
        lines += ["", f"Not scraped: {', '.join(missing)}."]
    return "\n".join([*lines, ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--end", type=float, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    try:
        text = markdown(collect(args.prometheus, args.start, args.end), args.prometheus, args.start, args.end)
    except OSError as exc:
        print(f"loadtest: Prometheus at {args.prometheus} did not answer ({exc}): no server figures", file=sys.stderr)
        return 1
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
