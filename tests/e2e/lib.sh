# shellcheck shell=bash
# Helpers of the end-to-end harness (run-e2e.sh): processes, CRI calls and the kernel's view.
# Sourced, not run. Every assertion reads cgroup files or /proc, never topod's own output.

CGROOT=${CGROOT:-/sys/fs/cgroup}
# The layout (docs/e2e.md, "Layouts"): cgroup v1 (hybrid or legacy) or v2 (unified), and the
# kubelet's cgroup driver, cgroupfs or systemd (run-e2e.sh --cgroup-driver).
CGROUP_VERSION=$([ "$(stat -fc %T "$CGROOT" 2>/dev/null)" = cgroup2fs ] && echo v2 || echo v1)
CGROUP_DRIVER=${CGROUP_DRIVER:-cgroupfs}
# The CPUs the scenarios expect (the 2-CPU build machine by default; the VM stage sets its own):
# reserved for the system, what a Guaranteed 1-CPU container gets, and the shared pool meanwhile.
E2E_RESERVED_CPUS=${E2E_RESERVED_CPUS:-0}
EXCL=${E2E_EXCL_CPUS:-1}
SHARED=${E2E_SHARED_CPUS:-0}

log() { printf '[e2e %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

fail() {
  log "FAIL: $*"
  E2E_FAILED=1
  return 1
}

# cri ARGS...: the CRI test client against this run's containerd.
cri() {
  "$CRI_CLIENT" --socket "$RUN/containerd.sock" --state-dir "$RUN/cri" --timeout "${E2E_CRI_TIMEOUT:-30}" \
    --cgroup-driver "$CGROUP_DRIVER" "$@"
}

# --- containerd ---------------------------------------------------------------------------------

start_containerd() {
  log "starting containerd"
  TOPOD_CONNECTIONS_BEFORE=$(topod_connections)
  PATH="$RUN/containerd/usr/bin:$PATH" setsid "$RUN/containerd/usr/bin/containerd" \
    --config "$RUN/containerd.toml" >>"$RUN/containerd.log" 2>&1 </dev/null &
  CONTAINERD_PID=$!
  local i
  for i in $(seq 1 100); do
    if [ -S "$RUN/containerd.sock" ] && cri version >/dev/null 2>&1; then
      log "containerd $CONTAINERD_PID up: $(cri version)"
      return 0
    fi
    kill -0 "$CONTAINERD_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "containerd did not come up"
}

stop_containerd() {
  [ -n "${CONTAINERD_PID:-}" ] || return 0
  stop_pid "$CONTAINERD_PID" containerd
  CONTAINERD_PID=
}

# stop_pid PID NAME: SIGTERM, wait up to 10 s, then SIGKILL. Only ever a pid this harness started.
stop_pid() {
  local pid=$1 name=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  log "$name ($pid) ignored SIGTERM for 10 s; SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# --- topod ---------------------------------------------------------------------------------------

# A free loopback port for topod's metrics: the default 9412 may be taken by another topod on
# this machine (a unit test's, another worktree's).
pick_metrics_port() {
  local port i
  for i in $(seq 1 50); do
    port=$(shuf -i 20000-59999 -n 1)
    if [ -z "$(ss -Htln "sport = :$port")" ]; then
      echo "$port"
      return 0
    fi
  done
  echo 9412
}

write_topod_config() {
  mkdir -p "$RUN/topod-state"
  TOPOD_METRICS="127.0.0.1:$(pick_metrics_port)"
  cat >"$RUN/topod.toml" <<TOML
log_level = "debug"
state_dir = "$RUN/topod-state"

[nri]
socket_path = "$RUN/nri.sock"
plugin_name = "topod"
plugin_index = "90"

[metrics]
address = "$TOPOD_METRICS"

[api]
socket_path = "$RUN/api/api.sock"

[policy]
name = "${TOPOD_E2E_POLICY:-topology-aware}"
# The 2-CPU build machine: CPU 0 for the system, CPU 1 the only one that can be exclusive.
reserved_cpus = "$E2E_RESERVED_CPUS"
${E2E_POLICY_EXTRA:-}
TOML
  # With the test API server (TOPOD_E2E_KUBE=1, run-e2e.sh starts it): publish the NRT object.
  if [ -n "${KUBE_RUN:-}" ]; then
    cat >>"$RUN/topod.toml" <<TOML

[kubernetes]
enabled = true
kubeconfig = "$KUBE_RUN/kubeconfig"
node_name = "$E2E_NODE"
publish_interval_ms = 500
TOML
    # And answer Evictions (docs/eviction.md) when the CRDs are there: short polls for the test.
    if [ -x "${EVICTION_CONTROLLER:-}" ]; then
      cat >>"$RUN/topod.toml" <<TOML

[eviction]
enabled = true
notice_dir = "$RUN/evictions"
poll_interval_ms = 200
deadline_s = 120
TOML
    fi
  fi
}

# The NRT object of $E2E_NODE from the test API server, then the 'available' cpu of node-0;
# prints "" when it cannot be read.
nrt_available_cpu() {
  # shellcheck disable=SC1091
  . "$KUBE_RUN/env"
  curl -sf --max-time 2 --cacert "$KUBE_RUN/serving/apiserver.crt" --cert "$KUBE_RUN/client.crt" \
    --key "$KUBE_RUN/client.key" \
    "https://127.0.0.1:$API_PORT/apis/topology.node.k8s.io/v1alpha2/noderesourcetopologies/$E2E_NODE" |
    python3 -c 'import json, sys
o = json.load(sys.stdin)
print(next(r["available"] for z in o["zones"] if z["name"] == "node-0" for r in z["resources"] if r["name"] == "cpu"))' \
      2>/dev/null
}

# Waits until the object shows `want` available CPUs on node-0; prints the milliseconds it took
# from `since` (date +%s.%N), or fails after `limit_ms`.
wait_nrt_cpu() {
  local want=$1 since=$2 limit_ms=$3 now took
  while :; do
    if [ "$(nrt_available_cpu)" = "$want" ]; then
      awk -v s="$since" -v e="$(date +%s.%N)" 'BEGIN { printf "%d", (e - s) * 1000 }'
      return 0
    fi
    now=$(date +%s.%N)
    took=$(awk -v s="$since" -v e="$now" 'BEGIN { printf "%d", (e - s) * 1000 }')
    [ "$took" -lt "$limit_ms" ] || return 1
    sleep 0.02
  done
}

# True when the topod binary has the NRI agent, `topod run`. Once it does, the topod scenarios
# run and a config it rejects is a failure, not a reason to skip them.
topod_supports_run() {
  [ -x "${TOPOD:-}" ] || return 1
  # `topod --help` lists the subcommands; `topod run --help` alone proves nothing, as the parser
  # prints the top-level help for an unknown word followed by --help.
  "$TOPOD" --help 2>/dev/null | grep -qE '^[[:space:]]+run([[:space:]]|$)'
}

start_topod() {
  log "starting topod"
  TOPOD_CONNECTIONS_BEFORE=$(topod_connections)
  echo "---- topod start $(date -u +%T.%N)" >>"$RUN/topod.log"
  setsid "$TOPOD" run --config "$RUN/topod.toml" >>"$RUN/topod.log" 2>&1 </dev/null &
  TOPOD_PID=$!
}

# topod_cli COMMAND [ARGS]: `topod status|allocations|explain` against the agent's API socket.
topod_cli() { "$TOPOD" "$1" --socket "$RUN/api/api.sock" "${@:2}"; }

stop_topod() {
  [ -n "${TOPOD_PID:-}" ] || return 0
  stop_pid "$TOPOD_PID" topod
  TOPOD_PID=
}

# --- metrics ([metrics] address, docs/metrics.md) -------------------------------------------------

# scrape [PATH]: the body of topod's endpoint (default /metrics); fails on a non-2xx answer.
scrape() {
  curl -sf --max-time 5 "http://$TOPOD_METRICS${1:-/metrics}"
}

# metric SERIES: the value of one sample (name with its labels, exactly as exposed), read from a
# fresh scrape; 0 when the series is absent (a counter nothing has counted yet).
metric() {
  local body
  body=$(scrape) || { fail "scraping http://$TOPOD_METRICS/metrics"; return 1; }
  awk -v series="$1" '$1 == series { value = $2 } END { print (value == "" ? 0 : value) }' <<<"$body"
}

# expect_metric SERIES OP VALUE WHAT: e.g. expect_metric topod_x_total -gt 3 "..." (integers).
expect_metric() {
  local got i
  # Gauges read at scrape time follow the event at once; a few retries cover an update the
  # unsolicited sender has not applied yet.
  for i in $(seq 1 20); do
    got=$(metric "$1") || return 1
    [ "${got%.*}" "$2" "$3" ] && { log "ok: $4 ($1 = $got)"; return 0; }
    sleep 0.1
  done
  fail "$4: $1 is $got, want $2 $3"
}

# --- pods and containers ------------------------------------------------------------------------

# run_pod NAME UID [quantity options] -> pod id on stdout; the pod is remembered for cleanup.
run_pod() {
  local id
  id=$(cri run-pod --name "$1" --uid "$2" "${@:3}") || { fail "run-pod $1 failed"; return 1; }
  echo "$id" >>"$RUN/pods"
  echo "$id"
}

# start_container POD NAME [quantity options] -> container id on stdout.
start_container() {
  local id
  id=$(cri create --pod "$1" --name "$2" "${@:3}") || { fail "create $2 failed"; return 1; }
  cri start "$id" || { fail "start $2 ($id) failed"; return 1; }
  echo "$id"
}

remove_container() {
  cri stop "$1" >/dev/null && cri rm "$1" >/dev/null
}

remove_pod() {
  cri stop-pod "$1" >/dev/null && cri rm-pod "$1" >/dev/null
}

remove_all_pods() {
  [ -f "$RUN/pods" ] || return 0
  local pod
  while read -r pod; do
    [ -n "$pod" ] || continue
    cri stop-pod "$pod" >/dev/null 2>&1 || true
    cri rm-pod "$pod" >/dev/null 2>&1 || true
  done <"$RUN/pods"
  : >"$RUN/pods"
}

# --- the kernel's view ------------------------------------------------------------------------------

# The layout's names: where the kubelet-shaped tree starts, and what runc calls a container's
# cgroup (cgroupfs: the container id; systemd: the scope containerd asks for, cri-containerd-<id>).
kubepods_top() { [ "$CGROUP_DRIVER" = systemd ] && echo kubepods.slice || echo kubepods; }
container_cgroup_name() { [ "$CGROUP_DRIVER" = systemd ] && echo "cri-containerd-$1.scope" || echo "$1"; }

# cg_dir CONTROLLER REL: a cgroup's directory (v1: in the controller's hierarchy; v2: one tree).
cg_dir() { [ "$CGROUP_VERSION" = v2 ] && echo "$CGROOT$2" || echo "$CGROOT/$1$2"; }

# container_cgroup ID: the container's cgroup path relative to the (v1: cpuset) hierarchy root,
# found by the runtime's own naming below the kubelet's tree.
container_cgroup() {
  local base dir
  base=$(cg_dir cpuset "")
  dir=$(find "$base/$(kubepods_top)" -maxdepth 3 -type d -name "$(container_cgroup_name "$1")" -print -quit 2>/dev/null)
  [ -n "$dir" ] || return 1
  echo "${dir#"$base"}"
}

# pod_cgroup ID: the pod's cgroup (the container's parent), relative as above.
pod_cgroup() {
  local rel
  rel=$(container_cgroup "$1") || return 1
  dirname "$rel"
}

# cg_value KIND REL: the kernel's value of one cgroup (container or pod) in v1 terms, whatever the
# layout: cpus and mems (v2: the effective sets), shares (v2: cpu.weight), quota (-1: none; v2:
# cpu.max's first word), period, memory (max: no limit; v1's 9223372036854771712 reads as max).
cg_value() {
  local kind=$1 rel=$2 v
  if [ "$CGROUP_VERSION" = v2 ]; then
    case $kind in
      cpus) v=$(cat "$CGROOT$rel/cpuset.cpus.effective") ;;
      mems) v=$(cat "$CGROOT$rel/cpuset.mems.effective") ;;
      shares) v=$(cat "$CGROOT$rel/cpu.weight") ;;
      quota) v=$(awk '{ print ($1 == "max" ? -1 : $1) }' "$CGROOT$rel/cpu.max") ;;
      period) v=$(awk '{ print $2 }' "$CGROOT$rel/cpu.max") ;;
      memory) v=$(cat "$CGROOT$rel/memory.max") ;;
    esac
  else
    case $kind in
      cpus) v=$(cat "$CGROOT/cpuset$rel/cpuset.cpus") ;;
      mems) v=$(cat "$CGROOT/cpuset$rel/cpuset.mems") ;;
      shares) v=$(cat "$CGROOT/cpu$rel/cpu.shares") ;;
      quota) v=$(cat "$CGROOT/cpu$rel/cpu.cfs_quota_us") ;;
      period) v=$(cat "$CGROOT/cpu$rel/cpu.cfs_period_us") ;;
      memory) v=$(sed 's/^9223372036854771712$/max/' "$CGROOT/memory$rel/memory.limit_in_bytes") ;;
    esac
  fi 2>/dev/null
  echo "${v:-<unreadable $kind of $rel>}"
}

