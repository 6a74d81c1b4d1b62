"""All-in-one on one fresh host: PostgreSQL, gunicorn on a unix socket, nginx (static files from disk) and
Prometheus."""

from __future__ import annotations

from tests.deploy.ansible.conftest import RunningLab, changed_per_host, check_site, make, needs_lab, ufw_rules
from tests.harness.prometheus import api, by_instance, eventually
from tests.harness.servers import get

pytestmark = needs_lab
TOPOLOGY = "all-in-one"


def test_site_answers_and_nginx_serves_static_files(running_lab: RunningLab) -> None:
    check_site(running_lab, "sb-aio", "aio-writer")
    assert running_lab.ssh("sb-aio", "test -S /run/scaleboard/gunicorn.sock && echo socket").strip() == "socket"
    assert "/srv/scaleboard/current/app/staticfiles" in running_lab.ssh("sb-aio", "sudo nginx -T 2>/dev/null")


def test_second_converge_changes_nothing(running_lab: RunningLab) -> None:
    output, seconds = make("lab-provision")
    print(f"\nall-in-one: second converge {seconds:.0f} s")
    assert changed_per_host(output) == {"sb-aio": 0}, output[-4000:]


def test_only_ssh_web_and_the_monitoring_pages_are_open(running_lab: RunningLab) -> None:
    admin = {(str(port), "10.77.0.1") for port in (22, 9090, 9093, 3000)}
    assert ufw_rules(running_lab, "sb-aio") == admin | {("80", "Anywhere"), ("443", "Anywhere")}


def test_prometheus_reads_the_app_on_its_unix_socket_and_every_exporter(running_lab: RunningLab) -> None:
    prometheus = f"http://{running_lab.host('sb-aio').address}:9090"
    expected = {(job, "sb-aio", "up") for job in ("scaleboard-app", "nginx", "nginx-log", "postgresql", "node")}
    eventually(lambda: {(t["labels"]["job"], t["labels"]["instance"], t["health"])
                        for t in api(prometheus, "targets")["activeTargets"]} == expected,
               60, "the app, nginx, PostgreSQL and the host scraped")  # fmt: skip
    # The app's own counters (the site test before this one made requests), not only up=1.
    counted = 'sum by (instance) (scaleboard_http_requests_total{job="scaleboard-app"})'
    eventually(lambda: by_instance(prometheus, counted).get("sb-aio", 0) > 0, 30, "the app's requests counted")
    # ...through nginx's loopback listener only: /metrics stays closed to the world.
    assert get(f"{running_lab.url}/metrics")[0] == 403
