#!/usr/bin/env bash
# Builds the qemu test VM (docs/vm.md) from Debian 12 packages: a minbase root file system with
# systemd as PID 1, pure cgroup v2, the runtime libraries topod and the CRI test client need,
# runc and criu; the kernel as an uncompressed vmlinux (qemu boots it through its PVH entry, skipping
# firmware and decompression) and a tiny busybox initrd that loads virtio-pci, virtio-blk and ext4 and
# switches to the disk. Output, cached by the hash of this script: vmlinux, initrd.img,
# image.raw (sparse ext4, booted read-only with -snapshot) in
# ~/.cache/topod/vm/<hash>/ (TOPOD_VM_CACHE overrides ~/.cache/topod/vm).
# Needs root (debootstrap, chroot); running the VM does not. Nothing is installed on the host.
# Usage: build-image.sh    -> prints the image directory
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${TOPOD_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/topod/vm}
key=$(cat "$here/build-image.sh" "$here/guest/"* | sha256sum | cut -c1-16)
out=$cache_root/$key
if [ -f "$out/done" ]; then
  echo "$out"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "build-image: needs root (debootstrap and chroot)" >&2; exit 1; }
for tool in debootstrap mkfs.ext4 xz; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done

mirror=$("$here/../debian-mirror.sh")
work=$(mktemp -d "${TMPDIR:-/tmp}/topod-vm-build.XXXXXX")
root=$work/rootfs
cleanup() {
  for m in "$root/dev/pts" "$root/dev" "$root/proc" "$root/sys"; do
    mountpoint -q "$m" 2>/dev/null && umount -l "$m"
  done
  rm -rf "$work"
}
trap cleanup EXIT
log=$work/build.log
step() { echo "build-image: $* ($(date +%T))" >&2; }
fail() { echo "build-image: $1; last lines of the build log:" >&2; tail -n 30 "$log" >&2; exit 1; }

# The guest: systemd, D-Bus (the systemd cgroup driver talks to it), the tools the tests read the
# machine with, and the shared libraries of topod and the CRI test client as built on bookworm.
base=systemd,systemd-sysv,dbus,udev,kmod,util-linux,iproute2,procps,hwloc-nox,numactl,ca-certificates
libs=libhwloc15,libnuma1,libsystemd0,libcurl4,libyaml-0-2,libprotobuf32,libgrpc++1.51,libspdlog1.10,libfmt9,libtomlplusplus3,libmicrohttpd12
# The container runtime's own tools: runc, and criu for CRI CheckpointContainer on containerd 2.x
# (the e2e's criu_checkpoint; bookworm's criu 3.17.1 dumps on the guest's own 6.1 kernel).
tools=runc,criu
# Stage 1, cached on its own (it is most of the time): debootstrap plus the kernel.
stage1_key=$(printf '%s\n' "$base" "$libs" "$tools" | sha256sum | cut -c1-16)
stage1=$cache_root/rootfs-$stage1_key.tar
mkdir -p "$cache_root" "$root"
if [ -f "$stage1" ]; then
  step "root file system from $stage1"
  tar -xf "$stage1" -C "$root"
else
  step "debootstrap bookworm (minbase) from the machine's own mirror"
  debootstrap --variant=minbase --include="$base,$libs,$tools" bookworm "$root" "$mirror" >"$log" 2>&1 ||
    fail "debootstrap failed"
  step "kernel and busybox"
  echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount -t sysfs sys "$root/sys"
  chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log" 2>&1 ||
    fail "apt-get update in the guest failed"
  # INITRD=No: the kernel's hook makes no initramfs (the VM boots a tiny initrd of its own).
  chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive INITRD=No apt-get install -y -qq --no-install-recommends \
    linux-image-amd64 busybox-static >>"$log" 2>&1 || fail "installing the kernel failed"
  chroot "$root" apt-get clean
  umount -l "$root/sys" "$root/dev" "$root/proc"
  rm -f "$cache_root"/rootfs-*.tar
  tar -cf "$stage1.tmp" -C "$root" . && mv "$stage1.tmp" "$stage1"
