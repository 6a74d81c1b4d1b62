"""A published release (`make publish`) as the release the playbooks ship: `make deploy VERSION=...` and
`make provision VERSION=...` take it instead of building one from the tree.

    python -m deploy.fetch_release --registry registry.example.org/team --version 0.1.0+g1a2b3c4 [--no-tls-verify]

Resolves <registry>/scaleboard-release:<tag> to its digest once (or takes --pinned name@digest) and fetches by
that digest, checking the release's version label, into
.var/releases/<version>/ (the archive, its requirements, the SBOM, the audit, and source.json naming the
digest), then writes .var/releases/release.yml as `make release` does.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from deploy import oci, package, registry, release


class FetchError(RuntimeError):
    """The release cannot be fetched; the message says what to check."""


def resolve(source: str, version: str, tls_verify: bool) -> str:
    """<source>/scaleboard-release:<tag> as name@digest: what a deploy then fetches, whatever the tag does later."""
    reference = f"{source.rstrip('/')}/{package.NAME}-release"
    try:
        return f"{reference}@{checked(f'{reference}:{package.tag_of(version)}', version, tls_verify, 'release')}"
    except registry.RegistryError as exc:
        raise FetchError(f"{reference} has no release {version}: `make publish` it first ({exc})") from None


def image(source: str, version: str, tls_verify: bool) -> str:
    """The published image of `version` (<source>/scaleboard:<tag>) as name@digest: what Kubernetes and compose then
    run, whatever the tag does later."""
    name = f"{source.rstrip('/')}/{package.NAME}"
    tagged = f"{name}:{package.tag_of(version)}"
    try:
        return f"{name}@{checked(tagged, version, tls_verify, 'build')}"
    except registry.RegistryError as exc:
        raise FetchError(f"{tagged} is not published: `make publish` it first ({exc})") from None


def checked(reference: str, version: str, tls_verify: bool, kind: str) -> str:
    """The digest of `reference`, whose version label must be `version`: a digest of another build is refused."""
    found = json.loads(registry.skopeo("inspect", registry.tls(tls_verify), f"docker://{reference}"))
    built = (found.get("Labels") or {}).get("org.opencontainers.image.version")
    if built != version:
        raise FetchError(f"{reference} is {kind} {built}, not {version}")
    return str(found["Digest"])


def fetch(release_ref: str, version: str, tls_verify: bool, releases: Path = release.RELEASES) -> dict[str, str]:
    """The release `release_ref` (name@digest) into releases/<version>/, selected for the next deploy."""
    checked(release_ref, version, tls_verify, "release")
    directory = releases / version
    with tempfile.TemporaryDirectory() as scratch:
        layout = Path(scratch) / "layout"
        registry.skopeo("copy", "--quiet", registry.tls(tls_verify, "src"), f"docker://{release_ref}",
                        f"oci:{layout}:release")  # fmt: skip
        shutil.rmtree(directory, ignore_errors=True)
        files = {path.name for path in oci.extract_layout(layout, directory)}
    if not {"scaleboard.tar.gz", "requirements.txt"} <= files:
        raise FetchError(f"{release_ref} is not a release: it holds {sorted(files)}")
    (directory / "source.json").write_text(json.dumps({"release": release_ref}, indent=2) + "\n")
    fetched = release.variables(version, directory)
    release.select(fetched, releases, f"`deploy.fetch_release` from {release_ref}")
    return {**fetched, "source": release_ref}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", help="where it was published: its tag is resolved to a digest")
    parser.add_argument(
        "--pinned", help="name@digest: exactly this release, or image with --image (make promote passes the staged one)"
    )
    parser.add_argument("--version", required=True)
    parser.add_argument("--no-tls-verify", action="store_true")
    parser.add_argument("--image", action="store_true", help="print the published image as name@digest, fetch nothing")
    args = parser.parse_args(argv)
    if not (args.registry or args.pinned):
        parser.error("say where the release was published: REGISTRY=host[:port][/path]")
    try:
        tls_verify = not args.no_tls_verify
        if args.image and args.pinned:
            print(f"{args.pinned.partition('@')[0]}@{checked(args.pinned, args.version, tls_verify, 'build')}")
            return 0
        if args.image:
            print(image(args.registry, args.version, tls_verify))
            return 0
        fetched = fetch(args.pinned or resolve(args.registry, args.version, tls_verify), args.version, tls_verify)
    except (FetchError, registry.RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"release {fetched['app_release_version']} from {fetched['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
