#include "policies/state_check.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <utility>

#include "common/text.h"

namespace topod::policies {

std::string describeKey(const ContainerKey& key) {
  return escapeForDisplay(key.pod_uid + "/" + key.container_name);
}

Status checkReservedNotExclusive(const ContainerKey& key, const ContainerAllocation& allocation,
                                 const CpuSet& reserved) {
  if (!allocation.exclusive_cpus.intersects(reserved)) return okStatus();
  return Error::failedPrecondition(describeKey(key) + ": exclusive CPUs " +
                                   (allocation.exclusive_cpus & reserved).toString() +
                                   " are reserved (reserved: " + reserved.toString() + ")");
}

Result<uint64_t> memoryCapacity(const topology::NumaNode& node, const std::string& resource) {
  if (resource == kResourceMemory) return node.memory_bytes;
  for (const auto& [page_size, pages] : node.hugepages) {
    if (hugepageResourceName(page_size) == resource) return page_size * pages;
  }
  // A well-formed huge page resource this node simply has no pages of.
  if (hasHugepagePrefix(resource)) return uint64_t{0};
  return Error::invalidArgument("unknown memory resource \"" + resource + "\" (known: memory, hugepages-<size>)");
}

namespace {

class Checker {
 public:
  Checker(const topology::Topology& topology, const PolicyOptions& options, const State& state,
          const StateCheckOptions& check)
      : topology_(topology), options_(options), state_(state), check_(check) {
    // The CPUs the policy resolved (a count names no CPUs by itself), else the configured list.
    reserved_ = !check.resolved_reserved_cpus.empty()                              ? check.resolved_reserved_cpus
                : check.policy != nullptr && !check.policy->reservedCpus().empty() ? check.policy->reservedCpus()
                                                                                   : options.reserved_cpus;
  }

  std::vector<std::string> run() {
    for (const auto& [key, allocation] : state_.containers()) checkContainer(key, allocation);
    checkExclusiveOverlap();
    checkReservedCount();
    checkMemoryCapacity();
    if (check_.policy != nullptr) checkSharedPool();
    return std::move(violations_);
  }

 private:
  void add(std::string message) { violations_.push_back(std::move(message)); }

  void checkNodes(const ContainerKey& key, const NodeSet& nodes, std::string_view field) {
    NodeSet unknown = nodes - topology_.numaNodeIds();
    if (!unknown.empty()) {
      add(describeKey(key) + ": " + std::string(field) + " names NUMA nodes " + unknown.toString() +
          ", which do not exist (nodes: " + topology_.numaNodeIds().toString() + ")");
    }
  }

