#!/usr/bin/env bash
# Installs topod's dependencies from Debian 12's own archive.
#   install-deps.sh           every build and test dependency (what scripts/test.sh needs)
#   install-deps.sh --build   only what building the topod binary needs (README's first command)
# libcgroup is deliberately absent: its 2.0.2 has no cgroup v2 path API; cgroups/ reads the tree.
set -euo pipefail

build=(
  build-essential cmake ninja-build pkg-config ccache
  libhwloc-dev hwloc-nox libnuma-dev libsystemd-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libtomlplusplus-dev nlohmann-json3-dev libcurl4-openssl-dev libmicrohttpd-dev libyaml-dev libspdlog-dev libfmt-dev libcli11-dev
)
tests=(
  git
  libgtest-dev libgmock-dev libbenchmark-dev
  dbus-daemon
  # scripts/fuzz.sh: clang 14 and its libFuzzer/sanitizer runtimes (not pulled in without recommends)
  clang libclang-rt-14-dev
  # scripts/format.sh: the formatter CI checks the tree with
  clang-format-14
  # end-to-end tests: containerd's runtime, images made of busybox, unpacking .debs, scraping metrics
  runc busybox-static iproute2 util-linux dpkg curl
  # eviction mode criu (docs/eviction.md): runc checkpoints containers with criu (scenario criu_checkpoint)
  criu
  # tests/package: the .deb's checks (dpkg-shlibdeps comes with build-essential's dpkg-dev)
  lintian
  # the test VM (scripts/vm, docs/vm.md): qemu, and the tools that build its image
  qemu-system-x86 debootstrap e2fsprogs xz-utils cpio kmod
)

case "${1:-}" in
  "") packages=("${build[@]}" "${tests[@]}") ;;
  --build) packages=("${build[@]}") ;;
  *) echo "usage: install-deps.sh [--build]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
