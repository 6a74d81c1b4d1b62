"""Render the one nginx template with deploy/nginx/defaults.yml plus overrides.

    python -m deploy.nginx.render site --set nginx_upstream_servers='["127.0.0.1:8001"]' > site.conf
    python -m deploy.nginx.render main --set nginx_runtime_dir=/tmp/x --set nginx_site_config=/tmp/x/site.conf

Values given with --set are YAML (so lists and numbers keep their type).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import jinja2
import yaml

from deploy.templating import environment

HERE = Path(__file__).resolve().parent
TEMPLATES = {"site": "site.conf.j2", "main": "main.conf.j2"}
# Variables main.conf.j2 needs that servers with a packaged nginx never set.
MAIN_DEFAULTS: dict[str, Any] = {
    "nginx_user": "",
    "nginx_worker_processes": "auto",
    "nginx_mime_types": "/etc/nginx/mime.types",
}


def defaults() -> dict[str, Any]:
    loaded = yaml.safe_load((HERE / "defaults.yml").read_text())
    return dict(loaded)


def render(which: str, **overrides: Any) -> str:
    """The rendered config; unknown or missing variables are errors, never silently empty."""
    known = {**defaults(), **MAIN_DEFAULTS}
    unknown = sorted(set(overrides) - set(known) - {"nginx_runtime_dir", "nginx_site_config"})
    if unknown:
        raise ValueError(f"unknown nginx template variables: {', '.join(unknown)}")
    variables = {**known, **overrides}
    if which == "site" and not variables["nginx_upstream_servers"]:
        raise ValueError("nginx_upstream_servers needs at least one app server")
    return environment(HERE).get_template(TEMPLATES[which]).render(**variables)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=sorted(TEMPLATES))
    parser.add_argument("--set", action="append", default=[], metavar="NAME=YAML", help="override a variable")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, sep, raw = item.partition("=")
        if not sep:
            parser.error(f"--set needs NAME=VALUE, got {item!r}")
        overrides[name] = yaml.safe_load(raw)
    try:
        sys.stdout.write(render(args.which, **overrides))
    except (ValueError, jinja2.UndefinedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