# layout_value KIND WANT: an expected value in this layout's terms (v2: shares as the kubelet's
# cpu.weight, 1 + (shares - 2) * 9999 / 262142).
layout_value() {
  if [ "$CGROUP_VERSION" = v2 ] && [ "$1" = shares ]; then
    echo $((1 + ($2 - 2) * 9999 / 262142))
  else
    echo "$2"
  fi
}

# The file a kind is read from, for the log.
cg_file_name() {
  if [ "$CGROUP_VERSION" = v2 ]; then
    case $1 in cpus) echo cpuset.cpus.effective ;; mems) echo cpuset.mems.effective ;; shares) echo cpu.weight ;;
      quota) echo "cpu.max (quota)" ;; period) echo "cpu.max (period)" ;; memory) echo memory.max ;; esac
  else
    case $1 in cpus) echo cpuset.cpus ;; mems) echo cpuset.mems ;; shares) echo cpu.shares ;;
      quota) echo cpu.cfs_quota_us ;; period) echo cpu.cfs_period_us ;; memory) echo memory.limit_in_bytes ;; esac
  fi
}

# cg KIND ID: one value of a container's cgroup.
cg() {
  local rel
  rel=$(container_cgroup "$2") || { echo "<no cgroup for $2>"; return 1; }
  cg_value "$1" "$rel"
}

