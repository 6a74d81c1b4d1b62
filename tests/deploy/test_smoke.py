"""`make smoke`'s check against gunicorn with production settings: every step passes on a working site, and a
site that does not answer fails at the first step, named."""

from __future__ import annotations

import pytest

from deploy import smoke
from tests.harness.servers import Gunicorn, free_port

pytestmark = pytest.mark.live


def test_a_working_site_passes_every_step(live_app: Gunicorn) -> None:
    timings = smoke.run(live_app.url("").rstrip("/"))
    assert [what for what, _ in timings] == ["/readyz", "sign up", "sign in", "submit a post", "vote on it"]


def test_a_site_that_does_not_answer_fails_at_readyz() -> None:
    with pytest.raises(smoke.SmokeError, match=r"^/readyz: no answer"):
        smoke.run(f"http://127.0.0.1:{free_port()}")


def test_only_http_urls_are_checked() -> None:
    with pytest.raises(smoke.SmokeError, match="is not an http"):
        smoke.run("file:///etc/passwd")
