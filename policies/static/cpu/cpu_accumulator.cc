#include "policies/static/cpu/cpu_accumulator.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace topod::policies::cpu {

CpuAccumulator::CpuAccumulator(const KubeletCpuTopology& topo, const CpuSet& available, int num_cpus,
                               CpuSortingStrategy strategy)
    : topo_(topo), available_(available & topo.cpus()), needed_(num_cpus), strategy_(strategy) {}

CpuAccumulator CpuAccumulator::forResize(const KubeletCpuTopology& topo, const CpuSet& available, int num_cpus,
                                         CpuSortingStrategy strategy, const CpuSet& current, const CpuSet& keep) {
  CpuAccumulator acc(topo, available, num_cpus, strategy);
  acc.resize_ = true;
  if (current.empty()) return acc;
  if (num_cpus > current.size()) {
    acc.take(current);
  } else if (num_cpus < current.size()) {
    if (!keep.empty()) acc.take(keep);
  } else {
    acc.take(current);
  }
  return acc;
}

void CpuAccumulator::sortIds(std::vector<int>& ids, const std::function<CpuSet(int)>& available_cpus) const {
  std::vector<std::pair<int, int>> keyed;  // (available count, id)
  keyed.reserve(ids.size());
  for (int id : ids) keyed.emplace_back(available_cpus(id).size(), id);
  std::sort(keyed.begin(), keyed.end());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = keyed[i].second;
}

