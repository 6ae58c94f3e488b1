// The [eviction] table of topod's configuration: topod as an EvictionRequest responder that
// warns workloads before they are evicted (docs/eviction.md). Needs [kubernetes] for the API
// connection. Absent or `enabled = false`: topod watches no Evictions.
#pragma once

#include <cstdint>
#include <string>

namespace topod::agent {

class TableReader;

struct EvictionConfig {
  bool enabled = false;
  // The name pods list in spec.evictionResponders: "<domain>/<name>", not under k8s.io.
  std::string responder_name = "topod.io/warning";
  // The warning for pods without the eviction.topod.io/warning annotation: signal, file, criu
  // or none. "criu" needs a runtime that answers on cri_socket when topod starts.
  std::string mode = "signal";
  // The signal of mode "signal" (name or number; SIGKILL and SIGSTOP refused).
  std::string signal = "SIGUSR1";
  // A pod's time to checkpoint, unless its eviction.topod.io/deadline-seconds asks otherwise;
  // the most such an annotation may ask for.
  int64_t deadline_s = 600;
  int64_t max_deadline_s = 3600;
  // Heartbeats while the workload says nothing new (20 s .. 10 min; the controller's deadline
  // is 20 min).
  int64_t heartbeat_interval_s = 180;
  // How often the workloads' progress files are read and due heartbeats written.
  int64_t poll_interval_ms = 1000;
  // The per-pod directories (<dir>/<pod uid>/notice.json, progress.json) pods mount.
  std::string notice_dir = "/run/topod/evictions";
  // Mode criu: the runtime's CRI socket (CheckpointContainer), where the runtime writes the
  // archives (<dir>/<pod uid>/<container>-<time>.tar; "" = <state_dir>/checkpoints), and the
  // most one container's checkpoint may take.
  std::string cri_socket = "/run/containerd/containerd.sock";
  std::string checkpoint_dir;
  int64_t checkpoint_timeout_s = 300;
  // topod as a requester: when it cannot honour a running pod's allocation any more (its CPUs
  // were taken by a new configuration, or an accepted resize could not be re-made after a
  // restart), it creates an EvictionRequest for the pod as `requester_name` instead of letting
  // it run unpinned without a word. Only with `enabled`.
  bool request_evictions = true;
  std::string requester_name = "topod.io/node-pressure";
  friend bool operator==(const EvictionConfig&, const EvictionConfig&) = default;
};

// Reads the optional [eviction] subtable of `root` into `out`, reporting problems on `root`.
// The responder name and the signal are checked where they are used (agent/eviction_warnings.h),
// so `topod config check` and `topod run` report them the same way.
void readEviction(TableReader& root, EvictionConfig& out);

}  // namespace topod::agent
