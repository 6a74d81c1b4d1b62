"""Split topology on fresh hosts: db + 2 app servers + nginx load balancer + a monitor host, converged by
`make lab-provision`."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy import restore_drill
from deploy.lab import lab as lab_module
from deploy.monitoring.render import RULES
from tests.deploy.ansible.conftest import (
    RunningLab,
    changed_per_host,
    check_site,
    make,
    needs_lab,
    sign_up,
    ufw_rules,
)
from tests.deploy.conftest import Published, needs_podman
from tests.harness.moto_s3 import MotoS3
from tests.harness.prometheus import AlertReceiver, alert_states, api, by_instance, eventually, panel_queries
from tests.harness.requires import needs
from tests.harness.servers import PAST_THE_MICROCACHE, REPO
from tests.harness.traffic import Traffic

pytestmark = needs_lab
TOPOLOGY, APP_SERVERS = "split", 2
ADMIN = "10.77.0.1"
# Where the lab's Alertmanager sends alerts (inventories/lab/group_vars/all.yml: monitoring_alert_webhooks).
ALERT_RECEIVER = (ADMIN, 9799)


def test_site_answers_through_the_load_balancer(running_lab: RunningLab) -> None:
    check_site(running_lab, "sb-app1", "lab-writer")  # static files from the app servers' whitenoise


def test_second_converge_changes_nothing(running_lab: RunningLab) -> None:
    output, seconds = make("lab-provision")
    print(f"\nsplit: second converge {seconds:.0f} s")
    changed = changed_per_host(output)
    assert set(changed) == {"sb-db", "sb-lb", "sb-monitor", "sb-app1", "sb-app2"}
    assert changed == dict.fromkeys(changed, 0), output[-4000:]


def test_each_host_opens_only_what_its_role_needs(running_lab: RunningLab) -> None:
    apps = [h.address for h in running_lab.in_group("app")]
    lb, monitor = running_lab.host("sb-lb").address, running_lab.host("sb-monitor").address
    ssh, node = {("22", ADMIN)}, {("9100", monitor)}  # SSH from the admins, host metrics to the monitor host
    assert ufw_rules(running_lab, "sb-db") == ssh | node | {("5432", a) for a in apps} | {("9187", monitor)}
    assert ufw_rules(running_lab, "sb-app1") == ssh | node | {("8000", lb), ("8000", monitor)}
    assert ufw_rules(running_lab, "sb-lb") == ssh | node | {
        ("80", "Anywhere"),
        ("443", "Anywhere"),
        ("9113", monitor),
        ("3903", monitor),
    }
    assert ufw_rules(running_lab, "sb-monitor") == ssh | {("9090", ADMIN), ("9093", ADMIN), ("3000", ADMIN)}


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


@contextlib.contextmanager
def staging_lab() -> Iterator[RunningLab]:
    """A second lab beside this one, all-in-one and converged: the staging place. Removed afterwards, pass or fail."""
    try:
        make("lab-up", "LAB=lab-staging", "TOPOLOGY=all-in-one")
        lab = lab_module.Lab.load(lab_module.lab_dir("lab-staging"))
        assert lab is not None
        _, seconds = make("provision", "INVENTORY=lab-staging")
        print(f"\nlab-staging (all-in-one): first converge {seconds:.0f} s")
        yield RunningLab(lab, seconds)
    finally:
        subprocess.run(["make", "--no-print-directory", "lab-down", "LAB=lab-staging"], cwd=REPO, capture_output=True,
                       timeout=300)  # fmt: skip


@needs_podman
@needs("docker-registry", "skopeo")
def test_published_builds_are_staged_on_a_second_lab_promoted_here_and_rolled_back_by_one_digest(
    running_lab: RunningLab, published: Published, published_next: Published, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The delivery path between two lab topologies. Each of two builds (two commits) that `make publish` pushed is
    staged on an all-in-one lab beside this one (`make stage`: the release fetched by digest, rolled out,
    smoke-checked); `make promote` then rolls exactly that digest out to this split lab, one app server at a time.
    `make rollback-promotion` returns both app servers to the first build, by its digest."""
    monkeypatch.setenv("REPORTS", str(tmp_path / "reports"))  # the smoke check's Locust report
    records = tmp_path / "delivery"
    first = published.manifest["version"]
    with staging_lab() as staging:
        knobs = ["REGISTRY_TLS_VERIFY=false", f"DELIVERY_DIR={records}", "STAGE_TO=lab-staging",
                 f"STAGE_URL={staging.url}", "PROMOTE_TO=lab"]  # fmt: skip
        for build in (published, published_next):
            version, release = build.manifest["version"], build.references["release"]
            output, seconds = make("stage", f"VERSION={version}", f"REGISTRY={build.registry.address}", *knobs)
            assert f"release {version} from {release}" in output, "staged by its digest"
            assert json.loads((records / "staged.json").read_text())["release"] == release
            assert re.search(r"^smoke: vote on it +ok", output, re.M), output[-3000:]
            assert "loadtest: thresholds met" in output
            assert staging.ssh("sb-staging-aio", "readlink /srv/scaleboard/current").strip().endswith(f"/{version}")
            print(f"split: make stage {version} on lab-staging (fetch, roll out, smoke + Locust) {seconds:.0f} s")

            output, seconds = make("promote", f"VERSION={version}", *knobs)
            assert f"release {version} from {release}" in output, "promoted by the digest staging ran"
            assert json.loads((records / "promoted.json").read_text())[-1]["place"] == "lab"
            assert {path.rsplit("/", 1)[1] for path in current_releases(running_lab)} == {version}
            print(f"split: make promote to the split lab (2 app servers, one at a time) {seconds:.0f} s")

    output, seconds = make("rollback-promotion", *knobs)
    assert f"release {first} from {published.references['release']}" in output, "back by the first one's digest"
    assert {path.rsplit("/", 1)[1] for path in current_releases(running_lab)} == {first}
    status, page = sign_up(running_lab.url, "lab-rolled-back")
    assert status == 200
    assert 'href="/user/lab-rolled-back"' in page, "the rolled-back build writes"
    print(f"split: make rollback-promotion {seconds:.0f} s")


