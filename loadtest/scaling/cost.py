"""What a point would cost on AWS: the instances it stands for, priced from deploy/terraform/prices.toml.

A unit of CPU quota here is taken as the same share of one AWS vCPU (an assumption: a vCPU is a
hyperthread of a server core of similar speed). Each server is priced as a T3 instance in its default
"unlimited" mode: the hourly price, plus the CPU it used above the baseline at the measured load, plus
its root volume and public IPv4 address. The db and load balancer servers are deploy/terraform's
default types; an app server is the cheapest T3, no smaller than deploy/terraform's app default, with at
least its quota in vCPUs and 1.5x the memory its processes used (room for the page cache and peaks).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TERRAFORM = Path(__file__).resolve().parents[2] / "deploy" / "terraform"
MEMORY_HEADROOM = 1.5


@dataclass(frozen=True)
class Instance:
    name: str
    vcpus: int
    memory_mib: int
    baseline: float  # share of each vCPU the instance may use without paying for surplus
    usd_per_hour: float


@dataclass(frozen=True)
class Prices:
    date: str
    region: str
    instances: dict[str, Instance]
    surplus_per_vcpu_hour: float
    server_extras_per_hour: float  # root volume + public IPv4
    defaults: dict[str, str]  # deploy/terraform's instance type per server kind

    def hourly(self, instance: str, cpu_used: float) -> float:
        """An instance running at `cpu_used` vCPUs, its volume and address, per hour."""
        kind = self.instances[instance]
        surplus = max(0.0, cpu_used - kind.baseline * kind.vcpus)
        return kind.usd_per_hour + surplus * self.surplus_per_vcpu_hour + self.server_extras_per_hour

    def app_instance(self, cpus: float, memory_mib: float) -> str:
        """The cheapest instance with `cpus` vCPUs and room for `memory_mib` of app processes."""
        floor = self.instances[self.defaults["app"]].usd_per_hour
        fitting = [
            i
            for i in self.instances.values()
            if i.usd_per_hour >= floor and i.vcpus >= cpus and i.memory_mib >= memory_mib * MEMORY_HEADROOM
        ]
        if not fitting:
            raise ValueError(f"no instance in prices.toml has {cpus} vCPUs and {memory_mib * MEMORY_HEADROOM:.0f} MiB")
        return min(fitting, key=lambda i: i.usd_per_hour).name


def terraform_default(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    if not found:
        raise ValueError(f"deploy/terraform no longer matches {pattern!r}: update loadtest/scaling/cost.py")
    return found.group(1)


@cache
def load(terraform: Path = TERRAFORM) -> Prices:
    data = tomllib.loads((terraform / "prices.toml").read_text())
    variables = (terraform / "variables.tf").read_text()
    defaults = {
        kind: terraform_default(rf'\b{kind}\s*=\s*optional\(string,\s*"([^"]+)"\)', variables)
        for kind in ("app", "db", "lb")
    }
    volume_gb = float(
        terraform_default(
            r'variable "root_volume_size"[^}]*?default\s*=\s*(\d+)',
            (terraform / "modules/servers/variables.tf").read_text(),
        )
    )
    extras = volume_gb * data["gp3_usd_per_gb_month"] / data["hours_per_month"] + data["public_ipv4_usd_per_hour"]
    instances = {name: Instance(name, **values) for name, values in data["instances"].items()}
    return Prices(data["date"], data["region"], instances, data["t3_surplus_usd_per_vcpu_hour"], extras, defaults)


@dataclass
class Bill:
    app_instance: str
    usd_per_hour: float
    usd_per_million: float  # requests served within the SLO


def price(
    servers: int, cpus: float, app_memory_mib: float, cpu: dict[str, float], rps: float, prices: Prices | None = None
) -> Bill:
    """The bill for `servers` app servers of `cpus` each (using cpu['app'] between them), a db server
    using cpu['postgres'] and a load balancer using cpu['nginx'], serving `rps` within the SLO."""
    prices = prices or load()
    app = prices.app_instance(cpus, app_memory_mib)
    hourly = (
        servers * prices.hourly(app, cpu.get("app", 0.0) / max(servers, 1))
        + prices.hourly(prices.defaults["db"], cpu.get("postgres", 0.0))
        + prices.hourly(prices.defaults["lb"], cpu.get("nginx", 0.0))
    )
    per_million = hourly / (rps * 3600) * 1e6 if rps > 0 else float("inf")
    return Bill(app, hourly, per_million)
