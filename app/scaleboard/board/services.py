"""Writes for the board. Every counter changes in the same transaction as the row that causes it."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from scaleboard.accounts.models import User
from scaleboard.board.models import Comment, CommentVote, Post, PostVote
from scaleboard.board.ranking import HotRank


@dataclass(frozen=True)
class VoteResult:
    voted: bool
    score: int


@transaction.atomic
def post_create(*, author: User, title: str, url: str = "", body: str = "") -> Post:
    title, url, body = title.strip(), url.strip(), body.strip()
    if not title:
        raise ValidationError({"title": "A post needs a title."})
    if bool(url) == bool(body):
        raise ValidationError("A post has either a URL or a text body, not both and not neither.")
    post = Post.objects.create(author=author, title=title, url=url, body=body)
    Post.objects.filter(pk=post.pk).update(hot=HotRank(F("score"), F("created")))
    post.refresh_from_db(fields=["hot"])
    return post


@transaction.atomic
def comment_create(*, author: User, post_id: int, body: str, parent_id: int | None = None) -> Comment:
    """Raises Post.DoesNotExist for an unknown post and ValidationError for a bad parent or empty body."""
    body = body.strip()
    if not body:
        raise ValidationError({"body": "A comment cannot be empty."})
    if parent_id is not None and not Comment.objects.filter(pk=parent_id, post_id=post_id).exists():
        raise ValidationError({"parent": "The comment you reply to is not on this post."})
    if not Post.objects.filter(pk=post_id).update(comment_count=F("comment_count") + 1):
        raise Post.DoesNotExist(f"no post {post_id}")
    return Comment.objects.create(author=author, post_id=post_id, parent_id=parent_id, body=body)


@transaction.atomic
def post_vote_set(*, user: User, post_id: int, up: bool) -> VoteResult:
    """Make the user's vote on a post what `up` says; the same call again changes nothing.

    Raises Post.DoesNotExist."""
    # Locking the post serialises votes on it, so the check, the write and the count never race.
    post = Post.objects.select_for_update().only("id", "author_id").get(pk=post_id)
    delta = _set_vote(PostVote, up=up, user=user, post=post)
    if delta:
        Post.objects.filter(pk=post.pk).update(score=F("score") + delta, hot=HotRank(F("score") + delta, F("created")))
        User.objects.filter(pk=post.author_id).update(karma=F("karma") + delta)
    score = Post.objects.values_list("score", flat=True).get(pk=post.pk)
    return VoteResult(voted=up, score=score)


@transaction.atomic
def comment_vote_set(*, user: User, comment_id: int, up: bool) -> VoteResult:
    """Make the user's vote on a comment what `up` says (idempotent). Raises Comment.DoesNotExist."""
    comment = Comment.objects.select_for_update().only("id", "author_id").get(pk=comment_id)
    delta = _set_vote(CommentVote, up=up, user=user, comment=comment)
    if delta:
        Comment.objects.filter(pk=comment.pk).update(score=F("score") + delta)
        User.objects.filter(pk=comment.author_id).update(karma=F("karma") + delta)
    score = Comment.objects.values_list("score", flat=True).get(pk=comment.pk)
    return VoteResult(voted=up, score=score)


def _set_vote(vote_model: type[PostVote] | type[CommentVote], *, up: bool, user: User, **target: Post | Comment) -> int:
    """Add or remove the user's vote; +1, -1 or 0 (already so) for the counters.

    Callers hold a lock on the target row, so the check and the write cannot race."""
    if up:
        if vote_model.objects.filter(user=user, **target).exists():
            return 0
        vote_model.objects.create(user=user, **target)
        return 1
    removed, _ = vote_model.objects.filter(user=user, **target).delete()
    return -removed
