"""The JSON API, every response checked against the OpenAPI document the app serves."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from scaleboard.accounts.models import User
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
        if method == "post":
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


@pytest.mark.parametrize("query", ["sort=top", "limit=0", "limit=101", "limit=ten", "cursor=%%%"])
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
    assert api("post", "/api/posts/999999/vote", **auth).status_code == 404
    assert api("post", "/api/comments/999999/vote", **auth).status_code == 404
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
    assert api("post", f"/api/posts/{post_id}/vote", **auth).json() == {"voted": True, "score": 1}
    assert api("post", f"/api/posts/{post_id}/vote", **auth).json() == {"voted": False, "score": 0}
    assert api("post", f"/api/comments/{comment.json()['id']}/vote", **auth).json() == {
        "voted": True,
        "score": 1,
    }


def test_writes_need_authentication(api: Callable[..., HttpResponse], make_post: Callable[..., Post]) -> None:
    post = make_post()
    assert api("post", "/api/posts", {"title": "x", "url": "https://e.com"}).status_code == 401
    assert api("post", f"/api/posts/{post.pk}/vote").status_code == 401
    assert api("post", f"/api/posts/{post.pk}/vote", Authorization="Token sb_wrong").status_code == 401
    assert api("post", f"/api/posts/{post.pk}/vote", Authorization="Bearer abc").status_code == 401
    assert PostVote.objects.count() == 0


def test_session_writes_need_csrf(
    api: Callable[..., HttpResponse], make_user: Callable[..., User], make_post: Callable[..., Post]
) -> None:
    post = make_post()
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    assert api("post", f"/api/posts/{post.pk}/vote", client=client).status_code == 403
    client.get("/")  # sets the csrftoken cookie, as a browser page load does
    csrf = client.cookies["csrftoken"].value
    response = api("post", f"/api/posts/{post.pk}/vote", client=client, **{"X-CSRFToken": csrf})
    assert response.json() == {"voted": True, "score": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "url": "https://e.com"}, "title"),
        ({"title": "x", "url": "nope"}, "url"),
        ({"title": "both", "url": "https://e.com", "body": "b"}, "__all__"),
    ],
)
def test_invalid_posts_are_400_with_field_errors(
    api: Callable[..., HttpResponse], token: tuple[User, str], body: dict[str, str], field: str
) -> None:
    response = api("post", "/api/posts", body, Authorization=f"Token {token[1]}")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert Post.objects.count() == 0


def test_malformed_requests(client: Client, token: tuple[User, str], make_post: Callable[..., Post]) -> None:
    auth = {"Authorization": f"Token {token[1]}"}
    post = make_post()
    cases = [
        ("/api/posts", "{not json", "application/json", 400),
        ("/api/posts", "[1, 2]", "application/json", 400),
        ("/api/posts", "title=x", "application/x-www-form-urlencoded", 415),
        (f"/api/posts/{post.pk}/comments", '{"body": "x", "parent_id": 999999}', "application/json", 400),
        (f"/api/posts/{post.pk}/comments", '{"body": ""}', "application/json", 400),
        ("/api/posts", json.dumps({"title": "big", "body": "x" * 1_100_000}), "application/json", 413),
    ]
    for path, body, content_type, status in cases:
        response = client.post(path, body, content_type=content_type, headers=auth)
        assert response.status_code == status, (path, body[:30])
        assert "error" in response.json()
    assert Comment.objects.count() == 0
    assert Post.objects.count() == 1
