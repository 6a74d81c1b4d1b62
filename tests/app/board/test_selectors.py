from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from scaleboard.accounts.models import User
from scaleboard.board import selectors, services
from scaleboard.board.models import Post, PostVote
from scaleboard.board.ranking import HotRank
from scaleboard.board.rows import AuthorRef, PostRow

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
            services.post_vote_toggle(user=make_user(), post_id=post.pk)
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
    services.post_vote_toggle(user=voter, post_id=post.pk)
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


def _orm_listing(viewer: User | AnonymousUser, sort: str) -> list[PostRow]:
    """What the listing's hand-written SQL stands for, in the ORM: every post, in the listing's order."""
    from django.db.models import BooleanField, Exists, OuterRef, Value

    voted = (
        Exists(PostVote.objects.filter(post=OuterRef("pk"), user=viewer))
        if viewer.is_authenticated
        else Value(False, output_field=BooleanField())
    )
    order = ("-hot", "-id") if sort == "hot" else ("-created", "-id")
    columns = ("id", "title", "url", "created", "score", "comment_count", "hot", "voted", "author__username")
    values = Post.objects.annotate(voted=voted).order_by(*order).values_list(*columns)
    return [PostRow(*row, author=AuthorRef(author)) for *row, author in values]


@pytest.mark.parametrize("sort", selectors.SORTS)
def test_listing_sql_gives_what_the_orm_gives(
    make_post: Callable[..., Post], make_user: Callable[..., User], sort: str
) -> None:
    posts = [make_post(title=f"p{i}", author=make_user(f"author{i}")) for i in range(7)]
    voter = make_user()
    for post in posts[1::2]:
        services.post_vote_toggle(user=voter, post_id=post.pk)
    # Ties on the sort key: the id breaks them, in the SQL's ORDER BY and in the cursor's row comparison.
    Post.objects.filter(pk__in=[p.pk for p in posts[2:5]]).update(hot=1.5, created=posts[2].created)
    list_page = selectors.post_list_hot if sort == "hot" else selectors.post_list_new
    for viewer in (anonymous, voter):
        expected = _orm_listing(viewer, sort)
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


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGpzb24", "WyJuZXciLCAieCIsIDFd", "WyJob3QiLCAxLjAsIDFd"])
def test_bad_cursors_are_refused(cursor: str) -> None:
    # The last two are valid base64 JSON: a bad date for "new", and a "hot" cursor used for "new".
    with pytest.raises(selectors.BadCursor):
        selectors.post_page(viewer=anonymous, sort="new", cursor=cursor, limit=3)
