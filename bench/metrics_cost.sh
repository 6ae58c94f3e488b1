#!/usr/bin/env bash
# Resident memory and threads of `topod run` with metrics on and off, and a scrape's size and
# latency (docs/metrics.md, "Cost"). Runs topod on the live topology with no runtime socket, so it
# waits for one; needs curl.
#   bench/metrics_cost.sh [path/to/topod]      (default: build/release/cli/topod)
set -u
TOPOD=${1:-$(dirname "$0")/../build/release/cli/topod}
work=$(mktemp -d)
port=$(shuf -i 20000-59999 -n 1)
for mode in off on; do
  addr=""; [ "$mode" = on ] && addr="127.0.0.1:$port"
  mkdir -p "$work/$mode"
  printf 'state_dir = "%s"\n[metrics]\naddress = "%s"\n' "$work/$mode/state" "$addr" >"$work/$mode.toml"
  "$TOPOD" run --config "$work/$mode.toml" --nri-socket "$work/none.sock" >"$work/$mode.log" 2>&1 &
  pid=$!
  sleep 2
  echo "metrics $mode: $(grep -E '^(VmRSS|Threads)' /proc/$pid/status | tr -s ' \t' ' ' | tr '\n' ' ')"
  if [ "$mode" = on ]; then
    curl -s "http://$addr/metrics" -o "$work/scrape.txt"
    echo "  scrape: $(wc -c <"$work/scrape.txt") bytes, $(grep -vc '^#' "$work/scrape.txt") samples, $(grep -c '^# TYPE' "$work/scrape.txt") families"
    for i in $(seq 1 200); do curl -s -o /dev/null -w '%{time_total}\n' "http://$addr/metrics"; done | sort -n >"$work/times"
    echo "  200 scrapes (curl time_total, s): median $(sed -n 100p "$work/times"), p99 $(sed -n 198p "$work/times"), max $(tail -1 "$work/times")"
    echo "  /healthz: $(curl -s -w ' %{http_code}' "http://$addr/healthz")"
    echo "  after scrapes: $(grep -E '^(VmRSS|Threads)' /proc/$pid/status | tr -s ' \t' ' ' | tr '\n' ' ')"
  fi
  kill -TERM "$pid"; wait "$pid" 2>/dev/null
done
rm -rf "$work"