  void checkContainer(const ContainerKey& key, const ContainerAllocation& allocation) {
    if (key.pod_uid.empty() || key.container_name.empty()) {
      add("container key \"" + describeKey(key) + "\" has an empty pod UID or container name");
    }
    const CpuSet& cpus = allocation.exclusive_cpus;
    CpuSet offline = cpus - topology_.onlineCpus();
    if (!offline.empty()) {
      add(describeKey(key) + ": exclusive CPUs " + offline.toString() +
          " are not online (online: " + topology_.onlineCpus().toString() + ")");
    }
    if (!check_.allow_exclusive_on_reserved) {
      Status reserved = checkReservedNotExclusive(key, allocation, reserved_);
      if (!reserved.has_value()) add(reserved.error().message());
    }
    if (!cpus.empty() && !allocation.shared_pool_nodes.empty()) {
      add(describeKey(key) + ": holds exclusive CPUs " + cpus.toString() + " and is also in the shared pool of nodes " +
          allocation.shared_pool_nodes.toString());
    }
    checkNodes(key, allocation.shared_pool_nodes, "shared_pool_nodes");
    checkNodes(key, allocation.memory_nodes, "memory_nodes");

    NodeSet charged;
    for (const auto& [node, resources] : allocation.memory) {
      const topology::NumaNode* numa = topology_.numaNode(node);
      if (numa == nullptr) {
        add(describeKey(key) + ": memory charged on NUMA node " + std::to_string(node) + ", which does not exist");
        continue;
      }
      for (const auto& [resource, bytes] : resources) {
        auto capacity = memoryCapacity(*numa, resource);
        if (!capacity.has_value())
          add(describeKey(key) + ": NUMA node " + std::to_string(node) + ": " + capacity.error().message());
        if (bytes > 0) charged.insert(node);
      }
    }
    if (!allocation.memory_beside.empty()) {
      NodeSet beside;
      for (const auto& [node, resources] : allocation.memory_beside) {
        const topology::NumaNode* numa = topology_.numaNode(node);
        for (const auto& [resource, bytes] : resources) {
          if (numa != nullptr && !memoryCapacity(*numa, resource).has_value()) {
            add(describeKey(key) + ": memory_beside names unknown resource \"" + resource + "\"");
          }
          if (bytes > 0) beside.insert(node);
        }
      }
      // Only a regular init container runs beside others of its pod and lets them reuse its memory.
      if (allocation.request.kind != ContainerKind::Init) {
        add(describeKey(key) + ": memory_beside is recorded for a container that is not a regular init container");
      }
      if (!beside.isSubsetOf(allocation.memory_nodes)) {
        add(describeKey(key) + ": memory_beside on NUMA nodes " + beside.toString() + " outside its memory_nodes \"" +
            allocation.memory_nodes.toString() + "\"");
      }
    }
    if (!charged.empty() && !charged.isSubsetOf(allocation.memory_nodes)) {
      add(describeKey(key) + ": memory charged on NUMA nodes " + charged.toString() + " but memory_nodes is \"" +
          allocation.memory_nodes.toString() + "\"" + (allocation.memory_nodes.empty() ? " (all nodes)" : ""));
    }
  }

  // A CPU may be held by two containers only when both are in the same pod and one of them is an
  // init container whose CPUs the other reuses (kubelet cpumanager: cpusToReuse).
  static bool mayShare(const ContainerKey& a_key, const ContainerAllocation& a, const ContainerKey& b_key,
                       const ContainerAllocation& b) {
    return a_key.pod_uid == b_key.pod_uid &&
           (a.request.kind == ContainerKind::Init || b.request.kind == ContainerKind::Init);
  }

  void checkExclusiveOverlap() {
    // Each container is compared with the earlier holders of its CPUs only: linear in CPUs.
    std::map<int, std::vector<const std::pair<const ContainerKey, ContainerAllocation>*>> holders;
    std::set<std::pair<ContainerKey, ContainerKey>> reported;
    for (const auto& entry : state_.containers()) {
      for (int cpu : entry.second.exclusive_cpus) {
        auto& list = holders[cpu];
        for (const auto* other : list) {
          if (mayShare(other->first, other->second, entry.first, entry.second)) continue;
          if (!reported.insert({other->first, entry.first}).second) continue;
          CpuSet both = other->second.exclusive_cpus & entry.second.exclusive_cpus;
          add("exclusive CPUs " + both.toString() + " are held by both " + describeKey(other->first) + " and " +
              describeKey(entry.first));
        }
        list.push_back(&entry);
      }
    }
  }

  CpuSet exclusiveUnion() const {
    CpuSet all;
    for (const auto& [key, allocation] : state_.containers()) all |= allocation.exclusive_cpus;
    return all;
  }

  void checkReservedCount() {
    if (!reserved_.empty() || options_.reserved_cpu_count <= 0) return;
    int left = (topology_.onlineCpus() - exclusiveUnion()).size();
    if (left < options_.reserved_cpu_count) {
      add("exclusive CPUs leave " + std::to_string(left) + " CPUs outside exclusive use, fewer than the " +
          std::to_string(options_.reserved_cpu_count) + " reserved CPUs");
    }
  }

