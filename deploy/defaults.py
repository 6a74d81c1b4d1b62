"""The deployment defaults (deploy/defaults.env) and the version (pyproject.toml), for the Python tools.

Standard library only: `make run` reads them before any dependency is installed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS_FILE = ROOT / "deploy" / "defaults.env"


def parse(text: str) -> dict[str, str]:
    """KEY=value lines; blank lines and # comments are skipped. A line without `=` is an error."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key or " " in line:
            raise ValueError(f"{DEFAULTS_FILE.name}:{number}: expected KEY=value without spaces, got {line!r}")
        values[key] = value
    return values


def version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


DEFAULTS = parse(DEFAULTS_FILE.read_text())
APP_PORT = int(DEFAULTS["APP_PORT"])
WEB_CONCURRENCY = int(DEFAULTS["WEB_CONCURRENCY"])
STACK_PORT = int(DEFAULTS["STACK_PORT"])
SEED_SIZES = (int(DEFAULTS["SEED_USERS"]), int(DEFAULTS["SEED_POSTS"]), int(DEFAULTS["SEED_COMMENTS"]))
# The monitor host's pages and what it scrapes (Terraform's security groups take them as objects).
MONITOR_PORTS = {name: int(DEFAULTS[f"{name.upper()}_PORT"]) for name in ("prometheus", "alertmanager", "grafana")}
EXPORTER_PORTS = {"node": int(DEFAULTS["NODE_EXPORTER_PORT"]), "nginx": int(DEFAULTS["NGINX_EXPORTER_PORT"]),
                  "nginx_log": int(DEFAULTS["NGINX_LOG_EXPORTER_PORT"]),
                  "postgresql": int(DEFAULTS["POSTGRES_EXPORTER_PORT"])}  # fmt: skip
