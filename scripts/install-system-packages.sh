#!/usr/bin/env bash
# Install the Debian packages in scripts/system-packages.txt that are missing: the one list `make test-all`
# and .ci/run use. Usage: scripts/install-system-packages.sh [--if-root]
#   --if-root: as a normal user, only name what is missing (those tests then skip, saying so) and succeed.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(sed 's/#.*//' scripts/system-packages.txt | awk 'NF { print $1 }')
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
((${#missing[@]})) || exit 0

if [[ "$(id -u)" != 0 || ! -x "$(command -v apt-get)" ]]; then
  if [[ "${1:-}" == --if-root ]]; then
    echo "--- not installing (needs root and apt-get): ${missing[*]}; the tests that need them will skip" >&2
    exit 0
  fi
  echo "error: missing ${missing[*]}: run as root on Debian/Ubuntu (sudo $0)" >&2
  exit 1
fi
echo "--- installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
