"""The API's input rules: what the validator and the document both say."""

from __future__ import annotations

import re

import pytest
from scaleboard.api.schemas import POST_CREATE, SPACE, TEXT_PATTERN, URL_PATTERN, InvalidBody, query_limit


def test_space_is_what_str_strip_strips() -> None:
    # The pattern's white space must be Python's, or text the schema accepts could strip to nothing.
    space = re.compile(f"[{SPACE}]")
    differ = [hex(code) for code in range(0x110000) if chr(code).isspace() != bool(space.fullmatch(chr(code)))]
    assert differ == []


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("a", True),
        (" a ", True),
        ("\ufeff", True),
        ("", False),
        (" \t\u3000", False),
        ("\x1d", False),
        ("a\x00", False),
    ],
)
def test_text_pattern(text: str, valid: bool) -> None:
    assert bool(re.search(TEXT_PATTERN, text)) is valid
    assert bool(text.strip()) or not valid


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://example.com", True),
        ("http://a.b:8080/p?q=1#f", True),
        ("https://example.com/caf\u00e9", True),
        ("ftp://example.com", False),
        ("https://", False),
        ("https://[::1]/", False),
        ("https://user@example.com/", False),
        ("https://example.com/a b", False),
        ("https://example.com/\x1d", False),
    ],
)
def test_url_pattern(url: str, valid: bool) -> None:
    assert bool(re.search(URL_PATTERN, url)) is valid


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(InvalidBody) as caught:
        POST_CREATE.validate({"title": 1, "url": "x", "body": "y", "extra": None})
    assert set(caught.value.fields) == {"title", "url", "__all__"}


LIMITS = [(None, 30), ("1", 1), ("100", 100), ("0", None), ("101", None), ("\u0663", None), (" 5", None),
          ("5.0", None), ("99999", None)]  # fmt: skip


@pytest.mark.parametrize(("raw", "limit"), LIMITS)
def test_query_limit(raw: str | None, limit: int | None) -> None:
    if limit is None:
        with pytest.raises(ValueError, match="limit must be"):
            query_limit(raw)
    else:
        assert query_limit(raw) == limit
