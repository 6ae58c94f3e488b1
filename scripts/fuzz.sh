#!/usr/bin/env bash
# Builds the libFuzzer configuration (build/fuzz: clang, every topod library instrumented with
# -fsanitize=fuzzer-no-link,address,undefined) and runs each fuzz target of tests/fuzz for a
# bounded time, starting from its seed corpus. A crash, sanitizer report, leak, timeout or
# out-of-memory fails the script; the input that caused it is copied into the target's seed
# corpus (tests/fuzz/corpus/<name>/), so that once fixed it is replayed by every build's
# fuzz_corpus.<name> test. scripts/test.sh runs it as one stage of CI.
#
#   scripts/fuzz.sh                  every target, TOPOD_FUZZ_SECONDS (default 20) each
#   scripts/fuzz.sh state_journal    only the named targets
# Environment: TOPOD_FUZZ_SECONDS (per target), TOPOD_FUZZ_JOBS (targets run at once; default
# nproc), TOPOD_FUZZ_BUILD_DIR (default build/fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${TOPOD_FUZZ_SECONDS:-20}
jobs=${TOPOD_FUZZ_JOBS:-$(nproc)}
build_dir=${TOPOD_FUZZ_BUILD_DIR:-build/fuzz}
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for dir in tests/fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi

echo "== configure $build_dir"
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOPOD_FUZZ=ON \
  -DTOPOD_BUILD_BENCH=OFF -DTOPOD_BUILD_E2E=OFF >/dev/null
echo "== build ${#targets[@]} fuzz targets"
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]/%/_fuzzer}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# hwloc leaks objects of documents it rejects; topod's own leaks still fail (lsan.supp).
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"

# Runs one target; its log and any crashing input stay in $work/<name>/.
run_target() {
  local name=$1 out="$work/$1"
  mkdir -p "$out/corpus"
  # New inputs go to a scratch corpus; the seeds are only read. -timeout and -rss_limit_mb turn a
  # hang or an unbounded allocation into a failure too.
  "$build_dir/tests/fuzz/${name}_fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "tests/fuzz/corpus/$name" >"$out/log" 2>&1
}

failed=()
running=0
for name in "${targets[@]}"; do
  if [ ! -x "$build_dir/tests/fuzz/${name}_fuzzer" ]; then
    echo "fuzz: no target $name" >&2
    exit 2
  fi
  (run_target "$name" && touch "$work/$name.ok" || true) &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

for name in "${targets[@]}"; do
  out="$work/$name"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -1)
  if [ -e "$work/$name.ok" ]; then
    echo "fuzz: $name: ${runs:-?} runs in ${seconds}s, no crash"
    continue
  fi
  failed+=("$name")
  echo "fuzz: $name FAILED; its log:" >&2
  grep -v '^#[0-9]' "$out/log" | tail -60 >&2
  for input in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* "$out"/slow-unit-*; do
    [ -e "$input" ] || continue
    seed="tests/fuzz/corpus/$name/$(basename "$input")"
    cp "$input" "$seed"
    echo "fuzz: $name: the failing input is now the seed $seed (fix the bug, keep the seed)" >&2
  done
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a crash"
