#!/usr/bin/env bash
# End-to-end tests of topod on a real containerd (docs/e2e.md). Registered with CTest (label e2e)
# by tests/e2e/CMakeLists.txt; scripts/test.sh runs it in the release build as root.
#
# Usage: run-e2e.sh --cri-client PATH [--topod PATH [--build-dir DIR]] [--containerd 1.7|2]
#                   [--eviction-controller PATH] [--cgroup-driver cgroupfs|systemd]
#                   [--only NAME[,NAME...]] [--keep]
# E2E_ONLY=NAME[,NAME...] in the environment: as --only (ctest passes no arguments of yours).
# --build-dir: topod's build directory, whose CPack config makes the .deb that the topod_pod
# scenario's image is built from (deploy/image/build-image.sh).
# --eviction-controller: the test-side eviction controller (tests/tools/eviction-controller), for
# the eviction scenarios (with TOPOD_E2E_KUBE=1).
# --cgroup-driver: the kubelet's driver the pods are shaped for (default cgroupfs; systemd needs
# cgroup v2 and systemd as PID 1, and sets containerd's SystemdCgroup). The cgroup version is the
# machine's (docs/e2e.md, "Layouts").
# TOPOD_E2E_CONTAINERD_DEB (a containerd .deb) and TOPOD_E2E_IMAGES (a folder with pause.tar and
# busybox.tar) replace the fetch and the image build where there is no network (the VM stage).
# Needs root, cgroup v1 or v2 with cpu, cpuset, memory, runc and busybox-static (scripts/install-deps.sh),
# and TOPOD_E2E=1 in the environment: without it the test reports itself skipped (exit 77), so a
# plain `ctest` on a developer machine does not start containerd.
#
# Flow: fetch and cache containerd (1.7 from Debian trixie, or 2.x from sid), unpack it into a private run directory
# under /tmp, build and import two busybox images, start containerd with a private config and NRI
# on, then run the scenarios of scenarios.sh, scenarios_checkpoint.sh and scenarios_eviction.sh.
# Everything started is stopped by pid; on failure the logs of containerd and topod are printed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
CRI_CLIENT=
TOPOD=
TOPOD_BUILD_DIR=
EVICTION_CONTROLLER=
only=${E2E_ONLY:-}  # the same as --only, for a run through ctest
keep=
containerd_version=1.7
CGROUP_DRIVER=cgroupfs
while [ $# -gt 0 ]; do
  case $1 in
    --cri-client) CRI_CLIENT=$2; shift 2 ;;
    --topod) TOPOD=$2; shift 2 ;;
    --build-dir) TOPOD_BUILD_DIR=$2; shift 2 ;;
    --eviction-controller) EVICTION_CONTROLLER=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --containerd) containerd_version=$2; shift 2 ;;
    --cgroup-driver) CGROUP_DRIVER=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "run-e2e: unknown argument $1" >&2; exit 2 ;;
  esac
done

# Where each containerd version comes from (its config differences: containerd-config.sh).
case $containerd_version in
  1.7) containerd_suite=trixie ;;
  2) containerd_suite=sid ;;
  *) echo "run-e2e: --containerd $containerd_version: 1.7 or 2" >&2; exit 2 ;;
esac
export CONTAINERD_VERSION=$containerd_version CGROUP_DRIVER
case $CGROUP_DRIVER in cgroupfs | systemd) ;; *) echo "run-e2e: --cgroup-driver: cgroupfs or systemd" >&2; exit 2 ;; esac

skip() { echo "run-e2e: SKIPPED: $*"; exit 77; }
[ "${TOPOD_E2E:-}" = 1 ] || skip "set TOPOD_E2E=1 to run the end-to-end tests (scripts/test.sh does, as root)"
[ "$(id -u)" -eq 0 ] || skip "needs root"
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  for controller in cpu cpuset memory; do
    grep -qw "$controller" /sys/fs/cgroup/cgroup.controllers ||
      skip "needs the cgroup v2 $controller controller (/sys/fs/cgroup/cgroup.controllers)"
  done
else
  for controller in cpu cpuset memory; do
    [ -f "/sys/fs/cgroup/$controller/cgroup.procs" ] || skip "needs the cgroup v1 $controller hierarchy at /sys/fs/cgroup/$controller"
  done
  [ "$CGROUP_DRIVER" = cgroupfs ] || skip "the systemd driver runs on cgroup v2 only here (cri-client makes v2 slices)"
fi
if [ "$CGROUP_DRIVER" = systemd ]; then
  [ "$(cat /proc/1/comm)" = systemd ] || skip "the systemd driver needs systemd as PID 1"
