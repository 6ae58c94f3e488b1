#!/usr/bin/env bash
# Fetches one Debian package of a newer suite into a private cache, for the end-to-end tests
# (docs/e2e.md): by default the NRI-capable containerd of trixie (1.7.x); `sid containerd` gives
# containerd 2.x, `sid runc` a runc new enough for it. Nothing is installed into the system: apt
# runs on a private sources list, private package lists and a private cache, and the .deb stays in
# CACHE_DIR/SUITE.
# The mirror is the one this machine already uses (its /etc/apt/sources.list.d/*.sources, or
# /etc/apt/sources.list); only the suite changes.
# Usage: e2e-fetch-containerd.sh [SUITE [PACKAGE]]    -> prints the path of the cached .deb
# The cache is $TOPOD_E2E_CACHE (default ~/.cache/topod-e2e); TOPOD_E2E_REFRESH=1 fetches again.
set -euo pipefail

suite=${1:-trixie}
package=${2:-containerd}
[[ "$suite" =~ ^[a-z]+$ && "$package" =~ ^[a-z0-9][a-z0-9.+-]*$ ]] ||
  { echo "e2e-fetch-containerd: bad suite or package name: $suite $package" >&2; exit 2; }
base=${TOPOD_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/topod-e2e}
cache=$base/$suite
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

newest() { ls "$cache"/"${package}"_*_amd64.deb 2>/dev/null | sort -V | tail -n1 || true; }
existing=$(newest)
# The trixie cache of earlier versions of this script sat directly in the base directory.
if [ -z "$existing" ] && [ "$suite" = trixie ] && [ "$package" = containerd ]; then
  old=$(ls "$base"/containerd_*_amd64.deb 2>/dev/null | sort -V | tail -n1 || true)
  if [ -n "$old" ]; then
    # A link, not a move: worktrees on the old script still find it there.
    ln -f "$old" "$cache/" 2>/dev/null || cp "$old" "$cache/"
    existing=$(newest)
  fi
fi
if [ -n "$existing" ] && [ -z "${TOPOD_E2E_REFRESH:-}" ]; then
  echo "$existing"
  exit 0
fi

# The Debian archive this machine's apt uses (scripts/debian-mirror.sh); only the suite changes.
mirror=$("$(dirname "$0")/debian-mirror.sh")

apt_dir=$base/apt-$suite
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Sandbox::User=root" -qq
)
apt-get "${apt_opts[@]}" update >&2
(cd "$cache" && apt-get "${apt_opts[@]}" download "$package/$suite" >&2)
deb=$(newest)
[ -n "$deb" ] || { echo "e2e-fetch-containerd: apt fetched no ${package}_*_amd64.deb" >&2; exit 1; }
# Keep only the newest package, should a refresh have fetched a newer one.
for old in "$cache"/"${package}"_*_amd64.deb; do [ "$old" = "$deb" ] || rm -f "$old"; done
echo "$deb"
