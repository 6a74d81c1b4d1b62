from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The JSON API under /api/ and its OpenAPI document."""

    name = "scaleboard.api"
    label = "api"