def prometheus(running_lab: RunningLab) -> str:
    return f"http://{running_lab.host('sb-monitor').address}:9090"


def test_prometheus_scrapes_every_host_the_inventory_names(running_lab: RunningLab) -> None:
    hosts = {h.name for h in running_lab.lab.hosts}
    apps = {h.name for h in running_lab.in_group("app")}
    expected = {("node", h) for h in hosts} | {("scaleboard-app", a) for a in apps}
    expected |= {("nginx", "sb-lb"), ("nginx-log", "sb-lb"), ("postgresql", "sb-db")}

    def targets_up() -> set[tuple[str, str]] | None:
        active = api(prometheus(running_lab), "targets", state="active")["activeTargets"]
        found = {(t["labels"]["job"], t["labels"]["instance"]) for t in active if t["health"] == "up"}
        return found if found == expected else None

    eventually(targets_up, 60, f"all {len(expected)} targets up")
    # The exporters answer with their subjects' numbers, not only with up=1.
    assert by_instance(prometheus(running_lab), "pg_up") == {"sb-db": 1.0}
    assert by_instance(prometheus(running_lab), "nginx_up") == {"sb-lb": 1.0}
    # Only the monitor host may read them (the firewall): the load balancer cannot.
    probe = "timeout 3 bash -c '</dev/tcp/{}/9187' && echo open || echo closed"
    assert running_lab.ssh("sb-lb", probe.format(running_lab.host("sb-db").address)).strip() == "closed"


