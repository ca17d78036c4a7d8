#!/usr/bin/env bash
# Builds the Kubernetes control plane that test:k8s runs on, once per machine, from the Go module proxy (no
# prebuilt binary is downloaded anywhere):
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl   k8s.io/kubernetes $KUBE_VERSION
#        (with the etcd server that release pins)
#   kwok    sigs.k8s.io/kwok: stands in for kubelets (pods get Running/Ready and pod IPs; no container runs)
#   helm    helm.sh/helm/v3 $HELM_VERSION
#   crds/   the prometheus-operator CRDs (ServiceMonitor, PrometheusRule) from its Go module, so that the
#           chart's monitoring objects are validated by the API server like every other object
#
# usage: test/k8s/cluster/build.sh      idempotent: returns at once when the pins and binaries are there
# env:   K8S_BIN   where the binaries go (default below: outside the clone, so a fresh clone on the same
#                  machine finds them warm)
#        KUBE_VERSION, KWOK_VERSION, HELM_VERSION, PROM_OPERATOR_VERSION   pins (defaults below)
#        GOMODCACHE, GOCACHE   Go's caches, kept: with them warm, a rebuild is links only (~1.5-2 min, not ~13)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
PROM_OPERATOR_VERSION=${PROM_OPERATOR_VERSION:-v0.85.0}
K8S_BIN=${K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-session-gateway/k8s-$KUBE_VERSION}

bins="etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm"
crds="servicemonitors prometheusrules"
# The stamp names every pin and this script's content: a changed recipe rebuilds.
want="kube=$KUBE_VERSION kwok=$KWOK_VERSION helm=$HELM_VERSION prom-operator=$PROM_OPERATOR_VERSION recipe=$(sha256sum "$here/build.sh" | cut -c1-12)"
stamp=$K8S_BIN/.versions
complete() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || return 1
  for b in $bins; do [ -x "$K8S_BIN/$b" ] || return 1; done
  for c in $crds; do [ -f "$K8S_BIN/crds/$c.yaml" ] || return 1; done
}
if complete; then echo "build.sh: up to date in $K8S_BIN"; exit 0; fi

command -v go >/dev/null || { echo "build.sh: needs Go (>= 1.26 for Kubernetes 1.37): https://go.dev/dl (Debian 12's golang-go is 1.19, too old)" >&2; exit 1; }
older() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ] && [ "$1" != "$2" ]; }
need_go() { # go.mod file: when this Go is older than the module asks, have Go fetch that toolchain (Go >= 1.21
            # does, from the module proxy, as the module golang.org/toolchain) or fail early and clearly
  local need have
  need=$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$1")
  have=$(go env GOVERSION | sed 's/^go//')
  older "$have" "$need" || return 0
  if older "$have" 1.21; then echo "build.sh: $1 needs Go >= $need; this is Go $have (too old to fetch it): https://go.dev/dl" >&2; exit 1; fi
  echo "build.sh: Go $have is older than $need: using toolchain go$need (GOTOOLCHAIN)"
  export GOTOOLCHAIN=go$need
}
gomod_of() { go mod download -json "$1" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p'; }
dir_of() { go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p'; }

start=$(date +%s)
mkdir -p "$K8S_BIN"
rm -f "$stamp"
src=$K8S_BIN/.src   # a throwaway module whose only job is to build upstream main packages
rm -rf "$src"; mkdir -p "$src"
cd "$src"

# k8s.io/kubernetes is not meant to be imported: its go.mod points each k8s.io/* staging module at
# ./staging/src/...; mapping each to its published v0.<minor>.<patch> makes it buildable from the proxy.
kmod=$(gomod_of "k8s.io/kubernetes@$KUBE_VERSION")
[ -f "$kmod" ] || { echo "build.sh: could not download k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }
need_go "$kmod"
staging=v0.${KUBE_VERSION#v1.}
etcd=$(sed -n 's#^[[:space:]]*go.etcd.io/etcd/server/v3 \(v[^ ]*\).*#\1#p' "$kmod")
[ -n "$etcd" ] || { echo "build.sh: k8s.io/kubernetes@$KUBE_VERSION pins no etcd server" >&2; exit 1; }
printf 'module k8stestbins\n\ngo %s\n' "$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$kmod")" > go.mod
for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$kmod"); do go mod edit "-replace=$m=$m@$staging"; done
go mod edit "-require=k8s.io/kubernetes@$KUBE_VERSION" "-require=go.etcd.io/etcd/server/v3@$etcd" "-require=sigs.k8s.io/kwok@$KWOK_VERSION"

# The version stamps a release build sets (hack/lib/version.sh). Without them the servers say v0.0.0-master
# and a chart's kubeVersion constraint refuses to install.
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld="$ld -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
echo "build.sh: Kubernetes $KUBE_VERSION (etcd $etcd), kwok $KWOK_VERSION -> $K8S_BIN"
# One go build for every main package: shared packages compile once, links run in parallel.
go build -mod=mod -trimpath -ldflags "$ld" -o "$K8S_BIN/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl sigs.k8s.io/kwok/cmd/kwok
go build -mod=mod -trimpath -ldflags "-s -w" -o "$K8S_BIN/etcd" go.etcd.io/etcd/server/v3

echo "build.sh: helm $HELM_VERSION"
# helm's Makefile stamps the Kubernetes version its client speaks; a plain go install keeps the source default
# (1.20), and `helm template`/`helm lint` would then judge the chart's kubeVersion against Kubernetes 1.20.
hmod=$(gomod_of "helm.sh/helm/v3@$HELM_VERSION")
cg=$(sed -n 's#^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*#\1#p' "$hmod" | head -1)
hld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do hld="$hld -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$cg"; done
GOBIN="$K8S_BIN" go install -trimpath -ldflags "$hld" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"

echo "build.sh: prometheus-operator $PROM_OPERATOR_VERSION CRDs"
pdir=$(dir_of "github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION")
mkdir -p "$K8S_BIN/crds"
for c in $crds; do cp "$pdir/example/prometheus-operator-crd/monitoring.coreos.com_$c.yaml" "$K8S_BIN/crds/$c.yaml"; chmod 644 "$K8S_BIN/crds/$c.yaml"; done

echo "$want" > "$stamp"
complete || { echo "build.sh: something is missing after the build" >&2; exit 1; }
echo "build.sh: done in $(( $(date +%s) - start ))s; $(du -sh --exclude=.src "$K8S_BIN" | cut -f1) in $K8S_BIN"
