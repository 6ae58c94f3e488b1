#!/usr/bin/env bash
# Runs the real-API-server tests (real_apiserver_test.cc): builds the server once (cached),
# starts etcd + the server + the CRD in a temporary directory, runs the test binary, stops both
# by pid. Usage: run-real-apiserver-test.sh TEST_BINARY [gtest args]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$1; shift
start=$SECONDS
"$here/test-apiserver.sh" build >/dev/null
echo "run-real-apiserver-test: server built or cached in $((SECONDS - start)) s"
run=$(mktemp -d /tmp/topod-kube-XXXXXX)
cleanup() { "$here/test-apiserver.sh" stop "$run" || true; rm -rf "$run"; }
trap cleanup EXIT
start=$SECONDS
"$here/test-apiserver.sh" start "$run" >/dev/null
echo "run-real-apiserver-test: etcd + API server + CRD ready in $((SECONDS - start)) s"
TOPOD_KUBE_RUN_DIR=$run "$binary" "$@"
