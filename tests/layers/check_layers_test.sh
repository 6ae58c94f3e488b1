#!/usr/bin/env bash
# The layering rule (cmake/TopodLayers.cmake) accepts a tree that follows it and refuses, with one
# line per include, a tree that breaks it: the check the build runs can fail.
set -uo pipefail
rule=$1 fixtures=$2
failures=0

if ! out=$(cmake -DROOT="$fixtures/good" -P "$rule" 2>&1); then
  echo "FAIL: the good tree was refused:"; echo "$out"; failures=$((failures + 1))
fi

out=$(cmake -DROOT="$fixtures/bad" -P "$rule" 2>&1) && { echo "FAIL: the bad tree was accepted"; failures=$((failures + 1)); }
for expected in \
  'policies/upward.cc includes "nri/plugin.h": policies may include policies common topology' \
  'policies/upward.cc includes <hwloc.h>: only topology may' \
  'policies/upward.cc includes <unistd.h>: policies is pure' \
  'state/logs.h includes <spdlog/spdlog.h>: only agent may' \
  'kube/agent_user.h includes "agent/agent.h": kube may include kube common topology' \
  'kube/agent_user.h includes "tests/fakes/fake_clock.h": production code never includes tests/' \
  'layering: 6 include(s) cross a layer the wrong way'; do
  if ! grep -qF -- "$expected" <<<"$out"; then
    echo "FAIL: missing from the report: $expected"; failures=$((failures + 1))
  fi
done
if grep -q 'policies/policy.h\|policies/state.h' <<<"$out"; then
  echo "FAIL: an allowed include was reported"; failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] || { echo "--- report ---"; echo "$out"; exit 1; }
echo "layering rule: good tree accepted, 6 violations of the bad tree reported"
