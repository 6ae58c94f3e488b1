// `topod config check FILE`: validates a configuration file without running anything: the file
// itself, then what `topod run` checks against the machine (validateConfigForMachine).
#include <cstdio>

#include "cli/commands.h"
#include "config/config.h"
#include "topology/loaders.h"

namespace topod::agent {

int runConfigCheckCommand(const ConfigCheckOptions& options) {
  auto config = loadConfig(options.path);
  if (!config.has_value()) {
    std::fprintf(stderr, "topod: config %s is invalid:\n%s\n", options.path.c_str(), config.error().message().c_str());
    return 1;
  }
  auto topology = topology::loadTopology(options.topology);
  if (!topology.has_value()) {
    std::fprintf(stderr, "topod: config %s: cannot load the topology %s to check it against: %s\n",
                 options.path.c_str(), options.topology.c_str(), topology.error().message().c_str());
    return 1;
  }
  Status valid = validateConfigForMachine(*config, *topology);
  if (!valid.has_value()) {
    std::fprintf(stderr, "topod: config %s is invalid:\n%s\n", options.path.c_str(), valid.error().message().c_str());
    return 1;
  }
  std::printf("%s%s: OK\n", describeConfig(*config).c_str(), options.path.c_str());
  return 0;
}

}  // namespace topod::agent
