"""TARGET=lab: separate Debian hosts (the nspawn lab), app hosts CPU-capped like small cloud servers.

Provisioned once, with site.yml, at the largest point: a db host, an nginx host and POINTS app hosts of
one unit each. A point changes only what a fleet change would, with the same playbook run a user makes
(`make provision INVENTORY=lab ANSIBLE_ARGS=--limit ...`):
- horizontal: which app hosts the inventory's `app` group holds; nginx's upstream is rendered from it
  and reloaded (--limit the load balancer);
- vertical: the first app host's CPU quota (its "instance size") and its WEB_CONCURRENCY, a host
  variable that re-renders its env file and restarts its service (--limit that host).
"""

from __future__ import annotations

import dataclasses
import subprocess
import time
from pathlib import Path
from typing import Any

from deploy import defaults
from deploy.lab import lab as lab_module
from deploy.local.cpu_cap import CpuCap
from deploy.local.stack import BENCHMARK_ENV, benchmark_nginx, wait_for
from loadtest.cpu import tree_cpu_seconds, tree_rss_mib
from loadtest.scaling.observed import SCRAPE_SECONDS
from loadtest.scaling.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Where the app hosts' gunicorn listens: site.yml's app_port comes from this one home too.
APP_PORT = defaults.APP_PORT
# Converging and seeding are not measured: app hosts get this much CPU while they run, then their unit.
CONVERGE_CPUS = 1.0


class LabTargetError(RuntimeError):
    """A lab step failed; the message says which and where its log is."""


