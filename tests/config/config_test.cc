#include "config/config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace topod::agent {
namespace {

using policies::MemoryManagerPolicy;
using policies::TopologyManagerPolicy;
using policies::TopologyManagerScope;

TEST(ConfigTest, EmptyFileIsTheEmbeddedDefaults) {
  auto config = parseConfig("", "empty.toml");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  Config expected = defaultConfig();
  expected.source = "empty.toml";
  EXPECT_EQ(*config, expected);
}

TEST(ConfigTest, DefaultsMatchTheKubeletProductionSetting) {
  Config config = defaultConfig();
  EXPECT_EQ(config.policy.policy, "static");
  EXPECT_EQ(config.policy.reserved_cpu_count, 1);
  EXPECT_TRUE(config.policy.reserved_cpus.empty());
  EXPECT_EQ(config.policy.memory_policy, MemoryManagerPolicy::None);
  EXPECT_EQ(config.policy.topology_manager.policy, TopologyManagerPolicy::BestEffort);
  EXPECT_EQ(config.policy.topology_manager.scope, TopologyManagerScope::Container);
  EXPECT_EQ(config.nri.socket_path, "/var/run/nri/nri.sock");
  EXPECT_EQ(config.api.socket_path, "/run/topod/api.sock");
  EXPECT_EQ(config.state_dir, "/var/lib/topod");
  EXPECT_EQ(config.state_sync, JournalSync::EveryChange) << "durable before the reply, as the kubelet's checkpoints";
  EXPECT_EQ(config.log_level, LogLevel::Info);
}

TEST(ConfigTest, MetricsDefaultToLoopbackAndAnEmptyAddressTurnsThemOff) {
  EXPECT_EQ(defaultConfig().metrics.address, "127.0.0.1:9412");
  auto off = parseConfig("[metrics]\naddress = \"\"\n", "off.toml");
  ASSERT_TRUE(off.has_value()) << off.error().toString();
  EXPECT_TRUE(off->metrics.address.empty());
  EXPECT_NE(describeConfig(*off).find("metrics: off"), std::string::npos);
  EXPECT_NE(describeConfig(defaultConfig()).find("metrics: http://127.0.0.1:9412/metrics"), std::string::npos);
}

TEST(ConfigTest, SampleFileParsesToTheDefaults) {
  auto config = loadConfig(std::string(TOPOD_SOURCE_DIR) + "/examples/topod.toml");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  Config expected = defaultConfig();
  expected.source = config->source;
  EXPECT_EQ(*config, expected);
}

TEST(ConfigTest, EveryKeyIsRead) {
  auto config = parseConfig(R"(
log_level = "debug"
state_dir = "/tmp/topod-state"
state_sync = "background"
state_journal_records = 64
cgroup_root = "/tmp/cg"
[nri]
socket_path = "/run/nri.sock"
plugin_name = "topod-test"
plugin_index = "05"
[metrics]
address = "[::1]:9100"
[policy]
name = "topology-aware"
reserved_cpus = "0,2"
memory_manager = "static"
[policy.cpu]
full_pcpus_only = true
distribute_cpus_across_numa = true
align_by_socket = true
distribute_cpus_across_cores = true
strict_cpu_reservation = true
prefer_align_cpus_by_uncorecache = true
[[policy.reserved_memory]]
numa_node = 0
limits = { memory = "1Gi", "hugepages-2Mi" = 4194304 }
[[policy.reserved_memory]]
numa_node = 1
limits = { memory = 1000 }
[topology_manager]
policy = "single-numa-node"
scope = "pod"
prefer_closest_numa_nodes = true
max_allowable_numa_nodes = 16
)",
                            "full.toml");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  const auto& p = config->policy;
  EXPECT_EQ(config->log_level, LogLevel::Debug);
  EXPECT_EQ(config->state_dir, "/tmp/topod-state");
  EXPECT_EQ(config->state_sync, JournalSync::Background);
  EXPECT_EQ(config->state_journal_records, 64U);
  EXPECT_EQ(config->cgroup_root, "/tmp/cg");
  EXPECT_EQ(config->nri.socket_path, "/run/nri.sock");
  EXPECT_EQ(config->nri.plugin_name, "topod-test");
  EXPECT_EQ(config->nri.plugin_index, "05");
  EXPECT_EQ(config->metrics.address, "[::1]:9100");
  EXPECT_EQ(p.policy, "topology-aware");
  EXPECT_EQ(p.reserved_cpus, (CpuSet{0, 2}));
  EXPECT_EQ(p.reserved_cpu_count, 2);
  EXPECT_EQ(p.memory_policy, MemoryManagerPolicy::Static);
  EXPECT_EQ(p.cpu, (policies::StaticCpuOptions{true, true, true, true, true, true}));
  EXPECT_EQ(p.reserved_memory.at(0).at("memory"), 1ULL << 30);
  EXPECT_EQ(p.reserved_memory.at(0).at("hugepages-2Mi"), 4194304U);
  EXPECT_EQ(p.reserved_memory.at(1).at("memory"), 1000U);
  EXPECT_EQ(p.topology_manager.policy, TopologyManagerPolicy::SingleNumaNode);
  EXPECT_EQ(p.topology_manager.scope, TopologyManagerScope::Pod);
  EXPECT_TRUE(p.topology_manager.prefer_closest_numa_nodes);
  EXPECT_EQ(p.topology_manager.max_allowable_numa_nodes, 16);
}

