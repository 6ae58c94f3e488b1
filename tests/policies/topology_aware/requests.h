// One-expression pods and containers for the topology-aware tests and the benchmark.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "policies/request.h"

namespace topod::policies::testing {

inline ContainerRequest guaranteed(std::string name, int64_t cpu_millis, uint64_t memory,
                                   std::vector<DeviceRequest> devices = {}) {
  return {.name = std::move(name),
          .cpu_request_millis = cpu_millis,
          .cpu_limit_millis = cpu_millis,
          .memory_request_bytes = memory,
          .memory_limit_bytes = memory,
          .devices = std::move(devices)};
}

inline ContainerRequest burstable(std::string name, int64_t cpu_millis, uint64_t memory,
                                  std::vector<DeviceRequest> devices = {}) {
  return {.name = std::move(name),
          .cpu_request_millis = cpu_millis,
          .cpu_limit_millis = 2 * cpu_millis,
          .memory_request_bytes = memory,
          .memory_limit_bytes = 2 * memory,
          .devices = std::move(devices)};
}

inline ContainerRequest bestEffort(std::string name) {
  return {.name = std::move(name)};
}

inline DeviceRequest gpuOn(int numa, int index = 0) {
  return {
      .resource = "nvidia.com/gpu", .id = "gpu-" + std::to_string(numa) + "-" + std::to_string(index), .numa = numa};
}

// A pod holding `containers`, QoS computed as Kubernetes does.
inline PodRequest podOf(std::string uid, std::vector<ContainerRequest> containers,
                        std::map<std::string, std::string> annotations = {}) {
  PodRequest pod;
  pod.uid = uid;
  pod.namespace_name = "default";
  pod.name = std::move(uid);
  pod.qos = computeQosClass(containers);
  pod.annotations = std::move(annotations);
  pod.containers = std::move(containers);
  return pod;
}

}  // namespace topod::policies::testing
