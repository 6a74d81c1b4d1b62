"""Fixtures for the deploy targets that run the app image: podman, the image, a database for it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploy.local.postgres import Cluster
from tests.harness.checkout import UV, commit, committed_copy
from tests.harness.leftovers import scratch_dir
from tests.harness.registry import Registry
from tests.harness.requires import needs
from tests.harness.servers import REPO, free_port_block

needs_podman = needs("podman", "mmdebstrap", root=True)

TEST_IMAGE = f"localhost/scaleboard:test-{uuid.uuid4().hex[:8]}"
BASE_IMAGE = "localhost/scaleboard-base:bookworm"
ENV = {**os.environ, "CONTAINERS_CONF": str(REPO / "docker/podman/containers.conf")}
# Containers reach the host's loopback (where the test PostgreSQL listens) at this address.
NETWORK = "slirp4netns:allow_host_loopback=true"
HOST_FROM_CONTAINER = "10.0.2.2"


def podman(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], env=ENV, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def app_image() -> Iterator[str]:
    base = subprocess.run(
        ["docker/build-local-base.sh"], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=900
    )
    assert base.returncode == 0, base.stderr
    started = time.monotonic()
    build = subprocess.run(
        ["make", "--no-print-directory", "docker-build", f"IMAGE={TEST_IMAGE}", f"BASE_IMAGE={BASE_IMAGE}"],
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    print(f"\nimage build: {time.monotonic() - started:.1f}s")
    yield TEST_IMAGE
    podman("rmi", "--force", TEST_IMAGE, check=False)


@pytest.fixture(scope="session")
def container_database() -> Iterator[str]:
    directory = scratch_dir("image")
    cluster = Cluster(directory / "pg", throwaway=True, port=free_port_block(1, start=19000), listen_tcp=True)
    # The container connects from the slirp4netns network, which arrives at 127.0.0.1 on the host.
    cluster.start()
    try:
        yield f"postgres://scaleboard@{HOST_FROM_CONTAINER}:{cluster.port}/scaleboard"
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)


def env_args(database_url: str, **extra: str) -> list[str]:
    values = {
        # checkov:skip=CKV_SECRET_6: signs nothing that outlives the test container
        "DJANGO_SECRET_KEY": "container-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": database_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_HTTPS": "false",
        "WEB_CONCURRENCY": "2",
        **extra,
    }
    return [arg for name, value in values.items() for arg in ("-e", f"{name}={value}")]


def one_off(image: str, database_url: str, *command: str) -> str:
    """A release-phase command in a throwaway container, as compose's `migrate` or a k8s Job runs it."""
    return podman("run", "--rm", "--network", NETWORK, *env_args(database_url), image, *command).stdout


