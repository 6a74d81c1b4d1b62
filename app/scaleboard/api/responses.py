"""JSON bodies of the API: every error has the same shape, {"error": ..., "fields": {...}}."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.forms.utils import ErrorDict
from django.http import HttpRequest, JsonResponse

from scaleboard.board.models import Comment, Post
from scaleboard.board.rows import CommentRow, PostRow
from scaleboard.board.selectors import ThreadedComment


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"error": message}
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=status)


def form_error(errors: ErrorDict) -> JsonResponse:
    fields = {name: [str(message) for message in messages] for name, messages in errors.items()}
    return error(400, "invalid input", fields)


def validation_error(exc: ValidationError) -> JsonResponse:
    if hasattr(exc, "error_dict"):
        return error(
            400,
            "invalid input",
            {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()},
        )
    return error(400, "; ".join(exc.messages))


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object, or BadRequest with the status that fits."""
    if request.content_type != "application/json":
        raise BadRequest(415, "send a JSON body with Content-Type: application/json")
    try:
        data = json.loads(request.body or b"null")
    except RequestDataTooBig as exc:
        raise BadRequest(413, "request body too large") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(400, f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest(400, "the JSON body must be an object")
    return data


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
