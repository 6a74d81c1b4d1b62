"""All-in-one on one fresh host: PostgreSQL, gunicorn on a unix socket and nginx (static files from disk)."""

from __future__ import annotations

from tests.deploy.ansible.conftest import RunningLab, changed_per_host, check_site, make, needs_lab

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


def test_only_ssh_and_web_are_open(running_lab: RunningLab) -> None:
    status = running_lab.ssh("sb-aio", "sudo ufw status")
    rules = {line.split()[0] for line in status.splitlines() if "ALLOW" in line}
    assert rules == {"22/tcp", "80/tcp", "443/tcp"}, status
