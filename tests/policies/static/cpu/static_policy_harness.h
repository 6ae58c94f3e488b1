// Turns the kubelet's policy_static_test.go rows (a pod, a state of assignments plus a default
// CPU set) into topod's terms (PodRequest, State).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/check.h"
#include "policies/static/cpu/static_cpu_policy.h"
#include "tests/policies/static/cpu/kubelet_rows.h"

namespace topod::policies::cpu::test {

// "2000m" -> 2000, "6" -> 6000 (the kubelet tests' CPU quantities).
inline int64_t millis(const std::string& quantity) {
  constexpr int64_t kMillisPerCpu = 1000;
  if (!quantity.empty() && quantity.back() == 'm') return std::stoll(quantity.substr(0, quantity.size() - 1));
  return std::stoll(quantity) * kMillisPerCpu;
}

// The kubelet's makePod: one container with the given CPU request/limit and 1G of memory.
inline PodRequest makePod(const std::string& uid, const std::string& container, const std::string& request,
                          const std::string& limit) {
  constexpr uint64_t kOneG = 1000ULL * 1000 * 1000;
  PodRequest pod{.uid = uid, .namespace_name = "default", .name = uid};
  pod.containers.push_back({.name = container,
                            .cpu_request_millis = millis(request),
                            .cpu_limit_millis = millis(limit),
                            .memory_request_bytes = kOneG,
                            .memory_limit_bytes = kOneG});
  pod.qos = computeQosClass(pod.containers);
  return pod;
}

// An init container is a sidecar when kind is Sidecar (restartPolicy: Always), else a plain init
// container; app containers ignore kind.
struct ContainerSpec {
  std::string request;
  std::string limit;
  ContainerKind kind = ContainerKind::Init;
};

// The kubelet's makeMultiContainerPodWithOptions: init containers "initContainer-N" (sidecars when
// restartPolicy is Always), app containers "appContainer-N".
inline PodRequest makeMultiContainerPod(const std::vector<ContainerSpec>& inits,
                                        const std::vector<ContainerSpec>& apps) {
  constexpr uint64_t kOneG = 1000ULL * 1000 * 1000;
  PodRequest pod{.uid = "multiPod", .namespace_name = "default", .name = "multiPod"};
  const auto add = [&](const std::string& name, const ContainerSpec& spec, ContainerKind kind) {
    pod.containers.push_back({.name = name,
                              .kind = kind,
                              .cpu_request_millis = millis(spec.request),
                              .cpu_limit_millis = millis(spec.limit),
                              .memory_request_bytes = kOneG,
                              .memory_limit_bytes = kOneG});
  };
  for (std::size_t i = 0; i < inits.size(); ++i) {
    const ContainerKind kind = inits[i].kind == ContainerKind::Sidecar ? ContainerKind::Sidecar : ContainerKind::Init;
    add("initContainer-" + std::to_string(i), inits[i], kind);
  }
  for (std::size_t i = 0; i < apps.size(); ++i) add("appContainer-" + std::to_string(i), apps[i], ContainerKind::App);
  pod.qos = computeQosClass(pod.containers);
  return pod;
}

// The kubelet's state: assignments of pod `uid` (container -> CPU list) and a default CPU set.
// CPUs in neither are unavailable in the kubelet test; here a placeholder container holds them.
inline State kubeletState(const KubeletCpuTopology& topo, const std::string& uid,
                          const std::vector<std::pair<std::string, std::string>>& assignments,
                          const std::string& default_set) {
  State state;
  CpuSet assigned;
  for (const auto& [container, list] : assignments) {
    ContainerAllocation allocation;
    allocation.exclusive_cpus = cpus(list.c_str());
    allocation.request = {.name = container};
    allocation.qos = QosClass::Guaranteed;
    assigned |= allocation.exclusive_cpus;
    state.put(ContainerKey{uid, container}, allocation);
  }
  const CpuSet unavailable = topo.cpus() - assigned - cpus(default_set.c_str());
  if (!unavailable.empty()) {
    ContainerAllocation holder;
    holder.exclusive_cpus = unavailable;
    holder.request = {.name = "unavailable"};
    state.put(ContainerKey{"kubelet-test-unavailable-cpus", "unavailable"}, holder);
  }
  return state;
}

// Records an allocation the way the engine would after allocate() succeeded.
inline void record(State& state, const PodRequest& pod, const ContainerRequest& container, const CpuSet& exclusive) {
  ContainerAllocation allocation;
  allocation.exclusive_cpus = exclusive;
  allocation.request = container;
  allocation.qos = pod.qos;
  state.put(ContainerKey{pod.uid, container.name}, allocation);
}

}  // namespace topod::policies::cpu::test
