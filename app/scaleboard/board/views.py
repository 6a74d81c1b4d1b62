"""Board pages. Thin: validate with a form, call one selector or service, render."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from scaleboard.board import selectors, services
from scaleboard.board.forms import CommentForm, PageForm, PostForm, SearchForm, VoteForm
from scaleboard.board.models import Comment, Post
from scaleboard.ops.rate_limits import limited


def _post_list_page(request: HttpRequest, listing: str) -> HttpResponse:
    page = PageForm(request.GET).page()
    select = selectors.post_list_hot if listing == "hot" else selectors.post_list_new
    posts = select(viewer=request.user, page=page)
    context = {
        "posts": posts,
        "listing": listing,
        "page": page,
        "first_rank": (page - 1) * selectors.PAGE_SIZE,
    }
    context["has_next"] = len(posts) == selectors.PAGE_SIZE
    return render(request, "board/post_list.html", context)


@require_safe
def hot(request: HttpRequest) -> HttpResponse:
    return _post_list_page(request, "hot")


@require_safe
def new(request: HttpRequest) -> HttpResponse:
    return _post_list_page(request, "new")


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    posts = selectors.post_search(viewer=request.user, query=query)
    return render(request, "board/search.html", {"form": form, "query": query, "posts": posts})


@require_http_methods(["GET", "POST"])
@limited("comment")  # counts signed-in POSTs only; reading the page is never limited
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    form = CommentForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"/login?next={request.path}")
        if form.is_valid():
            try:
                comment = services.comment_create(
                    author=request.user,
                    post_id=post_id,
                    body=form.cleaned_data["body"],
                    parent_id=form.cleaned_data["parent"],
                )
            except Post.DoesNotExist as exc:
                raise Http404("No such post") from exc
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect(f"{request.path}#c{comment.pk}")
    post = selectors.post_detail(viewer=request.user, post_id=post_id)
    thread = selectors.comment_thread(viewer=request.user, post_id=post_id)
    status = 400 if form.errors else 200
    return render(request, "board/post_detail.html", {"post": post, "thread": thread, "form": form}, status=status)


@login_required
@limited("post")
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    form = PostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        post = services.post_create(author=request.user, **form.cleaned_data)  # type: ignore[arg-type]  # login_required
        return redirect("board:post", post_id=post.pk)
    return render(request, "board/submit.html", {"form": form}, status=400 if form.errors else 200)


def _vote(request: HttpRequest, set_vote: Callable[[bool], services.VoteResult]) -> HttpResponse:
    """Set the vote to what the form's `up` says (1 or 0), so a resent form changes nothing."""
    form = VoteForm(request.POST)
    if not form.is_valid():
        return HttpResponse("The vote form needs up=1 or up=0.\n", status=400, content_type="text/plain")
    result = set_vote(form.cleaned_data["up"])
    # fetch() asks for JSON; a plain form POST (no JavaScript) goes back to the page it came from.
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"voted": result.voted, "score": result.score})
    back = form.cleaned_data["next"]
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(back if safe else "board:hot")


@login_required
@limited("vote")
@require_POST
def post_vote(request: HttpRequest, post_id: int) -> HttpResponse:
    user = request.user
    try:
        return _vote(request, lambda up: services.post_vote_set(user=user, post_id=post_id, up=up))  # type: ignore[arg-type]  # login_required
    except Post.DoesNotExist as exc:
        raise Http404("No such post") from exc


@login_required
@limited("vote")
@require_POST
def comment_vote(request: HttpRequest, comment_id: int) -> HttpResponse:
    user = request.user
    try:
        return _vote(request, lambda up: services.comment_vote_set(user=user, comment_id=comment_id, up=up))  # type: ignore[arg-type]  # login_required
    except Comment.DoesNotExist as exc:
        raise Http404("No such comment") from exc
