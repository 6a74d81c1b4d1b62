from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import BooleanField, Exists, F, OuterRef, QuerySet, Value
from django.utils import timezone
from scaleboard.accounts.models import User
from scaleboard.board import selectors, services
from scaleboard.board.models import Comment, CommentVote, Post, PostVote
from scaleboard.board.ranking import HotRank
from scaleboard.board.rows import AuthorRef, CommentRow, PostRow

pytestmark = pytest.mark.django_db
anonymous = AnonymousUser()


def _aged(post: Post, hours: float) -> Post:
    """Move a post back in time and recompute its rank the way the services do."""
    from django.db.models import F

    Post.objects.filter(pk=post.pk).update(created=timezone.now() - timedelta(hours=hours))
    Post.objects.filter(pk=post.pk).update(hot=HotRank(F("score"), F("created")))
    post.refresh_from_db()
    return post


def test_hot_prefers_votes_but_decays_with_age(make_post: Callable[..., Post], make_user: Callable[..., User]) -> None:
    make_post(title="fresh quiet")
    old_popular = _aged(make_post(title="old popular"), hours=6)
    ancient_popular = _aged(make_post(title="ancient popular"), hours=24 * 7)
    for post in (old_popular, ancient_popular):
        for _ in range(20):
            services.post_vote_set(user=make_user(), post_id=post.pk, up=True)
    titles = [post.title for post in selectors.post_list_hot(viewer=anonymous)]
    assert titles == ["old popular", "fresh quiet", "ancient popular"]


def test_new_is_newest_first_and_pages(make_post: Callable[..., Post]) -> None:
    posts = [make_post(title=f"p{i}") for i in range(5)]
    first = selectors.post_list_new(viewer=anonymous, page=1, limit=2)
    second = selectors.post_list_new(viewer=anonymous, page=2, limit=2)
    assert [p.pk for p in first + second] == [p.pk for p in reversed(posts)][:4]


def test_vote_flag_is_per_viewer(make_post: Callable[..., Post], make_user: Callable[..., User]) -> None:
    post = make_post()
    voter, other = make_user(), make_user()
    services.post_vote_set(user=voter, post_id=post.pk, up=True)
    assert selectors.post_list_hot(viewer=voter)[0].voted is True
    assert selectors.post_list_hot(viewer=other)[0].voted is False
    assert selectors.post_list_hot(viewer=anonymous)[0].voted is False


def test_search_uses_full_text_and_ranks_titles_first(make_post: Callable[..., Post]) -> None:
    make_post(title="Unrelated thing", body="we scaled postgres replicas")
    make_post(title="Scaling Postgres", url="https://example.com/pg")
    make_post(title="Gardening", url="https://example.com/g")
    found = [post.title for post in selectors.post_search(viewer=anonymous, query="scaling postgres")]
    assert found == ["Scaling Postgres", "Unrelated thing"]
    assert selectors.post_search(viewer=anonymous, query="   ") == []


def test_comment_thread_is_depth_first(make_post: Callable[..., Post], make_user: Callable[..., User]) -> None:
    post = make_post()
    author = make_user()
    a = services.comment_create(author=author, post_id=post.pk, body="a")
    b = services.comment_create(author=author, post_id=post.pk, body="b")
    a1 = services.comment_create(author=author, post_id=post.pk, body="a1", parent_id=a.pk)
    a1x = services.comment_create(author=author, post_id=post.pk, body="a1x", parent_id=a1.pk)
    a2 = services.comment_create(author=author, post_id=post.pk, body="a2", parent_id=a.pk)
    thread = selectors.comment_thread(viewer=anonymous, post_id=post.pk)
    assert [(t.comment.pk, t.depth) for t in thread] == [
        (a.pk, 0),
        (a1.pk, 1),
        (a1x.pk, 2),
        (a2.pk, 1),
        (b.pk, 0),
    ]


