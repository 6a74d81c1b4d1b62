#!/usr/bin/env bash
# `make k8s-*` against the current kubectl context. Usage: deploy/k8s/k8s.sh deploy|scale|status|logs|rollback|loadtest
# Knobs (environment): OVERLAY=local|aws, NAMESPACE, N (scale), USERS, SPAWN_RATE, LOCUST_WORKERS (loadtest),
# REGISTRY + IMAGE_TAG, or IMAGE_REF=name@digest (deploy: the image to run; default the overlay's).
set -euo pipefail
cd "$(dirname "$0")/../.."

KUBECTL="${KUBECTL:-kubectl}"
NAMESPACE="${NAMESPACE:-scaleboard}"
OVERLAY="${OVERLAY:-local}"
die() { echo "error: $*" >&2; exit 1; }
k() { "$KUBECTL" -n "$NAMESPACE" "$@"; }

need_cluster() {
  command -v "$KUBECTL" >/dev/null || die "kubectl not found: install it (see kubernetes.io/docs/tasks/tools)"
  local context
  context="$("$KUBECTL" config current-context 2>/dev/null)" \
    || die "no kubectl context: start one (minikube start / kind create cluster / aws eks update-kubeconfig ...)"
  "$KUBECTL" version --request-timeout=5s >/dev/null 2>&1 \
    || die "the cluster of kubectl context '$context' does not answer: is it running?"
}

# The app's image in the rendered overlay, as "NAME TAG".
overlay_image() {
  "$KUBECTL" kustomize "deploy/k8s/overlays/$1" | sed -n 's|^ *image: \(.*/scaleboard\):\(.*\)|\1 \2|p' | head -1
}

# The overlay rendered, with the image swapped when IMAGE_REF or REGISTRY/IMAGE_TAG are given (via a kustomization
# of our own around the overlay, so no committed file is edited).
render() {
  local overlay="$1" wrapper
  [[ -d "deploy/k8s/overlays/$overlay" ]] || die "OVERLAY must be one of: $(ls deploy/k8s/overlays | tr '\n' ' ')"
  # Inside the repository: kustomize only takes relative paths to other kustomizations.
  mkdir -p .var/k8s
  wrapper="$(mktemp -d -p .var/k8s)"
  {
    echo "resources: [../../../deploy/k8s/overlays/$overlay]"
    if [[ -n "${IMAGE_REF:-}" ]]; then
      # A published build by digest (make k8s-deploy VERSION=..., make promote): exactly that image, no tag.
      echo "images: [{name: '$(overlay_image "$overlay" | cut -d' ' -f1)', newName: '${IMAGE_REF%@*}', digest: '${IMAGE_REF#*@}'}]"
    elif [[ -n "${REGISTRY:-}${IMAGE_TAG:-}" ]]; then
      # The overlay's image as NAME TAG; without IMAGE_TAG its tag (the version) stays.
      read -r current tag < <(overlay_image "$overlay")
      name="$current"
      [[ -n "${REGISTRY:-}" ]] && name="$REGISTRY/scaleboard"
      echo "images: [{name: '$current', newName: '$name', newTag: '${IMAGE_TAG:-$tag}'}]"
    fi
  } > "$wrapper/kustomization.yaml"
  "$KUBECTL" kustomize "$wrapper"
  rm -rf "$wrapper"
}

# The rendered manifest on stdin, with the HPA's bounds raised to the live ones ("MIN MAX", from the
# cluster) where those are higher: a deploy never undoes `make k8s-scale`, and a higher floor in the
# overlay still takes effect. Only the HPA has minReplicas/maxReplicas keys.
keep_scale() {
  local live_min live_max
  read -r live_min live_max <<< "$1"
  awk -v live_min="${live_min:-0}" -v live_max="${live_max:-0}" '
    /^  minReplicas: [0-9]+$/ && live_min + 0 > $2 + 0 { $0 = "  minReplicas: " live_min }
    /^  maxReplicas: [0-9]+$/ && live_max + 0 > $2 + 0 { $0 = "  maxReplicas: " live_max }
    { print }'
}

case "${1:-}" in
  deploy)
    need_cluster
    manifest="$(mktemp)"
    trap 'rm -f "$manifest"' EXIT
    live="$(k get hpa web -o jsonpath='{.spec.minReplicas} {.spec.maxReplicas}' --ignore-not-found)"
    render "$OVERLAY" | keep_scale "$live" > "$manifest"
    # 1. Everything but the web tier (config, secrets, database, nginx, policies) and the migrate Job.
    k delete job migrate --ignore-not-found
    "$KUBECTL" apply -f "$manifest" -l 'app.kubernetes.io/component notin (web)'
    # 2. Migrations, once, before any new web pod serves.
    if ! k wait --for=condition=complete job/migrate --timeout=600s; then
      k logs job/migrate --tail=50 || true
      die "the migrate Job failed (logs above); the web Deployment was not changed: fix it and run make k8s-deploy again"
    fi
    # 3. The web tier, rolled out with maxUnavailable 0.
    "$KUBECTL" apply -f "$manifest" -l 'app.kubernetes.io/component=web'
    k rollout status deployment/web --timeout=600s
    ;;
  scale)
    [[ "${N:-}" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number of web pods, e.g. make k8s-scale N=5"
    need_cluster
    max="$(k get hpa web -o jsonpath='{.spec.maxReplicas}')"
    (( N > max )) && max="$N"
    # The HPA would scale a plain `kubectl scale` back down; raising its floor makes N stick.
    k patch hpa web --type merge -p "{\"spec\":{\"minReplicas\":$N,\"maxReplicas\":$max}}"
    k scale deployment/web --replicas="$N"
    k rollout status deployment/web --timeout=600s
    ;;
  status)
    need_cluster
    k get deployments,statefulsets,pods,hpa,jobs,ingress -l app.kubernetes.io/part-of=scaleboard
    ;;
  logs)
    need_cluster
    k logs -l app.kubernetes.io/name=scaleboard --all-containers --prefix --tail=200 -f
    ;;
  rollback)
    need_cluster
    k rollout undo deployment/web
    k rollout status deployment/web --timeout=600s
    ;;
  loadtest)
    need_cluster
    render loadtest | "$KUBECTL" apply -f -
    k scale deployment/locust-worker --replicas="${LOCUST_WORKERS:-2}"
    k rollout status deployment/locust-master --timeout=300s
    k rollout status deployment/locust-worker --timeout=300s
    # Start the swarm through the master's own API, from inside its pod.
    k exec deploy/locust-master -- python -c "import urllib.request, urllib.parse; urllib.request.urlopen(
'http://127.0.0.1:8089/swarm', data=urllib.parse.urlencode({'user_count': ${USERS:-50}, 'spawn_rate': ${SPAWN_RATE:-5}}).encode())"
    echo "swarming ${USERS:-50} users from ${LOCUST_WORKERS:-2} workers; watch: kubectl -n $NAMESPACE port-forward svc/locust-master 8089"
    ;;
  *)
    die "usage: $0 deploy|scale|status|logs|rollback|loadtest"
    ;;
esac
