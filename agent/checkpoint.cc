#include "agent/checkpoint.h"

#include "policies/state_check.h"
#include "policies/state_json.h"

namespace topod::agent {

Result<LoadedState> Checkpoint::moveAside(const std::string& why) const {
  auto moved = file_.moveAside();
  if (!moved.has_value()) return moved.error().withContext("checkpoint " + path() + " is unusable (" + why + ")");
  LoadedState loaded;
  loaded.moved_aside = true;
  loaded.report = "checkpoint " + path() + " is not trusted, moved aside to " + *moved +
                  "; the state will be rebuilt from the runtime's Synchronize. Reason: " + why;
  return loaded;
}

Result<LoadedState> Checkpoint::load(const topology::Topology& topology, const policies::PolicyOptions& options,
                                     const policies::Policy& policy) const {
  auto text = file_.read();
  if (!text.has_value()) {
    if (text.error().code() == ErrorCode::NotFound) {
      LoadedState empty;
      empty.report = "no checkpoint at " + path() + "; starting empty, the runtime's Synchronize fills the state";
      return empty;
    }
    return text.error();
  }
  auto state = policies::parseState(*text, path());
  if (!state.has_value()) return moveAside(state.error().message());
  policies::StateCheckOptions check;
  check.policy = &policy;
  Status valid = policies::validateRestoredState(topology, options, *state, path(), check);
  if (!valid.has_value()) return moveAside(valid.error().message());
  LoadedState loaded;
  loaded.report = "restored " + std::to_string(state->containers().size()) + " container allocations from " + path();
  loaded.state = std::move(*state);
  return loaded;
}

Status Checkpoint::save(const policies::State& state) const {
  return file_.write(policies::serializeState(state));
}

}  // namespace topod::agent
