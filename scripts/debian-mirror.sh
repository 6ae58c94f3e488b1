#!/usr/bin/env bash
# Prints the first Debian archive URI this machine's apt is configured with (deb822 sources
# first, then the one-line sources.list), never a security archive. Scripts that fetch from
# Debian take the mirror from here and change only the suite, so no host name lives in the tree.
# Usage: debian-mirror.sh    -> prints the URI, or fails with one line on stderr
set -euo pipefail

mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
  /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
    /etc/apt/sources.list | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "debian-mirror: no Debian mirror found in /etc/apt" >&2; exit 1; }
echo "$mirror"
