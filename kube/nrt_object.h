// The NodeResourceTopology object (topology.node.k8s.io/v1alpha2) topod publishes for its node:
// one zone per NUMA node from topology/zone_summary.h, the topology manager's configuration and
// the pod fingerprint as attributes. Pure JSON building; no I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "topology/zone_summary.h"

namespace topod::kube {

inline constexpr const char* kNrtApiVersion = "topology.node.k8s.io/v1alpha2";
inline constexpr const char* kNrtKind = "NodeResourceTopology";
inline constexpr const char* kNrtCollection = "/apis/topology.node.k8s.io/v1alpha2/noderesourcetopologies";

struct NrtAttributes {
  std::string topology_manager_policy = "none";      // the kubelet's spelling: "single-numa-node", ...
  std::string topology_manager_scope = "container";  // "container" or "pod"
  int topology_manager_max_numa_nodes = 8;
  std::string pods_fingerprint;  // "" leaves the fingerprint attributes out
  std::string pods_fingerprint_method = "all";
};

// The whole object, without metadata.resourceVersion.
nlohmann::json nrtObject(const std::string& node_name, const std::vector<topology::Zone>& zones,
                         const NrtAttributes& attributes);

// "/apis/.../noderesourcetopologies/<node>".
std::string nrtPath(const std::string& node_name);

// Whether two objects publish the same thing (zones, attributes, topologyPolicies), whatever
// their metadata. Quantities compare by their text as published (the server keeps it).
bool sameNrtContent(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace topod::kube
