// A running container whose allocation topod cannot honour any more, so that it would run in the
// shared pool without a word: what the Agent reports at Synchronize and the EvictionRequester
// (agent/eviction_requests.h) turns into an EvictionRequest for its pod (docs/eviction.md, "topod
// as a requester").
#pragma once

#include <string>
#include <string_view>

namespace topod::agent {

enum class LostAllocationReason {
  // The checkpoint did not fit the configuration any more (fewer allocatable CPUs, more reserved
  // ones): the allocation could not be re-made for the new one.
  CpusShrunk,
  // After a restart, the allocation the container had (an accepted in-place resize included)
  // could not be re-made: the checkpoint was damaged or absent and the CPUs went to others.
  NotHonouredAfterRestart,
};

// "cpus_shrunk", "not_honoured_after_restart": the metric label and the EvictionRequest's
// eviction.topod.io/reason annotation.
constexpr std::string_view lostAllocationReasonName(LostAllocationReason reason) {
  switch (reason) {
    case LostAllocationReason::CpusShrunk: return "cpus_shrunk";
    case LostAllocationReason::NotHonouredAfterRestart: return "not_honoured_after_restart";
  }
  return "unknown";
}

struct LostAllocation {
  std::string pod_namespace;
  std::string pod_name;
  std::string pod_uid;
  std::string container;
  LostAllocationReason reason = LostAllocationReason::NotHonouredAfterRestart;
  std::string why;  // the policy's refusal
};

}  // namespace topod::agent
