#include "bench/placement_quality/replay.h"

#include <map>
#include <string>
#include <unordered_map>

namespace topod::bench {

namespace {

policies::ContainerRequest containerOf(const TracePod& pod) {
  policies::ContainerRequest c;
  c.name = "c";
  if (pod.guaranteed) {
    c.cpu_request_millis = c.cpu_limit_millis = int64_t{1000} * pod.cpus;
    c.memory_request_bytes = c.memory_limit_bytes = pod.memory;
  } else {
    c.cpu_request_millis = pod.burstable_millis;
    c.cpu_limit_millis = 2 * pod.burstable_millis;
    c.memory_request_bytes = pod.memory;
    c.memory_limit_bytes = 2 * pod.memory;
  }
  if (pod.gpu_node >= 0) c.devices.push_back({.resource = "nvidia.com/gpu", .id = pod.uid, .numa = pod.gpu_node});
  return c;
}

NodeSet nodesOf(const topology::Topology& topology, const CpuSet& cpus) {
  NodeSet nodes;
  for (int cpu : cpus) nodes.insert(topology.numaOf(cpu));
  return nodes;
}

bool alignedOn(const NodeSet& nodes, int gpu_node) {
  return nodes.size() == 1 && (gpu_node < 0 || nodes.contains(gpu_node));
}

}  // namespace

Counts replayPolicy(const topology::Topology& topology, const policies::Policy& policy,
                    const std::vector<TraceEvent>& trace) {
  Counts counts;
  policies::State state;
  for (const TraceEvent& event : trace) {
    if (!event.add) {
      state = policies::releaseContainer(state, {event.pod.uid, "c"});
      continue;
    }
    policies::ContainerRequest c = containerOf(event.pod);
    policies::PodRequest pod{.uid = event.pod.uid, .namespace_name = "bench", .name = event.pod.uid};
    pod.qos = policies::computeQosClass({c});
    pod.containers = {c};
    ++(event.pod.guaranteed ? counts.guaranteed_offered : counts.burstable_offered);
    auto decision = policy.admit(state, pod, c);
    if (!decision.has_value()) continue;
    state = policies::applyDecision(state, *decision);
    const policies::ContainerAllocation& alloc = decision->allocation;
    if (event.pod.guaranteed) {
      ++counts.guaranteed_admitted;
      NodeSet cpu_nodes = nodesOf(topology, alloc.exclusive_cpus);
      bool memory_local = alloc.memory_nodes.empty() || alloc.memory_nodes == cpu_nodes;
      if (alignedOn(cpu_nodes, event.pod.gpu_node) && memory_local) {
        ++counts.guaranteed_aligned;
        counts.guaranteed_aligned_cpus += event.pod.cpus;
      }
    } else if (alignedOn(alloc.shared_pool_nodes, event.pod.gpu_node)) {
      ++counts.burstable_aligned;
    }
  }
  return counts;
}

namespace {

struct Search {
  const std::vector<TraceEvent>& trace;
  std::vector<int> node_ids;
  std::unordered_map<std::string, int> memo;

  // free[i]: CPUs free on node_ids[i]; where: live pod uid -> node index.
  int best(std::size_t at, std::vector<int>& free, std::map<std::string, int>& where) {
    if (at == trace.size()) return 0;
    std::string key = std::to_string(at);
    for (const auto& [uid, node] : where) key += "|" + uid + ":" + std::to_string(node);
    if (auto it = memo.find(key); it != memo.end()) return it->second;
    const TraceEvent& event = trace[at];
    int result = 0;
    if (!event.add) {
      auto it = where.find(event.pod.uid);
      if (it == where.end()) {
        result = best(at + 1, free, where);
      } else {
        int node = it->second;
        int cpus = 0;
        for (std::size_t i = 0; i < at; ++i) {
          if (trace[i].add && trace[i].pod.uid == event.pod.uid) cpus = trace[i].pod.cpus;
        }
        where.erase(it);
        free[static_cast<std::size_t>(node)] += cpus;
        result = best(at + 1, free, where);
        free[static_cast<std::size_t>(node)] -= cpus;
        where[event.pod.uid] = node;
      }
    } else if (!event.pod.guaranteed) {
      result = best(at + 1, free, where);
    } else {
      result = best(at + 1, free, where);  // left out
      for (std::size_t n = 0; n < node_ids.size(); ++n) {
        if (free[n] < event.pod.cpus) continue;
        if (event.pod.gpu_node >= 0 && node_ids[n] != event.pod.gpu_node) continue;
        free[n] -= event.pod.cpus;
        where[event.pod.uid] = static_cast<int>(n);
        result = std::max(result, 1 + best(at + 1, free, where));
        where.erase(event.pod.uid);
        free[n] += event.pod.cpus;
      }
    }
    memo[key] = result;
    return result;
  }
};

}  // namespace

int optimumAligned(const topology::Topology& topology, const CpuSet& reserved, const std::vector<TraceEvent>& trace) {
  Search search{trace, {}, {}};
  std::vector<int> free;
  for (const topology::NumaNode& node : topology.numaNodes()) {
    search.node_ids.push_back(node.id);
    free.push_back((node.cpus - reserved).size());
  }
  std::map<std::string, int> where;
  return search.best(0, free, where);
}

}  // namespace topod::bench
