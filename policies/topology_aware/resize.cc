// In-place resize for the topology-aware policy: grow keeps the CPUs a container has and extends
// next to them (SMT siblings, same L3 group, same NUMA node, then the closest nodes); shrink gives
// back the most recently added CPUs; a refusal leaves the old allocation untouched (the State is
// never modified here, and nothing is returned but the error).
#include "policies/topology_aware/cpu_picker.h"
#include "policies/topology_aware/node_choice.h"
#include "policies/topology_aware/request_class.h"
#include "policies/topology_aware/topology_aware_policy.h"

namespace topod::policies {

using topology_aware::Usage;

namespace {

NodeSet nodesOf(const topology::Topology& topology, const CpuSet& cpus) {
  NodeSet nodes;
  for (int cpu : cpus) nodes.insert(topology.numaOf(cpu));
  return nodes;
}

// The node holding most of `cpus` (lowest id among equals).
int primaryNode(const topology::Topology& topology, const CpuSet& cpus) {
  std::map<int, int> count;
  for (int cpu : cpus) ++count[topology.numaOf(cpu)];
  int best = count.begin()->first;
  for (const auto& [node, n] : count) {
    if (n > count[best]) best = node;
  }
  return best;
}

// Free CPUs in the order a grow should take them: siblings of held CPUs, their L3 groups, their
// NUMA nodes, then every other node by distance.
std::vector<CpuSet> growTiers(const topology::Topology& topology, const CpuSet& held, const CpuSet& free,
                              const NodeSet& cpu_nodes) {
  CpuSet siblings;
  CpuSet same_l3;
  for (int cpu : held) {
    siblings |= topology.siblingsOf(cpu);
    int l3 = topology.l3Of(cpu);
    if (l3 >= 0) same_l3 |= topology.l3Groups()[static_cast<std::size_t>(l3)].cpus;
  }
  NodeSet held_nodes = nodesOf(topology, held);
  std::vector<CpuSet> tiers{free & siblings, free & same_l3, free & topology.cpusOfNumaNodes(held_nodes)};
  for (int node : topology_aware::orderByDistance(topology, primaryNode(topology, held), cpu_nodes)) {
    tiers.push_back(free & topology.cpusOfNuma(node));
  }
  return tiers;
}

}  // namespace

Result<Decision> TopologyAwarePolicy::resize(const State& state, const PodRequest& pod,
                                             const ContainerRequest& resized) const {
  TOPOD_RETURN_IF_ERROR(topology_aware::validateRequest(pod, resized));
  std::string who = topology_aware::describe(pod, resized);
  ContainerKey key{pod.uid, resized.name};
  auto it = state.containers().find(key);
  if (it == state.containers().end()) return Error::notFound(who + ": not admitted, nothing to resize");
  const ContainerAllocation& old = it->second;
  bool was_exclusive = !old.exclusive_cpus.empty();
  bool now_exclusive = topology_aware::wantsExclusiveCpus(pod, resized);
  if (was_exclusive != now_exclusive) {
    return Error::failedPrecondition(
        who + ": resize between exclusive CPUs (" + old.exclusive_cpus.toString() +
        ") and a shared CPU request cannot be done in place; keeping the current allocation");
  }
  return was_exclusive ? resizeExclusive(state, pod, resized, old) : resizeShared(state, pod, resized, old);
}

Result<Decision> TopologyAwarePolicy::resizeExclusive(const State& state, const PodRequest& pod,
                                                      const ContainerRequest& resized,
                                                      const ContainerAllocation& old) const {
  std::string who = topology_aware::describe(pod, resized);
  ContainerKey key{pod.uid, resized.name};
  Usage usage = topology_aware::computeUsage(pools_, topology_, state.totalsWithout(key));
  int n_old = old.exclusive_cpus.size();
  int n_new = topology_aware::requestedCpus(resized);
  CpuSet cpus = old.exclusive_cpus;
  std::string how = "kept " + std::to_string(n_old) + " CPUs";
  if (n_new < n_old) {
    CpuSet released = topology_aware::cpusToRelease(topology_, cpus, n_old - n_new);
    cpus -= released;
    how = "shrank from " + std::to_string(n_old) + " to " + std::to_string(n_new) + " CPUs, released " +
          released.toString();
  } else if (n_new > n_old) {
    bool isolated = !pools_.isolated.empty() && old.exclusive_cpus.isSubsetOf(pools_.isolated);
    const CpuSet& universe = isolated ? pools_.isolated_exclusive : pools_.exclusive_universe;
    CpuSet free = universe - usage.exclusive - cpus;
    int keep = !isolated && (pools_.reserved & pools_.shared_universe).empty() ? 1 : 0;
    int extra = n_new - n_old;
    if (free.size() - keep < extra) {
      return Error::resourceExhausted(
          who + ": cannot grow from " + std::to_string(n_old) + " to " + std::to_string(n_new) + " exclusive CPUs, " +
          std::to_string(std::max(0, free.size() - keep)) + " free; keeping CPUs " + old.exclusive_cpus.toString());
    }
    CpuSet added;
    for (const CpuSet& tier : growTiers(topology_, cpus, free, pools_.cpu_nodes)) {
      CpuSet candidates = tier - added;
      int take = std::min(extra - added.size(), candidates.size());
      if (take > 0) added |= topology_aware::pickCpus(topology_, candidates, take);
    }
    cpus |= added;
    int max_nodes = alignment_ == TopologyManagerPolicy::SingleNumaNode ? 1
                    : alignment_ == TopologyManagerPolicy::Restricted
                        ? topology_aware::narrowestPossible(topology_, pools_, universe, n_new,
                                                            topology_aware::deviceNodes(resized))
                        : 0;
    NodeSet grown_nodes = nodesOf(topology_, cpus);
    if (max_nodes > 0 && grown_nodes.size() > max_nodes) {
      return Error::resourceExhausted(who + ": cannot grow from " + std::to_string(n_old) + " to " +
                                      std::to_string(n_new) + " exclusive CPUs within " + std::to_string(max_nodes) +
                                      " NUMA node(s) (topology manager policy " +
                                      (max_nodes == 1 ? "single-numa-node" : "restricted") + "; it would span NUMA " +
                                      grown_nodes.toString() + "); keeping CPUs " + old.exclusive_cpus.toString());
    }
    how = "grew from " + std::to_string(n_old) + " to " + std::to_string(n_new) + " CPUs, kept " +
          old.exclusive_cpus.toString() + ", added " + added.toString();
  }

  topology_aware::MemoryAmounts need = topology_aware::memoryNeed(pod.qos, resized);
  NodeSet nodes = nodesOf(topology_, cpus) | (topology_aware::deviceNodes(resized) & pools_.cpu_nodes);
  if (!topology_aware::memoryFits(pools_, usage, nodes, need)) nodes |= old.memory_nodes;
  if (!topology_aware::memoryFits(pools_, usage, nodes, need)) {
    return Error::resourceExhausted(who + ": the resized memory does not fit NUMA " + nodes.toString() +
                                    "; keeping the current allocation");
  }
  Decision decision;
  decision.key = key;
  decision.allocation = old;
  decision.allocation.exclusive_cpus = cpus;
  decision.allocation.memory_nodes = nodes;
  decision.allocation.memory = topology_aware::chargeMemory(
      pools_, usage, topology_aware::orderByDistance(topology_, primaryNode(topology_, cpus), nodes), need);
  decision.allocation.request = resized;
  decision.placement = {cpus, nodes};
  decision.explanation = "resize: " + how + "; memory on NUMA " + nodes.toString();
  return decision;
}

Result<Decision> TopologyAwarePolicy::resizeShared(const State& state, const PodRequest& pod,
                                                   const ContainerRequest& resized,
                                                   const ContainerAllocation& old) const {
  std::string who = topology_aware::describe(pod, resized);
  ContainerKey key{pod.uid, resized.name};
  Usage usage = topology_aware::computeUsage(pools_, topology_, state.totalsWithout(key));
  Decision decision;
  decision.key = key;
  decision.allocation = old;
  decision.allocation.request = resized;
  const NodeSet& nodes = old.shared_pool_nodes;
  if (!nodes.empty() && resized.kind != ContainerKind::Init) {
    topology_aware::MemoryAmounts need = topology_aware::memoryNeed(pod.qos, resized);
    if (!topology_aware::memoryFits(pools_, usage, nodes, need)) {
      return Error::resourceExhausted(who + ": the resized memory request does not fit NUMA " + nodes.toString() +
                                      "; keeping the current allocation");
    }
    decision.allocation.memory = topology_aware::chargeMemory(
        pools_, usage, topology_aware::orderByDistance(topology_, nodes.first(), nodes), need);
  }
  decision.placement = placementOf(decision.allocation, sharedCpus(state));
  decision.explanation =
      "resize: stays in the " +
      (nodes.empty() ? std::string("node-wide shared pool") : "shared pool of NUMA " + nodes.toString()) +
      "; CPU request " + std::to_string(resized.cpu_request_millis) + "m";
  return decision;
}

}  // namespace topod::policies
