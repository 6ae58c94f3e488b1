#include "policies/policy.h"

namespace topod::policies {

State applyDecision(const State& state, const Decision& decision) {
  State next = state;
  next.put(decision.key, decision.allocation);
  return next;
}

State releaseContainer(const State& state, const ContainerKey& key) {
  State next = state;
  next.erase(key);
  return next;
}

}  // namespace topod::policies
