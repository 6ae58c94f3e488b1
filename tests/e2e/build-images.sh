#!/usr/bin/env bash
# Builds the two tiny OCI images the end-to-end tests run, as OCI-layout tar archives that
# `ctr -n k8s.io images import` accepts. No registry is reachable from CI, so both images are made
# here from Debian's busybox-static:
#   topod-e2e/pause:1     the CRI sandbox image: sleeps for ever (containerd kills it with SIGKILL)
#   topod-e2e/busybox:1   the workload image: `sh` and friends, the test picks the command
# Usage: build-images.sh OUT_DIR     -> OUT_DIR/pause.tar, OUT_DIR/busybox.tar
set -euo pipefail

out=${1:?usage: build-images.sh OUT_DIR}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "build-images: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
  ldd "$busybox" 2>&1 | grep -q 'not a dynamic executable' ||
  { echo "build-images: $busybox is not statically linked" >&2; exit 1; }

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# Writes a blob into the layout and echoes "<digest> <size>".
put_blob() {
  local layout=$1 file=$2 digest
  digest=$(sha "$file")
  mkdir -p "$layout/blobs/sha256"
  cp "$file" "$layout/blobs/sha256/$digest"
  echo "$digest $(size "$file")"
}

# One uncompressed layer: /bin/busybox and the applets the tests use, plus the directories an
# OCI runtime expects to mount over. Fixed owner and mtime keep the digest stable between runs.
make_layer() {
  local root=$work/rootfs
  mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/etc" "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  for applet in sh sleep cat grep ls echo true; do ln -sf busybox "$root/bin/$applet"; done
  : >"$root/etc/hostname"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$work/layer.tar" .
}

# build_image NAME TAG ENTRYPOINT_JSON OUT_TAR
build_image() {
  local name=$1 tag=$2 entrypoint=$3 tar_out=$4
  local layout=$work/layout-$name
  rm -rf "$layout"
  mkdir -p "$layout"
  read -r layer_digest layer_size < <(put_blob "$layout" "$work/layer.tar")
  cat >"$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Entrypoint":$entrypoint,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$layer_digest"]},"history":[{"created_by":"topod tests/e2e/build-images.sh"}]}
JSON
  read -r config_digest config_size < <(put_blob "$layout" "$work/config.json")
  cat >"$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config_digest","size":$config_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$layer_digest","size":$layer_size}]}
JSON
  read -r manifest_digest manifest_size < <(put_blob "$layout" "$work/manifest.json")
  # io.containerd.image.name is the name `ctr images import` gives the image.
  cat >"$layout/index.json" <<JSON
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest_digest","size":$manifest_size,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"docker.io/topod-e2e/$name:$tag","org.opencontainers.image.ref.name":"$tag"}}]}
JSON
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$tar_out" .
}

make_layer
build_image pause 1 '["/bin/sleep","2147483647"]' "$out/pause.tar"
build_image busybox 1 '["/bin/sh"]' "$out/busybox.tar"
echo "build-images: $out/pause.tar $out/busybox.tar"
