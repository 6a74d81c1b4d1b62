"""A container registry for the delivery tests: Debian's docker-registry (the CNCF distribution) on 127.0.0.1, on
plain HTTP, its storage in a scratch directory; stopped on leaving, pass or fail."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

from tests.harness.background import Background
from tests.harness.servers import free_port


class Registry(Background):
    def __init__(self, workdir: Path) -> None:
        super().__init__()
        self.workdir = workdir / "registry"
        self.address = f"127.0.0.1:{free_port()}"

    def __enter__(self) -> Registry:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "config.yml"
        config.write_text(json.dumps({
            "version": 0.1, "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(self.workdir / "data")}, "delete": {"enabled": True}},
            "http": {"addr": self.address},
        }))  # fmt: skip
        log = (self.workdir / "registry.log").open("ab")
        self.processes = [subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log,
                                           stderr=subprocess.STDOUT)]  # fmt: skip
        self.wait_until(lambda: self.api("/v2/"), f"docker-registry on {self.address} (see {log.name})")
        return self

    def api(self, path: str) -> dict[str, object]:
        with urllib.request.urlopen(f"http://{self.address}{path}", timeout=10) as response:
            return dict(json.loads(response.read() or b"{}"))

    def tags(self, repository: str) -> list[str]:
        return list(self.api(f"/v2/{repository}/tags/list").get("tags") or [])  # type: ignore[call-overload]

    def __exit__(self, *exc: object) -> None:
        super().__exit__(None, None, None)
        shutil.rmtree(self.workdir, ignore_errors=True)
