// What topod's local API serves, in plain structs: the gRPC server (api/server.h) turns calls into
// these, the client (api/client.h) turns replies back into them, and the agent implements the
// Backend over the live Agent (agent/api_backend.h). No gRPC or protobuf type appears here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/cpuset.h"
#include "common/qos.h"
#include "common/result.h"
#include "policies/request.h"

namespace topod::api {

struct StatusInfo {
  std::string agent_version;
  bool synchronized = false;       // the runtime's Synchronize was served
  bool runtime_connected = false;  // an NRI connection is up now
  std::string runtime_name;        // from the runtime's Configure; empty before the first one
  std::string runtime_version;
  std::string policy;
  uint32_t pods = 0;        // pods with a known container or an allocation
  uint32_t containers = 0;  // containers the agent knows (running or stopped attempts)
  uint32_t allocations = 0;
  uint32_t exclusive_containers = 0;
  CpuSet exclusive_cpus;
  CpuSet shared_cpus;
  CpuSet reserved_cpus;
  uint32_t refusals = 0;  // remembered refusals (explain can tell why)
  friend bool operator==(const StatusInfo&, const StatusInfo&) = default;
};

struct AllocationInfo {
  std::string pod_uid;
  std::string pod_namespace;  // empty when unknown (restored, not yet seen at Synchronize)
  std::string pod_name;
  std::string container;
  std::string container_id;  // empty when unknown
  QosClass qos = QosClass::BestEffort;
  CpuSet exclusive_cpus;
  CpuSet cpus;                // where it runs: its exclusive CPUs or its shared pool
  NodeSet mems;               // empty: every node
  uint64_t memory_bytes = 0;  // memory (and huge pages) charged to NUMA nodes
  bool running = false;
  friend bool operator==(const AllocationInfo&, const AllocationInfo&) = default;
};

// One container's placement, or why it was refused.
struct ContainerExplanation {
  std::string pod_uid;
  std::string pod_namespace;
  std::string pod_name;
  std::string container;
  bool admitted = false;
  std::string request;  // the request in words: "cpu 2 (limit 2), memory 64Mi (limit 64Mi)"
  QosClass qos = QosClass::BestEffort;
  CpuSet cpus;
  NodeSet mems;
  CpuSet exclusive_cpus;
  std::string explanation;  // the policy's reasoning (hints, merged affinity), or the refusal
  std::string reason;       // refusals: the policy's stable reason, when it gave one
  friend bool operator==(const ContainerExplanation&, const ContainerExplanation&) = default;
};

struct ExplainQuery {
  std::string pod;        // "namespace/name" or the pod UID
  std::string container;  // empty: every container of the pod
};

// Limits of a what-if request, checked before it reaches the policy.
inline constexpr std::size_t kMaxWhatIfContainers = 64;
inline constexpr std::size_t kMaxNameBytes = 253;  // a Kubernetes object name's limit

// A what-if pod is valid when it names itself and each container (unique names), no request
// exceeds its limit and there are at most kMaxWhatIfContainers containers.
Status validateWhatIf(const policies::PodRequest& pod);

// The request of one container in words, for explanations.
std::string describeRequest(const policies::ContainerRequest& request);

// Served by the agent. Every method may be called from any gRPC thread at any time.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<StatusInfo> status() const = 0;
  virtual Result<std::vector<AllocationInfo>> allocations() const = 0;
  // NotFound when no container (admitted or recently refused) matches.
  virtual Result<std::vector<ContainerExplanation>> explain(const ExplainQuery& query) const = 0;
  // Admits the pod's containers in order on a copy of the live State; changes nothing. The pod
  // has passed validateWhatIf().
  virtual Result<std::vector<ContainerExplanation>> whatIf(const policies::PodRequest& pod) const = 0;
};

}  // namespace topod::api
