#!/usr/bin/env bash
# A local Debian 12 + Python 3.11 base image (localhost/scaleboard-base:bookworm) for machines that
# cannot pull from a registry. Usage: docker/build-local-base.sh   (needs root, mmdebstrap, podman)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${LOCAL_BASE_IMAGE:-localhost/scaleboard-base:bookworm}"
CACHE=.var/images/scaleboard-base-bookworm.tar
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/docker/podman/containers.conf}"

command -v podman >/dev/null || { echo "error: podman not found: sudo apt-get install podman" >&2; exit 1; }
if podman image exists "$IMAGE"; then
  echo "$IMAGE"
  exit 0
fi
if [[ ! -s "$CACHE" ]]; then
  command -v mmdebstrap >/dev/null || { echo "error: mmdebstrap not found: sudo apt-get install mmdebstrap" >&2; exit 1; }
  mkdir -p "$(dirname "$CACHE")"
  # python3-venv gives `python3 -m venv`; passwd gives groupadd/useradd for the runtime stage.
  partial="${CACHE%.tar}.partial.tar"  # the .tar suffix tells mmdebstrap to write a tarball
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates,passwd \
    bookworm "$partial"
  mv "$partial" "$CACHE"
fi
podman import --quiet --change 'CMD ["/bin/bash"]' "$CACHE" "$IMAGE" >/dev/null
echo "$IMAGE"
