#include "policies/topology_aware/topology_aware_policy.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "policies/cpu_shape.h"
#include "policies/topology_aware/cpu_picker.h"
#include "policies/topology_aware/node_choice.h"
#include "policies/topology_aware/request_class.h"

namespace topod::policies {

using topology_aware::Usage;

Result<std::unique_ptr<TopologyAwarePolicy>> TopologyAwarePolicy::create(const topology::Topology& topology,
                                                                         const PolicyOptions& options) {
  if (topology.cpus().empty()) return Error::invalidArgument("topology-aware: the topology has no CPUs");
  // Kubelet allocation-order options name orders this policy does not use; refusing them beats
  // silently ignoring what the operator asked for.
  StaticCpuOptions supported;
  supported.strict_cpu_reservation = options.cpu.strict_cpu_reservation;
  if (options.cpu != supported) {
    return Error::invalidArgument(
        "topology-aware: of the kubelet CPU options only strict-cpu-reservation applies; full-pcpus-only, "
        "distribute-cpus-across-numa, align-by-socket, distribute-cpus-across-cores and "
        "prefer-align-cpus-by-uncorecache are static-policy orders (topology-aware always prefers whole cores "
        "and L3 groups)");
  }
  auto pools = topology_aware::makePools(topology, options);
  if (!pools.has_value()) return pools.error();
  return std::unique_ptr<TopologyAwarePolicy>(
      new TopologyAwarePolicy(topology, std::move(*pools), options.topology_manager.policy));
}

Result<std::unique_ptr<Policy>> makeTopologyAwarePolicy(const topology::Topology& topology,
                                                        const PolicyOptions& options) {
  auto policy = TopologyAwarePolicy::create(topology, options);
  if (!policy.has_value()) return policy.error();
  return std::unique_ptr<Policy>(std::move(*policy));
}

Result<Decision> TopologyAwarePolicy::admit(const State& state, const PodRequest& pod,
                                            const ContainerRequest& container) const {
  TOPOD_RETURN_IF_ERROR(topology_aware::validateRequest(pod, container));
  ContainerKey key{pod.uid, container.name};
  if (auto it = state.containers().find(key); it != state.containers().end()) {
    // A container restarted or re-announced by the runtime keeps what it has.
    Decision decision{key, it->second, placementOf(it->second, sharedCpus(state)),
                      "already admitted: keeping its allocation"};
    return decision;
  }
  auto isolated = topology_aware::wantsIsolatedCpus(pod);
  if (!isolated.has_value()) return isolated.error();
  if (topology_aware::wantsExclusiveCpus(pod, container)) return admitExclusive(state, pod, container, *isolated);
  return admitShared(state, pod, container);
}

std::map<int, CpuSet> TopologyAwarePolicy::freeByNode(const Usage& usage, bool isolated) const {
  const CpuSet& universe = isolated ? pools_.isolated_exclusive : pools_.exclusive_universe;
  CpuSet free = universe - usage.exclusive;
  std::map<int, CpuSet> by_node;
  for (int node : pools_.cpu_nodes) by_node[node] = free & topology_.cpusOfNuma(node);
  return by_node;
}

Result<Decision> TopologyAwarePolicy::admitExclusive(const State& state, const PodRequest& pod,
                                                     const ContainerRequest& container, bool isolated) const {
  std::string who = topology_aware::describe(pod, container);
  Usage usage = topology_aware::computeUsage(pools_, topology_, state.totals());
  topology_aware::ExclusiveAsk ask;
  ask.cpus = topology_aware::requestedCpus(container);
  ask.memory = topology_aware::memoryNeed(pod.qos, container);
  ask.device_nodes = topology_aware::deviceNodes(container);
  ask.free = freeByNode(usage, isolated);
  int total_free = 0;
  for (const auto& [node, cpus] : ask.free) total_free += cpus.size();
  // Without reserved CPUs the shared pool must keep one CPU of its own, or shared containers
  // would have nowhere to run (the kubelet requires reserved CPUs for the same reason).
  int keep = !isolated && (pools_.reserved & pools_.shared_universe).empty() ? 1 : 0;
  if (total_free - keep < ask.cpus) {
    std::string pool = isolated ? "isolated" : "exclusive";
    return Error::resourceExhausted(who + ": needs " + std::to_string(ask.cpus) + " " + pool + " CPUs, " +
                                    std::to_string(std::max(0, total_free - keep)) + " available" +
                                    (keep > 0 ? " (one CPU stays in the shared pool, no CPUs are reserved)" : ""));
  }
  if (alignment_ == TopologyManagerPolicy::SingleNumaNode) {
    ask.max_nodes = 1;
    ask.max_nodes_rule = "single-numa-node";
  }
  if (alignment_ == TopologyManagerPolicy::Restricted) {
    ask.max_nodes_rule = "restricted";
    ask.max_nodes = topology_aware::narrowestPossible(
        topology_, pools_, isolated ? pools_.isolated : pools_.exclusive_universe, ask.cpus, ask.device_nodes);
  }
  auto choice = topology_aware::chooseExclusiveNodes(topology_, pools_, usage, ask);
  if (!choice.has_value()) return choice.error().withContext(who);

  CpuSet picked;
  int remaining = ask.cpus;
  for (int node : choice->order) {
    const CpuSet& free = ask.free.at(node);
    int take = std::min(remaining, free.size());
    picked |= topology_aware::pickCpus(topology_, free, take);
    remaining -= take;
  }
  Decision decision;
  decision.key = {pod.uid, container.name};
  ContainerAllocation& alloc = decision.allocation;
  alloc.exclusive_cpus = picked;
  alloc.memory_nodes = choice->nodes;
  alloc.memory = topology_aware::chargeMemory(pools_, usage, choice->order, ask.memory);
  alloc.request = container;
  alloc.qos = pod.qos;
  decision.placement = {picked, alloc.memory_nodes};
  decision.explanation = std::string("exclusive ") + (isolated ? "isolated " : "") +
                         describeCpuShape(topology_, picked) + "; " + choice->explanation +
                         "; why these CPUs: inside the chosen node(s), one L3 group when the request fits one (the "
                         "fullest that still holds it, keeping emptier groups whole), else whole L3 groups; then whole "
                         "free cores, lowest first, and a remainder on a partly used core";
  return decision;
}

Decision TopologyAwarePolicy::admitShared(const State& state, const PodRequest& pod,
                                          const ContainerRequest& container) const {
  Decision decision;
  decision.key = {pod.uid, container.name};
  ContainerAllocation& alloc = decision.allocation;
  alloc.request = container;
  alloc.qos = pod.qos;
  CpuSet shared = sharedCpus(state);
  bool init = container.kind == ContainerKind::Init;
  topology_aware::SharedAsk ask;
  ask.cpu_millis = container.cpu_request_millis;
  ask.memory = topology_aware::memoryNeed(pod.qos, container);
  ask.device_nodes = topology_aware::deviceNodes(container);
  if (pod.qos == QosClass::BestEffort && ask.device_nodes.empty()) {
    decision.placement = placementOf(alloc, shared);
    decision.explanation = "node-wide shared pool " + decision.placement.cpus.toString() + ": BestEffort";
    return decision;
  }
  Usage usage = topology_aware::computeUsage(pools_, topology_, state.totals());
  for (int node : pools_.cpu_nodes) ask.shared[node] = shared & topology_.cpusOfNuma(node);
  topology_aware::NodeChoice choice = topology_aware::chooseSharedNodes(topology_, pools_, usage, ask);
  alloc.shared_pool_nodes = choice.nodes;
  alloc.memory_nodes = choice.nodes;
  if (!choice.nodes.empty() && !init) {
    alloc.memory = topology_aware::chargeMemory(pools_, usage, choice.order, ask.memory);
  }
  decision.placement = placementOf(alloc, shared);
  decision.explanation = "shared CPUs " + decision.placement.cpus.toString() + "; " + choice.explanation +
                         (init ? "; init container, not charged" : "");
  return decision;
}

Placement TopologyAwarePolicy::placementOf(const ContainerAllocation& allocation, const CpuSet& shared) const {
  if (!allocation.exclusive_cpus.empty()) return {allocation.exclusive_cpus, allocation.memory_nodes};
  if (allocation.shared_pool_nodes.empty()) return {shared, allocation.memory_nodes};
  CpuSet own = shared & topology_.cpusOfNumaNodes(allocation.shared_pool_nodes);
  if (!own.empty()) return {own, allocation.memory_nodes};
  // The pool's node(s) are fully exclusive right now: borrow the nearest non-empty pool until
  // CPUs come back (the agent re-applies placements after every change).
  for (int node : topology_aware::orderByDistance(topology_, allocation.shared_pool_nodes.first(), pools_.cpu_nodes)) {
    CpuSet nearest = shared & topology_.cpusOfNuma(node);
    if (!nearest.empty()) return {nearest, allocation.memory_nodes};
  }
  return {shared, allocation.memory_nodes};
}

std::map<ContainerKey, Placement> TopologyAwarePolicy::placements(const State& state) const {
  CpuSet shared = sharedCpus(state);
  // Every container of one per-NUMA pool runs on the same CPUs: work them out once per pool
  // rather than once per container (thousands of containers share a handful of pools).
  std::vector<std::pair<NodeSet, CpuSet>> pool_cpus;
  std::map<ContainerKey, Placement> result;
  for (const auto& [key, alloc] : state.containers()) {
    Placement placement;
    if (alloc.exclusive_cpus.empty() && !alloc.shared_pool_nodes.empty()) {
      // A named reference: clang before 16 cannot capture a structured binding in a lambda.
      const NodeSet& pool_nodes = alloc.shared_pool_nodes;
      auto pool = std::find_if(pool_cpus.begin(), pool_cpus.end(),
                               [&](const auto& entry) { return entry.first == pool_nodes; });
      if (pool == pool_cpus.end()) {
        pool = pool_cpus.emplace(pool_cpus.end(), alloc.shared_pool_nodes, placementOf(alloc, shared).cpus);
      }
      placement = {pool->second, alloc.memory_nodes};
    } else {
      placement = placementOf(alloc, shared);
    }
    // The State is ordered by key already: appending at the end needs no search.
    result.emplace_hint(result.end(), key, std::move(placement));
  }
  return result;
}

CpuSet TopologyAwarePolicy::sharedCpus(const State& state) const {
  return pools_.shared_universe - state.totals().exclusive_cpus;
}

}  // namespace topod::policies