@pytest.mark.parametrize("sort", selectors.SORTS)
def test_cursor_pages_cover_every_post_once(make_post: Callable[..., Post], sort: str) -> None:
    made = {make_post(title=f"p{i}").pk for i in range(7)}
    seen: list[int] = []
    cursor = None
    while True:
        page, cursor = selectors.post_page(viewer=anonymous, sort=sort, cursor=cursor, limit=3)
        seen.extend(post.pk for post in page)
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(made)


# --- The SQL selectors against the querysets they stand for ---------------------------------------
_POST_COLUMNS = ("id", "title", "url", "created", "score", "comment_count", "hot", "voted")


def _voted(viewer: User | AnonymousUser, votes: type[PostVote | CommentVote], target: str) -> Any:
    if not viewer.is_authenticated:
        return Value(False, output_field=BooleanField())
    return Exists(votes.objects.filter(**{target: OuterRef("pk")}, user=viewer))


def _orm_posts(viewer: User | AnonymousUser, queryset: QuerySet[Post], *extra: str) -> list[PostRow]:
    values = queryset.annotate(voted=_voted(viewer, PostVote, "post"))
    return [
        PostRow(*row, author=AuthorRef(author))
        for *row, author in values.values_list(*_POST_COLUMNS, *extra, "author__username")
    ]


@pytest.fixture
def board(make_post: Callable[..., Post], make_user: Callable[..., User]) -> tuple[list[Post], User]:
    """Posts with ties on both sort keys, some voted on (posts and comments) by the returned user."""
    posts = [make_post(title=f"Scaling postgres, part {i}", author=make_user(f"author{i}")) for i in range(5)]
    posts += [make_post(title="Gardening", body=f"postgres in the shed {i}") for i in range(2)]
    voter = make_user()
    for post in posts[1::2]:
        services.post_vote_set(user=voter, post_id=post.pk, up=True)
    # Ties on the sort key: the id breaks them, in the SQL's ORDER BY and in the cursor's row comparison.
    Post.objects.filter(pk__in=[p.pk for p in posts[2:5]]).update(hot=1.5, created=posts[2].created)
    return posts, voter


@pytest.mark.parametrize("sort", selectors.SORTS)
def test_listing_sql_gives_what_the_orm_gives(board: tuple[list[Post], User], sort: str) -> None:
    _, voter = board
    list_page = selectors.post_list_hot if sort == "hot" else selectors.post_list_new
    order = ("-hot", "-id") if sort == "hot" else ("-created", "-id")
    for viewer in (anonymous, voter):
        expected = _orm_posts(viewer, Post.objects.order_by(*order))
        assert [row.voted for row in expected].count(True) == (3 if viewer is voter else 0)
        pages = [list_page(viewer=viewer, page=page, limit=3) for page in (1, 2, 3)]
        assert [row for page in pages for row in page] == expected
        keyset: list[PostRow] = []
        cursor = None
        while True:
            page, cursor = selectors.post_page(viewer=viewer, sort=sort, cursor=cursor, limit=2)
            keyset += page
            if cursor is None:
                break
        assert keyset == expected


@pytest.mark.parametrize("query", ["postgres", '"scaling postgres"', "postgres -shed", "gardening or part"])
def test_search_sql_gives_what_the_orm_gives(board: tuple[list[Post], User], query: str) -> None:
    search = SearchQuery(query, search_type="websearch", config="english")
    ranked = Post.objects.filter(search=search).annotate(rank=SearchRank(F("search"), search)).order_by("-rank", "-id")
    for viewer in (anonymous, board[1]):
        expected = _orm_posts(viewer, ranked)
        assert expected
        assert selectors.post_search(viewer=viewer, query=query) == expected
        assert selectors.post_search(viewer=viewer, query=query, limit=2) == expected[:2]


