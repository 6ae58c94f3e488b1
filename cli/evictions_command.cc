// `topod evictions [--state-dir DIR] [--output table|json]`: the eviction warnings in flight
// (docs/eviction.md) as the running agent last saved them in <state dir>/evictions.json. Safe
// while the agent runs (the file is replaced atomically).
#include <chrono>
#include <cstdio>

#include "agent/eviction_state.h"
#include "cli/commands.h"
#include "state/state_file.h"

namespace topod::agent {

int runEvictionsCommand(const EvictionsOptions& options) {
  StateFile file(options.state_dir, kEvictionStateFile);
  auto text = file.read();
  if (!text.has_value()) {
    if (text.error().code() == ErrorCode::NotFound) {
      // No file: the responder never warned anyone here (or [eviction] is off).
      std::fputs(options.output == "json" ? serializeWarnings({}).c_str() : "no eviction warnings\n", stdout);
      return 0;
    }
    std::fprintf(stderr, "topod: %s: %s\n", file.path().c_str(), text.error().toString().c_str());
    return 1;
  }
  auto warnings = parseWarnings(*text);
  if (!warnings.has_value()) {
    std::fprintf(stderr, "topod: %s: %s\n", file.path().c_str(), warnings.error().toString().c_str());
    return 1;
  }
  if (options.output == "json") {
    std::fputs(serializeWarnings(*warnings).c_str(), stdout);
  } else {
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    std::fputs(formatWarningsTable(*warnings, now).c_str(), stdout);
  }
  return 0;
}

}  // namespace topod::agent
