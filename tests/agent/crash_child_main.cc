// The agent as a separate process for the crash test: Agent (with the fake static-like policy
// on the two-node test topology) + nri::Plugin dialling a unix socket + the unsolicited-update
// sender, checkpointing into a state directory it locks. Runs until killed (the test SIGKILLs it).
//   agent_crash_child STATE_DIR SOCKET
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/lock_file.h"
#include "nri/plugin.h"
#include "nri/transport.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_policy.h"

int main(int argc, char** argv) {
  using namespace topod;
  if (argc != 3) {
    std::fprintf(stderr, "usage: agent_crash_child STATE_DIR SOCKET\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  auto lock = agent::LockFile::acquire(std::string(argv[1]) + "/topod.lock");
  if (!lock.has_value()) {
    std::fprintf(stderr, "crash child: %s\n", lock.error().toString().c_str());
    return 1;
  }
  topology::Topology topology = testing::twoNodeTopology();
  auto created = agent::Agent::create(topology, {.policy = agent::defaultConfig().policy, .state_dir = argv[1]},
                                      std::make_unique<testing::FakeExclusivePolicy>(topology));
  if (!created.has_value()) {
    std::fprintf(stderr, "crash child: %s\n", created.error().toString().c_str());
    return 1;
  }
  agent::Agent& agent = **created;
  nri::UnixSocketConnector connector(argv[2]);
  nri::PluginOptions options;
  options.backoff_initial = std::chrono::milliseconds(5);
  nri::Plugin plugin(options, agent, connector);

  std::mutex mutex;
  std::condition_variable cv;
  bool wake = false;
  agent.setPendingNotifier([&] {
    std::lock_guard guard(mutex);
    wake = true;
    cv.notify_one();
  });
  if (!plugin.start().has_value()) return 1;
  for (;;) {
    std::unique_lock guard(mutex);
    cv.wait(guard, [&] { return wake; });
    wake = false;
    guard.unlock();
    agent::PendingUpdates pending = agent.takePendingUpdates();
    if (pending.updates.empty()) continue;
    auto failed = plugin.updateContainers(pending.updates);
    agent.unsolicitedDone(pending, failed.has_value() ? *failed : pending.updates);
  }
}
