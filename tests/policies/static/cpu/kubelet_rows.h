// Helpers for porting the kubelet's CPU manager test tables row by row.
#pragma once

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "common/check.h"
#include "common/cpuset.h"
#include "policies/static/cpu/kubelet_cpu_topology.h"
#include "tests/policies/kubelet_topologies.h"

namespace topod::policies::cpu::test {

// The kubelet view of a fixture with the kubelet's own ids; a fixture without uncore ids gets the
// kubelet's zero value for every CPU.
inline KubeletCpuTopology kubeletView(const std::vector<topod::testing::KubeletCpuInfo>& rows) {
  std::vector<KubeletCpuInfo> converted;
  for (const auto& row : rows) {
    converted.push_back({.cpu = row.cpu,
                         .core = row.core,
                         .socket = row.socket,
                         .numa = row.numa,
                         .uncore = row.uncore == topod::testing::kNoUncore ? 0 : row.uncore});
  }
  auto view = KubeletCpuTopology::fromRows(converted);
  TOPOD_CHECK(view.has_value());
  return std::move(view).value();
}

inline CpuSet cpus(const char* list) {
  auto parsed = CpuSet::parse(list);
  TOPOD_CHECK(parsed.has_value());
  return *parsed;
}

// A GoogleTest-safe row name from the kubelet's description; repeated descriptions (the kubelet
// has a few) get a numeric suffix so every row keeps its own name.
inline std::string rowName(const std::string& description, std::set<std::string>& seen) {
  std::string name;
  bool underscore = false;
  for (char c : description) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      name += c;
      underscore = false;
    } else if (!underscore && !name.empty()) {
      name += '_';
      underscore = true;
    }
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  std::string unique = name;
  for (int n = 2; !seen.insert(unique).second; ++n) unique = name + "_" + std::to_string(n);
  return unique;
}

}  // namespace topod::policies::cpu::test
