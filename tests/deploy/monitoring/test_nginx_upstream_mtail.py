"""deploy/monitoring/nginx-upstream.mtail counts each kind of upstream error in nginx's error log, and nothing else."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.monitoring.render import RULES

pytestmark = pytest.mark.skipif(
    not shutil.which("mtail"), reason="needs mtail (sudo apt-get install mtail; `sudo make test-all` does)"
)
PROGRAM = RULES.parent / "nginx-upstream.mtail"
# nginx's own wording (ngx_http_upstream.c), one line per kind, and lines that are not upstream errors.
LINES = """\
2026/12/02 23:03:05 [error] 2018#2018: *1 connect() failed (111: Connection refused) while connecting to upstream, \
client: 10.77.0.1, server: _, request: "GET / HTTP/1.1", upstream: "http://10.77.0.22:8000/", host: "10.77.0.11"
2026/12/02 23:03:06 [error] 2018#2018: *2 upstream timed out (110: Connection timed out) while reading response \
header from upstream, client: 10.77.0.1, server: _, request: "GET /new HTTP/1.1", upstream: "http://10.77.0.21:8000/new"
2026/12/02 23:03:07 [error] 2018#2018: *3 no live upstreams while connecting to upstream, client: 10.77.0.1, \
server: _, request: "GET / HTTP/1.1", upstream: "http://scaleboard_app/", host: "10.77.0.11"
2026/12/02 23:03:08 [error] 2018#2018: *4 upstream prematurely closed connection while reading response header \
from upstream, client: 10.77.0.1, server: _, request: "POST /submit HTTP/1.1", upstream: "http://10.77.0.21:8000/submit"
2026/12/02 23:03:09 [warn] 2018#2018: *5 a client request body is buffered to a temporary file
2026/12/02 23:03:10 [error] 2018#2018: *6 connect() failed (111: Connection refused) while connecting to upstream, \
client: 10.77.0.1, server: _, request: "GET /api/posts HTTP/1.1", upstream: "http://10.77.0.22:8000/api/posts"
2026/12/02 23:03:11 [error] 2018#2018: *7 open() "/srv/x/favicon.ico" failed (2: No such file or directory)
"""


def test_each_upstream_error_is_counted_by_its_reason(tmp_path: Path) -> None:
    (tmp_path / "progs").mkdir()
    shutil.copy(PROGRAM, tmp_path / "progs")
    log = tmp_path / "error.log"
    log.write_text(LINES)
    result = subprocess.run(
        ["mtail", "--one_shot", "--one_shot_format=prometheus", "--progs", str(tmp_path / "progs"), "--logs", str(log),
         "--address", "127.0.0.1", "--port", "0", "--logtostderr"],  # its own log in /tmp otherwise
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    counted = dict(re.findall(r'^nginx_upstream_errors_total\{.*reason="(\w+)"\} (\d+)$', result.stdout, re.M))
    assert counted == {"connect": "2", "timeout": "1", "no_live_upstreams": "1", "closed": "1"}, result.stdout
