"""`make stage`, `make promote`, `make rollback-promotion`: a published release goes to staging, is smoke-checked
there, and only that release, by the digest staging ran, goes to production; the promotion before it is one
command away. Records in .var/delivery/:
  staged.json     the last release that passed staging: version, name@digest, inventory, URL, time
  promoted.json   every promotion, newest last: version, name@digest, commit, inventory, time

    python -m deploy.delivery stage --version V --registry R --inventory lab --url http://10.77.0.10
    python -m deploy.delivery promote --version V --inventory aws
    python -m deploy.delivery rollback --inventory aws
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from deploy import defaults, release

DELIVERY = defaults.ROOT / ".var" / "delivery"


class DeliveryError(RuntimeError):
    """A step failed or may not run; the message says what to do."""


def make(*args: str) -> None:
    """A make target of this repository, its output passed through; DeliveryError if it fails."""
    if subprocess.run(["make", "--no-print-directory", *args], cwd=defaults.ROOT, check=False).returncode != 0:
        raise DeliveryError(f"`make {' '.join(args)}` failed (see above)")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def deploy(inventory: str, version: str, tls_verify: bool, *source: str) -> None:
    """`make deploy` of a published release: from REGISTRY=... (its tag resolved) or RELEASE_REF=name@digest."""
    make("deploy", f"INVENTORY={inventory}", f"VERSION={version}", *source,
         *([] if tls_verify else ["REGISTRY_TLS_VERIFY=false"]))  # fmt: skip


def promotions(records: Path) -> list[dict[str, Any]]:
    """promoted.json, oldest first (empty before the first promotion)."""
    path = records / "promoted.json"
    return list(json.loads(path.read_text())) if path.exists() else []


def stage(version: str, registry: str, inventory: str, url: str, tls_verify: bool, records: Path) -> dict[str, Any]:
    deploy(inventory, version, tls_verify, f"REGISTRY={registry}")
    make("smoke", f"URL={url}")
    source = json.loads((release.RELEASES / version / "source.json").read_text())["release"]
    staged = {"version": version, "release": source, "inventory": inventory, "url": url, "staged_at": now()}
    records.mkdir(parents=True, exist_ok=True)
    (records / "staged.json").write_text(json.dumps(staged, indent=2) + "\n")
    return staged


def promote(version: str, inventory: str, tls_verify: bool, records: Path) -> dict[str, Any]:
    staged_file = records / "staged.json"
    staged = json.loads(staged_file.read_text()) if staged_file.exists() else {}
    if staged.get("version") != version:
        raise DeliveryError(f"{version} has not passed staging (last staged: {staged.get('version', 'none')}): "
                            f"make stage VERSION={version} first")  # fmt: skip
    # Exactly what staging ran: the digest, not the tag, which may have been pushed again since.
    deploy(inventory, version, tls_verify, f"RELEASE_REF={staged['release']}")
    promoted = {"version": version, "release": staged["release"], "commit": commit_of(version),
                "inventory": inventory, "promoted_at": now()}  # fmt: skip
    (records / "promoted.json").write_text(json.dumps([*promotions(records), promoted], indent=2) + "\n")
    return promoted


def rollback(inventory: str, tls_verify: bool, records: Path) -> dict[str, Any]:
    """Back to the promotion before the current one on `inventory`, by its digest; recorded as a promotion too (so
    a second rollback returns to where the first started, like `helm rollback`)."""
    history = promotions(records)
    here = [entry for entry in history if entry["inventory"] == inventory]
    if len(here) < 2:
        raise DeliveryError(f"{inventory} has had {len(here)} promotion(s): nothing promoted before to return to "
                            f"(servers still keep older releases: make rollback INVENTORY={inventory})")  # fmt: skip
    current, previous = here[-1], here[-2]
    deploy(inventory, previous["version"], tls_verify, f"RELEASE_REF={previous['release']}")
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
    parser.add_argument("--inventory", required=True)
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
            done = stage(args.version, args.registry, args.inventory, args.url, not args.no_tls_verify, args.records)
            print(f"staged {done['version']} ({done['release']}) on {done['inventory']}: smoke passed")
        elif args.command == "promote":
            done = promote(args.version, args.inventory, not args.no_tls_verify, args.records)
            print(f"promoted {done['version']} ({done['release']}) to {done['inventory']}")
        else:
            done = rollback(args.inventory, not args.no_tls_verify, args.records)
            print(f"rolled {done['inventory']} back from {done['rolled_back_from']} to {done['version']} "
                  f"({done['release']})")  # fmt: skip
    except DeliveryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
