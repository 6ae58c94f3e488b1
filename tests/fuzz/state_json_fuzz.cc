// Fuzzes the state checkpoint parser: any input either fails with a message or yields a State
// that serialises and parses back to itself (checksum included), and the invariant checker
// runs over it without crashing whatever CPUs, nodes and resources it names.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "policies/policy_options.h"
#include "policies/state_check.h"
#include "state/state_json.h"
#include "topology/model.h"

namespace {

const topod::topology::Topology& machine() {
  static const topod::topology::Topology kMachine = [] {
    topod::topology::TopologyBuilder b;
    for (int cpu = 0; cpu < 8; ++cpu) b.addCpu({.id = cpu, .core_id = cpu / 2, .l3 = 0, .numa = cpu / 4});
    b.addNumaNode({.id = 0, .memory_bytes = 1ULL << 30, .hugepages = {{2ULL << 20, 16}}});
    b.addNumaNode({.id = 1, .memory_bytes = 1ULL << 30});
    return b.build().value();
  }();
  return kMachine;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto state = topod::policies::parseState(text, "fuzz", topod::policies::StateChecksum::Optional);
  if (!state.has_value()) {
    TOPOD_CHECK(!state.error().message().empty());
    return 0;
  }
  auto again = topod::policies::parseState(topod::policies::serializeState(*state), "fuzz");
  TOPOD_CHECK(again.has_value());
  TOPOD_CHECK(*again == *state);
  topod::policies::PolicyOptions options;
  options.reserved_cpus = topod::CpuSet{0};
  (void)topod::policies::checkState(machine(), options, *state);
  return 0;
}
