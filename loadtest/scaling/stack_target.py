"""TARGET=stack: app servers as CPU-capped processes on this machine, behind the stack's nginx."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

from deploy.local import stack as local_stack
from deploy.local.postgres import SUPERUSER, find_bin_dir
from loadtest.cpu import stack_cpu_seconds, tree_rss_mib
from loadtest.scaling.observed import SCRAPE_SECONDS
from loadtest.scaling.restart import restart_seconds
from loadtest.scaling.settings import Settings

# nginx, PostgreSQL and app servers from +2 up: clear of `make stack-up`'s ports. Prometheus past them all.
BENCH_PORTS = 18480
PROMETHEUS_PORT = BENCH_PORTS + 20


class StackTarget:
    """One stack at a time, brought up for each point (the database and its demo data stay)."""

    name = "stack"

    def __init__(self, settings: Settings, directory: Path) -> None:
        self.settings = settings
        self.directory = directory
        self.stack: local_stack.Stack | None = None
        self.restarting: threading.Thread | None = None

    def describe(self) -> str:
        return "app servers as CPU-capped gunicorn processes on this machine, nginx and PostgreSQL beside them"

    def configure(self, servers: int, cpus: float, workers: int, *, microcache: bool = False) -> None:
        self.close()
        self.stack = local_stack.up(
            self.directory, topology="split", app_servers=servers, port=BENCH_PORTS,
            first_app_port=BENCH_PORTS + 2, database_port=BENCH_PORTS + 1, workers=workers,
            cpus_per_server=cpus, seed=(50, self.settings.seed_posts, self.settings.seed_posts * 3),
            extra_env=local_stack.BENCHMARK_ENV,
            nginx_overrides=local_stack.benchmark_nginx(microcache=microcache),
            monitoring_port=PROMETHEUS_PORT if self.settings.monitoring else 0,
            scrape_interval=f"{SCRAPE_SECONDS}s",
        )  # fmt: skip

    @property
    def running(self) -> local_stack.Stack:
        if self.stack is None:
            raise RuntimeError("configure() the stack first")
        return self.stack

    @property
    def url(self) -> str:
        return self.running.url("").rstrip("/")

    @property
    def prometheus(self) -> str:
        return f"http://127.0.0.1:{PROMETHEUS_PORT}" if self.settings.monitoring else ""

    def roles(self) -> dict[str, str]:
        """Its Prometheus scrapes the app servers only: this machine is every host."""
        return {}

    def cpu_seconds(self) -> dict[str, float]:
        return stack_cpu_seconds(self.running)

    def app_memory_mib(self) -> float:
        return max(tree_rss_mib(server.pid) for server in self.running.app_servers)

    def db_sampler(self, seconds: float) -> list[str]:
        cluster = self.running.cluster
        return [
            "timeout", f"{seconds:.0f}", str(find_bin_dir() / "psql"), "-X", "-A", "-t", "-q", "-F", "|",
            "-h", str(cluster.socket_dir), "-p", str(cluster.port), "-U", SUPERUSER, "-d", "postgres",
        ]  # fmt: skip

    def prepare(self) -> None:
        """Nothing to set up once: each point brings its own stack up."""

    def kill_app_server(self) -> None:
        """kill -9 of the last app server (master and workers); a thread starts it again after the
        systemd unit's RestartSec, as systemd would."""
        stack = self.running
        server = stack.app_servers[-1]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)

        def restart() -> None:
            time.sleep(restart_seconds())
            with contextlib.suppress(ChildProcessError):
                os.waitpid(server.pid, 0)  # this process started it: collect the exit status
            local_stack.start_app_server(stack, server)
            stack.save()

        self.restarting = threading.Thread(target=restart, daemon=True)
        self.restarting.start()

    def wait_recovered(self) -> None:
        if self.restarting is not None:
            self.restarting.join(timeout=120)
            self.restarting = None

    def close(self) -> None:
        self.wait_recovered()
        if self.stack is not None:
            local_stack.down(self.directory)
            self.stack = None
