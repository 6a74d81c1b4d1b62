"""The test database: a throwaway PostgreSQL cluster per test session, or DATABASE_URL if set."""

from __future__ import annotations

import shutil

from deploy.local.postgres import Cluster
from tests.harness.leftovers import scratch_dir


def start_throwaway_cluster() -> Cluster:
    # Under /tmp: short enough for the socket path limit and reachable by the postgres account as root.
    cluster = Cluster(scratch_dir("test") / "pg", throwaway=True)
    cluster.start()
    return cluster


def remove_cluster(cluster: Cluster) -> None:
    cluster.stop(mode="immediate")
    shutil.rmtree(cluster.datadir.parent, ignore_errors=True)
