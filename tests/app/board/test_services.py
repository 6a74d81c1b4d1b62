from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections
from scaleboard.accounts.models import User
from scaleboard.board import services
from scaleboard.board.models import Comment, Post, PostVote


@pytest.mark.django_db
class TestPostCreate:
    def test_url_post_gets_a_hot_rank_and_domain(self, make_user: Callable[..., User]) -> None:
        post = services.post_create(author=make_user(), title="  Hello  ", url="https://www.example.com/x")
        assert post.title == "Hello"
        assert post.domain == "example.com"
        assert post.hot > 0
        assert Post.objects.get(pk=post.pk).hot == post.hot

    def test_text_post(self, make_user: Callable[..., User]) -> None:
        post = services.post_create(author=make_user(), title="Ask", body="What now?")
        assert post.url == ""
        assert post.body == "What now?"

    @pytest.mark.parametrize(("url", "body"), [("", ""), ("https://e.com", "text")])
    def test_needs_exactly_one_of_url_and_body(self, make_user: Callable[..., User], url: str, body: str) -> None:
        with pytest.raises(ValidationError):
            services.post_create(author=make_user(), title="t", url=url, body=body)
        assert Post.objects.count() == 0

    def test_needs_a_title(self, make_user: Callable[..., User]) -> None:
        with pytest.raises(ValidationError):
            services.post_create(author=make_user(), title="   ", url="https://e.com")


@pytest.mark.django_db
class TestComments:
    def test_comment_counts_on_its_post(self, make_post: Callable[..., Post], make_user: Callable[..., User]) -> None:
        post = make_post()
        first = services.comment_create(author=make_user(), post_id=post.pk, body="first")
        services.comment_create(author=make_user(), post_id=post.pk, body="reply", parent_id=first.pk)
        post.refresh_from_db()
        assert post.comment_count == 2

    def test_parent_must_be_on_the_same_post(
        self, make_post: Callable[..., Post], make_user: Callable[..., User]
    ) -> None:
        other = services.comment_create(author=make_user(), post_id=make_post().pk, body="elsewhere")
        post = make_post()
        with pytest.raises(ValidationError):
            services.comment_create(author=make_user(), post_id=post.pk, body="x", parent_id=other.pk)
        post.refresh_from_db()
        assert post.comment_count == 0

    def test_unknown_post(self, make_user: Callable[..., User]) -> None:
        with pytest.raises(Post.DoesNotExist):
            services.comment_create(author=make_user(), post_id=999999, body="x")
        assert Comment.objects.count() == 0

    def test_empty_body_is_refused(self, make_post: Callable[..., Post], make_user: Callable[..., User]) -> None:
        with pytest.raises(ValidationError):
            services.comment_create(author=make_user(), post_id=make_post().pk, body="  ")


@pytest.mark.django_db
class TestVotes:
    def test_vote_then_unvote_moves_score_karma_and_rank(
        self, make_post: Callable[..., Post], make_user: Callable[..., User]
    ) -> None:
        post = make_post()
        voter = make_user()
        hot_before = post.hot
        assert services.post_vote_set(user=voter, post_id=post.pk, up=True) == services.VoteResult(voted=True, score=1)
        post.refresh_from_db()
        post.author.refresh_from_db()
        assert (post.score, post.author.karma) == (1, 1)
        assert post.hot > hot_before
        assert services.post_vote_set(user=voter, post_id=post.pk, up=False) == services.VoteResult(
            voted=False, score=0
        )
        post.refresh_from_db()
        assert post.hot == pytest.approx(hot_before)
        assert PostVote.objects.count() == 0

    @pytest.mark.parametrize("up", [True, False])
    def test_repeating_a_vote_changes_nothing(
        self, make_post: Callable[..., Post], make_user: Callable[..., User], up: bool
    ) -> None:
        post = make_post()
        voter = make_user()
        services.post_vote_set(user=voter, post_id=post.pk, up=True)
        results = {services.post_vote_set(user=voter, post_id=post.pk, up=up) for _ in range(3)}
        assert results == {services.VoteResult(voted=up, score=int(up))}
        assert PostVote.objects.count() == int(up)
        post.author.refresh_from_db()
        assert post.author.karma == int(up)

    def test_comment_votes(self, make_post: Callable[..., Post], make_user: Callable[..., User]) -> None:
        comment = services.comment_create(author=make_user(), post_id=make_post().pk, body="c")
        voter = make_user()
        for _ in range(2):
            assert services.comment_vote_set(user=voter, comment_id=comment.pk, up=True).score == 1
        comment.author.refresh_from_db()
        assert comment.author.karma == 1
        for _ in range(2):
            assert services.comment_vote_set(user=voter, comment_id=comment.pk, up=False) == services.VoteResult(
                voted=False, score=0
            )
        comment.author.refresh_from_db()
        assert comment.author.karma == 0

    def test_unknown_targets(self, make_user: Callable[..., User]) -> None:
        with pytest.raises(Post.DoesNotExist):
            services.post_vote_set(user=make_user(), post_id=424242, up=True)
        with pytest.raises(Comment.DoesNotExist):
            services.comment_vote_set(user=make_user(), comment_id=424242, up=True)


@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_never_lose_a_count(make_post: Callable[..., Post], make_user: Callable[..., User]) -> None:
    """Many users vote on one post at the same moment, each from its own connection."""
    post = make_post()
    voters = [make_user() for _ in range(12)]
    start = threading.Barrier(len(voters))
    errors: list[BaseException] = []

    def vote(user: User) -> None:
        try:
            start.wait()
            services.post_vote_set(user=user, post_id=post.pk, up=True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=vote, args=(user,)) for user in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    post.refresh_from_db()
    post.author.refresh_from_db()
    assert post.score == len(voters) == PostVote.objects.filter(post=post).count()
    assert post.author.karma == len(voters)
