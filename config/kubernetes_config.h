// The [kubernetes] table of topod's configuration: whether and how topod publishes the node's
// NodeResourceTopology object (docs/kubernetes.md). Absent or `enabled = false`: no publishing,
// no API-server connection at all.
#pragma once

#include <cstdint>
#include <string>

namespace topod::agent {

class TableReader;

struct KubernetesConfig {
  bool enabled = false;
  // A kubeconfig file; empty = in-cluster (the pod's service account).
  std::string kubeconfig;
  // The object's name = the node's name; empty = $NODE_NAME, then the host name.
  std::string node_name;
  int64_t qps = 5;
  int64_t burst = 10;
  // At most one write per interval; a change is published within about one interval.
  int64_t publish_interval_ms = 1000;
  // Re-read and, when it differs, rewrite the object this often (repairs deletions and edits).
  int64_t resync_interval_s = 60;
  // Per-request timeout.
  int64_t timeout_ms = 10000;
  friend bool operator==(const KubernetesConfig&, const KubernetesConfig&) = default;
};

// Reads the optional [kubernetes] subtable of `root` into `out`, reporting problems on `root`.
void readKubernetes(TableReader& root, KubernetesConfig& out);

// The node name: `configured`, else $NODE_NAME, else the host name (lower-cased, as the kubelet
// registers it); "" when none can be found.
std::string resolveNodeName(const std::string& configured);

}  // namespace topod::agent
