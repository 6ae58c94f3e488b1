// Topology hints, as the kubelet's topology manager uses them, and the interface of the
// resources that produce them (CPU, memory, devices).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cpuset.h"
#include "common/result.h"
#include "policies/request.h"
#include "policies/state.h"

namespace topod::policies {

struct TopologyHint {
  NodeSet affinity;        // NUMA nodes that can satisfy the request together
  bool preferred = false;  // true when the affinity is the narrowest possible
  friend bool operator==(const TopologyHint&, const TopologyHint&) = default;
};

// Resource name -> hints. Kubelet semantics, kept exactly: a resource absent from the map has no
// preference; a resource mapped to an empty vector cannot be placed on any NUMA combination.
using ResourceHints = std::map<std::string, std::vector<TopologyHint>>;

// A resource manager the topology manager consults. Pure: every method reads the State it is
// given and returns values; nothing is remembered between calls.
class HintProvider {
 public:
  virtual ~HintProvider() = default;
  virtual std::string_view name() const = 0;
  // Container scope: hints for one container.
  virtual ResourceHints containerHints(const State& state, const PodRequest& pod,
                                       const ContainerRequest& container) const = 0;
  // Pod scope: hints for the pod as a whole.
  virtual ResourceHints podHints(const State& state, const PodRequest& pod) const = 0;
  // Pod scope as the topology manager asks for it: what podHints() returns on `state` without the
  // pod's own containers (the kubelet computes pod hints once, before the pod holds anything).
  // Providers answer from the State's totals, without copying the State (a decision must not
  // cost O(containers on the node)).
  virtual ResourceHints podHintsWithoutPod(const State& state, const PodRequest& pod) const = 0;
  // Fills this provider's part of `allocation` for `container`, within `affinity` (the merged
  // hint; empty affinity = no constraint). On error, `allocation` may be partly written and must
  // be discarded by the caller; the error message says why (it reaches the user's pod events).
  virtual Status allocate(const State& state, const PodRequest& pod, const ContainerRequest& container,
                          const TopologyHint& affinity, ContainerAllocation& allocation) const = 0;
};

}  // namespace topod::policies