class LabTarget:
    name = "lab"

    def __init__(self, settings: Settings, logs: Path) -> None:
        self.settings = settings
        self.logs = logs
        self.lab: lab_module.Lab | None = None
        self.pool: list[lab_module.Host] = []
        self.workers: dict[str, int] = {}
        self.microcache = False

    def describe(self) -> str:
        return (
            "the lab: a db host, an nginx host and app hosts as separate Debian 12 systems (systemd-nspawn), "
            "each app host's whole system CPU-capped"
        )

    # -- the lab's life --------------------------------------------------------------------------
    def prepare(self) -> None:
        """Boot and provision the largest point, then seed the demo data."""
        settings = self.settings
        self.lab = lab_module.up("split", settings.points, app_cpus=settings.unit)
        apps = self.app_hosts
        self.pool = list(apps)
        self.workers = {host.name: settings.workers_per_unit for host in apps}
        self.write_inventory()
        self.resize(apps, CONVERGE_CPUS)
        self.provision("all hosts (site.yml)", None)
        posts = settings.seed_posts
        lab_module.ssh(
            apps[0], f"sudo scaleboard-manage seed_demo --users 50 --posts {posts} --comments {posts * 3}", timeout=900
        )
        self.resize(apps, settings.unit)

    def close(self) -> None:
        if self.lab is not None:
            lab_module.down()
            self.lab = None

    @property
    def running(self) -> lab_module.Lab:
        if self.lab is None:
            raise RuntimeError("prepare() the lab first")
        return self.lab

    @property
    def app_hosts(self) -> list[lab_module.Host]:
        return [host for host in self.running.hosts if "app" in host.groups]

    def host(self, group: str) -> lab_module.Host:
        return next(host for host in self.running.hosts if group in host.groups)

    @property
    def url(self) -> str:
        return f"http://{self.host('lb').address}"

    @property
    def prometheus(self) -> str:
        return f"http://{self.host('monitor').address}:{defaults.MONITOR_PORTS['prometheus']}"

    def roles(self) -> dict[str, str]:
        """Prometheus's instance names are the inventory's host names."""
        return {host.name: "app" if "app" in host.groups else host.groups[0] for host in self.running.hosts}

    # -- points ------------------------------------------------------------------------------------
    def configure(self, servers: int, cpus: float, workers: int, *, microcache: bool = False) -> None:
        pool = self.app_hosts[:servers]
        changed = [host for host in pool if self.workers.get(host.name) != workers]
        nginx_changed = pool != self.pool or microcache != self.microcache
        limits = [host.name for host in changed] + ([self.host("lb").name] if nginx_changed else [])
        self.pool = pool
        self.microcache = microcache
        self.workers.update({host.name: workers for host in changed})
        if limits:
            self.write_inventory()
            self.resize(changed, CONVERGE_CPUS)
            self.provision(f"{servers} app host(s) x {workers} workers", ",".join(limits))
        self.resize(pool, cpus)  # the "instance size" of this point
        for host in pool:
            self.wait_serving(host)
        wait_for(self.url + "/readyz", timeout=120)

    @staticmethod
    def resize(hosts: list[lab_module.Host], cpus: float) -> None:
        for host in hosts:
            CpuCap(f"lab-{host.name}", cpus).create()

    def write_inventory(self) -> None:
        """The lab's inventory with only the pool in `app`. Each app host's WEB_CONCURRENCY and the stack's
        benchmark settings (no worker recycling, no per-request log; nginx's rate limit for one client
        address carrying many users; the microcache only on the cached line) are host variables, and so is
        the monitor host's scrape interval (a step lasts seconds)."""
        lab = self.running
        pool = {host.name for host in self.pool}
        hosts = [host for host in lab.hosts if "app" not in host.groups or host.name in pool]
        host_vars: dict[str, dict[str, Any]] = {
            name: {"scaleboard_env_overrides": {**BENCHMARK_ENV, "WEB_CONCURRENCY": str(workers)}}
            for name, workers in self.workers.items()
        }
        host_vars[self.host("lb").name] = benchmark_nginx(microcache=self.microcache)
        host_vars[self.host("monitor").name] = {"monitoring_scrape_interval": f"{SCRAPE_SECONDS}s"}
        lab_module.write_inventory(dataclasses.replace(lab, hosts=hosts), Path(lab.inventory), host_vars)

    def provision(self, what: str, limit: str | None) -> None:
        started = time.monotonic()
        log = self.logs / "provision.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        argv = ["make", "--no-print-directory", "provision", "INVENTORY=lab"]
        if limit:
            argv.append(f"ANSIBLE_ARGS=--limit {limit}")
        with log.open("a") as out:
            out.write(f"\n### {' '.join(argv)}\n")
            out.flush()
            result = subprocess.run(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=1800, check=False)
        if result.returncode != 0:
            raise LabTargetError(f"provisioning {what} failed; see {log}")
        print(f"  lab: provisioned {what} in {time.monotonic() - started:.0f} s", flush=True)

    # -- measuring -------------------------------------------------------------------------------------
    def cpu_seconds(self) -> dict[str, float]:
        """Each host's whole system (its nspawn process tree), like a cloud server's CPU graph."""
        return {
            "app": tree_cpu_seconds(*(host.pid for host in self.pool)),
            "nginx": tree_cpu_seconds(self.host("lb").pid),
            "postgres": tree_cpu_seconds(self.host("db").pid),
        }

    def app_memory_mib(self) -> float:
        return max(tree_rss_mib(host.pid) for host in self.pool)

    def db_sampler(self, seconds: float) -> list[str]:
        db = self.host("db")
        command = f"sudo -u postgres timeout {seconds:.0f} psql -X -A -t -q -F '|' -d scaleboard"
        return ["ssh", "-i", str(self.running.key), *lab_module.SSH_OPTIONS, f"admin@{db.address}", command]

    def kill_app_server(self) -> None:
        """kill -9 of the last pool host's gunicorn, master and workers; systemd restarts it (RestartSec).
        ([g] keeps the pattern from matching the sudo and shell that run pkill.)"""
        lab_module.ssh(self.pool[-1], "sudo pkill --signal KILL -f '[g]unicorn -c'")

    def wait_recovered(self) -> None:
        for host in self.pool:
            self.wait_serving(host)

    def wait_serving(self, host: lab_module.Host, timeout: int = 120) -> None:
        """Until the host's gunicorn answers /healthz, asked from the host itself: its firewall lets only
        the load balancer reach the app port."""
        probe = f"import urllib.request; urllib.request.urlopen('http://{host.address}:{APP_PORT}/healthz', timeout=3)"
        loop = f'for i in $(seq {timeout}); do python3 -c "{probe}" 2>/dev/null && exit 0; sleep 1; done; exit 1'
        if lab_module.ssh(host, loop, check=False, timeout=timeout + 30).returncode != 0:
            raise LabTargetError(f"{host.name}'s app server did not answer /healthz within {timeout} s")
