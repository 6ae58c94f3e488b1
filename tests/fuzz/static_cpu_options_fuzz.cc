// Fuzzes the static CPU manager policy options (the kubelet's cpuManagerPolicyOptions), read
// from the configuration file: the input is lines of "name=value" (a line without '=' is a name
// with an empty value). Parsing either fails with a message or yields options that validate
// against 1-, 2- and 4-NUMA machines under every topology manager policy without crashing;
// options valid on one machine and policy name only known options.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/check.h"
#include "policies/policy_options.h"
#include "policies/static/cpu/kubelet_cpu_topology.h"
#include "policies/static/cpu/static_cpu_policy.h"
#include "topology/model.h"

namespace {

topod::topology::Topology machine(int packages, int nodes) {
  topod::topology::TopologyBuilder b;
  const int cpus = 16;
  for (int cpu = 0; cpu < cpus; ++cpu) {
    b.addCpu(
        {.id = cpu, .package = cpu * packages / cpus, .core_id = cpu / 2, .l3 = cpu / 4, .numa = cpu * nodes / cpus});
  }
  return b.build().value();
}

const std::vector<topod::policies::cpu::KubeletCpuTopology>& machines() {
  static const std::vector<topod::policies::cpu::KubeletCpuTopology> kMachines = {
      topod::policies::cpu::KubeletCpuTopology::fromTopology(machine(1, 1)),
      topod::policies::cpu::KubeletCpuTopology::fromTopology(machine(2, 2)),
      topod::policies::cpu::KubeletCpuTopology::fromTopology(machine(2, 4)),
      topod::policies::cpu::KubeletCpuTopology::fromTopology(machine(4, 2)),
  };
  return kMachines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> options;
  while (!input.empty()) {
    std::size_t newline = input.find('\n');
    std::string_view line = input.substr(0, newline);
    std::size_t equals = line.find('=');
    options[std::string(line.substr(0, equals))] =
        equals == std::string_view::npos ? std::string() : std::string(line.substr(equals + 1));
    if (newline == std::string_view::npos) break;
    input.remove_prefix(newline + 1);
  }
  auto parsed = topod::policies::cpu::parseStaticCpuOptions(options);
  if (!parsed.has_value()) {
    TOPOD_CHECK(!parsed.error().message().empty());
    return 0;
  }
  TOPOD_CHECK(options.size() <= 6);  // one entry per known option
  using topod::policies::TopologyManagerPolicy;
  for (const auto& topo : machines()) {
    for (TopologyManagerPolicy policy : {TopologyManagerPolicy::None, TopologyManagerPolicy::BestEffort,
                                         TopologyManagerPolicy::Restricted, TopologyManagerPolicy::SingleNumaNode}) {
      auto valid = topod::policies::cpu::validateStaticCpuOptions(*parsed, topo, policy);
      if (!valid.has_value()) TOPOD_CHECK(!valid.error().message().empty());
    }
  }
  return 0;
}
