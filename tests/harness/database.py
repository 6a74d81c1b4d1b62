"""The test database: a throwaway PostgreSQL cluster per test session, or DATABASE_URL if set."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from deploy.local.postgres import Cluster


def start_throwaway_cluster() -> Cluster:
    # Under /tmp: short enough for the socket path limit and reachable by the postgres account as root.
    datadir = Path(tempfile.mkdtemp(prefix="scaleboard-test-")) / "pg"
    os.chmod(datadir.parent, 0o755)  # noqa: S103 - as root, the postgres account must reach the cluster
    cluster = Cluster(datadir, throwaway=True)
    cluster.start()
    return cluster


def remove_cluster(cluster: Cluster) -> None:
    cluster.stop(mode="immediate")
    shutil.rmtree(cluster.datadir.parent, ignore_errors=True)
