"""Reads for accounts: a user's profile page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from scaleboard.accounts.models import ApiToken, User
from scaleboard.board.models import Comment, Post

PROFILE_ITEMS = 30


@dataclass
class Profile:
    user: User
    posts: list[Post]
    comments: list[Comment]


def user_profile(*, username: str) -> Profile:
    user = get_object_or_404(User.objects.only("id", "username", "karma", "date_joined"), username=username)
    posts = list(
        Post.objects.filter(author=user)
        .only("id", "title", "url", "score", "comment_count", "created")
        .order_by("-created")[:PROFILE_ITEMS]
    )
    comments = list(
        Comment.objects.filter(author=user)
        .select_related("post")
        .only("id", "body", "score", "created", "post__id", "post__title")
        .order_by("-created")[:PROFILE_ITEMS]
    )
    return Profile(user=user, posts=posts, comments=comments)


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created")
