from django.apps import AppConfig


class BoardConfig(AppConfig):
    """Posts, threaded comments and votes."""

    name = "scaleboard.board"
    label = "board"
