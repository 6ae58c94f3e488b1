// `topod state [--state-dir DIR] [--output table|json]`: what the checkpoint in a state directory
// holds, state.json plus its journal, as a running agent would restore it. Safe while the agent
// runs (Checkpoint::readOnDisk reads consistently across a compaction). The json output is a
// state document that `topod simulate --state` accepts, to replay traces against a live node's
// allocations.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "policies/state_check.h"
#include "state/checkpoint.h"
#include "state/state_json.h"

namespace topod::agent {

namespace {

std::string orDash(const std::string& text) {
  return text.empty() ? "-" : text;
}

void printTable(const policies::State& state) {
  std::printf("%-40s %-11s %-16s %-16s %s\n", "CONTAINER", "QOS", "EXCLUSIVE CPUS", "SHARED POOL", "MEMORY NODES");
  for (const auto& [key, allocation] : state.containers()) {
    std::string pool =
        allocation.exclusive_cpus.empty()
            ? (allocation.shared_pool_nodes.empty() ? "node-wide" : "NUMA " + allocation.shared_pool_nodes.toString())
            : "";
    // Names come from the runtime: escaped, so that a newline cannot break the table.
    std::printf("%-40s %-11s %-16s %-16s %s\n", policies::describeKey(key).c_str(),
                std::string(qosClassName(allocation.qos)).c_str(), orDash(allocation.exclusive_cpus.toString()).c_str(),
                orDash(pool).c_str(),
                allocation.memory_nodes.empty() ? "all" : allocation.memory_nodes.toString().c_str());
  }
  std::printf("%zu containers; exclusive CPUs %s\n", state.size(),
              orDash(state.totals().exclusive_cpus.toString()).c_str());
}

}  // namespace

int runStateCommand(const StateOptions& options) {
  auto state = Checkpoint::readOnDisk(options.state_dir);
  if (!state.has_value()) {
    std::fprintf(stderr, "topod: state in %s: %s\n", options.state_dir.c_str(), state.error().toString().c_str());
    return 1;
  }
  if (options.output == "json") {
    std::fputs(policies::serializeState(*state).c_str(), stdout);
  } else {
    printTable(*state);
  }
  return 0;
}

}  // namespace topod::agent
