#!/usr/bin/env bash
# Builds topod and runs the whole test suite: unit tests, fuzz corpora, root-only kernel tests
# (when run as root) and the sanitizer build. The README's second command and .ci/run call this.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" ./scripts/install-deps.sh

build_and_test() {
  local dir=$1; shift
  echo "== configure $dir"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  echo "== build $dir"
  cmake --build "$dir" -j "$jobs"
  echo "== test $dir"
  local exclude="vm"
  [ "$(id -u)" -eq 0 ] || exclude="vm|root"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" -LE "$exclude"
}

build_and_test build/release
# The sanitizer configuration runs the same tests under ASan+UBSan (benchmarks are not built).
build_and_test build/asan -DTOPOD_SANITIZE=ON -DTOPOD_BUILD_BENCH=OFF
