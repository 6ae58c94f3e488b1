# shellcheck shell=bash
# The end-to-end scenarios (docs/e2e.md). Sourced by run-e2e.sh; each function is one scenario,
# runs against the shared containerd, and returns non-zero (after `fail`) on the first broken
# expectation. run-e2e.sh removes every pod after each scenario.
#
# The machine has 2 CPUs; topod's test config reserves CPU 0, so CPU 1 is the only CPU a
# Guaranteed container can get exclusively, and the shared pool shrinks to "0" while it has it.

# Pod shapes, as the kubelet builds them (cri-client computes the CRI and cgroup values).
GUARANTEED_1CPU=(--cpu-request 1 --cpu-limit 1 --memory-request 64Mi --memory-limit 64Mi)
GUARANTEED_2CPU=(--cpu-request 2 --cpu-limit 2 --memory-request 64Mi --memory-limit 64Mi)
BURSTABLE=(--cpu-request 250m --cpu-limit 500m --memory-request 32Mi --memory-limit 64Mi)
BESTEFFORT=()
# memory.limit_in_bytes of a cgroup without a limit (LONG_MAX rounded down to the page size).
UNLIMITED=9223372036854771712

# new_pod NAME QOS_ARRAY_NAME: a one-container pod; prints "POD_ID CONTAINER_ID".
new_pod() {
  local name=$1 pod ctr
  local -n shape=$2
  pod=$(run_pod "$name" "uid-$name-$RANDOM" "${shape[@]}") || return 1
  ctr=$(start_container "$pod" "$name" "${shape[@]}") || return 1
  echo "$pod $ctr"
}

# containerd (NRI 0.6) logs `plugin "90-topod" connected...` once a plugin has registered and
# synchronised; start_topod and start_containerd note how many such lines came before.
topod_connections() {
  local n
  n=$(grep -c 'plugin \\"90-topod\\" connected' "$RUN/containerd.log" 2>/dev/null)
  echo "${n:-0}"
}

# Each topod scenario can run alone (--only): start topod unless it already runs.
ensure_topod() {
  if [ -n "${TOPOD_PID:-}" ] && kill -0 "$TOPOD_PID" 2>/dev/null; then return 0; fi
  start_topod
  wait_topod_connected
}

wait_topod_connected() {
  local i
  for i in $(seq 1 150); do
    if [ "$(topod_connections)" -gt "${TOPOD_CONNECTIONS_BEFORE:-0}" ]; then
      log "topod connected to containerd"
      return 0
    fi
    kill -0 "$TOPOD_PID" 2>/dev/null || { fail "topod exited"; return 1; }
    sleep 0.1
  done
  fail "topod did not connect to containerd within 15 s"
}

# --- without topod: the harness and the kubelet shape ---------------------------------------------

