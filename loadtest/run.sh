#!/usr/bin/env bash
# `make loadtest`: a headless Locust run against HOST, reports in loadtest/reports/<timestamp>/.
# Exit code 1 when a threshold fails (LOADTEST_MAX_ERROR_RATIO, LOADTEST_MAX_P95_MS); see locustfile.py.
# PROMETHEUS=http://<monitor>:9090 adds what the servers did meanwhile (servers.md: loadtest/server_stats.py).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${HOST:?set HOST to the target, e.g. make loadtest HOST=http://127.0.0.1:8080}"
USERS="${USERS:-20}"
SPAWN_RATE="${SPAWN_RATE:-5}"
RUN_TIME="${RUN_TIME:-60s}"
PROCESSES="${PROCESSES:-1}"
REPORTS="${REPORTS:-loadtest/reports}"

report_dir="$REPORTS/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$report_dir"
export LOADTEST_REPORT_DIR="$report_dir"

args=(--headless --host "$HOST" --csv "$report_dir/locust" --html "$report_dir/report.html"
      --only-summary --stop-timeout 10)
# A load shape sets users and duration itself.
if [[ -z "${LOAD_SHAPE:-}" ]]; then
  args+=(--users "$USERS" --spawn-rate "$SPAWN_RATE" --run-time "$RUN_TIME")
fi
# SCENARIO=read,api: only those tags' tasks, and only the user classes that have them (Locust would
# otherwise still spawn users left with no task).
classes=()
if [[ -n "${SCENARIO:-}" ]]; then
  read -r -a tags <<< "${SCENARIO//,/ }"
  args+=(--tags "${tags[@]}")
  for scenario in "${tags[@]}"; do
    case "$scenario" in
      read|front) classes+=(Reader) ;;
      write) classes+=(Writer) ;;
      api) classes+=(ApiClient) ;;
      *) echo "error: SCENARIO takes read, front, write and/or api, not '$scenario'" >&2; exit 2 ;;
    esac
  done
fi
if [[ "$PROCESSES" != "1" ]]; then
  args+=(--processes "$PROCESSES")
fi

echo "loadtest: $HOST -> $report_dir"
started=$(date +%s)
status=0
# User classes before the options: --tags takes every word after it.
.venv/bin/python -m locust -f loadtest/locustfile.py "${classes[@]}" "${args[@]}" || status=$?
echo "loadtest: report $report_dir/report.html"
if [[ -n "${PROMETHEUS:-}" ]]; then
  .venv/bin/python -m loadtest.server_stats --prometheus "$PROMETHEUS" --start "$started" --end "$(date +%s)" \
    --out "$report_dir/servers.md" || true  # it says why; Locust's verdict stands
fi
exit "$status"
