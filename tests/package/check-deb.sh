#!/usr/bin/env bash
# Builds the topod .deb with CPack from a build directory and checks it as a package: control
# fields, real shared-library Depends, the file list, the conffile, the shipped configuration
# (accepted by `topod config check`, and exactly the embedded defaults), the unit
# (systemd-analyze verify) and lintian. With --install (root) it also installs, reinstalls,
# removes and purges the package with the host's dpkg inside a throwaway copy-on-write root (an
# overlay of / in a private mount namespace), so nothing on the host changes.
# Usage: check-deb.sh BUILD_DIR [--install]
set -euo pipefail

build=${1:?usage: check-deb.sh BUILD_DIR [--install]}
build=$(cd "$build" && pwd)
install_test=false
[ "${2:-}" = --install ] && install_test=true

fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }
pass() { echo "check-deb: ok: $*"; }

work=$(mktemp -d /tmp/topod-deb.XXXXXX)
trap 'umount -R "$work/ov/merged" 2>/dev/null || true; rm -rf "$work"' EXIT

# --- build ---------------------------------------------------------------------------------
cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack"; }
debs=("$work"/out/topod_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one topod_*.deb, got: ${debs[*]}"
deb=${debs[0]}
pass "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# --- control fields ------------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = topod ] || fail "Package is '$(field Package)'"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture is '$(field Architecture)'"
[ -n "$(field Version)" ] || fail "no Version"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
depends=$(field Depends)
[ -n "$depends" ] || fail "Depends is empty (dpkg-shlibdeps did not run?)"
# Every library topod links must be a Depends, and every Depends a real package (installed here,
# since the binary was linked here).
depends_names=$(tr ',' '\n' <<<"$depends" | sed -E 's/^ *//; s/[ (].*$//' | grep -v '^$')
for lib in libc6 libstdc++6 libhwloc15 libsystemd0 libcurl4 libtomlplusplus3; do
  grep -qxF "$lib" <<<"$depends_names" || fail "Depends lacks $lib: $depends"
done
# Installed packages and what they provide (libspdlog1.10 provides libspdlog1.10-fmt9).
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Provides}\n' | awk '$1 == "ii" { $1 = ""; print }' |
  tr ', ' '\n\n' | sed -E 's/[(=].*$//' | grep -v '^$' | sort -u)
while read -r name; do
  grep -qxF "$name" <<<"$installed" || fail "Depends names $name, which no installed package is or provides"
done <<<"$depends_names"
pass "Depends: $depends"

# --- contents ------------------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $1, $2, $NF}' >"$work/contents"
expect_file() {  # MODE PATH
  grep -qxF -- "$1 root/root ./$2" "$work/contents" || { cat "$work/contents"; fail "missing $1 root/root ./$2"; }
}
expect_file -rwxr-xr-x usr/bin/topod
expect_file -rw-r--r-- lib/systemd/system/topod.service
expect_file -rw-r--r-- etc/topod/topod.toml
expect_file -rw-r--r-- usr/share/doc/topod/copyright
expect_file -rw-r--r-- usr/share/doc/topod/changelog.gz
expect_file -rw-r--r-- usr/share/doc/topod/operations.md
expect_file -rw-r--r-- usr/share/man/man8/topod.8.gz
if grep -v '^d' "$work/contents" | grep -Ev ' \./(usr/bin/topod|lib/systemd/system/topod\.service|etc/topod/topod\.toml|usr/share/doc/topod/[^/]+|usr/share/man/man8/topod\.8\.gz)$'; then
  fail "unexpected files in the package (above)"
fi
# The state directory is made by postinst and the unit, never shipped (dpkg would complain on
# every removal that it is not empty).
! grep -q 'var/lib/topod' "$work/contents" || fail "the package ships /var/lib/topod"
mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
[ "$(cat "$work/control/conffiles")" = /etc/topod/topod.toml ] || fail "conffiles: $(cat "$work/control/conffiles")"
for script in postinst prerm postrm; do
  [ "$(stat -c %a "$work/control/$script")" = 755 ] || fail "$script is not 0755"
  sh -n "$work/control/$script" || fail "$script: syntax"