scenario_kubelet_shape() {
  local all g b e
  all=$(online_cpus)
  read -r g_pod g < <(new_pod shape-g GUARANTEED_1CPU) || return 1
  read -r b_pod b < <(new_pod shape-b BURSTABLE) || return 1
  read -r e_pod e < <(new_pod shape-e BESTEFFORT) || return 1
  expect_cpus "$g" "$all" "Guaranteed without topod runs on all CPUs" || return 1
  expect_cpus "$b" "$all" "Burstable without topod" || return 1
  expect_cpus "$e" "$all" "BestEffort without topod" || return 1
  expect_file cpu "$g" cpu.shares 1024 "Guaranteed 1 CPU" || return 1
  expect_file cpu "$g" cpu.cfs_quota_us 100000 "Guaranteed 1 CPU" || return 1
  expect_file cpu "$g" cpu.cfs_period_us 100000 "Guaranteed 1 CPU" || return 1
  expect_file memory "$g" memory.limit_in_bytes 67108864 "Guaranteed 64Mi" || return 1
  expect_file cpu "$b" cpu.shares 256 "Burstable 250m request" || return 1
  expect_file cpu "$b" cpu.cfs_quota_us 50000 "Burstable 500m limit" || return 1
  expect_file memory "$b" memory.limit_in_bytes 67108864 "Burstable 64Mi limit" || return 1
  expect_file cpu "$e" cpu.shares 2 "BestEffort" || return 1
  expect_file cpu "$e" cpu.cfs_quota_us -1 "BestEffort" || return 1
  expect_file memory "$e" memory.limit_in_bytes "$UNLIMITED" "BestEffort" || return 1
  # The pod cgroups sit where the kubelet puts them, with the kubelet's values.
  local uid
  uid=$(container_cgroup "$g") && [[ "$uid" == /kubepods/pod* ]] ||
    { fail "Guaranteed container cgroup $uid is not under /kubepods/pod<uid>"; return 1; }
  expect_pod_file cpu "$(dirname "$uid")" cpu.shares 1024 "Guaranteed pod cgroup" || return 1
  expect_pod_file cpu "$(dirname "$uid")" cpu.cfs_quota_us 100000 "Guaranteed pod cgroup" || return 1
  expect_pod_file memory "$(dirname "$uid")" memory.limit_in_bytes 67108864 "Guaranteed pod cgroup" || return 1
  uid=$(container_cgroup "$b") && [[ "$uid" == /kubepods/burstable/pod* ]] ||
    { fail "Burstable container cgroup $uid is not under /kubepods/burstable/pod<uid>"; return 1; }
  uid=$(container_cgroup "$e") && [[ "$uid" == /kubepods/besteffort/pod* ]] ||
    { fail "BestEffort container cgroup $uid is not under /kubepods/besteffort/pod<uid>"; return 1; }
  expect_pod_file cpu "$(dirname "$uid")" cpu.shares 2 "BestEffort pod cgroup" || return 1
  # Removing a container removes its cgroup.
  local rel
  rel=$(container_cgroup "$g")
  remove_container "$g" || { fail "removing $g"; return 1; }
  [ ! -d "$CGROOT/cpuset$rel" ] || { fail "cgroup $rel still there after RemoveContainer"; return 1; }
  log "ok: RemoveContainer removed $rel"
}

scenario_resize_without_topod() {
  local b
  read -r _ b < <(new_pod resize-plain BURSTABLE) || return 1
  cri update "$b" --cpu-request 500m --cpu-limit 1 --memory-request 32Mi --memory-limit 96Mi ||
    { fail "UpdateContainerResources"; return 1; }
  expect_file cpu "$b" cpu.shares 512 "resized Burstable request 500m" || return 1
  expect_file cpu "$b" cpu.cfs_quota_us 100000 "resized Burstable limit 1" || return 1
  expect_file memory "$b" memory.limit_in_bytes 100663296 "resized Burstable 96Mi" || return 1
}

# containerd restarted under running containers: they keep running with their cgroups, and CRI
# still manages them afterwards (the base the topod reconnection scenario builds on).
scenario_containerd_restart_without_topod() {
  local b pid
  read -r _ b < <(new_pod crestart-plain BURSTABLE) || return 1
  pid=$(main_pid "$b") || { fail "no process for $b"; return 1; }
  stop_containerd
  start_containerd || return 1
  [ "$(main_pid "$b")" = "$pid" ] || { fail "the container's process changed across the containerd restart"; return 1; }
  log "ok: container process $pid survived the containerd restart"
  expect_file cpu "$b" cpu.shares 256 "Burstable after the containerd restart" || return 1
  cri update "$b" --cpu-request 500m --cpu-limit 1 --memory-request 32Mi --memory-limit 64Mi ||
    { fail "UpdateContainerResources after the containerd restart"; return 1; }
  expect_file cpu "$b" cpu.shares 512 "resized after the containerd restart" || return 1
}

# --- with topod --------------------------------------------------------------------------------------

