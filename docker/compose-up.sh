#!/usr/bin/env bash
# `make compose-up`: the database, then migrations once (a one-off container of the app image), then SCALE
# web replicas and nginx. In steps rather than one `up`, so the order holds with podman-compose too, which
# does not wait on depends_on conditions. COMPOSE names the tool (podman-compose, or docker compose),
# CONTAINER_ENGINE the engine (podman or docker), PROFILES=loadtest adds Locust, PROFILES=monitoring Prometheus
# (both: PROFILES=loadtest,monitoring).
set -euo pipefail
cd "$(dirname "$0")"

read -r -a compose <<< "${COMPOSE:?set COMPOSE, e.g. podman-compose}"
engine="${CONTAINER_ENGINE:-podman}"
if ! "$engine" image inspect "${SCALEBOARD_IMAGE:?}" >/dev/null 2>&1; then
  if [[ "$SCALEBOARD_IMAGE" == *@sha256:* ]]; then
    # A published build (make compose-up VERSION=...): pulled as it is, never built here.
    tls=()
    [[ "$engine" == *podman* && "${REGISTRY_TLS_VERIFY:-true}" == false ]] && tls=(--tls-verify=false)
    "$engine" pull "${tls[@]}" "$SCALEBOARD_IMAGE"
  else
    # podman-compose does not build a missing image by itself (docker compose does): build it once, for all.
    "${compose[@]}" build migrate
  fi
fi
"${compose[@]}" up -d db
db_ready=false
for _ in $(seq 60); do
  "${compose[@]}" exec -T db pg_isready -U scaleboard -d scaleboard >/dev/null 2>&1 && { db_ready=true; break; }
  sleep 1
done
$db_ready || { echo "error: the db service did not accept connections in 60 s: see \`make compose-logs\`" >&2; exit 1; }
"${compose[@]}" run --rm migrate
# Services named: podman-compose would start every profile's service otherwise (it ignores profiles).
services=(web nginx)
[[ "${PROFILES:-}" == *loadtest* ]] && services+=(locust)
[[ "${PROFILES:-}" == *monitoring* ]] && services+=(prometheus)
export SCALEBOARD_WEB_REPLICAS="${SCALE:-3}"
if [[ "${compose[0]}" == *podman-compose ]]; then
  # podman-compose, unlike docker compose, starts a service's existing containers again whatever their image: the
  # web replicas of another build (a new VERSION, a promotion, a rollback) go, so that `up` starts this one's.
  for id in $("${compose[@]}" ps -q 2>/dev/null | grep -E '^[0-9a-f]{12,64}$'); do
    read -r service image < <("$engine" inspect --format \
      '{{index .Config.Labels "com.docker.compose.service"}} {{.ImageName}}' "$id")
    if [[ "$service" == web && "$image" != "$SCALEBOARD_IMAGE" ]]; then
      echo "compose: replacing a web replica of $image"
      "$engine" rm --force "$id" >/dev/null
    fi
  done
fi
"${compose[@]}" up -d --scale "web=$SCALEBOARD_WEB_REPLICAS" "${services[@]}"
# nginx resolved the replicas' addresses when it started; replaced replicas have new ones.
"${compose[@]}" exec -T nginx nginx -s reload >/dev/null

# podman-compose exits 0 whatever its containers did: ready (migrated, database reachable) through nginx is
# the check that counts.
url="http://127.0.0.1:${STACK_PORT:?run it with make compose-up}"
python3 - "$url/readyz" <<'PY' || { echo "error: $url/readyz did not answer 200 in 90 s: see \`make compose-logs\`" >&2; exit 1; }
import sys, time, urllib.request
deadline = time.monotonic() + 90
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
            sys.exit(0 if response.status == 200 else 1)
    except OSError:
        time.sleep(1)
sys.exit(1)
PY
echo "compose: $url/ (SCALE=$SCALEBOARD_WEB_REPLICAS web replicas)"
[[ "${PROFILES:-}" == *monitoring* ]] && echo "compose: Prometheus on http://127.0.0.1:${PROMETHEUS_PORT:?}/"
exit 0
