#!/usr/bin/env bash
# Stops the cluster's kube-apiserver and starts it again with the very same command (same port, certificates
# and etcd), then waits until it is ready. Every watch open on it is dropped, as in a control-plane upgrade;
# clients must reconnect, and may be told 410 Gone for a resourceVersion the new server's cache lacks.
# usage: K8S_RUN=... test/k8s/cluster/restart-apiserver.sh [SECONDS_DOWN]   (default 0: restart at once)
set -euo pipefail
: "${K8S_RUN:?set K8S_RUN to the directory of the cluster}"
f=$K8S_RUN/pids/kube-apiserver.pid
read -r pid start < "$f"
started_at() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '$1 != "Z" { print $20 }'; }
[ "$(started_at "$pid")" = "$start" ] || { echo "restart-apiserver.sh: the recorded kube-apiserver ($pid) is not running" >&2; exit 1; }
# SIGTERM first; kube-apiserver 1.37 can take well over 30 s to finish its graceful shutdown with clients
# attached, so after 10 s it is killed: from the clients' side either way, the connections drop.
kill -TERM "$pid"
for _ in $(seq 1 100); do [ "$(started_at "$pid")" = "$start" ] || break; sleep 0.1; done
if [ "$(started_at "$pid")" = "$start" ]; then kill -KILL "$pid"; fi
for _ in $(seq 1 100); do [ "$(started_at "$pid")" = "$start" ] || break; sleep 0.1; done
[ "$(started_at "$pid")" != "$start" ] || { echo "restart-apiserver.sh: kube-apiserver ($pid) did not stop" >&2; exit 1; }
sleep "${1:-0}"
mapfile -t cmd < "$K8S_RUN/apiserver.cmd"
"${cmd[@]}" </dev/null >>"$K8S_RUN/logs/kube-apiserver.log" 2>&1 &
pid=$!
echo "$pid $(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f20)" > "$f"
pki=$K8S_RUN/pki
for _ in $(seq 1 400); do
  if curl -sf --max-time 2 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$(cat "$K8S_RUN/apiserver.readyz")" >/dev/null 2>&1; then
    echo "restart-apiserver.sh: kube-apiserver restarted ($pid)"; exit 0
  fi
  kill -0 "$pid" 2>/dev/null || { echo "restart-apiserver.sh: kube-apiserver exited; see $K8S_RUN/logs/kube-apiserver.log" >&2; exit 1; }
  sleep 0.3
done
echo "restart-apiserver.sh: kube-apiserver not ready after 120 s" >&2; exit 1
