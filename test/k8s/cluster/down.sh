#!/usr/bin/env bash
# Stops exactly the processes up.sh started, by the pids it recorded in $K8S_RUN/pids. A pid is signalled only
# while its start time still matches the recorded one, so a pid the system reused is never hit. Logs and data
# stay in $K8S_RUN for a post-mortem.
# usage: K8S_RUN=... test/k8s/cluster/down.sh
set -uo pipefail
: "${K8S_RUN:?set K8S_RUN to the directory of the cluster}"
pids=$K8S_RUN/pids
[ -d "$pids" ] || exit 0

# Field 22 of /proc/PID/stat (start time), or nothing once the process is gone or a zombie.
started_at() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '$1 != "Z" { print $20 }'; }

stop() { # name: TERM, up to 15 s, then KILL
  local f=$pids/$1.pid pid start
  [ -f "$f" ] || return 0
  read -r pid start < "$f"
  if [ -n "$pid" ] && [ "$(started_at "$pid")" = "$start" ]; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 150); do [ "$(started_at "$pid")" = "$start" ] || break; sleep 0.1; done
    if [ "$(started_at "$pid")" = "$start" ]; then
      echo "down.sh: $1 ($pid) ignored SIGTERM for 15 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -f "$f"
}
# Clients before the API server, the API server before its store.
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$name"; done
echo "down.sh: stopped the cluster in $K8S_RUN"
