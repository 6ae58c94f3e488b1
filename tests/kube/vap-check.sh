#!/usr/bin/env bash
# Tests deploy/validating-admission-policy.yaml with the upstream admission plugin: builds
# tests/kube/vap/main.go against the Kubernetes Go sources that test-apiserver.sh fetched (Debian
# sid's golang-k8s-*-dev, cached with its Go toolchain and build cache) and runs it on deploy/.
# Exit 77 (CTest: skipped) when the cache has no Go toolchain or sources.
# Usage: vap-check.sh [DEPLOY_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deploy=${1:-$here/../../deploy}
cache=${TOPOD_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/topod/kube-apiserver}
root=$cache/root
goroot=$(ls -d "$root"/usr/lib/go-1.* 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$goroot" ] || [ ! -d "$root/usr/share/gocode/src/k8s.io/apiserver/pkg/admission" ]; then
  echo "vap-check: no Go toolchain or k8s.io/apiserver sources under $cache" \
    "(tests/kube/test-apiserver.sh build fetches them); skipping"
  exit 77
fi
# GOPATH mode: the program in a private GOPATH entry, the packaged sources in the second.
gopath=$cache/vap-gopath
src=$gopath/src/topod.local/vap-check
mkdir -p "$src" "$cache/bin" "$cache/gocache"
cp "$here/vap/main.go" "$src/main.go"
start=$SECONDS
(cd "$src" &&
  GO111MODULE=off GOPATH="$gopath:$root/usr/share/gocode" GOROOT="$goroot" GOTOOLCHAIN=local GOPROXY=off \
    CGO_ENABLED=0 GOCACHE="$cache/gocache" GOFLAGS= \
    nice "$goroot/bin/go" build -trimpath -o "$cache/bin/vap-check.tmp" .)
mv "$cache/bin/vap-check.tmp" "$cache/bin/vap-check"
echo "vap-check: built in $((SECONDS - start)) s"
exec "$cache/bin/vap-check" "$deploy"
