from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from scaleboard.accounts.models import ApiToken, User
from scaleboard.accounts.services import api_token_authenticate, api_token_create
from scaleboard.board import services
from scaleboard.board.models import Post

pytestmark = pytest.mark.django_db


def test_signup_logs_in(client: Client) -> None:
    response = client.post(
        "/signup",
        {"username": "newbie", "password1": "correct horse battery", "password2": "correct horse battery"},
    )
    assert response.status_code == 302
    assert 'href="/user/newbie">newbie</a>' in client.get("/").content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"username": "x", "password1": "short", "password2": "short"},
        {"username": "y", "password1": "correct horse battery", "password2": "different horse battery"},
        {"username": "", "password1": "correct horse battery", "password2": "correct horse battery"},
    ],
)
def test_bad_signups_rerender(client: Client, data: dict[str, str]) -> None:
    response = client.post("/signup", data)
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert User.objects.count() == 0


def test_login_and_logout(client: Client, make_user: Callable[..., User]) -> None:
    # checkov:skip=CKV_SECRET_6: a test user's password in a throwaway database
    make_user("alice", password="alice-password-123")
    assert client.post("/login", {"username": "alice", "password": "wrong"}).status_code == 200
    response = client.post("/login", {"username": "alice", "password": "alice-password-123"})
    assert response.status_code == 302
    assert b"log out</button>" in client.get("/").content
    client.post("/logout")
    assert b"log out</button>" not in client.get("/").content


def test_profile_shows_karma_posts_and_comments(client: Client, make_user: Callable[..., User]) -> None:
    author = make_user("writer")
    post = services.post_create(author=author, title="Writer's post", url="https://e.com")
    services.comment_create(author=author, post_id=post.pk, body="Writer's comment")
    services.post_vote_set(user=make_user(), post_id=post.pk, up=True)
    page = client.get("/user/writer").content.decode()
    assert "Writer&#39;s post" in page
    assert "Writer&#39;s comment" in page
    assert "karma <strong>1</strong>" in page


def test_tokens_page_creates_a_token_shown_once(user_client: tuple[Client, User]) -> None:
    client, user = user_client
    response = client.post("/settings/tokens", {"name": "laptop"})
    token = ApiToken.objects.get(user=user)
    plain = re.search(r'<code id="new-token">([^<]+)</code>', response.content.decode()).group(1)  # type: ignore[union-attr]
    assert plain.startswith("sb_")
    assert plain not in token.key_hash
    assert plain.encode() in response.content
    assert plain.encode() not in client.get("/settings/tokens").content
    assert api_token_authenticate(plain=plain) == user


def test_tokens_page_is_never_cached(user_client: tuple[Client, User]) -> None:
    client, _ = user_client
    response = client.post("/settings/tokens", {"name": "laptop"})
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in client.get("/settings/tokens")["Cache-Control"]


def test_tokens_page_lists_expires_and_revokes(
    user_client: tuple[Client, User], make_user: Callable[..., User]
) -> None:
    client, user = user_client
    client.post("/settings/tokens", {"name": "ci", "expires_in_days": "30"})
    token = ApiToken.objects.get(user=user)
    assert token.expires is not None
    assert timedelta(days=29) < token.expires - timezone.now() <= timedelta(days=30)
    page = client.get("/settings/tokens").content.decode()
    assert token.prefix in page
    assert "expires " in page
    assert "never used" in page
    someone_else, _ = api_token_create(user=make_user(), name="theirs")
    assert client.post(f"/settings/tokens/{someone_else.pk}/revoke").status_code == 404
    assert client.post(f"/settings/tokens/{token.pk}/revoke").status_code == 302
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["theirs"]
    assert client.post("/settings/tokens", {"name": "x", "expires_in_days": "-1"}).status_code == 200
    assert ApiToken.objects.filter(name="x").count() == 0


def test_tokens_page_needs_login(client: Client) -> None:
    assert client.get("/settings/tokens").status_code == 302


def test_tokens_of_inactive_users_do_not_work(make_user: Callable[..., User]) -> None:
    user = make_user()
    _, plain = api_token_create(user=user, name="t")
    user.is_active = False
    user.save()
    assert api_token_authenticate(plain=plain) is None
    assert api_token_authenticate(plain="sb_not-a-token") is None


def test_create_api_token_command(make_user: Callable[..., User], capsys: pytest.CaptureFixture[str]) -> None:
    user = make_user("bot")
    call_command("create_api_token", "bot", "--name", "load test")
    plain = capsys.readouterr().out.strip()
    assert api_token_authenticate(plain=plain) == user
    with pytest.raises(CommandError, match="no user named"):
        call_command("create_api_token", "ghost")


def test_admin_lists_users_and_posts(admin_client: Client, make_post: Callable[..., Post]) -> None:
    make_post(title="Admin sees this")
    assert b"Admin sees this" in admin_client.get("/admin/board/post/").content
    assert admin_client.get("/admin/accounts/user/").status_code == 200
    assert admin_client.get("/admin/accounts/apitoken/").status_code == 200
    assert admin_client.get("/admin/board/comment/").status_code == 200