# main_pid ID: the container's first process, from its cgroup.
main_pid() {
  local rel
  rel=$(container_cgroup "$1") || return 1
  head -n1 "$(cg_dir cpuset "$rel")/cgroup.procs"
}

# allowed_cpus ID: Cpus_allowed_list of the container's process, from /proc.
allowed_cpus() {
  local pid
  pid=$(main_pid "$1") || { echo "<no process>"; return 1; }
  awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$pid/status"
}

# expect_cpus ID WANT WHAT: the cgroup's cpus (v2: effective) and the process's Cpus_allowed_list
# both equal WANT, within E2E_EXPECT_SECONDS (default 5 s; topod changes running containers through the runtime, asynchronously).
expect_cpus() {
  local id=$1 want=$2 what=$3 got_cg got_proc end
  end=$((SECONDS + ${E2E_EXPECT_SECONDS:-5}))
  while :; do
    got_cg=$(cg cpus "$id")
    got_proc=$(allowed_cpus "$id")
    [ "$got_cg" = "$want" ] && [ "$got_proc" = "$want" ] && { log "ok: $what: cpus $want"; return 0; }
    [ "$SECONDS" -lt "$end" ] || break
    sleep 0.1
  done
  fail "$what: want cpus $want, $(cg_file_name cpus)=$got_cg Cpus_allowed_list=$got_proc"
}

