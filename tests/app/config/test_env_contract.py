"""The env contract: one declaration, an example file in step with it, production that refuses to guess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from config import env
from environ import ImproperlyConfigured

from tests.harness.servers import APP, REPO, production_env


def test_env_example_is_generated_from_the_contract() -> None:
    committed = (REPO / ".env.example").read_text()
    assert committed == env.example_file(), "run `make env-example` and commit .env.example"


def test_every_variable_read_anywhere_is_declared() -> None:
    declared = {var.name for var in env.CONTRACT}
    used: set[str] = set()
    for path in [*APP.rglob("*.py")]:
        used.update(re.findall(r"""value\(["']([A-Z0-9_]+)["']""", path.read_text()))
    assert used <= declared
    # Read by Django itself (manage.py, wsgi.py) and by env.py at import.
    assert declared - used == {"DJANGO_SETTINGS_MODULE", "DJANGO_READ_DOT_ENV_FILE"}


def test_only_env_py_reads_the_environment() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in APP.rglob("*.py")
        if path.name != "env.py" and re.search(r"os\.environ\.get|os\.getenv|environ\.Env\(", path.read_text())
    ]
    assert offenders == []


def test_typed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", " a.example , b.example,, ")
    monkeypatch.setenv("DJANGO_HTTPS", "False")
    monkeypatch.setenv("DB_CONN_MAX_AGE", "7")
    monkeypatch.setenv("PORT", "")
    assert env.value("DJANGO_ALLOWED_HOSTS") == ["a.example", "b.example"]
    assert env.value("DJANGO_HTTPS") is False
    assert env.value("DB_CONN_MAX_AGE") == 7
    assert env.value("PORT") is None


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_CONN_MAX_AGE", "sixty")
    with pytest.raises(ImproperlyConfigured, match="DB_CONN_MAX_AGE='sixty' is not a valid int"):
        env.value("DB_CONN_MAX_AGE")


def _production_python(code: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=APP, env=environment, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_its_secrets() -> None:
    bare = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    result = _production_python("import django; django.setup()", bare)
    assert result.returncode != 0
    assert (
        "Missing required environment variables: DJANGO_SECRET_KEY, DATABASE_URL, DJANGO_ALLOWED_HOSTS" in result.stderr
    )


def test_production_passes_the_deploy_checklist(tmp_path: Path) -> None:
    environment = production_env(os.environ["DATABASE_URL"], tmp_path / "static")
    del environment["DJANGO_HTTPS"]  # the default: HTTPS on
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=APP, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_local_settings_explain_a_missing_database() -> None:
    bare = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    result = _production_python("import django; django.setup()", bare)
    assert result.returncode != 0
    assert "DATABASE_URL is not set: use `make run`" in result.stderr


def test_dot_env_is_read_only_when_asked(tmp_path: Path) -> None:
    code = "from config.env import value; print(value('DJANGO_LOG_LEVEL'))"
    dot_env = REPO / ".env"
    if dot_env.exists():
        pytest.skip("a developer's .env exists in the checkout; not touching it")
    dot_env.write_text("DJANGO_LOG_LEVEL=DEBUG\n")
    try:
        base = {"PATH": os.environ["PATH"]}
        assert _production_python(code, base).stdout.strip() == "INFO"
        assert _production_python(code, {**base, "DJANGO_READ_DOT_ENV_FILE": "true"}).stdout.strip() == "DEBUG"
        explicit = {**base, "DJANGO_READ_DOT_ENV_FILE": "true", "DJANGO_LOG_LEVEL": "WARNING"}
        assert _production_python(code, explicit).stdout.strip() == "WARNING"
    finally:
        dot_env.unlink()
