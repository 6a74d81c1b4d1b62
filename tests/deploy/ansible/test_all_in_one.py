"""All-in-one on one fresh host: PostgreSQL, gunicorn on a unix socket, nginx (static files from disk) and
Prometheus."""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from deploy.lab import lab as lab_module
from tests.deploy.ansible.conftest import RunningLab, changed_per_host, check_site, make, needs_lab, ufw_rules
from tests.deploy.conftest import Published, compose_stack, needs_podman, podman
from tests.harness.pebble import Pebble
from tests.harness.prometheus import api, by_instance, eventually
from tests.harness.requires import needs
from tests.harness.servers import REPO, get

pytestmark = needs_lab
TOPOLOGY = "all-in-one"
ADMIN = "10.77.0.1"
DOMAIN = "aio.scaleboard.test"


def test_site_answers_and_nginx_serves_static_files(running_lab: RunningLab) -> None:
    check_site(running_lab, "sb-aio", "aio-writer")
    assert running_lab.ssh("sb-aio", "test -S /run/scaleboard/gunicorn.sock && echo socket").strip() == "socket"
    assert "/srv/scaleboard/current/app/staticfiles" in running_lab.ssh("sb-aio", "sudo nginx -T 2>/dev/null")


def test_second_converge_changes_nothing(running_lab: RunningLab) -> None:
    output, seconds = make("lab-provision")
    print(f"\nall-in-one: second converge {seconds:.0f} s")
    assert changed_per_host(output) == {"sb-aio": 0}, output[-4000:]
    # No domain, no TLS: the run ends saying so.
    assert "passwords and session cookies cross" in output


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


def current_release(running_lab: RunningLab) -> str:
    return running_lab.ssh("sb-aio", "readlink -f /srv/scaleboard/current").strip().rsplit("/", 1)[1]


