// What the local API, the metrics and the tests read of a live Agent (agent.h): counts, pools,
// the checkpoint's health, a consistent copy of everything (view()) and what-ifs on a copy of
// the State. All take the agent's lock only to copy; none changes anything.
#include <utility>
#include <vector>

#include "agent/agent.h"
#include "common/text.h"

namespace topod::agent {

using policies::ContainerKey;
using policies::State;

State Agent::state() const {
  std::unique_lock lock(mutex_);
  return state_;
}

std::size_t Agent::containerCount() const {
  std::unique_lock lock(mutex_);
  return containers_.size();
}

bool Agent::synchronized() const {
  std::unique_lock lock(mutex_);
  return synchronized_;
}

Agent::Pools Agent::pools() const {
  std::unique_lock lock(mutex_);
  return Pools{.exclusive_cpus = static_cast<std::size_t>(state_.totals().exclusive_cpus.size()),
               .shared_cpus = static_cast<std::size_t>(policy_->sharedCpus(state_).size())};
}

uint64_t Agent::compactions() const {
  // The checkpoint's own lock guards its count; the agent's is not needed.
  return store_.checkpoint().compactions();
}

std::string Agent::healthProblem() const {
  std::unique_lock lock(mutex_);
  return store_.checkpoint().problem();
}

Agent::View Agent::view() const {
  std::unique_lock lock(mutex_);
  View view;
  view.synchronized = synchronized_;
  view.runtime = runtime_;
  view.policy = std::string(policy_->name());
  view.state = state_;
  view.placements = policy_->placements(state_);
  view.shared_cpus = policy_->sharedCpus(state_);
  view.reserved_cpus = reserved_cpus_;
  view.containers.reserve(containers_.size());
  for (const auto& [id, known] : containers_) {
    view.containers.push_back(ContainerInfo{.id = id,
                                            .key = known.key,
                                            .pod_namespace = known.pod_namespace,
                                            .pod_name = known.pod_name,
                                            .running = known.running});
  }
  view.explanations = explanations_;
  view.refusals.assign(refusals_.begin(), refusals_.end());
  return view;
}

Result<std::vector<Result<policies::Decision>>> Agent::whatIf(const policies::PodRequest& pod) const {
  std::unique_lock lock(mutex_);
  auto [first, last] = state_.podContainers(pod.uid);
  if (first != last) {
    return Error::invalidArgument("pod UID " + escapeForDisplay(pod.uid) +
                                  " holds allocations already; a what-if is for a pod that is not running");
  }
  State draft = state_;
  std::vector<Result<policies::Decision>> decisions;
  std::vector<ContainerKey> done_init;
  for (const policies::ContainerRequest& container : pod.containers) {
    // Regular init containers run to completion one after the other: each next container reuses
    // what the earlier ones held, as onCreateContainer releases stopped siblings.
    for (const ContainerKey& key : done_init) draft.erase(key);
    done_init.clear();
    Result<policies::Decision> decision = policy_->admit(draft, pod, container);
    if (decision.has_value()) {
      Status valid = checkDecision(*decision);
      if (!valid.has_value()) decision = valid.error();
    }
    if (decision.has_value()) {
      draft = policies::applyDecision(draft, *decision);
      if (container.kind == policies::ContainerKind::Init) done_init.push_back(decision->key);
    }
    decisions.push_back(std::move(decision));
  }
  return decisions;
}

}  // namespace topod::agent
