// Crash test: a long, seeded stream of pod/container events goes to the agent running as a real
// child process (agent_crash_child); at >= 200 random points a killer thread SIGKILLs it a random
// few hundred microseconds into an event (mid-decision, mid-checkpoint, mid-reply or idle). The
// child is restarted on the same state directory, the runtime resynchronizes it, and after every
// restart the test checks the checkpoint and the runtime's cpusets:
//   - no CPU is exclusive to two containers;
//   - every container the runtime runs has its allocation;
//   - every container runs where its allocation says (exclusive CPUs, or off all of them).
// An event the kill made fail is retried, as the kubelet retries. At the end the state equals
// the one an agent that was never killed reaches on the same stream.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "agent/checkpoint.h"
#include "agent/config.h"
#include "nri/plugin.h"
#include "policies/state_json.h"
#include "tests/agent/agent_test_support.h"
#include "tests/agent/sim_runtime.h"
#include "tests/fakes/fake_nri_connector.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

using testing::guaranteed;
using testing::makeContainer;
using testing::makePod;

enum class OpKind { Create, Resize, Stop, Remove, RemovePod };
struct Op {
  OpKind kind;
  nri::Pod pod;
  nri::Container container;   // Create: the container; others: its id
  nri::LinuxResources resize;  // Resize
};

// A stream over a rotating set of pods: creates (Guaranteed 1-3 CPUs or Burstable), resizes,
// stops, removals; ops on containers that never got created are skipped at run time.
std::vector<Op> makeStream(int count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Op> ops;
  std::vector<std::pair<nri::Pod, std::vector<nri::Container>>> live;
  int next_pod = 0;
  while (static_cast<int>(ops.size()) < count) {
    int dice = static_cast<int>(rng() % 10);
    if (live.empty() || dice < 4) {
      bool pinned = rng() % 2 == 0;
      nri::Pod pod = makePod("p" + std::to_string(next_pod++), pinned ? QosClass::Guaranteed : QosClass::Burstable);
      nri::Container c = pinned ? guaranteed(pod, "app", 1000 * (1 + static_cast<int>(rng() % 3)))
                                : makeContainer(pod, "app", 250, 0);
      ops.push_back({OpKind::Create, pod, c, {}});
      live.push_back({pod, {c}});
      continue;
    }
    auto& [pod, containers] = live[rng() % live.size()];
    if (dice < 6 && pod.qos == QosClass::Guaranteed) {
      ops.push_back({OpKind::Resize, pod, containers[0], guaranteed(pod, "app", 1000 * (1 + static_cast<int>(rng() % 4))).resources});
    } else if (dice < 8) {
      ops.push_back({OpKind::Stop, pod, containers[0], {}});
      ops.push_back({OpKind::Remove, pod, containers[0], {}});
      ops.push_back({OpKind::RemovePod, pod, {}, {}});
      std::string id = pod.id;
      live.erase(std::find_if(live.begin(), live.end(), [&](const auto& e) { return e.first.id == id; }));
    } else {
      ops.push_back({OpKind::RemovePod, pod, {}, {}});
      std::string id = pod.id;
      live.erase(std::find_if(live.begin(), live.end(), [&](const auto& e) { return e.first.id == id; }));
    }
  }
  return ops;
}

// Runs one op against the runtime model; returns false when the connection broke during it.
// A refusal by the policy is a normal outcome (true).
bool runOp(testing::SimRuntime& runtime, const Op& op) {
  auto broke = [](const Status& status) {
    return !status.has_value() && (status.error().code() == ErrorCode::Unavailable ||
                                   status.error().code() == ErrorCode::DeadlineExceeded);
  };
  switch (op.kind) {
    case OpKind::Create: {
      if (runtime.containers.count(op.container.id) != 0) return true;  // done before a kill
      if (runtime.pods.count(op.pod.id) == 0 && broke(runtime.runPod(op.pod))) return false;
      auto created = runtime.createContainer(op.container);
      return !broke(created.has_value() ? okStatus() : Status(created.error()));
    }
    case OpKind::Resize:
      if (runtime.containers.count(op.container.id) == 0) return true;
      return !broke(runtime.updateContainer(op.container.id, op.resize));
    case OpKind::Stop:
      if (runtime.containers.count(op.container.id) == 0 ||
          runtime.containers.at(op.container.id).state == nri::ContainerState::Stopped) {
        return true;
      }
      return !broke(runtime.stopContainer(op.container.id));
    case OpKind::Remove:
      if (runtime.containers.count(op.container.id) == 0) return true;
      return !broke(runtime.removeContainer(op.container.id));
    case OpKind::RemovePod:
      if (runtime.pods.count(op.pod.id) == 0) return true;
      return !broke(runtime.removePod(op.pod.id));
  }
  return true;
}

