"""Prometheus metrics: requests by view and status, request latency, database query time.

Under gunicorn each worker is a process; gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR so /metrics
aggregates all workers of the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

Handler = Callable[[HttpRequest], HttpResponse]
# HTTP's methods. A client may send any token as a method (the app answers 405): counted as "other", so no
# client can add series to every worker's metrics file.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})

REQUESTS = Counter(
    "scaleboard_http_requests_total", "HTTP requests answered, by view, method and status.",
    ["view", "method", "status"],
)  # fmt: skip
REQUEST_SECONDS = Histogram(
    "scaleboard_http_request_duration_seconds", "Time to answer an HTTP request, by view.", ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)  # fmt: skip
DB_QUERY_SECONDS = Histogram(
    "scaleboard_db_query_duration_seconds", "Time of each SQL query the app ran.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)  # fmt: skip


def _timed_query(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        DB_QUERY_SECONDS.observe(time.perf_counter() - started)


def metrics_middleware(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        with connection.execute_wrapper(_timed_query):
            response = get_response(request)
        match = request.resolver_match
        # Label by route name, never by raw path: paths carry ids and would explode the series count.
        view = match.view_name if match else "unmatched"
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(view).observe(time.perf_counter() - started)
        return response

    return middleware
