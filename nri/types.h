// topod's own view of the pods and containers that NRI reports, and of the decisions topod sends
// back. Plain values: nothing above nri/ sees protobuf. nri/convert.h maps these to and from the
// NRI messages; docs/nri.md ("Pod and container facts", "What an update changes") says where
// each field comes from.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/cpuset.h"

namespace topod::nri {

using StringMap = std::map<std::string, std::string>;

// One hugetlb limit: page size as the runtime spells it ("2MB", "1GB") and the limit in bytes.
struct HugepageLimit {
  std::string page_size;
  uint64_t limit = 0;

  friend bool operator==(const HugepageLimit&, const HugepageLimit&) = default;
};

// The subset of OCI/NRI LinuxResources topod reads and writes. An absent optional (or an empty
// hugepage list) means "not given" in a request and "leave unchanged" in a decision, exactly as
// NRI's Optional* wrappers do. containerd applies only these fields in updates (docs/nri.md, "What an update changes").
struct LinuxResources {
  std::optional<uint64_t> cpu_shares;  // cgroup v1 shares; runc maps them to cpu.weight on v2
  std::optional<int64_t> cpu_quota;    // microseconds per period; -1 = unlimited
  std::optional<uint64_t> cpu_period;  // microseconds
  std::optional<CpuSet> cpuset_cpus;
  std::optional<NodeSet> cpuset_mems;
  std::optional<int64_t> memory_limit;  // bytes
  std::vector<HugepageLimit> hugepage_limits;

  bool empty() const {
    return !cpu_shares && !cpu_quota && !cpu_period && !cpuset_cpus && !cpuset_mems && !memory_limit &&
           hugepage_limits.empty();
  }
  friend bool operator==(const LinuxResources&, const LinuxResources&) = default;
};

// A pod sandbox as the runtime describes it.
struct Pod {
  std::string id;   // runtime sandbox id
  std::string uid;  // Kubernetes pod UID
  std::string namespace_name;
  std::string name;
  StringMap labels;
  StringMap annotations;
  std::string runtime_handler;
  std::string cgroup_parent;  // the pod cgroup, e.g. "kubepods-burstable-pod<uid_>.slice"
  std::string cgroups_path;   // the sandbox container's own cgroup
  // Pod-level resources and overhead from the CRI sandbox config, when the kubelet sets them.
  std::optional<LinuxResources> pod_resources;
  std::optional<LinuxResources> pod_overhead;
  uint32_t pid = 0;  // sandbox (pause) process; 0 when unknown
  // No QoS class: the runtime does not send one. The agent infers it from cgroup_parent and the
  // containers' hints (agent/nri_mapping.h, qosClassOf).

  friend bool operator==(const Pod&, const Pod&) = default;
};

enum class ContainerState { Unknown, Created, Paused, Running, Stopped };

// A device node the container gets (OCI linux.devices): how the runtime hands over the GPUs,
// RDMA and VFIO devices the device plugin allocated (CDI specs end up here too).
struct LinuxDevice {
  std::string path;  // inside the container, e.g. "/dev/nvidia0"
  std::string type;  // "c" (char), "b" (block), "u", "p"
  int64_t major = 0;
  int64_t minor = 0;
  friend bool operator==(const LinuxDevice&, const LinuxDevice&) = default;
};

struct Container {
  std::string id;
  std::string pod_id;  // runtime sandbox id of the pod
  std::string name;    // Kubernetes container name
  ContainerState state = ContainerState::Unknown;
  StringMap labels;
  StringMap annotations;
  std::string cgroups_path;  // OCI cgroupsPath, e.g. "<pod-slice>:cri-containerd:<id>"
  uint32_t pid = 0;          // 0 before StartContainer
  std::optional<int64_t> oom_score_adj;
  // What the kubelet asked for (from the OCI spec at creation).
  LinuxResources resources;
  std::vector<LinuxDevice> devices;

  friend bool operator==(const Container&, const Container&) = default;
};

// topod's answer to CreateContainer: changes to the container being created. Only resources are
// adjusted; an empty adjustment leaves the container as the kubelet asked.
struct Adjustment {
  LinuxResources resources;

  bool empty() const { return resources.empty(); }
  friend bool operator==(const Adjustment&, const Adjustment&) = default;
};

// A resource change for an existing container (Synchronize, CreateContainer for others,
// UpdateContainer, StopContainer, unsolicited UpdateContainers).
struct Update {
  std::string container_id;
  LinuxResources resources;
  bool ignore_failure = false;  // true: the runtime must not fail the request if this fails

  friend bool operator==(const Update&, const Update&) = default;
};

struct CreateReply {
  Adjustment adjustment;
  std::vector<Update> updates;  // only for OTHER, already existing containers
};

// NRI events, numbered as the protocol's Event enum (mask bit = 1 << (value - 1)).
enum class Event : int {
  RunPodSandbox = 1,
  StopPodSandbox = 2,
  RemovePodSandbox = 3,
  CreateContainer = 4,
  PostCreateContainer = 5,
  StartContainer = 6,
  PostStartContainer = 7,
  UpdateContainer = 8,
  PostUpdateContainer = 9,
  StopContainer = 10,
  RemoveContainer = 11,
  UpdatePodSandbox = 12,
  PostUpdatePodSandbox = 13,
  ValidateContainerAdjustment = 14,
};

using EventMask = uint32_t;
constexpr EventMask eventBit(Event event) {
  return EventMask{1} << (static_cast<int>(event) - 1);
}

// What the runtime told us in Configure.
struct RuntimeInfo {
  std::string name;                                   // "containerd", "cri-o"
  std::string version;                                // e.g. "v1.7.24", "1.33.2"
  std::string nri_version;                            // only from NRI >= v0.12 runtimes; empty otherwise
  std::string config;                                 // plugin configuration passed by the runtime (launched plugins)
  std::chrono::milliseconds registration_timeout{0};  // 0 when the runtime did not say (NRI < 0.7)
  std::chrono::milliseconds request_timeout{0};
  EventMask valid_events = 0;  // the largest mask this runtime accepts
  EventMask subscribed = 0;    // the mask topod answered with
};

}  // namespace topod::nri
