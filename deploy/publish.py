"""`make publish REGISTRY=...`: push one package (`make package`) to a registry, both halves by digest.

    python -m deploy.publish --registry registry.example.org/team [--version 0.1.0+g1a2b3c4] [--no-tls-verify]

The image goes to <registry>/scaleboard:<tag>, the release (the archive Ansible ships, its requirements, the SBOM
and the audit, as one OCI artifact: deploy/oci.py) to <registry>/scaleboard-release:<tag>, with the digest the
package already names. Both digests are written to the package's published.json and printed: deploys name them,
never a tag. A build of an unclean tree (`.dirty`) is refused: it names no commit.
Client: skopeo (Debian's package), reading the image from podman's local storage.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from deploy import package, registry


class PublishError(RuntimeError):
    """Publishing cannot go on; the message says what to do."""


def skopeo_copy(source: str, destination: str, tls_verify: bool, *options: str) -> str:
    """skopeo copy; returns the digest the destination registry gave the manifest."""
    with tempfile.TemporaryDirectory() as scratch:
        digest_file = Path(scratch) / "digest"
        try:
            registry.skopeo("copy", "--quiet", registry.tls(tls_verify, "dest"), "--digestfile", str(digest_file),
                            *options, source, destination)  # fmt: skip
        except registry.RegistryError as exc:
            raise PublishError(f"could not push to {destination}: {exc}") from None
        return digest_file.read_text().strip()


def load(version: str | None, packages: Path) -> tuple[Path, dict[str, Any]]:
    version = version or package.label().version
    manifest_file = packages / version / "manifest.json"
    if not manifest_file.exists():
        raise PublishError(f"no package {version} in {packages}: run `make package` first (on that commit)")
    manifest = dict(json.loads(manifest_file.read_text()))
    if manifest["dirty"]:
        raise PublishError(f"{version} was built from uncommitted changes: commit them, then `make package`")
    if not manifest["image"]:
        raise PublishError(f"{version} has no image (built with NO_IMAGE=1): run `make package` again with an engine")
    return manifest_file.parent, manifest


def publish(to: str, version: str | None, tls_verify: bool, packages: Path) -> dict[str, Any]:
    directory, manifest = load(version, packages)
    to = to.rstrip("/")
    tag = manifest["tag"]
    image = skopeo_copy(f"containers-storage:{manifest['image']['name']}", f"docker://{to}/{package.NAME}:{tag}",
                        tls_verify)  # fmt: skip
    # The layout's manifest goes up byte for byte, so the registry's digest is the one the package named.
    release = skopeo_copy(f"oci:{directory / manifest['release']['layout']}:{tag}",
                          f"docker://{to}/{package.NAME}-release:{tag}", tls_verify, "--preserve-digests")  # fmt: skip
    if release != manifest["release"]["digest"]:
        raise PublishError(f"{to} stored the release as {release}, not {manifest['release']['digest']}")
    published = {
        "version": manifest["version"],
        "commit": manifest["commit"],
        "image": f"{to}/{package.NAME}@{image}",
        "release": f"{to}/{package.NAME}-release@{release}",
        "published_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    record = directory / "published.json"
    previous = json.loads(record.read_text()) if record.exists() else {}
    record.write_text(json.dumps({**previous, to: published}, indent=2) + "\n")
    return published


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", required=True, help="host[:port][/path], e.g. ghcr.io/owner")
    parser.add_argument("--version", help="the package's version (default: the checked-out commit's)")
    parser.add_argument("--no-tls-verify", action="store_true", help="a registry on plain HTTP or a private CA")
    parser.add_argument("--packages", type=Path, default=package.PACKAGES)
    args = parser.parse_args(argv)
    if not args.registry:
        parser.error("say where to publish: make publish REGISTRY=host[:port][/path]")
    try:
        published = publish(args.registry, args.version, not args.no_tls_verify, args.packages)
    except (PublishError, package.PackageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"published {published['version']}\n  image   {published['image']}\n  release {published['release']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
