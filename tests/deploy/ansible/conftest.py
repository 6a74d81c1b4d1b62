"""A real lab for the converge tests: fresh Debian hosts (systemd-nspawn) provisioned with `make`."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from deploy.lab import lab as lab_module
from tests.harness.requires import needs
from tests.harness.servers import MICROCACHE_STORED, REPO, get

needs_lab = needs("systemd-nspawn", "mmdebstrap", "iptables", "ssh", "ssh-keygen", root=True)


def make(*args: str, timeout: float = 1200) -> tuple[str, float]:
    """Run a make target as a user would; (output, seconds). Fails with the output's tail."""
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"make {' '.join(args)} failed:\n{output[-6000:]}"
    return output, time.monotonic() - started


def changed_per_host(output: str) -> dict[str, int]:
    """changed= from an ansible-playbook PLAY RECAP."""
    return {host: int(n) for host, n in re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", output, re.M)}


@dataclass
class RunningLab:
    lab: lab_module.Lab
    provision_seconds: float

    def host(self, name: str) -> lab_module.Host:
        return next(h for h in self.lab.hosts if h.name == name)

    def in_group(self, group: str) -> list[lab_module.Host]:
        return [h for h in self.lab.hosts if group in h.groups]

    def ssh(self, name: str, command: str) -> str:
        return lab_module.ssh(self.host(name), command, timeout=300).stdout

    @property
    def url(self) -> str:
        return f"http://{self.in_group('lb')[0].address}"


@pytest.fixture(scope="module")
def booted_lab(request: pytest.FixtureRequest) -> Iterator[lab_module.Lab]:
    """Fresh hosts for the module's TOPOLOGY (`make lab-up`); removed afterwards, pass, fail or SIGTERM."""
    topology, app_servers = request.module.TOPOLOGY, getattr(request.module, "APP_SERVERS", 1)
    try:
        make("lab-up", f"TOPOLOGY={topology}", f"APP_SERVERS={app_servers}")
        lab = lab_module.Lab.load()
        assert lab is not None
        yield lab
    finally:
        subprocess.run(["make", "--no-print-directory", "lab-down"], cwd=REPO, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def running_lab(booted_lab: lab_module.Lab) -> RunningLab:
    """The module's lab, provisioned with site.yml."""
    _, seconds = make("lab-provision")
    print(f"\n{booted_lab.topology}: first converge {seconds:.0f} s")
    return RunningLab(booted_lab, seconds)


def ufw_rules(running_lab: RunningLab, host: str) -> set[tuple[str, str]]:
    """The IPv4 rules of an active ufw: {(port, from)}."""
    status = running_lab.ssh(host, "sudo ufw status")
    assert "Status: active" in status
    return set(re.findall(r"^(\d+)/tcp\s+ALLOW\s+(\S+)", status, re.M))


def check_site(running_lab: RunningLab, app_host: str, username: str) -> None:
    """Through the load balancer: /healthz, a front page of seeded posts, a sign-up POST that writes."""
    assert get(f"{running_lab.url}/healthz")[0] == 200
    running_lab.ssh(app_host, "sudo scaleboard-manage seed_demo --users 5 --posts 40 --comments 80")
    status, _, body = get(f"{running_lab.url}/")
    assert status == 200
    assert body.decode().count('class="post"') == 30, "the seeded posts are on the front page"
    cache = get(f"{running_lab.url}/")[1].get("X-Cache-Status")
    assert cache in MICROCACHE_STORED, f"anonymous readers share nginx's microcache (X-Cache-Status: {cache})"
    assert get(f"{running_lab.url}/static/css/site.css")[0] == 200
    status, page = sign_up(running_lab.url, username)
    assert status == 200
    assert f'href="/user/{username}"' in page, "the sign-up POST wrote a user and logged them in"


def sign_up(base_url: str, username: str) -> tuple[int, str]:
    """A real browser-like sign-up (CSRF cookie + token): the POST writes a user. (status, front page)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base_url}/signup", timeout=15).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, form[:500]
    data = urllib.parse.urlencode({
        "csrfmiddlewaretoken": token.group(1), "username": username,
        "password1": "correct horse battery", "password2": "correct horse battery",
    }).encode()  # fmt: skip
    # A browser's POST names its origin; over HTTPS Django's CSRF check requires it (or a Referer).
    request = urllib.request.Request(f"{base_url}/signup", data=data, headers={"Origin": base_url})  # noqa: S310
    response = opener.open(request, timeout=15)
    return response.status, response.read().decode()
