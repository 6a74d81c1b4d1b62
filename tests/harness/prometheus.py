"""Reading a running Prometheus from tests: its HTTP API, waits, and an Alertmanager webhook receiver."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def api(base_url: str, path: str, **query: str) -> Any:
    """The `data` of /api/v1/<path>."""
    url = f"{base_url}/api/v1/{path}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the test's own Prometheus
        return json.load(response)["data"]


def by_instance(base_url: str, query: str) -> dict[str, float]:
    """An instant query's result as {instance: value}."""
    return {r["metric"]["instance"]: float(r["value"][1]) for r in api(base_url, "query", query=query)["result"]}


def alert_states(base_url: str, alertname: str) -> dict[str, str]:
    """{instance: pending|firing} of one alert, as Prometheus evaluates it now."""
    return {a["labels"]["instance"]: a["state"] for a in api(base_url, "alerts")["alerts"]
            if a["labels"]["alertname"] == alertname}  # fmt: skip


def eventually(check: Callable[[], T | None], within: float, what: str) -> T:
    """The first truthy result of `check`, polled every second; fails saying `what` did not happen."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"{what}: not within {within:.0f} s")


class AlertReceiver:
    """An Alertmanager webhook receiver on address:port that records each alert it is sent, with the time it
    arrived: `with AlertReceiver(...) as receiver: ... receiver.received("firing", alertname=..., instance=...)`."""

    def __init__(self, address: str, port: int) -> None:
        self.alerts: list[tuple[float, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                arrived = time.monotonic()
                receiver.alerts.extend((arrived, alert) for alert in body["alerts"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the test reads self.alerts
                pass

        self._server = ThreadingHTTPServer((address, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def received(self, status: str, **labels: str) -> float | None:
        """When the first alert with this status and these labels arrived (time.monotonic()), if one has."""
        for arrived, alert in list(self.alerts):
            if alert["status"] == status and all(alert["labels"].get(k) == v for k, v in labels.items()):
                return arrived
        return None

    def __enter__(self) -> AlertReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def panel_queries(dashboard: Path) -> list[tuple[str, str]]:
    """(panel title, PromQL) for every query of a Grafana dashboard JSON file."""
    panels = json.loads(dashboard.read_text())["panels"]
    return [(panel["title"], target["expr"]) for panel in panels for target in panel["targets"]]
