// Crash test: a long, seeded stream of pod/container events goes to the real `topod run` binary
// (a real policy, its journal folded into state.json every few records so compactions are cut
// short too); at >= 200 random events a killer thread SIGKILLs it at a point anchored on its own
// progress, not on a timer: at once (mid-decision), right after its 1st, 2nd or 3rd change to the
// state directory (mid-journal write, mid-compaction, mid-reply), or as the event ends (idle).
// topod is restarted on the same state directory, the runtime resynchronizes it, and after every
// restart the test checks the checkpoint and the runtime's cpusets:
//   - no CPU is exclusive to two containers;
//   - every container the runtime runs has its allocation;
//   - every container runs where its allocation says (exclusive CPUs, or off all of them).
// An event the kill made fail is retried, as the kubelet retries. At the end the state equals
// the one an agent that was never killed reaches on the same stream with the same policy.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "agent/nri_mapping.h"
#include "config/config.h"
#include "nri/plugin.h"
#include "state/checkpoint.h"
#include "tests/agent/agent_test_support.h"
#include "tests/agent/child_process.h"
#include "tests/agent/runtime_listener.h"
#include "tests/agent/sim_runtime.h"
#include "tests/fakes/fake_nri_connector.h"
#include "topology/loaders.h"

namespace topod::agent {
namespace {

using testing::guaranteed;
using testing::makeContainer;
using testing::makePod;

// 16 CPUs on 2 NUMA nodes, 2 threads per core: the same machine for topod and the reference.
constexpr const char* kTopology = "synthetic:pack:1 numa:2 core:4 pu:2";

enum class OpKind { Create, Resize, Stop, Remove, RemovePod };
struct Op {
  OpKind kind;
  nri::Pod pod;
  nri::Container container;    // Create: the container; others: its id
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
      nri::Container c =
          pinned ? guaranteed(pod, "app", 1000 * (1 + static_cast<int>(rng() % 3))) : makeContainer(pod, "app", 250, 0);
      ops.push_back({OpKind::Create, pod, c, {}});
      live.push_back({pod, {c}});
      continue;
    }
    auto& [pod, containers] = live[rng() % live.size()];
    if (dice < 6 && qosClassOf(pod, nullptr) == QosClass::Guaranteed) {
      ops.push_back({OpKind::Resize, pod, containers[0],
                     guaranteed(pod, "app", 1000 * (1 + static_cast<int>(rng() % 4))).resources});
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
    return !status.has_value() &&
           (status.error().code() == ErrorCode::Unavailable || status.error().code() == ErrorCode::DeadlineExceeded);
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

// SIGKILLs `pid` once it made its `nth` change to `state_dir` (a journal append, a segment or a
// compaction's temp file created, the rename, a segment removed: inotify reports it as it
// happens, so the kill lands microseconds later, mid-whatever follows), at once for nth == 0, or
// when finish() says the event is over, whichever comes first.
class Killer {
 public:
  Killer(pid_t pid, const std::string& state_dir, int nth)
      : inotify_(::inotify_init1(IN_CLOEXEC)), done_(::eventfd(0, EFD_CLOEXEC)) {
    ::inotify_add_watch(inotify_, state_dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE);
    thread_ = std::thread([this, pid, nth] { run(pid, nth); });
  }
  ~Killer() {
    finish();
    ::close(inotify_);
    ::close(done_);
  }
  Killer(const Killer&) = delete;
  Killer& operator=(const Killer&) = delete;

  // The event is over: kill now if that did not happen yet, and return once it did.
  void finish() {
    if (!thread_.joinable()) return;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(done_, &one, sizeof one);
    thread_.join();
  }

 private:
  void run(pid_t pid, int nth) {
    alignas(inotify_event) char buffer[4096];
    int seen = 0;
    while (seen < nth) {
      pollfd fds[2] = {{.fd = inotify_, .events = POLLIN, .revents = 0}, {.fd = done_, .events = POLLIN, .revents = 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[0].revents == 0) break;  // finish(): the event ended first
      ssize_t n = ::read(inotify_, buffer, sizeof buffer);
      for (ssize_t at = 0; at < n; ++seen) {
        at += static_cast<ssize_t>(sizeof(inotify_event) + reinterpret_cast<inotify_event*>(buffer + at)->len);
      }
    }
    ::kill(pid, SIGKILL);
  }

  int inotify_;
  int done_;
  std::thread thread_;
};

struct CrashRow {
  std::string name;
  std::string policy;
};
void PrintTo(const CrashRow& row, std::ostream* os) {
  *os << row.name;
}

class CrashTest : public ::testing::TestWithParam<CrashRow> {};

// topod run's configuration: quiet, the row's policy, a journal segment every 16 records (so the
// stream goes through dozens of compactions), cgroups read from an empty tree.
std::string writeConfig(const std::string& dir, const std::string& policy) {
  std::string path = dir + "/topod.toml";
  std::ofstream(path) << "log_level = \"warn\"\nstate_journal_records = 16\ncgroup_root = \"" << dir
                      << "/cgroup\"\n[policy]\nname = \"" << policy
                      << "\"\n"
                      // A SIGKILLed agent leaves its API socket: every restart replaces a stale one.
                      << "[api]\nsocket_path = \"" << dir << "/api.sock\"\n";
  std::filesystem::create_directories(dir + "/cgroup");
  return path;
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

// Right after a kill, before any restart or Synchronize could repair anything: every container
// the runtime runs was acknowledged by topod, so its allocation must already be on disk.
void checkDurable(const std::string& state_dir, const testing::SimRuntime& runtime, int kill) {
  auto state = Checkpoint::readOnDisk(state_dir);
  ASSERT_TRUE(state.has_value()) << "kill " << kill << ": " << state.error().toString();
  for (const auto& [id, c] : runtime.containers) {
    if (c.state == nri::ContainerState::Stopped) continue;
    const nri::Pod& pod = runtime.pods.at(c.pod_id);
    EXPECT_TRUE(state->contains({pod.uid, c.name}))
        << "kill " << kill << ": the allocation of " << id << " was acknowledged but is not on disk";
  }
}

TEST_P(CrashTest, KilledAtRandomPointsNeverLosesOrDoubleAssignsACpu) {
  constexpr int kOps = 700;
  constexpr uint32_t kSeed = 20261123;
  const std::vector<Op> stream = makeStream(kOps, kSeed);
  auto topology = topology::loadTopology(kTopology);
  ASSERT_TRUE(topology.has_value()) << topology.error().toString();
  policies::PolicyOptions options = defaultConfig().policy;
  options.policy = GetParam().policy;

  // The reference: an agent that is never killed, same stream, same policy, same runtime model.
  testing::TempDir reference_dir;
  auto reference = Agent::create(*topology, {.policy = options, .state_dir = reference_dir.path()});
  ASSERT_TRUE(reference.has_value()) << reference.error().toString();
  nri::testing::FakeNriConnector connector;
  nri::Plugin plugin(nri::PluginOptions{}, **reference, connector);
  ASSERT_TRUE(plugin.start().has_value());
  testing::SimRuntime reference_runtime(connector.waitForPeer());
  ASSERT_TRUE(reference_runtime.handshake().has_value());
  for (const Op& op : stream) ASSERT_TRUE(runOp(reference_runtime, op));
  policies::State expected = (*reference)->state();
  plugin.stop();
  ASSERT_GT(expected.size(), 0U);

  // topod run, killed again and again.
  testing::TempDir dir;
  const std::string state_dir = dir.path() + "/state";
  const std::string config = writeConfig(dir.path(), GetParam().policy);
  testing::RuntimeListener listener(dir.path() + "/nri.sock");
  ASSERT_TRUE(listener.ok());
  const std::vector<std::string> args{"run",         "--config", config,         "--topology",   kTopology,
                                      "--state-dir", state_dir,  "--nri-socket", listener.path()};
  std::mt19937 rng(kSeed + 1);
  auto child = std::make_unique<testing::ChildProcess>(TOPOD_BINARY, args);
  testing::SimRuntime runtime(listener.accept());
  ASSERT_TRUE(runtime.handshake().has_value()) << child->output();
  int kills = 0;
  int restarts = 0;
  auto restart = [&] {
    ASSERT_TRUE(child->wait(std::chrono::seconds(10)).has_value()) << "topod did not die";
    checkDurable(state_dir, runtime, restarts);
    child = std::make_unique<testing::ChildProcess>(TOPOD_BINARY, args);
    runtime.reconnect(listener.accept());
    ASSERT_TRUE(runtime.handshake().has_value()) << "restart " << restarts << ":\n" << child->output();
    ++restarts;
    checkInvariants(state_dir, runtime, restarts);
  };
  for (std::size_t i = 0; i < stream.size(); ++i) {
    std::optional<Killer> killer;
    if (rng() % 100 < 40) killer.emplace(child->pid(), state_dir, static_cast<int>(rng() % 4));
    bool ok = runOp(runtime, stream[i]);
    const bool killed = killer.has_value();
    if (killer) {
      killer->finish();
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
  child->signal(SIGKILL);
  restart();
  auto final_state = Checkpoint::readOnDisk(state_dir);
  ASSERT_TRUE(final_state.has_value()) << final_state.error().toString();
  EXPECT_EQ(*final_state, expected);
  EXPECT_GE(kills, 200);
  EXPECT_TRUE(std::filesystem::exists(state_dir + "/state.json")) << "compactions ran during the stream";
  child->signal(SIGTERM);
  auto status = child->wait(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << child->output();
  std::printf("crash test (%s): %zu events, %d kills, %d restarts, final %zu allocations\n", GetParam().policy.c_str(),
              stream.size(), kills, restarts, expected.size());
}

INSTANTIATE_TEST_SUITE_P(Policies, CrashTest,
                         ::testing::Values(CrashRow{"Static", "static"}, CrashRow{"TopologyAware", "topology-aware"}),
                         [](const ::testing::TestParamInfo<CrashRow>& row) { return row.param.name; });

}  // namespace
}  // namespace topod::agent
