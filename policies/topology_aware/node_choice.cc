#include "policies/topology_aware/node_choice.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <tuple>

namespace topod::policies::topology_aware {

namespace {

// Up to this many CPU nodes every subset is scored (2^12 small sums); beyond it candidate sets
// grow greedily from each node by distance, which is what the exhaustive order prefers anyway.
constexpr std::size_t kMaxEnumeratedNodes = 12;
// Single-node candidates listed in an explanation; more would not fit a pod event.
constexpr std::size_t kMaxExplainedNodes = 8;

std::string nodeList(const NodeSet& nodes) {
  return nodes.size() == 1 ? std::to_string(nodes.first()) : "{" + nodes.toString() + "}";
}

}  // namespace

int distanceSum(const topology::Topology& topology, const NodeSet& nodes) {
  int sum = 0;
  for (int a : nodes) {
    for (int b : nodes) {
      if (a < b) sum += topology.distance(a, b);
    }
  }
  return sum;
}

std::vector<NodeSet> candidateSets(const topology::Topology& topology, const NodeSet& cpu_nodes,
                                   const NodeSet& required) {
  std::vector<int> ids = cpu_nodes.toVector();
  std::vector<NodeSet> sets;
  if (ids.size() <= kMaxEnumeratedNodes) {
    for (unsigned mask = 1; mask < (1U << ids.size()); ++mask) {
      NodeSet set;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if ((mask & (1U << i)) != 0) set.insert(ids[i]);
      }
      if (required.isSubsetOf(set)) sets.push_back(set);
    }
    return sets;
  }
  for (int seed : ids) {
    NodeSet set = required;
    set.insert(seed);
    sets.push_back(set);
    for (int next : orderByDistance(topology, seed, cpu_nodes)) {
      if (set.contains(next)) continue;
      set.insert(next);
      sets.push_back(set);
    }
  }
  return sets;
}

namespace {

// Calls `visit(set, distance sum)` for each candidate set that holds `required`: the ones
// computed once for the pools when that is all of them (read in place: on 64 nodes there are
// thousands), else computed here.
template <typename Visit>
void forEachCandidate(const topology::Topology& topology, const Pools& pools, const NodeSet& required, Visit&& visit) {
  if (!pools.candidates.empty() &&
      (required.empty() || static_cast<std::size_t>(pools.cpu_nodes.size()) <= kMaxEnumeratedNodes)) {
    // Enumerated sets do not depend on `required` beyond containing it, so filtering keeps order.
    for (const auto& [set, distance] : pools.candidates) {
      if (required.isSubsetOf(set)) visit(set, distance);
    }
    return;
  }
  for (const NodeSet& set : candidateSets(topology, pools.cpu_nodes, required)) visit(set, distanceSum(topology, set));
}

// Free CPUs and free memory of the resources asked for, per node id, looked up once per decision
// rather than once per candidate set.
struct NodeRoom {
  std::vector<int> cpus;                      // by node id
  std::vector<std::vector<uint64_t>> memory;  // by resource of the ask, then node id
  std::vector<uint64_t> needed;               // bytes asked, by resource of the ask

  NodeRoom(const Pools& pools, const Usage& usage, const ExclusiveAsk& ask) {
    const std::size_t ids = static_cast<std::size_t>(pools.cpu_nodes.last() + 1);
    cpus.assign(ids, 0);
    for (const auto& [node, free] : ask.free) {
      if (node >= 0 && static_cast<std::size_t>(node) < ids) cpus[static_cast<std::size_t>(node)] = free.size();
    }
    for (const auto& [resource, bytes] : ask.memory) {
      if (bytes == 0) continue;
      needed.push_back(bytes);
      std::vector<uint64_t>& free = memory.emplace_back(ids, 0);
      for (int node : pools.cpu_nodes) free[static_cast<std::size_t>(node)] = freeMemory(pools, usage, node, resource);
    }
  }

  int freeCpus(const NodeSet& nodes) const {
    int free = 0;
    for (int node : nodes) free += cpus[static_cast<std::size_t>(node)];
    return free;
  }
  // memoryFits() over the per-node figures.
  bool memoryFits(const NodeSet& nodes) const {
    for (std::size_t r = 0; r < needed.size(); ++r) {
      uint64_t free = 0;
      for (int node : nodes) {
        uint64_t f = memory[r][static_cast<std::size_t>(node)];
        if (f == std::numeric_limits<uint64_t>::max()) {
          free = f;
          break;
        }
        free += f;
      }
      if (free < needed[r]) return false;
    }
    return true;
  }
};

}  // namespace

