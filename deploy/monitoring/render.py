"""Render the one Prometheus configuration template (deploy/monitoring/prometheus.yml.j2)."""

from __future__ import annotations

from pathlib import Path

from deploy.templating import environment

HERE = Path(__file__).resolve().parent
RULES = HERE / "alerts.yml"


def prometheus_config(
    jobs: dict[str, dict[str, str]],
    *,
    dns_jobs: dict[str, dict[str, str | int]] | None = None,
    rules_file: Path = RULES,
    scrape_interval: str = "15s",
    evaluation_interval: str = "15s",
    alertmanagers: list[str] | None = None,
    managed: str = "Generated: do not edit.",
) -> str:
    """jobs: {job: {instance name: "host:port"}}; dns_jobs: {job: {"name": DNS name, "port": port}}, a target per
    address the name resolves to."""
    return (
        environment(HERE)
        .get_template("prometheus.yml.j2")
        .render(
            prometheus_jobs=jobs,
            prometheus_dns_jobs=dns_jobs or {},
            prometheus_rules_file=str(rules_file),
            prometheus_scrape_interval=scrape_interval,
            prometheus_evaluation_interval=evaluation_interval,
            prometheus_alertmanagers=alertmanagers or [],
            prometheus_managed=managed,
        )
    )
