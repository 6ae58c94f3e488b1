// topod's command line. This is the only file that includes CLI11 (slow to compile: about 15 s
// per file that includes it, with no precompiled mode): each command parses its options here into
// a plain struct and calls a function declared in cli/commands.h.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "agent/run_loop.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"topod: node topology and resource manager for Kubernetes"};
  app.require_subcommand(1);

  auto* version = app.add_subcommand("version", "Print the topod version");

  topod::agent::TopologyOptions topology_options;
  auto* topology = app.add_subcommand("topology", "Print the machine's topology and its NUMA zone summary");
  topology->add_option("--source", topology_options.source, "live, xml:PATH, synthetic:DESC or json:PATH")
      ->capture_default_str();
  topology
      ->add_option("--output", topology_options.output,
                   "tree, json, nrt (the NodeResourceTopology object, JSON) or nrt-yaml (the same as YAML)")
      ->check(CLI::IsMember({"tree", "json", "nrt", "nrt-yaml"}))
      ->capture_default_str();
  topology->add_option("--state", topology_options.state_dir, "nrt: state directory whose allocations count as held");
  topology->add_option("--config", topology_options.config_path, "nrt: topod.toml with the policy options");
  topology->add_option("--node", topology_options.node_name,
                       "nrt: node name (default: $NODE_NAME, then the host name)");
  topology->add_option("--sysfs-root", topology_options.sysfs_root,
                       "Read isolated/offline CPUs from this sysfs root (default / for live; xml and synthetic "
                       "sources read it only when given)");

  topod::agent::RunOptions run_options;
  auto* run = app.add_subcommand("run", "Run the node agent: serve NRI events from the container runtime");
  run->add_option("--config", run_options.config_path, "TOML configuration file (default: embedded defaults)");
  run->add_option("--topology", run_options.topology,
                  "Topology source: live, xml:PATH, synthetic:DESC or json:PATH (default: live)");
  run->add_option("--state-dir", run_options.state_dir, "Overrides the configuration's state_dir");
  run->add_option("--nri-socket", run_options.nri_socket, "Overrides the configuration's nri.socket_path");

  auto* config = app.add_subcommand("config", "Work with topod configuration files");
  config->require_subcommand(1);
  topod::agent::ConfigCheckOptions config_check_options;
  auto* config_check = config->add_subcommand("check", "Validate a configuration file without running");
  config_check->add_option("file", config_check_options.path, "TOML configuration file")->required();
  config_check->add_option("--topology", config_check_options.topology,
                           "machine to check it for: live (default), xml:PATH, synthetic:DESC, json:PATH");

  topod::agent::SimulateOptions simulate_options;
  auto* simulate =
      app.add_subcommand("simulate", "Replay a trace of pod events against a policy and print each decision");
  simulate->add_option("--topology", simulate_options.topology, "live, xml:PATH, synthetic:DESC or json:PATH")
      ->required();
  simulate->add_option("--config", simulate_options.config, "TOML configuration (its [policy] table is used)");
  simulate->add_option("--policy", simulate_options.policy, "policy name, overriding the configuration's");
  simulate->add_option("--state", simulate_options.state, "initial state JSON (containers already placed)");
  simulate->add_option("--trace", simulate_options.trace, "trace of add/resize/remove events, JSON Lines")->required();
  topod::agent::StateOptions state_options;
  auto* state = app.add_subcommand("state", "Print the allocations a state directory holds (state.json plus journal)");
  state->add_option("--state-dir", state_options.state_dir, "The agent's state directory")->capture_default_str();
  state->add_option("--output", state_options.output, "table or json (a state document for simulate --state)")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  topod::agent::EvictionsOptions evictions_options;
  auto* evictions =
      app.add_subcommand("evictions", "List the eviction warnings in flight, with progress and deadlines");
  evictions->add_option("--state-dir", evictions_options.state_dir, "The agent's state directory")
      ->capture_default_str();
  evictions->add_option("--output", evictions_options.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  topod::agent::NriProbeOptions nri_probe_options;
  nri_probe_options.argv0 = argv[0];
  auto* nri_probe = app.add_subcommand("nri-probe", "Register as an NRI plugin and print events");
  nri_probe->add_option("--socket", nri_probe_options.socket_path, "Runtime NRI socket");
  nri_probe->add_option("--name", nri_probe_options.name, "Plugin name");
  nri_probe->add_option("--idx", nri_probe_options.idx, "Plugin index (two digits)");
  nri_probe->add_flag("--all-events", nri_probe_options.all_events, "Subscribe to every event the runtime offers");
  nri_probe->add_option("--exit-after-syncs", nri_probe_options.exit_after_syncs,
                        "Exit after this many synchronizations (0: run until signalled)");

  // The commands that ask the running agent (docs/api.md).
  auto add_api_options = [](CLI::App* command, topod::agent::ApiCommandOptions& options) {
    command->add_option("--socket", options.socket, "The agent's API socket (default: /run/topod/api.sock)");
    command->add_option("--config", options.config_path, "Take the socket from this topod.toml's [api] socket_path");
  };
  topod::agent::ApiCommandOptions status_options{.socket = {}, .config_path = {}, .output = "text"};
  auto* status = app.add_subcommand("status", "Ask the running agent: health, runtime, policy, counts");
  add_api_options(status, status_options);
  status->add_option("--output", status_options.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  topod::agent::ApiCommandOptions allocations_options{.socket = {}, .config_path = {}, .output = "table"};
  auto* allocations = app.add_subcommand("allocations", "Ask the running agent for every container's allocation");
  add_api_options(allocations, allocations_options);
  allocations->add_option("--output", allocations_options.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  topod::agent::ExplainOptions explain_options;
  explain_options.api.output = "text";
  auto* explain = app.add_subcommand(
      "explain", "Ask the running agent why a container got its CPUs (or was refused), or what a new pod would get");
  add_api_options(explain, explain_options.api);
  explain->add_option("pod", explain_options.target, "POD[/CONTAINER]; POD is namespace/name or the pod UID");
  explain->add_option("--request", explain_options.request_file,
                      "What-if: a file with one pod, a simulator trace line {\"op\":\"add\",...}");
  explain->add_option("--cpu", explain_options.cpu, "What-if: one container with this CPU request and limit");
  explain->add_option("--memory", explain_options.memory, "What-if: ... and this memory request and limit");
  explain->add_option("--output", explain_options.api.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) return topod::agent::runVersionCommand();
  if (topology->parsed()) return topod::agent::runTopologyCommand(topology_options);
  if (run->parsed()) return topod::agent::runRunCommand(run_options);
  if (config_check->parsed()) return topod::agent::runConfigCheckCommand(config_check_options);
  if (simulate->parsed()) return topod::agent::runSimulateCommand(simulate_options);
  if (state->parsed()) return topod::agent::runStateCommand(state_options);
  if (evictions->parsed()) return topod::agent::runEvictionsCommand(evictions_options);
  if (nri_probe->parsed()) return topod::agent::runNriProbeCommand(nri_probe_options);
  if (status->parsed()) return topod::agent::runStatusCommand(status_options);
  if (allocations->parsed()) return topod::agent::runAllocationsCommand(allocations_options);
  if (explain->parsed()) return topod::agent::runExplainCommand(explain_options);
  return 2;
}
