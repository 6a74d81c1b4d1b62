"""Test session setup: a real PostgreSQL first, then Django with config.settings.test."""

from __future__ import annotations

import os

import pytest

from deploy.local.postgres import Cluster
from tests.harness import leftovers
from tests.harness.database import remove_cluster, start_throwaway_cluster
from tests.harness.requires import skip_unmet

_cluster: Cluster | None = None


def pytest_configure(config: pytest.Config) -> None:
    # Runs before pytest-django's own (trylast) setup, which then finds the settings loaded below.
    global _cluster
    leftovers.end_like_ctrl_c_on_sigterm()
    for path in leftovers.sweep():
        print(f"removed what a killed test run left: {path}")
    if not os.environ.get("DATABASE_URL"):
        _cluster = start_throwaway_cluster()
        os.environ["DATABASE_URL"] = _cluster.url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    # The shared fixtures import models, so they can only be loaded once Django is set up.
    config.pluginmanager.import_plugin("tests.harness.fixtures")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _cluster is not None:
        remove_cluster(_cluster)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    skip_unmet(items)
