// The CLI's commands. Each takes its parsed options and returns the process exit status
// (0 success, 1 failure with a message already printed to stderr, 2 usage error).
#pragma once

#include <string>

namespace topod::agent {

int runVersionCommand();

struct ConfigCheckOptions {
  std::string path;
};
int runConfigCheckCommand(const ConfigCheckOptions& options);

}  // namespace topod::agent
