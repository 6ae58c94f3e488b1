#!/bin/sh
# VM payload: the end-to-end harness (tests/e2e/run-e2e.sh) inside the guest, on pure cgroup v2
# with systemd as PID 1 and 2 NUMA nodes, the kubelet's systemd cgroup driver and containerd
# 1.7 from trixie (the .deb the host caches), topod's memory manager on. The host put next to this
# script: topod, cri-client, curl (the guest has libcurl4 but no curl), the containerd .deb,
# images/ (pause.tar, busybox.tar: the guest has no network) and e2e/ (the harness).
set -u
echo "guest: $(uname -r), cgroup $(stat -fc %T /sys/fs/cgroup), $(ls -d /sys/devices/system/node/node[0-9]* | wc -l) NUMA nodes, $(nproc) CPUs, PID 1 $(cat /proc/1/comm)"
for node in /sys/devices/system/node/node[0-9]*; do echo "$(basename "$node"): cpus $(cat "$node/cpulist")"; done
here=$(pwd)
# minbase has no netbase: containerd copies the host's /etc/hosts and /etc/resolv.conf into every
# host-network sandbox and refuses to start one without them.
[ -e /etc/hosts ] || printf '127.0.0.1 localhost\n::1 localhost\n' >/etc/hosts
[ -e /etc/resolv.conf ] || { rm -f /etc/resolv.conf; : >/etc/resolv.conf; }
# The harness runs from a local copy: 9p is slow to exec from and the run writes next to it.
work=/root/e2e
mkdir -p "$work/bin" "$work/tests" /run/lock
cp -r "$here/e2e" "$work/tests/e2e"
cp "$here/topod" "$here/cri-client" "$here/curl" "$work/bin/"
export PATH="$work/bin:$PATH"
deb=$(ls "$here"/containerd_*.deb | head -n1)

# 4 CPUs: the harness's own scenarios keep CPUs 0-2 for the system so that CPU 3 is the one
# exclusive CPU (the 2-CPU build machine's shape, one node over); the NUMA scenarios reserve only
# CPU 0 (E2E_NUMA_RESERVED_CPUS). The memory manager accounts each node's memory.
export TOPOD_E2E=1 TOPOD_E2E_CONTAINERD_DEB="$deb" TOPOD_E2E_IMAGES="$here/images"
# The harness's scenarios expect one machine-wide shared pool, which the static policy (the
# kubelet's) keeps; topology-aware pins shared containers to one node's pool, so the NUMA scenarios,
# written for that, run under it.
export TOPOD_E2E_POLICY=static E2E_NUMA_POLICY=topology-aware
export E2E_RESERVED_CPUS=0-2 E2E_EXCL_CPUS=3 E2E_SHARED_CPUS=0-2 E2E_NUMA_RESERVED_CPUS=0
export E2E_POLICY_EXTRA='memory_manager = "static"
[[policy.reserved_memory]]
numa_node = 0
limits = { memory = "128Mi" }
[[policy.reserved_memory]]
numa_node = 1
limits = { memory = "128Mi" }'
# Emulated CPUs are slow: longer CRI deadlines, longer waits for the kernel's view to settle.
export E2E_CRI_TIMEOUT=120 E2E_EXPECT_SECONDS=30
# containerd_restart's reconnect bound: 1 s on the host; TCG took 0.53-1.32 s. 2.5 s still fails
# the old behaviour (a backoff waiting 3.2 s when the socket came back).
export E2E_RECONNECT_BOUND_SECONDS=2.5
# run-vm-e2e.sh passes the host's E2E_ONLY as the file "only".
[ -f "$here/only" ] && E2E_ONLY=$(cat "$here/only")
only=${E2E_ONLY:-kubelet_shape,resize_without_topod,exclusive_cpu,resize,pod_quota,topod_restart,containerd_restart,adopt_running,numa_placement,numa_pages}
bash "$work/tests/e2e/run-e2e.sh" --cri-client "$work/bin/cri-client" --topod "$work/bin/topod" \
  --containerd 1.7 --cgroup-driver systemd --only "$only"
