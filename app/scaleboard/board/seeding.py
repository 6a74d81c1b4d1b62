"""Deterministic demo data, bulk-loaded with COPY.

The same arguments give the same users, posts, comments and votes (timestamps are offsets from the
start of the current UTC day). Re-running tops the demo set up to the requested sizes and never
deletes: item i is always generated from its own seeded RNG, so a top-up continues where the last
run stopped.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import F

from scaleboard.accounts.models import User
from scaleboard.board.models import Comment, CommentVote, Post, PostVote
from scaleboard.board.ranking import HotRank

DEMO_USER_PREFIX = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - published demo credential, documented in the README
POST_WINDOW = timedelta(days=30)
COMMENT_WINDOW = timedelta(days=2)
URL_POST_RATIO = 0.7
REPLY_RATIO = 0.5

# One readable paragraph of topic words for titles and comments.
WORDS = (  # noqa: SIM905 - a paragraph reads better than 150 one-word lines
    "postgres gunicorn nginx django python scaling load balancer cache index query latency throughput "
    "kubernetes container image ansible terraform vagrant server cluster replica queue worker thread "
    "process memory cpu disk network socket connection pool timeout retry backoff deploy release "
    "rollback migration schema table column vector search ranking vote comment thread benchmark "
    "profile flame graph trace metric alert dashboard incident outage postmortem design review "
    "testing fuzzing compiler runtime garbage collector async event loop coroutine lock mutex atomic "
    "transaction isolation snapshot consistency partition shard replication backup restore encryption "
    "certificate firewall proxy gateway route dns cdn edge static asset bundle browser layout render "
    "paint api token session cookie header request response status error budget capacity planning "
    "cost"
).split()
DOMAINS = ("example.com", "blog.example.org", "news.example.net", "docs.example.io", "papers.example.edu")


@dataclass
class SeedReport:
    users_total: int
    users_added: int
    posts_total: int
    posts_added: int
    comments_total: int
    comments_added: int
    votes_added: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"demo set: {self.users_total} users (+{self.users_added}), {self.posts_total} posts "
            f"(+{self.posts_added}), {self.comments_total} comments (+{self.comments_added}), "
            f"+{self.votes_added} votes in {self.seconds:.1f}s. "
            f"Log in as {DEMO_USER_PREFIX}1 / {DEMO_PASSWORD}"
        )


def _rng(seed: int, kind: int, index: int) -> random.Random:
    # Ints hash deterministically (unlike str), so each item's RNG is the same in every run.
    return random.Random(hash((seed, kind, index)))  # noqa: S311 - demo data, not security


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize()


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with connection.cursor() as cursor:
        copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:  # psycopg's COPY: far faster than INSERTs
            for row in rows:
                copy.write_row(row)


def _allocate_ids(table: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            # The table name comes from model metadata, never from input.
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",  # noqa: S608
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def _score(rng: random.Random, shape: float, cap: int) -> int:
    # Pareto: most items get a few votes, a few get very many, as on real boards.
    return min(cap, int(rng.paretovariate(shape)) - 1)


def _seed_users(count: int) -> tuple[list[int], int]:
    names = [f"{DEMO_USER_PREFIX}{i}" for i in range(1, count + 1)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    # One hash for all: hashing each demo password separately would take minutes and protect nothing.
    password = make_password(DEMO_PASSWORD)
    missing = [User(username=name, password=password) for name in names if name not in existing]
    User.objects.bulk_create(missing, batch_size=1000)
    ids_by_name = dict(User.objects.filter(username__in=names).values_list("username", "id"))
    return [ids_by_name[name] for name in names], len(missing)


def _seed_posts(seed: int, user_ids: list[int], target: int, anchor: datetime) -> tuple[int, list[tuple[Any, ...]]]:
    demo_posts = Post.objects.filter(author_id__in=user_ids)
    have = demo_posts.count()
    needed = max(0, target - have)
    ids = _allocate_ids(Post._meta.db_table, needed) if needed else []
    posts: list[tuple[Any, ...]] = []
    votes: list[tuple[Any, ...]] = []
    for offset, post_id in enumerate(ids):
        rng = _rng(seed, 1, have + offset)
        created = anchor - POST_WINDOW * rng.random()
        score = _score(rng, 1.2, len(user_ids))
        title = _sentence(rng, 4, 10)
        if rng.random() < URL_POST_RATIO:
            url, body = f"https://{rng.choice(DOMAINS)}/{title.lower().replace(' ', '-')[:80]}", ""
        else:
            url, body = "", "\n\n".join(_sentence(rng, 12, 40) + "." for _ in range(rng.randint(1, 3)))
        posts.append((post_id, rng.choice(user_ids), title, url, body, created, score, 0, 0.0))
        votes.extend((post_id, voter, created) for voter in rng.sample(user_ids, score))
    columns = ("id", "author_id", "title", "url", "body", "created", "score", "comment_count", "hot")
    _copy(Post._meta.db_table, columns, posts)
    _copy("board_postvote", ("post_id", "user_id", "created"), votes)
    if ids:
        # A range, not a 100k-item IN list; the ranking formula lives only in SQL (HotRank).
        Post.objects.filter(id__range=(ids[0], ids[-1])).update(hot=HotRank(F("score"), F("created")))
    return needed, votes


def _seed_comments(seed: int, user_ids: list[int], target: int, anchor: datetime) -> tuple[int, int]:
    demo_comments = Comment.objects.filter(author_id__in=user_ids)
    have = demo_comments.count()
    needed = max(0, target - have)
    if not needed:
        return 0, 0
    posts = list(Post.objects.filter(author_id__in=user_ids).order_by("id").values_list("id", "created", "score"))
    if not posts:
        return 0, 0
    # Busier posts draw more comments: pick posts by cumulative (score + 1).
    cumulative = list(itertools.accumulate(score + 1 for _, _, score in posts))
    ids = _allocate_ids(Comment._meta.db_table, needed)
    comments: list[tuple[Any, ...]] = []
    votes: list[tuple[Any, ...]] = []
    per_post: dict[int, list[int]] = {}
    added_per_post: dict[int, int] = {}
    for offset, comment_id in enumerate(ids):
        rng = _rng(seed, 2, have + offset)
        post_id, post_created, _ = posts[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]
        siblings = per_post.setdefault(post_id, [])
        parent = rng.choice(siblings) if siblings and rng.random() < REPLY_RATIO else None
        created = min(anchor, post_created + COMMENT_WINDOW * rng.random())
        score = _score(rng, 1.6, len(user_ids))
        comments.append(
            (comment_id, post_id, rng.choice(user_ids), parent, _sentence(rng, 6, 30) + ".", created, score)
        )
        votes.extend((comment_id, voter, created) for voter in rng.sample(user_ids, score))
        siblings.append(comment_id)
        added_per_post[post_id] = added_per_post.get(post_id, 0) + 1
    # A reply may be generated before its parent's timestamp; ids keep the thread order right anyway.
    _copy(
        Comment._meta.db_table,
        ("id", "post_id", "author_id", "parent_id", "body", "created", "score"),
        comments,
    )
    _copy("board_commentvote", ("comment_id", "user_id", "created"), votes)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE board_post SET comment_count = comment_count + added.n"
            " FROM unnest(%s::bigint[], %s::int[]) AS added(id, n) WHERE board_post.id = added.id",
            [list(added_per_post), list(added_per_post.values())],
        )
    return needed, len(votes)


def _recompute_karma(user_ids: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE accounts_user AS u SET karma =
                COALESCE((SELECT sum(score) FROM board_post WHERE author_id = u.id), 0)
              + COALESCE((SELECT sum(score) FROM board_comment WHERE author_id = u.id), 0)
            WHERE u.id = ANY(%s)
            """,
            [user_ids],
        )


