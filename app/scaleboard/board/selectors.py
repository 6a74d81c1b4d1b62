"""Reads for the board. Each page's data comes from one query (plus one for comments), as rows
(scaleboard.board.rows) holding exactly the columns the page shows."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import BooleanField, Exists, F, OuterRef, Q, QuerySet, Value
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


def post_list_hot(*, viewer: Viewer, page: int = 1, limit: int = PAGE_SIZE) -> list[PostRow]:
    start = (page - 1) * limit
    return _post_rows(_with_vote_flag(Post.objects.order_by("-hot", "-id"), viewer)[start : start + limit])


def post_list_new(*, viewer: Viewer, page: int = 1, limit: int = PAGE_SIZE) -> list[PostRow]:
    start = (page - 1) * limit
    return _post_rows(_with_vote_flag(Post.objects.order_by("-created", "-id"), viewer)[start : start + limit])


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


def _decode_cursor(sort: str, cursor: str) -> Q:
    """The filter for the page after the cursor's post (keyset pagination on (key, id))."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, key, post_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(post_id, int):
            raise BadCursor("cursor belongs to another listing")
        if sort == "hot":
            hot = float(key)
            return Q(hot__lt=hot) | Q(hot=hot, id__lt=post_id)
        created = datetime.fromisoformat(key)
        return Q(created__lt=created) | Q(created=created, id__lt=post_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor("invalid cursor") from exc


def post_page(*, viewer: Viewer, sort: str, cursor: str | None, limit: int) -> tuple[list[PostRow], str | None]:
    """One page of posts and the cursor of the next page (None at the end)."""
    order = ("-hot", "-id") if sort == "hot" else ("-created", "-id")
    queryset = _with_vote_flag(Post.objects.order_by(*order), viewer)
    if cursor:
        queryset = queryset.filter(_decode_cursor(sort, cursor))
    posts = _post_rows(queryset[: limit + 1])
    next_cursor = _encode_cursor(sort, posts[limit - 1]) if len(posts) > limit else None
    return posts[:limit], next_cursor
