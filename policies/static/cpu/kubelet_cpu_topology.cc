#include "policies/static/cpu/kubelet_cpu_topology.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace topod::policies::cpu {

KubeletCpuTopology KubeletCpuTopology::fromTopology(const topology::Topology& topo) {
  std::vector<KubeletCpuInfo> rows;
  rows.reserve(topo.cpus().size());
  for (const topology::Cpu& c : topo.cpus()) {
    // getUniqueCoreID: the lowest thread id, unique machine-wide unlike sysfs core_id.
    const int core = topo.siblingsOf(c.id).first();
    // getUncoreCacheID: the L3 id, or the socket when there is no uncore cache information.
    const int uncore = c.l3 >= 0 ? c.l3 : c.package;
    rows.push_back({.cpu = c.id, .core = core, .socket = c.package, .numa = c.numa, .uncore = uncore});
  }
  auto view = fromRows(rows);
  // A validated Topology always yields a consistent view.
  if (!view.has_value()) {
    std::fprintf(stderr, "topod: fatal: kubelet view of a valid topology: %s\n", view.error().toString().c_str());
    std::abort();
  }
  return std::move(view).value();
}

Result<KubeletCpuTopology> KubeletCpuTopology::fromRows(const std::vector<KubeletCpuInfo>& rows) {
  KubeletCpuTopology t;
  int max_cpu = -1;
  for (const KubeletCpuInfo& row : rows) {
    if (row.cpu < 0 || row.cpu > CpuSet::kMaxId || row.core < 0 || row.socket < 0 || row.numa < 0 ||
        row.numa > NodeSet::kMaxId || row.uncore < 0) {
      return Error::invalidArgument("kubelet CPU topology: CPU " + std::to_string(row.cpu) + " has an id out of range");
    }
    if (row.cpu > max_cpu) max_cpu = row.cpu;
  }
  t.by_cpu_.assign(static_cast<std::size_t>(max_cpu + 1), KubeletCpuInfo{.cpu = -1});
  for (const KubeletCpuInfo& row : rows) {
    KubeletCpuInfo& slot = t.by_cpu_[static_cast<std::size_t>(row.cpu)];
    if (slot.cpu != -1)
      return Error::invalidArgument("kubelet CPU topology: CPU " + std::to_string(row.cpu) + " listed twice");
    slot = row;
    t.cpus_.insert(row.cpu);
    t.core_cpus_[row.core].insert(row.cpu);
    t.socket_cpus_[row.socket].insert(row.cpu);
    t.numa_cpus_[row.numa].insert(row.cpu);
    t.uncore_cpus_[row.uncore].insert(row.cpu);
  }
  t.num_cpus_ = t.cpus_.size();
  // Dense enough when the index is at most about twice the CPU count (one slot per CPU id).
  if (!t.core_cpus_.empty() && t.core_cpus_.rbegin()->first < 2 * t.num_cpus_ + 64) {
    t.core_dense_.resize(static_cast<std::size_t>(t.core_cpus_.rbegin()->first) + 1);
    for (const auto& [core, cpus] : t.core_cpus_) t.core_dense_[static_cast<std::size_t>(core)] = cpus;
  }
  for (const auto& [core, cpus] : t.core_cpus_) {
    const KubeletCpuInfo& first = t.info(cpus.first());
    for (int cpu : cpus) {
      if (t.info(cpu).socket != first.socket || t.info(cpu).numa != first.numa) {
        return Error::invalidArgument("kubelet CPU topology: core " + std::to_string(core) + " (CPUs " +
                                      cpus.toString() + ") spans sockets or NUMA nodes");
      }
    }
  }
  return t;
}

const KubeletCpuInfo& KubeletCpuTopology::info(int cpu) const {
  if (cpu < 0 || static_cast<std::size_t>(cpu) >= by_cpu_.size() || by_cpu_[static_cast<std::size_t>(cpu)].cpu < 0) {
    std::fprintf(stderr, "topod: fatal: kubelet CPU topology query for unknown CPU %d\n", cpu);
    std::abort();
  }
  return by_cpu_[static_cast<std::size_t>(cpu)];
}

const CpuSet& KubeletCpuTopology::lookup(const std::map<int, CpuSet>& map, int id) {
  static const CpuSet kEmpty;
  auto it = map.find(id);
  return it == map.end() ? kEmpty : it->second;
}

CpuSet KubeletCpuTopology::cpusInNumaNodes(const NodeSet& nodes) const {
  CpuSet result;
  for (int node : nodes) result |= cpusInNuma(node);
  return result;
}

NodeSet KubeletCpuTopology::numaNodes() const {
  NodeSet nodes;
  for (const auto& [numa, cpus] : numa_cpus_) nodes.insert(numa);
  return nodes;
}

}  // namespace topod::policies::cpu
