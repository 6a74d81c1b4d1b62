from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operability: health, readiness, metrics, request ids, JSON logs, outage handling."""

    name = "scaleboard.ops"
    label = "ops"
