// `topod run`: the node daemon's process (agent/run_loop.cc). Returns the process exit status
// (0 after a clean stop, 1 after a failure already logged).
#pragma once

#include <string>

namespace topod::agent {

struct RunOptions {
  std::string config_path;        // empty: the embedded defaults
  std::string topology = "live";  // a topology::loadTopology() source; tests pass fixtures
  std::string state_dir;          // overrides the config's state_dir when set
  std::string nri_socket;         // overrides the config's nri.socket_path when set
};
int runRunCommand(const RunOptions& options);

}  // namespace topod::agent
