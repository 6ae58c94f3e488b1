#!/usr/bin/env bash
# The VM e2e stage (docs/vm.md, docs/e2e.md): gathers what the guest cannot fetch or build --
# containerd 1.7 from trixie and 2.x from sid (scripts/e2e-fetch-containerd.sh, cached), the two
# test images (tests/e2e/build-images.sh), curl -- and boots the VM with payloads/e2e.sh: 4 vCPUs
# on 2 NUMA nodes, pure cgroup v2; passes for containerd 1.7 and 2.x with the systemd driver and
# 2.x with the cgroupfs driver.
# Usage: run-vm-e2e.sh --topod PATH --cri-client PATH [--timeout SECONDS]
# E2E_ONLY, E2E_ONLY_2 and E2E_ONLY_CGROUPFS (NAME[,NAME...], or none) in the environment narrow
# the scenarios of the 1.7, the 2.x and the 2.x-cgroupfs pass in the guest.
# Skips (77) unless TOPOD_VM=1, like every vm test.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
topod="" cri_client="" timeout_s=2400
while [ $# -gt 0 ]; do
  case $1 in
    --topod) topod=$2; shift 2 ;;
    --cri-client) cri_client=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    *) echo "run-vm-e2e: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "${TOPOD_VM:-}" != 1 ]; then
  echo "run-vm-e2e: skipped (set TOPOD_VM=1; scripts/test.sh does as root)"
  exit 77
fi
[ -x "$topod" ] && [ -x "$cri_client" ] || { echo "run-vm-e2e: --topod and --cri-client must be executables" >&2; exit 2; }
staging=${TOPOD_VM_WORK:-$PWD}/vm-e2e-staging
rm -rf "$staging"
mkdir -p "$staging"
deb=$("$repo/scripts/e2e-fetch-containerd.sh" trixie containerd)
deb2=$("$repo/scripts/e2e-fetch-containerd.sh" sid containerd)
"$repo/tests/e2e/build-images.sh" "$staging/images" >/dev/null
cp -r "$repo/tests/e2e" "$staging/e2e"
# E2E_ONLY=a,b: just these scenarios in the guest's 1.7 pass (E2E_ONLY_2: the 2.x pass,
# E2E_ONLY_CGROUPFS: the 2.x pass on the cgroupfs driver); "none" skips the pass.
extra=()
for pass in only:${E2E_ONLY:-} only_2:${E2E_ONLY_2:-} only_cgroupfs:${E2E_ONLY_CGROUPFS:-}; do
  [ -n "${pass#*:}" ] || continue
  echo "${pass#*:}" >"$staging/${pass%%:*}"
  extra+=(--bin "$staging/${pass%%:*}")
done
exec "$here/run-vm-test.sh" --name e2e-containerd --payload "$here/payloads/e2e.sh" \
  --bin "$topod" --bin "$cri_client" --bin /usr/bin/curl --bin "$deb" --bin "$deb2" --bin "$staging/images" --bin "$staging/e2e" \
  "${extra[@]}" \
  --nodes 2 --cpus 4 --memory 2048 --timeout "$timeout_s"
