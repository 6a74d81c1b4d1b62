from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users (with karma) and their personal API tokens."""

    name = "scaleboard.accounts"
    label = "accounts"