# (a) A Guaranteed 1-CPU container gets CPU 1 exclusively; the Burstable and BestEffort containers
# already running move to CPU 0, and get CPU 1 back when the Guaranteed container goes.
scenario_exclusive_cpu() {
  local all b e g
  all=$(online_cpus)
  ensure_topod || return 1
  read -r _ b < <(new_pod excl-b BURSTABLE) || return 1
  read -r _ e < <(new_pod excl-e BESTEFFORT) || return 1
  expect_cpus "$b" "$all" "Burstable in the full shared pool" || return 1
  expect_cpus "$e" "$all" "BestEffort in the full shared pool" || return 1
  read -r _ g < <(new_pod excl-g GUARANTEED_1CPU) || return 1
  expect_cpus "$g" 1 "Guaranteed 1 CPU gets CPU 1 exclusively" || return 1
  expect_cpus "$b" 0 "Burstable moved off CPU 1" || return 1
  expect_cpus "$e" 0 "BestEffort moved off CPU 1" || return 1
  remove_container "$g" || { fail "removing the Guaranteed container"; return 1; }
  expect_cpus "$b" "$all" "Burstable gets CPU 1 back" || return 1
  expect_cpus "$e" "$all" "BestEffort gets CPU 1 back" || return 1
}

# (b) A Guaranteed container asking for more exclusive CPUs than exist fails creation, and the
# CRI error carries topod's reason.
scenario_unsatisfiable() {
  local pod err b all
  ensure_topod || return 1
  all=$(online_cpus)
  read -r _ b < <(new_pod unsat-b BURSTABLE) || return 1
  pod=$(run_pod unsat-g "uid-unsat-g-$RANDOM" "${GUARANTEED_2CPU[@]}") || return 1
  if cri create --pod "$pod" --name unsat-g "${GUARANTEED_2CPU[@]}" >"$RUN/unsat.out" 2>"$RUN/unsat.err"; then
    fail "CreateContainer of a 2-CPU Guaranteed container succeeded on a machine with 1 allocatable CPU"
    return 1
  fi
  err=$(cat "$RUN/unsat.err")
  log "CRI error: $err"
  grep -qi 'topod' <<<"$err" || { fail "the CRI error does not name topod: $err"; return 1; }
  grep -qi 'cpu' <<<"$err" || { fail "the CRI error does not say what is missing (cpu): $err"; return 1; }
  [ -z "$(cri containers --pod "$pod")" ] || { fail "a container exists in the pod after the failed create"; return 1; }
  expect_cpus "$b" "$all" "Burstable untouched by the failed Guaranteed request" || return 1
}

# (c) In-place resize (UpdateContainerResources). Burstable: CFS values follow, the container
# stays in the shared pool. Guaranteed 1 -> 2 CPUs cannot be satisfied here: whatever the runtime
# answers, CPU 1 stays exclusive to it and the shared pool stays CPU 0.
scenario_resize() {
  local b g
  ensure_topod || return 1
  read -r _ b < <(new_pod resize-b BURSTABLE) || return 1
  read -r _ g < <(new_pod resize-g GUARANTEED_1CPU) || return 1
  expect_cpus "$g" 1 "Guaranteed before resize" || return 1
  expect_cpus "$b" 0 "Burstable before resize" || return 1
  cri update "$b" --cpu-request 500m --cpu-limit 1 --memory-request 32Mi --memory-limit 96Mi ||
    { fail "resizing the Burstable container"; return 1; }
  expect_file cpu "$b" cpu.shares 512 "resized Burstable request 500m" || return 1
  expect_file cpu "$b" cpu.cfs_quota_us 100000 "resized Burstable limit 1" || return 1
  expect_file memory "$b" memory.limit_in_bytes 100663296 "resized Burstable 96Mi" || return 1
  expect_cpus "$b" 0 "resized Burstable stays in the shared pool" || return 1
  if cri update "$g" "${GUARANTEED_2CPU[@]}" 2>"$RUN/resize.err"; then
    log "the runtime accepted the 2-CPU resize of the Guaranteed container"
  else
    log "the 2-CPU resize was refused: $(cat "$RUN/resize.err")"
  fi
  expect_cpus "$g" 1 "Guaranteed keeps exactly its exclusive CPU after an impossible resize" || return 1
  expect_cpus "$b" 0 "shared pool unchanged by the impossible resize" || return 1
}

