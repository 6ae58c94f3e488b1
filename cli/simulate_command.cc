// `topod simulate`: replay a trace of pod events against a policy on any machine shape and
// print every decision as a JSON line, then a summary line (docs/simulator.md). Reads the
// files and prints; the simulation itself is simulator/simulator.h.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "common/file_io.h"
#include "config/config.h"
#include "policies/policy_registry.h"
#include "simulator/simulator.h"
#include "simulator/simulator_trace.h"
#include "state/state_json.h"
#include "topology/loaders.h"

namespace topod::agent {
namespace {

Result<std::string> readWholeFile(const std::string& path, const char* what) {
  // Regular files only (a FIFO would block), bounded; symlinks are fine for a CLI's input.
  auto text = readRegularFile(path, {.max_bytes = std::size_t{256} << 20, .no_follow = false});
  if (!text.has_value()) return text.error().withContext(std::string("cannot read ") + what);
  return text;
}

int fail(const Error& error) {
  std::fprintf(stderr, "topod simulate: %s\n", error.message().c_str());
  return 1;
}

}  // namespace

int runSimulateCommand(const SimulateOptions& options) {
  auto topology = topology::loadTopology(options.topology);
  if (!topology.has_value()) return fail(topology.error());

  Config config = defaultConfig();
  if (!options.config.empty()) {
    auto loaded = loadConfig(options.config);
    if (!loaded.has_value()) return fail(loaded.error());
    config = std::move(*loaded);
  }
  policies::PolicyOptions policy_options = config.policy;
  if (!options.policy.empty()) policy_options.policy = options.policy;
  auto policy = policies::makePolicy(*topology, policy_options);
  if (!policy.has_value()) return fail(policy.error());

  policies::State initial;
  if (!options.state.empty()) {
    auto text = readWholeFile(options.state, "state");
    if (!text.has_value()) return fail(text.error());
    // Hand-written initial states may leave the checksum out; a present one must match.
    auto state = policies::parseState(*text, options.state, policies::StateChecksum::Optional);
    if (!state.has_value()) return fail(state.error());
    initial = std::move(*state);
  }

  auto trace_text = readWholeFile(options.trace, "trace");
  if (!trace_text.has_value()) return fail(trace_text.error());
  auto trace = policies::parseTrace(*trace_text, options.trace);
  if (!trace.has_value()) return fail(trace.error());

  auto emit = [](const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  };
  auto result = policies::simulate(*topology, policy_options, **policy, initial, *trace, emit,
                                   options.state.empty() ? "initial state" : options.state);
  if (!result.has_value()) return fail(result.error());
  if (std::fflush(stdout) != 0) return fail(Error::fromErrno(errno, "writing the decisions to stdout"));
  return 0;
}

}  // namespace topod::agent
