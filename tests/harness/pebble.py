"""Pebble, Let's Encrypt's ACME test CA (Debian's `pebble`), on an address of this machine that the lab's hosts
reach, with pebble-challtestsrv as its DNS: the test says which address a domain has, and Pebble validates
HTTP-01 challenges on port 80 of that address, as Let's Encrypt would on the internet.

Pebble's own HTTPS (the ACME directory) uses a certificate made for the address (tests/harness/certs.py); clients
trust it through `ca`. The certificates Pebble issues chain to a root it makes at each start: `roots()`.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.request
from pathlib import Path

from tests.harness.background import Background
from tests.harness.certs import self_signed
from tests.harness.servers import free_port

# No random pauses before validating, no nonces rejected at random (Pebble's defaults, to shake out clients).
ENVIRONMENT = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}


class Pebble(Background):
    def __init__(self, address: str, workdir: Path) -> None:
        super().__init__()
        self.address, self.workdir = address, workdir
        self.port, self.management_port, self.dns_port, self.dns_management_port = (free_port() for _ in range(4))
        self.ca = workdir / "pebble-cert.pem"  # written on entering

    @property
    def directory(self) -> str:
        return f"https://{self.address}:{self.port}/dir"

    def __enter__(self) -> Pebble:
        self.ca, key = self_signed(self.address, self.workdir, "pebble")
        config = self.workdir / "pebble-config.json"
        config.write_text(json.dumps({"pebble": {
            "listenAddress": f"{self.address}:{self.port}",
            "managementListenAddress": f"{self.address}:{self.management_port}",
            "certificate": str(self.ca), "privateKey": str(key),
            "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": False,
        }}))  # fmt: skip
        log = (self.workdir / "pebble.log").open("ab")
        self.processes = [
            subprocess.Popen(["pebble-challtestsrv", "-defaultIPv4", "", "-defaultIPv6", "", "-http01", "",
                              "-https01", "", "-tlsalpn01", "", "-dns01", f"{self.address}:{self.dns_port}",
                              "-management", f"{self.address}:{self.dns_management_port}"],
                             stdout=log, stderr=subprocess.STDOUT),
            subprocess.Popen(["pebble", "-config", str(config), "-dnsserver", f"{self.address}:{self.dns_port}"],
                             stdout=log, stderr=subprocess.STDOUT, env=ENVIRONMENT),
        ]  # fmt: skip
        # The DNS stand-in answers too (a query that changes nothing).
        self.wait_until(lambda: (self._get(self.directory), self._dns("clear-a", {"host": "ready.test."})),
                        f"Pebble on {self.directory} (see {log.name})")  # fmt: skip
        return self

    def _get(self, url: str) -> bytes:
        context = ssl.create_default_context(cafile=str(self.ca))
        with urllib.request.urlopen(url, timeout=10, context=context) as response:  # noqa: S310 - the test's own CA
            return bytes(response.read())

    def _dns(self, action: str, body: dict[str, object]) -> None:
        request = urllib.request.Request(f"http://{self.address}:{self.dns_management_port}/{action}",
                                         data=json.dumps(body).encode(), method="POST")  # fmt: skip
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - the test's own DNS stand-in

    def point(self, domain: str, address: str) -> None:
        """`domain` has the A record `address` (where Pebble checks the HTTP-01 challenge)."""
        self._dns("add-a", {"host": f"{domain}.", "addresses": [address]})

    def roots(self) -> Path:
        """The root Pebble issues under, as a PEM file for clients to trust."""
        path = self.workdir / "pebble-root.pem"
        path.write_bytes(self._get(f"https://{self.address}:{self.management_port}/roots/0"))
        return path
