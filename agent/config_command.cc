// `topod config check FILE`: validates a configuration file without running anything.
#include <cstdio>

#include "agent/commands.h"
#include "agent/config.h"

namespace topod::agent {

int runConfigCheckCommand(const ConfigCheckOptions& options) {
  auto config = loadConfig(options.path);
  if (!config.has_value()) {
    std::fprintf(stderr, "topod: config %s is invalid:\n%s\n", options.path.c_str(),
                 config.error().message().c_str());
    return 1;
  }
  std::printf("%s%s: OK\n", describeConfig(*config).c_str(), options.path.c_str());
  return 0;
}

}  // namespace topod::agent
