#include "state/state_json.h"

#include <gtest/gtest.h>

#include <fstream>
#include <ostream>
#include <sstream>
#include <string>

#include "tests/policies/engine/engine_topologies.h"

namespace topod::policies {
namespace {

using testing::k2MiB;
using testing::kGiB;

State sampleState() {
  State state;
  ContainerAllocation pinned;
  pinned.exclusive_cpus = CpuSet{2, 3, 10, 11};
  pinned.memory_nodes = NodeSet{0, 1};
  pinned.memory[0]["memory"] = 3 * kGiB;
  pinned.memory[1]["memory"] = kGiB;
  pinned.memory[1]["hugepages-2Mi"] = 4 * k2MiB;
  pinned.qos = QosClass::Guaranteed;
  pinned.request = ContainerRequest{.name = "db",
                                    .kind = ContainerKind::App,
                                    .cpu_request_millis = 4000,
                                    .cpu_limit_millis = 4000,
                                    .memory_request_bytes = 4 * kGiB,
                                    .memory_limit_bytes = 4 * kGiB,
                                    .hugepages = {{k2MiB, 4 * k2MiB}},
                                    .devices = {{.resource = "nvidia.com/gpu", .id = "0000:17:00.0", .numa = 1}}};
  state.put({.pod_uid = "pod-1", .container_name = "db"}, pinned);

  ContainerAllocation shared;
  shared.shared_pool_nodes = NodeSet{1};
  shared.qos = QosClass::Burstable;
  shared.request = ContainerRequest{.name = "web", .kind = ContainerKind::Sidecar, .cpu_request_millis = 500};
  state.put({.pod_uid = "pod-2", .container_name = "web"}, shared);
  return state;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(StateJsonTest, RoundTripsEveryField) {
  State state = sampleState();
  std::string text = serializeState(state);
  auto parsed = parseState(text, "<test>");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().toString();
  EXPECT_EQ(*parsed, state);
  EXPECT_EQ(serializeState(*parsed), text);
}

TEST(StateJsonTest, EmptyStateRoundTrips) {
  auto parsed = parseState(serializeState(State{}), "<test>");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().toString();
  EXPECT_TRUE(parsed->containers().empty());
}

// The v1 fixture is what topod 0.1 writes; it must keep parsing after any format change.
TEST(StateJsonTest, ReadsTheVersion1Fixture) {
  const std::string path = std::string(TOPOD_FIXTURES_DIR) + "/state/v1-two-containers.json";
  std::string text = readFile(path);
  ASSERT_FALSE(text.empty()) << path;
  auto parsed = parseState(text, path);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().toString();
  EXPECT_EQ(*parsed, sampleState());
}

TEST(StateJsonTest, ChecksumIsFnv1a64OfTheCanonicalBody) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
  std::string text = serializeState(State{});
  EXPECT_NE(text.find("\"checksum\": \"fnv1a64:"), std::string::npos) << text;
  // Whitespace and key order do not matter, values do.
  auto reflowed = parseState(
      R"({"containers":[],"version":1,"checksum":")" + text.substr(text.find("fnv1a64:"), 24) + "\"}", "<test>");
  EXPECT_TRUE(reflowed.has_value()) << reflowed.error().toString();
}

TEST(StateJsonTest, DetectsAModifiedValue) {
  std::string text = serializeState(sampleState());
  std::string tampered = text;
  tampered.replace(tampered.find("\"2-3,10-11\""), 11, "\"2-3,10-12\"");
  auto parsed = parseState(tampered, "state.json");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code(), ErrorCode::DataLoss);
  EXPECT_NE(parsed.error().message().find("state.json: checksum mismatch"), std::string::npos)
      << parsed.error().message();
}

TEST(StateJsonTest, ChecksumMayBeLeftOutOfHandWrittenStates) {
  const char* text = R"({"version": 1, "containers": [{"pod_uid": "p", "container": "c", "exclusive_cpus": "4-5"}]})";
  auto required = parseState(text, "s.json");
  ASSERT_FALSE(required.has_value());
  EXPECT_EQ(required.error().message(), "s.json: checksum: missing");
  auto optional = parseState(text, "s.json", StateChecksum::Optional);
  ASSERT_TRUE(optional.has_value()) << optional.error().toString();
  const ContainerAllocation& a = optional->containers().at({.pod_uid = "p", .container_name = "c"});
  EXPECT_EQ(a.exclusive_cpus, (CpuSet{4, 5}));
  EXPECT_EQ(a.request.name, "c");
  EXPECT_EQ(a.qos, QosClass::BestEffort);  // computed from the (empty) request
}

struct BadStateRow {
  std::string name;
  std::string text;
  std::string message;  // expected substring
};

// Names the row in test listings instead of dumping its bytes.
void PrintTo(const BadStateRow& row, std::ostream* os) {
  *os << row.name;
}

class StateJsonRejectTest : public ::testing::TestWithParam<BadStateRow> {};

