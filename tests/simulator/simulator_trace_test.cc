#include "simulator/simulator_trace.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace topod::policies {
namespace {

TEST(SimulatorTraceTest, ParsesEveryOperation) {
  const char* text =
      "# a comment, then a blank line\n"
      "\n"
      R"({"op":"add","pod":{"uid":"p1","namespace":"prod","name":"db","annotations":{"a":"b"}},)"
      R"("containers":[{"name":"init","kind":"init","limits":{"cpu":"1","memory":"1Gi"}},)"
      R"({"name":"main","requests":{"cpu":2,"memory":"4Gi","hugepages-2Mi":"64Mi"},"limits":{"cpu":"2","memory":"4Gi"},)"
      R"("devices":[{"resource":"nvidia.com/gpu","id":"0000:17:00.0","numa":1}]}]})"
      "\n"
      R"({"op":"resize","pod":"p1","container":"main","requests":{"cpu":"3"},"limits":{"cpu":"3"}})"
      "\r\n"
      R"({"op":"remove","pod":"p1","container":"main"})"
      "\n"
      R"({"op":"remove","pod":"p1"})";
  auto trace = parseTrace(text, "t.jsonl");
  ASSERT_TRUE(trace.has_value()) << trace.error().toString();
  ASSERT_EQ(trace->size(), 4u);

  const TraceEvent& add = (*trace)[0];
  EXPECT_EQ(add.line, 3);
  EXPECT_EQ(add.op, TraceOp::Add);
  EXPECT_EQ(add.pod.uid, "p1");
  EXPECT_EQ(add.pod.namespace_name, "prod");
  EXPECT_EQ(add.pod.name, "db");
  EXPECT_EQ(add.pod.annotations.at("a"), "b");
  EXPECT_EQ(add.pod.qos, QosClass::Guaranteed);
  ASSERT_EQ(add.pod.containers.size(), 2u);
  const ContainerRequest& init = add.pod.containers[0];
  EXPECT_EQ(init.kind, ContainerKind::Init);
  EXPECT_EQ(init.cpu_request_millis, 1000);  // defaulted to the limit
  EXPECT_EQ(init.memory_request_bytes, 1ULL << 30);
  const ContainerRequest& main = add.pod.containers[1];
  EXPECT_EQ(main.kind, ContainerKind::App);
  EXPECT_EQ(main.cpu_request_millis, 2000);
  EXPECT_EQ(main.cpu_limit_millis, 2000);
  EXPECT_EQ(main.hugepages.at(2ULL << 20), 64ULL << 20);
  ASSERT_EQ(main.devices.size(), 1u);
  EXPECT_EQ(main.devices[0].numa, 1);

  const TraceEvent& resize = (*trace)[1];
  EXPECT_EQ(resize.line, 4);
  EXPECT_EQ(resize.op, TraceOp::Resize);
  EXPECT_EQ(resize.container, "main");
  EXPECT_TRUE(resize.has_cpu_request);
  EXPECT_TRUE(resize.has_cpu_limit);
  EXPECT_FALSE(resize.has_memory_request);
  EXPECT_EQ(resize.resources.cpu_request_millis, 3000);

  EXPECT_EQ((*trace)[2].container, "main");
  EXPECT_EQ((*trace)[3].container, "");
  EXPECT_EQ((*trace)[3].line, 6);
}

TEST(SimulatorTraceTest, BurstableAndBestEffortQos) {
  auto trace = parseTrace(R"({"op":"add","pod":{"uid":"a"},"containers":[{"name":"c","requests":{"cpu":"500m"}}]})"
                          "\n"
                          R"({"op":"add","pod":{"uid":"b"},"containers":[{"name":"c"}]})",
                          "t");
  ASSERT_TRUE(trace.has_value()) << trace.error().toString();
  EXPECT_EQ((*trace)[0].pod.qos, QosClass::Burstable);
  EXPECT_EQ((*trace)[0].pod.name, "a");
  EXPECT_EQ((*trace)[0].pod.namespace_name, "default");
  EXPECT_EQ((*trace)[1].pod.qos, QosClass::BestEffort);
}

struct BadTraceRow {
  std::string name;
  std::string line;
  std::string message;
};
void PrintTo(const BadTraceRow& row, std::ostream* os) {
  *os << row.name;
}

class SimulatorTraceRejectTest : public ::testing::TestWithParam<BadTraceRow> {};

// Every malformed line is reported with its line number (the bad line is the second one).
TEST_P(SimulatorTraceRejectTest, NamesTheLine) {
  std::string text = std::string(R"({"op":"remove","pod":"x"})") + "\n" + GetParam().line + "\n";
  auto trace = parseTrace(text, "trace.jsonl");
  ASSERT_FALSE(trace.has_value());
  EXPECT_EQ(trace.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(trace.error().message().rfind("trace.jsonl:2: ", 0), 0u) << trace.error().message();
  EXPECT_NE(trace.error().message().find(GetParam().message), std::string::npos) << trace.error().message();
}

#define ADD(containers) R"({"op":"add","pod":{"uid":"p"},"containers":)" containers "}"

INSTANTIATE_TEST_SUITE_P(
    Rows, SimulatorTraceRejectTest,
    ::testing::Values(
        BadTraceRow{"NotJson", "{op: add}", "invalid JSON"},
        BadTraceRow{"Truncated", R"({"op":"add","pod":{)", "invalid JSON"},
        BadTraceRow{"NotAnObject", "42", "expected a JSON object"},
        BadTraceRow{"NoOp", R"({"pod":"p"})", "op: missing"},
        BadTraceRow{"UnknownOp", R"({"op":"evict","pod":"p"})",
                    "unknown operation \"evict\" (known: add, resize, remove)"},
        BadTraceRow{"OpNotString", R"({"op":1})", "op: expected a string"},
        BadTraceRow{"AddWithoutPod", R"({"op":"add","containers":[]})", "pod: missing"},
        BadTraceRow{"AddWithoutUid", R"({"op":"add","pod":{},"containers":[{"name":"c"}]})", "pod.uid: missing"},
        BadTraceRow{"NoContainers", ADD("[]"), "a pod needs at least one container"},
        BadTraceRow{"ContainerWithoutName", ADD(R"([{"kind":"app"}])"), "containers[0].name: missing"},
        BadTraceRow{"DuplicateContainer", ADD(R"([{"name":"c"},{"name":"c"}])"), "container name \"c\" used twice"},
        BadTraceRow{"UnknownKind", ADD(R"([{"name":"c","kind":"job"}])"), "unknown container kind \"job\""},
        BadTraceRow{"UnknownResource", ADD(R"([{"name":"c","limits":{"gpu":"1"}}])"), "limits.gpu: unknown resource"},
        BadTraceRow{"BadCpu", ADD(R"([{"name":"c","limits":{"cpu":"two"}}])"), "limits.cpu: CPU quantity \"two\""},
        BadTraceRow{"NegativeCpu", ADD(R"([{"name":"c","limits":{"cpu":-1}}])"), "expected a quantity"},
        BadTraceRow{"BadMemory", ADD(R"([{"name":"c","requests":{"memory":"1Gb"}}])"), "memory quantity \"1Gb\""},
        BadTraceRow{"RequestAboveLimit", ADD(R"([{"name":"c","requests":{"cpu":"2"},"limits":{"cpu":"1"}}])"),
                    "CPU request exceeds its limit"},
        BadTraceRow{"BadHugepageSize", ADD(R"([{"name":"c","limits":{"hugepages-3Mi":"6Mi"}}])"), "power of two"},
        BadTraceRow{"HugepagesRequestNotLimit",
                    ADD(R"([{"name":"c","requests":{"hugepages-2Mi":"2Mi"},"limits":{"hugepages-2Mi":"4Mi"}}])"),
                    "hugepages-2Mi request must equal its limit"},
        BadTraceRow{"UnknownContainerKey", ADD(R"([{"name":"c","cpu":"1"}])"), "containers[0].cpu: unknown key"},
        BadTraceRow{"UnknownQos", R"({"op":"add","pod":{"uid":"p","qos":"Gold"},"containers":[{"name":"c"}]})",
                    "unknown QoS class \"Gold\""},
        BadTraceRow{"AnnotationNotString",
                    R"({"op":"add","pod":{"uid":"p","annotations":{"a":1}},"containers":[{"name":"c"}]})",
                    "pod.annotations.a: expected a string"},
        BadTraceRow{"ResizeWithoutResources", R"({"op":"resize","pod":"p","container":"c"})",
                    "resize names no resource"},
        BadTraceRow{"ResizeWithoutContainer", R"({"op":"resize","pod":"p","limits":{"cpu":"1"}})",
                    "container: missing"},
        BadTraceRow{"RemoveUnknownKey", R"({"op":"remove","pod":"p","force":true})", "force: unknown key"},
        BadTraceRow{"DuplicateKey", R"({"op":"remove","pod":"p","pod":"q"})", "key \"pod\" appears twice"}),
    [](const ::testing::TestParamInfo<BadTraceRow>& row) { return row.param.name; });

#undef ADD

}  // namespace
}  // namespace topod::policies
