#include "topology/zone_summary.h"

#include <algorithm>

#include "common/quantity.h"
#include "common/resource_names.h"

namespace topod::topology {
namespace {

std::string zoneName(int node_id) {
  return "node-" + std::to_string(node_id);
}

int64_t amountOf(const ZoneAmounts& amounts, int node, const std::string& resource) {
  auto by_node = amounts.find(node);
  if (by_node == amounts.end()) return 0;
  auto it = by_node->second.find(resource);
  return it == by_node->second.end() ? 0 : it->second;
}

int64_t toInt64(uint64_t value) {
  // Quantities are int64 in Kubernetes; no machine holds 8 EiB on one node.
  return value > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(value);
}

}  // namespace

std::string zoneQuantity(const std::string& resource, int64_t amount) {
  const bool bytes = resource == kResourceMemory || hasHugepagePrefix(resource);
  if (!bytes || amount <= 0) return std::to_string(amount);
  return formatByteQuantity(static_cast<uint64_t>(amount));
}

std::vector<Zone> summarizeZones(const Topology& topology, const ZoneSummaryOptions& options) {
  std::vector<Zone> zones;
  const auto& nodes = topology.numaNodes();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NumaNode& node = nodes[i];
    Zone zone{.name = zoneName(node.id)};
    for (std::size_t j = 0; j < nodes.size(); ++j) {
      zone.costs.push_back({.name = zoneName(nodes[j].id), .value = topology.distances()[i][j]});
    }
    auto add = [&](const std::string& name, int64_t capacity, int64_t reserved) {
      ZoneResource r{.name = name, .capacity = capacity};
      r.allocatable = std::max<int64_t>(0, capacity - reserved - amountOf(options.reserved, node.id, name));
      r.available = std::max<int64_t>(0, r.allocatable - amountOf(options.used, node.id, name));
      zone.resources.push_back(std::move(r));
    };
    if (!node.cpus.empty()) add("cpu", node.cpus.size(), (options.reserved_cpus & node.cpus).size());
    add("memory", toInt64(node.memory_bytes), 0);
    for (const auto& [size, pages] : node.hugepages) add(hugepageResourceName(size), toInt64(size * pages), 0);
    std::map<std::string, int64_t> devices;
    for (const PciDevice& dev : topology.devices()) {
      auto name = options.device_resources.nameOf(dev);
      if (dev.numa == node.id && name) ++devices[*name];
    }
    for (const auto& [name, count] : devices) add(name, count, 0);
    zones.push_back(std::move(zone));
  }
  return zones;
}

}  // namespace topod::topology
