# shellcheck shell=bash
# The scenario of eviction mode criu on the real runtime (docs/eviction.md, docs/e2e.md):
# CRI CheckpointContainer through topod's own CRI client (cri-client checkpoint links cri/).
# Sourced by run-e2e.sh after scenarios.sh.

# criu_checkpoint: a running busybox container is checkpointed.
# - containerd 1.7 has no CheckpointContainer: the answer must be reason CheckpointUnsupported
#   (what topod's status message then says).
# - containerd 2.x: where `criu check` passes, the archive must exist, be a non-empty tar and
#   the container must still run. Where criu cannot work on this kernel, the runtime's answer
#   must be a checkpoint failure (not Unsupported, not Unreachable), printed as it came.
scenario_criu_checkpoint() {
  local ctr out rc archive t0
  read -r _ ctr < <(new_pod ckpt BESTEFFORT) || return 1
  mkdir -p "$RUN/checkpoints"
  archive=$RUN/checkpoints/ckpt-$(date -u +%Y%m%dT%H%M%SZ).tar
  t0=$(date +%s.%N)
  out=$("$CRI_CLIENT" --socket "$RUN/containerd.sock" --timeout "${E2E_CRI_TIMEOUT:-60}" checkpoint "$ctr" \
    --location "$archive" 2>&1)
  rc=$?
  log "containerd $CONTAINERD_VERSION CheckpointContainer answered in $(seconds_since "$t0")s (exit $rc): $out"
  # cri-client prints "runtime NAME VERSION" (topod's Version call), then the answer; on failure
  # a line "REASON: CODE: message".
  local reason
  reason=$(printf '%s\n' "$out" | sed -n 's/^\([A-Za-z]*\): [A-Z_]*: .*/\1/p' | head -n1)
  printf '%s\n' "$out" | grep -q '^runtime ' || { fail "topod's CRI client got no Version answer: $out"; return 1; }
  if [ "$CONTAINERD_VERSION" = 1.7 ]; then
    if [ "$rc" != 1 ] || [ "$reason" != CheckpointUnsupported ]; then
      fail "containerd 1.7: expected reason CheckpointUnsupported, got exit $rc: $out"
      return 1
    fi
    return 0
  fi
  if criu check >/dev/null 2>&1; then
    [ "$rc" = 0 ] || { fail "containerd $CONTAINERD_VERSION with a working criu: checkpoint failed: $out"; return 1; }
    [ -s "$archive" ] || { fail "the archive $archive is missing or empty"; return 1; }
    tar -tf "$archive" >"$RUN/checkpoint-entries" || { fail "the archive $archive is not a tar"; return 1; }
    log "archive $archive: $(stat -c %s "$archive") bytes, $(wc -l <"$RUN/checkpoint-entries") entries:" \
      "$(tr '\n' ' ' <"$RUN/checkpoint-entries")"
    # criu's own images: the inventory and the process's memory pages.
    grep -q 'inventory\.img$' "$RUN/checkpoint-entries" && grep -q 'pages-[0-9]*\.img$' "$RUN/checkpoint-entries" ||
      { fail "the archive $archive holds no criu images (inventory.img, pages-N.img)"; return 1; }
    cri status "$ctr" | grep -q RUNNING || { fail "the container stopped after its checkpoint"; return 1; }
    return 0
  fi
  log "criu cannot work here: $(criu check 2>&1 | tail -n 3 | tr '\n' ' ')"
  local dump_log
  dump_log=$(find "$RUN/state" -name criu-dump.log -print -quit 2>/dev/null)
  [ -z "$dump_log" ] || log "criu-dump.log: $(grep -m 3 -i 'error' "$dump_log" | tr '\n' ' ')"
  [ "$rc" = 1 ] || { fail "containerd $CONTAINERD_VERSION without a working criu: the checkpoint succeeded?"; return 1; }
  case $reason in
    CheckpointFailed | CriuMissing) ;;
    *)
      fail "containerd $CONTAINERD_VERSION: expected a checkpoint failure from criu, got reason '$reason': $out"
      return 1
      ;;
  esac
  return 0
}