std::vector<int> CpuAccumulator::availableIds(const CpuSet& scope, int (KubeletCpuTopology::*id_of)(int) const) const {
  // Sorted and unique, as a std::set would give, without a tree node per CPU.
  std::vector<int> ids;
  for (int cpu : scope& available_) ids.push_back((topo_.*id_of)(cpu));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::vector<int> CpuAccumulator::availableIds(const CpuSet& scope, int (KubeletCpuTopology::*id_of)(int) const,
                                              const CpuSet& (KubeletCpuTopology::*cpus_of)(int) const) const {
  // One visit per element rather than per CPU: a socket's 256 CPUs are 4 NUMA nodes.
  std::vector<int> ids;
  CpuSet rest = scope & available_;
  while (!rest.empty()) {
    const int id = (topo_.*id_of)(rest.first());
    ids.push_back(id);
    rest -= (topo_.*cpus_of)(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<int> CpuAccumulator::orderedIds(const CpuSet& scope, int (KubeletCpuTopology::*id_of)(int) const,
                                            const CpuSet& (KubeletCpuTopology::*cpus_of)(int) const) const {
  std::vector<int> ids = availableIds(scope, id_of, cpus_of);
  const auto available_in = [&](int id) { return (topo_.*cpus_of)(id)&available_; };
  if (!resize_) {
    sortIds(ids, available_in);
    return ids;
  }
  std::vector<int> holding;
  std::vector<int> others;
  for (int id : ids) ((((topo_.*cpus_of)(id)&scope & result_).empty()) ? others : holding).push_back(id);
  sortIds(holding, available_in);
  sortIds(others, available_in);
  holding.insert(holding.end(), others.begin(), others.end());
  return holding;
}

std::vector<int> CpuAccumulator::sortAvailableNumaNodes() const {
  if (numaFirst()) return orderedIds(topo_.cpus(), &KubeletCpuTopology::numaOf, &KubeletCpuTopology::cpusInNuma);
  std::vector<int> result;
  for (int socket : sortAvailableSockets()) {
    const std::vector<int> numas =
        orderedIds(topo_.cpusInSocket(socket), &KubeletCpuTopology::numaOf, &KubeletCpuTopology::cpusInNuma);
    result.insert(result.end(), numas.begin(), numas.end());
  }
  return result;
}

std::vector<int> CpuAccumulator::sortAvailableSockets() const {
  if (!numaFirst()) return orderedIds(topo_.cpus(), &KubeletCpuTopology::socketOf, &KubeletCpuTopology::cpusInSocket);
  std::vector<int> result;
  for (int numa : sortAvailableNumaNodes()) {
    const std::vector<int> sockets =
        orderedIds(topo_.cpusInNuma(numa), &KubeletCpuTopology::socketOf, &KubeletCpuTopology::cpusInSocket);
    result.insert(result.end(), sockets.begin(), sockets.end());
  }
  return result;
}

std::vector<int> CpuAccumulator::sortAvailableCores() const {
  std::vector<int> result;
  if (numaFirst()) {
    // A socket is listed once per NUMA node it holds (the kubelet's order, kept); its cores come
    // out the same each time, so they are sorted once per socket.
    std::map<int, std::vector<int>> by_socket;
    for (int socket : sortAvailableSockets()) {
      auto [it, inserted] = by_socket.try_emplace(socket);
      if (inserted) {
        it->second =
            orderedIds(topo_.cpusInSocket(socket), &KubeletCpuTopology::coreOf, &KubeletCpuTopology::cpusInCore);
      }
      result.insert(result.end(), it->second.begin(), it->second.end());
    }
    return result;
  }
  for (int numa : sortAvailableNumaNodes()) {
    const std::vector<int> cores =
        orderedIds(topo_.cpusInNuma(numa), &KubeletCpuTopology::coreOf, &KubeletCpuTopology::cpusInCore);
    result.insert(result.end(), cores.begin(), cores.end());
  }
  return result;
}

std::vector<int> CpuAccumulator::sortAvailableUncoreCaches() const {
  std::vector<int> result;
  for (int numa : sortAvailableNumaNodes()) {
    const std::vector<int> uncores =
        orderedIds(topo_.cpusInNuma(numa), &KubeletCpuTopology::uncoreOf, &KubeletCpuTopology::cpusInUncore);
    result.insert(result.end(), uncores.begin(), uncores.end());
  }
  return result;
}

std::vector<int> CpuAccumulator::sortAvailableCpus() const {
  std::vector<int> result;
  if (strategy_ == CpuSortingStrategy::Spread) {
    for (int socket : sortAvailableSockets()) {
      for (int cpu : topo_.cpusInSocket(socket) & available_) result.push_back(cpu);
    }
    return result;
  }
  for (int core : sortAvailableCores()) {
    for (int cpu : topo_.cpusInCore(core) & available_) result.push_back(cpu);
  }
  return result;
}

std::vector<int> CpuAccumulator::freeNumaNodes() const {
  std::vector<int> free;
  for (int numa : sortAvailableNumaNodes()) {
    if ((topo_.cpusInNuma(numa) & available_).size() == topo_.cpusInNuma(numa).size()) free.push_back(numa);
  }
  return free;
}

std::vector<int> CpuAccumulator::freeSockets() const {
  std::vector<int> free;
  for (int socket : sortAvailableSockets()) {
    if ((topo_.cpusInSocket(socket) & available_).size() == topo_.cpusPerSocket()) free.push_back(socket);
  }
  return free;
}

std::vector<int> CpuAccumulator::freeCores() const {
  std::vector<int> free;
  for (int core : sortAvailableCores()) {
    if ((topo_.cpusInCore(core) & available_).size() == topo_.cpusPerCore()) free.push_back(core);
  }
  return free;
}

std::vector<int> CpuAccumulator::freeUncoreCaches() const {
  std::vector<int> free;
  for (int uncore : sortAvailableUncoreCaches()) {
    if ((topo_.cpusInUncore(uncore) & available_).size() == topo_.cpusInUncore(uncore).size()) free.push_back(uncore);
  }
  return free;
}

void CpuAccumulator::take(const CpuSet& cpus) {
  result_ |= cpus;
  available_ -= result_;
  needed_ -= cpus.size();
}

void CpuAccumulator::takeFullFirstLevel() {
  if (numaFirst()) {
    takeFullNumaNodes();
  } else {
    takeFullSockets();
  }
}

void CpuAccumulator::takeFullSecondLevel() {
  if (numaFirst()) {
    takeFullSockets();
  } else {
    takeFullNumaNodes();
  }
}

void CpuAccumulator::takeWhole(const std::vector<int>& ids, const CpuSet& (KubeletCpuTopology::*cpus_of)(int) const) {
  // Resize mode: whole means kept plus available; only the available part is taken.
  for (int id : ids) {
    const CpuSet& element = (topo_.*cpus_of)(id);
    if (!isWhole(element)) continue;
    const CpuSet cpus = element & available_;
    if (!needsAtLeast(cpus.size())) continue;
    take(cpus);
  }
}

void CpuAccumulator::takeFullNumaNodes() {
  if (resize_) return takeWhole(sortAvailableNumaNodes(), &KubeletCpuTopology::cpusInNuma);
  for (int numa : freeNumaNodes()) {
    const CpuSet& cpus = topo_.cpusInNuma(numa);
    if (!needsAtLeast(cpus.size())) continue;
    take(cpus);
  }
}

void CpuAccumulator::takeFullSockets() {
  if (resize_) return takeWhole(sortAvailableSockets(), &KubeletCpuTopology::cpusInSocket);
  for (int socket : freeSockets()) {
    const CpuSet& cpus = topo_.cpusInSocket(socket);
    if (!needsAtLeast(cpus.size())) continue;
    take(cpus);
  }
}

void CpuAccumulator::takeFullCores() {
  if (resize_) return takeWhole(sortAvailableCores(), &KubeletCpuTopology::cpusInCore);
  for (int core : freeCores()) {
    const CpuSet& cpus = topo_.cpusInCore(core);
    if (!needsAtLeast(cpus.size())) continue;
    take(cpus);
  }
}

void CpuAccumulator::takeFullUncore() {
  if (resize_) return takeWhole(sortAvailableUncoreCaches(), &KubeletCpuTopology::cpusInUncore);
  for (int uncore : freeUncoreCaches()) {
    const CpuSet& cpus = topo_.cpusInUncore(uncore);
    if (!needsAtLeast(cpus.size())) continue;
    take(cpus);
  }
}

void CpuAccumulator::takePartialUncore(int uncore) {
  const int per_core = std::max(1, topo_.cpusPerCore());
  if (resize_ && per_core > 1) {
    // First complete the cores of this cache that already hold kept CPUs.
    std::set<int> holding;
    for (int cpu : topo_.cpusInUncore(uncore) & result_) holding.insert(topo_.coreOf(cpu));
    for (int core : holding) {
      const CpuSet& element = topo_.cpusInCore(core);
      const CpuSet cpus = element & available_;
      if (cpus.empty() || !isWhole(element)) continue;
      if (!needsAtLeast(cpus.size())) break;
      take(cpus);
    }
  }
  // Enough whole cores for the remaining request, rounding up.
  const int cores_needed = (needed_ + per_core - 1) / per_core;
  // The lowest-numbered cores of the cache that still have an available CPU (the kubelet's
  // CoresNeededInUncoreCache), and their available CPUs.
  std::vector<int> cores = availableIds(topo_.cpusInUncore(uncore), &KubeletCpuTopology::coreOf);
  if (static_cast<int>(cores.size()) > cores_needed) cores.resize(static_cast<std::size_t>(cores_needed));
  CpuSet free_cpus;
  for (int core : cores) free_cpus |= topo_.cpusInCore(core) & available_;
  // An odd remainder on an SMT machine needs one thread of the last core only: drop the highest
  // CPU so the rest stay whole cores.
  if (needed_ % 2 != 0 && topo_.cpusPerCore() > 1 && free_cpus.size() > needed_) free_cpus.erase(free_cpus.last());
  if (free_cpus.size() != needed_) return;
  take(free_cpus);
}

void CpuAccumulator::takeUncoreCache() {
  if (resize_) {
    takeFullUncore();
    if (isSatisfied()) return;
    for (int uncore : sortAvailableUncoreCaches()) {
      takePartialUncore(uncore);
      if (isSatisfied()) return;
    }
    return;
  }
  const int cpus_in_uncore = topo_.cpusPerUncore();
  for (int uncore : sortAvailableUncoreCaches()) {
    if (needsAtLeast(cpus_in_uncore)) takeFullUncore();
    if (isSatisfied()) return;
    takePartialUncore(uncore);
    if (isSatisfied()) return;
  }
}

void CpuAccumulator::takeRemainingCpus() {
  for (int cpu : sortAvailableCpus()) {
    take(CpuSet{cpu});
    if (isSatisfied()) return;
  }
}

std::pair<int, int> CpuAccumulator::rangeNumaNodesNeeded(int cpu_group_size) const {
  const int num_numa = topo_.numNumaNodes();
  const int num_numa_available = static_cast<int>(availableIds(topo_.cpus(), &KubeletCpuTopology::numaOf).size());
  const int num_cpu_groups = (topo_.numCpus() - 1) / cpu_group_size + 1;
  const int groups_per_numa = (num_cpu_groups - 1) / num_numa + 1;
  const int groups_needed = (needed_ - 1) / cpu_group_size + 1;
  const int min_numas = (groups_needed - 1) / groups_per_numa + 1;
  const int max_numas = std::min(groups_needed, num_numa_available);
  return {min_numas, max_numas};
}

}  // namespace topod::policies::cpu
