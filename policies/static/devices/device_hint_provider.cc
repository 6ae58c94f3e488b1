#include "policies/static/devices/device_hint_provider.h"

#include <algorithm>
#include <map>
#include <string>

#include "policies/static/topology_manager/numa_mask.h"

namespace topod::policies::devices {

using topology_manager::NumaMask;

namespace {

struct ResourceNodes {
  NodeSet known;                 // NUMA nodes of the devices that have one
  bool outside_machine = false;  // some device names a node the machine does not have
};

}  // namespace

DeviceHintProvider::DeviceHintProvider(const topology::Topology& topology) {
  // numaNodes() is ascending, and these are the nodes the topology manager masks range over.
  for (const topology::NumaNode& node : topology.numaNodes()) numa_nodes_.push_back(node.id);
}

ResourceHints DeviceHintProvider::hintsFor(const std::vector<const ContainerRequest*>& containers) const {
  std::map<std::string, ResourceNodes> by_resource;
  for (const ContainerRequest* container : containers) {
    for (const DeviceRequest& device : container->devices) {
      if (device.numa < 0) continue;
      ResourceNodes& entry = by_resource[device.resource];
      if (std::binary_search(numa_nodes_.begin(), numa_nodes_.end(), device.numa)) {
        entry.known.insert(device.numa);
      } else {
        entry.outside_machine = true;
      }
    }
  }
  ResourceHints out;
  for (const auto& [resource, nodes] : by_resource) {
    std::vector<TopologyHint>& hints = out[resource];
    if (nodes.outside_machine) continue;  // no mask holds every device: cannot be aligned
    if (numa_nodes_.size() > topology_manager::kExhaustiveMaskNodes) {
      // Every superset of the devices' nodes is 2^(nodes - devices' nodes) masks: list the
      // preferred one, the devices' nodes themselves, and every node (not preferred), on which
      // the merge falls back when the other resources want other nodes.
      hints.push_back(TopologyHint{nodes.known, true});
      NodeSet all = NodeSet::fromIds(numa_nodes_);
      if (all != nodes.known) hints.push_back(TopologyHint{std::move(all), false});
      continue;
    }
    const NumaMask required = topology_manager::toMask(nodes.known);
    const int narrowest = topology_manager::maskCount(required);
    topology_manager::forEachMask(numa_nodes_, [&](NumaMask mask) {
      if ((mask & required) != required) return;
      hints.push_back(TopologyHint{topology_manager::toNodeSet(mask), topology_manager::maskCount(mask) == narrowest});
    });
  }
  return out;
}

ResourceHints DeviceHintProvider::containerHints(const State&, const PodRequest&,
                                                 const ContainerRequest& container) const {
  return hintsFor({&container});
}

ResourceHints DeviceHintProvider::podHints(const State&, const PodRequest& pod) const {
  std::vector<const ContainerRequest*> containers;
  for (const ContainerRequest& container : pod.containers) containers.push_back(&container);
  return hintsFor(containers);
}

ResourceHints DeviceHintProvider::podHintsWithoutPod(const State& state, const PodRequest& pod) const {
  // The hints come from the request alone, never from the State.
  return podHints(state, pod);
}

Status DeviceHintProvider::allocate(const State&, const PodRequest&, const ContainerRequest&, const TopologyHint&,
                                    ContainerAllocation&) const {
  return {};
}

}  // namespace topod::policies::devices
