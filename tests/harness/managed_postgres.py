"""A stand-in for RDS on an address of this machine: PostgreSQL whose master user owns the app's database and signs
in with a password over TLS only (pg_hba has no line for a plain connection from the network). Every connection is
logged, so a test can read whether each came over TLS."""

from __future__ import annotations

import shutil
from types import TracebackType

from deploy.local.postgres import DATABASE, SUPERUSER, Cluster
from tests.harness.certs import self_signed
from tests.harness.database import remove_cluster
from tests.harness.leftovers import scratch_dir

# The port RDS's endpoint answers on, which the app's DATABASE_URL names (postgresql_port).
PORT = 5432


class ManagedPostgres:
    """RDS's master user and database are the app's (the database module's defaults): scaleboard / scaleboard."""

    user, database = SUPERUSER, DATABASE

    def __init__(self, address: str, password: str) -> None:
        self.password = password
        self.cluster = Cluster(scratch_dir("rds") / "pg", throwaway=True, port=PORT, listen_tcp=True,
                               tcp_address=address)  # fmt: skip

    def __enter__(self) -> ManagedPostgres:
        datadir = self.cluster.datadir
        self.cluster.init()
        cert, key = self_signed(self.cluster.tcp_address, datadir.parent, "rds")
        for path in (cert, key):
            shutil.chown(path, user=datadir.owner(), group=datadir.group())
        key.chmod(0o600)
        settings = {"ssl": "on", "ssl_cert_file": f"'{cert}'", "ssl_key_file": f"'{key}'",
                    "password_encryption": "'scram-sha-256'", "log_connections": "on",
                    "log_line_prefix": "'%m %h '"}  # fmt: skip
        with (datadir / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        # Local: this test's own psql. The network: TLS and the password, nothing else.
        (datadir / "pg_hba.conf").write_text("local all all trust\nhostssl all all 0.0.0.0/0 scram-sha-256\n")
        try:
            self.cluster.start()
            # A test constant, quoted as SQL's string literal.
            self.cluster.psql(f"ALTER ROLE {self.user} PASSWORD '{self.password.replace(chr(39), chr(39) * 2)}'")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def network_sessions(self) -> list[str]:
        """Each network connection's authorization line: `... SSL enabled (protocol=...)` when it came over TLS."""
        log = self.cluster.log_file.read_text(errors="replace")
        return [line for line in log.splitlines() if "connection authorized" in line and "[local]" not in line]

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        remove_cluster(self.cluster)
