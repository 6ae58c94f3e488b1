// What a policy is asked to place: a pod and one of its containers, described in topod's own
// terms (no protobuf, no Kubernetes client types). The agent fills these from NRI events; the
// simulator fills them from trace files; tests build them in one expression.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/qos.h"
#include "common/resource_names.h"

namespace topod::policies {

// Memory resource names as the kubelet's memory manager uses them: "memory" and huge pages as
// "hugepages-<size>", e.g. "hugepages-2Mi", "hugepages-1Gi" (common/resource_names.h).
using ::topod::hugepageResourceName;
using ::topod::kResourceMemory;

enum class ContainerKind {
  Init,     // runs to completion before app containers start
  Sidecar,  // restartable init container (restartPolicy: Always): runs for the pod's lifetime
  App,
};

struct DeviceRequest {
  std::string resource;  // extended resource name, e.g. "nvidia.com/gpu"
  std::string id;        // device id as the device plugin names it (often a PCI address)
  int numa = -1;         // NUMA node of the device, -1 when unknown
  friend bool operator==(const DeviceRequest&, const DeviceRequest&) = default;
};

struct ContainerRequest {
  std::string name;
  ContainerKind kind = ContainerKind::App;
  int64_t cpu_request_millis = 0;  // 0 = not set
  int64_t cpu_limit_millis = 0;    // 0 = not set (unlimited)
  uint64_t memory_request_bytes = 0;
  uint64_t memory_limit_bytes = 0;
  // Huge page size in bytes -> bytes requested (requests equal limits for huge pages).
  std::map<uint64_t, uint64_t> hugepages;
  std::vector<DeviceRequest> devices;
  friend bool operator==(const ContainerRequest&, const ContainerRequest&) = default;
};

struct PodRequest {
  std::string uid;
  std::string namespace_name;
  std::string name;
  QosClass qos = QosClass::BestEffort;
  std::map<std::string, std::string> annotations;
  // Every container of the pod, in spec order, where known (init and sidecar containers first,
  // as in the pod spec). Pod-scope topology management and init-container CPU reuse need them;
  // when the agent knows only the container being created, this holds just that one.
  std::vector<ContainerRequest> containers;
  friend bool operator==(const PodRequest&, const PodRequest&) = default;
};

// Identifies a container's allocation: pod UID plus container name, as the kubelet keys state.
struct ContainerKey {
  std::string pod_uid;
  std::string container_name;
  friend auto operator<=>(const ContainerKey&, const ContainerKey&) = default;
};

// The QoS class Kubernetes computes from the container requests and limits (pod spec level).
QosClass computeQosClass(const std::vector<ContainerRequest>& containers);

}  // namespace topod::policies
