"""Install the collections in requirements.yml into deploy/ansible/collections/.

`ansible-galaxy collection install` first; where Galaxy is unreachable (networks that allow only the
package registries, like CI's), the same collections are taken from the `ansible` community package on
PyPI, which bundles them: one wheel, downloaded once into .var/ansible/, only the named folders unpacked.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGET = HERE / "collections"
# The community package whose bundled collections match ansible-core 2.19 (pyproject's pin).
ANSIBLE_PACKAGE = "12.3.0"
CACHE = ROOT / ".var" / "ansible"


def wanted() -> list[str]:
    return [c["name"] for c in yaml.safe_load((HERE / "requirements.yml").read_text())["collections"]]


def installed(name: str) -> bool:
    namespace, collection = name.split(".")
    return (TARGET / "ansible_collections" / namespace / collection / "MANIFEST.json").exists()


def from_galaxy() -> bool:
    galaxy = Path(sys.executable).with_name("ansible-galaxy")
    result = subprocess.run(
        [str(galaxy), "collection", "install", "-r", str(HERE / "requirements.yml"), "-p", str(TARGET)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return result.returncode == 0


def wheel() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    index = "https://pypi.org/pypi/ansible/json"
    project = json.load(urllib.request.urlopen(index, timeout=60))
    (entry,) = [u for u in project["releases"][ANSIBLE_PACKAGE] if u["packagetype"] == "bdist_wheel"]
    path = CACHE / entry["filename"]
    if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["digests"]["sha256"]:
        print(f"ansible-deps: downloading {entry['filename']} ({entry['size'] // 2**20} MiB) from PyPI")
        partial = path.with_suffix(".part")
        url = urljoin(index, entry["url"])
        if not url.startswith("https://"):
            raise SystemExit(f"error: PyPI named an unexpected download address: {url}")
        with urllib.request.urlopen(url, timeout=600) as response, partial.open("wb") as out:  # noqa: S310 - https only
            shutil.copyfileobj(response, out)
        if hashlib.sha256(partial.read_bytes()).hexdigest() != entry["digests"]["sha256"]:
            partial.unlink()
            raise SystemExit("error: the ansible wheel's checksum does not match PyPI's; run `make ansible-deps` again")
        partial.rename(path)
    return path


def from_wheel(names: list[str]) -> None:
    prefixes = tuple(f"ansible_collections/{name.replace('.', '/')}/" for name in names)
    with zipfile.ZipFile(wheel()) as archive:
        members = [m for m in archive.namelist() if m.startswith(prefixes)]
        archive.extractall(TARGET, members)
    # The wheel keeps MANIFEST.json only in some releases; galaxy.yml-less folders still load from a path.
    for name in names:
        marker = TARGET / "ansible_collections" / name.replace(".", "/") / "MANIFEST.json"
        if not marker.exists():
            raise SystemExit(f"error: {name} is not in ansible {ANSIBLE_PACKAGE}'s wheel")


def main() -> int:
    names = wanted()
    missing = [name for name in names if not installed(name)]
    if not missing:
        return 0
    if not from_galaxy():
        print("ansible-deps: Galaxy unreachable; taking the collections from the ansible package on PyPI")
        from_wheel(missing)
    print(f"ansible-deps: {', '.join(names)} in {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
