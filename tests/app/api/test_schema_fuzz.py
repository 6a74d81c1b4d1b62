"""The API against its own document: Schemathesis generates requests from /api/openapi.json, valid and
invalid, sends them to real gunicorn (production settings, two workers) and runs every check it has:
no 5xx, statuses, content types, headers and bodies as documented, invalid data refused, valid data accepted,
405 for methods the document does not list.

In `make test-all` (the `system` tier) for its minute of run time, not for any system package.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.local.stack import manage
from tests.harness.requires import needs
from tests.harness.servers import Gunicorn, get

pytestmark = [pytest.mark.live, needs()]

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Revoking tokens by guessed ids would revoke the fuzzer's own token and turn the rest of the run into 401s.
# The path has only DELETE; test_api.py covers revocation.
EXCLUDED = "/api/tokens/{token_id}"


def test_the_api_does_what_its_document_says(live_app: Gunicorn, tmp_path: Path) -> None:
    token = manage(live_app.env, "create_api_token", "demo1", "--name", "schemathesis").strip()
    report = tmp_path / "junit.xml"
    command = [
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", live_app.url("/api/openapi.json"),
        "--checks", "all",
        "--header", f"Authorization: Token {token}",
        "--exclude-path", EXCLUDED,
        "--max-examples", "20",
        "--workers", "2",
        "--report", "junit", "--report-junit-path", str(report),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    print(result.stdout[-6000:])
    assert result.returncode == 0, f"schemathesis found problems:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"


def test_a_url_over_the_request_line_limit_is_a_documented_414(live_app: Gunicorn) -> None:
    # The fuzzer found this: gunicorn refuses a request line over 4094 bytes itself, before the app runs.
    status, _, _ = get(live_app.url("/api/posts?cursor=" + "a" * 5000))
    assert status == 414
    status, _, body = get(live_app.url("/api/openapi.json"))
    assert status == 200
    for path, operations in json.loads(body)["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                assert "414" in operation["responses"], f"{method.upper()} {path}"
