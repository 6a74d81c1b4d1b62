"""moto's S3 over TLS on an address of this machine: an object store the lab's hosts can reach, as pgBackRest
needs (it speaks S3 over TLS only). nginx terminates TLS in front of moto, as a load balancer does in front of
a real store: moto's own TLS server answers HTTP/1.0 and closes without TLS's close_notify, which pgBackRest
reports as "unexpected eof". The certificate is made for the address (tests/harness/certs.py) and handed to the
client as its CA."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import boto3

from tests.harness.background import Background
from tests.harness.certs import self_signed
from tests.harness.servers import free_port

ACCESS_KEY = SECRET_KEY = "testing"  # moto's own test credentials
REGION = "us-east-1"
# Streams bodies both ways (WAL segments and backup files), so nginx's workers need no temp files.
NGINX_CONF = """daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    server {{
        listen {address}:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        location / {{
            proxy_pass http://127.0.0.1:{moto_port};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;  # S3 signs the Host header
        }}
    }}
}}
"""


class MotoS3(Background):
    """`moto_port`: a moto server already running on 127.0.0.1 (the Terraform tests'), put behind TLS as it is;
    else one of its own."""

    def __init__(self, address: str, workdir: Path, moto_port: int | None = None) -> None:
        super().__init__()
        self.address, self.workdir, self.port, self.moto_port = address, workdir, free_port(), moto_port
        self.ca = workdir / "s3-cert.pem"  # written on entering

    @property
    def url(self) -> str:
        return f"https://{self.address}:{self.port}"

    def __enter__(self) -> MotoS3:
        self.ca, key = self_signed(self.address, self.workdir, "s3")
        moto_port = self.moto_port or free_port()
        (self.workdir / "nginx.conf").write_text(
            NGINX_CONF.format(
                dir=self.workdir, address=self.address, port=self.port, cert=self.ca, key=key, moto_port=moto_port
            )
        )
        if not self.moto_port:
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        self.processes.append(subprocess.Popen(
            ["nginx", "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        for address, port in (("127.0.0.1", moto_port), (self.address, self.port)):
            self.wait_until(lambda to=(address, port): socket.create_connection(to, timeout=1).close(),
                            f"moto's S3 on {self.url}")  # fmt: skip
        return self

    def client(self):  # type: ignore[no-untyped-def]  # boto3 clients are typed by stubs this project lacks
        return boto3.client("s3", endpoint_url=self.url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, verify=str(self.ca))  # fmt: skip

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def store_vars(self) -> dict[str, str]:
        """The pgbackrest role's variables for reaching this store (where AWS has its endpoint and the instance
        profile's keys)."""
        return {"pgbackrest_s3_endpoint": self.address, "pgbackrest_s3_port": str(self.port),
                "pgbackrest_s3_uri_style": "path", "pgbackrest_s3_key_type": "shared",
                "pgbackrest_s3_key": ACCESS_KEY, "pgbackrest_s3_key_secret": SECRET_KEY,
                "pgbackrest_s3_ca": self.ca.read_text()}  # fmt: skip

    def repository_vars(self, bucket: str, path: str) -> dict[str, str]:
        """The pgbackrest role's variables for a repository in `bucket` under `path`."""
        return {"pgbackrest_repo_type": "s3", "pgbackrest_repo_path": path, "pgbackrest_s3_bucket": bucket,
                "pgbackrest_s3_region": REGION, **self.store_vars()}  # fmt: skip
