"""Rate limits: the counters, the client address behind proxies, and each limited action through Django."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import environ
import pytest
from config.env import Rate, value
from django.test import Client, RequestFactory, override_settings
from scaleboard.accounts.models import User
from scaleboard.accounts.services import api_token_create
from scaleboard.board.models import Post
from scaleboard.ops.models import RateCounter
from scaleboard.ops.rate_limits import client_address, hit

pytestmark = pytest.mark.django_db
THREE_A_MINUTE = Rate(3, 60)


@pytest.fixture
def low_limits() -> Iterator[None]:
    with override_settings(RATE_LIMITS=dict.fromkeys(("sign_in", "sign_up", "post", "comment", "vote", "token"),
                                                    THREE_A_MINUTE)):  # fmt: skip
        yield


@pytest.mark.parametrize(("text", "rate"), [("10/m", Rate(10, 60)), ("5/h", Rate(5, 3600)), (" 1/s ", Rate(1, 1))])
def test_rates_from_the_environment(monkeypatch: pytest.MonkeyPatch, text: str, rate: Rate) -> None:
    monkeypatch.setenv("RATE_LIMIT_VOTE", text)
    assert value("RATE_LIMIT_VOTE") == rate


@pytest.mark.parametrize("text", ["10", "0/m", "10/d", "ten/m", "\u0663/m", ""])
def test_a_bad_rate_fails_at_start(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("RATE_LIMIT_VOTE", text)
    with pytest.raises(environ.ImproperlyConfigured, match="RATE_LIMIT_VOTE"):
        value("RATE_LIMIT_VOTE")


def test_hits_over_the_limit_get_the_seconds_to_wait() -> None:
    assert [hit("t:a", THREE_A_MINUTE) for _ in range(3)] == [0, 0, 0]
    wait = hit("t:a", THREE_A_MINUTE)
    assert 1 <= wait <= 60
    assert hit("t:b", THREE_A_MINUTE) == 0  # another key, another count
    assert RateCounter.objects.get(key="t:a").hits == 4


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("203.0.113.5", "", "127.0.0.1", "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", "127.0.0.1", "203.0.113.5"),  # an untrusted peer cannot speak for others
        ("127.0.0.1", "198.51.100.1", "127.0.0.1", "198.51.100.1"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", "127.0.0.1", "198.51.100.1"),  # the client wrote 6.6.6.6
        ("127.0.0.1", "198.51.100.1, 10.0.0.9", "127.0.0.1,10.0.0.0/8", "198.51.100.1"),  # two proxies of ours
        ("", "198.51.100.1", "127.0.0.1", "198.51.100.1"),  # a unix socket: nginx on the same host
        ("10.1.2.3", "6.6.6.6, 198.51.100.1", "*", "198.51.100.1"),  # a PaaS router appends what it saw
        ("127.0.0.1", "", "127.0.0.1", "127.0.0.1"),
    ],
)
def test_client_address(rf: RequestFactory, peer: str, forwarded: str, trusted: str, client: str) -> None:
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(FORWARDED_ALLOW_IPS=trusted.split(",")):
        assert client_address(request) == client


@pytest.mark.usefixtures("low_limits")
@pytest.mark.parametrize("path", ["/login", "/admin/login/"])
def test_sign_in_is_limited_per_address_and_per_username(client: Client, path: str) -> None:
    def attempt(username: str, address: str) -> int:
        return client.post(path, {"username": username, "password": "wrong"}, REMOTE_ADDR=address).status_code

    assert [attempt(f"u{i}", "203.0.113.1") for i in range(4)] == [200, 200, 200, 429]
    assert attempt("u9", "203.0.113.2") == 200  # another address
    assert [attempt("alice", f"198.51.100.{i}") for i in range(4)] == [200, 200, 200, 429]  # one account
    response = client.post(path, {"username": "x", "password": "y"}, REMOTE_ADDR="203.0.113.1")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert b"Too many requests" in response.content


@pytest.mark.usefixtures("low_limits")
def test_sign_up_is_limited_per_address(client: Client) -> None:
    statuses = [
        # checkov:skip=CKV_SECRET_6: test sign-ups in a throwaway database
        client.post("/signup", {"username": f"new{i}", "password1": "a-long-pass-123", "password2": "a-long-pass-123"},
                    REMOTE_ADDR="203.0.113.7").status_code
        for i in range(4)
    ]  # fmt: skip
    assert statuses == [302, 302, 302, 429]
    assert User.objects.filter(username__startswith="new").count() == 3


@pytest.mark.usefixtures("low_limits")
def test_writes_are_limited_per_user_in_pages_and_api(
    user_client: tuple[Client, User], make_user: Callable[..., User], make_post: Callable[..., Post]
) -> None:
    client, _ = user_client
    post = make_post()
    posts = [client.post("/submit", {"title": f"t{i}", "url": f"https://e.com/{i}"}).status_code for i in range(4)]
    assert posts == [302, 302, 302, 429]
    comments = [client.post(f"/post/{post.pk}", {"body": "hi"}).status_code for _ in range(4)]
    assert comments == [302, 302, 302, 429]
    assert client.get(f"/post/{post.pk}").status_code == 200  # reading is never limited
    votes = [client.post(f"/post/{post.pk}/vote", {"up": "1"}).status_code for _ in range(4)]
    assert votes == [302, 302, 302, 429]
    tokens = [client.post("/settings/tokens", {"name": "t"}).status_code for _ in range(4)]
    assert tokens == [200, 200, 200, 429]
    # The API counts the same actions for a token user, each user apart.
    auth = {"Authorization": f"Token {api_token_create(user=make_user(), name='api')[1]}"}
    answers = [client.put(f"/api/posts/{post.pk}/vote", headers=auth) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert "Too many requests" in answers[-1].json()["error"]
    assert answers[-1]["Retry-After"]


def test_limits_off_for_load_tests(user_client: tuple[Client, User], make_post: Callable[..., Post]) -> None:
    client, _ = user_client
    post = make_post()
    with override_settings(RATE_LIMITS_ENABLED=False, RATE_LIMITS={"vote": Rate(1, 60)}):
        assert {client.post(f"/post/{post.pk}/vote", {"up": "1"}).status_code for _ in range(5)} == {302}
    assert RateCounter.objects.count() == 0
