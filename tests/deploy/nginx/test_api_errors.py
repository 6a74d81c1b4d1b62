"""nginx's own refusals under /api/ are JSON in the API's error shape; elsewhere they stay pages."""

from __future__ import annotations

import json
from pathlib import Path

from tests.deploy.nginx.echo import nginx_in_front_of_echo
from tests.harness.requires import needs
from tests.harness.servers import free_port, get

pytestmark = needs("nginx")


def test_a_body_over_the_limit_is_a_json_413_under_api(workdir: Path) -> None:
    with nginx_in_front_of_echo(workdir, nginx_client_max_body_size=100) as port:
        status, headers, body = get(f"http://127.0.0.1:{port}/api/posts", data=b"x" * 200)
        assert (status, headers["Content-Type"]) == (413, "application/json")
        assert "the limit is 100 bytes" in json.loads(body)["error"]
        status, headers, _ = get(f"http://127.0.0.1:{port}/submit", data=b"x" * 200)
        assert (status, headers["Content-Type"].split(";")[0]) == (413, "text/html")
        assert get(f"http://127.0.0.1:{port}/api/posts", data=b"x" * 50)[0] == 200


def test_no_app_server_is_a_json_503_under_api(workdir: Path) -> None:
    with nginx_in_front_of_echo(workdir, upstream_port=free_port()) as port:  # nobody listens there
        status, headers, body = get(f"http://127.0.0.1:{port}/api/posts")
        assert (status, headers["Content-Type"]) == (503, "application/json")
        assert "unavailable" in json.loads(body)["error"]
        status, headers, _ = get(f"http://127.0.0.1:{port}/")
        assert (status, headers["Content-Type"].split(";")[0]) == (502, "text/html")
