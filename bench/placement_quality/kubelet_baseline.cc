#include "bench/placement_quality/kubelet_baseline.h"

#include <optional>
#include <vector>

#include "policies/cpu/cpu_allocator.h"

namespace topod::bench {

namespace {

struct Hint {
  NodeSet mask;
  bool preferred = false;
};

std::vector<NodeSet> allMasks(const NodeSet& nodes) {
  std::vector<int> ids = nodes.toVector();
  std::vector<NodeSet> masks;
  for (unsigned bits = 1; bits < (1U << ids.size()); ++bits) {
    NodeSet mask;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if ((bits & (1U << i)) != 0) mask.insert(ids[i]);
    }
    masks.push_back(mask);
  }
  return masks;
}

// The kubelet's IsNarrowerThan: fewer nodes, then the lower mask.
bool narrower(const NodeSet& a, const NodeSet& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

}  // namespace

KubeletBaseline::KubeletBaseline(const topology::Topology& topology, CpuSet reserved, bool single_numa_node)
    : topology_(topology),
      kubelet_topology_(policies::cpu::KubeletCpuTopology::fromTopology(topology)),
      reserved_(std::move(reserved)),
      single_numa_node_(single_numa_node) {}

Result<CpuSet> KubeletBaseline::allocate(const CpuSet& exclusive, int cpus, const NodeSet& device_nodes) const {
  CpuSet free = topology_.onlineCpus() - reserved_ - exclusive;
  if (free.size() < cpus) return Error::resourceExhausted("not enough cpus available to satisfy request");
  NodeSet nodes = topology_.numaNodeIds();
  std::vector<NodeSet> masks = allMasks(nodes);
  // CPU hints (cpumanager GetTopologyHints): masks whose free CPUs hold the request; preferred
  // when the mask is as narrow as the narrowest mask whose allocatable CPUs could hold it.
  std::size_t min_size = nodes.size();
  for (const NodeSet& mask : masks) {
    if ((topology_.cpusOfNumaNodes(mask) - reserved_).size() >= cpus) min_size = std::min<std::size_t>(min_size, mask.size());
  }
  std::vector<Hint> cpu_hints;
  for (const NodeSet& mask : masks) {
    if ((free & topology_.cpusOfNumaNodes(mask)).size() >= cpus) {
      cpu_hints.push_back({mask, static_cast<std::size_t>(mask.size()) == min_size});
    }
  }
  // Device hints for devices already bound to nodes: masks containing them, preferred when minimal.
  std::vector<Hint> device_hints;
  if (!device_nodes.empty()) {
    for (const NodeSet& mask : masks) {
      if (device_nodes.isSubsetOf(mask)) device_hints.push_back({mask, mask.size() == device_nodes.size()});
    }
  }
  // Merge (best-effort / single-numa-node): every combination ANDed; preferred beats not
  // preferred, then narrower. No combination: the default hint (any node, not preferred).
  std::optional<Hint> best;
  auto consider = [&](const Hint& merged) {
    if (merged.mask.empty()) return;
    if (!best.has_value() || (merged.preferred && !best->preferred) ||
        (merged.preferred == best->preferred && narrower(merged.mask, best->mask))) {
      best = merged;
    }
  };
  for (const Hint& c : cpu_hints) {
    if (device_hints.empty()) {
      consider(c);
      continue;
    }
    for (const Hint& d : device_hints) consider({c.mask & d.mask, c.preferred && d.preferred});
  }
  Hint affinity = best.value_or(Hint{nodes, false});
  if (single_numa_node_ && (!affinity.preferred || affinity.mask.size() != 1)) {
    return Error::resourceExhausted("Topology Affinity Error: no single NUMA node fits");
  }
  // allocateCPUs: the affinity's nodes first, the rest from anywhere.
  CpuSet aligned_free = free & topology_.cpusOfNumaNodes(affinity.mask);
  int first = std::min(cpus, aligned_free.size());
  auto aligned = policies::cpu::takeByTopologyNumaPacked(kubelet_topology_, aligned_free, first,
                                                          policies::cpu::CpuSortingStrategy::Packed, false);
  if (!aligned.has_value()) return aligned.error();
  if (first == cpus) return *aligned;
  auto rest = policies::cpu::takeByTopologyNumaPacked(kubelet_topology_, free - *aligned, cpus - first,
                                                       policies::cpu::CpuSortingStrategy::Packed, false);
  if (!rest.has_value()) return rest.error();
  return *aligned | *rest;
}

}  // namespace topod::bench
