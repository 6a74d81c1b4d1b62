"""The JSON API, every response checked against the OpenAPI document the app serves."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from scaleboard.accounts.models import ApiToken, User
from scaleboard.accounts.services import api_token_create
from scaleboard.board import services
from scaleboard.board.models import Comment, Post, PostVote

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    client = Client()
    return OpenAPI.from_dict(client.get("/api/openapi.json").json())


@pytest.fixture
def api(openapi: OpenAPI) -> Callable[..., HttpResponse]:
    """A client call whose request and response must both match the OpenAPI document."""

    def call(method: str, path: str, body: Any = None, client: Client | None = None, **headers: str) -> HttpResponse:
        client = client or Client()
        kwargs: dict[str, Any] = {"headers": headers}
        if method in ("post", "put", "delete"):
            kwargs.update(data="" if body is None else json.dumps(body), content_type="application/json")
        response = getattr(client, method)(path, **kwargs)
        openapi.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))
        return response

    return call


@pytest.fixture
def token(make_user: Callable[..., User]) -> tuple[User, str]:
    user = make_user()
    return user, api_token_create(user=user, name="test")[1]


def test_openapi_document_is_valid(openapi: OpenAPI) -> None:
    openapi.check_spec()  # raises on an invalid document


def test_list_and_paginate_posts(api: Callable[..., HttpResponse], make_post: Callable[..., Post]) -> None:
    for i in range(5):
        make_post(title=f"p{i}")
    first = api("get", "/api/posts?sort=new&limit=3").json()
    assert [p["title"] for p in first["items"]] == ["p4", "p3", "p2"]
    second = api("get", f"/api/posts?sort=new&limit=3&cursor={first['next_cursor']}").json()
    assert [p["title"] for p in second["items"]] == ["p1", "p0"]
    assert second["next_cursor"] is None
    assert len(api("get", "/api/posts").json()["items"]) == 5


def _cursor(value: object) -> str:
    return "cursor=" + base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "sort=top",
        "limit=0",
        "limit=101",
        "limit=ten",
        "limit=%D9%A3",  # ARABIC-INDIC DIGIT THREE: str.isdigit() says yes, int() would say yes too
        "limit=+5",
        "cursor=%%%",
        _cursor(["hot", 1.5, True]),  # a boolean where the id belongs
        _cursor(["hot", 10**400, 1]),  # an integer too large for a float
        _cursor(["hot", 1.5, 2**63]),  # an id beyond bigint
        _cursor(["new", "2026-01-01T00:00:00", 1]),  # a naive time
        _cursor(["new", 5, 1]),
        _cursor(["hot", 1.5]),
        _cursor({"sort": "hot"}),
        "cursor=" + base64.urlsafe_b64encode(b"[" * 60 + b"1" + b"]" * 60).decode(),  # nested, within the length
        "cursor=" + base64.urlsafe_b64encode(b"[" * 5000).decode(),  # nested past the recursion limit
        "sort=new&" + _cursor(["hot", 1.5, 1]),
    ],
)
def test_bad_list_parameters_are_400(client: Client, query: str) -> None:
    # Sent with the plain client: these requests break the document's rules on purpose.
    response = client.get(f"/api/posts?{query}")
    assert response.status_code == 400
    assert "error" in response.json()


def test_post_detail_and_comments(api: Callable[..., HttpResponse], make_post: Callable[..., Post]) -> None:
    post = make_post(title="Ask", body="Question?")
    top = services.comment_create(author=post.author, post_id=post.pk, body="top")
    services.comment_create(author=post.author, post_id=post.pk, body="reply", parent_id=top.pk)
    detail = api("get", f"/api/posts/{post.pk}").json()
    assert detail["body"] == "Question?"
    assert detail["url"] is None
    items = api("get", f"/api/posts/{post.pk}/comments").json()["items"]
    assert [(c["body"], c["depth"], c["parent_id"]) for c in items] == [
        ("top", 0, None),
        ("reply", 1, top.pk),
    ]


def test_unknown_ids_are_404(api: Callable[..., HttpResponse], token: tuple[User, str]) -> None:
    auth = {"Authorization": f"Token {token[1]}"}
    assert api("get", "/api/posts/999999").status_code == 404
    assert api("get", "/api/posts/999999/comments").status_code == 404
    assert api("put", "/api/posts/999999/vote", **auth).status_code == 404
    assert api("delete", "/api/comments/999999/vote", **auth).status_code == 404
    assert api("delete", "/api/tokens/999999", **auth).status_code == 404
    assert api("post", "/api/posts/999999/comments", {"body": "x"}, **auth).status_code == 404


def test_create_post_comment_and_vote_with_a_token(api: Callable[..., HttpResponse], token: tuple[User, str]) -> None:
    user, plain = token
    auth = {"Authorization": f"Token {plain}"}
    created = api("post", "/api/posts", {"title": "Via API", "url": "https://example.com/api"}, **auth)
    assert created.status_code == 201
    post_id = created.json()["id"]
    assert Post.objects.get(pk=post_id).author == user
    comment = api("post", f"/api/posts/{post_id}/comments", {"body": "First!"}, **auth)
    assert comment.status_code == 201
    reply = api("post", f"/api/posts/{post_id}/comments", {"body": "Re", "parent_id": comment.json()["id"]}, **auth)
    assert reply.json()["parent_id"] == comment.json()["id"]
    for _ in range(2):  # a retried PUT or DELETE changes nothing
        assert api("put", f"/api/posts/{post_id}/vote", **auth).json() == {"voted": True, "score": 1}
    assert PostVote.objects.count() == 1
    for _ in range(2):
        assert api("delete", f"/api/posts/{post_id}/vote", **auth).json() == {"voted": False, "score": 0}
    assert PostVote.objects.count() == 0
    assert api("put", f"/api/comments/{comment.json()['id']}/vote", **auth).json() == {
        "voted": True,
        "score": 1,
    }


def test_writes_need_authentication(api: Callable[..., HttpResponse], make_post: Callable[..., Post]) -> None:
    post = make_post()
    assert api("post", "/api/posts", {"title": "x", "url": "https://e.com"}).status_code == 401
    assert api("put", f"/api/posts/{post.pk}/vote").status_code == 401
    assert api("put", f"/api/posts/{post.pk}/vote", Authorization="Token sb_wrong").status_code == 401
    assert api("put", f"/api/posts/{post.pk}/vote", Authorization="Bearer abc").status_code == 401
    assert api("get", "/api/tokens").status_code == 401
    assert PostVote.objects.count() == 0


def test_session_writes_need_csrf(
    api: Callable[..., HttpResponse], make_user: Callable[..., User], make_post: Callable[..., Post]
) -> None:
    post = make_post()
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    assert api("put", f"/api/posts/{post.pk}/vote", client=client).status_code == 403
    client.get("/")  # sets the csrftoken cookie, as a browser page load does
    csrf = client.cookies["csrftoken"].value
    response = api("put", f"/api/posts/{post.pk}/vote", client=client, **{"X-CSRFToken": csrf})
    assert response.json() == {"voted": True, "score": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "url": "https://e.com"}, "title"),
        ({"title": "   ", "url": "https://e.com"}, "title"),
        ({"title": 5, "url": "https://e.com"}, "title"),
        ({"title": "x", "url": "nope"}, "url"),
        ({"title": "x", "url": "http://[::1"}, "url"),
        ({"title": "x", "body": ""}, "body"),
        ({"title": "x", "body": "\ud800"}, "body"),
        ({"title": "both", "url": "https://e.com", "body": "b"}, "__all__"),
        ({"title": "neither"}, "__all__"),
        ({"title": "typo", "text": "b"}, "__all__"),
        ({"url": "https://e.com"}, "title"),
    ],
)
def test_invalid_posts_are_400_with_field_errors(
    api: Callable[..., HttpResponse], token: tuple[User, str], body: dict[str, object], field: str
) -> None:
    response = api("post", "/api/posts", body, Authorization=f"Token {token[1]}")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert Post.objects.count() == 0


def test_unknown_fields_are_named(client: Client, token: tuple[User, str]) -> None:
    body = json.dumps({"title": "typo", "text": "b", "tags": []})
    response = client.post("/api/posts", body, content_type="application/json", headers=_auth(token))
    assert "unknown field(s): tags, text" in response.json()["fields"]["__all__"][0]
    assert "give exactly one of: url, body" in response.json()["fields"]["__all__"][1]


def _auth(token: tuple[User, str]) -> dict[str, str]:
    return {"Authorization": f"Token {token[1]}"}


def test_every_answer_under_api_is_json(client: Client) -> None:
    for path in (
        "/api/nope",
        "/api/posts/",
        "/api/posts/0",
        "/api/posts/abc/comments",
        "/api/posts/9223372036854775808",
    ):
        response = client.get(path)
        assert (response.status_code, response["Content-Type"]) == (404, "application/json"), path
        assert "no such API path" in response.json()["error"]
    for method, path, allow in [
        ("put", "/api/posts", "GET, HEAD, POST"),
        ("delete", "/api/posts/1", "GET, HEAD"),
        ("post", "/api/posts/1/vote", "DELETE, PUT"),
        ("get", "/api/tokens/1", "DELETE"),
    ]:
        response = getattr(client, method)(path)
        assert (response.status_code, response["Allow"]) == (405, allow), path
        assert "not allowed" in response.json()["error"]


def test_tokens_listed_and_revoked(api: Callable[..., HttpResponse], token: tuple[User, str]) -> None:
    _user, _plain = token
    auth = _auth(token)
    created = api("post", "/api/tokens", {"name": "ci", "expires_in_days": 7}, **auth)
    assert created.status_code == 201
    new = created.json()
    assert new["token"].startswith(new["prefix"])
    assert new["expires"] is not None
    listed = api("get", "/api/tokens", **auth).json()["items"]
    assert {item["name"] for item in listed} == {"test", "ci"}
    assert all("token" not in item for item in listed)
    assert listed[-1]["last_used"] is not None  # the token used for these calls
    assert api("delete", f"/api/tokens/{new['id']}", **auth).status_code == 204
    assert api("get", "/api/tokens", Authorization=f"Token {new['token']}").status_code == 401


def test_expired_tokens_get_401(api: Callable[..., HttpResponse], make_user: Callable[..., User]) -> None:
    token, plain = api_token_create(user=make_user(), name="old", expires_in_days=1)
    auth = {"Authorization": f"Token {plain}"}
    assert api("get", "/api/tokens", **auth).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    response = api("get", "/api/tokens", **auth)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]


def test_malformed_requests(client: Client, token: tuple[User, str], make_post: Callable[..., Post]) -> None:
    auth = {"Authorization": f"Token {token[1]}"}
    post = make_post()
    cases = [
        ("/api/posts", "{not json", "application/json", 400),
        ("/api/posts", "[1, 2]", "application/json", 400),
        ("/api/posts", "title=x", "application/x-www-form-urlencoded", 415),
        (f"/api/posts/{post.pk}/comments", '{"body": "x", "parent_id": 999999}', "application/json", 409),
        (f"/api/posts/{post.pk}/comments", '{"body": ""}', "application/json", 400),
        (f"/api/posts/{post.pk}/comments", '{"body": "x", "parent_id": true}', "application/json", 400),
        (f"/api/posts/{post.pk}/comments", '{"body": "x", "parent_id": 1e400}', "application/json", 400),
        ("/api/posts", '{"title": NaN, "body": "x"}', "application/json", 400),
        ("/api/posts", "[" * 100_000 + "]" * 100_000, "application/json", 400),
        ("/api/posts", b"\xff\xfe{}", "application/json", 400),
        ("/api/posts", json.dumps({"title": "big", "body": "x" * 1_100_000}), "application/json", 413),
    ]
    for path, body, content_type, status in cases:
        response = client.post(path, body, content_type=content_type, headers=auth)
        assert response.status_code == status, (path, body[:30])
        assert "error" in response.json()
    assert Comment.objects.count() == 0
    assert Post.objects.count() == 1