done
pass "contents, conffiles, maintainer scripts"

# --- the shipped configuration and unit ----------------------------------------------------
dpkg-deb -x "$deb" "$work/root"
topod=$work/root/usr/bin/topod
! file "$topod" | grep -q 'not stripped' || fail "usr/bin/topod is not stripped"
conf=$work/root/etc/topod/topod.toml
# Synthetic topology: the check must not depend on this machine's CPUs.
topo="synthetic:package:1 numa:2 core:2 pu:2"
"$topod" config check --topology "$topo" "$conf" >"$work/shipped.out" 2>&1 ||
  { cat "$work/shipped.out"; fail "topod config check rejects the shipped topod.toml"; }
# Uncommented, the file must be the embedded defaults: the same effective settings as an empty file.
sed -E '/^# [a-z_]+ *=|^# \[/!d; s/^# //' "$conf" >"$work/uncommented.toml"
grep -q '^\[policy\]' "$work/uncommented.toml" || fail "uncommenting found no [policy] table"
: >"$work/empty.toml"
"$topod" config check --topology "$topo" "$work/uncommented.toml" 2>&1 | grep -v "uncommented.toml" >"$work/a" ||
  { cat "$work/a"; fail "the uncommented topod.toml is invalid"; }
"$topod" config check --topology "$topo" "$work/empty.toml" 2>&1 | grep -v "empty.toml" >"$work/b"
diff -u "$work/b" "$work/a" || fail "the uncommented topod.toml differs from the embedded defaults"
pass "topod.toml: valid, and every key's value the embedded default"
# The DaemonSet's ConfigMap (deploy/daemonset.yaml) is a topod.toml too.
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
awk '/^  topod.toml: \|$/ { on = 1; next } on && /^    / { print substr($0, 5); next } on && !/^$/ { exit } on { print }' \
  "$source_dir/deploy/daemonset.yaml" >"$work/daemonset.toml"
grep -q '^\[policy\]' "$work/daemonset.toml" || fail "no topod.toml with a [policy] table in deploy/daemonset.yaml"
"$topod" config check --topology "$topo" "$work/daemonset.toml" >"$work/daemonset.out" 2>&1 ||
  { cat "$work/daemonset.out"; fail "topod config check rejects deploy/daemonset.yaml's topod.toml"; }
pass "deploy/daemonset.yaml's topod.toml is valid"
if command -v systemd-analyze >/dev/null; then
  # The unit as shipped but for ExecStart's /usr/bin/topod, which must be the unpacked binary
  # (verify checks that it is executable; this host has no topod installed).
  mkdir "$work/unit"
  sed "s|^ExecStart=/usr/bin/topod |ExecStart=$topod |" "$work/root/lib/systemd/system/topod.service" \
    >"$work/unit/topod.service"
  grep -q "^ExecStart=$topod " "$work/unit/topod.service" || fail "topod.service: no ExecStart=/usr/bin/topod"
  systemd-analyze verify --man=no "$work/unit/topod.service" >"$work/verify" 2>&1 ||
    { cat "$work/verify"; fail "systemd-analyze verify"; }
  [ ! -s "$work/verify" ] || { cat "$work/verify"; fail "systemd-analyze verify printed warnings"; }
  pass "systemd-analyze verify topod.service"
else
  echo "check-deb: systemd-analyze not installed, unit not verified"
fi

# --- lintian -------------------------------------------------------------------------------
if $install_test; then
  : # package_deb runs lintian; package_deb_install is about the maintainer scripts
elif command -v lintian >/dev/null; then
  # Errors and warnings fail; deploy/debian/ carries no override.
  lintian --fail-on error,warning "$deb" >"$work/lintian" 2>&1 || { cat "$work/lintian"; fail "lintian"; }
  pass "lintian (errors and warnings)"
else
  echo "check-deb: lintian not installed (scripts/install-deps.sh installs it), skipped"
fi

$install_test || exit 0

