"""`make stage`, `make promote`, `make rollback-promotion`: a published build goes to staging, is smoke-checked
there, and only that build, by the digests staging resolved, goes to production; the promotion before it is one
command away. A place is where a build runs:
  lab, aws, ...   an Ansible inventory: its servers get the build's release (make deploy RELEASE_REF=...)
  compose         the compose stack on this machine: the build's image (make compose-up IMAGE_REF=...)
  k8s/<overlay>   a kustomize overlay: the build's image (make k8s-deploy OVERLAY=... IMAGE_REF=...)
Records in .var/delivery/:
  staged.json     the last build that passed staging: version, its release and image as name@digest, place, URL
  promoted.json   every promotion, newest last: version, both name@digest, commit, place, time

    python -m deploy.delivery stage --version V --registry R --to lab --url http://10.77.0.10
    python -m deploy.delivery promote --version V --to aws
    python -m deploy.delivery rollback --to aws
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from deploy import defaults, fetch_release, registry

DELIVERY = defaults.ROOT / ".var" / "delivery"


class DeliveryError(RuntimeError):
    """A step failed or may not run; the message says what to do."""


def make(*args: str) -> None:
    """A make target of this repository, its output passed through; DeliveryError if it fails."""
    if subprocess.run(["make", "--no-print-directory", *args], cwd=defaults.ROOT, check=False).returncode != 0:
        raise DeliveryError(f"`make {' '.join(args)}` failed (see above)")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def on_servers(place: str) -> bool:
    """An Ansible inventory, not compose or a Kubernetes overlay."""
    return place != "compose" and not place.startswith("k8s/")


def deploy(place: str, build: dict[str, Any], tls_verify: bool) -> None:
    """`build` (its version, release and image by name@digest) to `place`: servers take the release, containers the
    image; nothing is resolved from a tag again."""
    pinned = [f"VERSION={build['version']}", *([] if tls_verify else ["REGISTRY_TLS_VERIFY=false"])]
    if on_servers(place):
        make("deploy", f"INVENTORY={place}", *pinned, f"RELEASE_REF={build['release']}")
    elif place == "compose":
        make("compose-up", *pinned, f"IMAGE_REF={build['image']}")
    else:
        make("k8s-deploy", f"OVERLAY={place.removeprefix('k8s/')}", *pinned, f"IMAGE_REF={build['image']}")


def promotions(records: Path) -> list[dict[str, Any]]:
    """promoted.json, oldest first (empty before the first promotion)."""
    path = records / "promoted.json"
    return list(json.loads(path.read_text())) if path.exists() else []


def stage(version: str, source: str, place: str, url: str, tls_verify: bool, records: Path) -> dict[str, Any]:
    """Resolve both halves of published `version` to their digests once, run them on `place`, smoke-check `url`."""
    try:
        build = {"version": version, "release": fetch_release.resolve(source, version, tls_verify),
                 "image": fetch_release.image(source, version, tls_verify)}  # fmt: skip
    except (fetch_release.FetchError, registry.RegistryError) as exc:
        raise DeliveryError(str(exc)) from None
    deploy(place, build, tls_verify)
    make("smoke", f"URL={url}")
    staged = {**build, "place": place, "url": url, "staged_at": now()}
    records.mkdir(parents=True, exist_ok=True)
    (records / "staged.json").write_text(json.dumps(staged, indent=2) + "\n")
    return staged


def promote(version: str, place: str, tls_verify: bool, records: Path) -> dict[str, Any]:
    staged_file = records / "staged.json"
    staged = json.loads(staged_file.read_text()) if staged_file.exists() else {}
    if staged.get("version") != version:
        raise DeliveryError(f"{version} has not passed staging (last staged: {staged.get('version', 'none')}): "
                            f"make stage VERSION={version} first")  # fmt: skip
    # Exactly what staging ran: the digests, not the tag, which may have been pushed again since.
    deploy(place, staged, tls_verify)
    promoted = {"version": version, "release": staged["release"], "image": staged["image"],
                "commit": commit_of(version), "place": place, "promoted_at": now()}  # fmt: skip
    (records / "promoted.json").write_text(json.dumps([*promotions(records), promoted], indent=2) + "\n")
    return promoted


def rollback(place: str, tls_verify: bool, records: Path) -> dict[str, Any]:
    """Back to the promotion before the current one on `place`, by its digests; recorded as a promotion too (so a
    second rollback returns to where the first started, like `helm rollback`)."""
    history = promotions(records)
    here = [entry for entry in history if entry["place"] == place]
    if len(here) < 2:
        hint = f" (servers still keep older releases: make rollback INVENTORY={place})" if on_servers(place) else ""
        raise DeliveryError(f"{place} has had {len(here)} promotion(s): nothing promoted before to return to{hint}")
    current, previous = here[-1], here[-2]
    deploy(place, previous, tls_verify)
    back = {**previous, "promoted_at": now(), "rolled_back_from": current["version"]}
    (records / "promoted.json").write_text(json.dumps([*history, back], indent=2) + "\n")
    return back


def commit_of(version: str) -> str:
    """The commit a package version names (0.1.0+g1a2b3c4 -> 1a2b3c4)."""
    return version.rpartition("+g")[2].split(".")[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["stage", "promote", "rollback"])
    parser.add_argument("--version", default="")
    parser.add_argument("--registry", default="")
    parser.add_argument("--to", required=True, help="the place: an inventory, compose, or k8s/<overlay>")
    parser.add_argument("--url", default="")
    parser.add_argument("--no-tls-verify", action="store_true")
    parser.add_argument("--records", type=Path, default=DELIVERY)
    args = parser.parse_args(argv)
    if not args.version and args.command != "rollback":
        parser.error("say which published version: VERSION=0.1.0+g1a2b3c4")
    try:
        if args.command == "stage":
            if not (args.registry and args.url):
                parser.error("stage needs REGISTRY (where VERSION was published) and STAGE_URL (the staged site)")
            done = stage(args.version, args.registry, args.to, args.url, not args.no_tls_verify, args.records)
            print(f"staged {done['version']} ({done['release']}, {done['image']}) on {done['place']}: smoke passed")
        elif args.command == "promote":
            done = promote(args.version, args.to, not args.no_tls_verify, args.records)
            print(f"promoted {done['version']} to {done['place']}")
        else:
            done = rollback(args.to, not args.no_tls_verify, args.records)
            print(f"rolled {done['place']} back from {done['rolled_back_from']} to {done['version']}")
    except DeliveryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
