#include "config/config.h"

#include <toml++/toml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include "common/file_io.h"
#include "common/resource_names.h"
#include "config/config_reader.h"
#include "metrics/listen_address.h"
#include "policies/policy_registry.h"
#include "policies/request.h"

namespace topod::agent {

namespace {

using policies::MemoryManagerPolicy;
using policies::TopologyManagerPolicy;
using policies::TopologyManagerScope;

// The CPU-count cap of CpuSet (CONFIG_NR_CPUS maximum).
constexpr int64_t kMaxCpuCount = CpuSet::kMaxId + 1;

// Past a million records (~600 MB) a journal segment would take longer to fold than to rewrite.
constexpr int64_t kMaxJournalRecords = 1 << 20;
const std::vector<std::pair<std::string_view, JournalSync>> kStateSyncModes = {
    {"every-change", JournalSync::EveryChange},
    {"background", JournalSync::Background},
};
const std::vector<std::pair<std::string_view, LogLevel>> kLogLevels = {{"trace", LogLevel::Trace},
                                                                       {"debug", LogLevel::Debug},
                                                                       {"info", LogLevel::Info},
                                                                       {"warn", LogLevel::Warn},
                                                                       {"error", LogLevel::Error}};
const std::vector<std::pair<std::string_view, std::string>> kPolicies = {
    {"none", "none"}, {"static", "static"}, {"topology-aware", "topology-aware"}};
const std::vector<std::pair<std::string_view, MemoryManagerPolicy>> kMemoryPolicies = {
    {"none", MemoryManagerPolicy::None}, {"static", MemoryManagerPolicy::Static}};
const std::vector<std::pair<std::string_view, TopologyManagerPolicy>> kTopologyPolicies = {
    {"none", TopologyManagerPolicy::None},
    {"best-effort", TopologyManagerPolicy::BestEffort},
    {"restricted", TopologyManagerPolicy::Restricted},
    {"single-numa-node", TopologyManagerPolicy::SingleNumaNode}};
const std::vector<std::pair<std::string_view, TopologyManagerScope>> kScopes = {
    {"container", TopologyManagerScope::Container}, {"pod", TopologyManagerScope::Pod}};

template <typename T>
std::string_view nameOf(const std::vector<std::pair<std::string_view, T>>& table, const T& value) {
  for (const auto& [name, v] : table) {
    if (v == value) return name;
  }
  return "?";
}

bool isValidPluginName(std::string_view name) {
  if (name.empty()) return false;
  // NRI >= 0.12 accepts only these characters; older runtimes accept any non-empty name.
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void readPolicyCpuOptions(TableReader& cpu, policies::StaticCpuOptions& out) {
  cpu.readBool("full_pcpus_only", out.full_pcpus_only);
  cpu.readBool("distribute_cpus_across_numa", out.distribute_cpus_across_numa);
  cpu.readBool("align_by_socket", out.align_by_socket);
  cpu.readBool("distribute_cpus_across_cores", out.distribute_cpus_across_cores);
  cpu.readBool("strict_cpu_reservation", out.strict_cpu_reservation);
  cpu.readBool("prefer_align_cpus_by_uncorecache", out.prefer_align_cpus_by_uncorecache);
  cpu.finish();
}

void readReservedMemory(TableReader& policy, policies::PolicyOptions& out) {
  policy.readTableArray("reserved_memory", [&](TableReader& entry) {
    int64_t node = -1;
    if (!entry.readInt("numa_node", 0, NodeSet::kMaxId, node, /*required=*/true)) {
      entry.finish();
      return;
    }
    if (out.reserved_memory.count(static_cast<int>(node)) != 0) {
      entry.problem("numa_node", "NUMA node " + std::to_string(node) + " is listed twice");
    }
    auto& per_node = out.reserved_memory[static_cast<int>(node)];
    entry.readSubtable(
        "limits",
        [&](TableReader& limits) {
          limits.readEveryKey([&](const std::string& resource) {
            // The policies account huge pages under Kubernetes' canonical name: "hugepages-2048Ki"
            // is "hugepages-2Mi".
            std::string name = resource;
            if (hasHugepagePrefix(resource)) {
              auto size = hugepageSizeOf(resource);
              if (!size.has_value()) {
                limits.problem(resource, size.error().message());
                return;
              }
              name = hugepageResourceName(*size);
            } else if (resource != kResourceMemory) {
              limits.problem(resource,
                             "unknown resource (expected \"memory\" or \"hugepages-<size>\", "
                             "e.g. \"hugepages-2Mi\")");
              return;
            }
            uint64_t bytes = 0;
            if (!limits.readQuantity(resource, bytes)) return;
            if (!per_node.emplace(name, bytes).second) {
              limits.problem(resource, "names the same resource as another key (" + name + ")");
            }
          });
        },
        /*required=*/true);
    entry.finish();
  });
}

void readPolicy(TableReader& root, policies::PolicyOptions& out) {
  root.readSubtable("policy", [&](TableReader& policy) {
    policy.readChoice("name", kPolicies, out.policy);
    std::string reserved;
    if (policy.readString("reserved_cpus", reserved)) {
      auto cpus = CpuSet::parse(reserved);
      if (cpus.has_value()) {
        out.reserved_cpus = *cpus;
      } else {
        policy.problem("reserved_cpus", cpus.error().message());
      }
    }
    int64_t count = out.reserved_cpu_count;
    if (policy.readInt("reserved_cpu_count", 0, kMaxCpuCount, count)) {
      out.reserved_cpu_count = static_cast<int>(count);
      if (!reserved.empty() && out.reserved_cpus.size() != static_cast<int>(count)) {
        policy.problem("reserved_cpu_count", std::to_string(count) + " disagrees with reserved_cpus \"" + reserved +
                                                 "\" (" + std::to_string(out.reserved_cpus.size()) +
                                                 " CPUs); set only one of them");
      }
    } else if (!out.reserved_cpus.empty()) {
      // The list wins (PolicyOptions); keep the count consistent with it for readers of both.
      out.reserved_cpu_count = out.reserved_cpus.size();
    }
    policy.readChoice("memory_manager", kMemoryPolicies, out.memory_policy);
    policy.readSubtable("cpu", [&](TableReader& cpu) { readPolicyCpuOptions(cpu, out.cpu); });
    readReservedMemory(policy, out);
    policy.finish();
  });
  root.readSubtable("topology_manager", [&](TableReader& tm) {
    auto& opts = out.topology_manager;
    tm.readChoice("policy", kTopologyPolicies, opts.policy);
    tm.readChoice("scope", kScopes, opts.scope);
    tm.readBool("prefer_closest_numa_nodes", opts.prefer_closest_numa_nodes);
    int64_t max_nodes = opts.max_allowable_numa_nodes;
    if (tm.readInt("max_allowable_numa_nodes", 1, NodeSet::kMaxId + 1, max_nodes)) {
      opts.max_allowable_numa_nodes = static_cast<int>(max_nodes);
    }
    tm.finish();
  });
}

void readNri(TableReader& root, NriConfig& out) {
  root.readSubtable("nri", [&](TableReader& nri) {
    if (nri.readString("socket_path", out.socket_path) && out.socket_path.empty()) {
      nri.problem("socket_path", "must not be empty");
    }
    if (nri.readString("plugin_name", out.plugin_name) && !isValidPluginName(out.plugin_name)) {
      nri.problem("plugin_name",
                  "\"" + out.plugin_name + "\" must be non-empty and use only [a-zA-Z0-9_.+-] (NRI rule)");
    }
    if (nri.readString("plugin_index", out.plugin_index)) {
      const std::string& idx = out.plugin_index;
      bool ok = idx.size() == 2 && idx[0] >= '0' && idx[0] <= '9' && idx[1] >= '0' && idx[1] <= '9';
      if (!ok) nri.problem("plugin_index", "\"" + idx + "\" must be exactly two digits, e.g. \"90\"");
    }
    nri.finish();
  });
}

void readMetrics(TableReader& root, MetricsConfig& out) {
  root.readSubtable("metrics", [&](TableReader& metrics) {
    if (metrics.readString("address", out.address) && !out.address.empty()) {
      auto parsed = metrics::parseListenAddress(out.address);
      if (!parsed.has_value()) {
        metrics.problem("address", parsed.error().message() + " (\"\" turns the endpoint off)");
      } else if (parsed->port == 0) {
        metrics.problem("address", "\"" + out.address + "\": port 0 would be a different port at every start");
      }
    }
    metrics.finish();
  });
}

void readApi(TableReader& root, ApiConfig& out) {
  root.readSubtable("api", [&](TableReader& api) {
    if (api.readString("socket_path", out.socket_path) && !out.socket_path.empty()) {
      if (out.socket_path[0] != '/') {
        api.problem("socket_path", "\"" + out.socket_path + "\" must be an absolute path (or empty: no API)");
      } else if (out.socket_path.size() > kMaxSocketPathBytes) {
        api.problem("socket_path",
                    "longer than the " + std::to_string(kMaxSocketPathBytes) + " bytes a unix socket path may have");
      } else if (out.socket_path.back() == '/') {
        api.problem("socket_path", "\"" + out.socket_path + "\" names a directory, not a socket");
      }
    }
    api.finish();
  });
}

}  // namespace

std::string_view logLevelName(LogLevel level) {
  return nameOf(kLogLevels, level);
}

policies::PolicyOptions Config::defaultPolicyOptions() {
  policies::PolicyOptions options;
  options.policy = "static";
  // The kubelet's static policy refuses to start without a CPU reservation; production nodes
  // reserve system + kube CPU, which the kubelet rounds up to one whole CPU at least.
  options.reserved_cpu_count = 1;
  options.memory_policy = MemoryManagerPolicy::None;
  options.topology_manager.policy = TopologyManagerPolicy::BestEffort;
  options.topology_manager.scope = TopologyManagerScope::Container;
  return options;
}

Config defaultConfig() {
  return Config{};
}

namespace {

// toml++ walks nested tables recursively (after parsing, and when destroying them): a dotted key
// of some ten thousand parts, or as many nested arrays, overflows the stack. Real configurations
// nest a few levels, so this bounds what reaches the parser: the dots of one key (counted
// outside strings and comments from one '=', newline, comma or bracket to the next; a float or a
// time in a value adds at most one) and the depth of brackets and braces.
constexpr int kMaxKeyParts = 64;
constexpr int kMaxBracketDepth = 64;

Status checkTomlBounds(std::string_view text, std::string_view source_name) {
  int line = 1;
  int dots = 0;
  int depth = 0;
  auto fail = [&](const std::string& what) {
    return Error::invalidArgument(std::string(source_name) + ":" + std::to_string(line) + ": " + what);
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') ++line;
    if (c == '#') {  // a comment runs to the end of the line
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      const bool multi = text.substr(i, 3) == std::string(3, c);
      const std::string_view close = multi ? text.substr(i, 3) : text.substr(i, 1);
      i += close.size();
      for (; i < text.size(); ++i) {
        if (text[i] == '\n') ++line;
        if (c == '"' && text[i] == '\\') {  // escapes exist in basic strings only
          ++i;
          continue;
        }
        if (text.substr(i, close.size()) == close) break;
      }
      i += close.size() - 1;
      continue;
    }
    switch (c) {
      case '.':
        if (++dots > kMaxKeyParts) return fail("a key with more than " + std::to_string(kMaxKeyParts) + " parts");
        break;
      case '[':
      case '{':
        dots = 0;
        if (++depth > kMaxBracketDepth) {
          return fail("brackets nested more than " + std::to_string(kMaxBracketDepth) + " deep");
        }
        break;
      case ']':
      case '}':
        dots = 0;
        if (depth > 0) --depth;
        break;
      case '=':
      case ',':
      case '\n': dots = 0; break;
      default: break;
    }
  }
  return okStatus();
}

}  // namespace

Result<Config> parseConfig(std::string_view text, std::string_view source_name) {
  if (text.size() > kMaxConfigBytes) {
    return Error::invalidArgument(std::string(source_name) + ": " + std::to_string(text.size()) +
                                  " bytes, more than the " + std::to_string(kMaxConfigBytes) +
                                  " a configuration may hold");
  }
  TOPOD_RETURN_IF_ERROR(checkTomlBounds(text, source_name));
  toml::table table;
  try {
    table = toml::parse(text, std::string_view{source_name});
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    std::ostringstream msg;
    msg << source_name << ":" << where.line << ":" << where.column << ": " << e.description();
    return Error::invalidArgument(msg.str());
  } catch (const std::exception& e) {
    return Error::invalidArgument(std::string(source_name) + ": " + e.what());
  }

  Config config;
  config.source = std::string(source_name);
  std::vector<std::string> problems;
  TableReader root(table, "", std::string(source_name), problems);
  root.readChoice("log_level", kLogLevels, config.log_level);
  if (root.readString("state_dir", config.state_dir) && config.state_dir.empty()) {
    root.problem("state_dir", "must not be empty");
  }
  root.readChoice("state_sync", kStateSyncModes, config.state_sync);
  int64_t journal_records = 0;
  if (root.readInt("state_journal_records", 1, kMaxJournalRecords, journal_records)) {
    config.state_journal_records = static_cast<uint64_t>(journal_records);
  }
  if (root.readString("cgroup_root", config.cgroup_root) &&
      (config.cgroup_root.empty() || config.cgroup_root[0] != '/')) {
    root.problem("cgroup_root", "\"" + config.cgroup_root + "\" must be an absolute path");
  }
  readNri(root, config.nri);
  readApi(root, config.api);
  readKubernetes(root, config.kubernetes);
  readMetrics(root, config.metrics);
  readEviction(root, config.eviction);
  if (config.eviction.enabled && !config.kubernetes.enabled) {
    root.problem("eviction", "enabled needs [kubernetes] enabled (the API server connection)");
  }
  readPolicy(root, config.policy);
  root.finish();

  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) {
      if (!message.empty()) message += "\n";
      message += p;
    }
    return Error::invalidArgument(message);
  }
  return config;
}