def build_package(root: Path, out: Path) -> tuple[Path, dict[str, Any]]:
    """`make package` with its image in the checkout `root`: (the package's directory, its manifest)."""
    result = subprocess.run(
        [str(REPO / ".venv/bin/python"), "-m", "deploy.package", "--engine", "podman", "--audit", "record",
         "--out", str(out)],
        cwd=root, env={**ENV, "BASE_IMAGE": BASE_IMAGE, "UV": UV}, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (manifest_file,) = out.glob("*/manifest.json")
    return manifest_file.parent, json.loads(manifest_file.read_text())


def remove_image(manifest: dict[str, Any]) -> None:
    """A package's image, by its id: with every name it has gained, such as a registry's name@digest once a test
    pulled it (removing one of those names instead can remove the whole image, the package's tag with it)."""
    podman("rmi", "--force", manifest["image"]["id"], check=False)


@pytest.fixture(scope="session")
def built_package(app_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """`make package` with its image, on a committed copy of the tree. app_image: the local base image exists, and
    the layers below the app are cached."""
    workdir = tmp_path_factory.mktemp("package")
    directory, manifest = build_package(committed_copy(workdir), workdir / "packages")
    yield directory, manifest
    remove_image(manifest)


@dataclass(frozen=True)
class Published:
    registry: Registry
    directory: Path  # the package's
    manifest: dict[str, Any]
    output: str  # what make publish printed
    references: dict[str, str]  # its published.json entry: image and release as name@digest


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry of the tests' own (plain HTTP on 127.0.0.1)."""
    with Registry(tmp_path_factory.mktemp("registry")) as started:
        yield started


def publish_package(registry: Registry, directory: Path, manifest: dict[str, Any]) -> Published:
    result = subprocess.run(
        ["make", "--no-print-directory", "publish", f"REGISTRY={registry.address}",
         f"VERSION={manifest['version']}", "REGISTRY_TLS_VERIFY=false", f"PACKAGES_DIR={directory.parent}"],
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    references = json.loads((directory / "published.json").read_text())[registry.address]
    return Published(registry, directory, manifest, result.stdout, references)


@pytest.fixture(scope="session")
def published(built_package: tuple[Path, dict[str, Any]], registry: Registry) -> Published:
    """`make publish` of the built package."""
    return publish_package(registry, *built_package)


@pytest.fixture(scope="session")
def published_next(published: Published, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """The build of the next commit (one more on the same tree), published to the same registry."""
    workdir = tmp_path_factory.mktemp("package-next")
    root = committed_copy(workdir)
    commit(root, "the next commit")
    started = time.monotonic()
    directory, manifest = build_package(root, workdir / "packages")
    packaged = time.monotonic()
    try:
        next_build = publish_package(published.registry, directory, manifest)
        # The delivery figures (docs/delivery.md): a commit after another, the image layers below the app cached.
        print(
            f"\nnext commit: make package {packaged - started:.1f} s, make publish {time.monotonic() - packaged:.1f} s"
        )
        yield next_build
    finally:
        remove_image(manifest)


@dataclass
class Compose:
    """A compose project of the tests' own: its name, the make knobs that address it, its URLs."""

    project: str
    knobs: list[str]
    url: str
    prometheus: str

    def make(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "--no-print-directory", *args, *self.knobs], cwd=REPO, env=ENV, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip

    def containers(self) -> dict[str, str]:
        """name -> status of the project's containers."""
        listed = podman("ps", "-a", "--filter", f"label=io.podman.compose.project={self.project}",
                        "--format", "{{.Names}} {{.Status}}").stdout  # fmt: skip
        return dict(line.split(" ", 1) for line in listed.splitlines())


@pytest.fixture(scope="session")
def compose_images() -> list[str]:
    """The postgres, nginx and prometheus images, built here from the Debian base (`make compose-local-images`: no
    registry is reachable), as the knobs it tells the user to pass."""
    images = subprocess.run(["make", "--no-print-directory", "compose-local-images"], cwd=REPO, env=ENV,
                            capture_output=True, text=True, timeout=900)  # fmt: skip
    assert images.returncode == 0, images.stdout[-3000:] + images.stderr[-3000:]
    hint = re.search(
        r"then: make compose-up (POSTGRES_IMAGE=\S+) (NGINX_IMAGE=\S+) (PROMETHEUS_IMAGE=\S+)", images.stdout
    )
    assert hint, images.stdout[-1000:]
    return list(hint.groups())


@contextlib.contextmanager
def compose_stack(images: list[str], *knobs: str) -> Iterator[Compose]:
    """A compose project on free ports, for `make compose-up` and the targets that call it; nothing of it is left
    afterwards (containers, the database volume, the network), pass or fail."""
    project, port = f"sbtest{uuid.uuid4().hex[:6]}", free_port_block(2, start=19200)
    addressed = [f"COMPOSE=podman-compose -p {project}", f"STACK_PORT={port}", f"PROMETHEUS_PORT={port + 1}"]
    running = Compose(
        project, [*images, *knobs, *addressed], f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    )
    try:
        yield running
    finally:
        running.make("compose-down", timeout=300)
        for container in running.containers():
            podman("rm", "--force", container, check=False)
        podman("volume", "rm", "--force", f"{project}_db-data", check=False)
        podman("network", "rm", "--force", f"{project}_default", check=False)
