#!/bin/sh
# VM payload: topod's view of the machine (`topod topology --output json`, hwloc live) against the
# kernel's own (sysfs): every CPU's package, NUMA node and SMT siblings, every node's memory to the
# byte and its distance row. Prints one line per check; exits 1 on the first mismatch's end.
set -eu
./topod topology --output json >/tmp/topology.json
./topod topology | head -n 20
numactl -H || true
fail=0
check() {
  if [ "$2" = "$3" ]; then echo "ok   $1: $2"; else echo "FAIL $1: topod says '$2', the kernel '$3'"; fail=1; fi
}
# "0-2,5" -> "0 1 2 5"
expand() { echo "$1" | awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-"); if (n == 1) r[2] = r[1]; for (c = r[1]; c <= r[2]; c++) printf "%s%d", (out++ ? " " : ""), c } } END { print "" }'; }

# topod's CPU lines: {"id": 3, "package": 1, "die": 0, "core_id": 0, "l3": 1, "numa": 1}
cpu_field() { grep '"core_id"' /tmp/topology.json | sed -n "s/.*\"id\": $1, .*\"$2\": \([0-9]*\).*/\1/p"; }
count=0
for dir in /sys/devices/system/cpu/cpu[0-9]*; do
  id=${dir##*/cpu}
  [ -f "$dir/topology/physical_package_id" ] || continue
  count=$((count + 1))
  check "cpu$id package" "$(cpu_field "$id" package)" "$(cat "$dir/topology/physical_package_id")"
  node=$(ls -d "$dir"/node[0-9]* | sed 's/.*node//')
  check "cpu$id numa node" "$(cpu_field "$id" numa)" "$node"
  package=$(cpu_field "$id" package)
  core=$(cpu_field "$id" core_id)
  siblings=$(grep '"core_id"' /tmp/topology.json |
    awk -v p="$package" -v c="$core" -F'[:,]' '{ if ($4 + 0 == p && $8 + 0 == c) printf "%s%d", (n++ ? " " : ""), $2 } END { print "" }')
  check "cpu$id SMT siblings" "$siblings" "$(expand "$(cat "$dir/topology/thread_siblings_list")")"
done
check "CPU count" "$(grep -c '"core_id"' /tmp/topology.json)" "$count"

nodes=$(ls -d /sys/devices/system/node/node[0-9]* | sed 's/.*node//' | sort -n)
check "NUMA nodes" "$(grep -c '"memory_bytes"' /tmp/topology.json)" "$(echo "$nodes" | wc -l)"
for n in $nodes; do
  kernel_bytes=$(awk '/MemTotal/ { printf "%.0f\n", $4 * 1024 }' "/sys/devices/system/node/node$n/meminfo")
  topod_bytes=$(grep '"memory_bytes"' /tmp/topology.json | sed -n "s/.*\"id\": $n, \"memory_bytes\": \([0-9]*\).*/\1/p")
  check "node$n memory bytes" "$topod_bytes" "$kernel_bytes"
done
# The distance matrix: topod's rows in node order, the kernel's per node.
topod_rows=$(awk '/"distances"/ { on = 1; next } on && /^ *\[[0-9]/ { gsub(/[][ ]/, ""); sub(/,$/, ""); gsub(/,/, " "); print } on && /^ *\]/ { on = 0 }' /tmp/topology.json)
i=1
for n in $nodes; do
  check "node$n distances" "$(echo "$topod_rows" | sed -n "${i}p")" "$(cat "/sys/devices/system/node/node$n/distance")"
  i=$((i + 1))
done
[ "$fail" -eq 0 ] && echo "topology: topod and the kernel agree on $count CPUs and $(echo "$nodes" | wc -l) NUMA nodes"
exit "$fail"
