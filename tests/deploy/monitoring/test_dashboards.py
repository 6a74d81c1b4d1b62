"""deploy/monitoring/dashboards/*.json: Grafana dashboards whose every query is PromQL that Prometheus parses, on the
jobs the scrape template names and the series the rules record."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.monitoring.render import RULES
from tests.harness.prometheus import panel_queries

DASHBOARDS = sorted((RULES.parent / "dashboards").glob("*.json"))
JOBS = {"scaleboard-app", "nginx", "nginx-log", "postgresql", "node"}  # the scrape jobs the alert rules select on


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def test_the_four_dashboards_exist_with_unique_uids() -> None:
    assert [path.stem for path in DASHBOARDS] == ["hosts", "nginx", "postgresql", "scaleboard-app"]
    uids = [load(path)["uid"] for path in DASHBOARDS]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_every_panel_queries_the_chosen_prometheus_on_known_jobs(path: Path) -> None:
    dashboard = load(path)
    assert dashboard["templating"]["list"][0] == {"name": "datasource", "type": "datasource", "query": "prometheus",
                                                  "label": "Prometheus"}  # fmt: skip
    recorded = {rule["record"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
                if "record" in rule}  # fmt: skip
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
    for _, expr in panel_queries(path):
        jobs = set(re.findall(r'job="([^"]+)"', expr))
        assert jobs <= JOBS, expr
        assert jobs or set(re.findall(r"scaleboard:[a-z0-9_:]+", expr)) <= recorded, expr
        assert jobs or re.search(r"scaleboard:", expr), f"selects no job: {expr}"


@pytest.mark.skipif(not shutil.which("promtool"), reason="needs promtool (sudo apt-get install prometheus)")
def test_every_query_parses(tmp_path: Path) -> None:
    expressions = [expr for path in DASHBOARDS for _, expr in panel_queries(path)]
    rules = {"groups": [{"name": "dashboards", "rules": [{"record": f"dashboard:query_{i}:check", "expr": expr}
                                                         for i, expr in enumerate(expressions)]}]}  # fmt: skip
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules))
    result = subprocess.run(["promtool", "check", "rules", str(tmp_path / "queries.yml")], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(expressions)} rules found" in result.stdout
