// Fuzzes the simulator's trace parser and the simulator behind it: any input either fails with
// a message that names a line, or parses into events that replay against the "none" policy
// without crashing, whatever pods, containers and quantities they name.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "policies/none_policy.h"
#include "simulator/simulator.h"
#include "simulator/simulator_trace.h"
#include "topology/model.h"

namespace {

const topod::topology::Topology& machine() {
  static const topod::topology::Topology kMachine = [] {
    topod::topology::TopologyBuilder b;
    for (int cpu = 0; cpu < 8; ++cpu) b.addCpu({.id = cpu, .core_id = cpu / 2, .l3 = 0, .numa = cpu / 4});
    return b.build().value();
  }();
  return kMachine;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto trace = topod::policies::parseTrace(text, "fuzz");
  if (!trace.has_value()) {
    TOPOD_CHECK(trace.error().message().rfind("fuzz:", 0) == 0);
    return 0;
  }
  topod::policies::NonePolicy policy(machine());
  topod::policies::PolicyOptions options;
  options.policy = "none";
  std::size_t lines = 0;
  auto result = topod::policies::simulate(machine(), options, policy, {}, *trace, [&](const std::string&) { ++lines; });
  TOPOD_CHECK(result.has_value());
  TOPOD_CHECK(lines >= trace->size() + 1);  // at least one line per event, plus the summary
  return 0;
}