class Listener {
 public:
  explicit Listener(std::string path) : path_(std::move(path)) {
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
  }
  ~Listener() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  nri::UniqueFd accept() { return nri::UniqueFd(::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

pid_t startChild(const std::string& state_dir, const std::string& socket) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(TOPOD_CRASH_CHILD, TOPOD_CRASH_CHILD, state_dir.c_str(), socket.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// The invariants after a restart, on the checkpoint and the runtime's view.
void checkInvariants(const std::string& state_dir, const testing::SimRuntime& runtime, int restart) {
  auto state = Checkpoint::readOnDisk(state_dir);
  ASSERT_TRUE(state.has_value()) << "restart " << restart << ": " << state.error().toString();
  CpuSet taken;
  for (const auto& [key, allocation] : state->containers()) {
    ASSERT_FALSE(taken.intersects(allocation.exclusive_cpus))
        << "restart " << restart << ": CPU exclusive to two containers at " << key.pod_uid;
    taken |= allocation.exclusive_cpus;
  }
  for (const auto& [id, c] : runtime.containers) {
    if (c.state == nri::ContainerState::Stopped) continue;
    const nri::Pod& pod = runtime.pods.at(c.pod_id);
    auto it = state->containers().find({pod.uid, c.name});
    ASSERT_NE(it, state->containers().end()) << "restart " << restart << ": " << id << " lost its allocation";
    CpuSet runs_on = runtime.cpusOf(id);
    if (!it->second.exclusive_cpus.empty()) {
      EXPECT_EQ(runs_on, it->second.exclusive_cpus) << "restart " << restart << ": " << id;
    } else {
      EXPECT_FALSE(runs_on.intersects(taken)) << "restart " << restart << ": " << id << " runs on exclusive CPUs";
    }
  }
}

TEST(CrashTest, KilledAtRandomPointsNeverLosesOrDoubleAssignsACpu) {
  constexpr int kOps = 700;
  constexpr uint32_t kSeed = 20261123;
  const std::vector<Op> stream = makeStream(kOps, kSeed);
  topology::Topology topology = testing::twoNodeTopology();

  // The reference: an agent that is never killed, same stream, same runtime model.
  testing::TempDir reference_dir;
  auto reference = Agent::create(topology, {.policy = defaultConfig().policy, .state_dir = reference_dir.path()},
                                 std::make_unique<testing::FakeExclusivePolicy>(topology));
  ASSERT_TRUE(reference.has_value());
  nri::testing::FakeNriConnector connector;
  nri::Plugin plugin(nri::PluginOptions{}, **reference, connector);
  ASSERT_TRUE(plugin.start().has_value());
  testing::SimRuntime reference_runtime(connector.waitForPeer());
  ASSERT_TRUE(reference_runtime.handshake().has_value());
  for (const Op& op : stream) ASSERT_TRUE(runOp(reference_runtime, op));
  policies::State expected = (*reference)->state();
  plugin.stop();

  // The crashing agent.
  testing::TempDir dir;
  Listener listener("/tmp/topod-crash-" + std::to_string(::getpid()) + ".sock");
  std::mt19937 rng(kSeed + 1);
  pid_t child = startChild(dir.path(), listener.path());
  testing::SimRuntime runtime(listener.accept());
  ASSERT_TRUE(runtime.handshake().has_value());
  int kills = 0;
  int restarts = 0;
  auto restart = [&] {
    int status = 0;
    ::waitpid(child, &status, 0);
    child = startChild(dir.path(), listener.path());
    runtime.reconnect(listener.accept());
    ASSERT_TRUE(runtime.handshake().has_value()) << "restart " << restarts;
    ++restarts;
    checkInvariants(dir.path(), runtime, restarts);
  };
  for (std::size_t i = 0; i < stream.size(); ++i) {
    std::thread killer;
    std::atomic<bool> killed{false};
    if (rng() % 100 < 40) {
      auto delay = std::chrono::microseconds(rng() % 1500);
      killer = std::thread([&, delay] {
        std::this_thread::sleep_for(delay);
        ::kill(child, SIGKILL);
        killed = true;
      });
    }
    bool ok = runOp(runtime, stream[i]);
    if (killer.joinable()) {
      killer.join();
      ++kills;
    }
    if (killed || !ok) {
      restart();
      if (::testing::Test::HasFatalFailure()) break;
      // Retry the op the kill may have failed (runOp skips what already happened).
      ASSERT_TRUE(runOp(runtime, stream[i])) << "op " << i << " after restart " << restarts;
    }
  }
  // Let pending unsolicited updates land, then compare with the never-killed agent.
  runtime.pumpUntil([] { return false; }, std::chrono::milliseconds(200));
  ::kill(child, SIGKILL);
  restart();
  auto final_state = Checkpoint::readOnDisk(dir.path());
  ASSERT_TRUE(final_state.has_value()) << final_state.error().toString();
  EXPECT_EQ(*final_state, expected);
  EXPECT_GE(kills, 200);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  std::printf("crash test: %zu events, %d kills, %d restarts, final %zu allocations\n", stream.size(), kills, restarts,
              expected.containers().size());
}

}  // namespace
}  // namespace topod::agent
