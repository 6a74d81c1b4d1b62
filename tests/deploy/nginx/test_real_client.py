"""Behind a load balancer, through real nginx: the rate limit keys on the client the trusted balancer names,
and an X-Forwarded-For from anyone else is ignored."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.nginx.echo import nginx_in_front_of_echo
from tests.harness.requires import needs

BALANCER = "127.0.0.2"  # a loopback address of its own: the "load balancer" in front of nginx
CLIENT = "127.0.0.1"  # anyone else
pytestmark = needs("nginx")


@pytest.fixture
def nginx_behind_a_balancer(workdir: Path) -> Iterator[int]:
    with nginx_in_front_of_echo(workdir, nginx_trusted_proxies=[f"{BALANCER}/32"], nginx_rate_limit="1r/m",
                                nginx_rate_limit_burst=1) as port:  # fmt: skip
        yield port


def _login(port: int, source: str, forwarded: str) -> tuple[int, str]:
    """A sign-in POST from `source` (the TCP peer nginx sees) carrying `forwarded` as X-Forwarded-For."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("POST", "/login", body=b"username=x", headers={"X-Forwarded-For": forwarded})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_clients_behind_a_trusted_balancer_are_limited_apart(nginx_behind_a_balancer: int) -> None:
    port = nginx_behind_a_balancer
    first = [_login(port, BALANCER, "198.51.100.1") for _ in range(3)]
    assert [status for status, _ in first] == [200, 200, 429]  # 1r/m with a burst of 1
    # What the app is told: the client the balancer named, once.
    assert first[0][1] == "198.51.100.1"
    status, forwarded = _login(port, BALANCER, "198.51.100.2")
    assert (status, forwarded) == (200, "198.51.100.2")
    # A client-written entry further left is neither believed nor lost: the app sees it left of the real one.
    assert _login(port, BALANCER, "6.6.6.6, 198.51.100.3") == (200, "6.6.6.6, 198.51.100.3")


def test_a_spoofed_header_from_an_untrusted_address_is_ignored(nginx_behind_a_balancer: int) -> None:
    port = nginx_behind_a_balancer
    answers = [_login(port, CLIENT, f"203.0.113.{i}") for i in range(3)]
    # Three "different clients" by their header, one client by its address: limited as one.
    assert [status for status, _ in answers] == [200, 200, 429]
    # nginx appends the address it saw, so the app (trusting only nginx) finds the real client rightmost.
    assert answers[0][1] == f"203.0.113.0, {CLIENT}"
