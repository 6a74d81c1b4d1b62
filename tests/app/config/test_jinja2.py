"""The app's Jinja2 environment escapes what visitors wrote, on every page that shows it, signed in or out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from scaleboard.accounts.models import User
from scaleboard.board import services
from scaleboard.board.models import Post

TITLE = '<b>"Tom & Jerry\'s"</b> scaling'
COMMENT = "<script>alert('x')</script> & more"


@pytest.mark.django_db
def test_pages_escape_what_visitors_wrote(make_user: Callable[..., User], make_post: Callable[..., Post]) -> None:
    author = make_user()
    post = make_post(author=author, title=TITLE, body="Line <one>\n\nLine 'two' & \"three\"")
    services.comment_create(author=author, post_id=post.pk, body=COMMENT)
    viewer = Client()
    viewer.force_login(make_user())
    for client in (Client(), viewer):
        for path in ("/", "/new", "/search?q=scaling", f"/post/{post.pk}"):
            page = client.get(path).content.decode()
            assert "&lt;b&gt;&#34;Tom &amp; Jerry&#39;s&#34;&lt;/b&gt; scaling" in page, path
            assert TITLE not in page, path
        page = client.get(f"/post/{post.pk}").content.decode()
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page  # paragraphs: html.escape
        assert "<script>alert" not in page
        assert "Line &lt;one&gt;" in page
