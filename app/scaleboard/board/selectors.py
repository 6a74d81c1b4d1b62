"""Reads for the board. Each page's data comes from one query (plus one for comments), as rows
(scaleboard.board.rows) holding exactly the columns the page shows."""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config.converters import MAX_ID
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import Http404

from scaleboard.accounts.models import User
from scaleboard.board.rows import AuthorRef, CommentRow, PostRow

PAGE_SIZE = 30
# A cursor is base64 of [sort, key, id]: well under this for any key the API writes.
MAX_CURSOR_LENGTH = 200
# A hot rank is near epoch seconds / 45000 (ranking.py): a cursor key far outside this is not one we wrote.
MAX_HOT = 1e12
MAX_SEARCH_QUERY = 200
SORTS = ("hot", "new")

Viewer = User | AnonymousUser


class BadCursor(ValueError):
    """The pagination cursor was not one this API handed out."""


# The board's reads are written out as SQL: the ORM compiled the same SQL again on every request, which cost
# more than PostgreSQL takes to run it (docs/performance.md). They still go through Django's connection (query
# metrics, test query counts); tests/app/board/test_selectors.py checks each against the queryset it stands
# for. Only constants are formatted into the SQL; every value is a parameter, except LIMIT and OFFSET,
# formatted in as integers: a prepared listing whose plan cannot see how few rows are wanted looks dearer than
# a fresh one, so PostgreSQL would plan it again on every run. Columns are named as the row fields they fill
# (rows are built by name, so a reordered SELECT cannot shift values into the wrong field).
_POST_SQL = (
    "SELECT p.id, p.title, p.url, p.created, p.score, p.comment_count, p.hot, {voted} AS voted{body},"
    " u.username AS author"
    " FROM board_post p JOIN accounts_user u ON u.id = p.author_id {rest}"
)
_COMMENT_SQL = (
    "SELECT c.id, c.post_id, c.parent_id, c.body, c.created, c.score, {voted} AS voted, u.username AS author"
    " FROM board_comment c JOIN accounts_user u ON u.id = c.author_id"
    " WHERE c.post_id = %s ORDER BY c.created, c.id"
)
# "Did I vote?" as a column instead of a second query; a constant for anonymous viewers.
_POST_VOTED_SQL = "EXISTS (SELECT 1 FROM board_postvote v WHERE v.post_id = p.id AND v.user_id = %s)"
_COMMENT_VOTED_SQL = "EXISTS (SELECT 1 FROM board_commentvote v WHERE v.comment_id = c.id AND v.user_id = %s)"
_SORT_KEYS = {"hot": "hot", "new": "created"}
# websearch syntax ("quoted phrases", -excluded, or), ranked like SearchRank: titles (weight A) first. Only the
# newest SEARCH_CANDIDATES matches are ranked: a common word matches a large share of all posts, and ranking
# every match made one search cost as much as dozens of pages (docs/performance.md). A query with fewer matches
# ranks them all, as before; a broad one shows the best of its newest matches.
SEARCH_CANDIDATES = 200
_SEARCH_SQL = (
    "JOIN (SELECT c.id FROM board_post c WHERE c.search @@ websearch_to_tsquery('english'::regconfig, %s)"
    " ORDER BY c.id DESC LIMIT {candidates:d}) m ON m.id = p.id"
    " CROSS JOIN websearch_to_tsquery('english'::regconfig, %s) q"
    " ORDER BY ts_rank(p.search, q) DESC, p.id DESC LIMIT {limit:d}"
)


