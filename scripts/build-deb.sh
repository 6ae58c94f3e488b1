#!/usr/bin/env bash
# Builds the topod Debian package from this tree: build/release/topod_<version>_<arch>.deb
# (CPack, cmake/TopodPackage.cmake; tests/package/check-deb.sh checks it). Builds only topod.
# Usage: scripts/build-deb.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/release}
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "$dir" -G Ninja >/dev/null
cmake --build "$dir" --target deb
ls "$dir"/topod_*.deb
