"""Split topology on fresh hosts: db + 2 app servers + nginx load balancer, converged by `make lab-provision`."""

from __future__ import annotations

import re

from tests.deploy.ansible.conftest import RunningLab, changed_per_host, check_site, make, needs_lab
from tests.harness.servers import PAST_THE_MICROCACHE
from tests.harness.traffic import Traffic

pytestmark = needs_lab
TOPOLOGY, APP_SERVERS = "split", 2
ADMIN = "10.77.0.1"


def test_site_answers_through_the_load_balancer(running_lab: RunningLab) -> None:
    check_site(running_lab, "sb-app1", "lab-writer")  # static files from the app servers' whitenoise


def test_second_converge_changes_nothing(running_lab: RunningLab) -> None:
    output, seconds = make("lab-provision")
    print(f"\nsplit: second converge {seconds:.0f} s")
    changed = changed_per_host(output)
    assert set(changed) == {"sb-db", "sb-lb", "sb-app1", "sb-app2"}
    assert changed == dict.fromkeys(changed, 0), output[-4000:]


def ufw_rules(running_lab: RunningLab, host: str) -> set[tuple[str, str]]:
    status = running_lab.ssh(host, "sudo ufw status")
    assert "Status: active" in status
    return set(re.findall(r"^(\d+)/tcp\s+ALLOW\s+(\S+)", status, re.M))


def test_each_host_opens_only_what_its_role_needs(running_lab: RunningLab) -> None:
    apps = [h.address for h in running_lab.in_group("app")]
    lb = running_lab.host("sb-lb").address
    assert ufw_rules(running_lab, "sb-db") == {("22", ADMIN)} | {("5432", a) for a in apps}
    assert ufw_rules(running_lab, "sb-app1") == {("22", ADMIN), ("8000", lb)}
    assert ufw_rules(running_lab, "sb-lb") == {("22", ADMIN), ("80", "Anywhere"), ("443", "Anywhere")}


def test_hosts_are_hardened(running_lab: RunningLab) -> None:
    for host in ("sb-db", "sb-lb", "sb-app1"):
        sshd = running_lab.ssh(host, "sudo sshd -T")
        assert "passwordauthentication no" in sshd
        assert "permitrootlogin no" in sshd
    assert running_lab.ssh("sb-app1", "sudo stat -c '%a %U' /etc/scaleboard/app.env").split() == ["600", "root"]
    users = set(running_lab.ssh("sb-app1", "ps -o user= -C gunicorn").split())
    assert users == {"scaleboard"}, f"gunicorn runs as {users}"
    probe = "timeout 3 bash -c '</dev/tcp/{}/5432' && echo open || echo closed"
    db = running_lab.host("sb-db").address
    assert running_lab.ssh("sb-lb", probe.format(db)).strip() == "closed", "the LB must not reach PostgreSQL"
    assert running_lab.ssh("sb-app1", probe.format(db)).strip() == "open"


def current_releases(running_lab: RunningLab) -> set[str]:
    return {running_lab.ssh(h.name, "readlink /srv/scaleboard/current").strip() for h in running_lab.in_group("app")}


def test_rolling_deploy_drops_no_request_and_rollback_returns(running_lab: RunningLab) -> None:
    before = current_releases(running_lab)
    urls = [f"{running_lab.url}/", f"{running_lab.url}/new", f"{running_lab.url}/healthz"]
    # Past the microcache, which would answer most of these itself: the deploy is about the app servers.
    with Traffic(urls, clients=4, max_seconds=600, headers=PAST_THE_MICROCACHE) as traffic:
        _, seconds = make("deploy", "INVENTORY=lab", "LABEL=rolling-test")
    print(
        f"\nsplit: rolling deploy {seconds:.0f} s, {sum(traffic.statuses.values())} requests {dict(traffic.statuses)}"
    )
    assert not traffic.errors, traffic.errors[:5]
    assert set(traffic.statuses) == {200}, dict(traffic.statuses)
    assert sum(traffic.statuses.values()) > 100
    after = current_releases(running_lab)
    assert len(after) == 1
    assert after != before
    assert after.pop().endswith("-rolling-test")

    with Traffic(urls, clients=4, max_seconds=600, headers=PAST_THE_MICROCACHE) as traffic:
        make("rollback", "INVENTORY=lab")
    assert not traffic.errors, traffic.errors[:5]
    assert set(traffic.statuses) == {200}, dict(traffic.statuses)
    assert current_releases(running_lab) == before