def _analyze() -> None:
    """Fresh planner statistics for what the seed wrote, as after any bulk load: until autovacuum's next round
    (a minute or more), queries were planned blind, and the first requests (a benchmark's) got other plans than
    every later one."""
    with connection.cursor() as cursor:
        tables = ", ".join(model._meta.db_table for model in (User, Post, PostVote, Comment, CommentVote))
        cursor.execute(f"ANALYZE {tables}")


def seed_demo(*, users: int, posts: int, comments: int, seed: int) -> SeedReport:
    started = time.perf_counter()
    anchor = datetime.now(tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction.atomic():
        # One seeder at a time, so two concurrent runs cannot both top up.
        with connection.cursor() as cursor:
            # A bulk load, not a request: DB_STATEMENT_TIMEOUT_MS would cancel the COPY of a large demo set
            # (300,000 comments took over its 10 s on a busy 2-core machine). SET LOCAL ends with the transaction.
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute("LOCK TABLE board_post, board_comment IN SHARE ROW EXCLUSIVE MODE")
        user_ids, users_added = _seed_users(users)
        posts_added, post_votes = _seed_posts(seed, user_ids, posts, anchor)
        comments_added, comment_votes = _seed_comments(seed, user_ids, comments, anchor)
        _recompute_karma(user_ids)
        if users_added or posts_added or comments_added:
            _analyze()
    return SeedReport(
        users_total=len(user_ids),
        users_added=users_added,
        posts_total=Post.objects.filter(author_id__in=user_ids).count(),
        posts_added=posts_added,
        comments_total=Comment.objects.filter(author_id__in=user_ids).count(),
        comments_added=comments_added,
        votes_added=len(post_votes) + comment_votes,
        seconds=time.perf_counter() - started,
    )
