from django.core.management.base import BaseCommand, CommandError, CommandParser

from scaleboard.board.seeding import seed_demo


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be >= 0")
    return value


class Command(BaseCommand):
    help = "Add deterministic demo users, posts, comments and votes (tops up; never deletes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=_count, default=50, help="demo users demo1..demoN (default 50)")
        parser.add_argument("--posts", type=_count, default=500, help="posts by demo users (default 500)")
        parser.add_argument("--comments", type=_count, default=1500, help="comments by demo users (default 1500)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")

    def handle(self, *args: object, users: int, posts: int, comments: int, seed: int, **options: object) -> None:
        if users == 0 and (posts or comments):
            raise CommandError("posts and comments need at least one demo user (--users 1 or more)")
        report = seed_demo(users=users, posts=posts, comments=comments, seed=seed)
        self.stdout.write(str(report))
