// In-place resize of exclusive CPUs (StaticCpuPolicy::resizeExclusiveCpus); the rules are in
// static_cpu_policy.h under "Resize".
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "policies/static/cpu/cpu_allocator.h"
#include "policies/static/cpu/static_cpu_policy.h"

namespace topod::policies::cpu {

namespace {

std::string describe(const PodRequest& pod, const ContainerRequest& container) {
  return pod.namespace_name + "/" + pod.name + "/" + container.name;
}

}  // namespace

Result<CpuSet> StaticCpuPolicy::resizeExclusiveCpus(const State& state, const PodRequest& pod,
                                                    const ContainerRequest& resized) const {
  auto existing = state.containers().find(ContainerKey{pod.uid, resized.name});
  if (existing == state.containers().end()) {
    return Error::notFound("cannot resize " + describe(pod, resized) + ": the container has no allocation");
  }
  const CpuSet& current = existing->second.exclusive_cpus;
  const int wanted = guaranteedCpus(pod, resized);
  const auto refuse = [&](const Error& why) {
    return Error(why.code(), "cannot resize " + describe(pod, resized) + " from " + std::to_string(current.size()) +
                                 " to " + std::to_string(wanted) + " exclusive CPUs: " + why.message());
  };
  if (wanted == 0) return CpuSet{};  // leaves the exclusive pool: runs shared
  if (wanted == current.size()) return current;
  if (options_.full_pcpus_only && cpuGroupSize() > 0 && wanted % cpuGroupSize() != 0) {
    auto smt = checkSmtAlignment(state, wanted, /*already_placed=*/true);
    if (!smt.has_value()) return smt.error();  // keeps the kubelet's SMTAlignmentError text
  }
  const CpuSortingStrategy strategy =
      options_.distribute_cpus_across_cores ? CpuSortingStrategy::Spread : CpuSortingStrategy::Packed;
  if (current.empty()) {
    // Shared until now: a fresh allocation, reusing nothing.
    TOPOD_RETURN_IF_ERROR(checkSmtAlignment(state, wanted, /*already_placed=*/false));
    auto fresh = allocateCpus(state, wanted, NodeSet{}, CpuSet{});
    if (!fresh.has_value()) return refuse(fresh.error());
    return fresh;
  }
  if (wanted > current.size()) {
    CpuSet available = availableCpus(state);
    if (options_.full_pcpus_only) available -= reserved_physical_;
    auto grown = takeByTopologyNumaPackedForResize(topo_, available, wanted, strategy,
                                                   options_.prefer_align_cpus_by_uncorecache, current, CpuSet{});
    if (!grown.has_value()) return refuse(grown.error());
    return grown;
  }
  // Shrink: keep CPUs on the NUMA nodes holding most of the container, whole cores first.
  std::vector<std::pair<int, int>> by_share;  // (-CPUs held on the node, node)
  for (int numa : topo_.numaNodes()) {
    const int held = (current & topo_.cpusInNuma(numa)).size();
    if (held > 0) by_share.emplace_back(-held, numa);
  }
  std::sort(by_share.begin(), by_share.end());
  CpuSet kept;
  for (const auto& [negative_held, numa] : by_share) {
    const int remaining = wanted - kept.size();
    if (remaining == 0) break;
    const CpuSet on_node = current & topo_.cpusInNuma(numa);
    const int take = std::min(remaining, on_node.size());
    auto part = takeByTopologyNumaPacked(topo_, on_node, take, strategy, options_.prefer_align_cpus_by_uncorecache);
    if (!part.has_value()) return refuse(part.error());
    kept |= *part;
  }
  return kept;
}

}  // namespace topod::policies::cpu
