from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from scaleboard.accounts import selectors, services
from scaleboard.accounts.forms import ApiTokenForm, SignupForm
from scaleboard.ops.rate_limits import limited


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("board:hot")
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET"])
def profile(request: HttpRequest, username: str) -> HttpResponse:
    return render(request, "accounts/profile.html", {"profile": selectors.user_profile(username=username)})


# never_cache: the page shows a new token once; no cache, shared or the browser's, may keep a copy.
@never_cache
@login_required
@limited("token")
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _, new_token = services.api_token_create(user=request.user, **form.cleaned_data)  # type: ignore[arg-type]  # login_required
        form = ApiTokenForm()
    tokens = selectors.api_token_list(user=request.user)  # type: ignore[arg-type]  # login_required
    return render(request, "accounts/api_tokens.html", {"form": form, "tokens": tokens, "new_token": new_token})


@never_cache
@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if not services.api_token_revoke(user=request.user, token_id=token_id):  # type: ignore[arg-type]  # login_required
        raise Http404("No such token")
    return redirect("api-tokens")
