#!/usr/bin/env bash
# One VM test (docs/vm.md): boots the test VM with a payload script and binaries built on this
# host and passes on the payload's exit status. The VM's console log is kept next to the share;
# a VM that hangs or stops without a result is retried once (an early boot hang was seen once
# under TCG, never twice in a row), then fails with the console's end printed.
# Usage: run-vm-test.sh --name NAME --payload SCRIPT [--bin FILE]... [run-vm.sh options]
# Skips (77) unless TOPOD_VM=1: a plain ctest never boots a VM.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
scripts=$(cd "$here/../../scripts/vm" && pwd)
name="" payload="" bins=() vm_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --name) name=$2; shift 2 ;;
    --payload) payload=$2; shift 2 ;;
    --bin) bins+=("$2"); shift 2 ;;
    *) vm_args+=("$1" "$2"); shift 2 ;;
  esac
done
[ -n "$name" ] && [ -x "$payload" ] || { echo "run-vm-test: --name and an executable --payload are required" >&2; exit 2; }
if [ "${TOPOD_VM:-}" != 1 ]; then
  echo "run-vm-test: $name skipped (set TOPOD_VM=1; scripts/test.sh does as root)"
  exit 77
fi
image=$("$scripts/build-image.sh")

share=${TOPOD_VM_WORK:-$PWD}/vm-$name
rm -rf "$share"
mkdir -p "$share/in"
cp "$payload" "$share/in/run"
for bin in "${bins[@]}"; do cp -r "$bin" "$share/in/"; done

rc=0
for attempt in 1 2; do
  rc=0
  "$scripts/run-vm.sh" --share "$share" --image "$image" "${vm_args[@]}" || rc=$?
  [ "$rc" -eq 124 ] || [ "$rc" -eq 125 ] || break
  echo "run-vm-test: $name: attempt $attempt left no result (status $rc)$([ "$attempt" -eq 1 ] && echo '; retrying once')" >&2
done
echo "---- $name: payload output"
cat "$share/out/output.log" 2>/dev/null || echo "(none)"
if [ "$rc" -ne 0 ] && [ -f "$share/out/journal.log" ]; then
  echo "---- $name: the guest's journal (last 60 lines)"
  tail -n 60 "$share/out/journal.log"
fi
exit "$rc"
