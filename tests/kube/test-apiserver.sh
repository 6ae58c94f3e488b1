#!/usr/bin/env bash
# A real Kubernetes API server for custom resources (the apiextensions-apiserver of Debian sid) on
# etcd, for the tests that publish NodeResourceTopology objects (docs/kubernetes.md).
# Nothing is installed into the system: apt runs on a private sources list, private lists, cache
# and an empty dpkg status; the packages are unpacked with dpkg -x into the cache. The mirror is
# the one this machine already uses (its /etc/apt/sources.list.d/*.sources or
# /etc/apt/sources.list); only the suite changes to sid.
#
# Usage:
#   test-apiserver.sh build            -> fetches and builds once (cached), prints the cache dir
#   test-apiserver.sh start RUN_DIR    -> starts etcd + the server on 127.0.0.1 with TLS and
#                                         client-certificate auth; writes RUN_DIR/kubeconfig
#                                         (user in system:masters), RUN_DIR/env and pid files
#   test-apiserver.sh stop RUN_DIR     -> stops both by their pids
#   test-apiserver.sh stop-server RUN_DIR / start-server RUN_DIR  -> only the API server
#   test-apiserver.sh kill-server RUN_DIR  -> SIGKILL the API server (a crash, no graceful
#                                         shutdown); etcd and its data stay, start-server brings it back
set -euo pipefail

cache=${TOPOD_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/topod/kube-apiserver}
suite=sid
packages=(golang-k8s-apiextensions-apiserver-dev golang-go etcd-server)
k8s_version=v1.36.4

log() { echo "test-apiserver: $*" >&2; }

# The Debian archive this machine's apt uses (scripts/debian-mirror.sh); only the suite changes.
find_mirror() {
  "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/debian-mirror.sh"
}

fetch() {
  local apt_dir=$cache/apt root=$cache/root
  [ -f "$root/.unpacked" ] && return 0
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc/preferences.d"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(find_mirror) $suite main" \
    >"$apt_dir/sources.list"
  : >"$apt_dir/status"
  local apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::State::status=$apt_dir/status" -o "APT::Sandbox::User=root"
    -o "APT::Install-Recommends=false" -qq
  )
  log "apt update ($suite, private lists)"
  apt-get "${apt_opts[@]}" update >&2
  log "downloading ${packages[*]} and their closure"
  apt-get "${apt_opts[@]}" -y install --download-only "${packages[@]}" >&2
  rm -rf "$root"
  mkdir -p "$root"
  local deb
  # Only Go sources, the toolchain and etcd are needed; the rest of the closure (libc etc., pulled
  # in by the empty status) is not unpacked.
  for deb in "$apt_dir"/cache/archives/golang-*.deb "$apt_dir"/cache/archives/etcd-server_*.deb; do
    dpkg -x "$deb" "$root"
  done
  touch "$root/.unpacked"
}

