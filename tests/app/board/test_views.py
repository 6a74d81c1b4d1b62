from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries
from scaleboard.accounts.models import User
from scaleboard.board import services
from scaleboard.board.models import Comment, Post, PostVote

pytestmark = pytest.mark.django_db


def _board(make_post: Callable[..., Post], make_user: Callable[..., User], posts: int) -> list[Post]:
    authors = [make_user() for _ in range(3)]
    return [make_post(author=authors[i % 3], title=f"Post number {i}") for i in range(posts)]


@pytest.mark.parametrize("path", ["/", "/new"])
def test_front_pages_list_posts_within_the_query_budget(
    client: Client,
    make_post: Callable[..., Post],
    make_user: Callable[..., User],
    django_assert_max_num_queries: Callable[[int], DjangoAssertNumQueries],
    path: str,
) -> None:
    _board(make_post, make_user, 35)
    with django_assert_max_num_queries(3):
        response = client.get(path)
    assert response.status_code == 200
    assert response.content.count(b'class="post"') == 30
    assert b"?p=2" in response.content


def test_signed_in_front_page_also_fits_the_budget(
    user_client: tuple[Client, User],
    make_post: Callable[..., Post],
    make_user: Callable[..., User],
    django_assert_max_num_queries: Callable[[int], DjangoAssertNumQueries],
) -> None:
    client, user = user_client
    posts = _board(make_post, make_user, 30)
    services.post_vote_set(user=user, post_id=posts[0].pk, up=True)
    with django_assert_max_num_queries(3):
        response = client.get("/")
    assert response.content.count(b'class="post"') == 30
    assert response.content.count(b'aria-pressed="true"') == 1


def test_post_page_with_200_comments_within_the_query_budget(
    user_client: tuple[Client, User],
    make_post: Callable[..., Post],
    make_user: Callable[..., User],
    django_assert_max_num_queries: Callable[[int], DjangoAssertNumQueries],
) -> None:
    client, _ = user_client
    post = make_post()
    authors = [make_user() for _ in range(5)]
    parents: list[int | None] = [None]
    for i in range(200):
        comment = services.comment_create(
            author=authors[i % 5], post_id=post.pk, body=f"comment {i}", parent_id=parents[i % len(parents)]
        )
        parents.append(comment.pk)
    with django_assert_max_num_queries(4):
        response = client.get(f"/post/{post.pk}")
    assert response.status_code == 200
    assert response.content.count(b'class="comment"') == 200


def test_pages_render(client: Client, make_post: Callable[..., Post]) -> None:
    post = make_post(title="Text post", body="Body text here")
    for path in (
        "/",
        "/new",
        f"/post/{post.pk}",
        "/search?q=text",
        "/search",
        f"/user/{post.author.username}",
    ):
        assert client.get(path).status_code == 200, path
    assert b"Body text here" in client.get(f"/post/{post.pk}").content


