// The policy contract: (Topology, State, Request) -> Decision. A Policy is constructed for one
// topology and one PolicyOptions, and is then a pure function of the State it is handed: it
// never remembers anything between calls, never touches the OS, never logs.
//
// How the agent uses it:
//   1. admit() / resize() return a Decision (or an Error whose message is the refusal reason the
//      user sees in pod events). The State passed in is not modified.
//   2. The agent applies the decision to the container (cgroups via NRI), then commits
//      `applyDecision(state, decision)`.
//   3. After every change it asks placements() for the new State and sends updates to every
//      container whose cpus or mems changed (shared pools shrink and grow as exclusive CPUs come
//      and go).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/cpuset.h"
#include "common/result.h"
#include "policies/policy_options.h"
#include "policies/request.h"
#include "policies/state.h"
#include "topology/model.h"

namespace topod::policies {

// Where a container runs right now: the cpuset.cpus and cpuset.mems it should have.
struct Placement {
  CpuSet cpus;
  NodeSet mems;  // empty = all NUMA nodes (no restriction)
  friend bool operator==(const Placement&, const Placement&) = default;
};

struct Decision {
  ContainerKey key;
  ContainerAllocation allocation;  // recorded in the State by applyDecision()
  Placement placement;             // what the container itself gets
  // One short human-readable paragraph: hints considered, NUMA chosen, why. For logs, the CLI
  // and, on refusal, the error the runtime reports.
  std::string explanation;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const = 0;

  // Placement for a container being created. Error: refused, with the reason.
  virtual Result<Decision> admit(const State& state, const PodRequest& pod,
                                 const ContainerRequest& container) const = 0;

  // In-place resize of an admitted container to `resized`. Keeps what it can (existing
  // exclusive CPUs, NUMA nodes); on Error the old allocation stays valid and untouched.
  virtual Result<Decision> resize(const State& state, const PodRequest& pod, const ContainerRequest& resized) const = 0;

  // Where every container of the State runs (exclusive CPUs, or the shared pool it belongs to).
  // Contract: a container's placement depends only on its own allocation and on the union of
  // exclusive CPUs of the State (State::totals().exclusive_cpus). The agent relies on it: after a
  // change that leaves that union alone it updates no other container, without asking for every
  // placement (tests/policies/engine/placement_contract_test.cc holds every policy to it).
  virtual std::map<ContainerKey, Placement> placements(const State& state) const = 0;

  // The CPUs of the shared pool(s) in this State: every allocatable CPU no container holds
  // exclusively (reserved CPUs stay in it unless strict-cpu-reservation says otherwise).
  virtual CpuSet sharedCpus(const State& state) const = 0;

  // The CPUs never handed out exclusively: PolicyOptions::reserved_cpus, or the CPUs this policy
  // picked for reserved_cpu_count. The state checker and the agent hold every allocation to it.
  virtual CpuSet reservedCpus() const = 0;
};

// The State after a decision: the container's allocation recorded (replacing an older one).
State applyDecision(const State& state, const Decision& decision);
// The State without the container; its exclusive CPUs and memory return to the pools.
State releaseContainer(const State& state, const ContainerKey& key);

}  // namespace topod::policies
