from django.apps import AppConfig
from django.core.signals import request_started

from scaleboard.ops.connections import close_connections_the_server_left


class OpsConfig(AppConfig):
    """Operability: health, readiness, metrics, request ids, JSON logs, outage handling."""

    name = "scaleboard.ops"
    label = "ops"

    def ready(self) -> None:
        request_started.connect(close_connections_the_server_left, dispatch_uid="scaleboard.ops.connections")
