// CheckpointedState: the agent's State and the Checkpoint under it as one object, in the shape of
// the kubelet's state_checkpoint decorator. A change is journaled first and applied only once it
// is on disk, so memory never holds an allocation that a restart would not restore, and nobody
// pairs "journal, then put/erase" by hand.
//
// Deciding often needs the State with a few edits already made (a container's old allocation
// taken out to place it afresh, its pod's finished init containers released) before it is known
// whether the result will be kept. A Draft makes those edits in place, remembers what each key
// held, and either commits them (one journal write of every key it touched, in the order first
// touched, then kept) or rolls them back, explicitly or when it goes out of scope. The State is
// never copied for it.
//
// Thread-safety: none of its own; the agent's mutex guards it. One Draft at a time.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "policies/policy.h"
#include "policies/policy_options.h"
#include "policies/state.h"
#include "state/checkpoint.h"
#include "topology/model.h"

namespace topod::agent {

class CheckpointedState {
 public:
  explicit CheckpointedState(std::string state_dir, CheckpointOptions options = {});
  CheckpointedState(const CheckpointedState&) = delete;
  CheckpointedState& operator=(const CheckpointedState&) = delete;

  // Restores the State from the checkpoint (Checkpoint::load) and holds it: the State moves in
  // here (read it through state()); the result keeps the report and flags.
  Result<LoadedState> load(const topology::Topology& topology, const policies::PolicyOptions& options,
                           const policies::Policy& policy);

  const policies::State& state() const { return state_; }

  enum class OnFailure {
    Discard,     // a change that cannot be journaled is not applied (admission: refuse it)
    ApplyAnyway  // it is applied all the same (a release: the CPUs are free whatever the disk says)
  };
  // Journals `changes` as one write, then applies them in order. On error: nothing is journaled,
  // and the State is unchanged (Discard) or changed all the same (ApplyAnyway).
  Status commit(const std::vector<policies::StateChange>& changes, OnFailure on_failure = OnFailure::Discard);

  class Draft {
   public:
    Draft(const Draft&) = delete;
    Draft& operator=(const Draft&) = delete;
    // Rolls back what was neither committed nor rolled back.
    ~Draft();

    // The State with this draft's edits: what the policies decide on.
    const policies::State& state() const { return owner_.state_; }
    void put(const policies::ContainerKey& key, policies::ContainerAllocation allocation);
    void erase(const policies::ContainerKey& key);
    // Journals the final value of every key touched (in the order first touched) and keeps the
    // edits. On error the State is as it was before the draft. Either way the draft is done.
    Status commit();
    // Restores what every touched key held; the draft is done.
    void rollback();
    // Whether anything was edited (a commit of nothing writes nothing).
    bool empty() const { return originals_.empty(); }

   private:
    friend class CheckpointedState;
    explicit Draft(CheckpointedState& owner) : owner_(owner) {}
    void remember(const policies::ContainerKey& key);

    CheckpointedState& owner_;
    // Each touched key and what it held before the draft, in the order first touched.
    std::vector<std::pair<policies::ContainerKey, std::optional<policies::ContainerAllocation>>> originals_;
    bool done_ = false;
  };
  Draft draft() { return Draft(*this); }

  // Folds the journal into state.json at a clean stop (Checkpoint::close).
  Status close() { return checkpoint_.close(); }
  const Checkpoint& checkpoint() const { return checkpoint_; }

 private:
  void apply(const std::vector<policies::StateChange>& changes);

  Checkpoint checkpoint_;
  policies::State state_;
};

}  // namespace topod::agent
