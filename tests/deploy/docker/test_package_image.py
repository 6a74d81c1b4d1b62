"""`make package`'s image: built once through `make docker-build`, tagged with the build's version, labelled with
its version and commit, and named by id in the manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import needs_podman, podman

pytestmark = [pytest.mark.live, needs_podman]


def test_make_package_builds_the_labelled_image_the_manifest_names(built_package: tuple[Path, dict[str, Any]]) -> None:
    _, manifest = built_package
    image = manifest["image"]
    assert image["name"] == f"localhost/scaleboard:{manifest['tag']}"
    inspected = json.loads(podman("image", "inspect", image["name"]).stdout)[0]
    assert image["id"] == f"sha256:{inspected['Id'].removeprefix('sha256:')}"
    labels = inspected["Config"]["Labels"]
    assert labels["org.opencontainers.image.version"] == manifest["version"]
    assert labels["org.opencontainers.image.revision"] == manifest["commit"]