@pytest.mark.parametrize("path", ["/post/999999", "/user/nobody", "/nowhere"])
def test_unknown_things_are_404(client: Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_bad_page_numbers_fall_back_to_the_first_page(client: Client, make_post: Callable[..., Post]) -> None:
    make_post(title="Only post")
    for query in ("?p=abc", "?p=-3", "?p=99999999999999999999"):
        response = client.get("/" + query)
        assert response.status_code == 200
        assert b"Only post" in response.content


def test_submit_needs_login(client: Client) -> None:
    response = client.post("/submit", {"title": "x", "url": "https://e.com"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login")
    assert Post.objects.count() == 0


def test_submit_creates_a_post(user_client: tuple[Client, User]) -> None:
    client, user = user_client
    response = client.post("/submit", {"title": "My link", "url": "https://example.org/x"})
    post = Post.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/post/{post.pk}"
    assert post.author == user


@pytest.mark.parametrize(
    "data",
    [
        {"title": "", "url": "https://e.com"},
        {"title": "both", "url": "https://e.com", "body": "text"},
        {"title": "neither"},
        {"title": "bad url", "url": "not a url at all"},
        {"title": "x" * 201, "url": "https://e.com"},
    ],
)
def test_invalid_submissions_rerender_with_errors(user_client: tuple[Client, User], data: dict[str, str]) -> None:
    client, _ = user_client
    response = client.post("/submit", data)
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert Post.objects.count() == 0


def test_comment_and_reply_through_the_page(user_client: tuple[Client, User], make_post: Callable[..., Post]) -> None:
    client, _ = user_client
    post = make_post()
    response = client.post(f"/post/{post.pk}", {"body": "Top level"})
    top = Comment.objects.get()
    assert response["Location"] == f"/post/{post.pk}#c{top.pk}"
    client.post(f"/post/{post.pk}", {"body": "A reply", "parent": str(top.pk)})
    assert Comment.objects.get(body="A reply").parent == top
    post.refresh_from_db()
    assert post.comment_count == 2


def test_post_page_shows_each_comment_at_its_depth_with_what_its_viewer_may_do(
    user_client: tuple[Client, User], make_post: Callable[..., Post], make_user: Callable[..., User]
) -> None:
    client, viewer = user_client
    post = make_post()
    top = services.comment_create(author=make_user(), post_id=post.pk, body="Top level")
    reply = services.comment_create(author=make_user(), post_id=post.pk, body="A reply", parent_id=top.pk)
    services.comment_vote_set(user=viewer, comment_id=reply.pk, up=True)

    signed_in = client.get(f"/post/{post.pk}").content.decode()
    anonymous = Client().get(f"/post/{post.pk}").content.decode()
    for page in (signed_in, anonymous):
        assert f'id="c{top.pk}" style="--depth: 0"' in page
        assert f'id="c{reply.pk}" style="--depth: 1"' in page
        assert page.index(f'id="c{top.pk}"') < page.index(f'id="c{reply.pk}"')
        assert f'href="/user/{reply.author.username}"' in page
    # Signed in: a vote form per comment (the reply's says it is voted) and a reply form naming its parent.
    assert signed_in.count('class="reply"') == 2
    assert f'<input type="hidden" name="parent" value="{reply.pk}">' in signed_in
    assert signed_in.count('aria-pressed="true"') == 1
    assert f'action="/comment/{reply.pk}/vote"' in signed_in
    # Anonymous: links to log in instead of forms.
    assert 'class="reply"' not in anonymous
    assert "csrfmiddlewaretoken" not in anonymous
    assert anonymous.count('title="log in to vote"') == 3  # the post's arrow and both comments'


def test_bad_comments_rerender(user_client: tuple[Client, User], make_post: Callable[..., Post]) -> None:
    client, _ = user_client
    post = make_post()
    assert client.post(f"/post/{post.pk}", {"body": ""}).status_code == 400
    assert client.post(f"/post/{post.pk}", {"body": "x", "parent": "999999"}).status_code == 400
    assert client.post("/post/999999", {"body": "x"}).status_code == 404
    assert Comment.objects.count() == 0


def test_anonymous_comment_goes_to_login(client: Client, make_post: Callable[..., Post]) -> None:
    post = make_post()
    response = client.post(f"/post/{post.pk}", {"body": "hi"})
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_vote_without_javascript_redirects_back(
    user_client: tuple[Client, User], make_post: Callable[..., Post]
) -> None:
    client, _ = user_client
    post = make_post()
    response = client.post(f"/post/{post.pk}/vote", {"up": "1", "next": "/new"})
    assert response["Location"] == "/new"
    post.refresh_from_db()
    assert post.score == 1
    # An off-site "next" is ignored: no open redirect.
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = client.post(f"/post/{post.pk}/vote", {"up": "1", "next": elsewhere})
        assert response["Location"] == "/", elsewhere


def test_a_resent_vote_form_leaves_one_vote(user_client: tuple[Client, User], make_post: Callable[..., Post]) -> None:
    """A retry of a request whose answer was lost (a 502, a timeout) must not undo the vote."""
    client, _ = user_client
    post = make_post()
    headers = {"Accept": "application/json"}
    for _ in range(3):
        assert client.post(f"/post/{post.pk}/vote", {"up": "1"}, headers=headers).json() == {"voted": True, "score": 1}
    assert PostVote.objects.filter(post=post).count() == 1
    for _ in range(2):
        assert client.post(f"/post/{post.pk}/vote", {"up": "0"}, headers=headers).json() == {"voted": False, "score": 0}
    assert PostVote.objects.count() == 0
    for bad in ({}, {"up": "toggle"}, {"up": "2"}):
        assert client.post(f"/post/{post.pk}/vote", bad, headers=headers).status_code == 400


def test_vote_with_fetch_gets_json(user_client: tuple[Client, User], make_post: Callable[..., Post]) -> None:
    client, _ = user_client
    post = make_post()
    comment = services.comment_create(author=post.author, post_id=post.pk, body="c")
    headers = {"Accept": "application/json"}
    up = {"up": "1"}
    assert client.post(f"/post/{post.pk}/vote", up, headers=headers).json() == {"voted": True, "score": 1}
    assert client.post(f"/comment/{comment.pk}/vote", up, headers=headers).json() == {"voted": True, "score": 1}
    assert client.post("/post/999999/vote", up, headers=headers).status_code == 404
    assert client.post("/comment/999999/vote", up, headers=headers).status_code == 404


def test_votes_need_post_and_csrf(make_user: Callable[..., User], make_post: Callable[..., Post]) -> None:
    post = make_post()
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    assert client.get(f"/post/{post.pk}/vote").status_code == 405
    assert client.post(f"/post/{post.pk}/vote", {"up": "1"}).status_code == 403
    post.refresh_from_db()
    assert post.score == 0


def test_oversized_form_bodies_are_refused(user_client: tuple[Client, User]) -> None:
    client, _ = user_client
    response = client.post("/submit", {"title": "big", "body": "x" * 1_200_000})
    assert response.status_code == 400
    assert Post.objects.count() == 0
