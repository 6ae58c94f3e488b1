// A HintProvider for tests: returns the hints it is given, records what the topology manager
// asked of it, and on allocate() writes the affinity it was handed into memory_nodes (or fails
// with a configured error).
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "policies/static/topology_hint.h"

namespace topod::policies::testing {

class FakeHintProvider : public HintProvider {
 public:
  explicit FakeHintProvider(std::string name, ResourceHints hints = {})
      : name_(std::move(name)), container_hints_(hints), pod_hints_(std::move(hints)) {}

  void setPodHints(ResourceHints hints) { pod_hints_ = std::move(hints); }
  void failAllocation(std::string message) { allocation_error_ = std::move(message); }

  std::string_view name() const override { return name_; }
  ResourceHints containerHints(const State&, const PodRequest&, const ContainerRequest& container) const override {
    ++container_hint_calls;
    last_container = container.name;
    return container_hints_;
  }
  ResourceHints podHints(const State&, const PodRequest&) const override {
    ++pod_hint_calls;
    return pod_hints_;
  }
  // The fake's hints do not depend on the State; pod scope through the topology manager counts
  // as a pod hint call, and records how many containers the State handed over held.
  ResourceHints podHintsWithoutPod(const State& state, const PodRequest& pod) const override {
    last_pod_scope_state_size = static_cast<int>(state.size());
    return podHints(state, pod);
  }
  Status allocate(const State&, const PodRequest&, const ContainerRequest&, const TopologyHint& affinity,
                  ContainerAllocation& allocation) const override {
    ++allocate_calls;
    last_affinity = affinity;
    if (allocation_error_.has_value()) return Error::resourceExhausted(*allocation_error_);
    allocation.memory_nodes = affinity.affinity;
    return okStatus();
  }

  // What the topology manager did; mutable because the interface is const (tests only).
  mutable int container_hint_calls = 0;
  mutable int pod_hint_calls = 0;
  mutable int allocate_calls = 0;
  mutable int last_pod_scope_state_size = -1;
  mutable std::string last_container;
  mutable std::optional<TopologyHint> last_affinity;

 private:
  std::string name_;
  ResourceHints container_hints_;
  ResourceHints pod_hints_;
  std::optional<std::string> allocation_error_;
};

}  // namespace topod::policies::testing
