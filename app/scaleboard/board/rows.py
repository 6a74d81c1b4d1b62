"""Read-only rows for pages and API lists: what they show, without building model instances.

Building model instances (30 posts + their authors, with deferred fields) cost more than the page's query;
these slotted dataclasses cost a small part of that (docs/performance.md). They answer the same attributes
the templates and API serializers read from models (id/pk, author.username, vote_url, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from scaleboard.accounts.models import user_path
from scaleboard.board.models import CommentLinks, PostLinks


@dataclass(frozen=True, slots=True)
class AuthorRef:
    username: str

    @property
    def path(self) -> str:  # a property, as PostLinks.path is
        return user_path(self.username)


@dataclass(frozen=True, slots=True)
class PostRow(PostLinks):
    id: int
    title: str
    url: str
    created: datetime
    score: int
    comment_count: int
    hot: float
    voted: bool
    body: str = ""
    author: AuthorRef = field(kw_only=True)

    @property
    def pk(self) -> int:  # type: ignore[override]  # read-only here; a field on the model
        return self.id


@dataclass(frozen=True, slots=True)
class CommentRow(CommentLinks):
    id: int
    post_id: int
    parent_id: int | None
    body: str
    created: datetime
    score: int
    voted: bool
    author: AuthorRef = field(kw_only=True)

    @property
    def pk(self) -> int:  # type: ignore[override]
        return self.id
