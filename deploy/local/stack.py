"""The production stack as real processes on this machine: PostgreSQL, N gunicorn app servers, nginx.

    python -m deploy.local.stack up --topology split --app-servers 3 [--port 8080] [--cpus-per-server 0.25]
    python -m deploy.local.stack status
    python -m deploy.local.stack down

Topologies: `all-in-one` (the app reaches PostgreSQL over its Unix socket, as on one server) and `split`
(over TCP, as from separate app servers). Either way each app server is gunicorn with production
settings and app/gunicorn.conf.py on its own loopback port, nginx (rendered from deploy/nginx) balances
over them, and migrations run once before any app server starts. Everything lives in .var/stack/; the
database is kept across `down`/`up`, so demo data is seeded once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deploy import defaults
from deploy.local.cpu_cap import CpuCap, CpuCapError, check_available
from deploy.local.postgres import DEFAULT_PORT, Cluster, PostgresError
from deploy.monitoring.render import prometheus_config
from deploy.nginx.render import render

ROOT = Path(__file__).resolve().parents[2]

APP = ROOT / "app"
DEFAULT_DIR = ROOT / ".var" / "stack"
TOPOLOGIES = ("all-in-one", "split")
FIRST_APP_PORT = 8101
DATABASE_PORT = 5442
MAX_APP_SERVERS = 16


# A load generator is one client address carrying many simulated users: the app's per-address limit on
# sign-ins would throttle them all as one person. The local stack exists to be loaded, so it always runs so.
LOAD_GENERATOR_ENV = {"RATE_LIMITS_ENABLED": "false"}
# For benchmark runs: worker recycling and per-request logging would add noise to the measurement.
BENCHMARK_ENV = {
    "GUNICORN_MAX_REQUESTS": "0",
    "GUNICORN_ACCESS_LOG": "false",
    "DJANGO_LOG_LEVEL": "WARNING",
    **LOAD_GENERATOR_ENV,
}


def benchmark_nginx(*, microcache: bool = False) -> dict[str, Any]:
    """nginx's variables for benchmark runs. A load generator is one client address, so the per-address limit
    on sign-ins and submits would throttle all its simulated users as if they were one person. The microcache
    is off unless asked for: a bench measures the app servers, not nginx's copies (make bench-app's microcache
    row, make bench-microcache and bench-scaling's cached line measure those)."""
    return {"nginx_rate_limit": "100r/s", "nginx_microcache_enabled": microcache}


class StackError(RuntimeError):
    """Something the user can act on; the message says what."""


