// Checkpoint: the agent's State on disk (STYLE.md practice 10). The bytes are the engine's
// versioned, checksummed JSON (policies/state_json.h); the file mechanics are StateFile's.
// A checkpoint that cannot be trusted (unreadable JSON, wrong checksum, unknown version, or a
// State that does not fit the current topology and options) is moved aside, never used: the
// runtime's Synchronize rebuilds the truth.
#pragma once

#include <string>

#include "agent/state_file.h"
#include "common/result.h"
#include "policies/policy.h"
#include "policies/policy_options.h"
#include "policies/state.h"
#include "topology/model.h"

namespace topod::agent {

struct LoadedState {
  policies::State state;
  // One line for the log: what was restored, or why nothing was and where the bad file went.
  std::string report;
  bool moved_aside = false;
};

class Checkpoint {
 public:
  static constexpr const char* kFileName = "state.json";

  explicit Checkpoint(const std::string& state_dir) : file_(state_dir, kFileName) {}

  // Errors only for I/O failures that make the directory unusable (permissions, ...).
  Result<LoadedState> load(const topology::Topology& topology, const policies::PolicyOptions& options,
                           const policies::Policy& policy) const;
  Status save(const policies::State& state) const;
  const std::string& path() const { return file_.path(); }

 private:
  Result<LoadedState> moveAside(const std::string& why) const;
  StateFile file_;
};

}  // namespace topod::agent