# (d) topod restarted while containers run: nothing changes, and its restored state still knows
# CPU 1 is taken (a new BestEffort container lands on CPU 0).
scenario_topod_restart() {
  local b g e
  ensure_topod || return 1
  read -r _ b < <(new_pod trestart-b BURSTABLE) || return 1
  read -r _ g < <(new_pod trestart-g GUARANTEED_1CPU) || return 1
  expect_cpus "$g" 1 "Guaranteed before the restart" || return 1
  expect_cpus "$b" 0 "Burstable before the restart" || return 1
  stop_topod
  expect_cpus "$g" 1 "Guaranteed while topod is down" || return 1
  expect_cpus "$b" 0 "Burstable while topod is down" || return 1
  start_topod
  wait_topod_connected || return 1
  sleep 1  # let the resynchronisation's updates, if any, land
  expect_cpus "$g" 1 "Guaranteed after the restart" || return 1
  expect_cpus "$b" 0 "Burstable after the restart" || return 1
  read -r _ e < <(new_pod trestart-e BESTEFFORT) || return 1
  expect_cpus "$e" 0 "new BestEffort after the restart avoids the exclusive CPU" || return 1
}

# (e) containerd restarted while topod runs: topod reconnects and resynchronises; placements stay
# and it still acts (a new container is placed, a removal gives the CPU back).
scenario_containerd_restart() {
  local b g e all
  ensure_topod || return 1
  all=$(online_cpus)
  read -r _ b < <(new_pod crestart-b BURSTABLE) || return 1
  read -r _ g < <(new_pod crestart-g GUARANTEED_1CPU) || return 1
  expect_cpus "$g" 1 "Guaranteed before the containerd restart" || return 1
  stop_containerd
  start_containerd || return 1
  wait_topod_connected || return 1
  expect_cpus "$g" 1 "Guaranteed after the containerd restart" || return 1
  expect_cpus "$b" 0 "Burstable after the containerd restart" || return 1
  read -r _ e < <(new_pod crestart-e BESTEFFORT) || return 1
  expect_cpus "$e" 0 "new BestEffort placed by the reconnected topod" || return 1
  remove_container "$g" || { fail "removing the Guaranteed container"; return 1; }
  expect_cpus "$b" "$all" "Burstable gets CPU 1 back through the new connection" || return 1
  expect_cpus "$e" "$all" "BestEffort gets CPU 1 back through the new connection" || return 1
}

# (f) topod absent when a Guaranteed container starts; when topod starts it adopts the container:
# exclusive CPU 1 for it, the shared pool shrinks for the others.
scenario_adopt_running() {
  local b g all
  all=$(online_cpus)
  stop_topod
  read -r _ b < <(new_pod adopt-b BURSTABLE) || return 1
  read -r _ g < <(new_pod adopt-g GUARANTEED_1CPU) || return 1
  expect_cpus "$g" "$all" "Guaranteed started without topod runs on all CPUs" || return 1
  start_topod
  wait_topod_connected || return 1
  expect_cpus "$g" 1 "adopted Guaranteed gets CPU 1" || return 1
  expect_cpus "$b" 0 "Burstable moved off the adopted container's CPU" || return 1
}

