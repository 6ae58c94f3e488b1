#!/bin/sh
# VM payload: the topod .deb on a systemd machine, as an SRE installs it (issue 15): dpkg installs
# and enables the unit; `systemctl start` returns once topod sent READY (Type=notify); the
# watchdog keeps it alive (a drop-in shortens WatchdogSec to 4 s so 12 s cover three periods);
# `systemctl reload` makes it re-read its config (SIGHUP), and an invalid config is refused with
# the old one kept; `systemctl stop` closes the checkpoint cleanly; remove keeps the state,
# purge deletes it. No runtime runs: topod waits for the NRI socket, as it does before containerd.
set -u
fail() {
  echo "FAIL: $*"
  journalctl -u topod --no-pager | tail -n 40
  exit 1
}
state() { systemctl show -p "$1" --value topod; }

deb=$(ls ./topod_*.deb)
dpkg -i "$deb" || fail "dpkg -i $deb"
systemctl is-enabled topod || fail "the package did not enable topod.service"
mkdir -p /etc/systemd/system/topod.service.d
printf '[Service]\nWatchdogSec=4s\n' >/etc/systemd/system/topod.service.d/test-watchdog.conf
systemctl daemon-reload
systemctl restart topod || fail "systemctl start"
[ "$(state ActiveState)" = active ] || fail "not active after start: $(state ActiveState)/$(state SubState)"
echo "ok   started; status: $(state StatusText)"
sleep 12
[ "$(state NRestarts)" = 0 ] || fail "restarted $(state NRestarts) times within 3 watchdog periods"
[ "$(state ActiveState)" = active ] || fail "not active after 12 s"
echo "ok   alive after 12 s with WatchdogSec=4s (NRestarts 0)"

echo 'log_level = "debug"' >>/etc/topod/topod.toml
systemctl reload topod || fail "systemctl reload"
sleep 2
journalctl -u topod --no-pager | grep -q 'SIGHUP: reloaded' || fail "reload: no 'SIGHUP: reloaded' in the journal"
echo "ok   reload re-read the config"
echo 'this is = = not toml' >>/etc/topod/topod.toml
systemctl reload topod || fail "systemctl reload (invalid config)"
sleep 2
journalctl -u topod --no-pager | grep -q 'keeping the previous configuration' || fail "an invalid config was not refused"
[ "$(state ActiveState)" = active ] || fail "an invalid config stopped topod"
echo "ok   an invalid config is refused and topod keeps running"
sed -i '/this is = = not toml/d' /etc/topod/topod.toml

systemctl stop topod || fail "systemctl stop"
[ "$(state ActiveState)" = inactive ] || fail "not inactive after stop: $(state ActiveState)"
journalctl -u topod --no-pager | grep -q 'stopped; 0 container allocations checkpointed' ||
  fail "no clean-stop line in the journal"
[ "$(stat -c %a /var/lib/topod)" = 700 ] || fail "/var/lib/topod is not 0700"
# Nothing was allocated (no runtime runs here), so there is nothing to fold: no journal segment
# may hold a record after a clean stop.
for segment in /var/lib/topod/journal.*; do
  [ -e "$segment" ] || continue
  [ -s "$segment" ] && fail "journal segment $segment still holds records after a clean stop"
done
ls -la /var/lib/topod
echo "ok   stop was clean: the checkpoint closed, no journal records left"
mkdir -p /var/lib/topod && touch /var/lib/topod/state.json  # stands for what a node's topod keeps

dpkg -r topod || fail "dpkg -r"
[ -f /var/lib/topod/state.json ] || fail "remove deleted the state"
[ -f /etc/topod/topod.toml ] || fail "remove deleted the conffile"
echo "ok   remove kept /var/lib/topod and /etc/topod"
dpkg -P topod || fail "dpkg -P"
[ ! -e /var/lib/topod ] || fail "purge left /var/lib/topod"
[ ! -e /etc/topod/topod.toml ] || fail "purge left /etc/topod/topod.toml"
echo "ok   purge removed the state and the config"
echo "package: every check passed"
