// The allocation state policies decide over: who holds which CPUs and how much memory on which
// NUMA node. The invariant checker and the versioned JSON form live beside it (state_check.h,
// state_json.h). Policies read a State and return a decision; the agent applies the decision and
// only then commits the new State.
//
// The containers are reachable read-only; every change goes through put() and erase(), which keep
// StateTotals current. Policies decide from the totals, so a decision costs O(NUMA nodes + the
// pod's containers) instead of O(every container on the node) (issue 4's latency target with
// thousands of containers).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/cpuset.h"
#include "policies/request.h"

namespace topod::policies {

struct ContainerAllocation {
  // Exclusive CPUs; empty means the container runs in a shared pool.
  CpuSet exclusive_cpus;
  // For shared containers of policies with several shared pools (topology-aware), the NUMA
  // nodes whose shared pool the container runs in; empty for the one node-wide shared pool.
  NodeSet shared_pool_nodes;
  // NUMA nodes for cpuset.mems; empty means all nodes.
  NodeSet memory_nodes;
  // NUMA node -> resource ("memory", "hugepages-2Mi", ...) -> bytes charged there.
  std::map<int, std::map<std::string, uint64_t>> memory;
  // The request the allocation was made for (resize compares against it; restore replays it).
  ContainerRequest request;
  QosClass qos = QosClass::BestEffort;
  friend bool operator==(const ContainerAllocation&, const ContainerAllocation&) = default;
};

// Shared containers pinned to the shared pool of one NUMA node (ContainerAllocation::
// shared_pool_nodes): how many, and their CPU requests split evenly over their pool's nodes.
struct SharedPoolLoad {
  int containers = 0;
  int64_t cpu_request_millis = 0;
  friend bool operator==(const SharedPoolLoad&, const SharedPoolLoad&) = default;
};

// Sums over every container of a State, kept current by State::put()/erase().
struct StateTotals {
  // Union of every container's exclusive CPUs. Init containers may share CPUs with the app
  // containers of their pod, hence a holder count per CPU rather than a plain set.
  CpuSet exclusive_cpus;
  std::map<int, int> exclusive_holders;  // CPU -> containers holding it
  // NUMA node -> resource -> bytes charged there, by every container.
  std::map<int, std::map<std::string, uint64_t>> memory;
  // NUMA node -> load of its shared pool.
  std::map<int, SharedPoolLoad> shared_pools;
  friend bool operator==(const StateTotals&, const StateTotals&) = default;

  // Adds (sign +1) or removes (sign -1) one container's share. Entries that drop to zero are
  // erased, so totals built in any order compare equal.
  void account(const ContainerAllocation& allocation, int sign);
};

class State {
 public:
  using Containers = std::map<ContainerKey, ContainerAllocation>;

  State() = default;
  // A State holding these allocations (tests and restores build States this way).
  State(Containers containers);  // NOLINT(google-explicit-constructor): a State is its containers

  const Containers& containers() const { return containers_; }
  const StateTotals& totals() const { return totals_; }
  bool contains(const ContainerKey& key) const { return containers_.contains(key); }
  // nullptr when the container holds nothing.
  const ContainerAllocation* find(const ContainerKey& key) const;
  std::size_t size() const { return containers_.size(); }
  bool empty() const { return containers_.empty(); }

  // Records (or replaces) the container's allocation.
  void put(const ContainerKey& key, ContainerAllocation allocation);
  // Removes the container; false when it held nothing.
  bool erase(const ContainerKey& key);

  // The containers of one pod, in name order: a range [first, last) of containers().
  std::pair<Containers::const_iterator, Containers::const_iterator> podContainers(const std::string& pod_uid) const;
  // The totals without the given pod's containers (pod-scope hints are computed before the pod
  // holds anything). Costs O(the pod's containers), not a copy of the State.
  StateTotals totalsWithoutPod(const std::string& pod_uid) const;

  // Two States are equal when they hold the same allocations (the totals follow from them).
  friend bool operator==(const State& a, const State& b) { return a.containers_ == b.containers_; }

 private:
  Containers containers_;
  StateTotals totals_;
};

}  // namespace topod::policies