std::vector<int> orderByDistance(const topology::Topology& topology, int primary, const NodeSet& nodes) {
  // Each node's distance looked up once (a lookup scans the node list: on 64 nodes the sort's
  // comparisons made this most of a decision). The node id ends the key, so the order is total.
  std::vector<std::tuple<bool, int, int>> keyed;
  keyed.reserve(static_cast<std::size_t>(nodes.size()));
  for (int node : nodes) keyed.emplace_back(node != primary, topology.distance(primary, node), node);
  std::sort(keyed.begin(), keyed.end());
  std::vector<int> order;
  order.reserve(keyed.size());
  for (const auto& [other, distance, node] : keyed) order.push_back(node);
  return order;
}

int narrowestPossible(const topology::Topology& topology, const Pools& pools, const CpuSet& universe, int cpus,
                      const NodeSet& device_nodes) {
  // NUMA nodes' CPUs are disjoint: a set's count is the sum of its nodes' counts, taken once here
  // rather than a CPU set built per candidate (O(nodes^2) candidates beyond 12 nodes).
  std::map<int, int> in_universe;
  for (int node : pools.cpu_nodes) in_universe[node] = (universe & topology.cpusOfNuma(node)).size();
  int narrowest = 0;
  auto consider = [&](const NodeSet& set) {
    if (narrowest != 0 && set.size() >= narrowest) return;
    int count = 0;
    for (int node : set) count += in_universe[node];
    if (count >= cpus) narrowest = set.size();
  };
  const NodeSet required = device_nodes & pools.cpu_nodes;
  if (!pools.candidates.empty() &&
      (required.empty() || static_cast<std::size_t>(pools.cpu_nodes.size()) <= kMaxEnumeratedNodes)) {
    forEachCandidate(topology, pools, required, [&](const NodeSet& set, int) { consider(set); });
    return narrowest;
  }
  // Beyond the enumerated sets with devices: the sets alone, without forEachCandidate's distances.
  for (const NodeSet& set : candidateSets(topology, pools.cpu_nodes, required)) consider(set);
  return narrowest;
}

Result<NodeChoice> chooseExclusiveNodes(const topology::Topology& topology, const Pools& pools, const Usage& usage,
                                        const ExclusiveAsk& ask) {
  NodeSet required = ask.device_nodes & pools.cpu_nodes;
  auto freeOf = [&](int node) {
    auto it = ask.free.find(node);
    return it == ask.free.end() ? 0 : it->second.size();
  };
  // Score: fewer nodes, closer nodes, least CPUs left over (best fit), the request fits one L3
  // group, no shared pool with pinned containers emptied, lowest ids.
  using Key = std::tuple<int, int, int, bool, bool>;
  std::optional<std::pair<Key, NodeSet>> best;
  const NodeRoom room(pools, usage, ask);
  forEachCandidate(topology, pools, required, [&](const NodeSet& set, int distance) {
    if (best.has_value() && set.size() > std::get<0>(best->first)) return;
    if (ask.max_nodes > 0 && set.size() > ask.max_nodes) return;
    int free = room.freeCpus(set);
    if (free < ask.cpus || !room.memoryFits(set)) return;
    if (best.has_value() &&
        std::make_tuple(std::get<0>(best->first), std::get<1>(best->first), std::get<2>(best->first)) <
            std::make_tuple(set.size(), distance, free - ask.cpus)) {
      return;  // loses on the first criteria already: the L3 and shared-pool checks cannot help it
    }
    bool l3_fit = false;
    bool empties_pinned = false;
    if (set.size() == 1) {
      int node = set.first();
      auto it = ask.free.find(node);
      for (const topology::L3Group& group : topology.l3Groups()) {
        if (it != ask.free.end() && (it->second & group.cpus).size() >= ask.cpus) l3_fit = true;
      }
      CpuSet shared = (pools.shared_universe & topology.cpusOfNuma(node)) - usage.exclusive;
      int taken_from_shared = it == ask.free.end() ? 0 : std::min(ask.cpus, (it->second & shared).size());
      empties_pinned = usage.nodes.at(node).pinned_shared > 0 && shared.size() - taken_from_shared <= 0;
    }
    Key key{set.size(), distance, free - ask.cpus, !l3_fit, empties_pinned};
    // Lowest ids last: NodeSet orders as its ascending id list.
    if (!best.has_value() || key < best->first || (key == best->first && set < best->second)) {
      best = std::make_pair(key, set);
    }
  });

  std::string considered;
  std::size_t listed = 0;
  for (int node : pools.cpu_nodes) {
    if (listed++ == kMaxExplainedNodes) {
      considered += ", ...";
      break;
    }
    if (!considered.empty()) considered += ", ";
    int free = freeOf(node);
    considered += "node " + std::to_string(node) + " " + std::to_string(free) + " free";
    if (free < ask.cpus) {
      considered += " (too few)";
    } else if (!memoryFits(pools, usage, NodeSet{node}, ask.memory)) {
      considered += " (memory short)";
    } else if (!required.isSubsetOf(NodeSet{node})) {
      considered += " (devices elsewhere)";
    } else {
      considered += " (fits, " + std::to_string(free - ask.cpus) + " left)";
    }
  }
  std::string device_note = required.empty() ? "" : "; devices on node " + nodeList(required);
  if (!best.has_value()) {
    std::string limit = ask.max_nodes > 0 ? " on at most " + std::to_string(ask.max_nodes) +
                                                " NUMA node(s) (topology manager policy " + ask.max_nodes_rule + ")"
                                          : "";
    return Error::resourceExhausted("no NUMA node set holds " + std::to_string(ask.cpus) +
                                    " exclusive CPUs and the memory asked for" + limit + device_note +
                                    "; candidates: " + considered);
  }
  NodeChoice choice;
  choice.nodes = best->second;
  // Primary node: the one with the most CPUs to give, so a spill stays small.
  int primary = choice.nodes.first();
  for (int node : choice.nodes) {
    if (freeOf(node) > freeOf(primary)) primary = node;
  }
  choice.order = orderByDistance(topology, primary, choice.nodes);
  std::string why;
  if (choice.nodes.size() > 1) {
    why = "no single node fits; closest set of " + std::to_string(choice.nodes.size()) + " nodes";
  } else if (!required.empty()) {
    why = "device locality";
  } else {
    why = "best fit (" + std::to_string(std::get<2>(best->first)) + " CPUs left over)";
  }
  choice.explanation =
      "candidates: " + considered + device_note + "; chose NUMA " + nodeList(choice.nodes) + ": " + why;
  return choice;
}

