"""The Jinja2 environment for the app's own pages (the admin and form widgets stay on Django templates).

Why Jinja2: it compiles templates to Python functions, and rendered the front page's rows an order of
magnitude faster than Django templates with the same markup (docs/performance.md).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from jinja2 import Environment
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from scaleboard.board.selectors import ThreadedComment

_UNITS = ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "hour"), (60, "minute"))


def ago(moment: datetime, now: datetime | None = None) -> str:
    """'3 hours ago': the largest whole unit only, as link boards show it (Django's timesince gives two,
    each translated: a large share of the render time at 30+ rows a page)."""
    seconds = ((now or timezone.now()) - moment).total_seconds()
    for size, name in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {name}{'s' if count != 1 else ''} ago"
    return "just now"


_NEWLINES = re.compile(r"\r\n|\r")
_BLANK_LINES = re.compile(r"\n{2,}")


def paragraphs(text: str) -> Markup:
    """Plain text as escaped <p>/<br> HTML: what Django's linebreaks filter gives, without its lazy-string
    wrappers, which ran for each of a busy post's 100+ comments. tests/app/board/test_urls.py
    compares the two."""
    escaped = html.escape(_NEWLINES.sub("\n", text))
    return Markup("\n\n".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in _BLANK_LINES.split(escaped)))  # noqa: S704


@functools.lru_cache(maxsize=1024)
def url(name: str, *args: Any) -> str:
    """reverse(), remembered: a page asks for the same few paths on every request, and reverse() is slow.

    Safe because a process's URLconf and script prefix do not change while it serves.
    """
    return reverse(name, args=args)


@functools.lru_cache(maxsize=256)
def static_url(path: str) -> str:
    """static(), remembered: the manifest lookup runs twice a page, with the same answer every time.

    Safe because collectstatic runs before a release's processes start and the manifest stays put.
    """
    return static(path)


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What every row of a list needs, worked out once per page instead of once per row."""

    now: datetime
    here: str
    signed_in: bool
    login_next: str
    csrf_input: Any


def vote_button(action: str, voted: bool, facts: PageFacts) -> Markup:
    """The vote arrow of a post or comment: a form for a signed-in viewer, a link to log in otherwise.

    A function, not a Jinja2 macro: a macro call costs more than this whole function, and a page has one
    per row (100+ on a busy post). Every value that is not already Markup goes through escape().
    """
    if not facts.signed_in:
        return Markup(f'<a class="arrow" href="{escape(facts.login_next)}" title="log in to vote">&#9650;</a>')  # noqa: S704
    state = ' voted" aria-pressed="true' if voted else '" aria-pressed="false'
    becomes = "0" if voted else "1"  # the form says what the vote becomes, so a resend changes nothing
    return Markup(  # noqa: S704 - built from escaped values and the CSRF input (Markup)
        f'<form class="vote" method="post" action="{escape(action)}" data-vote>{facts.csrf_input}'
        f'<input type="hidden" name="next" value="{escape(facts.here)}">'
        f'<input type="hidden" name="up" value="{becomes}">'
        f'<button type="submit" class="arrow{state}" title="vote">&#9650;</button></form>'
    )


def comment_items(thread: Iterable[ThreadedComment], facts: PageFacts) -> Markup:
    """A post page's comments, one <li> each: the vote button, meta line, text and (signed in) reply form.

    A function, not a template loop, for the reason vote_button is one: a busy post has 100+ comments, and the
    loop's attribute lookups and escapes were most of the page's CPU (docs/performance.md). Numbers are
    formatted as integers; every other value that is not already Markup goes through escape().
    """
    signed_in, now = facts.signed_in, facts.now
    items = []
    for item in thread:
        comment, pk = item.comment, item.comment.id
        author = comment.author
        reply_link = f' | <a href="#reply-{pk:d}" class="reply-link">reply</a>' if signed_in else ""
        reply_form = (
            f'<form method="post" class="reply" id="reply-{pk:d}">{facts.csrf_input}'
            f'<input type="hidden" name="parent" value="{pk:d}">'
            '<textarea name="body" rows="3" required aria-label="reply"></textarea>'
            '<button type="submit">Reply</button></form>'
            if signed_in
            else ""
        )
        items.append(
            f'<li class="comment" id="c{pk:d}" style="--depth: {item.depth:d}">'
            f"{vote_button(comment.vote_url, comment.voted, facts)}"
            f'<div class="body"><div class="meta"><span class="score" data-score>{comment.score:d}</span> points by'
            f' <a href="{escape(author.path)}">{escape(author.username)}</a> {ago(comment.created, now)}'
            f"{reply_link}</div>"
            f'<div class="text">{paragraphs(comment.body)}</div>{reply_form}</div></li>'
        )
    return Markup("\n".join(items))  # noqa: S704 - built from escaped values, integers and Markup


def page_facts(request: HttpRequest, csrf_input: Any) -> PageFacts:
    here = request.get_full_path()
    signed_in = request.user.is_authenticated
    return PageFacts(
        now=timezone.now(),
        here=here,
        signed_in=signed_in,
        login_next=f"{url('login')}?next={quote(here, safe='/')}",  # as the urlencode filter quotes
        # Only a signed-in viewer gets forms. Every use of the lazy csrf_input masks the token anew (and a
        # busy post page has 200 forms), so the page's forms share one; left lazy for anonymous pages,
        # which must not set a CSRF cookie they never use.
        csrf_input=Markup(str(csrf_input)) if signed_in else csrf_input,  # noqa: S704 - Django's own markup
    )


def environment(**options: Any) -> Environment:
    # Autoescape on, as Django's Jinja2 backend sets it by default; an explicit False in OPTIONS still wins.
    env = Environment(autoescape=options.pop("autoescape", True), **options)
    env.globals.update(
        static=static_url, url=url, page_facts=page_facts, vote_button=vote_button, comment_items=comment_items
    )
    env.filters.update(ago=ago, paragraphs=paragraphs)
    return env
