"""Fixtures shared by the whole suite."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from scaleboard.accounts.models import User
from scaleboard.board import services
from scaleboard.board.models import Post

from deploy.local import stack as local_stack
from deploy.local.stack import manage
from tests.harness.leftovers import scratch_dir
from tests.harness.servers import Gunicorn, free_port_block, production_env, with_database

_names = itertools.count(1)


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str | None = None, password: str = "a-long-test-password") -> User:
        return User.objects.create_user(username=username or f"user{next(_names)}", password=password)

    return make


@pytest.fixture
def make_post(make_user: Callable[..., User]) -> Callable[..., Post]:
    def make(
        author: User | None = None, title: str = "A post", url: str = "https://example.com/a", body: str = ""
    ) -> Post:
        return services.post_create(author=author or make_user(), title=title, url="" if body else url, body=body)

    return make


@pytest.fixture
def user_client(make_user: Callable[..., User]) -> tuple[Client, User]:
    user = make_user()
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture(scope="session")
def live_database(django_db_blocker: Any) -> Iterator[str]:
    """A database of its own for production-settings processes, migrated and seeded by them."""
    name = "scaleboard_live"
    with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    # The suite's DATABASE_URL names the server (tests/conftest.py sets it when it starts the cluster).
    yield with_database(os.environ["DATABASE_URL"], name)
    with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def live_app(live_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """gunicorn with production settings and app/gunicorn.conf.py, like every deploy target runs it."""
    workdir = tmp_path_factory.mktemp("live")
    env = production_env(live_database, workdir / "static", WEB_CONCURRENCY="2")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    manage(env, "seed_demo", "--users", "5", "--posts", "40", "--comments", "120", "--seed", "7")
    server = Gunicorn(env=env, log_path=Path(workdir / "gunicorn.log"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack() -> Iterator[local_stack.Stack]:
    """The local production stack, split topology, 3 app servers, on ports of its own; shared by the
    stack, reliability and load tests (starting it costs ~10 s)."""
    directory = scratch_dir("stack")  # nginx workers and the postgres account read from here when run as root
    base = free_port_block(5)  # nginx, 3 app servers, PostgreSQL
    started = local_stack.up(
        directory,
        topology="split",
        app_servers=3,
        port=base,
        first_app_port=base + 1,
        database_port=base + 4,
        workers=2,
        seed=(5, 60, 200),
        # These tests exercise the app servers behind nginx (balancing, failover, load): without the microcache,
        # which would answer most of their anonymous reads itself. tests/deploy/nginx/test_microcache.py tests it.
        nginx_overrides={"nginx_microcache_enabled": False},
    )
    try:
        yield started
    finally:
        local_stack.down(directory)
        shutil.rmtree(directory, ignore_errors=True)