@needs_podman
@needs("docker-registry", "skopeo", "podman-compose")
def test_a_build_staged_on_compose_is_promoted_to_the_lab_by_the_digests_staging_resolved(
    running_lab: RunningLab, published: Published, compose_images: list[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Staging and production of different kinds: `make stage STAGE_TO=compose` runs the published image on a compose
    stack (pulled by digest, nothing built) and smoke-checks it at the stack's URL; `make promote PROMOTE_TO=lab`
    deploys the same build's release, by the digest staging resolved, to the lab's server. Promotion is refused
    before staging. (Lab to lab, with a rollback: tests/deploy/ansible/test_split.py.)"""
    monkeypatch.setenv("REPORTS", str(tmp_path / "reports"))  # the smoke check's Locust report
    records, version = tmp_path / "delivery", published.manifest["version"]
    knobs = ["REGISTRY_TLS_VERIFY=false", f"DELIVERY_DIR={records}", "STAGE_TO=compose", "PROMOTE_TO=lab"]
    refused = subprocess.run(["make", "--no-print-directory", "promote", f"VERSION={version}", *knobs], cwd=REPO,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert refused.returncode != 0
    assert f"{version} has not passed staging (last staged: none)" in refused.stderr
    with compose_stack(compose_images, "SCALE=1") as staging:
        output, seconds = make("stage", f"VERSION={version}", f"REGISTRY={published.registry.address}",
                               *staging.knobs, *knobs)  # fmt: skip
        staged = json.loads((records / "staged.json").read_text())
        assert (staged["release"], staged["image"]) == (
            published.references["release"],
            published.references["image"],
        )
        assert staged["url"] == staging.url, "compose is smoke-checked at its own URL"
        web = podman("inspect", "--format", "{{.ImageName}}", f"{staging.project}_web_1").stdout.strip()
        assert web == published.references["image"], "staging ran the published image by digest"
        assert re.search(r"^smoke: vote on it +ok", output, re.M), output[-3000:]
        assert "loadtest: thresholds met" in output
        print(f"\nall-in-one: make stage on compose (pull by digest, smoke + Locust) {seconds:.0f} s")

    output, seconds = make("promote", f"VERSION={version}", *knobs)
    assert f"release {version} from {staged['release']}" in output, "promoted by the digest staging ran"
    promoted = json.loads((records / "promoted.json").read_text())[-1]
    assert (promoted["release"], promoted["image"], promoted["place"]) == (staged["release"], staged["image"], "lab")
    assert published.manifest["commit"].startswith(promoted["commit"])
    assert current_release(running_lab) == version
    assert get(f"{running_lab.url}/readyz")[0] == 200
    print(f"all-in-one: make promote to the lab {seconds:.0f} s")


def served_certificate(address: str, root: Path, name: str = DOMAIN) -> dict[str, Any]:
    """The certificate nginx serves for `name` on address:443, verified against `root` and the name."""
    context = ssl.create_default_context(cafile=str(root))
    with (
        socket.create_connection((address, 443), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        return dict(tls.getpeercert() or {})


def https_headers(address: str, path: str, root: Path) -> str:
    """The response headers of https://DOMAIN<path> (curl: the name resolved to `address`, `root` trusted)."""
    return subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-D", "-", "--resolve", f"{DOMAIN}:443:{address}", "--cacert", str(root),
         f"https://{DOMAIN}{path}"], check=True, capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip


def test_self_signed_tls_encrypts_a_site_without_a_domain(running_lab: RunningLab, tmp_path: Path) -> None:
    """scaleboard_tls: self-signed: nginx serves a certificate made on the host for its name, HTTP redirects, and
    the run no longer warns. (The next test moves the same host on to an ACME certificate.)"""
    lab_module.write_inventory(running_lab.lab, host_vars={"sb-aio": {"scaleboard_tls": "self-signed"}})
    output, seconds = make("lab-provision")
    print(f"\nall-in-one: converge to HTTPS with a self-signed certificate {seconds:.0f} s")
    assert "passwords and session cookies cross" not in output
    made = tmp_path / "self-signed.pem"
    made.write_text(running_lab.ssh("sb-aio", "sudo cat /etc/ssl/scaleboard/fullchain.pem"))
    # Verified against the file on the host, for the host's name: the one made there is the one served.
    served = served_certificate(running_lab.host("sb-aio").address, made, "sb-aio")
    assert served["issuer"] == served["subject"]
    assert get(f"{running_lab.url}/healthz")[0] == 200, "probes still answer on plain HTTP"
    plain = http.client.HTTPConnection(running_lab.host("sb-aio").address, 80, timeout=10)
    plain.request("GET", "/", headers={"Host": "sb-aio"})
    assert plain.getresponse().status == 301


@needs("pebble", "pebble-challtestsrv", "curl")
def test_a_domain_gets_a_certificate_from_an_acme_ca_and_renews_it_from_the_timer(
    running_lab: RunningLab, tmp_path: Path
) -> None:
    """scaleboard_domain set: certbot gets a certificate from Pebble (Let's Encrypt's test CA) through nginx's
    HTTP-01 answer, nginx serves it with its chain, HTTP redirects, cookies are Secure, one HSTS header is sent;
    certbot's timer unit renews it and nginx serves the new one. Run last: the site stays on HTTPS."""
    host = running_lab.host("sb-aio")
    with Pebble(ADMIN, tmp_path) as pebble:
        pebble.point(DOMAIN, host.address)
        tls = {"scaleboard_domain": DOMAIN, "scaleboard_acme_email": "ops@scaleboard.test",
               "tls_acme_directory": pebble.directory, "tls_acme_server_ca": pebble.ca.read_text()}  # fmt: skip
        lab_module.write_inventory(running_lab.lab, host_vars={"sb-aio": tls})
        _, seconds = make("lab-provision")
        root = pebble.roots()
        first = served_certificate(host.address, root)
        assert ("DNS", DOMAIN) in first["subjectAltName"]
        print(f"\nall-in-one: converge to HTTPS with an ACME certificate {seconds:.0f} s")

        # Plain HTTP answers with a redirect to the same URL over HTTPS; the site works there.
        plain = http.client.HTTPConnection(host.address, 80, timeout=10)
        plain.request("GET", "/post/1?x=1", headers={"Host": DOMAIN})
        answer = plain.getresponse()
        assert (answer.status, answer.getheader("Location")) == (301, f"https://{DOMAIN}/post/1?x=1")
        headers = https_headers(host.address, "/signup", root)
        assert headers.startswith("HTTP/2 200"), headers
        assert len(re.findall(r"^strict-transport-security:", headers, re.I | re.M)) == 1, headers
        assert re.search(r"^set-cookie: csrftoken=[^\n]*; Secure", headers, re.I | re.M), headers

        # The expiry reaches Prometheus (the certificate alerts read it).
        prometheus = f"http://{host.address}:9090"
        expiry = 'scaleboard_tls_certificate_expiry_timestamp_seconds{job="node"}'
        eventually(lambda: by_instance(prometheus, expiry).get("sb-aio", 0) > time.time() + 30 * 86400, 60,
                   "the certificate's expiry scraped")  # fmt: skip

        # Renewal, as certbot.timer runs it (certbot.service), forced: the certificate is weeks from its due date.
        running_lab.ssh("sb-aio", "echo force-renewal = true | sudo tee -a /etc/letsencrypt/cli.ini")
        try:
            running_lab.ssh("sb-aio", "sudo systemctl start certbot.service")
        finally:
            running_lab.ssh("sb-aio", "sudo sed -i '/^force-renewal/d' /etc/letsencrypt/cli.ini")
        renewed = served_certificate(host.address, root)
        assert renewed["serialNumber"] != first["serialNumber"], "nginx serves the renewed certificate"

        output, _ = make("lab-provision")
        assert changed_per_host(output) == {"sb-aio": 0}, output[-4000:]
        assert "passwords and session cookies cross" not in output
