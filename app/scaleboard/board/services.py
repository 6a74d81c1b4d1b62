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
def post_vote_toggle(*, user: User, post_id: int) -> VoteResult:
    """Vote for a post, or take the vote back if there is one. Raises Post.DoesNotExist."""
    # Locking the post serialises votes on it, so the toggle decision and the count never race.
    post = Post.objects.select_for_update().only("id", "author_id").get(pk=post_id)
    delta = _toggle(PostVote, user=user, post=post)
    Post.objects.filter(pk=post.pk).update(score=F("score") + delta, hot=HotRank(F("score") + delta, F("created")))
    User.objects.filter(pk=post.author_id).update(karma=F("karma") + delta)
    score = Post.objects.values_list("score", flat=True).get(pk=post.pk)
    return VoteResult(voted=delta > 0, score=score)


@transaction.atomic
def comment_vote_toggle(*, user: User, comment_id: int) -> VoteResult:
    """Vote for a comment, or take the vote back. Raises Comment.DoesNotExist."""
    comment = Comment.objects.select_for_update().only("id", "author_id").get(pk=comment_id)
    delta = _toggle(CommentVote, user=user, comment=comment)
    Comment.objects.filter(pk=comment.pk).update(score=F("score") + delta)
    User.objects.filter(pk=comment.author_id).update(karma=F("karma") + delta)
    score = Comment.objects.values_list("score", flat=True).get(pk=comment.pk)
    return VoteResult(voted=delta > 0, score=score)


def _toggle(vote_model: type[PostVote] | type[CommentVote], *, user: User, **target: Post | Comment) -> int:
    """Remove the user's vote if there is one, else add it; +1 or -1 for the counters.

    Callers hold a lock on the target row, so the check and the write cannot race."""
    removed, _ = vote_model.objects.filter(user=user, **target).delete()
    if not removed:
        vote_model.objects.create(user=user, **target)
    return -1 if removed else 1
