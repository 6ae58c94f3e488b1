// `topod nri-probe` as a real process against the runtime simulator, for every runtime
// personality: registration, a valid mask, a 500-container split Synchronize, every event, bad
// input, and a runtime restart; then a clean exit on SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "nri/mux.h"
#include "nri/ttrpc.h"
#include "tests/tools/nri-runtime-sim/runtime_sim.h"

namespace topod::nri {
namespace {

using namespace std::chrono_literals;
using sim::Personality;

struct ProbeCase {
  const char* name;
  Personality (*personality)();
  EventMask expected_mask;
  size_t expected_sync_messages;  // NRI < 0.7 never splits
};

class NriProbeTest : public ::testing::TestWithParam<ProbeCase> {};

size_t countOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST_P(NriProbeTest, SurvivesTheFullScenario) {
  const std::string tag = std::to_string(::getpid()) + "-" + GetParam().name;
  sim::SimOptions options;
  options.socket_path = "/tmp/topod-probe-" + tag + ".sock";
  options.personality = GetParam().personality();
  options.sync_objects_per_message = 64;
  sim::RuntimeSim runtime(options);
  for (int p = 0; p < 50; ++p) {
    Pod pod;
    pod.id = "pod" + std::to_string(p);
    pod.namespace_name = "ns";
    pod.name = "pod-" + std::to_string(p);
    pod.cgroup_parent = "kubepods-besteffort-pod" + std::to_string(p) + ".slice";
    runtime.addPod(pod);
    for (int c = 0; c < 10; ++c) {
      Container container;
      container.id = pod.id + "-c" + std::to_string(c);
      container.pod_id = pod.id;
      container.name = "c" + std::to_string(c);
      container.state = ContainerState::Running;
      runtime.addContainer(container);
    }
  }
  ASSERT_TRUE(runtime.start().has_value());

  const std::string output = "/tmp/topod-probe-" + tag + ".out";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(TOPOD_BINARY, "topod", "nri-probe", "--socket", options.socket_path.c_str(), "--all-events", "--idx", "07",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }

  auto first = runtime.waitForPlugin(30s);
  ASSERT_TRUE(first.has_value()) << first.error().toString();
  EXPECT_EQ(first->events, GetParam().expected_mask);
  EXPECT_EQ(first->idx, "07");
  EXPECT_EQ(first->sync_messages, GetParam().expected_sync_messages);

  Pod pod;
  pod.id = "new-pod";
  pod.namespace_name = "ns";
  pod.name = "new";
  Container container;
  container.id = "new-ctr";
  container.pod_id = pod.id;
  container.name = "main";
  EXPECT_TRUE(runtime.runPodSandbox(pod).has_value());
  EXPECT_TRUE(runtime.createContainer(container).has_value());
  EXPECT_TRUE(runtime.postCreateContainer(container.id).has_value());
  EXPECT_TRUE(runtime.startContainer(container.id, 99).has_value());
  EXPECT_TRUE(runtime.postStartContainer(container.id).has_value());
  EXPECT_TRUE(runtime.updateContainer(container.id, {}).has_value());
  EXPECT_TRUE(runtime.postUpdateContainer(container.id).has_value());
  EXPECT_TRUE(runtime.updatePodSandbox(pod.id, {}, {}).has_value());
  EXPECT_TRUE(runtime.postUpdatePodSandbox(pod.id).has_value());
  EXPECT_TRUE(runtime.stopContainer(container.id).has_value());
  EXPECT_TRUE(runtime.removeContainer(container.id).has_value());
  EXPECT_TRUE(runtime.stopPodSandbox(pod.id).has_value());
  EXPECT_TRUE(runtime.removePodSandbox(pod.id).has_value());

  // Bad input in one write: an envelope that is not a ttrpc.Request (answered INVALID_ARGUMENT,
  // the stream is still intact), then a frame claiming 2 GiB (the probe drops the connection
  // and comes back). The first must be answered and reported even though the corruption
  // arrives in the same read.
  std::string garbage(14, '\xff');
  ttrpc::encodeHeader({4, 1001, 1, 0}, garbage.data());
  std::string frames;
  mux::appendMessageFrames(frames, mux::kPluginServiceConn, garbage);
  frames += std::string("\0\0\0\1\x7f\xff\xff\xff", 8);
  ASSERT_TRUE(runtime.sendRaw(frames).has_value());
  auto second = runtime.waitForPlugin(30s, first->generation);
  ASSERT_TRUE(second.has_value()) << second.error().toString();
  // The runtime restarts.
  ASSERT_TRUE(runtime.restart().has_value());
  auto third = runtime.waitForPlugin(30s, second->generation);
  ASSERT_TRUE(third.has_value()) << third.error().toString();
  EXPECT_TRUE(runtime.runPodSandbox(pod).has_value());

  ::kill(child, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  std::ifstream in(output);
  std::stringstream text;
  text << in.rdbuf();
  const std::string log = text.str();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log;
  EXPECT_EQ(countOf(log, "Synchronize pods=50 containers=500"), 3u) << log;
  for (const char* event :
       {"RunPodSandbox ns/new", "CreateContainer ns/new", "StartContainer ns/new", "UpdateContainer ns/new",
        "StopContainer ns/new", "RemoveContainer ns/new", "StopPodSandbox ns/new", "RemovePodSandbox ns/new"}) {
    EXPECT_NE(log.find(event), std::string::npos) << event << "\n" << log;
  }
  EXPECT_NE(log.find("error: DATA_LOSS"), std::string::npos) << log;
  EXPECT_NE(log.find("error: INVALID_ARGUMENT"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped connections=3 synchronizations=3"), std::string::npos) << log;
  ::unlink(output.c_str());
}

INSTANTIATE_TEST_SUITE_P(Runtimes, NriProbeTest,
                         ::testing::Values(ProbeCase{"containerd_1_7", &Personality::containerd17, 0x07FF, 1},
                                           ProbeCase{"containerd_2_1", &Personality::containerd21, 0x07FF, 9},
                                           ProbeCase{"containerd_2_2", &Personality::containerd22, 0x1FFF, 9},
                                           ProbeCase{"containerd_2_3", &Personality::containerd23, 0x1FFF, 9},
                                           ProbeCase{"crio_1_33", &Personality::crio133, 0x1FFF, 9}),
                         [](const auto& row) { return std::string(row.param.name); });

}  // namespace
}  // namespace topod::nri