# expect_value KIND GOT WANT WHAT [WHERE]: GOT read from a cgroup file of KIND against WANT in
# v1 terms (shares, quota -1 for none, memory max for no limit; layout_value converts).
expect_value() {
  local want file
  want=$(layout_value "$1" "$3")
  file="${5:+$5 }$(cg_file_name "$1")"
  [ "$2" = "$want" ] || { fail "$4: $file is $2, want $want"; return 1; }
  log "ok: $4: $file = $want"
}

# expect_cg KIND ID WANT WHAT: one value of a container's cgroup.
expect_cg() { expect_value "$1" "$(cg "$1" "$2")" "$3" "$4"; }

# expect_pod_cg KIND POD_REL WANT WHAT: the same for a pod cgroup (pod_cgroup's path).
expect_pod_cg() { expect_value "$1" "$(cg_value "$1" "$2")" "$3" "$4" "$2"; }

# pod_parent_glob QOS: where the kubelet puts a pod of the QoS class in this layout.
pod_parent_glob() {
  if [ "$CGROUP_DRIVER" = systemd ]; then
    case $1 in
      guaranteed) echo "/kubepods.slice/kubepods-pod*.slice" ;;
      *) echo "/kubepods.slice/kubepods-$1.slice/kubepods-$1-pod*.slice" ;;
    esac
  else
    case $1 in guaranteed) echo "/kubepods/pod*" ;; *) echo "/kubepods/$1/pod*" ;; esac
  fi
}

# The cpus of one NUMA node, and the nodes a CPU list touches (sysfs).
node_cpus() { cat "/sys/devices/system/node/node$1/cpulist"; }
nodes_of_cpus() {
  local cpu list=()
  for cpu in $(expand_cpus "$1"); do
    list+=("$(ls -d /sys/devices/system/cpu/cpu"$cpu"/node* | sed 's|.*/node||')")
  done
  printf '%s\n' "${list[@]}" | sort -nu | paste -sd, -
}
# expand_cpus LIST: "0-2,5" -> "0 1 2 5".
expand_cpus() {
  local part
  for part in ${1//,/ }; do
    if [[ $part == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
  done | paste -sd' ' -
}

# All CPUs of the machine, as the kernel lists them (e.g. "0-1").
online_cpus() { cat /sys/devices/system/cpu/online; }

# seconds_since START (a `date +%s.%N` value): elapsed seconds with one decimal.
seconds_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
