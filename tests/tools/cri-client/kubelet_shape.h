// How the kubelet (cgroupfs driver, cgroup v1) shapes a pod for the runtime: the pod's QoS class,
// its cgroup parent, and the CPU/memory values it sends in CRI and writes to the pod cgroup.
// The end-to-end tests build their pods with these so that topod sees exactly what a kubelet
// would send (kubelet pkg/kubelet/cm: helpers_linux.go, qos/policy.go, pod_container_manager).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/qos.h"
#include "common/result.h"

namespace topod::e2e {

// What a pod spec asks for one container (or the sum over a pod's containers). Zero = unset.
// As the API server defaults it, an unset request with a set limit means request = limit.
struct ResourceAsk {
  int64_t cpu_request_milli = 0;
  int64_t cpu_limit_milli = 0;
  int64_t memory_request_bytes = 0;
  int64_t memory_limit_bytes = 0;
};

// The values the kubelet puts into CRI LinuxContainerResources and into the pod cgroup.
// Zero means "not set" (the runtime leaves the kernel default), as in CRI.
struct LinuxResourceValues {
  int64_t cpu_period = 0;
  int64_t cpu_quota = 0;
  int64_t cpu_shares = 0;
  int64_t memory_limit_bytes = 0;
  int64_t oom_score_adj = 0;
  friend bool operator==(const LinuxResourceValues&, const LinuxResourceValues&) = default;
};

// The kubelet's default CFS period (100 ms), in microseconds.
inline constexpr int64_t kCfsPeriodUs = 100000;

// Applies API-server defaulting (request := limit where only the limit is set).
ResourceAsk defaulted(ResourceAsk ask);

// kubelet GetPodQOS for a pod whose containers sum to `ask`: Guaranteed when CPU and memory
// limits are set and equal the requests, BestEffort when nothing is set, Burstable otherwise.
QosClass qosOf(const ResourceAsk& ask);

// "/kubepods/pod<uid>", "/kubepods/burstable/pod<uid>" or "/kubepods/besteffort/pod<uid>".
std::string podCgroupParent(QosClass qos, std::string_view uid);

// Inverse of podCgroupParent's QoS part, as containers/nri-plugins infers it.
QosClass qosFromCgroupParent(std::string_view cgroup_parent);

// kubelet MilliCPUToShares: 1024 shares per CPU, at least 2, at most 262144.
int64_t milliCpuToShares(int64_t milli_cpu);
// kubelet MilliCPUToQuota: 0 for no limit, else at least 1000 us.
int64_t milliCpuToQuota(int64_t milli_cpu, int64_t period_us);

// Values for one container (generateLinuxContainerResources + oom_score_adj from qos/policy.go).
// machine_memory_bytes sizes the Burstable oom_score_adj; it must be > 0.
LinuxResourceValues containerValues(QosClass qos, const ResourceAsk& ask, int64_t machine_memory_bytes);

// Values of the pod cgroup (ResourceConfigForPod), for a pod whose containers sum to `ask`.
LinuxResourceValues podValues(QosClass qos, const ResourceAsk& ask);

// Parses a Kubernetes quantity (common/quantity.h): CPU as "500m", "1.5" or "2" (-> millicores),
// memory as "64Mi", "1G", "1048576" (-> bytes).
Result<int64_t> parseCpuMilli(std::string_view text);
Result<int64_t> parseBytes(std::string_view text);

}  // namespace topod::e2e
