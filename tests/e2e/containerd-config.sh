#!/usr/bin/env bash
# Writes the private containerd configuration of one end-to-end run. Every difference between the
# containerd versions the e2e runs against lives here (docs/e2e.md, "containerd versions"):
#   1.7  config version 2; CRI in one plugin "io.containerd.grpc.v1.cri" (sandbox_image, runtimes,
#        cni under it); NRI off by default.
#   2    config version 3; CRI split into "io.containerd.cri.v1.runtime" (runtimes, cni, oom,
#        apparmor, selinux, cdi) and "io.containerd.cri.v1.images" (snapshotter; the sandbox image
#        is pinned_images.sandbox); NRI on by default; more plugins that would touch the host.
# Everything containerd owns lives under RUN_DIR: root, state, sockets, NRI socket, runc state.
# What containerd still puts elsewhere (shim sockets under /run/containerd/s) is removed by the
# harness after the run.
# Usage: containerd-config.sh RUN_DIR VERSION > RUN_DIR/containerd.toml    (VERSION: 1.7 or 2)
set -euo pipefail

run=${1:?usage: containerd-config.sh RUN_DIR VERSION}
version=${2:?usage: containerd-config.sh RUN_DIR VERSION}
runc=${RUNC:-/usr/sbin/runc}
snapshotter=${TOPOD_E2E_SNAPSHOTTER:-overlayfs}
sandbox_image=docker.io/topod-e2e/pause:1
# The kubelet's cgroup driver (run-e2e.sh --cgroup-driver): with systemd, runc makes each
# container a transient scope cri-containerd-<id>.scope in the pod's slice (the same option and
# name in 1.7 and 2.x).
systemd_cgroup=false
[ "${CGROUP_DRIVER:-cgroupfs}" = systemd ] && systemd_cgroup=true

case $version in
  1.7)
    config_version=2
    cri_runtime='"io.containerd.grpc.v1.cri"'
    # One CRI plugin: the sandbox image and the snapshotter sit beside the runtimes.
    cri_extra="sandbox_image = \"$sandbox_image\""
    containerd_extra="snapshotter = \"$snapshotter\""
    cni_bin="bin_dir = \"$run/cni/bin\""
    images_block=
    # 1.7 has no image-verifier, erofs or blockfile plugins to disable.
    extra_disabled=
    ;;
  2)
    config_version=3
    cri_runtime='"io.containerd.cri.v1.runtime"'
    cri_extra=
    containerd_extra=
    # 2.x deprecates cni.bin_dir for the list bin_dirs.
    cni_bin="bin_dirs = [\"$run/cni/bin\"]"
    images_block="
[plugins.\"io.containerd.image-verifier.v1.bindir\"]
  bin_dir = \"$run/image-verifier\"
[plugins.\"io.containerd.cri.v1.images\"]
  snapshotter = \"$snapshotter\"
  [plugins.\"io.containerd.cri.v1.images\".pinned_images]
    sandbox = \"$sandbox_image\""
    # erofs and blockfile want tools or scratch files these machines do not have. (The image
    # verifier cannot go: the transfer service, and with it CRI, fails to load without it; its
    # bin_dir is moved into RUN_DIR instead.)
    extra_disabled='
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs",'
    ;;
  *)
    echo "containerd-config: unknown containerd version $version (1.7 or 2)" >&2
    exit 2
    ;;
esac

cat <<TOML
version = $config_version
root = "$run/root"
state = "$run/state"
# Plugins that would touch the host outside RUN_DIR (opt writes /opt/containerd) or that need
# kernel features these machines lack.
disabled_plugins = [$extra_disabled
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "$run/containerd.sock"
[ttrpc]
  address = "$run/containerd.sock.ttrpc"
[debug]
  level = "info"

[plugins.$cri_runtime]
  $cri_extra
  # CAP_SYS_RESOURCE is withheld on these machines: without this, raising a sandbox's
  # oom_score_adj fails and no pod starts.
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  enable_cdi = false
  # Host-network pods only; the CNI dirs are private and empty.
  [plugins.$cri_runtime.cni]
    $cni_bin
    conf_dir = "$run/cni/conf"
  [plugins.$cri_runtime.containerd]
    $containerd_extra
    default_runtime_name = "runc"
    [plugins.$cri_runtime.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.$cri_runtime.containerd.runtimes.runc.options]
        # As the kubelet's cgroupDriver: cgroupfs on the build machines (PID 1 is not systemd),
        # systemd in the VM stage.
        SystemdCgroup = $systemd_cgroup
        BinaryName = "$runc"
        Root = "$run/runc"
$images_block
TOML

cat <<TOML
[plugins."io.containerd.nri.v1.nri"]
  disable = false
  disable_connections = false
  socket_path = "$run/nri.sock"
  plugin_path = "$run/nri/plugins"
  plugin_config_path = "$run/nri/conf.d"
  plugin_registration_timeout = "5s"
  plugin_request_timeout = "2s"
TOML

