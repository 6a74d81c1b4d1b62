"""deploy/local/postgres.py: the project-local cluster that `make run` and the test harness use."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.postgres import SHARED_DIR, Cluster, PostgresError
from tests.harness.leftovers import scratch_dir
from tests.harness.requires import needs
from tests.harness.servers import REPO

SCRIPT = REPO / "deploy" / "local" / "postgres.py"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def cluster_dir() -> Iterator[Path]:
    # Under /tmp with mode 755: as root the server runs as the postgres account, which must reach it.
    base = scratch_dir("pgtest")
    yield base / "data"
    Cluster(base / "data").stop(mode="immediate")
    shutil.rmtree(base, ignore_errors=True)


def test_start_status_url_stop_and_restart_keeps_data(cluster_dir: Path) -> None:
    started = _cli("start", "--dir", str(cluster_dir))
    try:
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        assert url == f"postgres://scaleboard@/{cluster_dir}/scaleboard"
        assert _cli("url", "--dir", str(cluster_dir)).stdout.strip() == url
        status = _cli("status", "--dir", str(cluster_dir))
        assert (status.returncode, "running" in status.stdout) == (0, True)
        cluster = Cluster(cluster_dir)
        cluster.psql("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)", database="scaleboard")
        assert _cli("stop", "--dir", str(cluster_dir)).returncode == 0
        stopped = _cli("status", "--dir", str(cluster_dir))
        assert (stopped.returncode, "stopped" in stopped.stdout) == (3, True)
        assert _cli("start", "--dir", str(cluster_dir)).returncode == 0
        assert _cli("start", "--dir", str(cluster_dir)).returncode == 0  # starting twice is fine
        assert cluster.psql("SELECT x FROM kept", database="scaleboard") == "42"
    finally:
        _cli("stop", "--dir", str(cluster_dir))


def test_listens_only_on_its_socket(cluster_dir: Path) -> None:
    cluster = Cluster(cluster_dir, throwaway=True)
    cluster.start()
    try:
        assert cluster.psql("SHOW listen_addresses") == ""
        assert cluster.psql("SHOW fsync") == "off"
    finally:
        cluster.stop()


def test_a_too_long_socket_path_is_refused_clearly(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 100)
    with pytest.raises(PostgresError, match="socket path too long"):
        Cluster(deep).init()


def test_bad_database_names_are_refused(cluster_dir: Path) -> None:
    with pytest.raises(PostgresError, match="unusual database name"):
        Cluster(cluster_dir).ensure_database("x; DROP TABLE y")


@needs(root=True)
def test_as_root_a_checkout_the_server_account_cannot_enter_keeps_its_cluster_where_it_can() -> None:
    """`make run` as root from a clone in root's home (mode 700): the postgres account cannot enter it."""
    private = Path(tempfile.mkdtemp(prefix="scaleboard-private-"))  # mode 700, as root's home is
    script = private / "checkout" / "deploy" / "local" / "postgres.py"
    script.parent.mkdir(parents=True)
    shutil.copy(SCRIPT, script)
    started = subprocess.run([sys.executable, str(script), "start"], capture_output=True, text=True, timeout=120)
    datadir = Path(started.stdout.strip().removeprefix("postgres://scaleboard@/").rsplit("/", 1)[0])
    try:
        assert started.returncode == 0, started.stderr
        assert datadir.is_relative_to(SHARED_DIR), started.stdout
        assert f"PostgreSQL data in {datadir}" in started.stderr, "it says where the data lives"
        assert Cluster(datadir).psql("SELECT 42", database="scaleboard") == "42"
    finally:
        subprocess.run([sys.executable, str(script), "stop"], capture_output=True, timeout=120)
        if datadir.is_relative_to(SHARED_DIR):
            shutil.rmtree(datadir.parent, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)