def test_load_is_counted_per_app_server_and_every_dashboard_has_data(running_lab: RunningLab) -> None:
    urls = [f"{running_lab.url}/", f"{running_lab.url}/new", f"{running_lab.url}/api/posts"]
    with Traffic(urls, clients=4, max_seconds=15, headers=PAST_THE_MICROCACHE) as traffic:
        time.sleep(15)
    assert sum(traffic.statuses.values()) > 100, dict(traffic.statuses)
    apps, url = {h.name for h in running_lab.in_group("app")}, prometheus(running_lab)
    rates = eventually(
        lambda: (found := by_instance(url, "sum by (instance) (rate(scaleboard_http_requests_total[1m]))"))
        and set(found) == apps and all(rate > 0 for rate in found.values()) and found,
        30, "a request rate above zero on every app server",
    )  # fmt: skip
    series = by_instance(url, 'count by (instance) ({job="scaleboard-app"})')
    print(f"\nsplit monitoring: requests/s per app server {rates}; series per app server {series}")
    for dashboard in sorted((RULES.parent / "dashboards").glob("*.json")):
        for title, expr in panel_queries(dashboard):
            eventually(lambda e=expr: api(url, "query", query=e)["result"], 30,
                       f"{dashboard.stem}: {title}: {expr}")  # fmt: skip


def test_make_loadtest_reports_what_the_servers_did(running_lab: RunningLab, tmp_path: Path) -> None:
    prometheus_url = prometheus(running_lab)
    output, _ = make("loadtest", f"HOST={running_lab.url}", "SCENARIO=read", "USERS=10", "SPAWN_RATE=10",
                     "RUN_TIME=20s", f"PROMETHEUS={prometheus_url}", f"REPORTS={tmp_path}", timeout=300)  # fmt: skip
    (report,) = tmp_path.glob("*/servers.md")
    text = report.read_text()
    assert text in output, "printed as well as written"
    rows = {
        tuple(cell.strip() for cell in line.split("|")[1:4]) for line in text.splitlines()[4:] if line.startswith("|")
    }
    hosts = {h.name for h in running_lab.lab.hosts}
    assert {r[2] for r in rows if r[1] == "CPU busy (cores)"} == hosts
    assert {r[2] for r in rows if r[1] == "requests/s"} == {h.name for h in running_lab.in_group("app")}
    assert {(r[1], r[2]) for r in rows if r[0] == "PostgreSQL"} >= {("transactions/s", "sb-db"),
                                                                    ("max_connections", "sb-db")}  # fmt: skip
    assert "Not scraped" not in text


def test_a_stopped_app_server_pages_through_alertmanager_and_resolves(running_lab: RunningLab) -> None:
    alert = {"alertname": "ScaleboardAppServerDown", "instance": "sb-app2"}
    with AlertReceiver(*ALERT_RECEIVER) as receiver:
        stopped = time.monotonic()
        running_lab.ssh("sb-app2", "sudo systemctl stop scaleboard")
        try:
            # Readers meanwhile: nginx's attempts at the stopped server fail (and are retried on the other), and
            # mtail counts them from nginx's error log.
            with Traffic([f"{running_lab.url}/new"], clients=2, max_seconds=10, headers=PAST_THE_MICROCACHE) as traffic:
                time.sleep(10)
            assert set(traffic.statuses) == {200}, dict(traffic.statuses)
            errors = 'sum(nginx_upstream_errors_total{job="nginx-log",reason="connect"})'
            eventually(lambda: api(prometheus(running_lab), "query", query=errors)["result"], 30,
                       "nginx's failed attempts at the stopped server counted")  # fmt: skip
            # `for: 1m` after the first failed scrape (every 5 s in the lab), then Alertmanager's group_wait.
            fired = eventually(
                lambda: receiver.received("firing", **alert), 150, "the alert reached Alertmanager's webhook"
            )
            assert set(alert_states(prometheus(running_lab), alert["alertname"])) == {"sb-app2"}, "only the stopped one"
        finally:
            running_lab.ssh("sb-app2", "sudo systemctl start scaleboard")
        restarted = time.monotonic()
        resolved = eventually(lambda: receiver.received("resolved", **alert), 90, "the resolution reached the webhook")
    print(f"\nsplit monitoring: app-down alert at the webhook {fired - stopped:.0f} s after the stop; "
          f"resolved there {resolved - restarted:.0f} s after the restart")  # fmt: skip


