"""Autoescaped output as plain text (config/jinja2_escape.py): the same text as MarkupSafe's escape(), and
every page the same, byte for byte, as Jinja2's own code generator renders it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from config.jinja2_escape import escape_text
from django.template import engines
from django.test import Client
from jinja2 import Environment
from jinja2.compiler import CodeGenerator
from markupsafe import Markup, escape
from scaleboard.accounts.models import User
from scaleboard.board import services
from scaleboard.board.models import Post


class _HTML:
    def __html__(self) -> str:
        return "<i>already safe</i>"


class _Text:
    def __str__(self) -> str:
        return "a < b & 'c'"


@pytest.mark.parametrize(
    "value",
    ['<a href="x">Tom & Jerry\'s</a>', "", 42, 1.5, None, True, Markup("<b>ok</b>"), _HTML(), _Text()],
)
def test_escape_text_gives_markupsafes_text(value: object) -> None:
    assert escape_text(value) == str(escape(value))
    assert type(escape_text(value)) is str


def _jinja2() -> Environment:
    return engines["jinja2"].env  # type: ignore[attr-defined]  # the Jinja2 backend's Environment


def test_every_template_compiles_to_escape_text() -> None:
    """Fails if a Jinja2 upgrade stops calling the overridden method: pages would still be right, slower."""
    env = _jinja2()
    for name in env.list_templates(extensions=["html"]):
        source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        code = env.compile(source, name, raw=True)
        assert not re.search(r"(?<![\w.])escape\(", code), name
        assert ("{{" not in source) or ("environment.escape_text(" in code), name


@pytest.fixture
def jinja2s_own_generator() -> Iterator[Callable[[], None]]:
    """Switches the app's environment to Jinja2's own code generator, and back after the test."""
    env = _jinja2()

    def switch() -> None:
        env.code_generator_class = CodeGenerator  # type: ignore[misc]
        env.cache.clear()  # type: ignore[union-attr]

    yield switch
    del env.code_generator_class  # type: ignore[misc]
    env.cache.clear()  # type: ignore[union-attr]


def _pages(client: Client, paths: list[str]) -> list[str]:
    # Each answer masks its CSRF token anew; the tokens are not what this test compares.
    return [re.sub(r'value="[A-Za-z0-9]{64}"', 'value="csrf"', client.get(path).content.decode()) for path in paths]


@pytest.mark.django_db
def test_pages_render_as_with_jinja2s_own_generator(
    make_user: Callable[..., User], make_post: Callable[..., Post], jinja2s_own_generator: Callable[[], None]
) -> None:
    author = make_user("tom.jerry")
    linked = make_post(author=author, title='<b>"Tom & Jerry\'s"</b> scaling', url="https://example.com/?a=1&b=<2>")
    text = make_post(author=author, title="Plain & simple", body="Line <one>\n\nLine 'two' & \"three\"")
    first = services.comment_create(author=author, post_id=text.pk, body="<script>alert('x')</script> & more")
    services.comment_create(author=author, post_id=text.pk, body="a reply\nover two lines", parent_id=first.pk)
    paths = ["/", "/new", "/search?q=scaling", f"/post/{linked.pk}", f"/post/{text.pk}", "/login", "/signup",
             f"/user/{author.username}", "/no-such-page"]  # fmt: skip
    viewer = Client()
    viewer.force_login(make_user())
    signed_in_paths = [*paths, "/submit", "/settings/tokens"]
    ours = _pages(Client(), paths) + _pages(viewer, signed_in_paths)
    jinja2s_own_generator()
    assert _pages(Client(), paths) + _pages(viewer, signed_in_paths) == ours
    assert any("&lt;b&gt;&#34;Tom &amp; Jerry&#39;s&#34;&lt;/b&gt;" in page for page in ours)