build() {
  fetch
  local root=$cache/root bin=$cache/bin/apiextensions-apiserver
  [ -x "$bin" ] && return 0
  local goroot
  goroot=$(ls -d "$root"/usr/lib/go-1.* | sort -V | tail -n1)
  mkdir -p "$cache/bin" "$cache/gocache"
  log "building the apiextensions-apiserver (cold: minutes; with a kept Go cache: seconds)"
  (cd "$root/usr/share/gocode/src/k8s.io/apiextensions-apiserver" &&
    GO111MODULE=off GOPATH="$root/usr/share/gocode" GOROOT="$goroot" GOTOOLCHAIN=local GOPROXY=off \
      CGO_ENABLED=0 GOCACHE="$cache/gocache" GOFLAGS= \
      nice "$goroot/bin/go" build -trimpath -o "$bin.tmp" \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version
        -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36" .)
  mv "$bin.tmp" "$bin"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for() { # seconds command...   (a command answering 2 gives up at once)
  local deadline=$((SECONDS + $1)) rc; shift
  until rc=0; "$@" >/dev/null 2>&1 || rc=$?; [ $rc -eq 0 ]; do
    [ $rc -ne 2 ] || return 1
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

make_certs() {
  local run=$1
  # A client CA and a client certificate in system:masters (user = CN, groups = O).
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=topod-test-client-ca" \
    -keyout "$run/client-ca.key" -out "$run/client-ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=topod-test" \
    -keyout "$run/client.key" -out "$run/client.csr" 2>/dev/null
  openssl x509 -req -in "$run/client.csr" -CA "$run/client-ca.crt" -CAkey "$run/client-ca.key" \
    -CAcreateserial -days 2 -out "$run/client.crt" 2>/dev/null
  # The server insists on a core API server; this one points nowhere (see --authentication-skip-lookup).
  cat >"$run/dummy-kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: none, user: {}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
EOF
}

start_server() {
  local run=$1
  # shellcheck disable=SC1091
  . "$run/env"
  "$cache/bin/apiextensions-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" --bind-address=127.0.0.1 --secure-port="$API_PORT" \
    --cert-dir="$run/serving" --kubeconfig="$run/dummy-kubeconfig" \
    --authentication-kubeconfig="$run/dummy-kubeconfig" --authorization-kubeconfig="$run/dummy-kubeconfig" \
    --authentication-skip-lookup --client-ca-file="$run/client-ca.crt" \
    --disable-admission-plugins=NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,MutatingAdmissionPolicy \
    --enable-priority-and-fairness=false >"$run/apiserver.log" 2>&1 &
  echo $! >"$run/apiserver.pid"
  local url="https://127.0.0.1:$API_PORT/readyz?exclude=informer-sync" pid
  pid=$(cat "$run/apiserver.pid")
  ready() { kill -0 "$pid" 2>/dev/null || return 2; curl -sf --cacert "$run/serving/apiserver.crt" "$url"; }
  # The delegating authorizer lets system:masters do everything (the client certificate's O).
  if ! wait_for 60 ready || ! kill -0 "$pid" 2>/dev/null; then
    log "API server not ready in 60 s; log:"; tail -n 30 "$run/apiserver.log" >&2; return 1
  fi
}

stop_pid() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$file"
}

start() {
  local run=$1
  build
  mkdir -p "$run/serving" "$run/etcd"
  run=$(cd "$run" && pwd)
  make_certs "$run"
  local etcd_port peer_port api_port
  etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)
  printf 'ETCD_PORT=%s\nAPI_PORT=%s\n' "$etcd_port" "$api_port" >"$run/env"
  "$cache/root/usr/bin/etcd" --name topod-test --data-dir "$run/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "topod-test=http://127.0.0.1:$peer_port" >"$run/etcd.log" 2>&1 &
  echo $! >"$run/etcd.pid"
  wait_for 30 curl -sf "http://127.0.0.1:$etcd_port/health" || { log "etcd not healthy"; exit 1; }
  start_server "$run"
  cat >"$run/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $run/serving/apiserver.crt
users:
- name: test
  user:
    client-certificate: $run/client.crt
    client-key: $run/client.key
contexts:
- name: test
  context: {cluster: test, user: test}
current-context: test
EOF
  install_crd "$run"
  echo "$run"
}

# The NodeResourceTopology CRD of deploy/ (the API server takes YAML bodies), then Established.
install_crd() {
  local run=$1 crd
  crd=$(cd "$(dirname "$0")/../../deploy" && pwd)/noderesourcetopology-crd.yaml
  # shellcheck disable=SC1091
  . "$run/env"
  local base="https://127.0.0.1:$API_PORT/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
  local auth=(--cacert "$run/serving/apiserver.crt" --cert "$run/client.crt" --key "$run/client.key")
  curl -sf "${auth[@]}" -X POST -H 'Content-Type: application/yaml' --data-binary @"$crd" "$base" >/dev/null ||
    { log "creating the CRD failed"; exit 1; }
  established() {
    curl -sf "${auth[@]}" "$base/noderesourcetopologies.topology.node.k8s.io" |
      python3 -c 'import json,sys; c=json.load(sys.stdin)["status"].get("conditions",[]); sys.exit(0 if any(x["type"]=="Established" and x["status"]=="True" for x in c) else 1)'
  }
  wait_for 30 established || { log "CRD not Established in 30 s"; exit 1; }
}

case ${1:-} in
  build) build; echo "$cache" ;;
  start) start "${2:?run dir}" ;;
  start-server) start_server "$(cd "${2:?run dir}" && pwd)" ;;
  stop-server) stop_pid "${2:?run dir}/apiserver.pid" ;;
  kill-server)
    pid=$(cat "${2:?run dir}/apiserver.pid") && kill -KILL "$pid" && rm -f "$2/apiserver.pid"
    # Gone, or a zombie its new parent has not reaped yet: either way it serves nothing.
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ] || exit 0
      sleep 0.1
    done
    exit 1 ;;
  stop) stop_pid "${2:?run dir}/apiserver.pid"; stop_pid "$2/etcd.pid" ;;
  *) echo "usage: $0 build | start RUN_DIR | stop RUN_DIR | start-server RUN_DIR | stop-server RUN_DIR | kill-server RUN_DIR" >&2; exit 2 ;;
esac
