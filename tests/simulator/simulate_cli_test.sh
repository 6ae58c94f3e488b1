#!/usr/bin/env bash
# Runs the real `topod simulate` binary: exit codes, stdout lines and stderr messages.
# Usage: simulate_cli_test.sh TOPOD DATA_DIR
set -uo pipefail
topod=$1
data=$2
topology="synthetic:pack:1 numa:2 core:4 pu:2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# expect NAME WANT_RC PATTERN_FILE(stdout|stderr) REGEX -- ARGS...
expect() {
  local name=$1 want_rc=$2 stream=$3 regex=$4
  shift 5
  "$topod" simulate "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  if [ "$rc" -ne "$want_rc" ]; then
    echo "FAIL $name: exit $rc, want $want_rc"; cat "$work/out" "$work/err"; failures=$((failures + 1)); return
  fi
  if ! grep -Eq -- "$regex" "$work/$stream"; then
    echo "FAIL $name: $stream does not match /$regex/"; cat "$work/out" "$work/err"; failures=$((failures + 1)); return
  fi
  echo "ok   $name"
}

expect "none policy replays every event" 0 out \
  '^\{"summary":\{"events":5,"admitted":4,"rejected":0,"numa_aligned":0,"exclusive":0,"resized":1,.*"removed":1,' \
  -- --topology "$topology" --config "$data/none.toml" --trace "$data/mixed.jsonl"
expect "one line per decision" 0 out '^\{"line":2,"op":"add","pod":"db-1","container":"main","result":"admitted","cpus":"0-15","exclusive":false' \
  -- --topology "$topology" --policy none --trace "$data/mixed.jsonl"
expect "malformed trace names the line" 1 err 'malformed\.jsonl:3: containers\[0\]\.limits\.cpu: CPU quantity "one": not a number' \
  -- --topology "$topology" --policy none --trace "$data/malformed.jsonl"
expect "malformed trace prints no decision" 1 err '.' \
  -- --topology "$topology" --policy none --trace "$data/malformed.jsonl"
[ -s "$work/out" ] && { echo "FAIL malformed trace printed decisions"; failures=$((failures + 1)); }
expect "unknown policy lists the known ones" 1 err '^topod simulate: unknown policy "bogus" \(known: none' \
  -- --topology "$topology" --policy bogus --trace "$data/mixed.jsonl"
expect "initial shared state is adopted" 0 out '"containers":4,' \
  -- --topology "$topology" --policy none --state "$data/shared-state.json" --trace "$data/mixed.jsonl"
expect "pinned state does not fit policy none" 1 err 'pinned-state\.json: state does not fit this machine and configuration .*' \
  -- --topology "$topology" --policy none --state "$data/pinned-state.json" --trace "$data/mixed.jsonl"
expect "missing trace file" 1 err '^topod simulate: cannot read trace: /nonexistent\.jsonl does not exist' \
  -- --topology "$topology" --policy none --trace /nonexistent.jsonl
expect "bad topology source" 1 err '^topod simulate: ' \
  -- --topology "nowhere:x" --policy none --trace "$data/mixed.jsonl"
expect "bad config file" 1 err '^topod simulate: .*missing\.toml' \
  -- --topology "$topology" --config "$work/missing.toml" --trace "$data/mixed.jsonl"
printf '{"version":1,"containers":[],"checksum":"fnv1a64:0000000000000000"}' >"$work/bad-sum.json"
expect "state with a wrong checksum" 1 err 'bad-sum\.json: checksum mismatch' \
  -- --topology "$topology" --policy none --state "$work/bad-sum.json" --trace "$data/mixed.jsonl"

printf '[policy]\nname = "static"\nreserved_cpu_count = 1\n[policy.cpu]\nstrict_cpu_reservation = true\n' >"$work/strict-count.toml"
expect "strict reservation by count starts and replays" 0 out '"summary":\{"events":5,' \
  -- --topology "$topology" --config "$work/strict-count.toml" --trace "$data/mixed.jsonl"
# The CPU the count picks (0) is known to the state checker: a state holding it exclusively is
# refused, by count as by list (issue 16 item 6).
sed 's/"exclusive_cpus": "2-3"/"exclusive_cpus": "0-1"/' "$data/pinned-state.json" >"$work/on-reserved.json"
expect "state on the CPU a reserved count picked is refused" 1 err 'legacy-1/app: exclusive CPUs 0 are reserved \(reserved: 0\)' \
  -- --topology "$topology" --config "$work/strict-count.toml" --state "$work/on-reserved.json" --trace "$data/mixed.jsonl"
expect "a state off the reserved CPU is adopted under strict reservation by count" 0 out '"summary":\{"events":5,' \
  -- --topology "$topology" --config "$work/strict-count.toml" --state "$data/pinned-state.json" --trace "$data/mixed.jsonl"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"; exit 1
fi