def backups(running_lab: RunningLab) -> list[dict[str, object]]:
    """pgBackRest's backups of the stanza, oldest first."""
    info = running_lab.ssh("sb-db", "sudo -u postgres pgbackrest --stanza=scaleboard --output=json info")
    (stanza,) = json.loads(info)
    assert stanza["status"]["code"] == 0, stanza["status"]
    assert stanza["cipher"] == "aes-256-cbc"
    return list(stanza["backup"])


def test_the_converge_backed_up_and_make_backup_adds_one_prometheus_sees(running_lab: RunningLab) -> None:
    # The first converge ended with a full backup; `make backup` adds one of the type asked for.
    assert [b["type"] for b in backups(running_lab)] == ["full"]
    make("backup", "INVENTORY=lab", "BACKUP_TYPE=diff")
    assert [b["type"] for b in backups(running_lab)] == ["full", "diff"]
    # Encrypted at rest: the repository's files are OpenSSL ciphertext, not pgBackRest's own text.
    head = running_lab.ssh("sb-db", "sudo head -c 8 /var/lib/pgbackrest/backup/scaleboard/backup.info")
    assert head == "Salted__", head
    # Both timers are scheduled; the node exporter publishes the newest backup's time; the alert is quiet.
    timers = running_lab.ssh("sb-db", "systemctl list-timers --all --no-legend 'pgbackrest-*'")
    assert {"pgbackrest-full.timer", "pgbackrest-diff.timer"} <= set(timers.split()), timers
    age = 'time() - max by (instance) (scaleboard_backup_last_success_timestamp_seconds{type="diff"})'
    seen = eventually(lambda: by_instance(prometheus(running_lab), age), 30, "the diff backup's time in Prometheus")
    assert set(seen) == {"sb-db"}, seen
    assert 0 < seen["sb-db"] < 300, seen
    assert by_instance(prometheus(running_lab), "scaleboard_backup_repository_ok") == {"sb-db": 1.0}
    assert alert_states(prometheus(running_lab), "BackupTooOld") == {}


def test_restore_drill_from_an_s3_repository_after_the_db_host_is_lost(running_lab: RunningLab, tmp_path: Path) -> None:
    """The drill (make restore-drill) with its repository in S3 (moto, over TLS): the db host is killed
    mid-write, a fresh one converged, the database restored to the last archived WAL and then to a time."""
    bucket = "scaleboard-backups"
    try:
        with MotoS3(ADMIN, tmp_path) as s3:
            s3.client().create_bucket(Bucket=bucket)
            repository = s3.repository_vars(bucket, "/db")
            lab_module.write_inventory(running_lab.lab, host_vars={"sb-db": repository})
            make("provision", "INVENTORY=lab", "ANSIBLE_ARGS=--limit sb-db")
            assert any(key.startswith("db/backup/scaleboard/") for key in s3.keys(bucket)), "a full backup in S3"
            result = restore_drill.run(restore_drill.Drill("lab"), tail_seconds=10)
            assert any(key.startswith("db/archive/scaleboard/") for key in s3.keys(bucket)), "WAL archived to S3"
    finally:
        lab_module.write_inventory(running_lab.lab)
    print(f"\nsplit restore drill: {json.dumps(result)}")
    assert result["kept at the target"] == [1, 2], "exactly the marks committed before the target"
    assert result["marks written"] > 4, "marks were written after the last archived one"
    # The app's own data came back with the database: the front page still lists the seeded posts.
    check_site(running_lab, "sb-app1", "lab-after-restore")
