from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class PostLinks:
    """Paths and the domain of a post, for the model and for the read-only rows list pages use.

    Paths are built directly: a list page needs about a hundred of them, and reverse() is slow by comparison.
    They are properties because templates read attributes faster than they call methods (Jinja2 routes
    every call through Context.call). tests/app/board/test_urls.py proves they equal what reverse() gives.
    """

    __slots__ = ()
    pk: int
    url: str

    @property
    def path(self) -> str:
        return f"/post/{self.pk}"

    def get_absolute_url(self) -> str:  # Django's name for it (the admin's "view on site")
        return self.path

    @property
    def vote_url(self) -> str:
        return f"/post/{self.pk}/vote"

    @property
    def domain(self) -> str:
        host = urlsplit(self.url).hostname or ""
        return host.removeprefix("www.")


class CommentLinks:
    """The comment's vote path (see PostLinks)."""

    __slots__ = ()
    pk: int

    @property
    def vote_url(self) -> str:
        return f"/comment/{self.pk}/vote"


class Post(PostLinks, models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=2000, blank=True)
    body = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    # Denormalised counters, changed only in the same transaction as the vote or comment behind them.
    score = models.IntegerField(default=0)
    comment_count = models.IntegerField(default=0)
    # Ranking key for the front page; see scaleboard.board.ranking.
    hot = models.FloatField(default=0.0)
    search = models.GeneratedField(
        expression=SearchVector("title", weight="A", config="english")
        + SearchVector("body", weight="B", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        indexes = [
            models.Index(models.F("hot").desc(), models.F("id").desc(), name="post_hot_idx"),
            models.Index(models.F("created").desc(), models.F("id").desc(), name="post_new_idx"),
            models.Index("author", models.F("created").desc(), name="post_author_created_idx"),
            GinIndex("search", name="post_search_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(url="") & ~Q(body="")) | (~Q(url="") & Q(body="")),
                name="post_has_url_xor_body",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Comment(CommentLinks, models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    body = models.TextField()
    created = models.DateTimeField(default=timezone.now)
    score = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index("post", "created", name="comment_post_created_idx"),
            models.Index("author", models.F("created").desc(), name="comment_author_created_idx"),
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on post {self.post_id}"


class PostVote(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="votes")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint("post", "user", name="one_vote_per_user_per_post")]

    def __str__(self) -> str:
        return f"vote by {self.user_id} on post {self.post_id}"


class CommentVote(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="votes")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint("comment", "user", name="one_vote_per_user_per_comment")]

    def __str__(self) -> str:
        return f"vote by {self.user_id} on comment {self.comment_id}"
