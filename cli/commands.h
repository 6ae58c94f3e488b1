// The CLI's commands. Each takes its parsed options and returns the process exit status
// (0 success, 1 failure with a message already printed to stderr, 2 usage error). `topod run`
// is the daemon's own loop: agent/run_loop.h.
#pragma once

#include <string>

namespace topod::agent {

int runVersionCommand();

// `topod topology [--source live|xml:PATH|synthetic:DESC|json:PATH] [--output tree|json|nrt]
//  [--state DIR] [--config FILE] [--node NAME]`
struct TopologyOptions {
  std::string source = "live";
  // "tree" (tree + zone summary), "json" (the snapshot), "nrt" (the NodeResourceTopology
  // object topod would publish, JSON, from the policy of --config and the State of --state) or
  // "nrt-yaml" (the same object as YAML).
  std::string output = "tree";
  std::string state_dir;    // nrt: the State to count as held; empty = nothing held
  std::string config_path;  // nrt: the policy options; empty = the embedded defaults
  std::string node_name;    // nrt: the object's name; empty = as `topod run` resolves it
  std::string sysfs_root;   // where isolated/offline CPUs are read; empty = "/" for live only
};
int runTopologyCommand(const TopologyOptions& options);

// `topod config check FILE [--topology SRC]`: the file, then the same machine checks as `run`.
struct ConfigCheckOptions {
  std::string path;
  std::string topology = "live";  // the machine the file is checked for (a loadTopology() source)
};
int runConfigCheckCommand(const ConfigCheckOptions& options);

// `topod simulate --topology SRC [--config FILE.toml] [--policy NAME] [--state FILE.json]
//  --trace FILE.jsonl` (docs/simulator.md).
struct SimulateOptions {
  std::string topology;  // a loadTopology() source: live, xml:PATH, synthetic:DESC, json:PATH
  std::string config;    // TOML file; empty: the embedded defaults
  std::string policy;    // overrides [policy] name when set
  std::string state;     // initial state JSON; empty: no containers
  std::string trace;     // JSON Lines trace
};
int runSimulateCommand(const SimulateOptions& options);

// `topod state [--state-dir DIR] [--output table|json]`: the allocations a state directory holds.
struct StateOptions {
  std::string state_dir = "/var/lib/topod";
  std::string output = "table";  // "table" or "json" (a state document for `simulate --state`)
};
int runStateCommand(const StateOptions& options);

// `topod evictions [--state-dir DIR] [--output table|json]`: eviction warnings in flight.
struct EvictionsOptions {
  std::string state_dir = "/var/lib/topod";
  std::string output = "table";  // "table" or "json" (the evictions.json document)
};
int runEvictionsCommand(const EvictionsOptions& options);

// `topod nri-probe`: register as an NRI plugin, print events, answer neutrally.
struct NriProbeOptions {
  std::string socket_path = "/var/run/nri/nri.sock";
  std::string name = "topod-probe";
  std::string idx = "90";
  bool all_events = false;        // subscribe to every event valid for the runtime
  unsigned exit_after_syncs = 0;  // 0: run until SIGINT/SIGTERM
  std::string argv0;              // for "<idx>-<name>" when launched by the runtime
};
int runNriProbeCommand(const NriProbeOptions& options);

// The commands that ask a running agent through its local API (docs/api.md). Exit status 3 when
// no agent listens on the socket (the message says why), 1 for any other failure.
inline constexpr int kExitNoAgent = 3;
struct ApiCommandOptions {
  std::string socket;       // the API socket; empty: [api] socket_path of --config, else the default
  std::string config_path;  // a topod.toml whose [api] socket_path is used
  std::string output;       // status/explain: "text" or "json"; allocations: "table" or "json"
};
// `topod status`: health, runtime connection, policy, counts.
int runStatusCommand(const ApiCommandOptions& options);
// `topod allocations [--output table|json]`
int runAllocationsCommand(const ApiCommandOptions& options);

// `topod explain POD[/CONTAINER]` (POD: namespace/name or UID), or a what-if for a pod that does
// not run: `topod explain --request FILE` (one simulator trace "add" line) or
// `topod explain --cpu Q [--memory Q]` (one container, requests equal to limits).
struct ExplainOptions {
  ApiCommandOptions api;
  std::string target;        // POD or POD/CONTAINER (namespace/name/container or uid/container)
  std::string request_file;  // what-if: a JSON line as in `topod simulate` traces ({"op":"add",...})
  std::string cpu;           // what-if: the CPU quantity of one container
  std::string memory;        // what-if: its memory quantity
};
int runExplainCommand(const ExplainOptions& options);

}  // namespace topod::agent
