"""A project-local PostgreSQL cluster on a Unix socket, built from the system's server binaries.

Used by `make run` (a persistent dev cluster in .var/postgres), by the test harness (a throwaway
cluster per test session) and by the local production stack. Standard library only, so it runs
before the project's virtualenv exists.

    python deploy/local/postgres.py start [--dir DIR]   # init if needed, start, print DATABASE_URL
    python deploy/local/postgres.py stop|status|url [--dir DIR]

The dev cluster lives in .var/postgres, except as root when the postgres account (which runs the server)
cannot reach the checkout, as in a clone in root's mode-700 home: then in /var/lib/scaleboard-dev/,
in a directory named for the checkout, and `start` says so.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKOUT_DIR = ROOT / ".var" / "postgres"
# As root, for checkouts the server account cannot reach.
SHARED_DIR = Path("/var/lib/scaleboard-dev")
SUPERUSER = "scaleboard"
DATABASE = "scaleboard"
# Names the socket file (.s.PGSQL.<port>); a cluster with listen_tcp also takes it on 127.0.0.1.
DEFAULT_PORT = 5432
# PostgreSQL refuses to run as root; as root we run the server as the account Debian's package creates.
SERVER_ACCOUNT_WHEN_ROOT = "postgres"
# A Unix socket path is limited to 107 bytes on Linux.
MAX_SOCKET_PATH = 107
# Settings that make a throwaway cluster fast; they trade crash safety, so only the harness uses them.
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class PostgresError(RuntimeError):
    """A problem the user can fix; the message says how."""


def find_bin_dir() -> Path:
    """The directory of the newest installed PostgreSQL server binaries."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for candidate in candidates:
        if (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    raise PostgresError(
        "PostgreSQL server binaries not found: install them with `sudo apt-get install postgresql` "
        "(or set DATABASE_URL to a database you already have)."
    )


def install_binaries_if_possible() -> None:
    """Install Debian's postgresql package when we are root on an apt system and it is missing."""
    try:
        find_bin_dir()
        return
    except PostgresError:
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise
    print("PostgreSQL server binaries missing: installing Debian's postgresql package ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=True, env=env)
    find_bin_dir()


def server_account_can_reach(path: Path) -> bool:
    """Whether the account PostgreSQL runs as (as root) may enter `path`: every directory above it lets it
    through. A normal user runs the server as themselves."""
    try:
        pwd.getpwnam(SERVER_ACCOUNT_WHEN_ROOT)
    except KeyError:
        return True  # Cluster says how to get the account when it needs it
    if os.geteuid() != 0:
        return True
    check = ["runuser", "-u", SERVER_ACCOUNT_WHEN_ROOT, "--", "test", "-x", str(path)]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0


def default_dir() -> Path:
    """The dev cluster's data directory (see the module's doc)."""
    if server_account_can_reach(ROOT):
        return CHECKOUT_DIR
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
    return SHARED_DIR / f"{ROOT.name}-{checkout}" / "postgres"


@dataclass
class Cluster:
    """One cluster in `datadir`, on a Unix socket inside it and, with listen_tcp, on tcp_address:port."""

    datadir: Path
    throwaway: bool = False
    port: int = DEFAULT_PORT
    listen_tcp: bool = False
    # Another address is for a caller that writes its own pg_hba.conf (initdb's trusts 127.0.0.1 only).
    tcp_address: str = "127.0.0.1"

    @property
    def socket_dir(self) -> Path:
        return self.datadir

    @property
    def log_file(self) -> Path:
        return self.datadir.parent / f"{self.datadir.name}.log"

    def url(self, database: str = DATABASE) -> str:
        if self.listen_tcp:
            return f"postgres://{SUPERUSER}@{self.tcp_address}:{self.port}/{database}"
        if self.port != DEFAULT_PORT:
            raise PostgresError("a socket-only cluster needs the default port: socket URLs cannot carry one")
        # django-environ's form for a Unix socket: the socket directory is the path before the name.
        return f"postgres://{SUPERUSER}@/{self.socket_dir}/{database}"

    # -- running the server binaries -------------------------------------------------------------
    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        try:
            pwd.getpwnam(SERVER_ACCOUNT_WHEN_ROOT)
        except KeyError as exc:
            raise PostgresError(
                f"running as root needs the '{SERVER_ACCOUNT_WHEN_ROOT}' account to run PostgreSQL: "
                "install Debian's postgresql package or run as a normal user"
            ) from exc
        return ["runuser", "-u", SERVER_ACCOUNT_WHEN_ROOT, "--", *argv]

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = self._as_server_user([str(find_bin_dir() / tool), *args])
        return subprocess.run(argv, check=check, capture_output=True, text=True)

    def _give_to_server_user(self, path: Path) -> None:
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_ACCOUNT_WHEN_ROOT)
            os.chown(path, account.pw_uid, account.pw_gid)

    # -- lifecycle ---------------------------------------------------------------------------------
    def is_initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.datadir), check=False).returncode == 0

    def init(self) -> None:
        socket = self.socket_dir / f".s.PGSQL.{self.port}"
        if len(str(socket)) > MAX_SOCKET_PATH:
            raise PostgresError(f"socket path too long for Linux ({socket}); use a shorter --dir")
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        self.datadir.mkdir(mode=0o700, exist_ok=True)
        self._give_to_server_user(self.datadir)
        self.log_file.touch()
        self._give_to_server_user(self.log_file)
        result = self._run(
            "initdb", "-D", str(self.datadir), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise PostgresError(f"initdb failed in {self.datadir}:\n{result.stderr.strip()}")
        settings = {"unix_socket_directories": f"'{self.socket_dir}'", "max_connections": "200"}
        if self.throwaway:
            settings.update(THROWAWAY_SETTINGS)
        with (self.datadir / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        if not self.is_initialised():
            self.init()
        if self.is_running():
            return
        # Where to listen is decided per start, so one data directory can serve either topology.
        # Trust auth on 127.0.0.1 is acceptable only because nothing off this machine can connect.
        listen = self.tcp_address if self.listen_tcp else ""
        options = f"-c listen_addresses='{listen}' -c port={self.port}"
        pg_ctl_start = [
            "start",
            "-D",
            str(self.datadir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            options,
        ]
        result = self._run("pg_ctl", *pg_ctl_start, check=False)
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace").splitlines()[-10:]
            raise PostgresError("PostgreSQL did not start; last log lines:\n" + "\n".join(tail))
        self.ensure_database(DATABASE)

    def postmaster_pid(self) -> int:
        """The server's main process (its backends are its children)."""
        return int((self.datadir / "postmaster.pid").read_text().split()[0])

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            self._run("pg_ctl", "stop", "-D", str(self.datadir), "-m", mode, "-w")

    def psql(self, sql: str, database: str = "postgres") -> str:
        argv = [
            str(find_bin_dir() / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-c", sql,
        ]  # fmt: skip
        result = subprocess.run(argv, check=False, capture_output=True, text=True)
        if result.returncode != 0:
            raise PostgresError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def ensure_database(self, name: str) -> None:
        if not name.replace("_", "").isalnum():
            raise PostgresError(f"refusing an unusual database name: {name!r}")
        # The name was checked above to be alphanumeric/underscore, so quoting it here is safe.
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
        if not exists:
            self.psql(f'CREATE DATABASE "{name}"')

    def wait_until_accepting(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (self.socket_dir / f".s.PGSQL.{self.port}").exists():
                try:
                    self.psql("SELECT 1")
                    return
                except PostgresError:
                    pass
            time.sleep(0.1)
        raise PostgresError(f"PostgreSQL in {self.datadir} did not accept connections in {timeout:.0f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "url"])
    parser.add_argument("--dir", type=Path, help="cluster data directory (default: .var/postgres)")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            install_binaries_if_possible()
        cluster = Cluster(args.dir.resolve() if args.dir else default_dir())
        if args.command == "start":
            if not cluster.datadir.is_relative_to(ROOT):
                print(f"PostgreSQL data in {cluster.datadir}: the '{SERVER_ACCOUNT_WHEN_ROOT}' account that runs it "
                      f"as root cannot enter {ROOT}", file=sys.stderr)  # fmt: skip
            cluster.start()
            print(cluster.url())
        elif args.command == "stop":
            cluster.stop()
        elif args.command == "status":
            running = cluster.is_running()
            print(f"PostgreSQL in {cluster.datadir}: {'running' if running else 'stopped'}")
            return 0 if running else 3
        else:
            print(cluster.url())
    except PostgresError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
