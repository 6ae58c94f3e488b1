// Translation between what NRI reports (nri/types.h) and what policies decide over
// (policies/request.h, policies/policy.h): the one place that knows the kubelet's semantics of
// the runtime's fields (nri/ carries them as sent). The kubelet's own conversions:
//   QoS class   <- the pod's cgroup parent, else the container's oom_score_adj and shares
//   CPU request <- cpu.shares   (the kubelet writes shares = millis * 1024 / 1000, at least 2)
//   CPU limit   <- quota/period (the kubelet writes quota = millis * period / 1000)
//   memory      <- memory limit (Guaranteed: request = limit)
//   huge pages  <- hugepage limits ("2MB" -> 2 MiB pages)
// and back: a placement becomes cpuset.cpus/cpuset.mems, and a container with exclusive CPUs
// runs without a CFS quota (the kubelet's DisableCPUQuotaWithExclusiveCPUs, on by default since
// 1.33: a quota on pinned CPUs only throttles).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/qos.h"
#include "common/result.h"
#include "nri/types.h"
#include "policies/policy.h"
#include "policies/request.h"
#include "topology/device_nodes.h"
#include "topology/model.h"

namespace topod::agent {

// The pod's QoS class, which the runtime does not send, as the kubelet's cgroup layout implies
// (docs/nri.md, "Pod and container facts"; nri-plugins does the same): a cgroup parent containing
// "besteffort" or "burstable" (any case) names the class, any other non-empty parent is
// Guaranteed (those pods sit directly under kubepods). Without a parent, `container` (one of the
// pod's containers; nullptr when none is known) decides by the kubelet's hints: oom_score_adj
// -997 is Guaranteed, 1000 BestEffort, as are BestEffort's cpu shares of 2 with no memory limit;
// otherwise Burstable, the class that promises least beyond the request.
QosClass qosClassOf(const nri::Pod& pod, const nri::Container* container);

// The pod's identity and `qos`; `containers` holds only `container` (NRI shows one at a time).
policies::PodRequest podRequestOf(const nri::Pod& pod, QosClass qos, const policies::ContainerRequest& container);

// The container's request from the resources the kubelet put into its spec (or asks for in an
// update). `qos` decides whether the CPU request equals the limit (Guaranteed).
policies::ContainerRequest containerRequestOf(const nri::Container& container, const nri::LinuxResources& resources,
                                              QosClass qos);

// The devices `container` was given that the topology knows as a GPU, NIC or accelerator, as the
// policies see them: resource = the name its device plugin advertises and NodeResourceTopology
// publishes ("nvidia.com/gpu", topology::DeviceResourceNames), id = the PCI address, numa = its node. One entry per PCI
// device, in address order (a GPU's card and render nodes are one GPU); nodes that lead to no PCI device
// (/dev/null, nvidiactl) or to one of another class (a disk) are left out. A privileged
// container's list is the host's whole /dev (recognised by /dev/mem, /dev/port, /dev/kmsg or
// /dev/tty0 in it): no device was allocated to it, so it gets none.
std::vector<policies::DeviceRequest> deviceRequestsOf(const nri::Container& container,
                                                      const topology::Topology& topology,
                                                      const topology::DeviceNodeResolver& resolver);

// Runtime page-size spelling ("2MB", "1GB", "64KB"; binary units as in runc) to bytes.
Result<uint64_t> parsePageSize(std::string_view page_size);

// The resources topod sets on a container for a placement: cpus, mems (`all_nodes` when the
// placement does not restrict them), and the CFS quota: unlimited with exclusive CPUs, else what
// the kubelet asked for in `requested` (so a container that loses its exclusive CPUs gets its
// quota back).
nri::LinuxResources resourcesFor(const policies::Placement& placement, bool exclusive, const NodeSet& all_nodes,
                                 const nri::LinuxResources& requested);

// The CFS quota the kubelet gives a pod's cgroup for `period_us` (pkg/kubelet/cm/helpers_linux.go,
// ResourceConfigForPod): the sum of its containers' CPU limits (each recovered from the quota the
// kubelet put in `containers`, as containerRequestOf does) times the period, at least 1000 us
// (MilliCPUToQuota's MinQuotaPeriod). Nullopt when a container has no limit (no quota and no
// period): the kubelet then sets no pod quota (a Burstable pod without every limit), or when
// `containers` is empty or the period zero. Init containers are not told apart (NRI does not
// mark them): pass the pod's running containers.
std::optional<int64_t> kubeletPodCpuQuota(const std::vector<nri::LinuxResources>& containers, uint64_t period_us);

}  // namespace topod::agent