# --- install, reinstall, remove, purge in a throwaway root ---------------------------------
[ "$(id -u)" -eq 0 ] || { echo "check-deb: --install needs root, skipped"; exit 77; }
ov=$work/ov
mkdir -p "$ov/upper" "$ov/work" "$ov/merged"
cp "$deb" "$work/topod.deb"
cat >"$work/inside.sh" <<'INSIDE'
set -eu
fail() { echo "check-deb (inside): FAIL: $*" >&2; exit 1; }
deb=$1
# No man-db index rebuild for one page (it takes seconds).
rm -f /var/lib/man-db/auto-update
# This throwaway root must start without topod.
dpkg -P topod >/dev/null 2>&1 || true
rm -rf /etc/topod /var/lib/topod
wants=/etc/systemd/system/multi-user.target.wants/topod.service

dpkg -i "$deb" >/dev/null
[ -x /usr/bin/topod ] || fail "install: no /usr/bin/topod"
[ -d /var/lib/topod ] && [ "$(stat -c %a /var/lib/topod)" = 700 ] || fail "install: /var/lib/topod not 0700"
[ -L "$wants" ] || fail "install: the unit is not enabled ($wants)"
grep -q '^# log_level' /etc/topod/topod.toml || fail "install: /etc/topod/topod.toml"
echo "inside: installed and enabled"

# An administrator's change to the conffile survives a reinstall (and an upgrade with an
# unchanged default file) without a prompt.
echo 'log_level = "debug"' >>/etc/topod/topod.toml
echo state >/var/lib/topod/state.json
dpkg -i --force-confold "$deb" >/dev/null </dev/null
grep -q '^log_level = "debug"' /etc/topod/topod.toml || fail "reinstall: the modified conffile was replaced"
[ -f /var/lib/topod/state.json ] || fail "reinstall: state lost"
echo "inside: reinstall kept the modified conffile and the state"

# An administrator who disabled the unit keeps it disabled across a reinstall.
# (`systemctl disable topod` removes this link; there is no systemd to ask in here.)
rm "$wants"
dpkg -i "$deb" >/dev/null </dev/null
[ ! -e "$wants" ] || fail "reinstall: re-enabled a disabled unit"
echo "inside: reinstall kept the unit disabled"

dpkg -r topod >/dev/null
[ ! -e /usr/bin/topod ] || fail "remove: /usr/bin/topod left"
[ ! -e /lib/systemd/system/topod.service ] || fail "remove: unit left"
[ -f /var/lib/topod/state.json ] || fail "remove: state deleted (only purge may)"
[ -f /etc/topod/topod.toml ] || fail "remove: the conffile deleted (only purge may)"
echo "inside: remove kept /var/lib/topod and /etc/topod/topod.toml"

dpkg -P topod >/dev/null
[ ! -e /var/lib/topod ] || fail "purge: /var/lib/topod left"
[ ! -e /etc/topod ] || fail "purge: /etc/topod left"
[ ! -e "$wants" ] && [ ! -L "$wants" ] || fail "purge: enablement link left"
[ ! -e /etc/systemd/system/topod.service ] || fail "purge: mask left"
dpkg-query -W topod >/dev/null 2>&1 && fail "purge: dpkg still knows topod"
echo "inside: purge removed the state, the configuration and the enablement"
INSIDE
unshare -m bash -c '
  set -e
  ov=$1; work=$2
  mount --make-rprivate /
  mount -t overlay overlay -o "lowerdir=/,upperdir=$ov/upper,workdir=$ov/work" "$ov/merged"
  mount --rbind /proc "$ov/merged/proc"
  mount --rbind /dev "$ov/merged/dev"
  # No /run/systemd/system inside: the maintainer scripts enable but start nothing.
  mount -t tmpfs tmpfs "$ov/merged/run"
  mount -t tmpfs tmpfs "$ov/merged/tmp"
  cp "$work/topod.deb" "$work/inside.sh" "$ov/merged/tmp/"
  chroot "$ov/merged" sh /tmp/inside.sh /tmp/topod.deb
' _ "$ov" "$work" || fail "install test (above)"
pass "install, conffile kept on reinstall, remove keeps state, purge removes it"
