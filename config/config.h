// topod's configuration: what `topod run` is told by its TOML file, or the embedded defaults when
// there is none. Every key, its type, default and meaning is documented in docs/configuration.md;
// examples/topod.toml is a complete sample.
//
// Parsing is strict: an unknown key, a value of the wrong type or an invalid value is an error
// that names the file, the line, the key and the reason. All problems of a file are reported at
// once, one per line, so a user fixes them in one round.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "config/eviction_config.h"
#include "config/kubernetes_config.h"
#include "policies/policy_options.h"
#include "state/state_journal.h"
#include "topology/model.h"

namespace topod::agent {

enum class LogLevel { Trace, Debug, Info, Warn, Error };
std::string_view logLevelName(LogLevel level);

struct NriConfig {
  // The runtime's NRI socket (containerd and CRI-O both default to this path).
  std::string socket_path = "/var/run/nri/nri.sock";
  // Name and two-digit index the plugin registers with; the runtime calls plugins in index order.
  std::string plugin_name = "topod";
  std::string plugin_index = "90";
  // Declared here, before Config defaults its own ==, so that clang 14 finds it.
  friend bool operator==(const NriConfig&, const NriConfig&) = default;
};

// The metrics and health endpoint ([metrics], docs/metrics.md).
struct MetricsConfig {
  // "host:port" (metrics/listen_address.h); empty: no endpoint. Loopback by default: the
  // numbers describe the node's workloads, so exposing them off the node is a choice.
  std::string address = "127.0.0.1:9412";
  friend bool operator==(const MetricsConfig&, const MetricsConfig&) = default;
};
struct ApiConfig {
  // The local API's unix socket (`topod status`, `allocations`, `explain`; docs/api.md), created
  // 0600 in a 0700 directory. Empty: no API.
  std::string socket_path = "/run/topod/api.sock";
  friend bool operator==(const ApiConfig&, const ApiConfig&) = default;
};
// sockaddr_un holds 108 bytes with the terminating NUL.
inline constexpr std::size_t kMaxSocketPathBytes = 107;

struct Config {
  // Embedded defaults: the kubelet's usual production setting (static CPU manager with one
  // reserved CPU, memory manager off, topology manager best-effort at container scope).
  policies::PolicyOptions policy = defaultPolicyOptions();
  NriConfig nri;
  ApiConfig api;
  // NodeResourceTopology publishing ([kubernetes]); off unless enabled.
  KubernetesConfig kubernetes;
  MetricsConfig metrics;
  // Eviction warnings ([eviction], docs/eviction.md); off unless enabled.
  EvictionConfig eviction;
  // Where the checkpoint (state.json and its journal) and the lock file live.
  std::string state_dir = "/var/lib/topod";
  // When a change is fdatasynced: before the reply (survives power loss) or within a second
  // (survives any crash of topod; a power loss stops the containers anyway).
  JournalSync state_sync = JournalSync::EveryChange;
  // Records per journal segment; a full segment is folded into state.json in the background.
  uint64_t state_journal_records = 1024;
  // Where the cgroup hierarchies are mounted; the layout (v1, hybrid, v2) is read from
  // /proc/self/mountinfo when this is the default, and assumed v2 otherwise unless a
  // `cpuset` subdirectory marks a v1 tree.
  std::string cgroup_root = "/sys/fs/cgroup";
  LogLevel log_level = LogLevel::Info;
  // Where the configuration came from: a file path, or "embedded defaults".
  std::string source = "embedded defaults";

  static policies::PolicyOptions defaultPolicyOptions();
  friend bool operator==(const Config&, const Config&) = default;
};

// The configuration topod runs with when no file is given.
Config defaultConfig();

// A configuration is a few kilobytes; larger input is refused before it is parsed.
inline constexpr std::size_t kMaxConfigBytes = std::size_t{1} << 20;

// Parses TOML text (at most kMaxConfigBytes, nesting bounded); `source_name` names the input in errors
// ("/etc/topod/topod.toml:12:3: ..."). Keys absent from the text keep their embedded defaults. Never throws.
Result<Config> parseConfig(std::string_view text, std::string_view source_name);

// Reads and parses a file. Errors name the path (unreadable file, not a regular file, or parse
// problems as above).
Result<Config> loadConfig(const std::string& path);

// The checks that need the machine (reserved CPUs online, options this topology supports, the
// static policy's reservation): `topod config check`, `topod run` and a SIGHUP reload all call
// this one function, so that a file one accepts the others accept too.
Status validateConfigForMachine(const Config& config, const topology::Topology& topology);

// A short multi-line human summary of the effective configuration (for `config check`, the
// start-up log and SIGHUP reloads).
std::string describeConfig(const Config& config);

}  // namespace topod::agent