@dataclass
class AppServer:
    index: int
    port: int
    pid: int = 0
    cpus: float | None = None

    @property
    def name(self) -> str:
        return f"app-{self.index}"

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@dataclass
class Stack:
    directory: Path
    topology: str = "all-in-one"
    port: int = defaults.STACK_PORT
    database_port: int = DATABASE_PORT
    workers: int = defaults.WEB_CONCURRENCY
    app_servers: list[AppServer] = field(default_factory=list)
    # More env contract variables for every app server (e.g. the bench turns the access log off).
    extra_env: dict[str, str] = field(default_factory=dict)
    # nginx template variables over deploy/nginx/defaults.yml (e.g. the bench's rate limit).
    nginx_overrides: dict[str, Any] = field(default_factory=dict)
    nginx_pid: int = 0
    # Prometheus on 127.0.0.1:monitoring_port (`make stack-up MONITORING=1`); 0: none.
    monitoring_port: int = 0
    # How often it scrapes and evaluates the rules (the bench's steps are seconds long: it asks for 1s).
    scrape_interval: str = "5s"
    prometheus_pid: int = 0

    # -- where things live ---------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    @property
    def nginx_dir(self) -> Path:
        return self.directory / "nginx"

    @property
    def prometheus_dir(self) -> Path:
        return self.directory / "prometheus"

    @property
    def static_root(self) -> Path:
        return self.directory / "static"

    def metrics_dir(self, server: AppServer) -> Path:
        """The server's Prometheus files. Here rather than gunicorn's own temporary directory, which a
        kill -9 of the server leaves behind; emptied at every start, so a killed run's files never count."""
        return self.directory / "metrics" / server.name

    @property
    def cluster(self) -> Cluster:
        split = self.topology == "split"
        # All-in-one uses only the socket (inside this directory), so the default port cannot clash.
        port = self.database_port if split else DEFAULT_PORT
        return Cluster(self.directory / "postgres", port=port, listen_tcp=split)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # -- state ---------------------------------------------------------------------------------
    def save(self) -> None:
        data = asdict(self)
        data["directory"] = str(self.directory)
        self.state_file.write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Stack:
        state_file = directory / "state.json"
        if not state_file.exists():
            raise StackError(f"no stack in {directory}: start one with `make stack-up`")
        data = json.loads(state_file.read_text())
        data["directory"] = Path(data["directory"])
        data["app_servers"] = [AppServer(**server) for server in data["app_servers"]]
        return cls(**data)

    # -- the environment every app server gets (the env contract's required set + lab knobs) ---
    def secret_key(self) -> str:
        path = self.directory / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(50))
            path.chmod(0o600)
        return path.read_text().strip()

    def app_env(self, **extra: str) -> dict[str, str]:
        return app_server_env(
            database_url=self.cluster.url(),
            static_root=self.static_root,
            secret_key=self.secret_key(),
            **{"WEB_CONCURRENCY": str(self.workers), **LOAD_GENERATOR_ENV, **self.extra_env, **extra},
        )


