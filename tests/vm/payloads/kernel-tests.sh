#!/bin/sh
# VM payload: the root-only kernel tests (CTest label root) on pure cgroup v2 with systemd as PID 1
# and several NUMA nodes: every *_test binary the host put next to this script, in turn.
set -u
echo "guest: $(uname -r), cgroup $(stat -fc %T /sys/fs/cgroup), $(ls -d /sys/devices/system/node/node[0-9]* | wc -l) NUMA nodes, PID 1 $(cat /proc/1/comm)"
fail=0
for test in ./*_test; do
  echo "== $test"
  "$test" --gtest_color=no || fail=1
done
exit "$fail"
