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

}  // namespace topod::agent
