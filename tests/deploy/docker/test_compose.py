"""`make compose-up SCALE=3` for real with podman-compose: db, migrations once, 3 web replicas behind nginx
answer the seeded front page, Prometheus (the monitoring profile) scrapes each of them, and `make compose-down`
leaves nothing running. The postgres, nginx and prometheus images are built here from the Debian base
(`make compose-local-images`): no registry is reachable."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from deploy.local.stack import http_status
from tests.deploy.conftest import Compose, Published, compose_stack, podman
from tests.harness.prometheus import api, by_instance, eventually
from tests.harness.requires import needs
from tests.harness.servers import MICROCACHE_STORED, PAST_THE_MICROCACHE, get

pytestmark = [pytest.mark.live, needs("podman", "podman-compose", "mmdebstrap", root=True)]
REPLICAS = 3


@pytest.fixture(scope="module")
def compose(app_image: str, compose_images: list[str]) -> Iterator[Compose]:
    with compose_stack(compose_images, f"IMAGE={app_image}") as running:
        yield running


def test_compose_up_serves_the_seeded_front_page_from_every_replica_and_compose_down_stops_it(
    compose: Compose,
) -> None:
    started = time.monotonic()
    up = compose.make("compose-up", f"SCALE={REPLICAS}", "PROFILES=monitoring")
    assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
    print(f"\ncompose-up SCALE={REPLICAS}: {time.monotonic() - started:.0f} s")
    running = {name for name, status in compose.containers().items() if status.startswith("Up")}
    assert running == {f"{compose.project}_db_1", f"{compose.project}_nginx_1", f"{compose.project}_prometheus_1"} | {
        f"{compose.project}_web_{n}" for n in range(1, REPLICAS + 1)
    }, "db, nginx, Prometheus and the web replicas run; the one-off migrate container is gone"

    assert http_status(f"{compose.url}/readyz") == 200, "compose-up returns once migrated and ready"
    podman("exec", f"{compose.project}_web_1", "python3", "manage.py", "seed_demo", "--users", "3", "--posts", "40",
           "--comments", "60", timeout=300)  # fmt: skip
    for _ in range(4 * REPLICAS):  # past the microcache (a signed-out session's cookie): every replica answers
        status, _, body = get(f"{compose.url}/", headers=PAST_THE_MICROCACHE)
        assert status == 200
        assert body.decode().count('class="post"') == 30, "the seeded posts are on the front page"
    get(f"{compose.url}/")
    assert get(f"{compose.url}/")[1].get("X-Cache-Status") in MICROCACHE_STORED, "nginx's microcache"
    log = podman("logs", f"{compose.project}_nginx_1").stdout
    upstreams = set(re.findall(r'ua="([^"]+)"', log)) - {"-"}
    assert len(upstreams) == REPLICAS, f"nginx spread the pages over every replica: {upstreams}"

    # The monitoring profile: Prometheus finds every replica by the service's name, reads its counts, has the rules.
    scraped = eventually(
        lambda: (up := by_instance(compose.prometheus, 'up{job="scaleboard-app"}')) and len(up) == REPLICAS
        and all(v == 1 for v in up.values()) and up,
        60, f"{REPLICAS} web replicas scraped",
    )  # fmt: skip
    assert set(scraped) == upstreams, "the replicas nginx uses"
    counted = 'sum(scaleboard_http_requests_total{job="scaleboard-app",view="board:hot"})'
    eventually(lambda: api(compose.prometheus, "query", query=counted)["result"], 60, "the front page's requests")
    rules = {g["name"] for g in api(compose.prometheus, "rules")["groups"]}
    assert {"scaleboard-app", "scaleboard-slo"} <= rules

    down = compose.make("compose-down", timeout=300)
    assert down.returncode == 0, down.stdout[-3000:] + down.stderr[-3000:]
    assert compose.containers() == {}, "compose-down leaves no container"


@needs("docker-registry", "skopeo")
def test_compose_up_version_runs_the_published_image_by_digest_and_replaces_another_builds_replicas(
    compose: Compose, published: Published, published_next: Published
) -> None:
    """`make compose-up VERSION=...` pulls the published build by its digest (nothing is built) and serves it; on a
    stack already running another build, its replicas replace that build's (podman-compose alone would start the old
    containers again), and nginx sends requests to the new ones."""
    try:
        for build in (published, published_next):
            image = build.references["image"]
            up = compose.make("compose-up", "SCALE=2", f"VERSION={build.manifest['version']}",
                              f"REGISTRY={build.registry.address}", "REGISTRY_TLS_VERIFY=false")  # fmt: skip
            assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
            assert "STEP 1/" not in up.stdout + up.stderr, "nothing was built"
            for replica in (1, 2):
                name = f"{compose.project}_web_{replica}"
                assert podman("inspect", "--format", "{{.ImageName}}", name).stdout.strip() == image
            assert http_status(f"{compose.url}/readyz") == 200
            assert all(get(f"{compose.url}/healthz")[0] == 200 for _ in range(6)), "nginx reaches every new replica"
    finally:
        # The pulled images are the builds' own (one id, more names): their fixtures remove them.
        down = compose.make("compose-down", timeout=300)
    assert down.returncode == 0, down.stdout[-3000:] + down.stderr[-3000:]
