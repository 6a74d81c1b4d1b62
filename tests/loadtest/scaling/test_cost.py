"""Pricing a point from deploy/terraform: its default instance types and prices.toml."""

from __future__ import annotations

import re

import pytest

from loadtest.scaling import cost


def test_prices_come_from_terraform_and_the_prices_file() -> None:
    prices = cost.load()
    assert prices.defaults == {"app": "t3.micro", "db": "t3.small", "lb": "t3.micro"}
    assert prices.instances["t3.micro"].usd_per_hour == 0.0104
    # A 20 GB gp3 root volume (the servers module's default) and a public IPv4 address, per hour.
    assert prices.server_extras_per_hour == pytest.approx(20 * 0.08 / 730 + 0.005)


def test_cpu_above_the_baseline_is_billed_as_surplus() -> None:
    prices = cost.load()
    idle = prices.hourly("t3.micro", 0.0)
    assert prices.hourly("t3.micro", 0.2) == idle  # within the baseline (10 % of each of 2 vCPUs)
    assert prices.hourly("t3.micro", 1.2) == pytest.approx(idle + 1.0 * 0.05)


def test_app_instance_is_the_cheapest_that_fits_never_below_terraforms_default() -> None:
    prices = cost.load()
    assert prices.app_instance(0.25, 100) == "t3.micro"  # t3.nano would fit, but the repo deploys t3.micro
    assert prices.app_instance(1.0, 1000) == "t3.small"  # 1.5 GiB of room needed
    assert prices.app_instance(3.0, 1000) == "t3.xlarge"  # more vCPUs than any 2-vCPU type


def test_a_bill_adds_app_db_and_load_balancer_and_divides_by_requests() -> None:
    prices = cost.load()
    bill = cost.price(2, 0.25, 150, {"app": 0.5, "postgres": 0.1, "nginx": 0.05}, rps=100, prices=prices)
    expected = 2 * prices.hourly("t3.micro", 0.25) + prices.hourly("t3.small", 0.1) + prices.hourly("t3.micro", 0.05)
    assert bill.app_instance == "t3.micro"
    assert bill.usd_per_hour == pytest.approx(expected)
    assert bill.usd_per_million == pytest.approx(expected / 360_000 * 1e6)


def test_the_terraform_readme_quotes_the_prices_file() -> None:
    prices = cost.load()
    readme = (cost.TERRAFORM / "README.md").read_text()
    quoted = dict(re.findall(r"(t3\.\w+)\s+(\d+\.\d+) USD/h", readme))
    assert set(quoted) == {"t3.micro", "t3.small"}, "the README's cost section names the types Terraform uses"
    for name, usd in quoted.items():
        assert prices.instances[name].usd_per_hour == float(usd), name
    assert f"in **{prices.region}** as published on AWS's pricing pages in {prices.date}" in readme
