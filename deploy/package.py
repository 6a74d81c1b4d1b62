"""`make package`: one build of the checked-out commit, labelled with pyproject.toml's version and the commit.

    python -m deploy.package --engine podman [--no-image] [--audit fail|record] [--out .var/packages]

Writes .var/packages/<version>/ (version e.g. 0.1.0+g1a2b3c4; `.dirty` appended when the tree has uncommitted
changes, which a build meant for release should not have):
  scaleboard.tar.gz, requirements.txt  the release archive and its locked requirements, as `make release` ships
  audit.json                           pip-audit's report of the requirements (deploy/audit.py judges it)
  sbom.cdx.json                        CycloneDX SBOM of the runtime dependencies
  manifest.json                        name, version, commit, build time, each file's sha256, the image's id
and builds the image localhost/scaleboard:<tag> (the version with `-` for `+`, which OCI tags cannot hold)
through `make docker-build`, with the OCI version and revision labels. The audit runs first: a failing one stops
the build before anything is written but its report.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy import audit, defaults, oci, release

ROOT = defaults.ROOT
PACKAGES = ROOT / ".var" / "packages"
NAME = "scaleboard"
BIN = Path(sys.executable).parent


class PackageError(RuntimeError):
    """The build cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Label:
    version: str  # PEP 440: 0.1.0+g1a2b3c4
    commit: str
    dirty: bool

    @property
    def tag(self) -> str:
        return tag_of(self.version)


def tag_of(version: str) -> str:
    """A version as an image tag: OCI tags allow [A-Za-z0-9_.-] only."""
    return version.replace("+", "-")


def git(*args: str, root: Path = ROOT) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackageError(f"`git {' '.join(args)}` failed in {root}: a package is built from a git checkout")
    return result.stdout.strip()


def label(root: Path = ROOT) -> Label:
    commit = git("rev-parse", "HEAD", root=root)
    dirty = bool(git("status", "--porcelain", "--untracked-files=normal", root=root))
    version = f"{defaults.version()}+g{commit[:7]}" + (".dirty" if dirty else "")
    return Label(version, commit, dirty)


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        raise PackageError(f"{name} not found: run `make setup` (it is in the locked `release` group)")
    return found


def write_sbom(requirements: Path, sbom: Path) -> int:
    """CycloneDX JSON of the pinned requirements; returns how many components it lists."""
    # The project is the root component; reproducible: no serial number or timestamp, so a commit's SBOM is one file.
    command = [tool("cyclonedx-py"), "requirements", str(requirements), "--pyproject", str(ROOT / "pyproject.toml"),
               "--mc-type", "application", "--output-format", "JSON", "--output-reproducible",
               "--outfile", str(sbom)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackageError(f"cyclonedx-py failed: {result.stderr.strip()[-2000:]}")
    return len(json.loads(sbom.read_text()).get("components", []))


def build_image(name: str, build: Label, engine: str) -> str:
    """`make docker-build` (the one build command) with the OCI labels; returns the image's id."""
    labels = f"org.opencontainers.image.version={build.version} org.opencontainers.image.revision={build.commit}"
    result = subprocess.run(["make", "--no-print-directory", "docker-build", f"IMAGE={name}",
                             f"IMAGE_LABELS={labels}"], cwd=ROOT, check=False)  # fmt: skip
    if result.returncode != 0:
        raise PackageError("`make docker-build` failed (see above); fix that, then run `make package` again")
    inspected = subprocess.run([engine, "image", "inspect", "--format", "{{.Id}}", name], capture_output=True,
                               text=True, check=True)  # fmt: skip
    image_id = inspected.stdout.strip()
    return image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"


def package(out: Path, engine: str | None, unaudited: str) -> dict[str, Any]:
    build = label()
    directory = out / build.version
    directory.mkdir(parents=True, exist_ok=True)
    requirements = release.locked_requirements()
    (directory / "requirements.txt").write_text(requirements)
    report = audit.run_pip_audit(directory / "requirements.txt", directory / "audit.json", tool("pip-audit"))
    audited = audit.judge(report, audit.load_allowlist(), datetime.date.today(), unaudited)
    components = write_sbom(directory / "requirements.txt", directory / "sbom.cdx.json")
    release.write(build.version, directory, release.app_files(), requirements)
    files = ("scaleboard.tar.gz", "requirements.txt", "sbom.cdx.json", "audit.json")
    layout = directory / "release.oci"
    shutil.rmtree(layout, ignore_errors=True)
    annotations = {"org.opencontainers.image.title": f"{NAME} release", "org.opencontainers.image.version":
                   build.version, "org.opencontainers.image.revision": build.commit}  # fmt: skip
    release_digest = oci.write_layout(layout, [directory / name for name in files], build.tag, annotations)
    image = None
    if engine:
        name = f"localhost/{NAME}:{build.tag}"
        image = {"name": name, "id": build_image(name, build, engine)}
    manifest = {
        "name": NAME,
        "version": build.version,
        "tag": build.tag,
        "commit": build.commit,
        "dirty": build.dirty,
        "built_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "files": {name: sha256(directory / name) for name in files},
        "image": image,
        # The files above as one OCI artifact (release.oci), the same digest in any registry it is pushed to.
        "release": {"layout": layout.name, "digest": release_digest},
        "sbom": {"format": "CycloneDX", "components": components},
        "audit": audited,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", help="podman or docker: builds the image (omit with --no-image)")
    parser.add_argument("--no-image", action="store_true", help="the archive, SBOM and audit only")
    parser.add_argument("--audit", choices=["fail", "record"], default="fail",
                        help="dependencies pip-audit could not look up: fail (default), or record them")  # fmt: skip
    parser.add_argument("--out", type=Path, default=PACKAGES)
    parser.add_argument("--print-version", action="store_true", help="print this commit's version, build nothing")
    args = parser.parse_args(argv)
    if args.print_version:
        print(label().version)
        return 0
    if not (args.engine or args.no_image):
        parser.error("say which engine builds the image (--engine podman), or --no-image")
    try:
        manifest = package(args.out, None if args.no_image else args.engine, args.audit)
    except (PackageError, audit.AuditError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"package {manifest['version']}: {args.out / manifest['version'] / 'manifest.json'}")
    if manifest["image"]:
        print(f"image {manifest['image']['name']} {manifest['image']['id']}")
    if manifest["audit"]["unaudited"]:
        print(f"WARNING: {len(manifest['audit']['unaudited'])} dependencies were not audited (AUDIT=record): "
              "see the manifest")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
