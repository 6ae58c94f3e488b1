// Builders shared by the agent's tests: pods and containers shaped as the kubelet makes them
// (cgroup parents, shares, quota), a small fixed topology, temp directories.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "common/qos.h"
#include "nri/types.h"
#include "policies/state.h"
#include "topology/model.h"

namespace topod::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "topod-agent-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One package, two NUMA nodes, 4 cores per node, 2 threads per core: CPUs 0-7 on node 0 and
// 8-15 on node 1; core c holds CPUs 2c and 2c+1.
// A Guaranteed "app" container's allocation of exclusive `cpus`, requesting exactly them.
inline policies::ContainerAllocation exclusiveAllocation(CpuSet cpus) {
  policies::ContainerAllocation allocation;
  allocation.exclusive_cpus = cpus;
  allocation.qos = QosClass::Guaranteed;
  allocation.request.name = "app";
  allocation.request.cpu_request_millis = 1000 * cpus.size();
  allocation.request.cpu_limit_millis = allocation.request.cpu_request_millis;
  return allocation;
}

inline topology::Topology twoNodeTopology() {
  topology::TopologyBuilder builder;
  for (int cpu = 0; cpu < 16; ++cpu) {
    builder.addCpu({.id = cpu, .package = 0, .die = 0, .core_id = cpu / 2, .l3 = cpu / 8, .numa = cpu / 8});
  }
  builder.addNumaNode({.id = 0, .memory_bytes = 64ULL << 30});
  builder.addNumaNode({.id = 1, .memory_bytes = 64ULL << 30});
  return builder.build().value();
}

inline nri::Pod makePod(const std::string& uid, QosClass qos) {
  nri::Pod pod;
  pod.id = "sandbox-" + uid;
  pod.uid = uid;
  pod.namespace_name = "default";
  pod.name = "pod-" + uid;
  switch (qos) {
    case QosClass::Guaranteed: pod.cgroup_parent = "/kubepods/pod" + uid; break;
    case QosClass::Burstable: pod.cgroup_parent = "/kubepods/burstable/pod" + uid; break;
    case QosClass::BestEffort: pod.cgroup_parent = "/kubepods/besteffort/pod" + uid; break;
  }
  return pod;
}

// CPU request/limit in millicores (0 = unset) and memory limit, converted as the kubelet does.
inline nri::Container makeContainer(const nri::Pod& pod, const std::string& name, int64_t cpu_request_millis,
                                    int64_t cpu_limit_millis, int64_t memory_limit = 0) {
  nri::Container c;
  c.id = pod.uid + "-" + name;
  c.pod_id = pod.id;
  c.name = name;
  c.state = nri::ContainerState::Created;
  c.cgroups_path = pod.cgroup_parent + "/" + c.id;
  uint64_t shares = cpu_request_millis > 0 ? static_cast<uint64_t>(cpu_request_millis) * 1024 / 1000 : 2;
  c.resources.cpu_shares = shares < 2 ? 2 : shares;
  c.resources.cpu_period = 100000;
  c.resources.cpu_quota = cpu_limit_millis > 0 ? cpu_limit_millis * 100 : -1;
  if (memory_limit > 0) c.resources.memory_limit = memory_limit;
  return c;
}

inline nri::Container guaranteed(const nri::Pod& pod, const std::string& name, int64_t cpu_millis) {
  return makeContainer(pod, name, cpu_millis, cpu_millis, 1LL << 30);
}

}  // namespace topod::testing
