from __future__ import annotations

import json
import logging
import sys

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import OperationalError
from django.test import Client, RequestFactory
from scaleboard.board.models import Post
from scaleboard.ops.logging import JsonFormatter, RequestIdFilter
from scaleboard.ops.views import _Migrations, server_error


def test_healthz_answers_any_host_without_the_database(client: Client) -> None:
    # No django_db mark: pytest-django makes any database access in this test an error.
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_unknown_hosts_are_refused_elsewhere(client: Client) -> None:
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400


@pytest.mark.django_db
def test_readyz_when_ready(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a just-started app server: it has not yet seen its migrations applied."""
    monkeypatch.setattr(_Migrations, "all_applied", False)


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_process")
def test_readyz_reports_unapplied_migrations_to_operators_only(client: Client) -> None:
    # Forget one applied migration (inside the test's transaction) so the plan has work to do.
    MigrationRecorder.Migration.objects.filter(app="board", name="0001_initial").delete()
    response = client.get("/readyz")  # the test client's address, 127.0.0.1, is in METRICS_ALLOWED_NETWORKS
    assert response.status_code == 503
    assert "board.0001_initial" in response.json()["reason"]
    elsewhere = client.get("/readyz", REMOTE_ADDR="203.0.113.9")
    assert elsewhere.status_code == 503
    assert "0001" not in elsewhere.json()["reason"]


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_process")
def test_readyz_builds_the_migration_graph_until_all_are_applied(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/readyz").status_code == 200
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda *args: pytest.fail("graph built again"))
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_database_errors_become_503(rf: RequestFactory) -> None:
    default = connections["default"]
    broken = default.__class__({**default.settings_dict, "NAME": "no_such_database"}, alias="broken")
    # handler500 runs inside Django's `except` block, so the error is the one being handled.
    try:
        broken.ensure_connection()
    except OperationalError:
        page, api = server_error(rf.get("/")), server_error(rf.get("/api/posts"))
    else:
        pytest.fail("connecting to a missing database should fail")
    assert (page.status_code, api.status_code) == (503, 503)
    assert page["Retry-After"] == "5"
    assert b"database is unavailable" in page.content
    assert "unavailable" in json.loads(api.content)["error"]


def test_other_errors_stay_500(rf: RequestFactory) -> None:
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/"))
    assert response.status_code == 500


@pytest.mark.django_db
def test_metrics_count_requests_by_view(client: Client) -> None:
    client.get("/new")
    body = client.get("/metrics").content.decode()
    assert 'scaleboard_http_requests_total{method="GET",status="200",view="board:new"}' in body
    assert "scaleboard_db_query_duration_seconds_count" in body


@pytest.mark.django_db
def test_unknown_methods_share_one_label(client: Client) -> None:
    for method in ("FOOBAR", "PROPFIND", "XYZZY"):
        assert client.generic(method, "/").status_code == 405
    body = client.get("/metrics").content.decode()
    assert 'method="other",status="405",view="board:hot"} 3.0' in body
    assert not [name for name in ("FOOBAR", "PROPFIND", "XYZZY") if f'method="{name}"' in body]


def test_metrics_refused_outside_allowed_networks(client: Client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    # X-Forwarded-For is not trusted for this decision.
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="not-an-ip").status_code == 403
    # No peer address is a Unix socket's peer only when gunicorn is bound to one (test_live_gunicorn.py).
    assert client.get("/metrics", REMOTE_ADDR="").status_code == 403


def test_prometheus_scrapes_by_address_whatever_allowed_hosts_says(client: Client) -> None:
    """Prometheus sends the target's address as Host (an app server's, a pod's): never in ALLOWED_HOSTS."""
    scraped = client.get("/metrics", HTTP_HOST="10.77.0.21:8000", REMOTE_ADDR="127.0.0.1")
    assert scraped.status_code == 200
    assert b"scaleboard_http_requests_total" in scraped.content
    assert client.get("/metrics", HTTP_HOST="10.77.0.21:8000", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert client.post("/metrics", HTTP_HOST="10.77.0.21:8000", REMOTE_ADDR="127.0.0.1").status_code == 405


def test_request_id_is_echoed_or_generated(client: Client) -> None:
    assert client.get("/healthz").get("X-Request-ID") is None  # health checks bypass everything
    echoed = client.get("/search", HTTP_X_REQUEST_ID="lb-abc.123")
    assert echoed["X-Request-ID"] == "lb-abc.123"
    generated = client.get("/search", HTTP_X_REQUEST_ID="bad id with spaces\n")
    assert len(generated["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_request_log_line_is_json_with_the_request_id(client: Client, capfd: pytest.CaptureFixture[str]) -> None:
    client.get("/new", HTTP_X_REQUEST_ID="trace-me")
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    line = next(item for item in lines if item["logger"] == "scaleboard.request")
    assert line["request_id"] == "trace-me"
    assert (line["status"], line["path"]) == (200, "/new")


def test_json_formatter_includes_exceptions() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed here"
    assert "RuntimeError: boom" in line["exception"]
    assert line["request_id"] == "-"


def test_post_model_str_and_domain() -> None:
    assert Post(title="T", url="https://www.example.com/a").domain == "example.com"
    assert str(Post(title="T")) == "T"
