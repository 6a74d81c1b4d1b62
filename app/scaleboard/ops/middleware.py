"""Middleware that must run before the rest of the stack."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from scaleboard.ops.request_context import current_request_id
from scaleboard.ops.views import metrics

Handler = Callable[[HttpRequest], HttpResponse]
log = logging.getLogger("scaleboard.request")

# A forwarded id is reused only if it is short and harmless in logs and headers.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def health_check_middleware(get_response: Handler) -> Handler:
    """Liveness (/healthz) and Prometheus's /metrics, for any Host header, with no database and no further
    middleware. Load balancers probe and Prometheus scrapes by IP address (an app server's, a pod's), which is not
    in ALLOWED_HOSTS; answering here avoids their 400s. /metrics stays fenced by the client's address."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            response = HttpResponse("ok\n", content_type="text/plain")
            response["Cache-Control"] = "no-store"
            return response
        if request.path == "/metrics":
            return metrics(request)
        return get_response(request)

    return middleware


def request_id_middleware(get_response: Handler) -> Handler:
    """Take X-Request-ID from the client or load balancer (or make one), log with it, echo it back."""

    def middleware(request: HttpRequest) -> HttpResponse:
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if _SAFE_REQUEST_ID.match(offered) else uuid.uuid4().hex
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = get_response(request)
            response["X-Request-ID"] = request_id
            log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            current_request_id.reset(token)

    return middleware
