"""Compose, Heroku and the image all run the one gunicorn config and provide the env contract."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import yaml
from config.env import CONTRACT

from tests.harness.servers import REPO

REQUIRED = {var.name for var in CONTRACT if var.required_in_production}
DECLARED = {var.name for var in CONTRACT}


def env_file(path: str) -> dict[str, str]:
    lines = (REPO / path).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_compose_runs_migrations_once_then_scalable_web_behind_nginx() -> None:
    compose = yaml.safe_load((REPO / "docker/compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "migrate", "web", "nginx", "locust", "prometheus"}
    assert services["migrate"]["command"] == ["python3", "manage.py", "migrate", "--noinput"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "command" not in services["web"]  # the image's CMD: gunicorn -c gunicorn.conf.py
    assert services["db"]["healthcheck"]["test"][1] == "pg_isready"
    assert "./nginx/site.conf:/etc/nginx/conf.d/default.conf:ro" in services["nginx"]["volumes"]
    assert services["locust"]["profiles"] == ["loadtest"]
    assert services["prometheus"]["profiles"] == ["monitoring"]
    assert set(services["prometheus"]["volumes"]) == {
        "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro",  # the committed render
        "../deploy/monitoring/alerts.yml:/etc/prometheus/rules/scaleboard.yml:ro",  # the one rules file
    }


def test_compose_provides_the_env_contract() -> None:
    compose = yaml.safe_load((REPO / "docker/compose.yaml").read_text())
    web = compose["services"]["web"]
    assert compose["x-app"]["env_file"] == ["defaults.env", "compose.env"]
    provided = set(env_file("docker/defaults.env")) | set(env_file("docker/compose.env.example"))
    provided |= set(web["environment"])
    assert provided >= REQUIRED
    assert provided <= DECLARED


def test_committed_renders_are_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.render_committed", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_passes_hadolint() -> None:
    hadolint = REPO / ".venv/bin/hadolint"
    result = subprocess.run([str(hadolint), "docker/Dockerfile"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_the_one_gunicorn_config() -> None:
    dockerfile = (REPO / "docker/Dockerfile").read_text()
    assert 'CMD ["gunicorn", "-c", "/srv/scaleboard/app/gunicorn.conf.py"]' in dockerfile
    assert "USER 10001:10001" in dockerfile


def test_heroku_procfile_and_app_json() -> None:
    procfile = dict(line.split(": ", 1) for line in (REPO / "Procfile").read_text().splitlines() if line)
    assert procfile["web"] == "cd app && exec gunicorn -c gunicorn.conf.py"
    assert procfile["release"] == "python app/manage.py migrate --noinput"
    app = json.loads((REPO / "app.json").read_text())
    assert set(app["env"]) <= DECLARED
    # The Postgres add-on provides DATABASE_URL; Heroku provides PORT, which gunicorn.conf.py binds to.
    assert any(addon["plan"].startswith("heroku-postgresql") for addon in app["addons"])
    assert set(app["env"]) | {"DATABASE_URL"} >= REQUIRED
    assert app["env"]["DJANGO_SECRET_KEY"]["generator"] == "secret"
    # No nginx there: the app's rate limits find the client behind Heroku's router, which it must trust.
    assert app["env"]["FORWARDED_ALLOW_IPS"]["value"] == "*"


def test_python_version_pin_matches_the_project() -> None:
    pinned = (REPO / ".python-version").read_text().strip()
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={pinned}"
