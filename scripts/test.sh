#!/usr/bin/env bash
# Checks the format, builds topod (the build checks the include layering, cmake/TopodLayers.cmake)
# and runs the whole test suite: unit tests, fuzz corpora, root-only kernel tests
# (when run as root), end-to-end tests on a real containerd and the Kubernetes API-server tests
# (as root), the tests in the qemu VM (several NUMA nodes, systemd, cgroup v2 and v1; as root),
# every fuzz target for a bounded time, and the whole suite again in the ASan+UBSan
# configuration. The README's second command and .ci/run call this.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
# Paths relative to the checkout in ccache keys, so a fresh clone (CI) reuses earlier compilations.
export CCACHE_BASEDIR="$PWD"
# Debug info embeds the build directory; without this, ccache would still key on the clone path.
export CCACHE_NOHASHDIR=1
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" ./scripts/install-deps.sh

# Seconds: a format diff fails CI before anything is built (scripts/format.sh rewrites the files).
echo "== format"
./scripts/format.sh --check

build_and_test() {
  local dir=$1; shift
  echo "== configure $dir"
  # Unity test binaries: two cold builds of the whole suite must fit CI's 30 minutes on 2 cores.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOPOD_UNITY_TESTS=ON "$@" >/dev/null
  echo "== build $dir"
  cmake --build "$dir" -j "$jobs"
  echo "== test $dir"
  # The end-to-end tests run once, on their own, after the release build's unit tests.
  local exclude="vm|e2e|kube"
  [ "$(id -u)" -eq 0 ] || exclude="vm|e2e|kube|root"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" -LE "$exclude"
}

build_and_test build/release
if [ "$(id -u)" -eq 0 ]; then
  # The NodeResourceTopology publisher and the eviction responder against a real API server
  # (docs/kubernetes.md); the first run fetches and builds the server (minutes), later ones reuse
  # the cache, as the e2e run below does.
  echo "== kube build/release"
  ctest --test-dir build/release --output-on-failure -V -L kube
  # End-to-end on a real containerd (docs/e2e.md), with the test API server beside it
  # (TOPOD_E2E_KUBE: the NodeResourceTopology object must follow every pin): root only; -V prints
  # each scenario's timing.
  echo "== e2e build/release"
  TOPOD_E2E=1 TOPOD_E2E_KUBE=1 ctest --test-dir build/release --output-on-failure -V -L e2e
  # The qemu VM (docs/vm.md): several NUMA nodes, systemd as PID 1, cgroup v2 and v1; the image
  # is built from Debian packages once and cached, each test boots it once (one VM at a time).
  echo "== vm build/release"
  TOPOD_VM=1 ctest --test-dir build/release --output-on-failure -V -L vm
else
  echo "== e2e, kube and vm skipped: need root"
fi
# Every fuzz target of tests/fuzz, instrumented, for a bounded time each (scripts/fuzz.sh): a
# crash fails CI and its input becomes a seed. Builds only the fuzz targets, through ccache.
echo "== fuzz build/fuzz"
./scripts/fuzz.sh
# The sanitizer configuration runs the same tests under ASan+UBSan (benchmarks and the e2e suite,
# which runs once above, are not built).
build_and_test build/asan -DTOPOD_SANITIZE=ON -DTOPOD_BUILD_BENCH=OFF -DTOPOD_BUILD_E2E=OFF