def test_broad_searches_rank_their_newest_matches(
    board: tuple[list[Post], User], make_post: Callable[..., Post], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more matches than SEARCH_CANDIDATES, the newest of them are ranked, as the ORM ranks them."""
    for n in range(5):  # the older, the more relevant
        make_post(title=f"post {n}" + " broad" * (5 - n), url=f"https://example.com/broad/{n}")
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 3)
    search = SearchQuery("broad", search_type="websearch", config="english")
    newest = Post.objects.filter(search=search).order_by("-id").values("id")[:3]
    ranked = Post.objects.filter(id__in=newest).annotate(rank=SearchRank(F("search"), search)).order_by("-rank", "-id")
    expected = _orm_posts(anonymous, ranked)
    assert [post.title.split()[1] for post in expected] == ["2", "3", "4"]  # the best of the newest three
    assert selectors.post_search(viewer=anonymous, query="broad") == expected


def test_post_and_comment_sql_give_what_the_orm_gives(
    board: tuple[list[Post], User], make_user: Callable[..., User]
) -> None:
    posts, voter = board
    post = posts[1]
    author = make_user()
    first = services.comment_create(author=author, post_id=post.pk, body="first")
    reply = services.comment_create(author=author, post_id=post.pk, body="a reply", parent_id=first.pk)
    services.comment_create(author=author, post_id=posts[2].pk, body="elsewhere")
    services.comment_vote_set(user=voter, comment_id=reply.pk, up=True)
    for viewer in (anonymous, voter):
        assert (
            selectors.post_detail(viewer=viewer, post_id=post.pk)
            == _orm_posts(viewer, Post.objects.filter(pk=post.pk), "body")[0]
        )
        comments = Comment.objects.filter(post_id=post.pk).annotate(voted=_voted(viewer, CommentVote, "comment"))
        columns = ("id", "post_id", "parent_id", "body", "created", "score", "voted", "author__username")
        expected = [
            CommentRow(*row, author=AuthorRef(name))
            for *row, name in comments.order_by("created", "id").values_list(*columns)
        ]
        assert [row.voted for row in expected] == [False, viewer is voter]
        thread = selectors.comment_thread(viewer=viewer, post_id=post.pk)
        assert sorted((t.comment for t in thread), key=lambda c: (c.created, c.pk)) == expected


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGpzb24", "WyJuZXciLCAieCIsIDFd", "WyJob3QiLCAxLjAsIDFd"])
def test_bad_cursors_are_refused(cursor: str) -> None:
    # The last two are valid base64 JSON: a bad date for "new", and a "hot" cursor used for "new".
    with pytest.raises(selectors.BadCursor):
        selectors.post_page(viewer=anonymous, sort="new", cursor=cursor, limit=3)


def test_sql_timestamps_read_like_the_orms(board: tuple[list[Post], User]) -> None:
    """Same instants and the same time zone as the ORM's, in UTC (datetimes in different zones compare equal,
    so the listing tests alone would not notice)."""
    posts, _ = board
    orm = Post.objects.get(pk=posts[0].pk).created
    row = selectors.post_detail(viewer=anonymous, post_id=posts[0].pk).created
    assert (row, row.tzinfo, row.isoformat()) == (orm, orm.tzinfo, orm.isoformat())
    assert row.utcoffset() == timedelta(0)


@pytest.fixture
def fresh_connection() -> None:
    """A new database session: prepared statements and psycopg's counts of runs belong to one."""
    connection.close()


def _plans(fragment: str) -> list[tuple[int, int]]:
    """(generic plans, custom plans) of this session's prepared statements whose text holds `fragment`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page", [1, 2])
def test_a_repeated_listing_is_planned_once(make_post: Callable[..., Post], fresh_connection: None, page: int) -> None:
    """psycopg prepares a query on its 6th run; from then on PostgreSQL runs the one plan it made for it.
    With LIMIT and OFFSET as parameters it plans each run anew: here for the first 5 runs (custom plans),
    on the 100k-post demo set for every run."""
    for _ in range(35):
        make_post()
    runs = 12
    for _ in range(runs):
        assert len(selectors.post_list_hot(viewer=anonymous, page=page)) == (30 if page == 1 else 5)
    assert _plans("ORDER BY p.hot DESC") == [(runs - 5, 0)]
