"""The CI/CD files stay thin and valid: the GitHub workflows and the composite action match GitHub's schemas
(check-jsonschema's vendored copies, offline), every command a job runs is a make target or the setup around one,
and the Jenkinsfile's stages call the same targets. Neither GitHub nor Jenkins can run here: what they would reject
beyond the schema (expressions, action inputs, Groovy) is not checked."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness.servers import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((REPO / ".github" / "actions").glob("*/action.yml"))
# Commands a job may run besides make: installing the runner's packages, logging in, writing its output.
SETUP = re.compile(r"^(sudo apt-get |printf '%s' \"\$REGISTRY_TOKEN\" \| skopeo login |echo \"version=\$\(make )")


def check_schema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO / ".venv/bin/check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def declared_targets() -> set[str]:
    return set(re.findall(r"^([a-z0-9-]+):", (REPO / "Makefile").read_text(), flags=re.MULTILINE))


def test_workflows_and_actions_match_githubs_schemas() -> None:
    assert WORKFLOWS
    assert ACTIONS
    for schema, files in (("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", ACTIONS)):
        result = check_schema(schema, *files)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = yaml.safe_load((REPO / ".github/workflows/delivery.yml").read_text())
    broken["jobs"]["package"]["steps"] = "make package"  # steps must be a list
    path = tmp_path / "delivery.yml"
    path.write_text(yaml.safe_dump(broken))
    assert check_schema("vendor.github-workflows", path).returncode != 0


def made(command: str) -> set[str]:
    return set(re.findall(r"\bmake (?:-s )?([a-z0-9-]+)", command))


def commands(workflow: Path) -> list[str]:
    """Every `run:` of the workflow's jobs, on one line each."""
    jobs = yaml.safe_load(workflow.read_text())["jobs"].values()
    return [" ".join(step["run"].split()) for job in jobs for step in job.get("steps", []) if "run" in step]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_command_is_a_make_target_or_its_setup(workflow: Path) -> None:
    targets = declared_targets()
    for command in commands(workflow):
        assert made(command) or SETUP.match(command), f"{workflow.name}: a job runs more than make: {command}"
        assert made(command) <= targets, f"{workflow.name}: no such make target in {command}"


def test_the_jenkinsfile_runs_the_same_stages_with_the_same_targets() -> None:
    jenkinsfile = (REPO / "Jenkinsfile").read_text()
    stages = re.findall(r"stage\('([^']+)'\)", jenkinsfile)
    assert stages == ["Lint and test", "Package", "Publish", "Stage", "Promote"]
    scripts = re.findall(r"\bsh\(?\s*(?:script:\s*)?('''|')(.+?)\1", jenkinsfile, re.S)
    shell = " ".join(body for _, body in scripts)
    assert made(shell) <= declared_targets()
    delivery = {target for command in commands(REPO / ".github/workflows/delivery.yml") for target in made(command)}
    assert delivery <= made(shell), "Jenkins runs every target the GitHub pipeline runs"
    # Braces balance (no Groovy parser runs here); promotion waits for a tag and a person.
    assert jenkinsfile.count("{") == jenkinsfile.count("}")
    assert re.search(r"when \{\s*beforeInput true\s*buildingTag\(\)\s*\}\s*input \{", jenkinsfile)
