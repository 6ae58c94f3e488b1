#!/usr/bin/env bash
# Builds topod's container image from Debian packages, as an OCI-layout tar archive that
# `ctr -n k8s.io images import` (or `skopeo copy oci-archive:...`) accepts; no registry is needed.
# The root file system is the topod .deb plus the closure of its Depends from Debian 12, each
# unpacked with dpkg -x (no maintainer scripts, no shell, no package manager in the image).
# apt resolves and fetches that closure on a private sources list, package lists, cache and an
# empty dpkg status under CACHE_DIR (default ~/.cache/topod-image): nothing is installed here.
# The mirror is this machine's own (scripts/debian-mirror.sh).
# Usage: build-image.sh TOPOD_DEB OUT_TAR [IMAGE_NAME]   (default name docker.io/topod/topod:<version>)
set -euo pipefail

deb=${1:?usage: build-image.sh TOPOD_DEB OUT_TAR [IMAGE_NAME]}
out=${2:?usage: build-image.sh TOPOD_DEB OUT_TAR [IMAGE_NAME]}
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
version=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg-deb -f "$deb" Architecture)
name=${3:-docker.io/topod/topod:$version}
cache=${TOPOD_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/topod-image}
suite=bookworm
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

mirror=$("$(dirname "$0")/../../scripts/debian-mirror.sh")

# Private apt: an empty dpkg status makes apt fetch the whole closure of topod's Depends.
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/dpkg"
: >"$apt_dir/dpkg/status"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=/dev/null"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::State::status=$apt_dir/dpkg/status" -o "APT::Architecture=$arch"
  -o "APT::Sandbox::User=root" -o "APT::Install-Recommends=false" -qq
)
# Package lists at most a day old.
if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
  apt-get "${apt_opts[@]}" update >&2
fi
apt-get "${apt_opts[@]}" install --download-only -y "$deb" >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"
# What apt chose for this closure ("Inst NAME (VERSION SUITE [ARCH])"), the topod .deb last.
debs=()
while read -r pkg ver pkg_arch; do
  [ "$pkg" = topod ] && continue
  # apt's cache names files NAME_VERSION_ARCH.deb with an epoch's colon URL-encoded.
  file=$apt_dir/cache/archives/${pkg}_${ver//:/%3a}_${pkg_arch}.deb
  [ -f "$file" ] || { echo "build-image: $file missing from the cache" >&2; exit 1; }
  debs+=("$file")
done < <(apt-get "${apt_opts[@]}" install -s -y "$deb" 2>/dev/null |
  sed -nE 's/^Inst ([^ :]+)(:[a-z0-9]+)? \(([^ ]+) .*\[([a-z0-9]+)\]\).*$/\1 \3 \4/p')
[ ${#debs[@]} -gt 0 ] || { echo "build-image: apt chose no packages" >&2; exit 1; }
for file in "${debs[@]}" "$deb"; do
  dpkg-deb -x "$file" "$root"
done
echo "build-image: $(( ${#debs[@]} + 1 )) packages unpacked" >&2
# What a runtime mounts over, and the state and run-time directories of the unit.
mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/var/lib/topod" "$root/run/topod" \
  "$root/var/run/nri"
chmod 1777 "$root/tmp"
chmod 0700 "$root/var/lib/topod"
# The loader's cache (multiarch library directories), as ldconfig would write it on a system.
ldconfig -r "$root"
# Documentation, manual pages and locales are no use in the image.
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/locale" "$root/usr/share/lintian"
# Fixed owner and mtime: the same packages give the same layer digest.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$work/layer.tar" .

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
layout=$work/layout
mkdir -p "$layout/blobs/sha256"
put_blob() {  # FILE -> "<digest> <size>"
  local digest
  digest=$(sha "$1")
  cp "$1" "$layout/blobs/sha256/$digest"
  echo "$digest $(size "$1")"
}
read -r layer_digest layer_size < <(put_blob "$work/layer.tar")
cat >"$work/config.json" <<JSON
{"architecture":"$arch","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/usr/bin/topod","run","--config","/etc/topod/topod.toml"],"WorkingDir":"/","Labels":{"org.opencontainers.image.title":"topod","org.opencontainers.image.version":"$version"}},"rootfs":{"type":"layers","diff_ids":["sha256:$layer_digest"]},"history":[{"created_by":"topod deploy/image/build-image.sh"}]}
JSON
read -r config_digest config_size < <(put_blob "$work/config.json")
cat >"$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config_digest","size":$config_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$layer_digest","size":$layer_size}]}
JSON
read -r manifest_digest manifest_size < <(put_blob "$work/manifest.json")
tag=${name##*:}
cat >"$layout/index.json" <<JSON
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest_digest","size":$manifest_size,"platform":{"architecture":"$arch","os":"linux"},"annotations":{"io.containerd.image.name":"$name","org.opencontainers.image.ref.name":"$tag"}}]}
JSON
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$out" .
echo "build-image: $out ($name, layer $(( layer_size / 1024 / 1024 )) MiB uncompressed)" >&2
