"""The env contract: every environment variable Scaleboard reads, declared once.

This module is the only place that reads the environment. Settings, gunicorn.conf.py and every deploy
target (Ansible env file, compose, Kubernetes, app.json, Vagrant) follow the declarations below; a test
checks `.env.example` and each target against them. Regenerate the example with `make env-example`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import environ

APP_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = APP_DIR.parent

env = environ.Env()


class Rate(NamedTuple):
    """A rate limit: `limit` requests per `seconds`."""

    limit: int
    seconds: int


_PERIODS = {"s": 1, "m": 60, "h": 3600}


def _rate(text: str) -> Rate:
    count, _, period = text.strip().partition("/")
    if not (count.isascii() and count.isdigit()) or period not in _PERIODS or int(count) < 1:
        raise ValueError("a rate is N/s, N/m or N/h with N >= 1")
    return Rate(int(count), _PERIODS[period])


@dataclass(frozen=True)
class Var:
    """One variable: its type, its default (None = no default), and what it means."""

    name: str
    kind: str  # str | bool | int | list | db_url | rate
    help: str
    default: str | None = None
    required_in_production: bool = False
    example: str | None = None

    def read(self, fallback: str | None = None) -> Any:
        """The typed value: from the environment, else the default, else `fallback`."""
        raw = os.environ.get(self.name)
        if raw is None:
            raw = self.default if self.default is not None else fallback
        if raw is None or (raw.strip() == "" and self.kind in ("int", "db_url")):
            return None
        parse = {
            "str": str,
            "bool": lambda v: v.strip().lower() in env.BOOLEAN_TRUE_STRINGS,
            "int": int,
            "list": lambda v: [item.strip() for item in v.split(",") if item.strip()],
            "db_url": env.db_url_config,
            "rate": _rate,
        }[self.kind]
        try:
            return parse(raw)
        except ValueError as exc:
            raise environ.ImproperlyConfigured(f"{self.name}={raw!r} is not a valid {self.kind}: {exc}") from exc


CONTRACT: tuple[Var, ...] = (
    # --- Django -------------------------------------------------------------------------------
    Var(
        "DJANGO_SETTINGS_MODULE",
        "str",
        "Settings module: config.settings.production on servers, "
        "config.settings.local for development (manage.py's default).",
        example="config.settings.production",
    ),
    Var(
        "DJANGO_SECRET_KEY",
        "str",
        "Signs sessions and CSRF tokens. Long and random; never commit it.",
        required_in_production=True,
        example="change-me-to-50-random-characters",
    ),
    Var(
        "DATABASE_URL",
        "db_url",
        "PostgreSQL URL, e.g. postgres://user:<password>@host:5432/db "
        "(Unix socket: postgres://user@//socket/dir/db). Development defaults to the project-local cluster.",
        required_in_production=True,
        example="postgres://scaleboard:<password>@127.0.0.1:5432/scaleboard",
    ),
    Var(
        "DJANGO_ALLOWED_HOSTS",
        "list",
        "Comma-separated host names the site answers to. /healthz answers for any host.",
        required_in_production=True,
        example="scaleboard.example.com,127.0.0.1",
    ),
    Var(
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "list",
        "Comma-separated origins (scheme://host[:port]) trusted for "
        "unsafe requests when they differ from the Host, e.g. behind a TLS-terminating proxy.",
        default="",
    ),
    Var(
        "DJANGO_HTTPS",
        "bool",
        "The site is served over HTTPS: redirect HTTP, secure cookies, HSTS. Set false only for plain-HTTP labs.",
        default="true",
    ),
    Var(
        "DJANGO_HSTS_SECONDS",
        "int",
        "Strict-Transport-Security max-age when DJANGO_HTTPS is on. Start small, raise once HTTPS is known good.",
        default="86400",
    ),
    Var(
        "DJANGO_READ_DOT_ENV_FILE",
        "bool",
        "Also read variables from the repository's .env file (the environment wins).",
        default="false",
    ),
    Var("DJANGO_LOG_LEVEL", "str", "Log level of the app's JSON logs on stdout.", default="INFO"),
    Var(
        "DJANGO_MAX_BODY_BYTES",
        "int",
        "Largest request body accepted; larger ones get 400 (forms) or 413 (API).",
        default="1048576",
    ),
    Var(
        "DJANGO_STATIC_ROOT",
        "str",
        "Where collectstatic puts static files for whitenoise/nginx. Default: app/staticfiles.",
        default="",
    ),
    Var(
        "METRICS_ALLOWED_NETWORKS",
        "list",
        "Comma-separated CIDRs whose direct clients may read /metrics.",
        default="127.0.0.0/8,::1/128",
    ),
    # --- Rate limits (scaleboard/ops/rate_limits.py): N/s, N/m or N/h; counted in PostgreSQL ----
    Var(
        "RATE_LIMITS_ENABLED",
        "bool",
        "Answer 429 to requests over the RATE_LIMIT_* rates. Turn off only for load tests from one address.",
        default="true",
    ),
    Var(
        "RATE_LIMIT_SIGN_IN",
        "rate",
        "Sign-in attempts (the site's and the admin's) per client address, and per username tried.",
        default="10/m",
    ),
    Var("RATE_LIMIT_SIGN_UP", "rate", "Accounts created per client address.", default="5/h"),
    Var("RATE_LIMIT_POST", "rate", "Posts submitted per user (pages and API).", default="30/h"),
    Var("RATE_LIMIT_COMMENT", "rate", "Comments per user (pages and API).", default="120/h"),
    Var("RATE_LIMIT_VOTE", "rate", "Votes and vote withdrawals per user (pages and API).", default="600/h"),
    Var("RATE_LIMIT_TOKEN", "rate", "API tokens created per user.", default="20/h"),
    # --- Database connection behaviour -------------------------------------------------------
    Var(
        "DB_CONN_MAX_AGE",
        "int",
        "Seconds a worker keeps its database connection (0 = per request). Health-checked before reuse.",
        default="60",
    ),
    Var(
        "DB_CONNECT_TIMEOUT",
        "int",
        "Seconds to wait for a database connection before answering 503.",
        default="3",
    ),
    Var(
        "DB_STATEMENT_TIMEOUT_MS",
        "int",
        "Longest a single SQL statement may run, in milliseconds.",
        default="10000",
    ),
    Var(
        "DB_PREPARED_STATEMENTS",
        "bool",
        "Send query parameters separately and let PostgreSQL keep the plans of queries a worker repeats. "
        "Set false behind a connection pooler in transaction mode (PgBouncer before 1.21).",
        default="true",
    ),
    # --- Gunicorn (app/gunicorn.conf.py) ------------------------------------------------------
    Var(
        "GUNICORN_BIND",
        "str",
        "Address to listen on: host:port or unix:/path. Defaults to 0.0.0.0:$PORT "
        "when PORT is set (PaaS), else 127.0.0.1:8000.",
        default="",
    ),
    Var("PORT", "int", "Port given by a PaaS (Heroku); used when GUNICORN_BIND is empty.", default=""),
    Var("WEB_CONCURRENCY", "int", "Gunicorn worker processes. Default: 2 x CPU cores + 1.", default=""),
    Var("GUNICORN_THREADS", "int", "Threads per worker (more than 1 selects the gthread worker).", default="1"),
    Var(
        "GUNICORN_WORKER_CLASS",
        "str",
        "Worker class: gthread (keeps connections open, so nginx reuses them) or sync (one connection a request).",
        default="gthread",
    ),
    Var(
        "GUNICORN_TIMEOUT",
        "int",
        "Seconds before a silent worker is killed and restarted (sync: also a request running that long; gthread:"
        " a stuck worker, while DB_STATEMENT_TIMEOUT_MS and nginx's read timeout bound a request).",
        default="30",
    ),
    Var(
        "GUNICORN_GRACEFUL_TIMEOUT",
        "int",
        "Seconds workers get to finish requests on stop/reload.",
        default="30",
    ),
    Var(
        "GUNICORN_KEEPALIVE",
        "int",
        "Seconds to hold an idle keep-alive connection (gthread); nginx closes its idle ones sooner.",
        default="5",
    ),
    Var(
        "GUNICORN_MAX_REQUESTS",
        "int",
        "Restart a worker after this many requests (0 = never); bounds slow leaks.",
        default="1000",
    ),
    Var(
        "GUNICORN_MAX_REQUESTS_JITTER",
        "int",
        "Random extra requests so workers do not restart together.",
        default="100",
    ),
    Var(
        "FORWARDED_ALLOW_IPS",
        "str",
        "Proxies whose X-Forwarded-* headers are trusted (the load balancer): addresses or networks (10.0.0.0/24).",
        default="127.0.0.1,::1",
    ),
    Var(
        "PROMETHEUS_MULTIPROC_DIR",
        "str",
        "Directory where gunicorn workers share metrics. Empty: gunicorn makes a temporary one per server.",
        default="",
    ),
    Var(
        "GUNICORN_ACCESS_LOG",
        "bool",
        "Write gunicorn's access log (with request time) to stdout.",
        default="true",
    ),
)

_BY_NAME = {var.name: var for var in CONTRACT}

if _BY_NAME["DJANGO_READ_DOT_ENV_FILE"].read():
    # Opt-in so servers never pick up a stray developer file; real environment variables win.
    env.read_env(str(REPO_DIR / ".env"), overwrite=False)


def value(name: str, fallback: str | None = None) -> Any:
    """The typed value of a declared variable; `fallback` applies where the contract has no default."""
    return _BY_NAME[name].read(fallback)


def missing_for_production() -> list[str]:
    """Names of production-required variables that are unset or empty."""
    return [v.name for v in CONTRACT if v.required_in_production and not os.environ.get(v.name, "").strip()]


def example_file() -> str:
    """The text of .env.example, generated from the contract."""
    lines = [
        "# Scaleboard's environment contract, generated from app/config/env.py by `make env-example`.",
        "# Every deploy target provides these; (required) ones have no default in production.",
        "",
    ]
    for var in CONTRACT:
        marker = " (required in production)" if var.required_in_production else ""
        lines.append(f"# {var.help}{marker}")
        shown = var.example if var.example is not None else (var.default or "")
        lines.append(f"{var.name}={shown}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(example_file())
