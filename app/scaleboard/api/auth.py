"""Who the API's user is: a personal token (no CSRF), or a browser session that passes CSRF."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from scaleboard.accounts.services import api_token_authenticate
from scaleboard.api.responses import error

View = Callable[..., HttpResponse]


def _csrf_failure(request: HttpRequest) -> str | None:
    """The CSRF middleware's verdict for this request, run here because the view is csrf_exempt."""
    check = CsrfViewMiddleware(lambda _request: HttpResponse())
    check.process_request(request)
    rejected = check.process_view(request, None, (), {})  # type: ignore[arg-type]  # callback is unused when None
    return None if rejected is None else "CSRF check failed: send the X-CSRFToken header from the csrftoken cookie"


def api_user(view: View) -> View:
    """Require a user. Token requests skip CSRF: a token is not sent by browsers on their own."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, plain = header.partition(" ")
            if scheme != "Token" or not plain.strip():
                return error(401, "Authorization header must be 'Token <your token>'")
            user = api_token_authenticate(plain=plain.strip())
            if user is None:
                return error(401, "invalid, expired or revoked API token")
            request.user = user
        elif request.user.is_authenticated:
            failure = _csrf_failure(request)
            if failure:
                return error(403, failure)
        else:
            return error(401, "authentication required: log in or send 'Authorization: Token <your token>'")
        return view(request, *args, **kwargs)

    return wrapper
