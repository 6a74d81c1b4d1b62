"""The one nginx template: renders for every shape of target, and nginx itself accepts each render."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from config.env import value
from django.conf import settings

from deploy.nginx.render import defaults, render
from tests.harness.requires import needs
from tests.harness.servers import REPO

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
needs_nginx = needs("nginx")


def nginx_accepts(workdir: Path, **site: object) -> subprocess.CompletedProcess[str]:
    """Render site + main into workdir and run `nginx -t` on them."""
    site.setdefault("nginx_upstream_servers", ["127.0.0.1:8000"])
    site.setdefault("nginx_access_log", str(workdir / "access.log"))
    site.setdefault("nginx_error_log", str(workdir / "error.log"))
    site.setdefault("nginx_microcache_path", str(workdir / "microcache"))
    (workdir / "site.conf").write_text(render("site", **site))
    main = render(
        "main",
        nginx_runtime_dir=str(workdir),
        nginx_site_config=str(workdir / "site.conf"),
        nginx_error_log=str(workdir / "error.log"),
    )
    (workdir / "nginx.conf").write_text(main)
    command = [
        NGINX,
        "-t",
        "-p",
        str(workdir),
        "-e",
        str(workdir / "error.log"),
        "-c",
        str(workdir / "nginx.conf"),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


@needs_nginx
@pytest.mark.parametrize(
    "upstreams",
    [
        ["127.0.0.1:8000"],
        ["10.0.1.11:8000", "10.0.1.12:8000", "10.0.1.13:8000"],
        ["unix:/run/scaleboard.sock"],
    ],
)
def test_rendered_site_passes_nginx_t(workdir: Path, upstreams: list[str]) -> None:
    result = nginx_accepts(workdir, nginx_upstream_servers=upstreams, nginx_listen_port=18080)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


@needs_nginx
def test_tls_variant_passes_nginx_t(workdir: Path) -> None:
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    result = nginx_accepts(
        workdir,
        nginx_tls_enabled=True,
        nginx_tls_port=18443,
        nginx_listen_port=18080,
        nginx_tls_certificate=str(cert),
        nginx_tls_certificate_key=str(key),
        nginx_acme_webroot=str(workdir / "acme"),
    )
    assert result.returncode == 0, result.stderr
    site = (workdir / "site.conf").read_text()
    assert "return 301 https://$host$request_uri;" in site
    # certbot's HTTP-01 answers are served on plain HTTP, ahead of the redirect.
    assert site.index(f"root {workdir / 'acme'};") < site.index("return 301")
    # HSTS has one source, Django's DJANGO_HSTS_SECONDS; a second header from nginx would disagree with it.
    assert "add_header Strict-Transport-Security" not in site


def test_every_upstream_is_listed_with_failover_settings() -> None:
    site = render("site", nginx_upstream_servers=["10.0.1.11:8000", "10.0.1.12:8000"])
    assert "server 10.0.1.11:8000 max_fails=3 fail_timeout=10s;" in site
    assert "server 10.0.1.12:8000 max_fails=3 fail_timeout=10s;" in site
    assert "proxy_next_upstream error timeout http_502 http_504;" in site


def test_body_limit_agrees_with_the_env_contract() -> None:
    assert defaults()["nginx_client_max_body_size"] == value("DJANGO_MAX_BODY_BYTES")


def test_idle_upstream_connections_close_before_gunicorn_closes_them() -> None:
    assert int(defaults()["nginx_upstream_keepalive_timeout"].removesuffix("s")) < value("GUNICORN_KEEPALIVE")


def test_microcache_bypass_cookies_are_djangos() -> None:
    assert defaults()["nginx_microcache_bypass_cookies"] == [settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME]


@needs_nginx
def test_microcache_can_be_turned_off(workdir: Path) -> None:
    result = nginx_accepts(workdir, nginx_microcache_enabled=False, nginx_listen_port=18080)
    assert result.returncode == 0, result.stderr
    assert "proxy_cache" not in (workdir / "site.conf").read_text()


def test_forwarded_proto_is_trusted_only_when_asked() -> None:
    upstream = ["127.0.0.1:8000"]
    assert "$http_x_forwarded_proto" not in render("site", nginx_upstream_servers=upstream)
    assert "map $http_x_forwarded_proto" in render(
        "site", nginx_upstream_servers=upstream, nginx_trust_forwarded_proto=True
    )


def test_bad_variables_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown nginx template variables: nginx_upstreams"):
        render("site", nginx_upstreams=["x"])
    with pytest.raises(ValueError, match="at least one app server"):
        render("site", nginx_upstream_servers=[])


def test_command_line_renders_with_yaml_values() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.nginx.render", "site", "--set", "nginx_upstream_servers=[10.9.9.9:8000]"],
        cwd=REPO, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "server 10.9.9.9:8000" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "deploy.nginx.render", "site", "--set", "nginx_nope=1"],
        cwd=REPO, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "unknown nginx template variables" in bad.stderr
