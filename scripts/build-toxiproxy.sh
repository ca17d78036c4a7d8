#!/usr/bin/env bash
# Builds toxiproxy (the fault-injection proxy the fault tests use) from the Go module proxy, once, into a
# cache outside the clone. Idempotent: returns at once when the pinned version is there.
#   env: TOXIPROXY_BIN (default ~/.cache/mcp-session-gateway/toxiproxy-<version>)
set -euo pipefail
version=v2.12.0
bin=${TOXIPROXY_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-session-gateway/toxiproxy-$version}
if [ -x "$bin/toxiproxy-server" ]; then echo "build-toxiproxy: up to date in $bin"; exit 0; fi
command -v go >/dev/null || { echo "build-toxiproxy: needs Go (apt-get install golang, or https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "github.com/Shopify/toxiproxy/v2/cmd/server@$version"
mv "$tmp/server" "$bin/toxiproxy-server"
echo "build-toxiproxy: built $version into $bin"
