"""The release as an OCI image layout: a registry keeps it beside the app's image, under the same tag, and both
are fetched and named by digest.

The layout holds one image manifest whose single layer is a reproducible tar.gz of the release's files (the
archive, its requirements, the SBOM, the audit). Every registry and client takes it (it is an image with no
command), and the same files give the same digest, so `make package` knows it before anything is pushed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from pathlib import Path
from typing import Any

from deploy import release

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _blob(layout: Path, data: bytes) -> dict[str, Any]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest.removeprefix("sha256:")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": digest, "size": len(data)}


def write_layout(layout: Path, files: list[Path], tag: str, annotations: dict[str, str]) -> str:
    """An OCI image layout at `layout` holding `files` (by their names), tagged `tag`; returns the manifest's
    digest, which a registry keeps when the layout is pushed with skopeo's --preserve-digests."""
    base = files[0].parent
    layer = release.archive(files, base=base)
    diff_id = "sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest()
    # The annotations as labels too: `skopeo inspect` shows a config's labels, not a manifest's annotations.
    config = {"architecture": "amd64", "os": "linux", "config": {"Labels": annotations},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]}}  # fmt: skip
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, **_blob(layout, _canonical(config))},
        "layers": [{"mediaType": LAYER, **_blob(layout, layer)}],
        "annotations": annotations,
    }
    described = {"mediaType": MANIFEST, **_blob(layout, _canonical(manifest)),
                 "annotations": {"org.opencontainers.image.ref.name": tag}}  # fmt: skip
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [described]}, indent=2))
    return str(described["digest"])


def extract_layout(layout: Path, target: Path) -> list[Path]:
    """The files of a release layout (as skopeo copied it from the registry) into `target`."""
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(_read(layout, index["manifests"][0]["digest"]))
    (layer,) = manifest["layers"]
    target.mkdir(parents=True, exist_ok=True)
    archive = target / ".layer.tar.gz"
    archive.write_bytes(_read(layout, layer["digest"]))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        tar.extractall(target, filter="data")
    archive.unlink()
    return [target / name for name in names]


def _read(layout: Path, digest: str) -> bytes:
    data = (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise ValueError(f"blob {digest} in {layout} does not match its digest")
    return data