struct BadConfigRow {
  std::string name;
  std::string text;
  std::string expected;  // a substring of the error, including file:line and key
};

void PrintTo(const BadConfigRow& row, std::ostream* os) {
  *os << row.name;
}

class BadConfigTest : public testing::TestWithParam<BadConfigRow> {};

TEST_P(BadConfigTest, IsRejectedWithFileLineKeyAndReason) {
  auto config = parseConfig(GetParam().text, "bad.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(config.error().message().find(GetParam().expected), std::string::npos) << config.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, BadConfigTest,
    testing::Values(
        BadConfigRow{"UnknownTopLevelKey", "\n\nstat_dir = \"/x\"\n", "bad.toml:3:1: stat_dir: unknown key"},
        BadConfigRow{"UnknownNestedKey", "[policy.cpu]\nfull_pcpu_only = true\n",
                     "bad.toml:2:1: policy.cpu.full_pcpu_only: unknown key"},
        BadConfigRow{"UnknownTable", "[polcy]\nname = \"static\"\n", "polcy: unknown key"},
        BadConfigRow{"WrongTypeBool", "[policy.cpu]\nalign_by_socket = 1\n",
                     "bad.toml:2:19: policy.cpu.align_by_socket: expected a boolean"},
        BadConfigRow{"WrongTypeString", "state_dir = 3\n", "state_dir: expected a string, got an integer"},
        BadConfigRow{"WrongTypeTable", "policy = \"static\"\n", "policy: expected a table, got a string"},
        BadConfigRow{"UnknownPolicy", "[policy]\nname = \"dynamic\"\n",
                     "policy.name: \"dynamic\" is not one of \"none\", \"static\", \"topology-aware\""},
        BadConfigRow{"UnknownLogLevel", "log_level = \"loud\"\n", "log_level: \"loud\" is not one of"},
        BadConfigRow{"BadCpuList", "[policy]\nreserved_cpus = \"3-1\"\n",
                     "bad.toml:2:17: policy.reserved_cpus: cpu list"},
        BadConfigRow{"NegativeCount", "[policy]\nreserved_cpu_count = -1\n",
                     "policy.reserved_cpu_count: -1 is out of range"},
        BadConfigRow{"ListAndCountDisagree", "[policy]\nreserved_cpus = \"0-1\"\nreserved_cpu_count = 3\n",
                     "policy.reserved_cpu_count: 3 disagrees with reserved_cpus"},
        BadConfigRow{"BadTopologyPolicy", "[topology_manager]\npolicy = \"strict\"\n",
                     "topology_manager.policy: \"strict\" is not one of"},
        BadConfigRow{"BadScope", "[topology_manager]\nscope = \"node\"\n", "topology_manager.scope"},
        BadConfigRow{"ZeroMaxNumaNodes", "[topology_manager]\nmax_allowable_numa_nodes = 0\n",
                     "max_allowable_numa_nodes: 0 is out of range"},
        BadConfigRow{"PluginIndexNotTwoDigits", "[nri]\nplugin_index = \"100\"\n",
                     "nri.plugin_index: \"100\" must be exactly two digits"},
        BadConfigRow{"PluginNameWithSpace", "[nri]\nplugin_name = \"my plugin\"\n", "nri.plugin_name"},
        BadConfigRow{"MetricsAddressWithoutPort", "[metrics]\naddress = \"127.0.0.1\"\n",
                     "bad.toml:2:11: metrics.address: listen address \"127.0.0.1\": expected host:port"},
        BadConfigRow{"MetricsAddressHostName", "[metrics]\naddress = \"localhost:9412\"\n",
                     "metrics.address: listen address \"localhost:9412\": the host is not an IPv4 address"},
        BadConfigRow{"MetricsAddressPortZero", "[metrics]\naddress = \"127.0.0.1:0\"\n",
                     "metrics.address: \"127.0.0.1:0\": port 0 would be a different port at every start"},
        BadConfigRow{"MetricsUnknownKey", "[metrics]\nport = 9412\n", "metrics.port: unknown key"},
        BadConfigRow{"EmptySocket", "[nri]\nsocket_path = \"\"\n", "nri.socket_path: must not be empty"},
        BadConfigRow{"RelativeApiSocket", "[api]\nsocket_path = \"run/api.sock\"\n",
                     "api.socket_path: \"run/api.sock\" must be an absolute path"},
        BadConfigRow{"ApiSocketTooLong", "[api]\nsocket_path = \"/" + std::string(120, 'a') + "\"\n",
                     "api.socket_path: longer than the 107 bytes"},
        BadConfigRow{"ApiSocketIsADirectory", "[api]\nsocket_path = \"/run/topod/\"\n",
                     "api.socket_path: \"/run/topod/\" names a directory"},
        BadConfigRow{"ApiUnknownKey", "[api]\nport = 1\n", "api.port"},
        BadConfigRow{"RelativeCgroupRoot", "cgroup_root = \"sys/fs\"\n",
                     "cgroup_root: \"sys/fs\" must be an absolute path"},
        BadConfigRow{"ReservedMemoryWithoutNode", "[[policy.reserved_memory]]\nlimits = { memory = 1 }\n",
                     "policy.reserved_memory[0].numa_node: is required"},
        BadConfigRow{"ReservedMemoryNodeTwice",
                     "[[policy.reserved_memory]]\nnuma_node = 0\nlimits = { memory = 1 }\n"
                     "[[policy.reserved_memory]]\nnuma_node = 0\nlimits = { memory = 1 }\n",
                     "NUMA node 0 is listed twice"},
        BadConfigRow{"ReservedMemoryUnknownResource",
                     "[[policy.reserved_memory]]\nnuma_node = 0\nlimits = { cpu = 1 }\n",
                     "policy.reserved_memory[0].limits.cpu: unknown resource"},
        BadConfigRow{"ReservedMemoryBadQuantity",
                     "[[policy.reserved_memory]]\nnuma_node = 0\nlimits = { memory = \"1Gb\" }\n",
                     "limits.memory: memory quantity \"1Gb\": unknown suffix"},
        BadConfigRow{"ReservedMemoryFractionOfAByte",
                     "[[policy.reserved_memory]]\nnuma_node = 0\nlimits = { memory = \"0.5\" }\n",
                     "limits.memory: memory quantity \"0.5\": not a whole number of bytes"},
        BadConfigRow{"ReservedHugepagesNotAPowerOfTwo",
                     "[[policy.reserved_memory]]\nnuma_node = 0\nlimits = { \"hugepages-3Mi\" = 0 }\n",
                     "limits.hugepages-3Mi: \"hugepages-3Mi\": huge page size must be a power of two"},
        BadConfigRow{"ReservedHugepagesSizeTwice",
                     "[[policy.reserved_memory]]\nnuma_node = 0\nlimits = { \"hugepages-2Mi\" = 0, "
                     "\"hugepages-2048Ki\" = 0 }\n",
                     "names the same resource as another key (hugepages-2Mi)"},
        BadConfigRow{"ReservedMemoryNotAnArray", "[policy]\nreserved_memory = 5\n",
                     "policy.reserved_memory: expected an array of tables"},
        BadConfigRow{"UnknownStateSync", "state_sync = \"never\"\n",
                     "bad.toml:1:14: state_sync: \"never\" is not one of \"every-change\", \"background\""},
        BadConfigRow{"ZeroJournalRecords", "state_journal_records = 0\n", "state_journal_records: 0 is out of range"},
        BadConfigRow{"SyntaxError", "a = [1,\n", "bad.toml:1:"},
        BadConfigRow{"DuplicateKey", "log_level = \"info\"\nlog_level = \"info\"\n", "bad.toml:2:"}),
    [](const testing::TestParamInfo<BadConfigRow>& row) { return row.param.name; });

TEST(ConfigTest, AllProblemsAreReportedAtOnce) {
  auto config = parseConfig("log_level = \"x\"\nstate_dir = 1\nbogus = 2\n", "bad.toml");
  ASSERT_FALSE(config.has_value());
  const std::string& message = config.error().message();
  EXPECT_NE(message.find("log_level"), std::string::npos);
  EXPECT_NE(message.find("state_dir"), std::string::npos);
  EXPECT_NE(message.find("bogus"), std::string::npos);
}

TEST(ConfigTest, MissingFileNamesThePath) {
  auto config = loadConfig("/nonexistent/topod.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find("/nonexistent/topod.toml"), std::string::npos);
}

// Reserved memory takes Kubernetes quantities (common/quantity.h) and files huge pages under
// Kubernetes' canonical name, the one the policies account them under.
TEST(ConfigTest, ReservedMemoryTakesKubernetesQuantitiesAndCanonicalHugepageNames) {
  auto config = parseConfig(
      "[[policy.reserved_memory]]\nnuma_node = 0\n"
      "limits = { memory = \"1.5Gi\", \"hugepages-2048Ki\" = \"4Mi\" }\n",
      "quantities.toml");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  const auto& reserved = config->policy.reserved_memory.at(0);
  EXPECT_EQ(reserved.at("memory"), 3ULL << 29);
  EXPECT_EQ(reserved.at("hugepages-2Mi"), 4ULL << 20);
  EXPECT_EQ(reserved.size(), 2U);
}

// Issue 17 item 5: input that crashed the parser, and files `run` refused but `check` passed.
TEST(ConfigHostileTest, DeeplyNestedKeysAreRefusedNotACrash) {
  std::string dotted;
  for (int i = 0; i < 200000; ++i) dotted += "a.";
  dotted += "a = 1\n";
  auto config = parseConfig(dotted, "deep.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find("deep.toml:1: a key with more than 64 parts"), std::string::npos)
      << config.error().message().substr(0, 200);
  std::string header = "[" + dotted.substr(0, 200000) + "a]\nx = 1\n";
  EXPECT_FALSE(parseConfig(header, "deep.toml").has_value());
  std::string arrays = "x = " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  auto nested = parseConfig(arrays, "deep.toml");
  ASSERT_FALSE(nested.has_value());
  EXPECT_NE(nested.error().message().find("nested more than 64 deep"), std::string::npos);
  // Dots inside strings, comments and values are not key parts.
  std::string fine = "# " + std::string(500, '.') + "\nstate_dir = \"/var/lib/" + std::string(100, '.') + "\"\n";
  EXPECT_TRUE(parseConfig(fine, "fine.toml").has_value());
}

TEST(ConfigHostileTest, OversizedInputIsRefused) {
  std::string big(kMaxConfigBytes + 1, '\n');
  auto config = parseConfig(big, "big.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find("more than the"), std::string::npos);
}

TEST(ConfigHostileTest, ADirectoryIsNotAConfiguration) {
  auto config = loadConfig("/");
  ASSERT_FALSE(config.has_value()) << "a directory must not mean the embedded defaults";
  EXPECT_NE(config.error().message().find("not a regular file"), std::string::npos) << config.error().message();
}

TEST(ConfigHostileTest, TheMachineCheckIsTheOneRunAppliesAndRefusesAZeroStaticReservation) {
  auto config = parseConfig("[policy]\nname = \"static\"\nreserved_cpu_count = 0\n", "zero.toml");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  topology::TopologyBuilder builder;
  for (int cpu = 0; cpu < 4; ++cpu) builder.addCpu({.id = cpu, .core_id = cpu, .l3 = 0, .numa = 0});
  builder.addNumaNode({.id = 0, .memory_bytes = 1ULL << 30});
  auto topology = builder.build();
  ASSERT_TRUE(topology.has_value());
  Status valid = validateConfigForMachine(*config, *topology);
  ASSERT_FALSE(valid.has_value());
  EXPECT_NE(valid.error().message().find("needs at least one reserved CPU"), std::string::npos)
      << valid.error().message();
  EXPECT_TRUE(validateConfigForMachine(defaultConfig(), *topology).has_value());
}

TEST(ConfigTest, EvictionTableIsReadAndNeedsKubernetes) {
  auto config = parseConfig(R"(
[kubernetes]
enabled = true
[eviction]
enabled = true
responder_name = "example.com/checkpoint"
mode = "file"
signal = "SIGUSR2"
deadline_s = 120
max_deadline_s = 900
heartbeat_interval_s = 60
poll_interval_ms = 500
notice_dir = "/run/x"
request_evictions = false
requester_name = "example.com/pressure"
)",
                            "eviction.toml");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  EXPECT_TRUE(config->eviction.enabled);
  EXPECT_EQ(config->eviction.responder_name, "example.com/checkpoint");
  EXPECT_EQ(config->eviction.mode, "file");
  EXPECT_EQ(config->eviction.signal, "SIGUSR2");
  EXPECT_EQ(config->eviction.deadline_s, 120);
  EXPECT_EQ(config->eviction.max_deadline_s, 900);
  EXPECT_EQ(config->eviction.heartbeat_interval_s, 60);
  EXPECT_EQ(config->eviction.poll_interval_ms, 500);
  EXPECT_EQ(config->eviction.notice_dir, "/run/x");
  EXPECT_FALSE(config->eviction.request_evictions);
  EXPECT_EQ(config->eviction.requester_name, "example.com/pressure");
  EXPECT_TRUE(defaultConfig().eviction.request_evictions);
  EXPECT_NE(describeConfig(*config).find("eviction: responder example.com/checkpoint, mode file"), std::string::npos);

  // Mode criu and its keys (the socket's reachability is checked by topod run, not here).
  auto criu = parseConfig(
      "[kubernetes]\nenabled = true\n[eviction]\nenabled = true\nmode = \"criu\"\ncri_socket = "
      "\"/run/crio/crio.sock\"\ncheckpoint_dir = \"/srv/ckpt\"\n"
      "checkpoint_timeout_s = 60\n",
      "criu.toml");
  ASSERT_TRUE(criu.has_value()) << criu.error().toString();
  EXPECT_EQ(criu->eviction.mode, "criu");
  EXPECT_EQ(criu->eviction.cri_socket, "/run/crio/crio.sock");
  EXPECT_EQ(criu->eviction.checkpoint_dir, "/srv/ckpt");
  EXPECT_EQ(criu->eviction.checkpoint_timeout_s, 60);
  EXPECT_NE(describeConfig(*criu).find("mode criu (CRI /run/crio/crio.sock)"), std::string::npos);
  EXPECT_EQ(EvictionConfig{}.cri_socket, "/run/containerd/containerd.sock");
  EXPECT_EQ(EvictionConfig{}.checkpoint_dir, "");

  for (const char* bad :
       {"[eviction]\nenabled = true\n", "[eviction]\nmode = \"criu-ish\"\n", "[eviction]\nheartbeat_interval_s = 10\n",
        "[eviction]\ncri_socket = \"containerd.sock\"\n", "[eviction]\ncri_socket = \"\"\n",
        "[eviction]\ncheckpoint_dir = \"ckpt\"\n", "[eviction]\ncheckpoint_timeout_s = 0\n",
        "[eviction]\nheartbeat_interval_s = 1200\n", "[eviction]\nnotice_dir = \"rel\"\n",
        "[eviction]\ndeadline_s = 100\nmax_deadline_s = 50\n", "[eviction]\nbogus = 1\n"}) {
    EXPECT_FALSE(parseConfig(bad, "bad.toml").has_value()) << bad;
  }
}

TEST(ConfigTest, EmptyApiSocketDisablesTheApi) {
  auto config = parseConfig("[api]\nsocket_path = \"\"\n", "api.toml");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_TRUE(config->api.socket_path.empty());
  EXPECT_NE(describeConfig(*config).find("api socket: none (disabled)"), std::string::npos);
}

}  // namespace
}  // namespace topod::agent
