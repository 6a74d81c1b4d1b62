"""Reads for the board. Each page's data comes from one query (plus one for comments), as rows
(scaleboard.board.rows) holding exactly the columns the page shows."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import BooleanField, Exists, F, OuterRef, QuerySet, Value
from django.http import Http404

from scaleboard.accounts.models import User
from scaleboard.board.models import Comment, CommentVote, Post, PostVote
from scaleboard.board.rows import AuthorRef, CommentRow, PostRow

PAGE_SIZE = 30
MAX_SEARCH_QUERY = 200
SORTS = ("hot", "new")
# The rows' fields, in order (body only on the post page), then the author's name.
_POST_ROW_COLUMNS = ("id", "title", "url", "created", "score", "comment_count", "hot", "voted")
_COMMENT_ROW_COLUMNS = ("id", "post_id", "parent_id", "body", "created", "score", "voted", "author__username")

Viewer = User | AnonymousUser


class BadCursor(ValueError):
    """The pagination cursor was not one this API handed out."""


def _with_vote_flag(queryset: QuerySet[Post], viewer: Viewer) -> QuerySet[Post]:
    # An EXISTS column instead of a second query for "did I vote?".
    if not viewer.is_authenticated:
        return queryset.annotate(voted=Value(False, output_field=BooleanField()))
    return queryset.annotate(voted=Exists(PostVote.objects.filter(post=OuterRef("pk"), user=viewer)))


def _post_rows(queryset: QuerySet[Post], *extra: str) -> list[PostRow]:
    columns = queryset.values_list(*_POST_ROW_COLUMNS, *extra, "author__username")
    return [PostRow(*values, author=AuthorRef(author)) for *values, author in columns]


# The front page, /new and the API list run one query, written out here: building it with the ORM cost
# ~0.7 ms a request (the same SQL compiled again each time), more than PostgreSQL takes to run it.
# tests/app/board/test_selectors.py checks it against the queryset it stands for.
_LISTING_SQL = (
    "SELECT p.id, p.title, p.url, p.created, p.score, p.comment_count, p.hot, {voted}, u.username"
    " FROM board_post p JOIN accounts_user u ON u.id = p.author_id"
    " {after} ORDER BY p.{key} DESC, p.id DESC LIMIT %s OFFSET %s"
)
_VOTED_SQL = "EXISTS (SELECT 1 FROM board_postvote v WHERE v.post_id = p.id AND v.user_id = %s)"
_SORT_KEYS = {"hot": "hot", "new": "created"}


def _listing(
    viewer: Viewer, sort: str, *, limit: int, offset: int = 0, after: tuple[Any, int] | None = None
) -> list[PostRow]:
    """Posts in `sort` order; `after` = (key, id) of the last post of the previous page (keyset pagination)."""
    key = _SORT_KEYS[sort]
    params: list[Any] = [viewer.pk] if viewer.is_authenticated else []
    if after:
        params += after
    sql = _LISTING_SQL.format(
        voted=_VOTED_SQL if viewer.is_authenticated else "false",
        key=key,
        after=f"WHERE (p.{key}, p.id) < (%s, %s)" if after else "",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        return [PostRow(*values, author=AuthorRef(author)) for *values, author in cursor.fetchall()]


def post_list_hot(*, viewer: Viewer, page: int = 1, limit: int = PAGE_SIZE) -> list[PostRow]:
    return _listing(viewer, "hot", limit=limit, offset=(page - 1) * limit)


def post_list_new(*, viewer: Viewer, page: int = 1, limit: int = PAGE_SIZE) -> list[PostRow]:
    return _listing(viewer, "new", limit=limit, offset=(page - 1) * limit)


def post_search(*, viewer: Viewer, query: str, limit: int = PAGE_SIZE) -> list[PostRow]:
    query = query.strip()[:MAX_SEARCH_QUERY]
    if not query:
        return []
    search = SearchQuery(query, search_type="websearch", config="english")
    ranked = Post.objects.filter(search=search).annotate(rank=SearchRank(F("search"), search)).order_by("-rank", "-id")
    return _post_rows(_with_vote_flag(ranked, viewer)[:limit])


def post_detail(*, viewer: Viewer, post_id: int) -> PostRow:
    rows = _post_rows(_with_vote_flag(Post.objects.filter(pk=post_id), viewer), "body")
    if not rows:
        raise Http404("No such post")
    return rows[0]


@dataclass(frozen=True, slots=True)
class ThreadedComment:
    comment: CommentRow
    depth: int


def comment_thread(*, viewer: Viewer, post_id: int) -> list[ThreadedComment]:
    """All comments of a post in one query, flattened depth-first (replies under parents, oldest first)."""
    queryset = Comment.objects.filter(post_id=post_id).order_by("created", "id")
    if viewer.is_authenticated:
        queryset = queryset.annotate(voted=Exists(CommentVote.objects.filter(comment=OuterRef("pk"), user=viewer)))
    else:
        queryset = queryset.annotate(voted=Value(False, output_field=BooleanField()))
    children: dict[int | None, list[CommentRow]] = {}
    for *values, author in queryset.values_list(*_COMMENT_ROW_COLUMNS):
        comment = CommentRow(*values, author=AuthorRef(author))
        children.setdefault(comment.parent_id, []).append(comment)
    thread: list[ThreadedComment] = []
    stack = [(comment, 0) for comment in reversed(children.get(None, []))]
    while stack:
        current, depth = stack.pop()
        thread.append(ThreadedComment(current, depth))
        stack.extend((reply, depth + 1) for reply in reversed(children.get(current.pk, [])))
    return thread


# --- API pagination -------------------------------------------------------------------------------
def _encode_cursor(sort: str, post: PostRow) -> str:
    key = post.hot if sort == "hot" else post.created.isoformat()
    raw = json.dumps([sort, key, post.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    """The (key, id) of the post the cursor points after."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, key, post_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(post_id, int):
            raise BadCursor("cursor belongs to another listing")
        return (float(key) if sort == "hot" else datetime.fromisoformat(key)), post_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor("invalid cursor") from exc


def post_page(*, viewer: Viewer, sort: str, cursor: str | None, limit: int) -> tuple[list[PostRow], str | None]:
    """One page of posts and the cursor of the next page (None at the end)."""
    after = _decode_cursor(sort, cursor) if cursor else None
    posts = _listing(viewer, sort, limit=limit + 1, after=after)
    next_cursor = _encode_cursor(sort, posts[limit - 1]) if len(posts) > limit else None
    return posts[:limit], next_cursor