Result<Config> loadConfig(const std::string& path) {
  // A regular file (a directory, a FIFO or a device is an error, not "no settings"); symlinks are
  // followed, as ConfigMap mounts are made of them.
  auto text = readRegularFile(path, {.max_bytes = kMaxConfigBytes, .no_follow = false});
  if (!text.has_value()) return text.error().withContext("reading config");
  return parseConfig(*text, path);
}

Status validateConfigForMachine(const Config& config, const topology::Topology& topology) {
  Status valid = policies::validatePolicyOptions(topology, config.policy);
  if (!valid.has_value()) return valid.error().withContext(config.source + ": [policy] on this machine");
  return okStatus();
}

std::string describeConfig(const Config& config) {
  const auto& p = config.policy;
  std::ostringstream out;
  out << "config: " << config.source << "\n";
  out << "  policy: " << p.policy << ", reserved cpus: "
      << (p.reserved_cpus.empty() ? std::to_string(p.reserved_cpu_count) + " (count)" : p.reserved_cpus.toString())
      << ", memory manager: " << nameOf(kMemoryPolicies, p.memory_policy) << "\n";
  out << "  topology manager: " << nameOf(kTopologyPolicies, p.topology_manager.policy) << ", scope "
      << nameOf(kScopes, p.topology_manager.scope) << "\n";
  out << "  nri socket: " << config.nri.socket_path << " (plugin " << config.nri.plugin_index << "-"
      << config.nri.plugin_name << ")\n";
  out << "  api socket: " << (config.api.socket_path.empty() ? "none (disabled)" : config.api.socket_path) << "\n";
  out << "  state dir: " << config.state_dir << " (sync " << nameOf(kStateSyncModes, config.state_sync)
      << ", journal segments of " << config.state_journal_records << " records), cgroup root: " << config.cgroup_root
      << ", log level: " << logLevelName(config.log_level) << "\n";
  out << "  metrics: " << (config.metrics.address.empty() ? "off" : "http://" + config.metrics.address + "/metrics")
      << "\n";
  if (config.kubernetes.enabled) {
    out << "  kubernetes: publishing NodeResourceTopology via "
        << (config.kubernetes.kubeconfig.empty() ? "in-cluster config" : config.kubernetes.kubeconfig)
        << ", at most one write per " << config.kubernetes.publish_interval_ms << " ms\n";
  }
  if (config.eviction.enabled) {
    out << "  eviction: responder " << config.eviction.responder_name << ", mode " << config.eviction.mode
        << (config.eviction.mode == "signal" ? " (" + config.eviction.signal + ")" : std::string())
        << (config.eviction.mode == "criu" ? " (CRI " + config.eviction.cri_socket + ")" : std::string())
        << ", deadline " << config.eviction.deadline_s << " s, notices in " << config.eviction.notice_dir << "\n";
    out << "  eviction requests: "
        << (config.eviction.request_evictions ? "as " + config.eviction.requester_name + " when a pod's CPUs are lost"
                                              : std::string("off"))
        << "\n";
  }
  return out.str();
}

}  // namespace topod::agent
