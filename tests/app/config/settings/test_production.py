"""Production settings as an app server loads them (a process of its own: settings are read once per process)."""

from __future__ import annotations

import subprocess
import sys

from tests.harness.servers import APP

_GET = """
import django
django.setup()
from django.test import Client
response = Client().get("/no-such-page", HTTP_X_FORWARDED_PROTO="https")
print(response.headers.get("Strict-Transport-Security"))
"""


def _hsts_header(**env: str) -> str:
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        # checkov:skip=CKV_SECRET_6: signs nothing that outlives the test
        "DJANGO_SECRET_KEY": "production-settings-test-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/never-connected",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        **env,
    }
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", _GET], cwd=APP, env=environment,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_hsts_comes_from_the_env_contract_over_https() -> None:
    # The one HSTS header (nginx sends none): DJANGO_HSTS_SECONDS decides its age.
    assert _hsts_header(DJANGO_HTTPS="true", DJANGO_HSTS_SECONDS="1234") == "max-age=1234; includeSubDomains"


def test_no_hsts_on_a_plain_http_site() -> None:
    assert _hsts_header(DJANGO_HTTPS="false") == "None"
