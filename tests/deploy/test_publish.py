"""`make publish`: a package's image and release reach a real registry (Debian's docker-registry) by digest, and
come back from it byte for byte."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from deploy import oci, publish
from tests.deploy.conftest import Published, needs_podman
from tests.harness.requires import needs


@pytest.mark.live
@needs_podman
@needs("docker-registry", "skopeo")
def test_make_publish_pushes_the_image_and_the_release_by_digest(published: Published, tmp_path: Path) -> None:
    manifest, references, registry = published.manifest, published.references, published.registry
    # The release keeps the digest the package named before it was pushed; both are tagged with the build.
    assert references["release"] == f"{registry.address}/scaleboard-release@{manifest['release']['digest']}"
    # (Other tests publish other builds to the same registry.)
    assert manifest["tag"] in registry.tags("scaleboard")
    assert manifest["tag"] in registry.tags("scaleboard-release")
    assert references["image"] in published.output
    # The image, fetched by its digest, is this commit's build.
    inspected = json.loads(skopeo("inspect", f"docker://{references['image']}"))
    assert inspected["Digest"] == references["image"].rsplit("@", 1)[1]
    assert inspected["Labels"]["org.opencontainers.image.revision"] == manifest["commit"]
    # The release, fetched by its digest, holds the package's files byte for byte.
    skopeo("copy", f"docker://{references['release']}", f"oci:{tmp_path / 'fetched'}:fetched")
    files = {path.name: path for path in oci.extract_layout(tmp_path / "fetched", tmp_path / "files")}
    assert sorted(files) == sorted(manifest["files"])
    for name, digest in manifest["files"].items():
        assert "sha256:" + hashlib.sha256(files[name].read_bytes()).hexdigest() == digest, name


def skopeo(*args: str) -> str:
    command, rest = args[0], args[1:]
    tls = ["--src-tls-verify=false"] if command == "copy" else ["--tls-verify=false"]
    result = subprocess.run(["skopeo", command, *tls, *rest], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_build_of_uncommitted_changes_is_refused(tmp_path: Path) -> None:
    version = "0.1.0+g1a2b3c4.dirty"
    (tmp_path / version).mkdir()
    (tmp_path / version / "manifest.json").write_text(json.dumps({"version": version, "dirty": True, "image": None}))
    with pytest.raises(publish.PublishError, match="built from uncommitted changes: commit them, then `make package`"):
        publish.publish("registry.test", version, True, tmp_path)


def test_a_missing_package_says_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(publish.PublishError, match=r"no package 0.1.0\+gabcdef0 .*run `make package` first"):
        publish.publish("registry.test", "0.1.0+gabcdef0", True, tmp_path)
