"""Jinja2 as every config template of the repo is rendered (nginx, Prometheus): a missing variable is an error,
never an empty string, and nothing is HTML-escaped."""

from __future__ import annotations

from pathlib import Path

import jinja2


def environment(directory: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - config files, not HTML
    )
