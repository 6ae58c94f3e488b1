// How the kubelet shapes a pod for the runtime: the pod's QoS class, its cgroup parent (cgroupfs or
// systemd driver), and the CPU/memory values it sends in CRI and writes to the pod cgroup (as cgroup
// v1 files, cgroup v2 files or systemd unit properties).
// The end-to-end tests build their pods with these so that topod sees exactly what a kubelet
// would send (kubelet pkg/kubelet/cm: helpers_linux.go, qos/policy.go, pod_container_manager).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// The kubelet's cgroupDriver setting: which of the two names its pod cgroups, and how they are made.
enum class CgroupDriver { Cgroupfs, Systemd };

// "cgroupfs" / "systemd"; anything else is an invalid-argument error.
Result<CgroupDriver> parseCgroupDriver(std::string_view text);

// cgroupfs: "/kubepods/pod<uid>", "/kubepods/burstable/pod<uid>" or "/kubepods/besteffort/pod<uid>".
// systemd: the pod slice's unit name, which is what the kubelet gives the runtime as cgroup_parent:
// "kubepods-pod<uid>.slice", "kubepods-burstable-pod<uid>.slice", "kubepods-besteffort-pod<uid>.slice",
// with every '-' of the uid written as '_' (a '-' in a slice name means "child of").
std::string podCgroupParent(QosClass qos, std::string_view uid, CgroupDriver driver = CgroupDriver::Cgroupfs);

// The slices above a pod slice, outermost first: {"kubepods.slice"} for Guaranteed pods,
// {"kubepods.slice", "kubepods-<qos>.slice"} for the others.
std::vector<std::string> qosSlices(QosClass qos);

// Where systemd puts a slice in the cgroup tree (systemd's unit_name_to_path for slices, runc's
// ExpandSlice): "kubepods-burstable-podX.slice" -> "/kubepods.slice/kubepods-burstable.slice/
// kubepods-burstable-podX.slice". Names without the ".slice" suffix, with '/' or with an empty
// '-'-separated part are refused.
Result<std::string> expandSlice(std::string_view slice);

// Inverse of podCgroupParent's QoS part, as containers/nri-plugins infers it.
QosClass qosFromCgroupParent(std::string_view cgroup_parent);

// kubelet MilliCPUToShares: 1024 shares per CPU, at least 2, at most 262144.
int64_t milliCpuToShares(int64_t milli_cpu);
// kubelet MilliCPUToQuota: 0 for no limit, else at least 1000 us.
int64_t milliCpuToQuota(int64_t milli_cpu, int64_t period_us);

// cgroup v2 forms of the values (the kubelet's getCPUWeight / runc 1.1's
// ConvertCPUSharesToCgroupV2Value, and the fs2 manager's file formats):
// cpu.weight = 1 + (shares - 2) * 9999 / 262142 (0 stays 0: unset); shares 2 -> 1, 1024 -> 39.
int64_t cpuSharesToWeight(int64_t shares);
// cpu.max: "QUOTA PERIOD", or "max PERIOD" without a quota; "" when neither is set.
std::string cpuMaxValue(int64_t quota_us, int64_t period_us);
// memory.max: the bytes, or "max" for 0 (no limit).
std::string memoryMaxValue(int64_t bytes);
// systemd's CPUQuotaPerSecUSec as runc's addCpuQuota computes it for the kubelet: quota per
// second, rounded up to systemd's 10 ms granularity; UINT64_MAX ("infinity") without a quota.
uint64_t cpuQuotaPerSecUSec(int64_t quota_us, int64_t period_us);

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
