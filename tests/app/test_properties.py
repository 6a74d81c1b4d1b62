"""Property-based tests: any value of any parameter or body field gets an answer below 500, the API answers
with its JSON error shape, and a refused request writes nothing.

Hypothesis draws the values (JSON of any shape, any text, any bytes); the fixed cases that once were 500s
live beside the features they test (tests/app/api/test_api.py, tests/app/test_bad_input.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlsplit

import pytest
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scaleboard.accounts.models import ApiToken, User
from scaleboard.accounts.services import api_token_create
from scaleboard.board.models import Comment, CommentVote, Post, PostVote

pytestmark = pytest.mark.django_db

# One database transaction per test (pytest-django), shared by every example: counts are compared per example.
EXAMPLES = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
WRITTEN: tuple[type[Model], ...] = (Post, Comment, PostVote, CommentVote, ApiToken)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# Bodies near the real shape, so the validators past the first "is it an object" check are reached too.
FIELD_NAMES = ["title", "url", "body", "parent_id", "name", "expires_in_days", "text"]
near_bodies = st.dictionaries(
    st.sampled_from(FIELD_NAMES),
    json_values | st.sampled_from(["https://example.com/a", "x", " ", "\x00", 1, 2**63, -1, True, None]),
    max_size=5,
)
any_text = st.text() | st.binary().map(lambda raw: raw.decode("utf-8", "surrogateescape"))


def _query(raw: str) -> str:
    # Lone surrogates stand for bytes that are not UTF-8: send those bytes, percent-encoded.
    return quote_from_bytes(raw.encode("utf-8", "surrogateescape"), safe="")


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# Decodes to the cursor's own shape, [sort, key, id], with any JSON as key and id.
cursor_shaped = st.tuples(st.sampled_from(["hot", "new"]), json_values, json_values).map(list).map(_cursor)


def _counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in WRITTEN)


@pytest.fixture
def token(make_user: Callable[..., User]) -> dict[str, str]:
    return {"Authorization": f"Token {api_token_create(user=make_user(), name='fuzz')[1]}"}


def check_answer(response: HttpResponse, before: tuple[int, ...]) -> None:
    """Below 500, the JSON error shape under /api/, and no row written when the request was refused."""
    assert response.status_code < 500, response.content[:300]
    if response.wsgi_request.path.startswith("/api/") and response.status_code >= 400:
        assert response["Content-Type"] == "application/json", response.wsgi_request.path
        if response.wsgi_request.method != "HEAD":
            assert isinstance(response.json()["error"], str)
    if response.status_code >= 400:
        assert _counts() == before, response.content[:300]


@EXAMPLES
@given(
    sort=st.none() | st.sampled_from(["hot", "new"]) | any_text,
    limit=st.none() | st.integers().map(str) | any_text,
    cursor=st.none() | any_text | json_values.map(_cursor) | cursor_shaped,
)
def test_post_list_parameters(
    client: Client, make_post: Callable[..., Post], sort: str | None, limit: str | None, cursor: str | None
) -> None:
    if not Post.objects.exists():
        make_post()
    given_ = {"sort": sort, "limit": limit, "cursor": cursor}
    query = "&".join(f"{name}={_query(value)}" for name, value in given_.items() if value is not None)
    response = client.get(f"/api/posts?{query}")
    assert response.status_code in (200, 400), response.content[:300]
    assert response["Content-Type"] == "application/json"
    if response.status_code == 400:
        assert isinstance(response.json()["error"], str)


@EXAMPLES
@given(
    body=json_values | near_bodies, where=st.sampled_from(["/api/posts", "/api/posts/{post}/comments", "/api/tokens"])
)
def test_api_write_bodies(
    client: Client,
    make_post: Callable[..., Post],
    token: dict[str, str],
    body: Any,
    where: str,
) -> None:
    post = Post.objects.first() or make_post()
    before = _counts()
    path = where.format(post=post.pk)
    response = client.post(path, json.dumps(body), content_type="application/json", headers=token)
    check_answer(response, before)


@EXAMPLES
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(["application/json", "text/plain", "", "a/b; x"]))
def test_api_raw_bodies(client: Client, token: dict[str, str], raw: bytes, content_type: str) -> None:
    before = _counts()
    response = client.post("/api/posts", raw, content_type=content_type, headers=token)
    check_answer(response, before)


@EXAMPLES
@given(
    method=st.sampled_from(["get", "post", "put", "patch", "delete", "head", "options"]),
    segment=any_text,
    what=st.sampled_from(
        [
            "/api/posts/{}",
            "/api/posts/{}/comments",
            "/api/posts/{}/vote",
            "/api/tokens/{}",
            "/api/{}",
            "/post/{}",
            "/post/{}/vote",
            "/comment/{}/vote",
            "/user/{}",
        ]
    ),
)
def test_any_path_and_method(
    user_client: tuple[Client, User],
    token: dict[str, str],
    method: str,
    segment: str,
    what: str,
) -> None:
    client, _ = user_client
    before = _counts()
    path = what.format(_query(segment) or "x")
    response = getattr(client, method)(path, headers=token if path.startswith("/api/") else {})
    check_answer(response, before)


@EXAMPLES
@given(
    page=st.none() | any_text,
    query=st.none() | any_text,
    listing=st.sampled_from(["/", "/new", "/search"]),
)
def test_page_parameters(client: Client, page: str | None, query: str | None, listing: str) -> None:
    given_ = {"p": page, "q": query}
    params = "&".join(f"{name}={_query(value)}" for name, value in given_.items() if value is not None)
    response = client.get(f"{listing}?{params}")
    assert response.status_code == 200, response.content[:300]


@EXAMPLES
@given(form=st.dictionaries(st.sampled_from(["up", "next", "body", "parent", "title", "url"]), any_text, max_size=4),
       where=st.sampled_from(["/post/{post}/vote", "/post/{post}", "/submit", "/settings/tokens"]))  # fmt: skip
def test_form_posts(
    user_client: tuple[Client, User],
    make_post: Callable[..., Post],
    form: dict[str, str],
    where: str,
) -> None:
    client, _ = user_client
    post = Post.objects.first() or make_post()
    before = _counts()
    encoded = "&".join(f"{quote(name)}={_query(value)}" for name, value in form.items())
    response = client.post(
        where.format(post=post.pk), encoded, content_type="application/x-www-form-urlencoded",
        headers={"Accept": "application/json"},
    )  # fmt: skip
    check_answer(response, before)
    if response.status_code in (301, 302):
        assert urlsplit(response["Location"]).netloc in ("", "testserver"), response["Location"]
