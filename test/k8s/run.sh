#!/usr/bin/env bash
# npm run test:k8s: the Kubernetes tests, on a real control plane started for this run and stopped after it.
#   1. test/k8s/cluster/build.sh      the binaries, cached outside the clone (seconds when built; ~1.5 min
#                                     with warm Go caches; 10-13 min on a brand-new machine)
#   2. test/k8s/image/*.test.ts       the Dockerfile's steps, run outside Docker (needs the npm registry or cache)
#   3. test/k8s/*.test.ts             in a network namespace of the run's own (unshare): the cluster
#                                     (test/k8s/cluster/up.sh), the gateway, and the hosts the tests make for pod
#                                     IPs all live there, on its private loopback and veth links; when the run
#                                     ends, the namespace and everything in it is gone, even after a crash.
# usage: npm run test:k8s [-- test files]   (default: all of them; e.g. -- test/k8s/chart.test.ts)
# env: K8S_BIN (binaries), K8S_KEEP=1 keeps the run's state directory (logs) for a look.
# Needs root, or unprivileged user namespaces (then it runs as root of a user namespace of its own).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
export PATH="$repo/node_modules/.bin:$PATH"   # the pinned Node 24
export K8S_BIN=${K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-session-gateway/k8s-v1.37.2}

if [ "${1:-}" != "--in-netns" ]; then
  start=$(date +%s)
  image_tests=(); cluster_tests=()
  for f in "$@"; do case "$f" in test/k8s/image/*) image_tests+=("$f") ;; *) cluster_tests+=("$f") ;; esac; done
  if [ $# = 0 ]; then image_tests=(test/k8s/image/*.test.ts); cluster_tests=(test/k8s/*.test.ts); fi
  test/k8s/cluster/build.sh
  for t in ip unshare openssl curl python3; do
    command -v "$t" >/dev/null || { echo "test:k8s: needs $t: scripts/system-deps.sh k8s installs it" >&2; exit 1; }
  done
  if [ "$(id -u)" = 0 ]; then userns=(); else userns=(--user --map-root-user); fi
  unshare "${userns[@]}" --net --mount true 2>/dev/null || {
    echo "test:k8s: cannot create a network namespace: run as root, or enable unprivileged user namespaces" >&2; exit 1; }

  if [ ${#image_tests[@]} -gt 0 ]; then
    echo "test:k8s: the Dockerfile, built outside Docker"
    node --test --test-reporter=spec "${image_tests[@]}"
  fi
  if [ ${#cluster_tests[@]} -gt 0 ]; then
    echo "test:k8s: the cluster tests, in a network namespace of their own"
    # --mount: /run/netns (where the tests' own namespaces are named) becomes private to this run too.
    unshare "${userns[@]}" --net --mount --propagation private -- "$0" --in-netns "${cluster_tests[@]}"
  fi
  echo "test:k8s: all passed in $(( $(date +%s) - start ))s"
  exit 0
fi

# --- inside the run's network namespace -------------------------------------------------------------------------
ip link set lo up
mkdir -p /run/netns && mount -t tmpfs -o mode=0755 tmpfs /run/netns
export K8S_RUN
K8S_RUN=$(mktemp -d "${TMPDIR:-/tmp}/mcpgw-k8s-run.XXXXXX")
teardown() {
  local rc=$?
  test/k8s/cluster/down.sh >/dev/null 2>&1 || true
  if [ "$rc" != 0 ] || [ "${K8S_KEEP:-}" = 1 ]; then echo "test:k8s: state and logs kept in $K8S_RUN" >&2; else rm -rf "$K8S_RUN"; fi
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM
test/k8s/cluster/up.sh
# shellcheck disable=SC1091
. "$K8S_RUN/env"
# One file at a time: they share the cluster and two cores with whatever else the machine runs.
shift
node --test --test-reporter=spec --test-concurrency=1 "$@"
