from django.core.management.base import BaseCommand, CommandError, CommandParser

from scaleboard.accounts.models import User
from scaleboard.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it (it cannot be shown again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="what the token is for")

    def handle(self, *args: object, username: str, name: str, **options: object) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        _, plain = api_token_create(user=user, name=name)
        self.stdout.write(plain)
