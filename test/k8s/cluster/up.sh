#!/usr/bin/env bash
# Starts a real Kubernetes control plane on loopback from the binaries build.sh made:
#   etcd -> kube-apiserver (TLS, client certificates, ServiceAccount tokens, RBAC) -> kube-controller-manager
#   (Deployments, ReplicaSets, EndpointSlices, ...) and kube-scheduler -> kwok (fake kubelets) with Ready nodes.
# Pods are API objects only: scheduled, Running and Ready with pod IPs, but no process runs for them.
#
# usage: test/k8s/cluster/up.sh      waits until all is ready (bounded), then writes $K8S_RUN/env:
#        . "$K8S_RUN/env"            KUBECONFIG, K8S_BIN (kubectl, helm) on PATH
#        test/k8s/cluster/down.sh    stops exactly what this started
# env:   K8S_BIN           binaries (default: build.sh's default)
#        K8S_RUN           state: pids, logs, certificates, kubeconfig, etcd data (required: one per cluster;
#                          wiped at start). Ports are picked free, so clusters with different K8S_RUN coexist.
#        K8S_NODES         fake nodes (default 2, in zones zone-0, zone-1, ...)
#        K8S_UP_TIMEOUT    seconds to wait for everything (default 120)
#        K8S_POD_CIDR      pod IPs (default 198.18.0.0/16, RFC 2544 benchmarking range: EndpointSlices refuse
#                          loopback addresses; nothing may dial these unless a test made hosts for them)
#        K8S_SERVICE_CIDR  ClusterIPs (default 198.19.0.0/16; no kube-proxy: they route nowhere)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${K8S_RUN:?set K8S_RUN to a directory of its own (e.g. K8S_RUN=\$(mktemp -d))}"
K8S_BIN=${K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-session-gateway/k8s-v1.37.2}
K8S_NODES=${K8S_NODES:-2}
K8S_UP_TIMEOUT=${K8S_UP_TIMEOUT:-120}
K8S_POD_CIDR=${K8S_POD_CIDR:-198.18.0.0/16}
K8S_SERVICE_CIDR=${K8S_SERVICE_CIDR:-198.19.0.0/16}

for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
  [ -x "$K8S_BIN/$b" ] || { echo "up.sh: $K8S_BIN/$b is missing: run test/k8s/cluster/build.sh first" >&2; exit 1; }
done
for t in openssl curl python3 base64; do
  command -v "$t" >/dev/null || { echo "up.sh: needs $t (scripts/system-deps.sh k8s installs it)" >&2; exit 1; }