fi
[ -x "$CRI_CLIENT" ] || { echo "run-e2e: --cri-client $CRI_CLIENT is not executable" >&2; exit 2; }
for tool in runc busybox dpkg flock; do
  command -v "$tool" >/dev/null || { echo "run-e2e: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done

# One run at a time per machine: runs share /kubepods and the machine's two CPUs.
exec 9>/run/lock/topod-e2e.lock
flock -w 600 9 || { echo "run-e2e: another end-to-end run holds /run/lock/topod-e2e.lock" >&2; exit 2; }

# Short path: unix socket paths are limited to 108 bytes.
RUN=$(mktemp -d /tmp/tpe2e.XXXXXX)
export RUN CRI_CLIENT TOPOD TOPOD_BUILD_DIR EVICTION_CONTROLLER
mkdir -p "$RUN/cri" "$RUN/cni/bin" "$RUN/cni/conf" "$RUN/nri/plugins" "$RUN/nri/conf.d"
: >"$RUN/pods"
E2E_FAILED=0
CONTAINERD_PID=
TOPOD_PID=
run_containerd_dir_existed=$([ -d /run/containerd ] && echo 1 || true)
kubepods_before=$(ls -d /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods /sys/fs/cgroup/kubepods.slice 2>/dev/null)

# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/scenarios.sh
. "$here/scenarios.sh"
# shellcheck source=tests/e2e/scenarios_checkpoint.sh
. "$here/scenarios_checkpoint.sh"
# shellcheck source=tests/e2e/scenarios_eviction.sh
. "$here/scenarios_eviction.sh"

print_logs() {
  echo "==================== containerd log (last 150 lines): $RUN/containerd.log"
  tail -n 150 "$RUN/containerd.log" 2>/dev/null
  echo "==================== topod log (last 200 lines): $RUN/topod.log"
  tail -n 200 "$RUN/topod.log" 2>/dev/null || echo "(topod did not run)"
  echo "===================="
}

# Removes what this run left in the kubelet-shaped cgroup tree, deepest first. Only empty groups
# can go; the containers' own groups were removed by runc with the containers.
remove_cgroup_tree() {
  local dir
  # systemd driver: the QoS slices are units; stopping kubepods.slice stops them all.
  if [ "$CGROUP_DRIVER" = systemd ] && ! grep -qxF /sys/fs/cgroup/kubepods.slice <<<"$kubepods_before"; then
    systemctl stop kubepods.slice 2>/dev/null
  fi
  for dir in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$dir" ] || continue
    find "$dir" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
    grep -qxF "$dir" <<<"$kubepods_before" || rmdir "$dir" 2>/dev/null
  done
}

cleanup() {
  local rc=$?
  [ "$E2E_FAILED" = 0 ] || rc=1
  stop_topod
  [ -z "${KUBE_RUN:-}" ] || "$repo/tests/kube/test-apiserver.sh" stop "$KUBE_RUN" || true
  if [ -n "$CONTAINERD_PID" ]; then
    remove_all_pods
    stop_containerd
  fi
  # Shims outlive containerd; stop any of this run's (their binary lives in $RUN).
  local exe pid
  for exe in /proc/[0-9]*/exe; do
    [[ "$(readlink "$exe" 2>/dev/null)" == "$RUN/containerd/"* ]] || continue
    pid=${exe#/proc/}
    kill -KILL "${pid%/exe}" 2>/dev/null
  done
  # Mounts of this run (container root filesystems), deepest first.
  awk -v run="$RUN/" 'index($5, run) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r mnt; do umount -l "$mnt" 2>/dev/null; done
  remove_cgroup_tree
  if [ -z "$run_containerd_dir_existed" ]; then
    rmdir /run/containerd/s /run/containerd 2>/dev/null
  fi
  [ "$rc" = 0 ] || print_logs
  if [ -n "$keep" ]; then
    echo "run-e2e: kept $RUN"
  else
    rm -rf "$RUN"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t0=$(date +%s.%N)
if [ -n "${TOPOD_E2E_CONTAINERD_DEB:-}" ]; then
  deb=$TOPOD_E2E_CONTAINERD_DEB
else
  deb=$("$repo/scripts/e2e-fetch-containerd.sh" "$containerd_suite" containerd) ||
    { fail "fetching containerd from $containerd_suite"; exit 1; }
fi
dpkg -x "$deb" "$RUN/containerd" || { fail "unpacking $deb"; exit 1; }
if [ -n "${TOPOD_E2E_IMAGES:-}" ]; then
  mkdir -p "$RUN/images" && cp "$TOPOD_E2E_IMAGES"/pause.tar "$TOPOD_E2E_IMAGES"/busybox.tar "$RUN/images/" ||
    { fail "copying the images from $TOPOD_E2E_IMAGES"; exit 1; }
else
  "$here/build-images.sh" "$RUN/images" >/dev/null || { fail "building images"; exit 1; }
fi
"$here/containerd-config.sh" "$RUN" "$containerd_version" >"$RUN/containerd.toml" || { fail "writing the config"; exit 1; }
start_containerd || exit 1
for image in pause busybox; do
  "$RUN/containerd/usr/bin/ctr" -a "$RUN/containerd.sock" -n k8s.io images import "$RUN/images/$image.tar" >/dev/null ||
    { fail "importing $image"; exit 1; }
done
# TOPOD_E2E_KUBE=1: also the test API server (tests/kube/test-apiserver.sh; built once, cached),
# and topod publishes its NodeResourceTopology object there (scenario nrt_follows_pins).
KUBE_RUN=
E2E_NODE=e2e-node
if [ "${TOPOD_E2E_KUBE:-0}" = 1 ]; then
  "$repo/tests/kube/test-apiserver.sh" start "$RUN/kube" >/dev/null || { fail "starting the test API server"; exit 1; }
  KUBE_RUN=$RUN/kube
  # The EvictionRequest API's merged types as CRDs (the controllers are not released): topod
  # answers Evictions there from its start (scenarios eviction_*, docs/eviction.md).
  if [ -x "$EVICTION_CONTROLLER" ]; then
    "$EVICTION_CONTROLLER" --kubeconfig "$KUBE_RUN/kubeconfig" install-crd "$repo/tests/kube/eviction-crd.json" \
      "$repo/tests/kube/evictionrequest-crd.json" || { fail "installing the eviction CRDs"; exit 1; }
  fi
fi
write_topod_config
setup_seconds=$(seconds_since "$t0")
log "setup took ${setup_seconds}s ($(basename "$deb"))"

have_topod=
if topod_supports_run; then
  have_topod=1
  "$TOPOD" config check "$RUN/topod.toml" >"$RUN/topod-config-check.txt" 2>&1 ||
    { cat "$RUN/topod-config-check.txt"; fail "topod rejects the test config $RUN/topod.toml"; exit 1; }
else
  log "NOTE: ${TOPOD:-<no topod given>} has no 'topod run': only the scenarios without topod run"
fi

declare -a timing_lines=()
run_scenario() {
  local name=$1 needs_topod=$2 start rc elapsed
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then return 0; fi
  if [ "$needs_topod" = 1 ] && [ -z "$have_topod" ]; then
    timing_lines+=("$(printf '%-34s %s' "$name" "NOT RUN (no 'topod run')")")
    return 0
  fi
  log "=== scenario $name"
  start=$(date +%s.%N)
  local before=$E2E_FAILED
  E2E_FAILED=0
  "scenario_$name"
  rc=$?
  [ "$rc" = 0 ] || E2E_FAILED=1
  # Each scenario leaves nothing behind for the next one (and a NUMA scenario that failed half
  # way leaves topod on its own config: the harness's comes back).
  remove_all_pods
  if [ -f "$RUN/topod.toml.saved" ]; then
    stop_topod
    mv "$RUN/topod.toml.saved" "$RUN/topod.toml"
  fi
  elapsed=$(seconds_since "$start")
  if [ "$E2E_FAILED" = 0 ]; then
    timing_lines+=("$(printf '%-34s passed  %6ss' "$name" "$elapsed")")
  else
    timing_lines+=("$(printf '%-34s FAILED  %6ss' "$name" "$elapsed")")
  fi
  [ "$before" = 0 ] || E2E_FAILED=1
  return 0
}

run_scenario kubelet_shape 0
run_scenario resize_without_topod 0
run_scenario containerd_restart_without_topod 0
run_scenario criu_checkpoint 0
run_scenario exclusive_cpu 1
run_scenario unsatisfiable 1
run_scenario metrics_endpoint 1
run_scenario resize 1
run_scenario pod_quota 1
run_scenario topod_restart 1
run_scenario containerd_restart 1
run_scenario adopt_running 1
run_scenario container_restart 1
run_scenario container_replaced_before_stop 1
run_scenario nrt_follows_pins 1
run_scenario eviction_warning 1
run_scenario eviction_latency 1
run_scenario eviction_requester 1
run_scenario eviction_withdrawn 1
run_scenario eviction_restart 1
run_scenario eviction_apiserver_down 1
run_scenario eviction_other_node 1
run_scenario topod_rss 1
run_scenario topod_pod 1
run_scenario numa_placement 1
run_scenario numa_pages 1

total=$(seconds_since "$t0")
echo "==================== e2e timings, containerd $containerd_version, cgroup $CGROUP_VERSION, $CGROUP_DRIVER driver (setup ${setup_seconds}s, total ${total}s)"
printf '%s\n' "${timing_lines[@]}"
[ -n "$have_topod" ] || echo "topod scenarios NOT RUN: ${TOPOD:-<none>} has no 'topod run'"
[ "$E2E_FAILED" = 0 ]
