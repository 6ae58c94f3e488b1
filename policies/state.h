// The allocation state policies decide over: who holds which CPUs and how much memory on which
// NUMA node. The invariant checker and the versioned JSON form live beside it (state_check.h,
// state_json.h). Policies read a State and return a decision; the agent applies the decision and
// only then commits the new State.
//
// The containers are reachable read-only; every change goes through put() and erase(), which keep
// StateTotals current. Policies decide from the totals, so a decision costs O(NUMA nodes + the
// pod's containers) instead of O(every container on the node) (issue 4's latency target with
// thousands of containers). put() and erase() cost O(the pod's containers): a pod's memory is
// counted per pod, because app containers reuse the memory of their pod's init containers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/cpuset.h"
#include "policies/request.h"

namespace topod::policies {

// NUMA node -> resource ("memory", "hugepages-2Mi", ...) -> bytes.
using NumaMemory = std::map<int, std::map<std::string, uint64_t>>;

struct ContainerAllocation {
  // Exclusive CPUs; empty means the container runs in a shared pool.
  CpuSet exclusive_cpus;
  // For shared containers of policies with several shared pools (topology-aware), the NUMA
  // nodes whose shared pool the container runs in; empty for the one node-wide shared pool.
  NodeSet shared_pool_nodes;
  // NUMA nodes for cpuset.mems; empty means all nodes.
  NodeSet memory_nodes;
  // NUMA node -> resource -> bytes charged there: the container's whole request, also where it
  // reuses memory of its pod's init containers (podMemoryShare() counts the pod once).
  NumaMemory memory;
  // Regular init containers only: what the pod's other containers on the same memory_nodes held
  // when this one was admitted (sidecars started before it). They keep running while it runs, so
  // that memory is not reusable for it; the kubelet learns the same from its allocation order.
  NumaMemory memory_beside;
  // The request the allocation was made for (resize compares against it; restore replays it).
  ContainerRequest request;
  QosClass qos = QosClass::BestEffort;
  friend bool operator==(const ContainerAllocation&, const ContainerAllocation&) = default;
};

// Whether the Static memory manager owns this allocation's memory: a Guaranteed container with
// per-NUMA charges (its memory_nodes are then a memory group, see policies/memory).
bool isMemoryPinned(const ContainerAllocation& allocation);

// Shared containers pinned to the shared pool of one NUMA node (ContainerAllocation::
// shared_pool_nodes): how many, and their CPU requests split evenly over their pool's nodes.
struct SharedPoolLoad {
  int containers = 0;
  int64_t cpu_request_millis = 0;
  friend bool operator==(const SharedPoolLoad&, const SharedPoolLoad&) = default;
};

// The memory one pod holds, init-container reuse counted as the kubelet's Static memory manager
// counts it. Per memory group (containers with equal memory_nodes) and per node and resource:
// the larger of
//   - the sum over its sidecar and app containers (they run together), and
//   - for each regular init container, its charge plus its memory_beside (init containers run one
//     at a time, beside the sidecars started before them);
// the pod holds the sum over its groups. A container never shares with another group or pod.
// For one-node groups this equals the kubelet's machine state after allocating the pod's
// containers in order; on a multi-node group it is counted node by node, which can only keep
// more charged than the kubelet's per-group total.
struct PodMemoryShare {
  NumaMemory memory;  // every container of the pod (what the invariant checker allows)
  NumaMemory pinned;  // its memory-pinned containers (isMemoryPinned) only (StateTotals)
  // Node -> memory group (memory_nodes plus charged nodes) -> pinned containers using the node in it.
  std::map<int, std::map<NodeSet, int>> groups;
  friend bool operator==(const PodMemoryShare&, const PodMemoryShare&) = default;
};

// The share of the pod whose containers are `allocations` (all of one pod; none may be null).
PodMemoryShare podMemoryShare(const std::vector<const ContainerAllocation*>& allocations);

// Sums over every container of a State, kept current by State::put()/erase().
struct StateTotals {
  // Union of every container's exclusive CPUs. Init containers may share CPUs with the app
  // containers of their pod: a CPU held by several containers has the holders beyond the first
  // in extra_holders, which stays empty otherwise (cheap to copy for pod-scope hints).
  CpuSet exclusive_cpus;
  std::map<int, int> extra_holders;
  // Memory charged per NUMA node and resource: by every container, summed as topology-aware
  // charges it (its init containers are not charged); and held by memory-pinned containers,
  // each pod counted as podMemoryShare() says (the Static memory manager's init reuse).
  NumaMemory memory;
  NumaMemory pinned_memory;
  // Node -> memory group -> pinned containers using the node in that group (the Static memory
  // manager's rule: a node is used alone or always with the same group).
  std::map<int, std::map<NodeSet, int>> pinned_groups;
  // NUMA node -> load of its shared pool.
  std::map<int, SharedPoolLoad> shared_pools;
  friend bool operator==(const StateTotals&, const StateTotals&) = default;

  // Adds (sign +1) or removes (sign -1) one container's exclusive CPUs, shared-pool load and
  // memory charges. Entries that drop to zero are erased, so totals built in any order compare
  // equal.
  void account(const ContainerAllocation& allocation, int sign);
  // Adds or removes one pod's share of pinned memory and memory groups.
  void accountPod(const PodMemoryShare& share, int sign);
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
  // holds anything). Costs O(the pod's containers) plus a copy of the totals (O(NUMA nodes) and
  // the CPUs held twice), not a copy of the State.
  StateTotals totalsWithoutPod(const std::string& pod_uid) const;
  // The union of exclusive CPUs once the pod's containers are gone: CPUs held only by them
  // drop out. O(the pod's containers).
  CpuSet exclusiveCpusWithoutPod(const std::string& pod_uid) const;
  // The totals without one container (resize re-plans a container against everything else).
  StateTotals totalsWithout(const ContainerKey& key) const;
  // The memory share of the pod's containers in this State, leaving out `skip` when non-null.
  PodMemoryShare podShare(const std::string& pod_uid, const ContainerKey* skip = nullptr) const;

  // Two States are equal when they hold the same allocations (the totals follow from them).
  friend bool operator==(const State& a, const State& b) { return a.containers_ == b.containers_; }

 private:
  Containers containers_;
  StateTotals totals_;
};

}  // namespace topod::policies
