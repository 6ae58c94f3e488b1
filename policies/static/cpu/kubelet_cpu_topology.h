// The kubelet's view of the CPUs (pkg/kubelet/cm/cpumanager/topology: CPUTopology and
// CPUDetails): per logical CPU its core, socket, NUMA node and uncore-cache ids, with the
// kubelet's derived counts (CPUsPerCore = NumCPUs / NumCores, ...).
//
// The kubelet-compatible allocator works on this view rather than on topology::Topology because
// the kubelet breaks ties on these ids, so they must be the kubelet's ids:
//   - fromTopology() applies the kubelet's Discover() rules to a real machine: a core's id is its
//     lowest CPU id (getUniqueCoreID), the uncore-cache id is the L3 group (the socket id when the
//     machine reports no L3, as getUncoreCacheID falls back to).
//   - fromRows() takes the ids verbatim, for the kubelet's hand-written test topologies, whose
//     CoreIDs and UncoreCacheIDs are arbitrary numbers.
//
// Immutable value, cheap to query, safe to share between threads.
#pragma once

#include <map>
#include <vector>

#include "common/cpuset.h"
#include "common/result.h"
#include "topology/model.h"

namespace topod::policies::cpu {

struct KubeletCpuInfo {
  int cpu = 0;
  int core = 0;
  int socket = 0;
  int numa = 0;
  int uncore = 0;
};

class KubeletCpuTopology {
 public:
  KubeletCpuTopology() = default;
  static KubeletCpuTopology fromTopology(const topology::Topology& topo);
  // Rejects duplicate or negative ids and cores whose CPUs disagree on socket or NUMA node.
  static Result<KubeletCpuTopology> fromRows(const std::vector<KubeletCpuInfo>& rows);

  const CpuSet& cpus() const { return cpus_; }
  int numCpus() const { return num_cpus_; }
  int numCores() const { return static_cast<int>(core_cpus_.size()); }
  int numSockets() const { return static_cast<int>(socket_cpus_.size()); }
  int numNumaNodes() const { return static_cast<int>(numa_cpus_.size()); }
  int numUncoreCaches() const { return static_cast<int>(uncore_cpus_.size()); }
  // Machine-wide averages, as the kubelet computes them (integer division; 0 when undefined).
  int cpusPerCore() const { return numCores() == 0 ? 0 : numCpus() / numCores(); }
  int cpusPerSocket() const { return numSockets() == 0 ? 0 : numCpus() / numSockets(); }
  int cpusPerUncore() const { return numUncoreCaches() == 0 ? 0 : numCpus() / numUncoreCaches(); }

  // Per-CPU ids; the CPU must be one of cpus() (terminates otherwise).
  int coreOf(int cpu) const { return info(cpu).core; }
  int socketOf(int cpu) const { return info(cpu).socket; }
  int numaOf(int cpu) const { return info(cpu).numa; }
  int uncoreOf(int cpu) const { return info(cpu).uncore; }

  // All CPUs of one element; empty for an unknown id.
  const CpuSet& cpusInCore(int core) const {
    if (core >= 0 && static_cast<std::size_t>(core) < core_dense_.size())
      return core_dense_[static_cast<std::size_t>(core)];
    return lookup(core_cpus_, core);
  }
  const CpuSet& cpusInSocket(int socket) const { return lookup(socket_cpus_, socket); }
  const CpuSet& cpusInNuma(int numa) const { return lookup(numa_cpus_, numa); }
  const CpuSet& cpusInUncore(int uncore) const { return lookup(uncore_cpus_, uncore); }
  CpuSet cpusInNumaNodes(const NodeSet& nodes) const;
  NodeSet numaNodes() const;

  // Ids in ascending order.
  const std::map<int, CpuSet>& cores() const { return core_cpus_; }
  const std::map<int, CpuSet>& sockets() const { return socket_cpus_; }
  const std::map<int, CpuSet>& numas() const { return numa_cpus_; }
  const std::map<int, CpuSet>& uncores() const { return uncore_cpus_; }

 private:
  const KubeletCpuInfo& info(int cpu) const;
  static const CpuSet& lookup(const std::map<int, CpuSet>& map, int id);

  CpuSet cpus_;
  int num_cpus_ = 0;                    // cpus_.size(), asked for once per core by the allocator
  std::vector<KubeletCpuInfo> by_cpu_;  // indexed by CPU id; cpu == -1 marks holes
  std::map<int, CpuSet> core_cpus_;
  // core_cpus_ indexed by core id (empty sets in the gaps) when the ids are dense, as they are on
  // real machines (a core's id is its lowest CPU id): the allocator asks for a core's CPUs
  // hundreds of times per decision. Empty for sparse ids (the kubelet's test topologies).
  std::vector<CpuSet> core_dense_;
  std::map<int, CpuSet> socket_cpus_;
  std::map<int, CpuSet> numa_cpus_;
  std::map<int, CpuSet> uncore_cpus_;
};

}  // namespace topod::policies::cpu
