"""Readiness, metrics, and the error page that turns database outages into 503s."""

from __future__ import annotations

import ipaddress
import logging
import sys
from pathlib import Path

from config.env import value
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from scaleboard.ops.metrics_store import ServerCollector, server_dir_of

log = logging.getLogger(__name__)


def _not_ready(request: HttpRequest, reason: str) -> JsonResponse:
    log.warning("not ready: %s", reason)
    # Probes need only the status; the reason (migration names, error classes) is for the operators' networks.
    shown = reason if _client_allowed(request) else "see the app server's log"
    return JsonResponse({"status": "unavailable", "reason": shown}, status=503)


class _Migrations:
    # Once this process has seen every migration of its code applied, they stay applied: later probes skip
    # building the migration graph and only check the database connection.
    all_applied = False


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready = the database answers and every migration is applied."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
        plan = []
        if not _Migrations.all_applied:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return _not_ready(request, f"database unreachable: {exc.__class__.__name__}")
    if plan:
        pending = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        return _not_ready(request, f"{len(plan)} unapplied migration(s): {pending}")
    _Migrations.all_applied = True
    return JsonResponse({"status": "ready"})


def _client_allowed(request: HttpRequest) -> bool:
    # The direct peer only: X-Forwarded-For is client-controlled and would let anyone in.
    peer = request.META.get("REMOTE_ADDR", "")
    if not peer and str(value("GUNICORN_BIND")).startswith("unix:"):
        # A Unix socket has no peer address: the client is a process on this server, like a loopback client
        # (which METRICS_ALLOWED_NETWORKS admits by default). In practice nginx, which fences /metrics by the
        # client's address itself (nginx_metrics_allow).
        return True
    try:
        client = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not _client_allowed(request):
        return HttpResponse("metrics are not available from your network\n", status=403, content_type="text/plain")
    registry = REGISTRY
    directory = value("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        server_dir = server_dir_of(Path(directory))
        if server_dir:  # under gunicorn.conf.py: every worker of this server, living or gone
            registry.register(ServerCollector(server_dir))
        else:
            multiprocess.MultiProcessCollector(registry)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage is a 503 (try again), anything else a plain 500."""
    error = sys.exc_info()[1]
    # Only connection-level failures mean "unavailable"; other database errors are bugs and stay 500s.
    unavailable = isinstance(error, OperationalError | InterfaceError)
    status = 503 if unavailable else 500
    message = "The database is unavailable. Please retry in a moment." if unavailable else "Server error."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"error": message}, status=status)
    else:
        response = HttpResponse(render_to_string("errors/error.html", {"message": message, "status": status}),
                                status=status)  # fmt: skip
    if unavailable:
        response["Retry-After"] = "5"
    return response
