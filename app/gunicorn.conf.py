"""The one gunicorn configuration. Every target runs `gunicorn -c gunicorn.conf.py` in app/: gunicorn puts
its working directory on sys.path before it reads this file, so `config` imports from there.

All knobs come from the env contract (config/env.py); see .env.example for their meaning.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from config.env import value

wsgi_app = "config.wsgi:application"


def _bind() -> str:
    configured = value("GUNICORN_BIND")
    if configured:
        return str(configured)
    port = value("PORT")
    return f"0.0.0.0:{port}" if port else "127.0.0.1:8000"


bind = [_bind()]
workers = value("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1
threads = value("GUNICORN_THREADS")
worker_class = "gthread" if threads > 1 else value("GUNICORN_WORKER_CLASS")
timeout = value("GUNICORN_TIMEOUT")
graceful_timeout = value("GUNICORN_GRACEFUL_TIMEOUT")
keepalive = value("GUNICORN_KEEPALIVE")
max_requests = value("GUNICORN_MAX_REQUESTS")
max_requests_jitter = value("GUNICORN_MAX_REQUESTS_JITTER")
forwarded_allow_ips = value("FORWARDED_ALLOW_IPS")
# Worker heartbeat files in memory, not on a possibly slow or read-only disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - tmpfs by design
accesslog = "-" if value("GUNICORN_ACCESS_LOG") else None
errorlog = "-"
# %(M)s is the request time in milliseconds; %({x-request-id}o)s ties the line to the app's logs.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s ua="%(a)s"'
proc_name = "scaleboard"
# gunicorn 24+ opens a control socket at one fixed per-user path; several servers on a host (the local
# stack, the tests) would fight over it. Servers are managed with signals and systemd instead.
control_socket_disable = True


def on_starting(server: Any) -> None:
    """Prometheus metrics from all workers of this server are merged through one directory
    (scaleboard/ops/metrics_store.py): PROMETHEUS_MULTIPROC_DIR when set, else a temporary one of its own.

    Made here, once per server, and remembered on the server: gunicorn reads this file again on every
    reload (SIGHUP, as deploys send), so a module-level note of it was lost, and with it the clean-up.
    """
    configured = value("PROMETHEUS_MULTIPROC_DIR")
    server.scaleboard_metrics_dir = configured or tempfile.mkdtemp(prefix="scaleboard-metrics-")
    server.scaleboard_metrics_own = not configured
    # Before prometheus_client is first imported (next line): it chooses multiprocess mode then, for good, and
    # the workers inherit the choice.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = server.scaleboard_metrics_dir
    from scaleboard.ops.metrics_store import reset

    reset(Path(server.scaleboard_metrics_dir))  # counters restart with the server, as Prometheus expects


def post_fork(server: Any, worker: Any) -> None:
    """Each worker writes its metrics into a directory of its own, which child_exit retires."""
    from scaleboard.ops.metrics_store import worker_dir

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(worker_dir(Path(server.scaleboard_metrics_dir), os.getpid()))


def post_worker_init(worker: Any) -> None:
    """Compile the app's Jinja2 templates before the worker takes requests, so no visitor waits for it
    (noticeable on one core, much longer on a small CPU quota)."""
    from django.template import engines

    environment = engines["jinja2"].env  # type: ignore[attr-defined]  # the Jinja2 backend's Environment
    for name in environment.list_templates(extensions=["html"]):
        environment.get_template(name)


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone (recycled, reloaded, crashed): its counts join the server's retired totals."""
    from scaleboard.ops.metrics_store import retire_worker

    retire_worker(Path(server.scaleboard_metrics_dir), worker.pid)


def on_exit(server: Any) -> None:
    if server.scaleboard_metrics_own:
        shutil.rmtree(server.scaleboard_metrics_dir, ignore_errors=True)
