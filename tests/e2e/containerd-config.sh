#!/usr/bin/env bash
# Writes the private containerd 1.7 configuration (config version 2) of one end-to-end run.
# Everything containerd owns lives under RUN_DIR: root, state, sockets, NRI socket, runc state.
# What containerd still puts elsewhere (shim sockets under /run/containerd/s) is removed by the
# harness after the run.
# Usage: containerd-config.sh RUN_DIR > RUN_DIR/containerd.toml
set -euo pipefail

run=${1:?usage: containerd-config.sh RUN_DIR}
cat <<TOML
version = 2
root = "$run/root"
state = "$run/state"
# Plugins that would touch the host outside RUN_DIR (opt writes /opt/containerd) or that need
# kernel features these machines lack.
disabled_plugins = [
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

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/topod-e2e/pause:1"
  # CAP_SYS_RESOURCE is withheld on these machines: without this, raising a sandbox's
  # oom_score_adj fails and no pod starts.
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  enable_cdi = false
  # Host-network pods only; the CNI dirs are private and empty.
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$run/cni/bin"
    conf_dir = "$run/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "${TOPOD_E2E_SNAPSHOTTER:-overlayfs}"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # PID 1 is not systemd here: the cgroupfs driver, as the kubelet's cgroupDriver=cgroupfs.
        SystemdCgroup = false
        BinaryName = "${RUNC:-/usr/sbin/runc}"
        Root = "$run/runc"

[plugins."io.containerd.nri.v1.nri"]
  disable = false
  disable_connections = false
  socket_path = "$run/nri.sock"
  plugin_path = "$run/nri/plugins"
  plugin_config_path = "$run/nri/conf.d"
  plugin_registration_timeout = "5s"
  plugin_request_timeout = "2s"
TOML