fi

kver=$(ls "$root/lib/modules" | sort -V | tail -n1)
vmlinuz=$root/boot/vmlinuz-$kver
mkdir -p "$work/out"
# vmlinuz is a small decompressor followed by an xz stream: the kernel proper.
offset=$(LC_ALL=C grep -abo -m1 $'\xfd7zXZ' "$vmlinuz" | head -n1 | cut -d: -f1)
[ -n "$offset" ] || fail "no xz stream in $vmlinuz"
# xz stops after the stream and tail then dies of SIGPIPE: only xz's status counts.
{ tail -c +"$((offset + 1))" "$vmlinuz" || true; } | xz -dc --single-stream >"$work/out/vmlinux" 2>>"$log" ||
  fail "unpacking the kernel failed"

step "initrd (busybox, virtio-pci, virtio-blk and ext4)"
initrd=$work/initrd
mkdir -p "$initrd"/{bin,dev,proc,sys,newroot,modules}
cp "$root/bin/busybox" "$initrd/bin/busybox"
# insmod lines in dependency order, as modprobe would load them in the guest.
modprobe -d "$root" -S "$kver" --show-depends -a virtio_pci virtio_blk ext4 2>>"$log" | awk '$1 == "insmod" { print $2 }' >"$work/modules.list" ||
  fail "resolving the initrd's modules failed"
: >"$initrd/modules/order"
# modprobe -d prints the paths with the root directory in front.
while read -r module; do
  name=$(basename "$module")
  case $name in *.ko.xz) xz -dc "$module" >"$initrd/modules/${name%.xz}"; name=${name%.xz} ;;
    *) cp "$module" "$initrd/modules/$name" ;; esac
  echo "$name" >>"$initrd/modules/order"
done <"$work/modules.list"
cp "$here/guest/initrd-init" "$initrd/init"
chmod 0755 "$initrd/init" "$initrd/bin/busybox"
(cd "$initrd" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$work/out/initrd.img"

step "guest configuration"
echo topod-vm >"$root/etc/hostname"
# A fixed machine-id: no first-boot handling, the same id in every run.
echo 5f0e1c9a7b3d4e2f8a6b0c1d2e3f4a5b >"$root/etc/machine-id"
mkdir -p "$root/etc/systemd/journald.conf.d" "$root/etc/modules-load.d" "$root/etc/containerd"
printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/volatile.conf"
printf '9p\n9pnet_virtio\n' >"$root/etc/modules-load.d/9p.conf"
printf '/dev/vda / ext4 rw,noatime 0 1\n' >"$root/etc/fstab"
install -m 0755 "$here/guest/vmtest-run" "$root/usr/local/sbin/vmtest-run"
install -m 0644 "$here/guest/vmtest.service" "$root/etc/systemd/system/vmtest.service"
ln -sf /etc/systemd/system/vmtest.service "$root/etc/systemd/system/multi-user.target.wants/vmtest.service"
# Timers, getty and units that only cost boot time under emulation.
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
  getty@tty1.service systemd-timesyncd.service man-db.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# Hardware the guest never has: GPU, sound, wireless, media, infiniband drivers.
for dir in drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging sound; do
  rm -rf "$root/lib/modules/$kver/kernel/$dir"
done
chroot "$root" depmod "$kver" >>"$log" 2>&1 || fail "depmod failed"
rm -rf "$root"/usr/share/{doc,man,info,locale} "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/log/*
rm -f "$root"/boot/initrd.img-*

step "ext4 image"
mkfs.ext4 -q -F -L topod-vm -U 3b1c6a2e-9f4d-4c7b-8e5a-1d2c3b4a5f60 -E root_owner=0:0 \
  -d "$root" "$work/out/image.raw" 2G >>"$log" 2>&1 || fail "mkfs.ext4 -d failed"

mkdir -p "$cache_root"
rm -rf "$out"
mv "$work/out" "$out"
echo "$kver" >"$out/kernel-version"
touch "$out/done"
step "done: $out"
echo "$out"
