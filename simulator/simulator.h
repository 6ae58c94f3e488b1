// `topod simulate` as a pure library function: replays a trace of pod events against a policy
// and reports every decision as one JSON line plus a final summary line. No files, no clocks:
// the command (cli/simulate_command.cc) reads the inputs and prints what this emits.
// Formats, with examples: docs/simulator.md.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "policies/policy.h"
#include "policies/policy_options.h"
#include "policies/state.h"
#include "simulator/simulator_trace.h"
#include "topology/model.h"

namespace topod::policies {

struct SimulationSummary {
  int events = 0;
  int admitted = 0;      // containers admitted (and not rolled back with their pod)
  int rejected = 0;      // containers refused, plus those rolled back because a sibling was
  int numa_aligned = 0;  // admitted containers whose placement touched exactly one NUMA node
  int exclusive = 0;     // admitted containers with exclusive CPUs
  int resized = 0;
  int resize_refused = 0;
  int removed = 0;     // containers removed
  int errors = 0;      // events naming an unknown pod/container or adding an existing pod
  int containers = 0;  // containers in the final state
  // Free CPUs at the end: the shared pool minus reserved CPUs, per NUMA node.
  std::map<int, int> free_cpus_per_numa;
  int free_cpus = 0;
  // Free CPUs whose core has a sibling held exclusively (unusable for full-pcpus-only).
  int free_cpus_on_partial_cores = 0;
  // 1 - (free CPUs of the NUMA node with the most free CPUs) / (all free CPUs); 0 when nothing
  // is free. 0: all free capacity sits in one node; higher: it is scattered across nodes.
  double fragmentation = 0;
};

struct SimulationResult {
  State final_state;
  SimulationSummary summary;
};

class Simulator {
 public:
  // `initial` must already be validated (validateRestoredState); its containers become pods
  // the trace can resize and remove.
  Simulator(const topology::Topology& topology, const PolicyOptions& options, const Policy& policy, State initial);

  // Applies one event; returns its output lines (one per container decision).
  std::vector<std::string> apply(const TraceEvent& event);
  const State& state() const { return state_; }
  SimulationSummary summary() const;
  static std::string summaryLine(const SimulationSummary& summary);

 private:
  std::vector<std::string> add(const TraceEvent& event);
  std::vector<std::string> resize(const TraceEvent& event);
  std::vector<std::string> remove(const TraceEvent& event);

  const topology::Topology& topology_;
  const PolicyOptions& options_;
  const Policy& policy_;
  State state_;
  std::map<std::string, PodRequest> pods_;
  SimulationSummary counts_;
};

// Validates `initial` against the topology and options (a restore), replays the trace and
// calls `emit` with each output line, the summary last. Error: an initial state that does not
// fit (every problem listed, prefixed with `state_source`); the trace is parsed by the caller
// (parseTrace).
Result<SimulationResult> simulate(const topology::Topology& topology, const PolicyOptions& options,
                                  const Policy& policy, const State& initial, const std::vector<TraceEvent>& trace,
                                  const std::function<void(const std::string&)>& emit,
                                  const std::string& state_source = "initial state");

}  // namespace topod::policies
