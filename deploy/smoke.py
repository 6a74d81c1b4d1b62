"""`make smoke URL=...`: is a freshly deployed site usable? What a user does first, each step timed:
/readyz, sign up, sign in again, submit a post, vote on it, read it back. The first step that fails stops the
check and says which (exit 1). `make smoke` then runs a short Locust run with the load test's thresholds.

    python -m deploy.smoke --url https://staging.example.org
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable


class SmokeError(RuntimeError):
    """A step failed; the message names it and what the site answered."""


class Browser:
    """Cookies, CSRF tokens and an Origin header, as a browser sends them; redirects followed."""

    def __init__(self, url: str) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise SmokeError(f"{url} is not an http(s) URL")
        self.url = url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(
        self, path: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """(status, final URL, body); a 4xx or 5xx is returned, not raised."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Origin": self.url, **(headers or {})}
        request = urllib.request.Request(f"{self.url}{path}", data=data, headers=headers)  # noqa: S310 - http(s) only
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.url, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.url, exc.read().decode(errors="replace")

    def post_form(
        self, path: str, fields: dict[str, str], action: str | None = None, **headers: str
    ) -> tuple[int, str, str]:
        """GET the page for its CSRF token, then POST the form with it (to `action`, else the page itself)."""
        status, _, page = self.open(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not token:
            raise SmokeError(f"GET {path} answered {status} without a form")
        return self.open(action or path, {"csrfmiddlewaretoken": token.group(1), **fields}, headers)


def run(url: str) -> list[tuple[str, float]]:
    """Every step's name and seconds; SmokeError at the first that fails."""
    browser, timings = Browser(url), []
    name, password = f"smoke-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    found: dict[str, str] = {}

    def step(what: str, check: Callable[[], str | None]) -> None:
        started = time.monotonic()
        try:
            problem = check()
        except (OSError, urllib.error.URLError) as exc:
            problem = f"no answer ({exc})"
        if problem:
            raise SmokeError(f"{what}: {problem}")
        timings.append((what, time.monotonic() - started))

    def readyz() -> str | None:
        status = browser.open("/readyz")[0]
        return None if status == 200 else f"/readyz answered {status}"

    def sign_up() -> str | None:
        fields = {"username": name, "password1": password, "password2": password}
        status, landed, _ = browser.post_form("/signup", fields)
        return None if status == 200 and not landed.endswith("/signup") else f"stayed on the form ({status})"

    def sign_in() -> str | None:
        browser.jar.clear()
        status, landed, _ = browser.post_form("/login", {"username": name, "password": password})
        return None if status == 200 and not landed.endswith("/login") else f"stayed on the form ({status})"

    def submit() -> str | None:
        title = f"Smoke check {name}"
        status, landed, page = browser.post_form("/submit", {"title": title, "body": "Deployed and answering."})
        post = re.search(r"/post/(\d+)$", landed)
        if status != 200 or not post or title not in page:
            return f"the post was not created ({status}, landed on {landed})"
        found["post"] = post.group(1)
        return None

    def vote() -> str | None:
        path = f"/post/{found['post']}"
        status, _, body = browser.post_form(path, {"up": "1"}, f"{path}/vote", Accept="application/json")
        voted = json.loads(body) if status == 200 else {}
        return None if voted.get("voted") is True else f"the vote was not counted ({status}: {body[:200]})"

    for what, check in (("/readyz", readyz), ("sign up", sign_up), ("sign in", sign_in), ("submit a post", submit),
                        ("vote on it", vote)):  # fmt: skip
        step(what, check)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the site, e.g. http://10.77.0.10")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("say which site: make smoke URL=http://...")
    try:
        timings = run(args.url)
    except SmokeError as exc:
        print(f"smoke: FAILED at {exc}", file=sys.stderr)
        return 1
    for what, seconds in timings:
        print(f"smoke: {what:<14} ok {seconds * 1000:6.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
