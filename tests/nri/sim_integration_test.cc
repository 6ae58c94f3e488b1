// nri::Plugin against the runtime simulator over a real unix socket: each runtime personality,
// a 500-container split Synchronize, every event, unsolicited updates, runtime restarts in the
// middle of a stream, slow plugins and bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "nri/plugin.h"
#include "tests/nri/recording_handler.h"
#include "tests/tools/nri-runtime-sim/runtime_sim.h"

namespace topod::nri {
namespace {

using namespace std::chrono_literals;
using sim::Personality;
using sim::RuntimeSim;
using sim::SimOptions;

std::string socketPath() {
  static std::atomic<int> counter{0};
  return "/tmp/topod-nri-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".sock";
}

Pod makePod(int n) {
  Pod pod;
  pod.id = "pod" + std::to_string(n);
  pod.uid = "uid-" + std::to_string(n);
  pod.namespace_name = "default";
  pod.name = "web-" + std::to_string(n);
  pod.cgroup_parent = n % 2 == 0 ? "kubepods-pod" + std::to_string(n) + ".slice"
                                 : "kubepods-burstable-pod" + std::to_string(n) + ".slice";
  return pod;
}

Container makeContainer(const std::string& pod_id, int n) {
  Container container;
  container.id = pod_id + "-c" + std::to_string(n);
  container.pod_id = pod_id;
  container.name = "ctr" + std::to_string(n);
  container.state = ContainerState::Running;
  container.resources.cpu_shares = 1024;
  container.resources.cpuset_cpus = CpuSet{0, 1, 2, 3};
  return container;
}

// Fills the node with `pods` pods of `per_pod` containers each.
void populate(RuntimeSim& runtime, int pods, int per_pod) {
  for (int p = 0; p < pods; ++p) {
    Pod pod = makePod(p);
    runtime.addPod(pod);
    for (int c = 0; c < per_pod; ++c) runtime.addContainer(makeContainer(pod.id, c));
  }
}

SimOptions simOptions(Personality personality, size_t split = 64, std::chrono::milliseconds request_timeout = 2000ms) {
  SimOptions options;
  options.socket_path = socketPath();
  options.personality = std::move(personality);
  options.sync_objects_per_message = split;
  options.request_timeout = request_timeout;
  return options;
}

class PluginHarness {
 public:
  PluginHarness(EventHandler& handler, const std::string& path, EventMask events = kTopodEvents)
      : connector_(path), plugin_(options(events), handler, connector_) {}

  Plugin& plugin() { return plugin_; }
  std::vector<Error> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }
  bool sawError(ErrorCode code) {
    for (const Error& e : errors()) {
      if (e.code() == code) return true;
    }
    return false;
  }

 private:
  PluginOptions options(EventMask events) {
    PluginOptions out;
    out.name = "topod";
    out.idx = "50";
    out.events = events;
    out.backoff_initial = 10ms;
    out.backoff_max = 100ms;
    out.on_error = [this](const Error& e) {
      std::lock_guard<std::mutex> lock(mu_);
      errors_.push_back(e);
    };
    return out;
  }

