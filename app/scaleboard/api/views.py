"""The JSON API. Reads of the board are public; writes and tokens need a user (api_user: token or session + CSRF).

Every answer under /api/ is JSON, errors included: `endpoint` answers unlisted methods with 405 and `not_found`
answers every path the API does not have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from scaleboard.accounts import selectors as account_selectors
from scaleboard.accounts import services as account_services
from scaleboard.api import schemas
from scaleboard.api.auth import api_user
from scaleboard.api.openapi import document
from scaleboard.api.responses import (
    BadRequest,
    comment_json,
    error,
    json_body,
    post_json,
    thread_json,
    token_json,
    validation_error,
)
from scaleboard.board import selectors, services
from scaleboard.board.models import Comment, Post
from scaleboard.ops.rate_limits import limited

View = Callable[..., HttpResponse]


def endpoint(**methods: View) -> View:
    """One path of the API: dispatch by method, 405 (with Allow) for the rest, expected failures as JSON."""
    allowed = sorted({*methods, *(["HEAD"] if "GET" in methods else [])})

    # csrf_exempt: views that need a user go through api_user, which runs the CSRF check for session users.
    @csrf_exempt
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        handler = methods.get("GET" if request.method == "HEAD" else str(request.method))
        if handler is None:
            response = error(405, f"{request.method} is not allowed here; use {', '.join(allowed)}")
            response["Allow"] = ", ".join(allowed)
            return response
        try:
            return handler(request, *args, **kwargs)
        except BadRequest as exc:
            return error(exc.status, exc.message, exc.fields)
        except schemas.InvalidBody as exc:
            return error(400, "invalid input", exc.fields)
        except ValidationError as exc:
            return validation_error(exc)
        except ObjectDoesNotExist:
            return error(404, "not found")

    return view


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    return error(404, f"no such API path: {request.path}; see /api/docs")


@require_safe
def docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html", {"api": document()})


def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(document())


# --- posts ---------------------------------------------------------------------------------------
def post_list(request: HttpRequest) -> JsonResponse:
    sort = request.GET.get("sort", "hot")
    if sort not in selectors.SORTS:
        raise BadRequest(400, f"sort must be one of: {', '.join(selectors.SORTS)}")
    try:
        limit = schemas.query_limit(request.GET.get("limit"))
        page, next_cursor = selectors.post_page(
            viewer=request.user, sort=sort, cursor=request.GET.get("cursor"), limit=limit
        )
    except ValueError as exc:  # selectors.BadCursor included
        raise BadRequest(400, str(exc)) from exc
    return JsonResponse({"items": [post_json(post) for post in page], "next_cursor": next_cursor})


@api_user
@limited("post")
def post_create(request: HttpRequest) -> JsonResponse:
    data = schemas.POST_CREATE.validate(json_body(request))
    post = services.post_create(
        author=request.user,  # type: ignore[arg-type]  # api_user
        title=data["title"],
        url=data["url"] or "",
        body=data["body"] or "",
    )
    return JsonResponse(post_json(post, with_body=True), status=201)


def post_detail(request: HttpRequest, post_id: int) -> JsonResponse:
    post = Post.objects.select_related("author").get(pk=post_id)
    return JsonResponse(post_json(post, with_body=True))


# --- comments ------------------------------------------------------------------------------------
def comment_list(request: HttpRequest, post_id: int) -> JsonResponse:
    if not Post.objects.filter(pk=post_id).exists():
        raise Post.DoesNotExist
    thread = selectors.comment_thread(viewer=request.user, post_id=post_id)
    return JsonResponse({"items": thread_json(thread)})


@api_user
@limited("comment")
def comment_create(request: HttpRequest, post_id: int) -> JsonResponse:
    data = schemas.COMMENT_CREATE.validate(json_body(request))
    try:
        comment = services.comment_create(
            author=request.user,  # type: ignore[arg-type]  # api_user
            post_id=post_id,
            body=data["body"],
            parent_id=data["parent_id"],
        )
    except ValidationError as exc:
        # The body passed the schema, so what is left is a parent_id that is not a comment on this post.
        raise BadRequest(409, "; ".join(exc.messages), {"parent_id": exc.messages}) from exc
    comment = Comment.objects.select_related("author").get(pk=comment.pk)
    return JsonResponse(comment_json(comment), status=201)


# --- votes: PUT sets the vote, DELETE takes it back; repeating either changes nothing ------------
def _vote(set_vote: Callable[..., services.VoteResult], up: bool) -> View:
    """A vote view; the URL's id (post_id or comment_id) is the service's keyword of the same name."""

    @api_user
    @limited("vote")
    def view(request: HttpRequest, **target: int) -> JsonResponse:
        result = set_vote(user=request.user, up=up, **target)
        return JsonResponse({"voted": result.voted, "score": result.score})

    return view


post_vote_up, post_vote_down = _vote(services.post_vote_set, True), _vote(services.post_vote_set, False)
comment_vote_up, comment_vote_down = _vote(services.comment_vote_set, True), _vote(services.comment_vote_set, False)


# --- personal tokens -----------------------------------------------------------------------------
@api_user
def token_list(request: HttpRequest) -> JsonResponse:
    tokens = account_selectors.api_token_list(user=request.user)  # type: ignore[arg-type]  # api_user
    return JsonResponse({"items": [token_json(token) for token in tokens]})


@api_user
@limited("token")
def token_create(request: HttpRequest) -> JsonResponse:
    data = schemas.TOKEN_CREATE.validate(json_body(request))
    token, plain = account_services.api_token_create(
        user=request.user,  # type: ignore[arg-type]  # api_user
        name=data["name"],
        expires_in_days=data["expires_in_days"],
    )
    return JsonResponse({**token_json(token), "token": plain}, status=201)


@api_user
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if not account_services.api_token_revoke(user=request.user, token_id=token_id):  # type: ignore[arg-type]  # api_user
        return error(404, "not found")
    return HttpResponse(status=204)
