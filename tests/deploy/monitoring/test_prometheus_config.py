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
    "scaleboard-app": ["10.0.0.2:8000", "10.0.0.3:8000"],
    "nginx": ["10.0.0.4:9113"],
    "postgresql": ["10.0.0.1:9187"],
    "node": ["10.0.0.1:9100", "10.0.0.2:9100"],
}


@pytest.mark.parametrize("alertmanagers", [[], ["127.0.0.1:9093"]])
def test_rendered_config_passes_promtool(tmp_path: Path, alertmanagers: list[str]) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_config(JOBS, alertmanagers=alertmanagers))
    result = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    loaded = yaml.safe_load(config.read_text())
    assert {job["job_name"]: job["static_configs"][0]["targets"] for job in loaded["scrape_configs"]} == JOBS
    assert loaded["rule_files"] == [str(RULES)]
    assert bool(loaded.get("alerting")) == bool(alertmanagers)
