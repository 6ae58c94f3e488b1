// The kubelet's cpuAccumulator (pkg/kubelet/cm/cpumanager/cpu_assignment.go): the state of one
// take-by-topology run and the orderings it takes CPUs in. Internal to the CPU allocator; public
// so the kubelet's own accumulator test rows (freeSockets, freeCores, freeCPUs, ...) can be ported.
//
// Orderings, exactly as the kubelet's:
//   - sort(ids): ascending number of *available* CPUs in the element, then ascending id.
//   - NUMA nodes "above" sockets (NumSockets >= NumNUMANodes, the kubelet's numaFirst, which also
//     covers one NUMA node per socket): NUMA nodes sorted directly; sockets sorted within each
//     sorted NUMA node; cores sorted within each sorted socket.
//   - sockets above NUMA nodes (socketsFirst): sockets sorted directly; NUMA nodes within each
//     socket; cores within each NUMA node.
//   - uncore caches: sorted within each sorted NUMA node.
//   - CPUs: packed = by sorted core, ascending id inside a core; spread (distribute-cpus-across-
//     cores) = by sorted socket, ascending id inside a socket.
//   - "free" elements are those whose CPUs are all available; sockets and cores compare against
//     the machine-wide averages CPUsPerSocket / CPUsPerCore, as the kubelet does.
// Lists may repeat an element when it straddles two parents (a socket in two NUMA nodes); the
// kubelet behaves the same and so do we.
//
// Resize mode (the kubelet's cpuAccumulatorForResize, in-place resize of exclusive CPUs): the
// CPUs a container keeps are taken first; every ordering then lists the elements that already
// hold kept CPUs before the others (each part sorted as above), and an element counts as whole
// when its kept plus available CPUs make all of it.
#pragma once

#include <functional>
#include <vector>

#include "common/cpuset.h"
#include "policies/static/cpu/kubelet_cpu_topology.h"

namespace topod::policies::cpu {

enum class CpuSortingStrategy {
  Packed,  // default: fill cores, then sockets
  Spread,  // distribute-cpus-across-cores: one thread per core first
};

class CpuAccumulator {
 public:
  CpuAccumulator(const KubeletCpuTopology& topo, const CpuSet& available, int num_cpus,
                 CpuSortingStrategy strategy = CpuSortingStrategy::Packed);
  // Resize mode: `current` is what the container holds, `keep` the CPUs it must keep when
  // shrinking (a subset of current). Growing keeps all of current.
  static CpuAccumulator forResize(const KubeletCpuTopology& topo, const CpuSet& available, int num_cpus,
                                  CpuSortingStrategy strategy, const CpuSet& current, const CpuSet& keep);

  std::vector<int> freeNumaNodes() const;
  std::vector<int> freeSockets() const;
  std::vector<int> freeCores() const;
  std::vector<int> freeUncoreCaches() const;
  std::vector<int> freeCpus() const { return sortAvailableCpus(); }

  std::vector<int> sortAvailableNumaNodes() const;
  std::vector<int> sortAvailableSockets() const;
  std::vector<int> sortAvailableCores() const;
  std::vector<int> sortAvailableUncoreCaches() const;
  std::vector<int> sortAvailableCpus() const;

  void take(const CpuSet& cpus);
  void takeFullFirstLevel();
  void takeFullSecondLevel();
  void takeFullNumaNodes();
  void takeFullSockets();
  void takeFullCores();
  void takeUncoreCache();
  void takeRemainingCpus();

  bool needsAtLeast(int n) const { return needed_ >= n; }
  bool isSatisfied() const { return needed_ < 1; }
  bool isFailed() const { return needed_ > available_.size(); }
  int needed() const { return needed_; }
  const CpuSet& result() const { return result_; }
  const CpuSet& available() const { return available_; }

  // Minimum and maximum number of NUMA nodes that can hold the remaining request in groups of
  // cpu_group_size CPUs (rangeNUMANodesNeededToSatisfy).
  std::pair<int, int> rangeNumaNodesNeeded(int cpu_group_size) const;

 private:
  bool numaFirst() const { return topo_.numSockets() >= topo_.numNumaNodes(); }
  // Available element ids within `scope`, sorted; in resize mode those holding kept CPUs first.
  std::vector<int> orderedIds(const CpuSet& scope, int (KubeletCpuTopology::*id_of)(int) const,
                              const CpuSet& (KubeletCpuTopology::*cpus_of)(int) const) const;
  // Resize mode: kept plus available CPUs of the element make all of it.
  bool isWhole(const CpuSet& element) const { return ((result_ | available_) & element).size() == element.size(); }
  void takeWhole(const std::vector<int>& ids, const CpuSet& (KubeletCpuTopology::*cpus_of)(int) const);
  void sortIds(std::vector<int>& ids, const std::function<CpuSet(int)>& available_cpus) const;
  // Ids of elements that have an available CPU, among the CPUs `scope`.
  std::vector<int> availableIds(const CpuSet& scope, int (KubeletCpuTopology::*id_of)(int) const) const;
  // The same when each id's CPUs are known (cpus_of(id_of(cpu)) holds cpu).
  std::vector<int> availableIds(const CpuSet& scope, int (KubeletCpuTopology::*id_of)(int) const,
                                const CpuSet& (KubeletCpuTopology::*cpus_of)(int) const) const;
  void takeFullUncore();
  void takePartialUncore(int uncore);

  const KubeletCpuTopology& topo_;
  CpuSet available_;
  CpuSet result_;
  int needed_;
  CpuSortingStrategy strategy_;
  bool resize_ = false;
};

}  // namespace topod::policies::cpu
