"""`make profile-page`: pages served in process, their CPU time measured, the profile split by layer."""

from __future__ import annotations

import cProfile
import pstats
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.handlers.wsgi import WSGIHandler
from scaleboard.board.models import Post

from loadtest.bench_app import PORTS
from loadtest.profile_page import (
    LAYERS,
    ProfileError,
    cpu_ms_per_request,
    get,
    layer_shares,
    profiled,
    top_functions,
)
from tests.harness.requires import needs
from tests.loadtest.conftest import run_bench

TEMPLATES, DATABASE, DJANGO, APP = (name for name, _ in LAYERS)


# Transactional: the WSGI handler closes the connection after each request, as under gunicorn.
@pytest.mark.django_db(transaction=True)
def test_a_page_is_profiled_by_layer(make_post: Callable[..., Post]) -> None:
    for number in range(35):
        make_post(title=f"Post {number}")
    application = WSGIHandler()

    assert get(application, "/").count(b'class="post"') == 30
    figures = cpu_ms_per_request(application, "/", requests=5, rounds=3)
    assert len(figures) == 3
    assert figures == sorted(figures)
    assert figures[0] > 0

    stats = profiled(application, "/", requests=5)
    shares = layer_shares(stats)
    assert sum(shares.values()) == pytest.approx(1.0)
    for layer in (TEMPLATES, DATABASE, DJANGO, APP):
        assert shares[layer] > 0, shares
    top = top_functions(stats, 10, requests=5)
    assert len(top) == 10
    assert [share for _, _, share in top] == sorted((share for _, _, share in top), reverse=True)
    assert any("escape" in name and calls >= 30 for name, calls, _ in top)  # at least one per row of 30


@pytest.mark.django_db(transaction=True)
def test_a_page_that_does_not_answer_200_is_an_error() -> None:
    with pytest.raises(ProfileError, match="/post/999999 answered 404"):
        get(WSGIHandler(), "/post/999999")


def test_built_ins_count_for_the_layer_that_called_them() -> None:
    # A "template" module (by its file name) whose time is nearly all in a built-in it calls.
    code = compile("def render():\n    return sorted(range(200_000), key=abs)\n", "/x/jinja2/fake.py", "exec")
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102 - our own two lines, compiled under a file name the layers know
    profile = cProfile.Profile(time.process_time)
    profile.runcall(namespace["render"])  # type: ignore[arg-type]
    shares = layer_shares(pstats.Stats(profile))
    assert shares[TEMPLATES] > 0.99, shares


def _profile_page(bench_dirs: tuple[Path, Path], pages: str) -> subprocess.CompletedProcess[str]:
    # The test database's DATABASE_URL stays in the environment: the tool must use its own stack's.
    return run_bench("loadtest.profile_page", bench_dirs, PYTHONPATH="app", REQUESTS="5", SEED_POSTS="300", PAGES=pages)


@pytest.mark.live
@needs("nginx")
def test_quick_profile_page_reports_every_page_and_takes_its_stack_down(bench_dirs: tuple[Path, Path]) -> None:
    stack_dir, reports = bench_dirs
    result = _profile_page(bench_dirs, "/ post /api/posts")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (out,) = reports.iterdir()
    report = (out / "profile.md").read_text()
    assert "production settings" in report
    assert "| / |" in report
    assert "| /post/" in report
    assert "| /api/posts |" in report
    assert f"| {TEMPLATES} |" in report
    assert not (stack_dir / "state.json").exists()

    missing = _profile_page(bench_dirs, "/ /no-such-page")
    assert missing.returncode == 1
    assert "/no-such-page answered 404" in missing.stderr
    assert not (stack_dir / "state.json").exists()  # taken down after the error too


def test_a_taken_port_stops_it_with_a_message_before_anything_starts(bench_dirs: tuple[Path, Path]) -> None:
    stack_dir, _ = bench_dirs
    with socket.socket() as taken:
        # As servers bind: a bench run just before leaves connections to this port in TIME_WAIT.
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            taken.bind(("127.0.0.1", PORTS))
        except OSError:
            pytest.skip(f"port {PORTS} is in use here (is a bench running?); this test needs to hold it")
        taken.listen()
        result = _profile_page(bench_dirs, "/")
    assert result.returncode == 1
    assert f"port(s) in use: {PORTS}" in result.stderr
    assert "one at a time" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (stack_dir / "postgres").exists()  # no database was created
