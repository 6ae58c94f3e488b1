// Topology hints for the devices a container was given (GPUs, NICs, accelerators): the part of
// the kubelet's device manager (devicemanager/topology_hints.go) that the topology manager
// consults, as a pure hint provider named "devices".
//
// Where topod differs from the kubelet, and why: the kubelet computes device hints *before* the
// device plugin picks devices, from every free device. topod sees a container when its devices are
// already chosen (NRI CreateContainer carries them, and the kubelet runs with its own topology
// manager off), so every request is the kubelet's "devices already allocated" case
// (regenerating hints for a restarted container): a NUMA mask is a hint when it holds every given
// device's node, and preferred when it is as narrow as the union of those nodes. Aligning the
// CPUs and memory with those nodes is all that is left to do; preferring a narrower mask than the
// devices span would only refuse a container whose devices cannot change any more.
//
// Consequences a node migrating from the kubelet sees:
//  - The device is fixed before the CPUs are chosen. Under single-numa-node a Guaranteed pod
//    whose GPU's node has no free CPUs is refused (and the kubelet retries the creation), where
//    the kubelet would have picked a GPU on another node.
//  - Locality comes from the machine's topology (hwloc), not from the device plugin: devices of
//    a plugin that reports no topology, which the kubelet ignores, are hinted here too.
//
// Devices whose NUMA node is unknown (-1) constrain nothing; a resource whose devices all lack a
// node gets no hints (no preference), as in the kubelet. (The kubelet's regenerate path cannot
// place a resource that mixes known and unknown devices at all; here the unknown ones are just
// ignored.) A node the machine does not have leaves the resource with an empty hint list (it
// cannot be aligned). Pod scope takes, per resource, the union over the pod's containers that
// the request lists (the agent knows one container at a time, so there it is that container's).
// allocate() writes nothing: the device plugin allocated.
//
// Beyond topology_manager::kExhaustiveMaskNodes NUMA nodes the supersets of the devices' nodes
// are not listed one by one (there are 2^(nodes - their nodes)): the hints are the devices' nodes
// (preferred) and every node (not preferred), the same preferred answer.
#pragma once

#include <string_view>
#include <vector>

#include "policies/static/topology_hint.h"
#include "topology/model.h"

namespace topod::policies::devices {

class DeviceHintProvider : public HintProvider {
 public:
  explicit DeviceHintProvider(const topology::Topology& topology);

  std::string_view name() const override { return "devices"; }
  ResourceHints containerHints(const State& state, const PodRequest& pod,
                               const ContainerRequest& container) const override;
  ResourceHints podHints(const State& state, const PodRequest& pod) const override;
  ResourceHints podHintsWithoutPod(const State& state, const PodRequest& pod) const override;
  Status allocate(const State& state, const PodRequest& pod, const ContainerRequest& container,
                  const TopologyHint& affinity, ContainerAllocation& allocation) const override;

 private:
  ResourceHints hintsFor(const std::vector<const ContainerRequest*>& containers) const;

  std::vector<int> numa_nodes_;  // the machine's NUMA node ids, ascending
};

}  // namespace topod::policies::devices
