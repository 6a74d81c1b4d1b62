"""The JSON API. Reads are public; writes go through api_write (token or session + CSRF)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from scaleboard.api.auth import api_write
from scaleboard.api.openapi import document
from scaleboard.api.responses import (
    BadRequest,
    comment_json,
    error,
    form_error,
    json_body,
    post_json,
    thread_json,
    validation_error,
)
from scaleboard.board import selectors, services
from scaleboard.board.forms import CommentForm, PostForm
from scaleboard.board.models import Comment, Post

DEFAULT_LIMIT = 30
MAX_LIMIT = 100


def _json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn the API's expected failures into JSON errors instead of HTML pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except BadRequest as exc:
            return error(exc.status, exc.message)
        except ValidationError as exc:
            return validation_error(exc)
        except (Post.DoesNotExist, Comment.DoesNotExist):
            return error(404, "not found")

    return wrapper


def _limit(request: HttpRequest) -> int:
    raw = request.GET.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


@require_safe
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(document())


# csrf_exempt here only because POST is delegated to an api_write view, which runs the CSRF check itself
# for session users (token users need none).
@csrf_exempt
@require_http_methods(["GET", "POST"])
@_json_errors
def posts(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _post_create(request)
    sort = request.GET.get("sort", "hot")
    if sort not in selectors.SORTS:
        raise BadRequest(400, f"sort must be one of: {', '.join(selectors.SORTS)}")
    try:
        page, next_cursor = selectors.post_page(
            viewer=request.user, sort=sort, cursor=request.GET.get("cursor"), limit=_limit(request)
        )
    except selectors.BadCursor as exc:
        raise BadRequest(400, str(exc)) from exc
    return JsonResponse({"items": [post_json(post) for post in page], "next_cursor": next_cursor})


@api_write
def _post_create(request: HttpRequest) -> HttpResponse:
    form = PostForm(json_body(request))
    if not form.is_valid():
        return form_error(form.errors)
    post = services.post_create(author=request.user, **form.cleaned_data)  # type: ignore[arg-type]  # api_write
    return JsonResponse(post_json(post, with_body=True), status=201)


@require_safe
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    post = Post.objects.select_related("author").filter(pk=post_id).first()
    if post is None:
        return error(404, "not found")
    return JsonResponse(post_json(post, with_body=True))


@csrf_exempt  # POST is delegated to an api_write view, as in posts()
@require_http_methods(["GET", "POST"])
@_json_errors
def post_comments(request: HttpRequest, post_id: int) -> HttpResponse:
    if request.method == "POST":
        return _comment_create(request, post_id)
    if not Post.objects.filter(pk=post_id).exists():
        return error(404, "not found")
    thread = selectors.comment_thread(viewer=request.user, post_id=post_id)
    return JsonResponse({"items": thread_json(thread)})


@api_write
def _comment_create(request: HttpRequest, post_id: int) -> HttpResponse:
    data = json_body(request)
    form = CommentForm({"body": data.get("body"), "parent": data.get("parent_id")})
    if not form.is_valid():
        errors = {("parent_id" if k == "parent" else k): v for k, v in form.errors.items()}
        return form_error(errors)  # type: ignore[arg-type]  # same shape as ErrorDict
    comment = services.comment_create(
        author=request.user,  # type: ignore[arg-type]  # api_write
        post_id=post_id,
        body=form.cleaned_data["body"],
        parent_id=form.cleaned_data["parent"],
    )
    comment = Comment.objects.select_related("author").get(pk=comment.pk)
    return JsonResponse(comment_json(comment), status=201)


@require_POST
@_json_errors
@api_write
def post_vote(request: HttpRequest, post_id: int) -> HttpResponse:
    result = services.post_vote_toggle(user=request.user, post_id=post_id)  # type: ignore[arg-type]  # api_write
    return JsonResponse({"voted": result.voted, "score": result.score})


@require_POST
@_json_errors
@api_write
def comment_vote(request: HttpRequest, comment_id: int) -> HttpResponse:
    result = services.comment_vote_toggle(user=request.user, comment_id=comment_id)  # type: ignore[arg-type]  # api_write
    return JsonResponse({"voted": result.voted, "score": result.score})
