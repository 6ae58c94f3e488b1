#include "state/checkpointed_state.h"

#include <algorithm>

namespace topod::agent {

CheckpointedState::CheckpointedState(std::string state_dir, CheckpointOptions options)
    : checkpoint_(std::move(state_dir), std::move(options)) {}

Result<LoadedState> CheckpointedState::load(const topology::Topology& topology, const policies::PolicyOptions& options,
                                            const policies::Policy& policy) {
  auto loaded = checkpoint_.load(topology, options, policy);
  if (loaded.has_value()) state_ = std::move(loaded->state);
  return loaded;
}

void CheckpointedState::apply(const std::vector<policies::StateChange>& changes) {
  for (const policies::StateChange& change : changes) {
    if (change.allocation) {
      state_.put(change.key, *change.allocation);
    } else {
      state_.erase(change.key);
    }
  }
}

Status CheckpointedState::commit(const std::vector<policies::StateChange>& changes, OnFailure on_failure) {
  if (changes.empty()) return okStatus();
  Status recorded = checkpoint_.record(changes);
  if (recorded.has_value() || on_failure == OnFailure::ApplyAnyway) apply(changes);
  return recorded;
}

CheckpointedState::Draft::~Draft() {
  if (!done_) rollback();
}

void CheckpointedState::Draft::remember(const policies::ContainerKey& key) {
  auto touched =
      std::find_if(originals_.begin(), originals_.end(), [&](const auto& entry) { return entry.first == key; });
  if (touched != originals_.end()) return;
  const policies::ContainerAllocation* held = owner_.state_.find(key);
  originals_.emplace_back(key, held != nullptr ? std::optional(*held) : std::nullopt);
}

void CheckpointedState::Draft::put(const policies::ContainerKey& key, policies::ContainerAllocation allocation) {
  remember(key);
  owner_.state_.put(key, std::move(allocation));
}

void CheckpointedState::Draft::erase(const policies::ContainerKey& key) {
  remember(key);
  owner_.state_.erase(key);
}

Status CheckpointedState::Draft::commit() {
  std::vector<policies::StateChange> changes;
  changes.reserve(originals_.size());
  for (const auto& [key, original] : originals_) {
    (void)original;
    const policies::ContainerAllocation* now = owner_.state_.find(key);
    changes.push_back({.key = key, .allocation = now != nullptr ? std::optional(*now) : std::nullopt});
  }
  Status recorded = changes.empty() ? okStatus() : owner_.checkpoint_.record(changes);
  if (!recorded.has_value()) {
    rollback();
    return recorded;
  }
  done_ = true;
  return okStatus();
}

void CheckpointedState::Draft::rollback() {
  for (auto it = originals_.rbegin(); it != originals_.rend(); ++it) {
    if (it->second) {
      owner_.state_.put(it->first, *it->second);
    } else {
      owner_.state_.erase(it->first);
    }
  }
  originals_.clear();
  done_ = true;
}

}  // namespace topod::agent
