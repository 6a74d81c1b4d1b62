"""`make fetch-release` (what `make deploy VERSION=...` runs first): a published release, resolved to its digest
once, fetched by it, and made the release the playbooks ship."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy import fetch_release
from tests.deploy.conftest import Published, needs_podman
from tests.harness.requires import needs
from tests.harness.servers import REPO


@pytest.mark.live
@needs_podman
@needs("docker-registry", "skopeo")
def test_a_published_release_becomes_the_one_the_playbooks_ship(published: Published, tmp_path: Path) -> None:
    manifest = published.manifest
    pinned = fetch_release.resolve(published.registry.address, manifest["version"], False)
    assert pinned == published.references["release"]
    fetched = fetch_release.fetch(pinned, manifest["version"], False, releases=tmp_path)
    assert fetched["source"] == pinned
    shipped = yaml.safe_load((tmp_path / "release.yml").read_text())
    assert shipped["app_release_version"] == manifest["version"]
    for key, name in (("app_release_archive", "scaleboard.tar.gz"), ("app_release_requirements", "requirements.txt")):
        digest = "sha256:" + hashlib.sha256(Path(shipped[key]).read_bytes()).hexdigest()
        assert digest == manifest["files"][name], name
    source = json.loads((tmp_path / manifest["version"] / "source.json").read_text())
    assert source == {"release": published.references["release"]}


@pytest.mark.live
@needs_podman
@needs("docker-registry", "skopeo")
def test_a_version_never_published_says_so(published: Published) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "fetch-release", f"REGISTRY={published.registry.address}",
         "VERSION=0.0.1+g0000000", "REGISTRY_TLS_VERIFY=false"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "has no release 0.0.1+g0000000: `make publish` it first" in result.stderr


@pytest.mark.live
@needs_podman
@needs("docker-registry", "skopeo")
def test_a_digest_of_another_version_is_refused(published: Published, tmp_path: Path) -> None:
    expected = rf"is release {re.escape(published.manifest['version'])}, not 9\.9\.9"
    with pytest.raises(fetch_release.FetchError, match=expected):
        fetch_release.fetch(published.references["release"], "9.9.9", False, releases=tmp_path)


@pytest.mark.live
@needs_podman
@needs("docker-registry", "skopeo")
def test_make_fetch_release_takes_exactly_the_pinned_digest(published: Published, tmp_path: Path) -> None:
    """RELEASE_REF (what `make promote` passes): that name@digest, no tag resolved."""
    pinned, version = published.references["release"], published.manifest["version"]
    result = subprocess.run(
        ["make", "--no-print-directory", "fetch-release", f"VERSION={version}", f"RELEASE_REF={pinned}",
         "REGISTRY=unused.invalid", "REGISTRY_TLS_VERIFY=false"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"release {version} from {pinned}" in result.stdout
