"""What the API accepts, declared once: the views validate with these and the OpenAPI document is built from them.

A request that passes `Body.validate` is one the document calls valid, and the other way round, so a schema-driven
client (or fuzzer) and the server agree. Kept as small dataclasses rather than a framework: the API has five
inputs, and their rules fit in this file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from config.converters import MAX_ID

# The characters str.isspace() (and so str.strip()) calls white space, spelled out: `\s` means a different set
# in Python's re and in the ECMA-262 regexes JSON Schema uses, so a client and the server would disagree.
SPACE = r"\t\n\u000b\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Text that holds something besides white space and no NUL (PostgreSQL cannot store NUL in text).
TEXT_PATTERN = rf"^[^\u0000]*[^\u0000{SPACE}][^\u0000]*$"
# An http(s) URL with a plain host name (letters, digits, dots, hyphens), an optional port, and a path, query
# or fragment without control characters or white space.
URL_PATTERN = (
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?"
    rf"(?:[/?#][^\u0000-\u001f\u007f{SPACE}]*)?$"
)


class InvalidBody(ValueError):
    """The body breaks the schema; `fields` holds the messages per field (`__all__` for the whole body)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("invalid input")
        self.fields = fields


@dataclass(frozen=True)
class Field:
    """One JSON property: its type and limits, as both the validator and the document read them."""

    kind: str  # string | integer
    description: str
    required: bool = False
    nullable: bool = False
    max_length: int | None = None
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.kind, "description": self.description}
        limits = {
            "maxLength": self.max_length,
            "pattern": self.pattern,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }
        schema.update({key: limit for key, limit in limits.items() if limit is not None})
        if self.nullable:
            schema["nullable"] = True
        return schema

    def problem(self, value: object) -> str | None:
        """Why `value` is not acceptable, or None."""
        if value is None:
            return None if self.nullable else "must not be null"
        if self.kind == "string":
            return self._string_problem(value)
        # bool is an int in Python but not in JSON; floats such as 1.0 are not integers here either.
        if not isinstance(value, int) or isinstance(value, bool):
            return "must be an integer"
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum}"
        if self.maximum is not None and value > self.maximum:
            return f"must be at most {self.maximum}"
        return None

    def _string_problem(self, value: object) -> str | None:
        if not isinstance(value, str):
            return "must be a string"
        if self.max_length is not None and len(value) > self.max_length:
            return f"must be at most {self.max_length} characters"
        if not value.isascii() and not _encodable(value):
            return "must be valid Unicode text (no lone surrogates)"
        if self.pattern is not None and not re.search(self.pattern, value):
            return _PATTERN_MESSAGES.get(self.pattern, f"must match {self.pattern}")
        return None


_PATTERN_MESSAGES = {
    TEXT_PATTERN: "must contain text (not only spaces) and no NUL character",
    URL_PATTERN: "must be an http:// or https:// URL with a plain host name",
}


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class Body:
    """A JSON object body: its fields, and at most one 'exactly one of' rule."""

    name: str
    description: str
    fields: dict[str, Field]
    exactly_one_of: tuple[str, ...] = field(default=())

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "description": self.description,
            "additionalProperties": False,
            "properties": {name: spec.schema() for name, spec in self.fields.items()},
        }
        required = [name for name, spec in self.fields.items() if spec.required]
        if required:
            schema["required"] = required
        if self.exactly_one_of:
            schema["oneOf"] = [{"required": [name]} for name in self.exactly_one_of]
        return schema

    def validate(self, data: object) -> dict[str, Any]:
        """The body's fields (absent optional ones as None), or InvalidBody naming every problem."""
        if not isinstance(data, dict):
            raise InvalidBody({"__all__": ["the JSON body must be an object"]})
        problems: dict[str, list[str]] = {}
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            problems["__all__"] = [f"unknown field(s): {', '.join(unknown)}; known: {', '.join(self.fields)}"]
        for name, spec in self.fields.items():
            if name not in data:
                if spec.required:
                    problems[name] = ["this field is required"]
                continue
            problem = spec.problem(data[name])
            if problem:
                problems[name] = [problem]
        given = [name for name in self.exactly_one_of if name in data]
        if self.exactly_one_of and len(given) != 1:
            problems.setdefault("__all__", []).append(f"give exactly one of: {', '.join(self.exactly_one_of)}")
        if problems:
            raise InvalidBody(problems)
        return {name: data.get(name) for name in self.fields}


POST_CREATE = Body(
    "PostCreate",
    "A link (url) or a text post (body): exactly one of the two.",
    {
        "title": Field("string", "The headline", required=True, max_length=200, pattern=TEXT_PATTERN),
        "url": Field("string", "The link", max_length=2000, pattern=URL_PATTERN),
        "body": Field("string", "The text", max_length=20000, pattern=TEXT_PATTERN),
    },
    exactly_one_of=("url", "body"),
)
COMMENT_CREATE = Body(
    "CommentCreate",
    "A comment on the post, or a reply to one of its comments (parent_id).",
    {
        "body": Field("string", "The comment", required=True, max_length=10000, pattern=TEXT_PATTERN),
        "parent_id": Field(
            "integer", "The comment replied to (on the same post)", nullable=True, minimum=1, maximum=MAX_ID
        ),
    },
)
TOKEN_CREATE = Body(
    "TokenCreate",
    "A new personal API token; it is shown once, in the answer.",
    {
        "name": Field("string", "What the token is for", required=True, max_length=100, pattern=TEXT_PATTERN),
        "expires_in_days": Field(
            "integer",
            "Days until the token stops working; null or absent: never",
            nullable=True,
            minimum=1,
            maximum=3650,
        ),
    },
)
BODIES = (POST_CREATE, COMMENT_CREATE, TOKEN_CREATE)

# Query parameters and path ids, as the document states them and the views check them.
LIMIT = Field("integer", "Posts per page", minimum=1, maximum=100)
DEFAULT_LIMIT = 30
ID = Field("integer", "Id", minimum=1, maximum=MAX_ID)
_DIGITS = re.compile(r"[0-9]{1,4}")


def query_limit(raw: str | None) -> int:
    """The `limit` query parameter as an int, or ValueError. ASCII digits only: int() also takes '٣'."""
    if raw is None:
        return DEFAULT_LIMIT
    if not _DIGITS.fullmatch(raw) or LIMIT.problem(int(raw)):
        raise ValueError(f"limit must be an integer from {LIMIT.minimum} to {LIMIT.maximum}")
    return int(raw)
