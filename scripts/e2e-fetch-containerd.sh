#!/usr/bin/env bash
# Fetches the NRI-capable containerd of Debian trixie (1.7.x) into a cache, for the end-to-end
# tests (docs/e2e.md). Nothing is installed into the system: apt runs on a private sources list,
# private package lists and a private cache, and the .deb stays in CACHE_DIR.
# The mirror is the one this machine already uses (its /etc/apt/sources.list.d/*.sources, or
# /etc/apt/sources.list); only the suite changes to trixie.
# Usage: e2e-fetch-containerd.sh [CACHE_DIR]    -> prints the path of the cached .deb
set -euo pipefail

cache=${1:-${TOPOD_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/topod-e2e}}
suite=trixie
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

existing=$(ls "$cache"/containerd_*_amd64.deb 2>/dev/null | sort -V | tail -n1 || true)
if [ -n "$existing" ] && [ -z "${TOPOD_E2E_REFRESH:-}" ]; then
  echo "$existing"
  exit 0
fi

# First Debian archive URI the machine is configured with (deb822 first, then one-line format).
mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
  /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
    /etc/apt/sources.list | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "e2e-fetch-containerd: no Debian mirror found in /etc/apt" >&2; exit 1; }

apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Sandbox::User=root" -qq
)
apt-get "${apt_opts[@]}" update >&2
(cd "$cache" && apt-get "${apt_opts[@]}" download "containerd/$suite" >&2)
deb=$(ls "$cache"/containerd_*_amd64.deb | sort -V | tail -n1)
# Keep only the newest package, should a refresh have fetched a newer one.
for old in "$cache"/containerd_*_amd64.deb; do [ "$old" = "$deb" ] || rm -f "$old"; done
echo "$deb"