# (g) A container restarts as the kubelet restarts it (issue 17 item 2): the attempt exits, a new
# attempt (same pod, same name, a new container) is created, then the old one is removed. Its
# exclusive CPU is kept across the attempts: a Guaranteed pod created in the gap is refused, the
# new attempt comes back on CPU 1, and the removal of the old attempt releases nothing.
scenario_container_restart() {
  local pod a b q_pod all s
  ensure_topod || return 1
  all=$(online_cpus)
  read -r _ s < <(new_pod crash-shared BURSTABLE) || return 1
  pod=$(run_pod crash-g "uid-crash-g-$RANDOM" "${GUARANTEED_1CPU[@]}") || return 1
  a=$(start_container "$pod" crash-g "${GUARANTEED_1CPU[@]}") || return 1
  expect_cpus "$a" 1 "first attempt on the exclusive CPU" || return 1
  cri stop "$a" >/dev/null || { fail "stopping the first attempt"; return 1; }
  # The gap: another Guaranteed pod may not take the CPU of the crash-looping container.
  q_pod=$(run_pod crash-gap "uid-crash-gap-$RANDOM" "${GUARANTEED_1CPU[@]}") || return 1
  if cri create --pod "$q_pod" --name crash-gap "${GUARANTEED_1CPU[@]}" >/dev/null 2>"$RUN/gap.err"; then
    fail "a Guaranteed pod created while the container was down got its CPU"
    return 1
  fi
  log "created in the gap, refused as it should be: $(head -c 300 "$RUN/gap.err")"
  expect_cpus "$s" 0 "the shared pool does not get the stopped container's CPU" || return 1
  b=$(cri create --pod "$pod" --name crash-g --attempt 1 "${GUARANTEED_1CPU[@]}") ||
    { fail "creating the second attempt (refused: the CPU was lost)"; return 1; }
  cri start "$b" || { fail "starting the second attempt"; return 1; }
  expect_cpus "$b" 1 "the second attempt comes back on the same CPU" || return 1
  cri rm "$a" >/dev/null || { fail "removing the first attempt"; return 1; }
  sleep 0.5  # an update a wrong release would send
  expect_cpus "$b" 1 "removing the old attempt leaves the new one its CPU" || return 1
  expect_cpus "$s" 0 "nor does the shared pool grow" || return 1
  # The pod going away releases it.
  remove_pod "$pod" || { fail "removing the pod"; return 1; }
  expect_cpus "$s" "$all" "the pod's removal gives the CPU back" || return 1
}

# (h) The other order: the new attempt exists before the old one stops (create B, then stop A,
# then remove A). Every event acts on the container it names: B keeps CPU 1 throughout.
scenario_container_replaced_before_stop() {
  local pod a b s
  ensure_topod || return 1
  read -r _ s < <(new_pod replace-shared BURSTABLE) || return 1
  pod=$(run_pod replace-g "uid-replace-g-$RANDOM" "${GUARANTEED_1CPU[@]}") || return 1
  a=$(start_container "$pod" replace-g "${GUARANTEED_1CPU[@]}") || return 1
  expect_cpus "$a" 1 "old attempt on the exclusive CPU" || return 1
  b=$(cri create --pod "$pod" --name replace-g --attempt 1 "${GUARANTEED_1CPU[@]}") ||
    { fail "creating the replacement while the old attempt runs"; return 1; }
  cri stop "$a" >/dev/null || { fail "stopping the old attempt"; return 1; }
  cri start "$b" || { fail "starting the replacement"; return 1; }
  expect_cpus "$b" 1 "the replacement runs on the exclusive CPU after the old one stopped" || return 1
  cri rm "$a" >/dev/null || { fail "removing the old attempt"; return 1; }
  sleep 0.5
  expect_cpus "$b" 1 "and keeps it after the old one was removed" || return 1
  expect_cpus "$s" 0 "the shared pool never got it" || return 1
}

# (k) With the test API server: the NodeResourceTopology object follows every pin and release
# through NRI within 1 s (CPU 1 is the only exclusive CPU: node-0 'available' cpu 1 -> 0 -> 1).
# Measured from the moment topod pinned or released (its log line's timestamp) to the moment
# the object read from the API server shows it; the test config publishes at most every 500 ms.
topod_event_time() { # PATTERN: the epoch seconds of topod's last log line matching it
  local stamp
  stamp=$(grep -E "$1" "$RUN/topod.log" | tail -n1 | cut -d' ' -f1)
  [ -n "$stamp" ] && date -d "$stamp" +%s.%N
}

