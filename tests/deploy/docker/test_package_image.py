"""`make package`'s image: built once through `make docker-build`, tagged with the build's version, labelled with
its version and commit, and named by id in the manifest."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import BASE_IMAGE, ENV, needs_podman, podman
from tests.harness.checkout import UV, committed_copy
from tests.harness.servers import REPO

pytestmark = [pytest.mark.live, needs_podman]


def test_make_package_builds_the_labelled_image_the_manifest_names(app_image: str, tmp_path: Path) -> None:
    # app_image: the local base image exists, and the layers below the app are cached.
    root = committed_copy(tmp_path)
    out = tmp_path / "packages"
    result = subprocess.run(
        [str(REPO / ".venv/bin/python"), "-m", "deploy.package", "--engine", "podman", "--audit", "record",
         "--out", str(out)],
        cwd=root, env={**ENV, "BASE_IMAGE": BASE_IMAGE, "UV": UV}, capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (manifest_file,) = out.glob("*/manifest.json")
    manifest = json.loads(manifest_file.read_text())
    image = manifest["image"]
    try:
        assert image["name"] == f"localhost/scaleboard:{manifest['tag']}"
        inspected = json.loads(podman("image", "inspect", image["name"]).stdout)[0]
        assert image["id"] == f"sha256:{inspected['Id'].removeprefix('sha256:')}"
        labels = inspected["Config"]["Labels"]
        assert labels["org.opencontainers.image.version"] == manifest["version"]
        assert labels["org.opencontainers.image.revision"] == manifest["commit"]
    finally:
        podman("rmi", "--force", image["name"], check=False)
