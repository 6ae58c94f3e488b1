#!/usr/bin/env bash
# Runs the built topod binary the way a user would: the issue's done-when command, the JSON
# round trip through --source json:, every fixture, and malformed input for every loader (one
# line on stderr, exit 1, no crash). Usage: topology_cli_test.sh TOPOD FIXTURES_DIR
set -uo pipefail
topod=$1
fixtures=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The issue's done-when: 2 packages, 4 NUMA nodes, 8 L3 groups, 32 cores, 64 PUs; loads back equal.
synthetic="pack:2 numa:2 l3:2 core:4 pu:2"
"$topod" topology --source synthetic:"$synthetic" --output json >"$work/s.json" || fail "synthetic json"
count() { grep -c "$1" "$work/s.json"; }
[ "$(count '{"id": [0-9]*, "package"')" = 64 ] || fail "expected 64 CPUs"
[ "$(grep -o '"package": [0-9]*' "$work/s.json" | sort -u | wc -l)" = 2 ] || fail "expected 2 packages"
[ "$(count '{"id": [0-9]*, "memory_bytes"')" = 4 ] || fail "expected 4 NUMA nodes"
[ "$(count '{"index": [0-9]*, "size_bytes"')" = 8 ] || fail "expected 8 L3 groups"
[ "$(grep -o '"package": [0-9]*, "die": [0-9]*, "core_id": [0-9]*' "$work/s.json" | sort -u | wc -l)" = 32 ] ||
  fail "expected 32 cores"
"$topod" topology --source json:"$work/s.json" --output json >"$work/back.json" || fail "json reload"
cmp -s "$work/s.json" "$work/back.json" || fail "json -> model -> json differs"
"$topod" topology --source synthetic:"$synthetic" >"$work/tree.txt" || fail "tree output"
grep -q "^Machine: 2 packages, 2 dies, 4 NUMA nodes, 8 L3 groups, 32 cores, 64 CPUs" "$work/tree.txt" ||
  fail "tree summary line"
grep -q "^  node-3 (Node)" "$work/tree.txt" || fail "zone summary"

# The README's first command: this machine.
"$topod" topology >"$work/live.txt" || fail "live tree"
grep -q "^NodeResourceTopology zones:" "$work/live.txt" || fail "live zone summary"

# Every XML fixture: loads, and its committed JSON snapshot is what topod prints for it.
for xml in "$fixtures"/topology/*.xml; do
  [ -e "$xml" ] || continue
  shape=$(basename "$xml" .xml)
  args=()
  [ -d "$fixtures/topology/sysfs/$shape" ] && args=(--sysfs-root "$fixtures/topology/sysfs/$shape")
  "$topod" topology --source xml:"$xml" "${args[@]}" --output json >"$work/x.json" || { fail "load $xml"; continue; }
  cmp -s "$work/x.json" "${xml%.xml}.json" || fail "snapshot of $xml differs from ${xml%.xml}.json"
done

# Malformed input: exit 1, exactly one line on stderr naming the input, nothing on stdout.
expect_error() {
  local source=$1 needle=$2
  "$topod" topology --source "$source" >"$work/out" 2>"$work/err"
  local rc=$?
  [ "$rc" = 1 ] || fail "$source: exit $rc, expected 1"
  [ "$(wc -l <"$work/err")" = 1 ] || fail "$source: stderr is not one line: $(cat "$work/err")"
  grep -qF -- "$needle" "$work/err" || fail "$source: stderr lacks '$needle': $(cat "$work/err")"
  [ ! -s "$work/out" ] || fail "$source: wrote to stdout"
}
malformed=$fixtures/topology/malformed
expect_error "xml:/nonexistent/machine.xml" "xml:/nonexistent/machine.xml: cannot open"
expect_error "xml:$malformed/truncated.xml" "truncated.xml: hwloc cannot load it"
expect_error "xml:$malformed/not-xml.xml" "not-xml.xml: hwloc cannot load it"
expect_error "xml:$malformed/not-hwloc.xml" "not-hwloc.xml: hwloc cannot load it"
expect_error "synthetic:pack:2 bogus:3" "hwloc rejects the synthetic description"
expect_error "synthetic:" "empty description"
expect_error "json:/nonexistent/machine.json" "json:/nonexistent/machine.json: cannot open"
expect_error "json:$malformed/truncated.json" "truncated.json: invalid JSON"
expect_error "json:$malformed/wrong-type.json" "cpus[0].core_id: expected an integer"
expect_error "json:$malformed/cpu-on-missing-node.json" "cpus[1].numa: NUMA node 1 is not listed"
expect_error "json:$malformed/smt-siblings-disagree.json" "disagrees with its SMT siblings"
"$topod" topology --source synthetic:"pack:1 core:2 pu:1" --sysfs-root /nonexistent-root >"$work/out" 2>"$work/err"
[ $? = 1 ] && grep -q "/nonexistent-root" "$work/err" || fail "missing --sysfs-root: $(cat "$work/err")"
expect_error "bogus:thing" "known: live, xml:PATH, synthetic:DESC, json:PATH"

# The NodeResourceTopology object as YAML: the same object as the JSON output (devices under
# their device plugins' names; quantities stay strings, so they are quoted).
gpu=$fixtures/topology/gpu-2s-2x16c-smt2-4gpu-2nic.xml
"$topod" topology --source xml:"$gpu" --output nrt --node n1 >"$work/nrt.json" || fail "nrt json"
"$topod" topology --source xml:"$gpu" --output nrt-yaml --node n1 >"$work/nrt.yaml" || fail "nrt yaml"
grep -q '^kind: NodeResourceTopology$' "$work/nrt.yaml" || fail "nrt-yaml: no kind line: $(head -5 "$work/nrt.yaml")"
grep -q '^  name: n1$' "$work/nrt.yaml" || fail "nrt-yaml: no metadata.name"
grep -q 'name: nvidia.com/gpu' "$work/nrt.yaml" || fail "nrt-yaml: no nvidia.com/gpu resource"
grep -q 'capacity: "2"' "$work/nrt.yaml" || fail "nrt-yaml: quantities are not quoted strings"
[ "$(grep -c 'name: node-[0-9]' "$work/nrt.yaml")" = "$(grep -c '"name": "node-[0-9]' "$work/nrt.json")" ] ||
  fail "nrt-yaml and nrt disagree on zones and costs"

# A bad --output is a usage error (CLI11), not a crash.
"$topod" topology --output yaml >/dev/null 2>&1
rc=$?
[ "$rc" != 0 ] && [ "$rc" -lt 128 ] || fail "--output yaml: exit $rc"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "topod topology CLI: all checks passed"
