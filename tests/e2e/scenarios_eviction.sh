# shellcheck shell=bash
# The eviction-warning scenarios (issue 13, docs/eviction.md, docs/e2e.md): topod as an
# EvictionRequest responder and requester on the real containerd, beside the test API server.
# Sourced by run-e2e.sh after scenarios.sh (its helpers: ensure_topod, run_pod, start_container, ...).

# --- eviction warnings (issue 13, docs/eviction.md), with the test API server -----------------------
# topod answers Evictions as responder topod.io/warning; the test-side controller
# (tests/tools/eviction-controller, the activation rules of tests/kube/eviction_test_controller.h)
# creates the EvictionRequest and the Eviction and activates the responders. The workloads are
# busybox shells that see their pod's eviction directory at /eviction, as a hostPath would show it.

EVICTION_RESPONDER=topod.io/warning
EVICTOR=imperative-eviction.k8s.io/evictor
E2E_REQUESTER=e2e.topod.io/test

evc() { "$EVICTION_CONTROLLER" --kubeconfig "$KUBE_RUN/kubeconfig" "$@"; }

eviction_prereqs() {
  if [ -z "${KUBE_RUN:-}" ] || [ ! -x "${EVICTION_CONTROLLER:-}" ]; then
    log "no test API server or eviction controller (TOPOD_E2E_KUBE=1 and --eviction-controller): skipped"
    return 1
  fi
}

# The workload's helpers, prepended to every workload script: progress STATE PERCENT MESSAGE
# writes progress.json the way docs/eviction.md asks (a temporary file, then a rename).
EVICTION_SH='progress() { printf "{\"state\":\"%s\",\"percent\":%s,\"message\":\"%s\"}" "$1" "$2" "$3" >/eviction/.p &&
  /bin/busybox mv /eviction/.p /eviction/progress.json; }
'
# signal mode: SIGUSR1 -> "warned", progress, a checkpoint of CHECKPOINT_S seconds, done, exit.
eviction_signal_workload() {
  echo "${EVICTION_SH}checkpoint() { echo signal >/eviction/warned; progress running 50 saving-shard-4-of-8;
  sleep $1; progress done 100 checkpoint-saved; exit 0; }
trap checkpoint USR1
while :; do sleep 1 & wait \$!; done"
}
# file mode: polls notice.json every 0.2 s; on "warning": "warned", progress, a checkpoint, done.
eviction_file_workload() {
  echo "${EVICTION_SH}while ! grep -q '\"state\":\"warning\"' /eviction/notice.json 2>/dev/null; do sleep 0.2; done
echo file >/eviction/warned; progress running 30 copying-optimizer-state; sleep $1; progress done 100 saved; exit 0"
}
# Never answers; records a signal if one comes (it must not, for a pod that does not list topod).
EVICTION_SILENT_WORKLOAD='trap "echo signal >/eviction/warned" USR1; while :; do sleep 1 & wait $!; done'

# eviction_pod NAME SCRIPT [run-pod options]: a Burstable pod (nothing to pin) whose container runs
# SCRIPT with the pod's directory <notice_dir>/<uid> at /eviction (created first, as the kubelet's
# hostPath DirectoryOrCreate does); prints "POD CONTAINER UID".
eviction_pod() {
  local name=$1 script=$2 uid pod ctr
  shift 2
  uid=$(cat /proc/sys/kernel/random/uuid)
  mkdir -p "$RUN/evictions/$uid" && chmod 0777 "$RUN/evictions/$uid"
  pod=$(run_pod "$name" "$uid" "${BURSTABLE[@]}" "$@") || return 1
  ctr=$(start_container "$pod" "$name" "${BURSTABLE[@]}" --mount "$RUN/evictions/$uid:/eviction" \
    -- /bin/sh -c "$script") || return 1
  echo "$pod $ctr $uid"
}

# eviction_view NAME RESPONDER: "STATE COMPLETED(0/1) HEARTBEAT(0/1) MESSAGE" of RESPONDER in the
# Eviction NAME, read from the API server.
eviction_view() {
  evc get "$1" | python3 -c 'import json, sys
o = json.load(sys.stdin)
r = sys.argv[1]
s = o.get("status", {})
state = next((t.get("state", "") for t in s.get("targetResponders", []) if t["name"] == r), "-")
e = next((x for x in s.get("responders", []) if x["name"] == r), {})
print(state, int("completionTime" in e), int("heartbeatTime" in e), e.get("message", ""))' "$2"
}

