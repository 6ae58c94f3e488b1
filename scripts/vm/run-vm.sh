#!/usr/bin/env bash
# Boots the test VM (scripts/vm/build-image.sh) once with a payload and returns the payload's exit
# status (docs/vm.md). The payload is SHARE/in/run, executed as root inside the guest with SHARE/in
# as its working directory after systemd reached basic.target; its output lands in
# SHARE/out/output.log, SHARE/out/rc, and SHARE/out/journal.log when it failed. The disk is a
# snapshot: every run starts from the same image and leaves it untouched.
#
# CPU shape: 2 threads per core; with 2 or more NUMA nodes, 2 sockets and the nodes spread over
# their cores (distance 11 within a socket, 21 across), as on a 2-socket server with sub-NUMA
# clustering when there are 4 nodes. KVM only where it works (a usable /dev/kvm and vmx/svm in the
# host's CPU flags), TCG otherwise (Skylake-Server, the features TCG cannot emulate turned off).
#
# Usage: run-vm.sh --share DIR [--image DIR] [--nodes 1|2|4] [--cpus N] [--memory MiB]
#                  [--cgroup v2|v1] [--timeout SECONDS]
# --cgroup v1 boots systemd with the legacy hierarchy (systemd.unified_cgroup_hierarchy=0).
# Exit: the payload's status; 124 when the VM ran past the timeout (qemu is killed by pid and
# the console log's end printed); 125 when the VM stopped without a result.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
share="" image="" nodes=2 cpus=4 memory=2048 timeout_s=900 cgroup=v2
while [ $# -gt 0 ]; do
  case $1 in
    --share) share=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --cgroup) cgroup=$2; shift 2 ;;
    *) echo "run-vm: unknown argument $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
[ -n "$share" ] && [ -x "$share/in/run" ] || { echo "run-vm: --share DIR with an executable DIR/in/run is required" >&2; exit 2; }
case $nodes in 1 | 2 | 4) ;; *) echo "run-vm: --nodes must be 1, 2 or 4" >&2; exit 2 ;; esac
case $cgroup in v2) unified=1 ;; v1) unified=0 ;; *) echo "run-vm: --cgroup must be v2 or v1" >&2; exit 2 ;; esac
if [ $((cpus % (2 * nodes))) -ne 0 ]; then
  echo "run-vm: --cpus $cpus cannot be spread as whole 2-thread cores over $nodes nodes" >&2
  exit 2
fi
[ -n "$image" ] || image=$("$here/build-image.sh")
share=$(cd "$share" && pwd)
rm -rf "$share/out"
mkdir -p "$share/out"
console=$share/console.log

accel=(-accel tcg,thread=multi,tb-size=512)
cpu_model=Skylake-Server
for feature in pcid x2apic tsc-deadline hle invpcid rtm avx512f avx512dq rdseed avx512cd avx512bw \
  avx512vl 3dnowprefetch xsavec; do
  cpu_model+=",-$feature"
done
if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
  accel=(-accel kvm)
  cpu_model=host
fi

sockets=1
[ "$nodes" -ge 2 ] && sockets=2
cores=$((cpus / 2 / sockets))
numa=()
per_node=$((memory / nodes))
for ((n = 0; n < nodes; n++)); do
  numa+=(-object "memory-backend-ram,id=mem$n,size=${per_node}M" -numa "node,nodeid=$n,memdev=mem$n")
done
for ((s = 0; s < sockets; s++)); do
  for ((c = 0; c < cores; c++)); do
    node=$(((s * cores + c) * nodes / (sockets * cores)))
    numa+=(-numa "cpu,node-id=$node,socket-id=$s,core-id=$c")
  done
done
nodes_per_socket=$((nodes / sockets))
for ((a = 0; a < nodes; a++)); do
  for ((b = a + 1; b < nodes; b++)); do
    distance=21
    [ $((a / nodes_per_socket)) -eq $((b / nodes_per_socket)) ] && distance=11
    numa+=(-numa "dist,src=$a,dst=$b,val=$distance")
  done
done

start=$(date +%s)
rc=0
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 -machine q35 "${accel[@]}" -cpu "$cpu_model" \
  -smp "$cpus,sockets=$sockets,cores=$cores,threads=2" -m "${memory}M" "${numa[@]}" \
  -kernel "$image/vmlinux" -initrd "$image/initrd.img" \
  -append "console=ttyS0 root=/dev/vda rw systemd.unified_cgroup_hierarchy=$unified panic=-1 mitigations=off systemd.mask=serial-getty@ttyS0.service systemd.mask=systemd-logind.service" \
  -drive "file=$image/image.raw,format=raw,if=virtio,snapshot=on" \
  -virtfs "local,path=$share,mount_tag=vmtest,security_model=none,multidevs=remap" \
  -device virtio-rng-pci -nodefaults -display none -nic none -no-reboot -serial "file:$console" || rc=$?
elapsed=$(($(date +%s) - start))
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "run-vm: the VM ran past ${timeout_s} s and was killed; the console's last lines:" >&2
  tail -n 40 "$console" >&2 || true
  exit 124
fi
if [ ! -f "$share/out/rc" ]; then
  echo "run-vm: the VM stopped after ${elapsed} s without a result (qemu status $rc); the console's last lines:" >&2
  tail -n 40 "$console" >&2 || true
  exit 125
fi
payload_rc=$(cat "$share/out/rc")
echo "run-vm: payload exit status $payload_rc after ${elapsed} s (${nodes} NUMA nodes, ${cpus} vCPUs, cgroup $cgroup, ${accel[1]%%,*})" >&2
exit "$payload_rc"
