// The kubelet's topology manager as a pure function: given the hint providers (CPU, memory,
// devices), decide the NUMA affinity of a container, admit or reject it with the kubelet's
// reason, and let each provider allocate within the affinity.
//
// Scopes (kubelet scope_container.go / scope_pod.go):
//  - container: hints are collected for the container alone (HintProvider::containerHints).
//  - pod: hints are collected for the whole pod over the State without the pod's own containers
//    (HintProvider::podHintsWithoutPod; the kubelet computes them once, before the pod holds
//    anything); every container of the pod gets the pod's merged affinity.
// Policy none collects no hints; providers allocate with no NUMA constraint.
//
// Nothing is remembered between calls: the State passed in is the whole truth. Thread-safe for
// concurrent const use once created (the providers must be too; they are pure by contract).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "policies/policy_options.h"
#include "policies/request.h"
#include "policies/state.h"
#include "policies/static/topology_hint.h"
#include "policies/static/topology_manager/hint_merge.h"
#include "policies/static/topology_manager/numa_info.h"
#include "topology/model.h"

namespace topod::policies::topology_manager {

// The kubelet's admission failure for a container whose resources cannot be aligned: the pod
// status reason and message it writes (TopologyAffinityError.Type() and .Error()). The reason is
// also the Error::reason() of the rejection.
inline constexpr std::string_view kTopologyAffinityErrorReason = "TopologyAffinityError";
inline constexpr std::string_view kTopologyAffinityErrorMessage =
    "Resources cannot be allocated with Topology locality";

std::string_view policyName(TopologyManagerPolicy policy);
std::string_view scopeName(TopologyManagerScope scope);

// What one provider said, for explanations and tests.
struct ProviderHints {
  std::string provider;
  ResourceHints hints;
};

struct Admission {
  ContainerAllocation allocation;    // filled by every provider's allocate()
  TopologyHint affinity;             // the merged hint the providers allocated within
  std::vector<ProviderHints> hints;  // what was merged (empty for policy none)
  std::string explanation;           // hints considered, NUMA chosen
};

class TopologyManager {
 public:
  // Fails like the kubelet's NewManager: more NUMA nodes than max_allowable_numa_nodes (unless
  // the policy is none), a node id the NUMA bitmask cannot hold, or a null provider.
  static Result<TopologyManager> create(const topology::Topology& topology, const TopologyManagerOptions& options,
                                        std::vector<const HintProvider*> providers);

  const TopologyManagerOptions& options() const { return options_; }
  const NumaInfo& numaInfo() const { return numa_; }

  // Each provider's hints for `container` under the configured scope (pod scope: for the pod).
  std::vector<ProviderHints> collectHints(const State& state, const PodRequest& pod,
                                          const ContainerRequest& container) const;
  // The policy's merge of those hints and its admit decision.
  MergeOutcome calculateAffinity(const std::vector<ProviderHints>& hints) const;

  // Collect, merge, admit, allocate. Error: rejected, with the kubelet's reason and message
  // followed by the explanation; or the first provider's allocation error, prefixed with its name.
  Result<Admission> admit(const State& state, const PodRequest& pod, const ContainerRequest& container) const;

 private:
  TopologyManager(TopologyManagerOptions options, NumaInfo numa, std::vector<const HintProvider*> providers)
      : options_(options), numa_(std::move(numa)), providers_(std::move(providers)) {}

  TopologyManagerOptions options_;
  NumaInfo numa_;
  std::vector<const HintProvider*> providers_;
};

// How many hints per resource an explanation lists before it counts the rest.
inline constexpr std::size_t kHintsShownPerResource = 8;

// "cpu.cpu=[0* 1* 0-1] memory.memory=[]": masks in the providers' order, separated by spaces because
// a mask itself may read "0,2"; '*' marks preferred hints, "any" is no NUMA constraint. After
// kHintsShownPerResource masks the rest are counted: "[0* 1* ... 7* +247 more (3 preferred)]".
std::string describeHints(const std::vector<ProviderHints>& hints);
// The same appended to `out`.
void appendHints(std::string& out, const std::vector<ProviderHints>& hints);
std::string describeAffinity(const TopologyHint& hint);

}  // namespace topod::policies::topology_manager
