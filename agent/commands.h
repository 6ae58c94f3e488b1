// The CLI's commands. Each takes its parsed options and returns the process exit status
// (0 success, 1 failure with a message already printed to stderr, 2 usage error).
#pragma once

#include <string>

namespace topod::agent {

int runVersionCommand();

// `topod topology [--source live|xml:PATH|synthetic:DESC|json:PATH] [--output tree|json]`
struct TopologyOptions {
  std::string source = "live";
  std::string output = "tree";  // "tree" (tree + zone summary) or "json" (the snapshot)
  std::string sysfs_root;        // where isolated/offline CPUs are read; empty = "/" for live only
};
int runTopologyCommand(const TopologyOptions& options);

struct ConfigCheckOptions {
  std::string path;
};
int runConfigCheckCommand(const ConfigCheckOptions& options);

// `topod simulate --topology SRC [--config FILE.toml] [--policy NAME] [--state FILE.json]
//  --trace FILE.jsonl` (docs/simulator.md).
struct SimulateOptions {
  std::string topology;  // a loadTopology() source: live, xml:PATH, synthetic:DESC, json:PATH
  std::string config;    // TOML file; empty: the embedded defaults
  std::string policy;    // overrides [policy] name when set
  std::string state;     // initial state JSON; empty: no containers
  std::string trace;     // JSON Lines trace
};
int runSimulateCommand(const SimulateOptions& options);

}  // namespace topod::agent