done
K8S_BIN=$(cd "$K8S_BIN" && pwd)
mkdir -p "$K8S_RUN"
K8S_RUN=$(cd "$K8S_RUN" && pwd)
export K8S_BIN K8S_RUN
if ls "$K8S_RUN"/pids/*.pid >/dev/null 2>&1; then
  echo "up.sh: $K8S_RUN has recorded processes; run test/k8s/cluster/down.sh first" >&2; exit 1
fi
rm -rf "$K8S_RUN/etcd" "$K8S_RUN/pki" "$K8S_RUN/logs" "$K8S_RUN/pids" "$K8S_RUN/kubeconfig" "$K8S_RUN/env"
mkdir -p "$K8S_RUN/pki" "$K8S_RUN/logs" "$K8S_RUN/pids"
start_time=$(date +%s)
deadline=$(( start_time + K8S_UP_TIMEOUT ))
ok=0
trap '[ "$ok" = 1 ] || "$here/down.sh" >&2 || true' EXIT

read -r ETCD_PORT PEER_PORT API_PORT KCM_PORT SCHED_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

# --- certificates: one CA; the API server's serving certificate; an admin client certificate (system:masters)
pki=$K8S_RUN/pki
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
sign() { # name subject extensions
  newkey "$pki/$1.key"
  openssl req -new -key "$pki/$1.key" -subj "$2" -out "$pki/$1.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 -sha256 \
    -extfile <(printf '%b\n' "$3") -out "$pki/$1.crt" 2>/dev/null
}
newkey "$pki/ca.key"
openssl req -x509 -new -key "$pki/ca.key" -sha256 -days 3650 -subj "/CN=mcp-gateway-test-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$pki/ca.crt" 2>/dev/null
sign apiserver "/CN=kube-apiserver" \
  "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth"
sign admin "/O=system:masters/CN=test-admin" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth"
newkey "$pki/sa.key"   # signs ServiceAccount tokens (TokenRequest: kubectl create token)
openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

b64() { base64 -w0 < "$1"; }
cat > "$K8S_RUN/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(b64 "$pki/ca.crt")
users:
- name: test-admin
  user:
    client-certificate-data: $(b64 "$pki/admin.crt")
    client-key-data: $(b64 "$pki/admin.key")
contexts:
- name: test
  context: {cluster: test, user: test-admin, namespace: default}
current-context: test
KC
chmod 600 "$K8S_RUN/kubeconfig"
kc=$K8S_RUN/kubeconfig
kubectl() { "$K8S_BIN/kubectl" --kubeconfig="$kc" "$@"; }

# --- processes: pid and start time (field 22 of /proc/PID/stat) go to pids/NAME.pid, for down.sh ----------
start() { # name command...
  local name=$1; shift
  "$@" </dev/null >>"$K8S_RUN/logs/$name.log" 2>&1 &
  local pid=$!
  echo "$pid $(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f20)" > "$K8S_RUN/pids/$name.pid"
}
alive() { local pid _; read -r pid _ < "$K8S_RUN/pids/$1.pid"; kill -0 "$pid" 2>/dev/null; }
wait_for() { # what process command...
  local what=$1 proc=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if ! alive "$proc"; then
      echo "up.sh: $proc exited while waiting for $what; end of $K8S_RUN/logs/$proc.log:" >&2
      tail -n 20 "$K8S_RUN/logs/$proc.log" >&2; exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "up.sh: no $what within ${K8S_UP_TIMEOUT}s; end of $K8S_RUN/logs/$proc.log:" >&2
      tail -n 20 "$K8S_RUN/logs/$proc.log" >&2; exit 1
    fi
    sleep 0.3
  done
}
https_ok() { curl -sf --max-time 2 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$1"; }
insecure_ok() { curl -skf --max-time 2 "$1"; }   # kcm and scheduler serve self-signed; only /healthz is read

start etcd "$K8S_BIN/etcd" --name=test --data-dir="$K8S_RUN/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$PEER_PORT" \
  --initial-cluster="test=http://127.0.0.1:$PEER_PORT" --unsafe-no-fsync --log-level=warn
wait_for "etcd health" etcd curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"

# The API server's command goes to a file of its own, so restart-apiserver.sh can stop and start it exactly
# as it was (same port, same certificates, same etcd): how a test makes the server drop every watch.
# (--endpoint-reconciler-type=none: the built-in "kubernetes" Service would otherwise get 127.0.0.1 as its
#  endpoint, which validation rejects, logged every few seconds.)
cat > "$K8S_RUN/apiserver.cmd" <<CMD
$K8S_BIN/kube-apiserver
--etcd-servers=http://127.0.0.1:$ETCD_PORT
--bind-address=127.0.0.1
--advertise-address=127.0.0.1
--secure-port=$API_PORT
--tls-cert-file=$pki/apiserver.crt
--tls-private-key-file=$pki/apiserver.key
--client-ca-file=$pki/ca.crt
--cert-dir=$pki/generated
--service-account-issuer=https://kubernetes.default.svc.cluster.local
--service-account-key-file=$pki/sa.pub
--service-account-signing-key-file=$pki/sa.key
--service-cluster-ip-range=$K8S_SERVICE_CIDR
--authorization-mode=RBAC
--endpoint-reconciler-type=none
--profiling=false
CMD
mapfile -t apiserver < "$K8S_RUN/apiserver.cmd"
start kube-apiserver "${apiserver[@]}"
wait_for "kube-apiserver /readyz" kube-apiserver https_ok "https://127.0.0.1:$API_PORT/readyz"
echo "https://127.0.0.1:$API_PORT/readyz" > "$K8S_RUN/apiserver.readyz"

# --authentication-skip-lookup: there is no front-proxy CA; without it both log "missing content for CA bundle".
common=(--kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc"
        --authentication-skip-lookup --client-ca-file="$pki/ca.crt" --leader-elect=false --bind-address=127.0.0.1)
start kube-controller-manager "$K8S_BIN/kube-controller-manager" "${common[@]}" --secure-port="$KCM_PORT" \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --service-cluster-ip-range="$K8S_SERVICE_CIDR" --cluster-name=test
start kube-scheduler "$K8S_BIN/kube-scheduler" "${common[@]}" --secure-port="$SCHED_PORT"
# --node-lease-duration-seconds: kwok alone keeps no node Lease (default 0); the node lifecycle controller would
# then mark the nodes NotReady after 40 s, and every pod on them not ready.
start kwok "$K8S_BIN/kwok" --kubeconfig="$kc" --config="$here/kwok-stages.yaml" --manage-all-nodes=true \
  --cidr="$K8S_POD_CIDR" --node-ip=127.0.0.1 --node-lease-duration-seconds=40
wait_for "kube-controller-manager /healthz" kube-controller-manager insecure_ok "https://127.0.0.1:$KCM_PORT/healthz"
wait_for "kube-scheduler /healthz" kube-scheduler insecure_ok "https://127.0.0.1:$SCHED_PORT/healthz"
# Pods can be created once the ServiceAccount controller has made the namespace's "default" account.
wait_for "the default ServiceAccount" kube-controller-manager kubectl -n default get serviceaccount default

for i in $(seq 0 $(( K8S_NODES - 1 ))); do
  cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: zone-$i
    type: kwok
  annotations:
    kwok.x-k8s.io/node: fake
NODE
done > "$K8S_RUN/nodes.yaml"
wait_for "Node objects" kube-apiserver kubectl apply -f "$K8S_RUN/nodes.yaml"
nodes_ready() { [ "$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')" -eq "$K8S_NODES" ]; }
wait_for "$K8S_NODES Ready node(s)" kwok nodes_ready

cat > "$K8S_RUN/env" <<ENV
export KUBECONFIG='$kc'
export K8S_BIN='$K8S_BIN'
export K8S_RUN='$K8S_RUN'
export PATH="$K8S_BIN:\$PATH"
ENV
ok=1
echo "up.sh: ready in $(( $(date +%s) - start_time ))s: kube-apiserver https://127.0.0.1:$API_PORT, $K8S_NODES kwok node(s), state in $K8S_RUN"
