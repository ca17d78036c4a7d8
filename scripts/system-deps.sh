#!/usr/bin/env bash
# Installs the system packages a part of the project needs, with apt-get, only when they are missing.
#   scripts/system-deps.sh test    redis-server (npm test)
#   scripts/system-deps.sh interop + python3 (npm run test:interop; Go >= 1.25 from https://go.dev/dl as for test/k8s)
#   scripts/system-deps.sh bench   + haproxy, nginx, wrk (npm run bench / load baselines)
#   scripts/system-deps.sh k8s     + iproute2 (network namespaces), util-linux (unshare), curl, openssl, python3
#                                    (test/k8s; its build.sh also needs Go >= 1.26, which apt does not carry:
#                                    https://go.dev/dl, or any Go >= 1.21, which fetches the right one itself)
#   scripts/system-deps.sh browser + chromium (npm run test:browser: the status page in headless Chromium)
#   scripts/system-deps.sh instructions + valgrind (node bench/instructions.ts: instructions per request)
#   scripts/system-deps.sh all     everything above
# Without apt-get, or without root and passwordless sudo, it names what is missing and exits 1.
set -euo pipefail
group=${1:-test}
declare -A bin_of=([redis-server]=redis-server [haproxy]=haproxy [nginx]=nginx [wrk]=wrk [iproute2]=ip [util-linux]=unshare [curl]=curl [openssl]=openssl [python3]=python3 [chromium]=chromium [valgrind]=valgrind)
case "$group" in
  test) pkgs=(redis-server) ;;
  interop) pkgs=(redis-server python3) ;;
  bench) pkgs=(redis-server haproxy nginx wrk) ;;
  k8s) pkgs=(redis-server iproute2 util-linux curl openssl python3) ;;
  browser) pkgs=(redis-server chromium) ;;
  instructions) pkgs=(redis-server valgrind) ;;
  all) pkgs=(redis-server haproxy nginx wrk iproute2 util-linux curl openssl python3 chromium valgrind) ;;
  *) echo "usage: $0 test|interop|bench|k8s|browser|instructions|all" >&2; exit 2 ;;
esac
# Debian puts haproxy/nginx in /usr/sbin, which a non-root PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
missing=()
for p in "${pkgs[@]}"; do command -v "${bin_of[$p]}" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${missing[*]} (apt-get)" >&2
if ! command -v apt-get >/dev/null; then
  echo "system-deps: no apt-get here; install ${missing[*]} with your package manager" >&2; exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    echo "system-deps: need root to install ${missing[*]}: run  sudo apt-get install -y ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged services; tests run their own instances on ephemeral ports, so stop those.
for svc in redis-server nginx haproxy; do
  if [[ " ${missing[*]} " == *" $svc "* ]] && command -v service >/dev/null; then "${sudo[@]}" service "$svc" stop >/dev/null 2>&1 || true; fi
done
echo "system-deps: installed ${missing[*]}" >&2
