# shellcheck shell=bash
# The eviction-warning scenarios (issue 13, docs/eviction.md, docs/e2e.md): topod as an
# EvictionRequest responder and requester on the real containerd, beside the test API server.
# Sourced by run-e2e.sh after scenarios.sh (its helpers: ensure_topod, run_pod, start_container, ...;
# run-e2e.sh's $here and $repo).

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
# EVICTION_POD_SHAPE names the QoS array (default BURSTABLE; GUARANTEED_1CPU for a pinned one).
eviction_pod() {
  local name=$1 script=$2 uid pod ctr
  local -n shape=${EVICTION_POD_SHAPE:-BURSTABLE}
  shift 2
  uid=$(cat /proc/sys/kernel/random/uuid)
  mkdir -p "$RUN/evictions/$uid" && chmod 0777 "$RUN/evictions/$uid"
  pod=$(run_pod "$name" "$uid" "${shape[@]}" "$@") || return 1
  ctr=$(start_container "$pod" "$name" "${shape[@]}" --mount "$RUN/evictions/$uid:/eviction" \
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

# --- the request withdrawn, topod restarted, the API server down, another node's pod --------------
# Each workload is stepped by the test: a file the test drops into the pod's directory stands for
# the time a real checkpoint takes, so every scenario is bounded and none races a sleep. What is
# asserted comes from the workload's own files and from the API server.

# eviction_stepped_workload MODE: counts every SIGUSR1 in /eviction/signals (a second warning would
# show); waits for its warning (signal: the first signal; file: notice.json saying "warning");
# writes "warned"; progress "running 40 checkpoint-started", on /eviction/go "running 70
# checkpoint-continued", on /eviction/finish "done 100 checkpoint-saved"; when notice.json says
# "cancelled" it writes "cancelled" to /eviction/heard and "running 0 training-resumed". It keeps
# running throughout, as a workload whose eviction was withdrawn or has not come yet does.
# /eviction/ready says its trap is set (wait_ready).
eviction_stepped_workload() {
  local wait_warning
  if [ "$1" = signal ]; then
    wait_warning='[ -s /eviction/signals ]'
  else
    wait_warning="grep -q '\"state\":\"warning\"' /eviction/notice.json 2>/dev/null"
  fi
  echo "${EVICTION_SH}trap 'echo signal >>/eviction/signals' USR1
echo ready >/eviction/ready
until $wait_warning; do sleep 0.2 & wait \$!; done
echo $1 >/eviction/warned
progress running 40 checkpoint-started
step=0
while :; do
  if [ \$step = 0 ] && [ -e /eviction/go ]; then step=1; progress running 70 checkpoint-continued; fi
  if [ \$step != 2 ] && [ -e /eviction/finish ]; then step=2; progress done 100 checkpoint-saved; fi
  if [ ! -e /eviction/heard ] && grep -q '\"state\":\"cancelled\"' /eviction/notice.json 2>/dev/null; then
    echo cancelled >/eviction/heard; progress running 0 training-resumed
  fi
  sleep 0.2 & wait \$!
done"
}

# eviction_entry NAME RESPONDER FIELD: one field of RESPONDER's status entry in Eviction NAME
# (heartbeatTime, completionTime, message), "" when absent; fails when the Eviction is not there.
eviction_entry() {
  local got
  got=$(evc get "$1" 2>/dev/null) || return 1
  python3 -c 'import json, sys
o = json.loads(sys.argv[1])
e = next((x for x in o.get("status", {}).get("responders", []) if x["name"] == sys.argv[2]), {})
print(e.get(sys.argv[3], ""))' "$got" "$2" "$3"
}

# signals UID: how many SIGUSR1 the workload of pod UID counted (signals_in: in the pod directory DIR).
signals_in() { if [ -f "$1/signals" ]; then wc -l <"$1/signals"; else echo 0; fi; }
signals() { signals_in "$RUN/evictions/$1"; }

# expect_file UID FILE PATTERN WHAT: the workload's (or topod's) file in the pod's directory
# matches PATTERN (grep -E) within 10 s.
expect_file() {
  local i
  for i in $(seq 1 50); do
    grep -qE "$3" "$RUN/evictions/$1/$2" 2>/dev/null && { log "ok: $4 ($2: $(head -c 300 "$RUN/evictions/$1/$2"))"; return 0; }
    sleep 0.2
  done
  fail "$4: $2 does not match $3 ($(head -c 300 "$RUN/evictions/$1/$2" 2>&1))"
}

# wait_ready UID...: each stepped workload has set its trap (a signal before that would kill it).
wait_ready() {
  local uid
  for uid in "$@"; do expect_file "$uid" ready '^ready$' "workload $uid ready" >/dev/null 2>&1 || { fail "workload $uid never ready"; return 1; }; done
}

# warning_phase UID: the phase topod saved for the pod's warning (`topod evictions`), "-" if none.
warning_phase() {
  "$TOPOD" evictions --state-dir "$RUN/topod-state" --output json | python3 -c 'import json, sys
w = [x for x in json.load(sys.stdin)["warnings"] if x["pod_uid"] == sys.argv[1]]
print(w[0]["phase"] if w else "-")' "$1"
}

# topod_log_count PATTERN: topod's log lines matching PATTERN (grep -E), over all its runs.
topod_log_count() { grep -cE "$1" "$RUN/topod.log"; }

# eviction_for NAME UID [responders...]: an EvictionRequest and its Eviction for pod NAME, topod
# first and the evictor after it unless responders are given, activated; prints the Eviction.
eviction_for() {
  local name=$1 uid=$2 e
  shift 2
  [ $# -gt 0 ] || set -- --responder "$EVICTION_RESPONDER:5000" --responder "$EVICTOR:100"
  e=$(evc request --pod "$name" --uid "$uid" --requester "$E2E_REQUESTER" "$@") || { fail "request $name"; return 1; }
  evc step "$e" || { fail "activating $e"; return 1; }
  echo "$e"
}

# (p) The request withdrawn while the warning runs: (a) a file-mode workload whose request the
# controller cancels (topod Canceled), (b) a signal-mode one whose Eviction is deleted. Both get
# the `cancelled` notice (docs/eviction.md: mode signal writes the notice file too) and go back to
# work; topod neither heartbeats nor completes afterwards: 21 s after its first heartbeat (the
# API's 20 s gap) the workload's new progress has not reached the status, no completionTime was
# written, and the deleted Eviction was not brought back by a status write. The signal-mode
# workload was signalled once.
scenario_eviction_withdrawn() {
  eviction_prereqs || return 0
  ensure_topod || return 1
  local f_pod f f_uid s_pod s s_uid e_file e_sig beat t_beat
  read -r f_pod f f_uid < <(eviction_pod wd-file "$(eviction_stepped_workload file)" \
    --annotation eviction.topod.io/warning=file) || return 1
  read -r s_pod s s_uid < <(eviction_pod wd-signal "$(eviction_stepped_workload signal)") || return 1
  : "$f_pod $f $s_pod $s"
  wait_ready "$f_uid" "$s_uid" || return 1
  e_file=$(eviction_for wd-file "$f_uid") || return 1
  e_sig=$(eviction_for wd-signal "$s_uid") || return 1
  expect_warned "$f_uid" file "(a) file mode warned" || return 1
  expect_warned "$s_uid" signal "(b) signal mode warned" || return 1
  wait_eviction "$e_file" "$EVICTION_RESPONDER" 'state == "Active" and beat and not done' 5 "(a) first heartbeat" || return 1
  wait_eviction "$e_sig" "$EVICTION_RESPONDER" 'state == "Active" and beat and not done' 5 "(b) first heartbeat" || return 1
  beat=$(eviction_entry "$e_file" "$EVICTION_RESPONDER" heartbeatTime)
  t_beat=$(date -d "$beat" +%s) || { fail "(a) heartbeatTime $beat"; return 1; }

  evc cancel "$e_file" || { fail "(a) cancelling $e_file"; return 1; }
  evc delete "$e_sig" || { fail "(b) deleting $e_sig"; return 1; }
  expect_file "$f_uid" notice.json '"state":"cancelled"' "(a) topod wrote the cancelled notice" || return 1
  expect_file "$s_uid" notice.json '"state":"cancelled"' "(b) topod wrote the cancelled notice" || return 1
  expect_file "$f_uid" heard '^cancelled$' "(a) the workload heard it" || return 1
  expect_file "$s_uid" heard '^cancelled$' "(b) the workload heard it" || return 1
  expect_file "$f_uid" progress.json 'training-resumed' "(a) the workload went back to work" || return 1
  [ "$(warning_phase "$f_uid") $(warning_phase "$s_uid")" = "cancelled cancelled" ] ||
    { fail "topod evictions: phases $(warning_phase "$f_uid") $(warning_phase "$s_uid"), want cancelled"; return 1; }
  [ "$(topod_log_count "warning withdrawn for pod default/wd-file .*the eviction request was withdrawn")" = 1 ] &&
    [ "$(topod_log_count "warning withdrawn for pod default/wd-signal .*the eviction was deleted")" = 1 ] ||
    { fail "topod's log does not say each warning was withdrawn once"; return 1; }

  # Past the 20 s gap after the first heartbeat, with new progress to report: nothing written.
  local wait_s=$((t_beat + 21 - $(date +%s)))
  [ "$wait_s" -le 0 ] || sleep "$wait_s"
  local now_beat now_done now_msg
  now_beat=$(eviction_entry "$e_file" "$EVICTION_RESPONDER" heartbeatTime) || { fail "(a) reading $e_file"; return 1; }
  now_done=$(eviction_entry "$e_file" "$EVICTION_RESPONDER" completionTime)
  now_msg=$(eviction_entry "$e_file" "$EVICTION_RESPONDER" message)
  [ "$now_beat" = "$beat" ] && [ -z "$now_done" ] && [[ "$now_msg" != *training-resumed* ]] ||
    { fail "(a) topod wrote after the withdrawal: heartbeat $beat -> $now_beat, completion '$now_done', message '$now_msg'"; return 1; }
  log "ok: (a) no heartbeat and no completion after the withdrawal (heartbeat still $beat, message: $now_msg)"
  wait_eviction "$e_file" "$EVICTION_RESPONDER" 'state == "Canceled"' 1 "(a) Canceled on the API server" || return 1
  if evc get "$e_sig" >/dev/null 2>&1; then fail "(b) the deleted Eviction $e_sig exists again"; return 1; fi
  log "ok: (b) the deleted Eviction stayed deleted"
  [ "$(signals "$s_uid")" = 1 ] || { fail "(b) signalled $(signals "$s_uid") times, want 1"; return 1; }
  [ "$(signals "$f_uid")" = 0 ] || { fail "(a) a file-mode workload got $(signals "$f_uid") signals"; return 1; }
  log "ok: one signal for (b), none for (a)"
}

# (q) topod restarted mid-warning: a signal-mode workload is warned and checkpoints; topod stops
# (SIGTERM), the workload's progress moves on while it is down, topod starts again. The restarted
# topod does not signal it again, reports the progress made meanwhile (at its next heartbeat,
# 20 s after the first), and sets completionTime after the workload said done, once.
scenario_eviction_restart() {
  eviction_prereqs || return 0
  ensure_topod || return 1
  local pod ctr uid e done_at
  read -r pod ctr uid < <(eviction_pod rs-signal "$(eviction_stepped_workload signal)") || return 1
  : "$pod $ctr"
  wait_ready "$uid" || return 1
  e=$(eviction_for rs-signal "$uid") || return 1
  expect_warned "$uid" signal "warned by signal" || return 1
  wait_eviction "$e" "$EVICTION_RESPONDER" 'state == "Active" and beat and not done' 5 "first heartbeat" || return 1
  expect_file "$uid" progress.json 'checkpoint-started' "the workload checkpoints" || return 1

  stop_topod
  touch "$RUN/evictions/$uid/go"
  expect_file "$uid" progress.json 'checkpoint-continued' "progress while topod is down" || return 1
  start_topod
  wait_topod_connected || return 1
  # The next heartbeat carries it: 20 s after the first at the soonest (the restarted topod kept
  # the time of its last heartbeat), so up to 25 s from now.
  wait_eviction "$e" "$EVICTION_RESPONDER" '"70%" in message and "checkpoint-continued" in message and not done' 25 \
    "the restarted topod reports the progress made while it was down" || return 1
  wait_eviction "$e" "$EVICTOR" 'state == "Inactive"' 1 "not evicted before done" || return 1
  [ "$(signals "$uid")" = 1 ] || { fail "signalled $(signals "$uid") times across the restart, want 1"; return 1; }
  log "ok: signalled once across the restart"

  touch "$RUN/evictions/$uid/finish"
  wait_eviction "$e" "$EVICTION_RESPONDER" 'done and "workload done: checkpoint-saved" in message' 5 "completion after done" || return 1
  done_at=$(eviction_entry "$e" "$EVICTION_RESPONDER" completionTime)
  evc watch-steps "$e" --until "$EVICTOR=Active" --timeout 5 >/dev/null || { fail "evictor not activated"; return 1; }
  sleep 1 # five polls: a second completion would have been written by now
  [ "$(eviction_entry "$e" "$EVICTION_RESPONDER" completionTime)" = "$done_at" ] ||
    { fail "completionTime rewritten: $done_at -> $(eviction_entry "$e" "$EVICTION_RESPONDER" completionTime)"; return 1; }
  [ "$(topod_log_count "eviction: warned pod default/rs-signal ")" = 1 ] ||
    { fail "topod warned rs-signal $(topod_log_count "eviction: warned pod default/rs-signal ") times, want 1"; return 1; }
  [ "$(topod_log_count "eviction: pod default/rs-signal .* finished: ")" = 1 ] ||
    { fail "completion written $(topod_log_count "eviction: pod default/rs-signal .* finished: ") times, want 1"; return 1; }
  [ "$(signals "$uid")" = 1 ] || { fail "signalled $(signals "$uid") times, want 1"; return 1; }
  log "ok: one warning, one completion ($done_at), one signal"
}

# (r) The API server down mid-warning: a pinned (Guaranteed, CPU 1) file-mode workload is warned;
# the test API server is killed (SIGKILL, a crash; etcd keeps running, so the Eviction is still
# there when it comes back); the workload writes done meanwhile. topod takes the done, tries the
# completion and retries, keeps running and placing new containers; the workload's container
# keeps its CPU and runs; when the API server is back, topod writes completionTime once, and the
# controller moves on to the evictor.
scenario_eviction_apiserver_down() {
  eviction_prereqs || return 0
  ensure_topod || return 1
  local rc
  eviction_apiserver_down_steps
  rc=$?
  # Whatever happened, the next scenario gets its API server back.
  if [ ! -f "$KUBE_RUN/apiserver.pid" ]; then
    "$repo/tests/kube/test-apiserver.sh" start-server "$KUBE_RUN" || { fail "restarting the test API server"; rc=1; }
  fi
  return "$rc"
}

eviction_apiserver_down_steps() {
  local pod ctr uid e pid=$TOPOD_PID t_down t_up
  read -r pod ctr uid < <(EVICTION_POD_SHAPE=GUARANTEED_1CPU eviction_pod ad-file "$(eviction_stepped_workload file)" \
    --annotation eviction.topod.io/warning=file) || return 1
  : "$pod"
  expect_cpus "$ctr" "$EXCL" "the workload is pinned" || return 1
  e=$(eviction_for ad-file "$uid") || return 1
  expect_warned "$uid" file "warned by the notice" || return 1
  wait_eviction "$e" "$EVICTION_RESPONDER" 'state == "Active" and beat and not done' 5 "first heartbeat" || return 1

  "$repo/tests/kube/test-apiserver.sh" kill-server "$KUBE_RUN" || { fail "killing the test API server"; return 1; }
  t_down=$(date +%s.%N)
  log "test API server killed"
  touch "$RUN/evictions/$uid/finish"
  expect_file "$uid" progress.json '"state":"done"' "the workload wrote done while the API server is down" || return 1
  local i
  for i in $(seq 1 50); do
    [ "$(warning_phase "$uid")" = finished ] && break
    sleep 0.1
  done
  [ "$(warning_phase "$uid")" = finished ] || { fail "topod did not take the done ($(warning_phase "$uid"))"; return 1; }
  log "ok: topod took the done while the API server is down (topod evictions: finished)"
  for i in $(seq 1 50); do
    [ "$(topod_log_count "status of pod default/ad-file .* not written \(retrying")" -ge 2 ] && break
    sleep 0.1
  done
  [ "$(topod_log_count "status of pod default/ad-file .* not written \(retrying")" -ge 2 ] ||
    { fail "topod did not try (and retry) the completion while the API server was down"; return 1; }
  kill -0 "$pid" 2>/dev/null || { fail "topod exited while the API server was down"; return 1; }
  expect_cpus "$ctr" "$EXCL" "still pinned with the API server down" || return 1
  # The NRI path does not wait on the API server: a new container is placed meanwhile.
  local be_pod be
  read -r be_pod be < <(new_pod ad-besteffort BESTEFFORT) || return 1
  : "$be_pod"
  expect_cpus "$be" "$SHARED" "a new BestEffort container placed in the shared pool meanwhile" || return 1
  [ "$(cri status "$ctr" | grep -c RUNNING)" -ge 1 ] || { fail "the workload does not run: $(cri status "$ctr")"; return 1; }

  "$repo/tests/kube/test-apiserver.sh" start-server "$KUBE_RUN" || { fail "restarting the test API server"; return 1; }
  t_up=$(date +%s.%N)
  log "test API server back after $(awk -v s="$t_down" -v e="$t_up" 'BEGIN { printf "%.1f", e - s }') s"
  wait_eviction "$e" "$EVICTION_RESPONDER" 'done and "workload done: checkpoint-saved" in message' 15 \
    "completion once the API server is back" || return 1
  log "completion written $(seconds_since "$t_up") s after the API server was back"
  evc watch-steps "$e" --until "$EVICTOR=Active" --timeout 5 >/dev/null || { fail "evictor not activated"; return 1; }
  [ "$TOPOD_PID" = "$pid" ] && kill -0 "$pid" 2>/dev/null || { fail "topod did not survive"; return 1; }
  expect_cpus "$ctr" "$EXCL" "still pinned after the outage" || return 1
  [ "$(topod_log_count "eviction: pod default/ad-file .* finished: ")" = 1 ] || { fail "completion not written once"; return 1; }
  log "ok: same topod ($pid), container pinned and running throughout, one completion"
}

# --- a second node: its own containerd and topod on this machine, the same API server -------------
# Everything of node 2 lives under $RUN/node2: containerd's root, state, sockets and runc state
# (containerd-config.sh with that directory), the CRI client's state, topod's state, API socket,
# notices. Its pods get their own uids, so their cgroups under /kubepods are their own; run-e2e.sh's
# cleanup covers its shims (same binaries in $RUN/containerd) and mounts (under $RUN) too.
NODE2=e2e-node-2
NODE2_CONTAINERD_PID=
NODE2_TOPOD_PID=

cri2() {
  "$CRI_CLIENT" --socket "$RUN/node2/containerd.sock" --state-dir "$RUN/node2/cri" --timeout "${E2E_CRI_TIMEOUT:-30}" \
    --cgroup-driver "$CGROUP_DRIVER" "$@"
}

start_node2() {
  local dir=$RUN/node2 i image
  mkdir -p "$dir/cri" "$dir/cni/bin" "$dir/cni/conf" "$dir/nri/plugins" "$dir/nri/conf.d" "$dir/state" \
    "$dir/evictions" "$dir/api"
  "$here/containerd-config.sh" "$dir" "$CONTAINERD_VERSION" >"$dir/containerd.toml" || { fail "node 2's containerd config"; return 1; }
  PATH="$RUN/containerd/usr/bin:$PATH" setsid "$RUN/containerd/usr/bin/containerd" \
    --config "$dir/containerd.toml" >>"$dir/containerd.log" 2>&1 </dev/null &
  NODE2_CONTAINERD_PID=$!
  for i in $(seq 1 100); do
    [ -S "$dir/containerd.sock" ] && cri2 version >/dev/null 2>&1 && break
    kill -0 "$NODE2_CONTAINERD_PID" 2>/dev/null || break
    sleep 0.1
  done
  cri2 version >/dev/null 2>&1 || { fail "node 2's containerd did not come up: $(tail -n 20 "$dir/containerd.log")"; return 1; }
  for image in pause busybox; do
    "$RUN/containerd/usr/bin/ctr" -a "$dir/containerd.sock" -n k8s.io images import "$RUN/images/$image.tar" >/dev/null ||
      { fail "node 2: importing $image"; return 1; }
  done
  # topod of node 2: the harness's config with node 2's paths and node name.
  sed -e "s|^state_dir = .*|state_dir = \"$dir/state\"|" \
    -e "s|^socket_path = \"$RUN/nri.sock\"|socket_path = \"$dir/nri.sock\"|" \
    -e "s|^socket_path = \"$RUN/api/api.sock\"|socket_path = \"$dir/api/api.sock\"|" \
    -e "s|^address = .*|address = \"127.0.0.1:$(pick_metrics_port)\"|" \
    -e "s|^node_name = .*|node_name = \"$NODE2\"|" \
    -e "s|^notice_dir = .*|notice_dir = \"$dir/evictions\"|" "$RUN/topod.toml" >"$dir/topod.toml"
  [ "$(grep -cE "^(state_dir|socket_path|node_name|notice_dir) = \"$dir/|^node_name = \"$NODE2\"" "$dir/topod.toml")" = 5 ] ||
    { fail "node 2's topod config: $(cat "$dir/topod.toml")"; return 1; }
  setsid "$TOPOD" run --config "$dir/topod.toml" >>"$dir/topod.log" 2>&1 </dev/null &
  NODE2_TOPOD_PID=$!
  for i in $(seq 1 150); do
    grep -q 'plugin \\"90-topod\\" connected' "$dir/containerd.log" && grep -q "answering Evictions" "$dir/topod.log" &&
      { log "node 2: containerd $NODE2_CONTAINERD_PID, topod $NODE2_TOPOD_PID connected"; return 0; }
    kill -0 "$NODE2_TOPOD_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "node 2's topod did not connect: $(tail -n 20 "$dir/topod.log")"
}

stop_node2() {
  local pod
  if [ -n "$NODE2_CONTAINERD_PID" ] && [ -f "$RUN/node2/pods" ]; then
    while read -r pod; do
      cri2 stop-pod "$pod" >/dev/null 2>&1
      cri2 rm-pod "$pod" >/dev/null 2>&1
    done <"$RUN/node2/pods"
    : >"$RUN/node2/pods"
  fi
  [ -z "$NODE2_TOPOD_PID" ] || stop_pid "$NODE2_TOPOD_PID" "node 2's topod"
  [ -z "$NODE2_CONTAINERD_PID" ] || stop_pid "$NODE2_CONTAINERD_PID" "node 2's containerd"
  NODE2_TOPOD_PID= NODE2_CONTAINERD_PID=
}

# node2_eviction_pod NAME SCRIPT [run-pod options]: eviction_pod on node 2; prints "POD CONTAINER UID".
node2_eviction_pod() {
  local name=$1 script=$2 uid pod ctr
  shift 2
  uid=$(cat /proc/sys/kernel/random/uuid)
  mkdir -p "$RUN/node2/evictions/$uid" && chmod 0777 "$RUN/node2/evictions/$uid"
  pod=$(cri2 run-pod --name "$name" --uid "$uid" "${BURSTABLE[@]}" "$@") || { fail "node 2: run-pod $name"; return 1; }
  echo "$pod" >>"$RUN/node2/pods"
  ctr=$(cri2 create --pod "$pod" --name "$name" "${BURSTABLE[@]}" --mount "$RUN/node2/evictions/$uid:/eviction" \
    -- /bin/sh -c "$script") || { fail "node 2: create $name"; return 1; }
  cri2 start "$ctr" || { fail "node 2: start $name"; return 1; }
  echo "$pod $ctr $uid"
}

# (s) A pod on another node, with two nodes on this machine: this one (containerd and topod of
# the run) and node 2 (its own containerd and topod, the same API server). The responder name is
# the same on every node, so both topods watch every Eviction below and each must answer only
# for its own pods:
# - the pod of node 2 (file mode): node 2's topod warns it and completes it after done; this
#   node's topod writes no notice, keeps no warning, logs nothing for it;
# - a pod with this node's pod's name but another uid (the pod of that name elsewhere): nobody
#   answers: no heartbeat, message or completion;
# - this node's pod (signal mode), created last: warned once, by this node's topod only.
scenario_eviction_other_node() {
  eviction_prereqs || return 0
  ensure_topod || return 1
  local rc
  eviction_other_node_steps
  rc=$?
  if [ "$rc" != 0 ] && [ -d "$RUN/node2" ]; then
    { echo "---- node 2's topod log (last 40 lines)"; tail -n 40 "$RUN/node2/topod.log"; } >&2
  fi
  stop_node2
  return "$rc"
}

eviction_other_node_steps() {
  local pod ctr uid far_pod far far_uid e_far e_name e_here
  start_node2 || return 1
  read -r pod ctr uid < <(eviction_pod on-here "$(eviction_stepped_workload signal)") || return 1
  read -r far_pod far far_uid < <(node2_eviction_pod on-far "$(eviction_stepped_workload file)" \
    --annotation eviction.topod.io/warning=file) || return 1
  : "$pod $ctr $far_pod $far"
  wait_ready "$uid" || return 1
  e_far=$(eviction_for on-far "$far_uid") || return 1
  e_name=$(eviction_for on-here "$(cat /proc/sys/kernel/random/uuid)") || return 1
  e_here=$(eviction_for on-here "$uid") || return 1

  # Each pod warned by its own node's topod.
  local far_dir=$RUN/node2/evictions/$far_uid i
  for i in $(seq 1 50); do [ "$(cat "$far_dir/warned" 2>/dev/null)" = file ] && break; sleep 0.2; done
  [ "$(cat "$far_dir/warned" 2>/dev/null)" = file ] || { fail "node 2's pod was not warned"; return 1; }
  log "ok: node 2's pod warned by node 2's topod (its notice: $(head -c 120 "$far_dir/notice.json"))"
  expect_warned "$uid" signal "this node's pod warned" || return 1
  expect_file "$uid" notice.json "\"name\":\"$e_here\"" "this node's notice names its own Eviction" || return 1
  wait_eviction "$e_far" "$EVICTION_RESPONDER" 'state == "Active" and beat and not done' 5 "node 2's heartbeat" || return 1
  wait_eviction "$e_here" "$EVICTION_RESPONDER" 'state == "Active" and beat and not done' 5 "this node's heartbeat" || return 1

  # Both finish; each completion comes from its own node.
  touch "$far_dir/finish" "$RUN/evictions/$uid/finish"
  wait_eviction "$e_far" "$EVICTION_RESPONDER" 'done and "workload done: checkpoint-saved" in message' 5 "node 2's pod completed" || return 1
  wait_eviction "$e_here" "$EVICTION_RESPONDER" 'done and "workload done: checkpoint-saved" in message' 5 "this node's pod completed" || return 1
  # The pod of that name elsewhere: neither topod answered (the Evictions after it on the same
  # watches were seen by both by now).
  wait_eviction "$e_name" "$EVICTION_RESPONDER" 'state == "Active" and not beat and not done and message == ""' 1 \
    "the same name with another uid: no answer from either node" || return 1

  # This node's topod stayed out of node 2's pod, and node 2's out of this node's.
  [ ! -e "$RUN/evictions/$far_uid" ] || { fail "this node made a directory for node 2's pod"; return 1; }
  [ "$(warning_phase "$far_uid")" = - ] || { fail "this node's topod keeps a warning for node 2's pod"; return 1; }
  [ "$(topod_log_count "eviction: (warned )?pod default/on-far ")" = 0 ] || { fail "this node's topod acted for node 2's pod"; return 1; }
  [ "$(topod_log_count "eviction: warned pod default/on-")" = 1 ] || { fail "this node's topod warned more than its pod"; return 1; }
  [ "$(ls "$RUN/node2/evictions")" = "$far_uid" ] || { fail "node 2's notices: $(ls "$RUN/node2/evictions")"; return 1; }
  [ "$(grep -cE "eviction: warned pod default/on-" "$RUN/node2/topod.log")" = 1 ] &&
    [ "$(grep -cE "eviction: pod default/on-far .* finished: " "$RUN/node2/topod.log")" = 1 ] &&
    [ "$(topod_log_count "eviction: pod default/on-here .* finished: ")" = 1 ] ||
    { fail "each topod must warn and complete its own pod once (node 2: $(grep -E "eviction: " "$RUN/node2/topod.log"))"; return 1; }
  [ "$(signals "$uid")" = 1 ] || { fail "this node's pod was signalled $(signals "$uid") times, want 1"; return 1; }
  [ "$(signals_in "$far_dir")" = 0 ] || { fail "node 2's file-mode pod got a signal"; return 1; }
  log "ok: each node warned and completed only its own pod; the pod of that name elsewhere got no answer"
}