# wait_eviction NAME RESPONDER PYTHON_CONDITION LIMIT_S WHAT: polls eviction_view until the
# condition (over state, done, beat, message) holds; fails after LIMIT_S seconds.
wait_eviction() {
  local name=$1 responder=$2 cond=$3 limit=$4 what=$5 start view
  start=$(date +%s)
  while :; do
    view=$(eviction_view "$name" "$responder")
    if python3 -c 'import sys
state, done, beat, message = (sys.argv[2].split(" ", 3) + ["", "", "", ""])[:4]
done, beat = done == "1", beat == "1"
sys.exit(0 if eval(sys.argv[1]) else 1)' "$cond" "$view"; then
      log "ok: $what ($responder: $view)"
      return 0
    fi
    [ $(($(date +%s) - start)) -lt "$limit" ] || { fail "$what: not within ${limit}s ($responder: $view)"; return 1; }
    sleep 0.2
  done
}

# expect_warned UID WANT WHAT: the workload's own record of the warning, within 10 s.
expect_warned() {
  local i
  for i in $(seq 1 50); do
    if [ "$(cat "$RUN/evictions/$1/warned" 2>/dev/null)" = "$2" ]; then
      log "ok: $3: the workload wrote \"$2\""
      return 0
    fi
    sleep 0.2
  done
  fail "$3: the workload was not warned (warned: $(cat "$RUN/evictions/$1/warned" 2>&1))"
}

# (m) The busybox workloads: (a) signal mode, (b) file mode, (c) a silent one with a 3 s deadline,
# (d) a pod that does not list topod. Asserted from the API server: the workload was warned (its
# own file), its progress appears in topod's responder status, completion (so the evictor's turn)
# only after it said done, or after the deadline; the pod that does not list topod is left alone.
scenario_eviction_warning() {
  eviction_prereqs || return 0
  ensure_topod || return 1
  local sig_pod sig sig_uid file_pod file file_uid silent_pod silent silent_uid other_pod other other_uid
  local e_sig e_file e_silent e_other responders=(--responder "$EVICTION_RESPONDER:5000" --responder "$EVICTOR:100")
  # The checkpoints last 25 s: progress reaches the status within topod's 20 s heartbeat gap.
  read -r sig_pod sig sig_uid < <(eviction_pod ev-signal "$(eviction_signal_workload 25)") || return 1
  read -r file_pod file file_uid < <(eviction_pod ev-file "$(eviction_file_workload 25)" \
    --annotation eviction.topod.io/warning=file) || return 1
  read -r silent_pod silent silent_uid < <(eviction_pod ev-silent "$EVICTION_SILENT_WORKLOAD" \
    --annotation eviction.topod.io/warning=file --annotation eviction.topod.io/deadline-seconds=3) || return 1
  read -r other_pod other other_uid < <(eviction_pod ev-other "$EVICTION_SILENT_WORKLOAD") || return 1
  : "$sig_pod $sig $file_pod $file $silent_pod $silent $other_pod $other"

  e_sig=$(evc request --pod ev-signal --uid "$sig_uid" --requester "$E2E_REQUESTER" "${responders[@]}") || { fail "request ev-signal"; return 1; }
  e_file=$(evc request --pod ev-file --uid "$file_uid" --requester "$E2E_REQUESTER" "${responders[@]}") || { fail "request ev-file"; return 1; }
  e_silent=$(evc request --pod ev-silent --uid "$silent_uid" --requester "$E2E_REQUESTER" "${responders[@]}") || { fail "request ev-silent"; return 1; }
  e_other=$(evc request --pod ev-other --uid "$other_uid" --requester "$E2E_REQUESTER" --responder "$EVICTOR:100") || { fail "request ev-other"; return 1; }
  local e
  for e in "$e_sig" "$e_file" "$e_silent" "$e_other"; do evc step "$e" || { fail "activating $e"; return 1; }; done

  # Warned: each workload's own record; topod's first heartbeat at once; the evictor waits.
  expect_warned "$sig_uid" signal "(a) signal mode" || return 1
  expect_warned "$file_uid" file "(b) file mode" || return 1
  grep -q '"state":"warning"' "$RUN/evictions/$silent_uid/notice.json" 2>/dev/null ||
    { fail "(c) no warning notice for the silent pod"; return 1; }
  wait_eviction "$e_sig" "$EVICTION_RESPONDER" 'state == "Active" and beat and not done' 5 "(a) heartbeat, not complete" || return 1
  wait_eviction "$e_file" "$EVICTION_RESPONDER" 'state == "Active" and beat and not done' 5 "(b) heartbeat, not complete" || return 1

  # (c) The silent workload: completion when its 3 s deadline passes, then the evictor's turn.
  wait_eviction "$e_silent" "$EVICTION_RESPONDER" 'done and "deadline passed" in message' 10 "(c) deadline completion" || return 1
  evc watch-steps "$e_silent" --until "$EVICTOR=Active" --timeout 5 >/dev/null || { fail "(c) evictor not activated"; return 1; }

  # (a), (b) Progress in the status while the checkpoint runs; the eviction waits for it.
  wait_eviction "$e_sig" "$EVICTION_RESPONDER" '"50%" in message and "saving-shard-4-of-8" in message and not done' 24 \
    "(a) progress in the responder status" || return 1
  wait_eviction "$e_file" "$EVICTION_RESPONDER" '"30%" in message and not done' 24 "(b) progress in the responder status" || return 1
  evc step "$e_sig" && evc step "$e_file" || { fail "stepping"; return 1; }
  wait_eviction "$e_sig" "$EVICTOR" 'state == "Inactive"' 1 "(a) not evicted before done" || return 1
  wait_eviction "$e_file" "$EVICTOR" 'state == "Inactive"' 1 "(b) not evicted before done" || return 1

  # Done: completion follows, and only after the workload said so.
  local said name uid note
  for e in "$e_sig:$sig_uid:checkpoint-saved" "$e_file:$file_uid:saved"; do
    IFS=: read -r name uid note <<<"$e"
    wait_eviction "$name" "$EVICTION_RESPONDER" "done and \"workload done: $note\" in message" 40 "completion of $name after done" || return 1
    said=$(stat -c %.9Y "$RUN/evictions/$uid/progress.json")
    grep -q '"state":"done"' "$RUN/evictions/$uid/progress.json" || { fail "$name completed before the workload said done"; return 1; }
    evc watch-steps "$name" --until "$EVICTION_RESPONDER=Completed" --timeout 5 >/dev/null &&
      evc watch-steps "$name" --until "$EVICTOR=Active" --timeout 5 >/dev/null || { fail "$name: evictor not activated"; return 1; }
    log "ok: $name: done written at $said, then topod Completed and the evictor Active"
  done

  # (d) The pod that does not list topod: no signal, no notice, no status entry of topod's.
  [ ! -e "$RUN/evictions/$other_uid/warned" ] || { fail "(d) a pod that does not list topod was signalled"; return 1; }
  [ ! -e "$RUN/evictions/$other_uid/notice.json" ] || { fail "(d) a pod that does not list topod got a notice"; return 1; }
  wait_eviction "$e_other" "$EVICTION_RESPONDER" 'state == "-" and not beat' 1 "(d) topod stayed out of it" || return 1
  wait_eviction "$e_other" "$EVICTOR" 'state == "Active"' 1 "(d) straight to the evictor" || return 1
}