def _rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """The result as one dict per row, keyed by column name; `author` (a username) becomes an AuthorRef."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    for row in rows:
        row["author"] = AuthorRef(row["author"])
    return rows


def _posts(viewer: Viewer, rest: str, params: list[Any], *, body: bool = False) -> list[PostRow]:
    """Post rows: the columns every post row shows (+ body), then `rest` (joins, WHERE, ORDER BY, LIMIT)."""
    voted = _POST_VOTED_SQL if viewer.is_authenticated else "false"
    sql = _POST_SQL.format(voted=voted, body=", p.body" if body else "", rest=rest)
    params = [viewer.pk, *params] if viewer.is_authenticated else params
    return [PostRow(**row) for row in _rows(sql, params)]


def _listing(
    viewer: Viewer, sort: str, *, limit: int, offset: int = 0, after: tuple[Any, int] | None = None
) -> list[PostRow]:
    """Posts in `sort` order; `after` = (key, id) of the last post of the previous page (keyset pagination)."""
    key = _SORT_KEYS[sort]
    where = f"WHERE (p.{key}, p.id) < (%s, %s)" if after else ""
    return _posts(
        viewer, f"{where} ORDER BY p.{key} DESC, p.id DESC LIMIT {limit:d} OFFSET {offset:d}", [*(after or ())]
    )


def post_list_hot(*, viewer: Viewer, page: int = 1, limit: int = PAGE_SIZE) -> list[PostRow]:
    return _listing(viewer, "hot", limit=limit, offset=(page - 1) * limit)


def post_list_new(*, viewer: Viewer, page: int = 1, limit: int = PAGE_SIZE) -> list[PostRow]:
    return _listing(viewer, "new", limit=limit, offset=(page - 1) * limit)


def post_search(*, viewer: Viewer, query: str, limit: int = PAGE_SIZE) -> list[PostRow]:
    query = query.strip()[:MAX_SEARCH_QUERY]
    if not query:
        return []
    return _posts(viewer, _SEARCH_SQL.format(candidates=SEARCH_CANDIDATES, limit=limit), [query, query])


def post_detail(*, viewer: Viewer, post_id: int) -> PostRow:
    rows = _posts(viewer, "WHERE p.id = %s", [post_id], body=True)
    if not rows:
        raise Http404("No such post")
    return rows[0]


@dataclass(frozen=True, slots=True)
class ThreadedComment:
    comment: CommentRow
    depth: int


def comment_thread(*, viewer: Viewer, post_id: int) -> list[ThreadedComment]:
    """All comments of a post in one query, flattened depth-first (replies under parents, oldest first)."""
    if viewer.is_authenticated:
        rows = _rows(_COMMENT_SQL.format(voted=_COMMENT_VOTED_SQL), [viewer.pk, post_id])
    else:
        rows = _rows(_COMMENT_SQL.format(voted="false"), [post_id])
    children: dict[int | None, list[CommentRow]] = {}
    for row in rows:
        comment = CommentRow(**row)
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
    """The (key, id) of the post the cursor points after; BadCursor for anything this API did not hand out."""
    if len(cursor) > MAX_CURSOR_LENGTH:  # also bounds how deeply its JSON can nest
        raise BadCursor("invalid cursor")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadCursor("invalid cursor") from exc
    if not (isinstance(decoded, list) and len(decoded) == 3 and decoded[0] in SORTS):
        raise BadCursor("invalid cursor")
    cursor_sort, key, post_id = decoded
    if cursor_sort != sort:
        raise BadCursor("cursor belongs to another listing")
    # bool is an int in Python; ids and keys must be the types _encode_cursor writes, within their ranges.
    if type(post_id) is not int or not 1 <= post_id <= MAX_ID:
        raise BadCursor("invalid cursor")
    return _cursor_key(sort, key), post_id


def _cursor_key(sort: str, key: object) -> float | datetime:
    if sort == "hot":
        if type(key) not in (int, float) or not math.isfinite(key) or abs(key) > MAX_HOT:  # type: ignore[arg-type]
            raise BadCursor("invalid cursor")
        return float(key)  # type: ignore[arg-type]  # checked above
    try:
        created = datetime.fromisoformat(key) if isinstance(key, str) else None
    except ValueError:
        created = None
    if created is None or created.tzinfo is None:
        raise BadCursor("invalid cursor")
    return created


def post_page(*, viewer: Viewer, sort: str, cursor: str | None, limit: int) -> tuple[list[PostRow], str | None]:
    """One page of posts and the cursor of the next page (None at the end)."""
    after = _decode_cursor(sort, cursor) if cursor else None
    posts = _listing(viewer, sort, limit=limit + 1, after=after)
    next_cursor = _encode_cursor(sort, posts[limit - 1]) if len(posts) > limit else None
    return posts[:limit], next_cursor