TEST_P(StateJsonRejectTest, RejectsWithAClearMessage) {
  auto parsed = parseState(GetParam().text, "s.json", StateChecksum::Optional);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message().find(GetParam().message), std::string::npos) << parsed.error().message();
  EXPECT_EQ(parsed.error().message().rfind("s.json: ", 0), 0u) << parsed.error().message();
}

#define ENTRY(fields) R"({"version":1,"containers":[{"pod_uid":"p","container":"c",)" fields "}]}"

INSTANTIATE_TEST_SUITE_P(
    Rows, StateJsonRejectTest,
    ::testing::Values(
        BadStateRow{"Empty", "", "invalid JSON"}, BadStateRow{"Truncated", R"({"version":1,"contai)", "invalid JSON"},
        BadStateRow{"NotAnObject", "[1]", "document: expected a JSON object"},
        BadStateRow{"MissingVersion", R"({"containers":[]})", "version: missing"},
        BadStateRow{"FutureVersion", R"({"version":2,"containers":[]})", "unsupported state format version 2"},
        BadStateRow{"StringVersion", R"({"version":"1","containers":[]})", "unsupported state format version \"1\""},
        BadStateRow{"UnknownTopLevelKey", R"({"version":1,"containers":[],"policy":"static"})", "policy: unknown key"},
        BadStateRow{"DuplicateKey", R"({"version":1,"version":1,"containers":[]})", "key \"version\" appears twice"},
        BadStateRow{"ContainersNotArray", R"({"version":1,"containers":{}})", "containers: expected an array"},
        BadStateRow{"MissingPodUid", R"({"version":1,"containers":[{"container":"c"}]})",
                    "containers[0].pod_uid: missing"},
        BadStateRow{"EmptyPodUid", R"({"version":1,"containers":[{"pod_uid":"","container":"c"}]})",
                    "must not be empty"},
        BadStateRow{"BadCpuList", ENTRY(R"("exclusive_cpus":"3-1")"), "containers[0].exclusive_cpus: cpu list \"3-1\""},
        BadStateRow{"CpuListNotString", ENTRY(R"("exclusive_cpus":[1,2])"), "exclusive_cpus: expected a string"},
        BadStateRow{"BadNodeList", ENTRY(R"("memory_nodes":"x")"), "memory_nodes: node list \"x\""},
        BadStateRow{"UnknownQos", ENTRY(R"("qos":"Gold")"), "unknown QoS class \"Gold\""},
        BadStateRow{"UnknownEntryKey", ENTRY(R"("cpus":"1")"), "containers[0].cpus: unknown key"},
        BadStateRow{"NegativeMemory", ENTRY(R"("memory":{"0":{"memory":-1}})"),
                    "memory.\"0\".memory: expected a non-negative integer"},
        BadStateRow{"FractionalMemory", ENTRY(R"("memory":{"0":{"memory":1.5}})"),
                    "expected a non-negative integer, got 1.5"},
        BadStateRow{"HugeMemory", ENTRY(R"("memory":{"0":{"memory":99999999999999999999999}})"),
                    "expected a non-negative integer"},
        BadStateRow{"BadNodeKey", ENTRY(R"("memory":{"zero":{"memory":1}})"), "\"zero\" is not a NUMA node id"},
        BadStateRow{"NodeKeyOutOfRange", ENTRY(R"("memory":{"1024":{"memory":1}})"), "\"1024\" is not a NUMA node id"},
        BadStateRow{"UnknownKind", ENTRY(R"("request":{"kind":"daemon"})"),
                    "request.kind: unknown container kind \"daemon\""},
        BadStateRow{"NegativeCpu", ENTRY(R"("request":{"cpu_request_millis":-5})"), "must not be negative"},
        BadStateRow{"BadHugepageSize", ENTRY(R"("request":{"hugepages":{"3000":1}})"), "power of two"},
        BadStateRow{"DeviceWithoutResource", ENTRY(R"("request":{"devices":[{"id":"x"}]})"),
                    "devices[0].resource: missing"},
        BadStateRow{"DeviceNodeOutOfRange", ENTRY(R"("request":{"devices":[{"resource":"r","numa":-2}]})"),
                    "out of range"},
        BadStateRow{"UnknownRequestKey", ENTRY(R"("request":{"gpus":1})"), "request.gpus: unknown key"},
        BadStateRow{"ChecksumNotString", R"({"version":1,"containers":[],"checksum":5})",
                    "checksum: expected a string"},
        BadStateRow{"WrongChecksum", R"({"version":1,"containers":[],"checksum":"fnv1a64:0000000000000000"})",
                    "checksum mismatch"},
        BadStateRow{"SameContainerTwice",
                    R"({"version":1,"containers":[{"pod_uid":"p","container":"c"},{"pod_uid":"p","container":"c"}]})",
                    "containers[1]: container p/c appears twice"}),
    [](const ::testing::TestParamInfo<BadStateRow>& row) { return row.param.name; });

#undef ENTRY

}  // namespace
}  // namespace topod::policies