  std::mutex mu_;
  std::vector<Error> errors_;
  UnixSocketConnector connector_;
  Plugin plugin_;
};

struct PersonalityCase {
  const char* name;
  Personality (*personality)();
  EventMask expected_mask;
  size_t expected_sync_messages;  // 50 pods + 500 containers, 64 objects per message if split
};

class PersonalityTest : public ::testing::TestWithParam<PersonalityCase> {};

TEST_P(PersonalityTest, RegistersSynchronizesAndHandlesEveryEvent) {
  const PersonalityCase& c = GetParam();
  const SimOptions options = simOptions(c.personality());
  RuntimeSim runtime(options);
  populate(runtime, 50, 10);
  ASSERT_TRUE(runtime.start().has_value());
  testing::RecordingHandler handler;
  // Ask for everything the plugin serves: it must still subscribe only what is valid.
  PluginHarness harness(handler, options.socket_path, kAllServedEvents);
  ASSERT_TRUE(harness.plugin().start().has_value());

  auto info = runtime.waitForPlugin(10s);
  ASSERT_TRUE(info.has_value()) << info.error().toString();
  EXPECT_EQ(info->name, "topod");
  EXPECT_EQ(info->idx, "50");
  EXPECT_EQ(info->events, c.expected_mask);
  EXPECT_EQ(info->sync_messages, c.expected_sync_messages);
  EXPECT_EQ(handler.syncContainers().size(), 500u);
  EXPECT_EQ(handler.syncPods().size(), 50u);
  ASSERT_EQ(info->sync_updates.size(), 1u);  // RecordingHandler answers one update

  Pod pod = makePod(100);
  Container container = makeContainer(pod.id, 0);
  EXPECT_TRUE(runtime.runPodSandbox(pod).has_value());
  auto created = runtime.createContainer(container);
  ASSERT_TRUE(created.has_value()) << created.error().toString();
  EXPECT_EQ(created->adjustment.resources.cpuset_cpus, (CpuSet{0, 1}));
  EXPECT_EQ(handler.lastPod().cgroup_parent, pod.cgroup_parent);
  EXPECT_TRUE(runtime.postCreateContainer(container.id).has_value());
  EXPECT_TRUE(runtime.startContainer(container.id, 4321).has_value());
  EXPECT_TRUE(runtime.postStartContainer(container.id).has_value());
  auto updated = runtime.updateContainer(container.id, LinuxResources{.cpu_shares = 512});
  ASSERT_TRUE(updated.has_value());
  ASSERT_EQ(updated->size(), 1u);
  EXPECT_EQ((*updated)[0].resources.cpu_shares, 512u);
  EXPECT_TRUE(runtime.postUpdateContainer(container.id).has_value());
  EXPECT_TRUE(runtime.updatePodSandbox(pod.id, {}, {}).has_value());
  EXPECT_TRUE(runtime.postUpdatePodSandbox(pod.id).has_value());
  EXPECT_TRUE(runtime.stopContainer(container.id).has_value());
  EXPECT_TRUE(runtime.removeContainer(container.id).has_value());
  EXPECT_TRUE(runtime.stopPodSandbox(pod.id).has_value());
  EXPECT_TRUE(runtime.removePodSandbox(pod.id).has_value());

  // Every event the runtime knows reached the handler, through dedicated RPCs or StateChange.
  std::vector<std::string> expected = {"RunPodSandbox pod100",          "CreateContainer pod100-c0",
                                       "PostCreateContainer pod100-c0", "StartContainer pod100-c0",
                                       "PostStartContainer pod100-c0",  "UpdateContainer pod100-c0",
                                       "PostUpdateContainer pod100-c0"};
  if ((c.expected_mask & eventBit(Event::UpdatePodSandbox)) != 0) {
    expected.push_back("UpdatePodSandbox pod100");
    expected.push_back("PostUpdatePodSandbox pod100");
  }
  for (const char* tail :
       {"StopContainer pod100-c0", "RemoveContainer pod100-c0", "StopPodSandbox pod100", "RemovePodSandbox pod100"}) {
    expected.push_back(tail);
  }
  std::vector<std::string> calls = handler.calls();
  std::vector<std::string> events(calls.begin() + 2, calls.end());  // after Configure, Synchronize
  EXPECT_EQ(events, expected);
  EXPECT_FALSE(runtime.usesStateChangeFallback());

  // Unsolicited updates reach the runtime.
  auto failed = harness.plugin().updateContainers({{"pod1-c1", LinuxResources{.cpuset_cpus = CpuSet{3}}, false}});
  ASSERT_TRUE(failed.has_value()) << failed.error().toString();
  EXPECT_TRUE(failed->empty());
  ASSERT_EQ(runtime.receivedUpdates().size(), 1u);
  EXPECT_EQ(runtime.receivedUpdates()[0].resources.cpuset_cpus, (CpuSet{3}));
  EXPECT_TRUE(harness.errors().empty()) << harness.errors().front().toString();
  harness.plugin().stop();
}

INSTANTIATE_TEST_SUITE_P(Runtimes, PersonalityTest,
                         ::testing::Values(PersonalityCase{"containerd_1_7", &Personality::containerd17, 0x07FF, 1},
                                           PersonalityCase{"containerd_2_1", &Personality::containerd21, 0x07FF, 9},
                                           PersonalityCase{"containerd_2_2", &Personality::containerd22, 0x1FFF, 9},
                                           PersonalityCase{"containerd_2_3", &Personality::containerd23, 0x1FFF, 9},
                                           PersonalityCase{"crio_1_33", &Personality::crio133, 0x1FFF, 9}),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(SimIntegration, DefaultMaskForContainerd17IsTopodsEvents) {
  const SimOptions options = simOptions(Personality::containerd17());
  RuntimeSim runtime(options);
  ASSERT_TRUE(runtime.start().has_value());
  testing::RecordingHandler handler;
  PluginHarness harness(handler, options.socket_path);
  ASSERT_TRUE(harness.plugin().start().has_value());
  auto info = runtime.waitForPlugin(10s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->events, 0x06AFu);
  // Not subscribed: PostCreateContainer is skipped by the runtime, never reaches the plugin.
  runtime.addPod(makePod(1));
  ASSERT_TRUE(runtime.createContainer(makeContainer("pod1", 0)).has_value());
  EXPECT_TRUE(runtime.postCreateContainer("pod1-c0").has_value());
  EXPECT_EQ(handler.count("PostCreateContainer"), 0u);
}

TEST(SimIntegration, RuntimeRestartMidMessageLeadsToReconnectAndFullResync) {
  const SimOptions options = simOptions(Personality::containerd21(), 16);
  RuntimeSim runtime(options);
  populate(runtime, 5, 4);
  ASSERT_TRUE(runtime.start().has_value());
  testing::RecordingHandler handler;
  PluginHarness harness(handler, options.socket_path);
  ASSERT_TRUE(harness.plugin().start().has_value());
  auto first = runtime.waitForPlugin(10s);
  ASSERT_TRUE(first.has_value());

  // Half a CreateContainer frame, then the runtime dies and comes back with more containers.
  std::string partial = std::string("\0\0\0\1\0\0\1\0", 8) + std::string(40, '\x01');
  ASSERT_TRUE(runtime.sendRaw(partial).has_value());
  runtime.addContainer(makeContainer("pod0", 99));
  ASSERT_TRUE(runtime.restart().has_value());
  auto second = runtime.waitForPlugin(10s, first->generation);
  ASSERT_TRUE(second.has_value()) << second.error().toString();
  EXPECT_EQ(second->generation, first->generation + 1);
  EXPECT_EQ(handler.syncContainers().size(), 21u);
  EXPECT_EQ(handler.count("Synchronize"), 2u);
  EXPECT_TRUE(harness.sawError(ErrorCode::DataLoss) || harness.sawError(ErrorCode::Unavailable));
  EXPECT_GE(harness.plugin().stats().connections, 2u);
}

TEST(SimIntegration, RestartWhileEventsAreFlowing) {
  const SimOptions options = simOptions(Personality::containerd23(), 8);
  RuntimeSim runtime(options);
  populate(runtime, 3, 3);
  ASSERT_TRUE(runtime.start().has_value());
  testing::RecordingHandler handler;
  PluginHarness harness(handler, options.socket_path);
  ASSERT_TRUE(harness.plugin().start().has_value());
  auto first = runtime.waitForPlugin(10s);
  ASSERT_TRUE(first.has_value());

  // Pods created so far, and a wait for "n more than now" without sleeping.
  std::mutex progress_mutex;
  std::condition_variable progress;
  int succeeded = 0;
  auto awaitSucceeded = [&](int count) {
    std::unique_lock lock(progress_mutex);
    return progress.wait_for(lock, 10s, [&] { return succeeded >= count; });
  };
  std::atomic<bool> done{false};
  std::thread events([&] {
    uint64_t generation = first->generation;
    for (int i = 0; !done; ++i) {
      Pod pod = makePod(1000 + i);
      if (runtime.runPodSandbox(pod).has_value()) {
        {
          std::lock_guard lock(progress_mutex);
          ++succeeded;
        }
        progress.notify_all();
      } else if (auto next = runtime.waitForPlugin(10s, generation); next.has_value()) {
        generation = next->generation;  // no plugin during the restart: go on once it is back
      }
    }
  });
  ASSERT_TRUE(awaitSucceeded(5)) << "events flow before the restart";
  ASSERT_TRUE(runtime.restart().has_value());
  auto second = runtime.waitForPlugin(10s, first->generation);
  ASSERT_TRUE(second.has_value()) << second.error().toString();
  int before = 0;
  {
    std::lock_guard lock(progress_mutex);
    before = succeeded;
  }
  const bool flowing = awaitSucceeded(before + 5);
  done = true;
  events.join();
  EXPECT_TRUE(flowing) << "events flow again after the resync";
  // The resync reported every pod the runtime knew at that point, including ones created by
  // events before the restart.
  EXPECT_GT(handler.syncPods().size(), 3u);
}

// Its first CreateContainer answers only once the test calls release(): the runtime's request
// timeout passes meanwhile, however loaded the machine.
class SlowHandler : public testing::RecordingHandler {
 public:
  Result<CreateReply> onCreateContainer(const Pod& pod, const Container& container) override {
    {
      std::unique_lock lock(mutex_);
      if (!held_) {
        held_ = true;
        cv_.wait(lock, [this] { return released_; });
      }
    }
    return RecordingHandler::onCreateContainer(pod, container);
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool held_ = false;
  bool released_ = false;
};

// Releases the handler before the plugin is stopped, also when an assertion ends the test early.
struct ReleaseOnExit {
  SlowHandler& handler;
  ~ReleaseOnExit() { handler.release(); }
};

TEST(SimIntegration, SlowPluginIsDisconnectedAndReconnects) {
  const SimOptions options = simOptions(Personality::containerd17(), 0, 100ms);
  RuntimeSim runtime(options);
  ASSERT_TRUE(runtime.start().has_value());
  SlowHandler handler;
  PluginHarness harness(handler, options.socket_path);
  ReleaseOnExit release{handler};
  ASSERT_TRUE(harness.plugin().start().has_value());
  auto first = runtime.waitForPlugin(10s);
  ASSERT_TRUE(first.has_value());
  runtime.addPod(makePod(1));
  auto created = runtime.createContainer(makeContainer("pod1", 0));
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code(), ErrorCode::DeadlineExceeded);
  handler.release();  // the late answer goes to a connection the runtime has closed
  auto second = runtime.waitForPlugin(10s, first->generation);
  ASSERT_TRUE(second.has_value()) << second.error().toString();
  EXPECT_EQ(runtime.disconnectReasons().front(), "CreateContainer: request timeout");
  EXPECT_TRUE(runtime.createContainer(makeContainer("pod1", 1)).has_value());
}

TEST(SimIntegration, EventForUnknownPodIsReportedAndAnswered) {
  const SimOptions options = simOptions(Personality::containerd17());
  RuntimeSim runtime(options);
  ASSERT_TRUE(runtime.start().has_value());
  testing::RecordingHandler handler;
  PluginHarness harness(handler, options.socket_path);
  ASSERT_TRUE(harness.plugin().start().has_value());
  ASSERT_TRUE(runtime.waitForPlugin(10s).has_value());
  auto created = runtime.createContainer(makeContainer("ghost", 0));
  ASSERT_TRUE(created.has_value());
  EXPECT_TRUE(created->adjustment.empty());
  EXPECT_TRUE(harness.sawError(ErrorCode::NotFound));
  EXPECT_TRUE(runtime.startContainer("ghost-c0", 1).has_value());
  EXPECT_EQ(harness.plugin().stats().connections, 1u);
}

TEST(SimIntegration, CorruptFrameFromRuntimeLeadsToReconnect) {
  const SimOptions options = simOptions(Personality::containerd22());
  RuntimeSim runtime(options);
  ASSERT_TRUE(runtime.start().has_value());
  testing::RecordingHandler handler;
  PluginHarness harness(handler, options.socket_path);
  ASSERT_TRUE(harness.plugin().start().has_value());
  auto first = runtime.waitForPlugin(10s);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(runtime.sendRaw(std::string("\0\0\0\1\x7f\xff\xff\xff", 8)).has_value());
  auto second = runtime.waitForPlugin(10s, first->generation);
  ASSERT_TRUE(second.has_value()) << second.error().toString();
  EXPECT_TRUE(harness.sawError(ErrorCode::DataLoss));
}

TEST(SimIntegration, PluginThatNeverRegistersIsDropped) {
  SimOptions options = simOptions(Personality::containerd17());
  options.registration_timeout = 100ms;
  RuntimeSim runtime(options);
  ASSERT_TRUE(runtime.start().has_value());
  UnixSocketConnector silent(options.socket_path);
  auto fd = silent.connect();
  ASSERT_TRUE(fd.has_value());
  char byte = 0;
  EXPECT_EQ(::read(fd->get(), &byte, 1), 0);  // EOF once the timeout hits
  EXPECT_EQ(runtime.disconnectReasons(), std::vector<std::string>{"registration timeout"});
}

}  // namespace
}  // namespace topod::nri
