// Which policies exist and how one is built: explicit composition, no static-initialiser
// registration (STYLE.md practice 4). The agent and the simulator call makePolicy() once at
// start; an unknown name or an invalid option combination is a start-up error that says what
// is wrong and what is accepted.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "policies/policy.h"
#include "policies/policy_options.h"
#include "topology/model.h"

namespace topod::policies {

struct PolicyInfo {
  std::string_view name;
  std::string_view summary;  // one line for `--help` and docs
};

// Every policy makePolicy() can build, in a stable order.
const std::vector<PolicyInfo>& knownPolicies();
// "none, static, topology-aware": for error messages and help texts.
std::string knownPolicyList();

// Checks the options against each other and against the machine (reserved CPUs online and
// fewer than all CPUs, kubelet option combinations, memory reservations on existing nodes...).
// Error: InvalidArgument naming the option and the reason.
Status validatePolicyOptions(const topology::Topology& topology, const PolicyOptions& options);

// Validates, then builds the policy options.policy names for this topology.
Result<std::unique_ptr<Policy>> makePolicy(const topology::Topology& topology, const PolicyOptions& options);

}  // namespace topod::policies