  void checkMemoryCapacity() {
    // What each pod holds, init-container reuse counted exactly as the Static memory manager
    // allows it (podMemoryShare): a regular init container's memory is taken over only by later
    // containers of its own pod on the same memory_nodes; sidecars and apps add up.
    std::map<int, std::map<std::string, uint64_t>> used;
    const State::Containers& containers = state_.containers();
    for (auto it = containers.begin(); it != containers.end();) {
      std::vector<const ContainerAllocation*> pod;
      const std::string& uid = it->first.pod_uid;
      for (; it != containers.end() && it->first.pod_uid == uid; ++it) pod.push_back(&it->second);
      for (const auto& [node, resources] : podMemoryShare(pod).memory) {
        for (const auto& [resource, bytes] : resources) used[node][resource] += bytes;
      }
    }
    for (const auto& [node, resources] : used) {
      const topology::NumaNode* numa = topology_.numaNode(node);
      if (numa == nullptr) continue;  // reported per container
      for (const auto& [resource, bytes] : resources) {
        auto capacity = memoryCapacity(*numa, resource);
        if (!capacity.has_value()) continue;  // reported per container
        uint64_t reserved = 0;
        if (auto n = options_.reserved_memory.find(node); n != options_.reserved_memory.end()) {
          if (auto r = n->second.find(resource); r != n->second.end()) reserved = r->second;
        }
        uint64_t allocatable = *capacity > reserved ? *capacity - reserved : 0;
        if (bytes > allocatable) {
          add("NUMA node " + std::to_string(node) + ": " + resource + " charged " + std::to_string(bytes) +
              " bytes, over the allocatable " + std::to_string(allocatable) + " (capacity " +
              std::to_string(*capacity) + " minus reserved " + std::to_string(reserved) + ")");
        }
      }
    }
  }

  void checkSharedPool() {
    CpuSet shared = check_.policy->sharedCpus(state_);
    CpuSet exclusive = exclusiveUnion();
    const std::string policy = std::string(check_.policy->name());
    if (shared.intersects(exclusive)) {
      add(policy + ": shared pool contains exclusive CPUs " + (shared & exclusive).toString());
    }
    CpuSet offline = shared - topology_.onlineCpus();
    if (!offline.empty()) add(policy + ": shared pool contains CPUs " + offline.toString() + ", which are not online");
    bool strict = options_.cpu.strict_cpu_reservation;
    CpuSet may_be_left_out = topology_.isolatedCpus() | (strict ? reserved_ : CpuSet{});
    CpuSet missing = topology_.onlineCpus() - exclusive - shared - may_be_left_out;
    if (!missing.empty()) {
      add(policy + ": CPUs " + missing.toString() + " are neither exclusive nor in the shared pool");
    }
    if (strict && shared.intersects(reserved_)) {
      add(policy + ": strict-cpu-reservation, yet reserved CPUs " + (shared & reserved_).toString() +
          " are in the shared pool");
    }
  }

  const topology::Topology& topology_;
  const PolicyOptions& options_;
  const State& state_;
  const StateCheckOptions& check_;
  CpuSet reserved_;
  std::vector<std::string> violations_;
};

}  // namespace

std::vector<std::string> checkState(const topology::Topology& topology, const PolicyOptions& options,
                                    const State& state, const StateCheckOptions& check) {
  return Checker(topology, options, state, check).run();
}

Status validateRestoredState(const topology::Topology& topology, const PolicyOptions& options, const State& state,
                             const std::string& source, const StateCheckOptions& check) {
  std::vector<std::string> violations = checkState(topology, options, state, check);
  if (violations.empty()) return okStatus();
  std::string message = source + ": state does not fit this machine and configuration (" +
                        std::to_string(violations.size()) + " problem" + (violations.size() == 1 ? "" : "s") + "):";
  for (const std::string& violation : violations) message += "\n  " + violation;
  return Error::failedPrecondition(std::move(message));
}

}  // namespace topod::policies
