"""JSON bodies of the API: every error has the same shape, {"error": ..., "fields": {...}}."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, JsonResponse

from scaleboard.accounts.models import ApiToken
from scaleboard.board.models import Comment, Post
from scaleboard.board.rows import CommentRow, PostRow
from scaleboard.board.selectors import ThreadedComment


class BadRequest(Exception):
    """An answer with an error status and the JSON error shape; raised where the problem is found."""

    def __init__(self, status: int, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields


def error(status: int, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"error": message}
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=status)


def validation_error(exc: ValidationError) -> JsonResponse:
    if hasattr(exc, "error_dict"):
        return error(
            400,
            "invalid input",
            {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()},
        )
    return error(400, "; ".join(exc.messages))


def json_body(request: HttpRequest) -> Any:
    """The request's JSON value, or BadRequest with the status that fits. The caller's schema checks its shape."""
    if request.content_type != "application/json":
        raise BadRequest(415, "send a JSON body with Content-Type: application/json")
    try:
        return json.loads(request.body or b"null", parse_constant=_no_constant)
    except RequestDataTooBig as exc:
        raise BadRequest(
            413, f"request body too large (the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes)"
        ) from exc
    except RecursionError as exc:
        raise BadRequest(400, "malformed JSON: nested too deeply") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(400, f"malformed JSON: {exc}") from exc


def _no_constant(name: str) -> None:
    # Python's json accepts NaN and Infinity; JSON does not.
    raise ValueError(f"{name} is not JSON")


def post_json(post: Post | PostRow, *, with_body: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": post.pk,
        "title": post.title,
        "url": post.url or None,
        "domain": post.domain or None,
        "author": post.author.username,
        "created": post.created.isoformat(),
        "score": post.score,
        "comment_count": post.comment_count,
    }
    if with_body:
        data["body"] = post.body or None
    return data


def comment_json(comment: Comment | CommentRow, depth: int = 0) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "post_id": comment.post_id,
        "parent_id": comment.parent_id,
        "author": comment.author.username,
        "body": comment.body,
        "created": comment.created.isoformat(),
        "score": comment.score,
        "depth": depth,
    }


def thread_json(thread: list[ThreadedComment]) -> list[dict[str, Any]]:
    return [comment_json(item.comment, item.depth) for item in thread]


def token_json(token: ApiToken) -> dict[str, Any]:
    """A token as its owner may see it later: never the secret, only its first characters."""
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created": token.created.isoformat(),
        "last_used": token.last_used.isoformat() if token.last_used else None,
        "expires": token.expires.isoformat() if token.expires else None,
    }