# The object as the API server streams it: a watch of $E2E_NODE's object, each event line
# stamped when it arrives; nrt_seen then turns them into "EPOCH VALUE" (node-0's available cpu).
# Starts it in the background; NRT_WATCH_PID is curl's pid (kill it to end the watch).
nrt_watch() {
  # shellcheck disable=SC1091
  . "$KUBE_RUN/env"
  curl -sN --cacert "$KUBE_RUN/serving/apiserver.crt" --cert "$KUBE_RUN/client.crt" --key "$KUBE_RUN/client.key" \
    "https://127.0.0.1:$API_PORT/apis/topology.node.k8s.io/v1alpha2/noderesourcetopologies?watch=1&fieldSelector=metadata.name%3D$E2E_NODE" \
    > >(while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done >"$RUN/nrt-events") &
  NRT_WATCH_PID=$!
}
nrt_seen() {
  python3 - "$RUN/nrt-events" >"$RUN/nrt-seen" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    stamp, _, event = line.partition(" ")
    try:
        zones = json.loads(event)["object"]["zones"]
    except (ValueError, KeyError):
        continue
    for z in zones:
        for r in z["resources"] if z["name"] == "node-0" else []:
            if r["name"] == "cpu":
                print(stamp, r["available"])
PY
}

# Milliseconds from EVENT (epoch) until the watch first showed VALUE at or after it; "" if never.
nrt_latency() {
  awk -v t="$1" -v want="$2" '$1 >= t && $2 == want { printf "%d", ($1 - t) * 1000; exit }' "$RUN/nrt-seen"
}

scenario_nrt_follows_pins() {
  if [ -z "${KUBE_RUN:-}" ]; then
    log "no test API server (TOPOD_E2E_KUBE=1 starts one): skipped"
    return 0
  fi
  ensure_topod || return 1
  local took since g pod i rc=0 events=() latencies=()
  took=$(wait_nrt_cpu 1 "$(date +%s.%N)" 10000) || { fail "NRT object not published within 10 s"; return 1; }
  nrt_watch
  for i in 1 2 3 4 5; do
    read -r pod g < <(new_pod "nrt-g$i" GUARANTEED_1CPU) || { rc=1; break; }
    expect_cpus "$g" 1 "Guaranteed 1 CPU gets CPU 1 exclusively" || { rc=1; break; }
    since=$(topod_event_time "topod info: admitted uid-nrt-g$i-") || { fail "no admission logged for $i"; rc=1; break; }
    events+=("pin $since 0")
    wait_nrt_cpu 0 "$since" 5000 >/dev/null || { fail "pin $i not in the NRT object within 5 s"; rc=1; break; }
    remove_pod "$pod" || { fail "removing pod $i"; rc=1; break; }
    since=$(topod_event_time "topod info: released uid-nrt-g$i-") || { fail "no release logged for $i"; rc=1; break; }
    events+=("release $since 1")
    wait_nrt_cpu 1 "$since" 5000 >/dev/null || { fail "release $i not in the NRT object within 5 s"; rc=1; break; }
  done
  kill "$NRT_WATCH_PID" 2>/dev/null
  wait "$NRT_WATCH_PID" 2>/dev/null
  sleep 0.2  # the stamping loop writes its last lines after curl ends
  [ "$rc" = 0 ] || return 1
  nrt_seen
  local event what at want
  for event in "${events[@]}"; do
    read -r what at want <<<"$event"
    took=$(nrt_latency "$at" "$want")
    [ -n "$took" ] || { fail "the watch never showed the $what at $at"; return 1; }
    latencies+=("$what:${took}ms")
    [ "$took" -le 1000 ] || fail "$what published ${took} ms after topod made it (limit 1000 ms)"
  done
  log "NRT object after each pin and release (topod's log line -> the watch event): ${latencies[*]}"
  [ "$E2E_FAILED" = 0 ]
}

# (l) A figure, not a check: topod's resident memory after five Guaranteed pods came and went;
# with TOPOD_E2E_KUBE=1 it includes the Kubernetes client, publisher and watch.
scenario_topod_rss() {
  ensure_topod || return 1
  local i pod g
  for i in 1 2 3 4 5; do
    read -r pod g < <(new_pod "rss-g$i" GUARANTEED_1CPU) || return 1
    remove_pod "$pod" || { fail "removing pod $i"; return 1; }
  done
  log "topod resident memory ($([ -n "${KUBE_RUN:-}" ] && echo "with" || echo "without") [kubernetes]): $(grep VmRSS "/proc/$TOPOD_PID/status")"
}
