"""A person's first visit, in headless Chromium: sign up, submit, vote (with JavaScript), comment."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.requires import needs
from tests.harness.servers import Gunicorn

pytestmark = [pytest.mark.browser, pytest.mark.live, needs("chromium")]

# Without these, Chromium tries to reach Google's services, which a closed network refuses noisily.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context()
        context.set_default_timeout(15_000)
        yield context.new_page()
        browser.close()


def test_sign_up_submit_vote_and_comment(live_app: Gunicorn, page: object, tmp_path: Path) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    username = f"reader{uuid.uuid4().hex[:8]}"
    title = f"Browser-made post {username}"

    page.goto(live_app.url("/signup"))
    page.fill("#id_username", username)
    page.fill("#id_password1", "a sturdy browser password")
    page.fill("#id_password2", "a sturdy browser password")
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text(username)

    page.click("text=submit")
    page.fill("#id_title", title)
    page.fill("#id_url", "https://example.com/from-the-browser")
    page.click("main button[type=submit]")
    expect(page.locator(".posts .title")).to_contain_text(title)

    # Voting with JavaScript: the score changes in place, the page does not reload.
    page.evaluate("window.__same_page = true")
    page.click(".posts .vote button")
    expect(page.locator(".posts .score").first).to_have_text("1")
    expect(page.locator(".posts .vote button").first).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__same_page") is True

    page.fill("textarea[name=body]", "First comment, typed in a real browser.")
    page.click(".comment-form button[type=submit]")
    expect(page.locator(".comments .comment .text")).to_contain_text("First comment, typed in a real browser.")

    page.reload()
    expect(page.locator(".posts .score").first).to_have_text("1")
    page.screenshot(path=str(tmp_path / "post.png"), full_page=True)