def app_server_env(*, database_url: str, static_root: Path, secret_key: str, **extra: str) -> dict[str, str]:
    """Production settings for a plain-HTTP lab: the contract's required variables and nothing inherited."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secret_key,
        "DATABASE_URL": database_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_HTTPS": "false",
        "DJANGO_STATIC_ROOT": str(static_root),
        **extra,
    }


def manage(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=APP,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise StackError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def http_status(url: str, timeout: float = 2, headers: dict[str, str] | None = None) -> int:
    """The status a GET gets, or 0 when nothing answered (refused, reset, timed out): for polling."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def wait_for(url: str, expect: int = 200, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_status(url) == expect:
            return
        time.sleep(0.1)
    raise StackError(f"{url} did not answer {expect} within {timeout:.0f}s")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def process_alive(pid: int, name: str) -> bool:
    """True if `pid` runs and is the kind of process we started (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return pid > 0 and name.encode() in cmdline


# -- app servers -----------------------------------------------------------------------------------
def start_app_server(stack: Stack, server: AppServer) -> None:
    cap = None
    if server.cpus:
        cap = CpuCap(f"{stack.directory.name}-{server.name}", server.cpus)
        cap.create()
    metrics = stack.metrics_dir(server)
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True)
    env = stack.app_env(GUNICORN_BIND=f"127.0.0.1:{server.port}", PROMETHEUS_MULTIPROC_DIR=str(metrics))
    stack.logs.mkdir(parents=True, exist_ok=True)
    with (stack.logs / f"{server.name}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(APP / "gunicorn.conf.py")],
            cwd=APP,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Join the cap before exec, so gunicorn and every worker it forks are held to it.
            preexec_fn=cap.join if cap else None,
        )
    server.pid = process.pid
    try:
        wait_for(server.url("/healthz"), timeout=60)
    except StackError as exc:
        raise StackError(f"{exc}; see {stack.logs / (server.name + '.log')}") from exc


def stop_process(pid: int, name: str, sig: int, timeout: float) -> None:
    """Send `sig` to our process `pid` (named `name`), wait up to `timeout` s, then SIGKILL its process group."""
    if process_alive(pid, name):
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while process_alive(pid, name) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
        if process_alive(pid, name):
            os.killpg(pid, signal.SIGKILL)


def stop_app_server(stack: Stack, server: AppServer, sig: int = signal.SIGTERM, timeout: float = 40) -> None:
    stop_process(server.pid, "gunicorn", sig, timeout)
    if server.cpus:
        # Also kills workers orphaned by a kill -9 of their master.
        CpuCap(f"{stack.directory.name}-{server.name}", server.cpus).remove()
    shutil.rmtree(stack.metrics_dir(server), ignore_errors=True)


def _reap(pid: int) -> None:
    # When this process started the server it is also its parent: collect the exit status.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


# -- nginx -------------------------------------------------------------------------------------------
def run_nginx(runtime: Path, error_log: Path, **site: Any) -> int:
    """Render the one template into `runtime` (with `site` over its defaults), check it, start nginx on its
    own: the pid of its master. The microcache lives in `runtime` too. Stop it with stop_nginx_pid()."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise StackError("nginx not found: install it with `sudo apt-get install nginx`")
    runtime.mkdir(parents=True, exist_ok=True)
    user = ""
    if os.geteuid() == 0:
        # Workers drop to nobody; give them the temp dirs they write request bodies to.
        user = "nobody nogroup"
        nobody = pwd.getpwnam("nobody")
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (runtime / sub).mkdir(exist_ok=True)
            os.chown(runtime / sub, nobody.pw_uid, nobody.pw_gid)
    (runtime / "site.conf").write_text(
        render("site", nginx_microcache_path=str(runtime / "microcache"), nginx_error_log=str(error_log), **site)
    )
    main = render(
        "main",
        nginx_user=user,
        nginx_runtime_dir=str(runtime),
        nginx_site_config=str(runtime / "site.conf"),
        nginx_error_log=str(error_log),
        nginx_worker_processes=1,
    )
    (runtime / "nginx.conf").write_text(main)
    command = [nginx, "-p", str(runtime), "-e", str(error_log), "-c", str(runtime / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if checked.returncode != 0:
        raise StackError(f"rendered nginx config is invalid:\n{checked.stderr}")
    subprocess.run(command, check=True)
    return int((runtime / "nginx.pid").read_text())


def stop_nginx_pid(pid: int) -> None:
    if process_alive(pid, "nginx"):
        os.kill(pid, signal.SIGQUIT)  # graceful: finish requests in flight
        deadline = time.monotonic() + 20
        while process_alive(pid, "nginx") and time.monotonic() < deadline:
            time.sleep(0.1)


@contextlib.contextmanager
def nginx_in_front_of(runtime: Path, upstream_ports: list[int], port: int, **site: Any) -> Iterator[int]:
    """An nginx of its own on 127.0.0.1:`port`, in front of the app servers on 127.0.0.1:`upstream_ports`, with
    `site` over the template's defaults (no static files: the app serves them), logging into `runtime`:
    its master's pid, until the block ends."""
    variables = {
        "nginx_upstream_servers": [f"127.0.0.1:{upstream}" for upstream in upstream_ports],
        "nginx_listen_address": "127.0.0.1",
        "nginx_listen_port": port,
        "nginx_static_root": "",
        "nginx_access_log": str(runtime / "access.log"),
        **site,
    }
    pid = run_nginx(runtime, runtime / "error.log", **variables)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", timeout=20)
        yield pid
    finally:
        stop_nginx_pid(pid)


def start_nginx(stack: Stack) -> None:
    # nginx refuses a body only over the app's own limit (the template's default is the env contract's).
    body_limit = stack.extra_env.get("DJANGO_MAX_BODY_BYTES")
    stack.nginx_pid = run_nginx(
        stack.nginx_dir,
        stack.logs / "nginx.error.log",
        nginx_upstream_servers=[f"127.0.0.1:{server.port}" for server in stack.app_servers],
        nginx_listen_address="127.0.0.1",
        nginx_listen_port=stack.port,
        nginx_static_root=str(stack.static_root),
        nginx_access_log=str(stack.logs / "nginx.access.log"),
        **({"nginx_client_max_body_size": int(body_limit)} if body_limit else {}),
        **stack.nginx_overrides,
    )
    wait_for(stack.url("/healthz"), timeout=20)


def stop_nginx(stack: Stack) -> None:
    stop_nginx_pid(stack.nginx_pid)


# -- Prometheus ------------------------------------------------------------------------------------
def start_prometheus(stack: Stack) -> None:
    """Prometheus (Debian's) scraping every app server, with the one rules file, on stack.monitoring_port.
    Its data starts empty each time: it watches this run of the stack."""
    prometheus = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(prometheus).exists():
        raise StackError("prometheus not found: install it with `sudo apt-get install prometheus`")
    shutil.rmtree(stack.prometheus_dir, ignore_errors=True)
    stack.prometheus_dir.mkdir(parents=True)
    config = stack.prometheus_dir / "prometheus.yml"
    jobs = {"scaleboard-app": {f"app{n}": f"127.0.0.1:{server.port}" for n, server in enumerate(stack.app_servers, 1)}}
    interval = stack.scrape_interval
    config.write_text(prometheus_config(jobs, scrape_interval=interval, evaluation_interval=interval,
                                        managed="Written by deploy/local/stack.py for this stack."))  # fmt: skip
    with (stack.logs / "prometheus.log").open("ab") as log:
        process = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={stack.prometheus_dir / 'data'}",
             f"--web.listen-address=127.0.0.1:{stack.monitoring_port}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    stack.prometheus_pid = process.pid
    wait_for(f"http://127.0.0.1:{stack.monitoring_port}/-/ready", timeout=30)


def stop_prometheus(stack: Stack) -> None:
    stop_process(stack.prometheus_pid, "prometheus", signal.SIGTERM, timeout=20)


# -- the whole stack -------------------------------------------------------------------------------
def up(
    directory: Path = DEFAULT_DIR,
    *,
    topology: str = "all-in-one",
    app_servers: int = 1,
    port: int = defaults.STACK_PORT,
    first_app_port: int = FIRST_APP_PORT,
    database_port: int = DATABASE_PORT,
    workers: int = defaults.WEB_CONCURRENCY,
    cpus_per_server: float | None = None,
    seed: tuple[int, int, int] = defaults.SEED_SIZES,
    extra_env: dict[str, str] | None = None,
    nginx_overrides: dict[str, Any] | None = None,
    monitoring_port: int = 0,
    scrape_interval: str = "5s",
) -> Stack:
    if topology not in TOPOLOGIES:
        raise StackError(f"TOPOLOGY must be one of {', '.join(TOPOLOGIES)}, not {topology!r}")
    if not 1 <= app_servers <= MAX_APP_SERVERS:
        raise StackError(f"APP_SERVERS must be 1..{MAX_APP_SERVERS}, not {app_servers}")
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "state.json").exists():
        running = Stack.load(directory)
        if any(process_alive(s.pid, "gunicorn") for s in running.app_servers) or process_alive(
            running.nginx_pid, "nginx"
        ):
            raise StackError(f"a stack is already running from {directory}: `make stack-down` first")
    ports = [port, *range(first_app_port, first_app_port + app_servers)]
    if topology == "split":
        ports.append(database_port)
    if monitoring_port:
        ports.append(monitoring_port)
    busy = [p for p in ports if not port_is_free(p)]
    if busy:
        raise StackError(f"port(s) in use: {', '.join(map(str, busy))}; stop what uses them or pick PORT=")
    if cpus_per_server:
        check_available()  # before anything starts: say now if caps cannot work here
    stack = Stack(
        directory=directory,
        topology=topology,
        port=port,
        database_port=database_port,
        workers=workers,
        extra_env=extra_env or {},
        nginx_overrides=nginx_overrides or {},
        monitoring_port=monitoring_port,
        scrape_interval=scrape_interval,
    )
    stack.app_servers = [
        AppServer(index=i, port=first_app_port + i - 1, cpus=cpus_per_server) for i in range(1, app_servers + 1)
    ]
    stack.save()
    try:
        stack.cluster.start()
        env = stack.app_env()
        where = f"TCP 127.0.0.1:{database_port}" if topology == "split" else "Unix socket"
        print(f"stack: PostgreSQL up ({topology}: {where})")
        manage(env, "migrate", "--noinput")  # once per release, before any app server starts
        manage(env, "collectstatic", "--noinput", "-v0")
        users, posts, comments = seed
        print(
            "stack: "
            + manage(
                env, "seed_demo", "--users", str(users), "--posts", str(posts), "--comments", str(comments)
            ).strip()
        )
        for server in stack.app_servers:
            start_app_server(stack, server)
            stack.save()
            cap = f", capped at {server.cpus} CPU" if server.cpus else ""
            print(f"stack: {server.name} on {server.url()} (pid {server.pid}{cap})")
        start_nginx(stack)
        stack.save()
        if monitoring_port:
            start_prometheus(stack)
            stack.save()
            print(f"stack: Prometheus on http://127.0.0.1:{monitoring_port}/ (rules: deploy/monitoring/alerts.yml)")
    except (StackError, PostgresError, CpuCapError, subprocess.CalledProcessError):
        down(directory)
        raise
    print(f"stack: nginx on {stack.url()} -> {len(stack.app_servers)} app server(s)")
    return stack


def down(directory: Path = DEFAULT_DIR) -> None:
    stack = Stack.load(directory)
    stop_prometheus(stack)
    stop_nginx(stack)
    for server in stack.app_servers:
        stop_app_server(stack, server)
    stack.cluster.stop()
    stack.state_file.unlink()
    print(f"stack: stopped (data kept in {directory / 'postgres'})")


def status(directory: Path = DEFAULT_DIR) -> bool:
    stack = Stack.load(directory)
    healthy = True
    print(f"topology {stack.topology}, {len(stack.app_servers)} app server(s), {stack.workers} workers each")
    rows = [("nginx", stack.url(), process_alive(stack.nginx_pid, "nginx"), http_status(stack.url("/healthz")))]
    rows += [
        (s.name, s.url(), process_alive(s.pid, "gunicorn"), http_status(s.url("/readyz"))) for s in stack.app_servers
    ]
    if stack.monitoring_port:
        prometheus = f"http://127.0.0.1:{stack.monitoring_port}/"
        rows.append(("prometheus", prometheus, process_alive(stack.prometheus_pid, "prometheus"),
                     http_status(prometheus + "-/ready")))  # fmt: skip
    for name, url, alive, code in rows:
        healthy &= alive and code == 200
        print(f"  {name:8} {url:28} {'running' if alive else 'DOWN':8} HTTP {code or '-'}")
    database = stack.cluster.is_running()
    healthy &= database
    print(f"  {'postgres':8} {stack.cluster.url():28} {'running' if database else 'DOWN'}")
    return healthy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--topology", default="all-in-one")
    parser.add_argument("--app-servers", type=int, default=1)
    parser.add_argument("--port", type=int, default=defaults.STACK_PORT, help="nginx port on 127.0.0.1")
    parser.add_argument("--workers", type=int, default=defaults.WEB_CONCURRENCY, help="gunicorn workers per app server")
    parser.add_argument("--cpus-per-server", type=float, default=None, help="CPU cap per app server (root)")
    parser.add_argument("--seed", default=",".join(map(str, defaults.SEED_SIZES)), help="demo users,posts,comments")
    parser.add_argument("--monitoring-port", type=int, default=0, help="also run Prometheus on this port (0: no)")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            users, posts, comments = (int(n) for n in args.seed.split(","))
            up(
                args.dir.resolve(), topology=args.topology, app_servers=args.app_servers, port=args.port,
                workers=args.workers, cpus_per_server=args.cpus_per_server, seed=(users, posts, comments),
                monitoring_port=args.monitoring_port,
            )  # fmt: skip
        elif args.command == "down":
            down(args.dir.resolve())
        else:
            return 0 if status(args.dir.resolve()) else 3
    except (StackError, PostgresError, CpuCapError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
