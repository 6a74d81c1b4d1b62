"""deploy/monitoring/prometheus.yml.j2, rendered as the targets render it, is a configuration Prometheus accepts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.monitoring.render import RULES, prometheus_config

pytestmark = pytest.mark.skipif(
    not shutil.which("promtool"), reason="needs promtool (sudo apt-get install prometheus; `sudo make test-all` does)"
)
JOBS = {
    "scaleboard-app": {"app1": "10.0.0.2:8000", "app2": "10.0.0.3:8000"},
    "nginx": {"lb": "10.0.0.4:9113"},
    "postgresql": {"db": "10.0.0.1:9187"},
    "node": {"db": "10.0.0.1:9100", "app1": "10.0.0.2:9100"},
}


@pytest.mark.parametrize("alertmanagers", [[], ["127.0.0.1:9093"]])
def test_rendered_config_passes_promtool(tmp_path: Path, alertmanagers: list[str]) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_config(JOBS, alertmanagers=alertmanagers))
    result = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    loaded = yaml.safe_load(config.read_text())
    scraped = {
        job["job_name"]: {group["labels"]["instance"]: address for group in job["static_configs"]
                          for address in group["targets"]}
        for job in loaded["scrape_configs"]
    }  # fmt: skip
    assert scraped == JOBS
    assert loaded["rule_files"] == [str(RULES)]
    assert bool(loaded.get("alerting")) == bool(alertmanagers)


def test_a_job_without_hosts_is_left_out(tmp_path: Path) -> None:
    """RDS and an ALB leave the db and lb groups empty: the config lists only what is scraped, not a `static_configs:`
    with nothing under it."""
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_config({**JOBS, "postgresql": {}, "nginx": {}}))
    result = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = [job["job_name"] for job in yaml.safe_load(config.read_text())["scrape_configs"]]
    assert jobs == ["scaleboard-app", "node"]
