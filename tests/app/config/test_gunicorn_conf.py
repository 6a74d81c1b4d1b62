"""app/gunicorn.conf.py: every knob from the env contract, loaded the way gunicorn loads it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.harness.servers import APP

# Print the settings gunicorn itself resolves from the file.
_SHOW = """
import json
from gunicorn.config import Config
from gunicorn.app.base import Application
class Probe(Application):
    def init(self, *a): pass
    def load(self): pass
p = Probe(usage="", prog="gunicorn")
p.load_config_from_file("gunicorn.conf.py")
s = p.cfg.settings
print(json.dumps({k: s[k].get() for k in ("bind", "workers", "threads", "worker_class", "timeout",
    "graceful_timeout", "keepalive", "max_requests", "max_requests_jitter", "forwarded_allow_ips",
    "accesslog", "wsgi_app")}))
"""


def _resolved(**variables: str) -> dict[str, object]:
    environment = {"PATH": os.environ["PATH"], **variables}
    result = subprocess.run(
        [sys.executable, "-c", _SHOW], cwd=APP, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults() -> None:
    config = _resolved()
    assert config["bind"] == ["127.0.0.1:8000"]
    assert config["workers"] == os.cpu_count() * 2 + 1  # type: ignore[operator]
    assert config["worker_class"] == "gthread"
    assert config["wsgi_app"] == "config.wsgi:application"
    assert config["accesslog"] == "-"


def test_everything_comes_from_the_environment() -> None:
    config = _resolved(
        GUNICORN_BIND="unix:/run/scaleboard.sock", WEB_CONCURRENCY="3", GUNICORN_THREADS="4",
        GUNICORN_TIMEOUT="11", GUNICORN_GRACEFUL_TIMEOUT="12", GUNICORN_KEEPALIVE="13",
        GUNICORN_MAX_REQUESTS="14", GUNICORN_MAX_REQUESTS_JITTER="15", FORWARDED_ALLOW_IPS="10.0.0.1",
        GUNICORN_ACCESS_LOG="false",
    )  # fmt: skip
    assert config["bind"] == ["unix:/run/scaleboard.sock"]
    assert (config["workers"], config["threads"], config["worker_class"]) == (3, 4, "gthread")
    assert (config["timeout"], config["graceful_timeout"], config["keepalive"]) == (11, 12, 13)
    assert (config["max_requests"], config["max_requests_jitter"]) == (14, 15)
    assert config["forwarded_allow_ips"] == ["10.0.0.1"]
    assert config["accesslog"] is None


def test_paas_port() -> None:
    assert _resolved(PORT="5000")["bind"] == ["0.0.0.0:5000"]
