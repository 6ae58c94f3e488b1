// The local API's Backend (api/backend.h) over the live Agent: status, allocations, the policy's
// explanation of each admitted container and the reason of each recent refusal, and what-if
// admissions against a copy of the live State. Every call copies what it needs under the agent's
// lock (Agent::view) and formats outside it, so the API never holds up an NRI event for longer
// than a copy of the State.
#pragma once

#include <functional>

#include "agent/agent.h"
#include "api/backend.h"

namespace topod::agent {

class AgentApiBackend final : public api::Backend {
 public:
  // `agent` must outlive the backend. `runtime_connected` says whether an NRI connection is up
  // (the plugin's stats); nullptr: unknown, reported as not connected.
  AgentApiBackend(const Agent& agent, std::function<bool()> runtime_connected);

  Result<api::StatusInfo> status() const override;
  Result<std::vector<api::AllocationInfo>> allocations() const override;
  Result<std::vector<api::ContainerExplanation>> explain(const api::ExplainQuery& query) const override;
  Result<std::vector<api::ContainerExplanation>> whatIf(const policies::PodRequest& pod) const override;

 private:
  const Agent& agent_;
  std::function<bool()> runtime_connected_;
};

}  // namespace topod::agent
