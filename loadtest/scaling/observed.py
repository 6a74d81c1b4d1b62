"""What the target's Prometheus saw at a point: the figures a production dashboard shows, beside the bench's own.

The bench measures with its own tools (Locust's request log, /proc, pg_stat_activity samples). Where a
Prometheus scrapes the target (the lab's monitor host; the stack with MONITORING=1), each point also gets
the app servers' own request and SQL counters, PostgreSQL's commits and connections, and each host's CPU
from its node exporter, over the same window: the two ways of measuring check each other, and the figures
are the ones a user of a real deployment reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import fmean

from loadtest import server_stats

# The bench's Prometheus scrapes this often, so a step's few seconds hold several samples of every series.
SCRAPE_SECONDS = 1
# rate() over no fewer than this many scrapes.
FEWEST_SCRAPES = 4
# Per-host figures are kept per role, as the mean over the role's hosts (an "app server" is any of them).
PER_HOST = ("host_cpu", "host_share")


def read(prometheus: str, window: tuple[float, float], roles: Mapping[str, str]) -> dict[str, float]:
    """{figure: value} for the window: sums over the app servers (requests/s, SQL/s), PostgreSQL's figures,
    and `<role>_host_cpu` / `<role>_host_share` for each role in `roles` ({instance: role}) that was scraped."""
    rows = server_stats.collect(prometheus, *window, shortest=FEWEST_SCRAPES * SCRAPE_SECONDS)
    return figures(rows, roles)


def figures(rows: list[server_stats.Row], roles: Mapping[str, str]) -> dict[str, float]:
    per_role: dict[str, list[float]] = {}
    totals: dict[str, float] = {}
    for row in rows:
        if row.key in PER_HOST:
            per_role.setdefault(f"{roles.get(row.instance, row.instance)}_{row.key}", []).append(row.value)
        else:
            totals[row.key] = totals.get(row.key, 0.0) + row.value
    return totals | {name: fmean(values) for name, values in per_role.items()}
