from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum
from django.test import Client
from scaleboard.accounts.models import User
from scaleboard.board.models import Comment, CommentVote, Post, PostVote
from scaleboard.board.seeding import seed_demo

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    posts = sorted(Post.objects.values_list("title", "author__username", "url", "body", "score", "comment_count"))
    comments = sorted(Comment.objects.values_list("post__title", "author__username", "body", "parent__body", "score"))
    return posts, comments


def _wipe() -> None:
    Post.objects.all().delete()
    User.objects.all().delete()


def test_same_arguments_give_the_same_data() -> None:
    seed_demo(users=6, posts=30, comments=90, seed=3)
    first = _snapshot()
    _wipe()
    seed_demo(users=6, posts=30, comments=90, seed=3)
    assert _snapshot() == first
    _wipe()
    seed_demo(users=6, posts=30, comments=90, seed=4)
    assert _snapshot() != first


def test_rerun_tops_up_to_the_same_set_and_never_deletes() -> None:
    seed_demo(users=6, posts=30, comments=0, seed=3)
    again = seed_demo(users=6, posts=30, comments=0, seed=3)
    assert (again.users_added, again.posts_added, again.comments_added) == (0, 0, 0)
    seed_demo(users=6, posts=30, comments=90, seed=3)
    topped_up = _snapshot()
    _wipe()
    seed_demo(users=6, posts=30, comments=90, seed=3)
    assert _snapshot() == topped_up
    smaller = seed_demo(users=2, posts=5, comments=5, seed=3)
    assert smaller.posts_added == 0
    assert Post.objects.count() == 30


def test_counters_match_the_rows_behind_them() -> None:
    report = seed_demo(users=8, posts=40, comments=150, seed=9)
    assert (report.users_total, report.posts_total, report.comments_total) == (8, 40, 150)
    posts = Post.objects.annotate(n_votes=Count("votes", distinct=True), n_comments=Count("comments", distinct=True))
    for post in posts:
        assert post.score == post.n_votes
        assert post.comment_count == post.n_comments
        assert post.hot != 0.0 or post.score == 0
    for comment in Comment.objects.annotate(n_votes=Count("votes")):
        assert comment.score == comment.n_votes
        if comment.parent_id:
            assert comment.parent.post_id == comment.post_id
    for user in User.objects.all():
        posts = Post.objects.filter(author=user).aggregate(s=Sum("score"))["s"] or 0
        comments = Comment.objects.filter(author=user).aggregate(s=Sum("score"))["s"] or 0
        assert user.karma == posts + comments
    assert report.votes_added == PostVote.objects.count() + CommentVote.objects.count()


def test_seeded_users_can_log_in(client: Client) -> None:
    seed_demo(users=2, posts=1, comments=1, seed=1)
    assert client.login(username="demo1", password="demo-password")


def test_command_reports_what_it_did(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("seed_demo", "--users", "3", "--posts", "4", "--comments", "5", "--seed", "2")
    out = capsys.readouterr().out
    assert "3 users (+3), 4 posts (+4), 5 comments (+5)" in out
    assert "demo1 / demo-password" in out
    with pytest.raises(CommandError, match="at least one demo user"):
        call_command("seed_demo", "--users", "0", "--posts", "4")
    with pytest.raises(CommandError):
        call_command("seed_demo", "--posts", "-1")


def test_a_large_seed_is_not_cancelled_by_the_statement_timeout() -> None:
    # The app's DB_STATEMENT_TIMEOUT_MS guards requests; a bulk load of a big demo set runs longer by design.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '1ms'")  # for the rest of this test's transaction
    report = seed_demo(users=20, posts=1000, comments=3000, seed=5)
    assert report.comments_total == 3000


def test_a_seed_leaves_planner_statistics_of_what_it_wrote() -> None:
    seed_demo(users=8, posts=40, comments=150, seed=9)
    top_level = Comment.objects.filter(parent=None).count() / Comment.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT null_frac FROM pg_stats WHERE tablename = 'board_comment' AND attname = 'parent_id'")
        rows = cursor.fetchall()
    assert rows, "no statistics for board_comment: the seed did not ANALYZE what it wrote"
    assert rows[0][0] == pytest.approx(top_level, abs=1e-6)