# (n) A figure: the time from the request to the warning reaching the workload, signal mode, over
# a handful of pods. "activation": from just before the controller's step that makes topod Active
# to the workload's file written in its SIGUSR1 trap (its mtime); "request": from just before the
# EvictionRequest is created (the Eviction, then the step, each a process start of the tool).
scenario_eviction_latency() {
  eviction_prereqs || return 0
  ensure_topod || return 1
  local runs=${TOPOD_E2E_EVICTION_RUNS:-8} i pod ctr uid name t_request t_step t_warned
  local from_step=() from_request=()
  for i in $(seq 1 "$runs"); do
    read -r pod ctr uid < <(eviction_pod "ev-lat-$i" "$(eviction_signal_workload 0)") || return 1
    : "$ctr"
    # The shell must have set its trap before the warning can reach it.
    sleep 0.5
    t_request=$(date +%s.%N)
    name=$(evc request --pod "ev-lat-$i" --uid "$uid" --requester "$E2E_REQUESTER" \
      --responder "$EVICTION_RESPONDER:5000" --responder "$EVICTOR:100") || { fail "request $i"; return 1; }
    t_step=$(date +%s.%N)
    evc step "$name" || { fail "activating $name"; return 1; }
    expect_warned "$uid" signal "latency run $i" >/dev/null 2>&1 || { fail "run $i: not warned"; return 1; }
    t_warned=$(stat -c %.9Y "$RUN/evictions/$uid/warned")
    from_step+=("$(awk -v s="$t_step" -v e="$t_warned" 'BEGIN { printf "%.1f", (e - s) * 1000 }')")
    from_request+=("$(awk -v s="$t_request" -v e="$t_warned" 'BEGIN { printf "%.1f", (e - s) * 1000 }')")
    wait_eviction "$name" "$EVICTION_RESPONDER" 'done' 10 "run $i completed" >/dev/null 2>&1 || { fail "run $i: no completion"; return 1; }
    remove_pod "$pod" >/dev/null 2>&1
  done
  local summary
  summary=$(python3 -c 'import math, sys
def pct(values, p):
    v = sorted(float(x) for x in values)
    return v[max(0, math.ceil(p * len(v)) - 1)]
step = sys.argv[1].split(); req = sys.argv[2].split()
print("activation->signal p50 %.1f ms p99 %.1f ms (all: %s); request->signal p50 %.1f ms p99 %.1f ms" % (
    pct(step, .5), pct(step, .99), " ".join(step), pct(req, .5), pct(req, .99)))' "${from_step[*]}" "${from_request[*]}")
  log "eviction request-to-warning latency over $runs pods, containerd $CONTAINERD_VERSION: $summary"
}

# topod's own EvictionRequests (requester topod.io/node-pressure), one line each.
topod_requests() { evc requests | awk '$2 == "topod.io/node-pressure"'; }

# (o) topod as a requester (docs/eviction.md): an allocation it cannot re-make after a restart.
# A Guaranteed pod holds CPU 1; topod stops and its checkpoint is lost; a second Guaranteed pod
# starts meanwhile (unpinned, nobody is there to pin it). At the restart both ask for the one
# exclusive CPU: one is adopted, and for the other topod creates an EvictionRequest, from the API
# server's view, with its reason, and counts it, instead of running it unpinned without a word.
scenario_eviction_requester() {
  eviction_prereqs || return 0
  ensure_topod || return 1
  local a_pod a a_uid b_pod b b_uid pinned lost lost_uid line LC_ALL=C
  a_uid=$(cat /proc/sys/kernel/random/uuid)
  b_uid=$(cat /proc/sys/kernel/random/uuid)
  a_pod=$(run_pod req-a "$a_uid" "${GUARANTEED_1CPU[@]}") || return 1
  a=$(start_container "$a_pod" req-a "${GUARANTEED_1CPU[@]}") || return 1
  expect_cpus "$a" 1 "req-a gets CPU 1 exclusively" || return 1
  stop_topod
  rm -rf "$RUN/topod-state"
  b_pod=$(run_pod req-b "$b_uid" "${GUARANTEED_1CPU[@]}") || return 1
  b=$(start_container "$b_pod" req-b "${GUARANTEED_1CPU[@]}") || return 1
  start_topod
  wait_topod_connected || return 1
  # Adoption goes in (pod uid, name) order: the first gets CPU 1, the other cannot.
  if [[ "$a_uid" < "$b_uid" ]]; then pinned=$a lost=$b lost_uid=$b_uid; else pinned=$b lost=$a lost_uid=$a_uid; fi
  expect_cpus "$pinned" 1 "the first adopted keeps the exclusive CPU" || return 1
  : "$lost"
  local i
  for i in $(seq 1 50); do
    line=$(evc requests | awk -v uid="$lost_uid" '$4 == uid')
    [ -n "$line" ] && break
    sleep 0.2
  done
  [ -n "$line" ] || { fail "no EvictionRequest for the pod topod could not pin (uid $lost_uid)"; return 1; }
  read -r _ requester intent _ reason <<<"$line"
  [ "$requester $intent $reason" = "topod.io/node-pressure Eviction not_honoured_after_restart" ] ||
    { fail "EvictionRequest: $line"; return 1; }
  log "ok: EvictionRequest for the unpinnable pod: $line"
  [ "$(topod_requests | wc -l)" = 1 ] || { fail "more than one EvictionRequest: $(topod_requests)"; return 1; }
  expect_metric 'topod_eviction_requests_created_total{reason="not_honoured_after_restart"}' -eq 1 \
    "the request is counted" || return 1
  grep -q "created an eviction request for default/req-" "$RUN/topod.log" || { fail "no log line for the request"; return 1; }
  # A restart finds it and makes no second one.
  stop_topod
  start_topod
  wait_topod_connected || return 1
  sleep 1
  [ "$(topod_requests | wc -l)" = 1 ] || { fail "a restart made a second EvictionRequest: $(topod_requests)"; return 1; }
  grep -q "eviction request already made for default/req-" "$RUN/topod.log" ||
    { fail "the restarted topod did not find its request"; return 1; }
  log "ok: the restarted topod found its EvictionRequest and made no second one"
}
