"""deploy/monitoring/alerts.yml: valid for Prometheus, and each alert fires when it should and only then
(alerts_test.yml, with `promtool test rules`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness.servers import REPO

HERE = Path(__file__).resolve().parent
RULES = REPO / "deploy" / "monitoring" / "alerts.yml"
pytestmark = pytest.mark.skipif(
    not shutil.which("promtool"), reason="needs promtool (sudo apt-get install prometheus; `sudo make test-all` does)"
)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], cwd=HERE, capture_output=True, text=True, timeout=120)


def test_rules_pass_promtool_check() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_and_stays_quiet_as_its_unit_tests_say() -> None:
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    alerts = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
              if "alert" in rule}  # fmt: skip
    tests = yaml.safe_load((HERE / "alerts_test.yml").read_text())["tests"]
    cases = [case for test in tests for case in test["alert_rule_test"]]
    fired = {case["alertname"] for case in cases if case["exp_alerts"]}
    quiet = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert alerts == fired, f"alerts without a firing test: {sorted(alerts - fired)}"
    assert alerts == quiet, f"alerts without a test where they stay quiet: {sorted(alerts - quiet)}"
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