NodeChoice chooseSharedNodes(const topology::Topology& topology, const Pools& pools, const Usage& usage,
                             const SharedAsk& ask) {
  NodeSet required = ask.device_nodes & pools.cpu_nodes;
  auto sharedOf = [&](int node) {
    auto it = ask.shared.find(node);
    return it == ask.shared.end() ? 0 : it->second.size();
  };
  NodeChoice choice;
  if (!required.empty()) {
    // Devices decide; widen by distance only when their node(s) cannot hold the memory.
    NodeSet set = required;
    for (int next : orderByDistance(topology, required.first(), pools.cpu_nodes)) {
      if (memoryFits(pools, usage, set, ask.memory)) break;
      set.insert(next);
    }
    if (memoryFits(pools, usage, set, ask.memory)) {
      choice.nodes = set;
      choice.order = orderByDistance(topology, required.first(), set);
      choice.explanation = "shared pool of NUMA " + nodeList(set) + ": devices on node " + nodeList(required);
      return choice;
    }
  } else {
    // Least crowded pool: (pinned CPU requests + this one) / pool CPUs, compared as fractions.
    std::optional<int> best;
    auto lessCrowded = [&](int a, int b) {
      int64_t pa = sharedOf(a);
      int64_t pb = sharedOf(b);
      if ((pa == 0) != (pb == 0)) return pa != 0;
      int64_t la = usage.nodes.at(a).pinned_millis + ask.cpu_millis + 1;
      int64_t lb = usage.nodes.at(b).pinned_millis + ask.cpu_millis + 1;
      if (la * pb != lb * pa) return la * pb < lb * pa;
      uint64_t ma = freeMemory(pools, usage, a, kResourceMemory);
      uint64_t mb = freeMemory(pools, usage, b, kResourceMemory);
      if (ma != mb) return ma > mb;
      return a < b;
    };
    for (int node : pools.cpu_nodes) {
      if (!memoryFits(pools, usage, NodeSet{node}, ask.memory)) continue;
      if (!best.has_value() || lessCrowded(node, *best)) best = node;
    }
    if (best.has_value()) {
      choice.nodes = NodeSet{*best};
      choice.order = {*best};
      choice.explanation = "shared pool of NUMA " + std::to_string(*best) + ": least crowded pool (" +
                           std::to_string(sharedOf(*best)) + " CPUs) holding the memory";
      return choice;
    }
    // No single node holds the memory: the closest set that does, grown from the emptiest node.
    int seed = pools.cpu_nodes.first();
    for (int node : pools.cpu_nodes) {
      if (freeMemory(pools, usage, node, kResourceMemory) > freeMemory(pools, usage, seed, kResourceMemory))
        seed = node;
    }
    NodeSet set;
    for (int next : orderByDistance(topology, seed, pools.cpu_nodes)) {
      set.insert(next);
      if (memoryFits(pools, usage, set, ask.memory)) {
        choice.nodes = set;
        choice.order = orderByDistance(topology, seed, set);
        choice.explanation = "shared pools of NUMA " + nodeList(set) + ": no single node holds the memory";
        return choice;
      }
    }
  }
  choice.explanation = "node-wide shared pool: no NUMA node set holds the memory asked for, not charged per node";
  return choice;
}

}  // namespace topod::policies::topology_aware
