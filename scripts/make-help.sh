#!/usr/bin/env bash
# `make help`: every target with a `## description`, under its `##@ Group` heading, in the Makefile's
# order. Colour only when writing to a terminal (and NO_COLOR is unset), so piped output stays plain.
set -euo pipefail
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  bold=$'\033[1m' cyan=$'\033[36m' reset=$'\033[0m'
else
  bold='' cyan='' reset=''
fi
echo "Usage: make <target> [KNOB=value ...]   (knobs in parentheses; defaults at the top of the Makefile)"
awk -v bold="$bold" -v cyan="$cyan" -v reset="$reset" '
  /^##@ / { printf "\n%s%s%s\n", bold, substr($0, 5), reset; next }
  /^[a-zA-Z0-9_-]+:.*## / {
    split($0, parts, /:.*## /)
    printf "  %s%-21s%s %s\n", cyan, parts[1], reset, parts[2]
  }
' "$@"
