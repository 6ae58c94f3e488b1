// `topod run` as a process (agent/run_loop.cc): waiting for the runtime's socket with backoff,
// then managing containers; sd_notify READY / STATUS / WATCHDOG / STOPPING on a NOTIFY_SOCKET the
// test owns; SIGHUP reloads (an invalid file keeps the running configuration); SIGTERM stops
// cleanly; the lock keeps a second agent off the state directory; a bad config is a clear error.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "state/state_json.h"
#include "tests/agent/agent_test_support.h"
#include "tests/agent/child_process.h"
#include "tests/agent/runtime_listener.h"
#include "tests/agent/sim_runtime.h"

namespace topod::agent {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;

constexpr const char* kTopology = "synthetic:pack:1 numa:2 core:4 pu:2";

// The service manager's end of sd_notify: a datagram socket collecting what topod sends.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }
  // Collects datagrams until one contains `text`; false after `timeout`.
  bool waitFor(const std::string& text, std::chrono::milliseconds timeout = 15s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(text) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) != 1) continue;
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) received_.append(buffer, static_cast<std::size_t>(n)).append("\n");
    }
    return true;
  }
  const std::string& received() const { return received_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
  std::string received_;
};

class RunCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir_.path() + "/cgroup"); }

  std::string writeConfig(const std::string& extra = "") {
    std::ofstream(config_) << "cgroup_root = \"" << dir_.path() << "/cgroup\"\n"
                           << extra << "\n[api]\nsocket_path = \"" << api_socket_ << "\"\n";
    return config_;
  }
  std::vector<std::string> args() const {
    return {"run", "--config", config_, "--topology", kTopology, "--state-dir", state_dir_, "--nri-socket", socket_};
  }
  static int exitCode(std::optional<int> status) { return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1; }

  testing::TempDir dir_;
  std::string config_ = dir_.path() + "/topod.toml";
  std::string state_dir_ = dir_.path() + "/state";
  std::string socket_ = dir_.path() + "/nri.sock";
  std::string api_socket_ = dir_.path() + "/api/api.sock";
};

TEST_F(RunCommandTest, WaitsForTheRuntimeSocketThenManagesContainersAndStopsOnSigterm) {
  writeConfig("log_level = \"debug\"\n");  // for the line each socket check logs
  ChildProcess topod(TOPOD_BINARY, args());
  ASSERT_TRUE(topod.waitForOutput("waiting for the runtime's NRI socket " + socket_)) << topod.output();
  EXPECT_NE(topod.output().find("managing 16 CPUs (0-15) on 2 NUMA node(s) with policy static"), std::string::npos)
      << topod.output();
  EXPECT_NE(topod.output().find("NUMA node 1"), std::string::npos) << "the topology it manages is printed";
  // A few backoff rounds without a runtime: checks after 100 ms and 200 ms, doubling.
  ASSERT_TRUE(topod.waitForOutput("still waiting for " + socket_ + "; next check in 400 ms")) << topod.output();
  ASSERT_FALSE(topod.exited()) << topod.output();

  testing::RuntimeListener listener(socket_);
  ASSERT_TRUE(listener.ok());
  testing::SimRuntime runtime(listener.accept());
  ASSERT_TRUE(runtime.handshake().has_value()) << topod.output();
  auto pod = testing::makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(runtime.runPod(pod).has_value());
  auto adjustment = runtime.createContainer(testing::guaranteed(pod, "app", 2000));
  ASSERT_TRUE(adjustment.has_value()) << adjustment.error().toString() << "\n" << topod.output();
  ASSERT_TRUE(adjustment->resources.cpuset_cpus.has_value());
  const CpuSet exclusive = *adjustment->resources.cpuset_cpus;
  EXPECT_EQ(exclusive.size(), 2);
  EXPECT_FALSE(exclusive.contains(0)) << "CPU 0 is the reserved one";
  auto shared_pod = testing::makePod("b1", QosClass::Burstable);
  ASSERT_TRUE(runtime.runPod(shared_pod).has_value());
  auto shared = runtime.createContainer(testing::makeContainer(shared_pod, "app", 500, 0));
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(*shared->resources.cpuset_cpus, CpuSet::parse("0-15").value() - exclusive);

  topod.signal(SIGTERM);
  EXPECT_EQ(exitCode(topod.wait(10s)), 0) << topod.output();
  EXPECT_NE(topod.output().find("stopped; 2 container allocations checkpointed"), std::string::npos) << topod.output();
}

// The socket appearing ends the wait at once (inotify), not at the next check: the log says the
// watcher saw it, which the timed check alone never logs.
TEST_F(RunCommandTest, ConnectsTheMomentTheRuntimeSocketAppears) {
  writeConfig("log_level = \"debug\"\n");
  ChildProcess topod(TOPOD_BINARY, args());
  ASSERT_TRUE(topod.waitForOutput("still waiting for " + socket_ + "; next check in 200 ms")) << topod.output();
  testing::RuntimeListener listener(socket_);
  ASSERT_TRUE(listener.ok());
  testing::SimRuntime runtime(listener.accept());
  ASSERT_TRUE(runtime.handshake().has_value()) << topod.output();
  EXPECT_NE(topod.output().find("the runtime's NRI socket " + socket_ + " appeared"), std::string::npos)
      << topod.output();
  topod.signal(SIGTERM);
  EXPECT_EQ(exitCode(topod.wait(10s)), 0) << topod.output();
}

TEST_F(RunCommandTest, TellsSystemdReadyStatusWatchdogAndStopping) {
  writeConfig();
  NotifySocket notify(dir_.path() + "/notify");
  ASSERT_TRUE(notify.ok());
  // WatchdogSec=0.4s: topod must ping every 0.2 s, also while it waits for the runtime.
  ChildProcess topod(TOPOD_BINARY, args(), {"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=400000"});
  ASSERT_TRUE(notify.waitFor("READY=1")) << notify.received() << topod.output();
  ASSERT_TRUE(notify.waitFor("STATUS=waiting for the runtime socket " + socket_)) << notify.received();
  ASSERT_TRUE(notify.waitFor("WATCHDOG=1")) << "no keep-alive while waiting for the runtime:\n" << notify.received();

  testing::RuntimeListener listener(socket_);
  testing::SimRuntime runtime(listener.accept());
  ASSERT_TRUE(runtime.handshake().has_value());
  ASSERT_TRUE(notify.waitFor("STATUS=serving containerd v1.7.24; 0 containers")) << notify.received();
  topod.signal(SIGTERM);
  ASSERT_TRUE(notify.waitFor("STOPPING=1")) << notify.received();
  EXPECT_EQ(exitCode(topod.wait(10s)), 0) << topod.output();
}

TEST_F(RunCommandTest, SighupReloadsAndKeepsTheOldConfigWhenTheNewOneIsInvalid) {
  writeConfig();
  ChildProcess topod(TOPOD_BINARY, args());
  ASSERT_TRUE(topod.waitForOutput("waiting for the runtime's NRI socket")) << topod.output();

  std::ofstream(config_, std::ios::trunc) << "log_level = \"loud\"\n";
  std::size_t mark = topod.outputSize();
  topod.signal(SIGHUP);
  ASSERT_TRUE(topod.waitForOutput("is invalid, keeping the previous configuration", 10s, mark)) << topod.output();
  EXPECT_NE(topod.output().find("topod.toml:1:13: log_level: \"loud\" is not one of", mark), std::string::npos)
      << topod.output();

  writeConfig("log_level = \"debug\"\n[policy]\nname = \"topology-aware\"\n");
  mark = topod.outputSize();
  topod.signal(SIGHUP);
  ASSERT_TRUE(topod.waitForOutput("log level debug", 10s, mark)) << topod.output();
  EXPECT_TRUE(topod.waitForOutput("take effect at the next start", 10s, mark)) << topod.output();
  // Debug logging is on now: the socket wait says so at every round.
  EXPECT_TRUE(topod.waitForOutput("still waiting for", 10s, mark)) << topod.output();
  ASSERT_FALSE(topod.exited());
  topod.signal(SIGINT);
  EXPECT_EQ(exitCode(topod.wait(10s)), 0) << topod.output();
}

TEST_F(RunCommandTest, SecondAgentOnTheSameStateDirectoryIsRefused) {
  writeConfig();
  ChildProcess first(TOPOD_BINARY, args());
  ASSERT_TRUE(first.waitForOutput("waiting for the runtime's NRI socket")) << first.output();
  ChildProcess second(TOPOD_BINARY, args());
  EXPECT_EQ(exitCode(second.wait(10s)), 1) << second.output();
  EXPECT_NE(second.output().find(state_dir_ + "/topod.lock"), std::string::npos) << second.output();
  EXPECT_NE(second.output().find(std::to_string(first.pid())), std::string::npos)
      << "the error names the agent holding the lock:\n"
      << second.output();
  EXPECT_FALSE(first.exited());
}

TEST_F(RunCommandTest, InvalidConfigIsAStartupErrorWithFileLineAndKey) {
  writeConfig("bogus = 1\n[nri]\nplugin_index = 90\n");
  ChildProcess topod(TOPOD_BINARY, args());
  EXPECT_EQ(exitCode(topod.wait(10s)), 1) << topod.output();
  EXPECT_NE(topod.output().find("topod.toml:2:1: bogus: unknown key"), std::string::npos) << topod.output();
  EXPECT_NE(topod.output().find("topod.toml:4:16: nri.plugin_index: expected a string"), std::string::npos)
      << topod.output();
}

TEST_F(RunCommandTest, RestartAfterSigkillRestoresTheAllocationsFromTheJournal) {
  writeConfig("state_sync = \"background\"\n");
  testing::RuntimeListener listener(socket_);
  auto topod = std::make_unique<ChildProcess>(TOPOD_BINARY, args());
  testing::SimRuntime runtime(listener.accept());
  ASSERT_TRUE(runtime.handshake().has_value()) << topod->output();
  auto pod = testing::makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(runtime.runPod(pod).has_value());
  auto adjustment = runtime.createContainer(testing::guaranteed(pod, "app", 3000));
  ASSERT_TRUE(adjustment.has_value());
  const CpuSet exclusive = *adjustment->resources.cpuset_cpus;
  topod->signal(SIGKILL);  // no flush, no clean shutdown: only what was written before the reply
  ASSERT_TRUE(topod->wait(10s).has_value());

  // `topod state` shows what the directory holds, as a table and as a document simulate reads.
  ChildProcess table(TOPOD_BINARY, {"state", "--state-dir", state_dir_});
  EXPECT_EQ(exitCode(table.wait(10s)), 0) << table.output();
  EXPECT_NE(table.output().find("g1/app"), std::string::npos) << table.output();
  EXPECT_NE(table.output().find(exclusive.toString()), std::string::npos) << table.output();
  ChildProcess json(TOPOD_BINARY, {"state", "--state-dir", state_dir_, "--output", "json"});
  EXPECT_EQ(exitCode(json.wait(10s)), 0) << json.output();
  auto document = policies::parseState(json.output(), "topod state --output json");
  ASSERT_TRUE(document.has_value()) << document.error().toString();
  EXPECT_EQ(document->containers().at({"g1", "app"}).exclusive_cpus, exclusive);

  topod = std::make_unique<ChildProcess>(TOPOD_BINARY, args());
  ASSERT_TRUE(topod->waitForOutput("restored 1 container allocations")) << topod->output();
  runtime.reconnect(listener.accept());
  ASSERT_TRUE(runtime.handshake().has_value()) << topod->output();
  EXPECT_EQ(runtime.cpusOf(pod.uid + "-app"), exclusive) << "the restored container keeps its CPUs";
  // A new pod cannot get the CPUs the restored one holds.
  auto next = testing::makePod("g2", QosClass::Guaranteed);
  ASSERT_TRUE(runtime.runPod(next).has_value());
  auto second = runtime.createContainer(testing::guaranteed(next, "app", 2000));
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->resources.cpuset_cpus->intersects(exclusive)) << topod->output();
}

// Strict reservation by count (issue 16 item 6): the CPU the policy picks for the count stays out
// of the shared pool, and a restart restores the checkpoint instead of finding CPU 0 "neither
// exclusive nor in the shared pool" and moving the state aside.
TEST_F(RunCommandTest, StrictReservationByCountRestartsWithItsCheckpoint) {
  writeConfig("[policy]\nname = \"static\"\nreserved_cpu_count = 1\n[policy.cpu]\nstrict_cpu_reservation = true\n");
  testing::RuntimeListener listener(socket_);
  auto topod = std::make_unique<ChildProcess>(TOPOD_BINARY, args());
  testing::SimRuntime runtime(listener.accept());
  ASSERT_TRUE(runtime.handshake().has_value()) << topod->output();
  auto pod = testing::makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(runtime.runPod(pod).has_value());
  auto adjustment = runtime.createContainer(testing::guaranteed(pod, "app", 2000));
  ASSERT_TRUE(adjustment.has_value()) << topod->output();
  const CpuSet exclusive = *adjustment->resources.cpuset_cpus;
  auto shared_pod = testing::makePod("b1", QosClass::Burstable);
  ASSERT_TRUE(runtime.runPod(shared_pod).has_value());
  auto shared = runtime.createContainer(testing::makeContainer(shared_pod, "app", 500, 0));
  ASSERT_TRUE(shared.has_value()) << topod->output();
  EXPECT_EQ(*shared->resources.cpuset_cpus, CpuSet::parse("1-15").value() - exclusive)
      << "the reserved CPU 0 is in no shared pool";
  topod->signal(SIGTERM);
  EXPECT_EQ(exitCode(topod->wait(10s)), 0) << topod->output();

  // Twice: a checkpoint moved aside on the first restart would be gone by the second.
  for (int restart = 1; restart <= 2; ++restart) {
    topod = std::make_unique<ChildProcess>(TOPOD_BINARY, args());
    ASSERT_TRUE(topod->waitForOutput("restored 2 container allocations")) << "restart " << restart << ":\n"
                                                                          << topod->output();
    EXPECT_EQ(topod->output().find("moved aside"), std::string::npos) << topod->output();
    runtime.reconnect(listener.accept());
    ASSERT_TRUE(runtime.handshake().has_value()) << topod->output();
    EXPECT_EQ(runtime.cpusOf(pod.uid + "-app"), exclusive) << "restart " << restart;
    topod->signal(SIGTERM);
    EXPECT_EQ(exitCode(topod->wait(10s)), 0) << topod->output();
  }
}

}  // namespace
}  // namespace topod::agent

namespace topod::agent {
namespace {

// `topod status|allocations|explain ...` as a process: exit code and output.
struct CliRun {
  int code = -1;
  std::string output;
};
CliRun runCli(const std::vector<std::string>& args) {
  ChildProcess cli(TOPOD_BINARY, args);
  auto status = cli.wait(std::chrono::seconds(15));
  return CliRun{.code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, .output = cli.output()};
}

// The local API end to end: `topod run` serves it from start-up (before the runtime connects),
// the CLI reads status, allocations and explanations of an admitted and a refused container.
TEST_F(RunCommandTest, TheCliAsksTheRunningAgentThroughItsApi) {
  writeConfig();
  ChildProcess topod(TOPOD_BINARY, args());
  ASSERT_TRUE(topod.waitForOutput("local API on " + api_socket_)) << topod.output();
  CliRun waiting = runCli({"status", "--socket", api_socket_});
  EXPECT_EQ(waiting.code, 0) << waiting.output;
  EXPECT_NE(waiting.output.find("runtime:      none yet, not connected, not synchronized yet"), std::string::npos)
      << waiting.output;

  testing::RuntimeListener listener(socket_);
  testing::SimRuntime runtime(listener.accept());
  ASSERT_TRUE(runtime.handshake().has_value()) << topod.output();
  auto pod = testing::makePod("g1", QosClass::Guaranteed);
  ASSERT_TRUE(runtime.runPod(pod).has_value());
  auto admitted = runtime.createContainer(testing::guaranteed(pod, "app", 2000));
  ASSERT_TRUE(admitted.has_value()) << admitted.error().toString();
  const std::string cpus = admitted->resources.cpuset_cpus->toString();
  auto big = testing::makePod("big", QosClass::Guaranteed);
  ASSERT_TRUE(runtime.runPod(big).has_value());
  ASSERT_FALSE(runtime.createContainer(testing::guaranteed(big, "app", 16000)).has_value());

  CliRun status = runCli({"status", "--config", config_});
  EXPECT_EQ(status.code, 0) << status.output;
  EXPECT_NE(status.output.find("runtime:      containerd v1.7.24, connected, synchronized"), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("exclusive:    " + cpus + "\n"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("refusals:     1 remembered"), std::string::npos) << status.output;

  CliRun allocations = runCli({"allocations", "--socket", api_socket_});
  EXPECT_EQ(allocations.code, 0) << allocations.output;
  EXPECT_NE(allocations.output.find("default/pod-g1"), std::string::npos) << allocations.output;
  CliRun json = runCli({"allocations", "--socket", api_socket_, "--output", "json"});
  EXPECT_NE(json.output.find("\"exclusive_cpus\":\"" + cpus + "\""), std::string::npos) << json.output;

  CliRun explained = runCli({"explain", "--socket", api_socket_, "default/pod-g1/app"});
  EXPECT_EQ(explained.code, 0) << explained.output;
  EXPECT_NE(explained.output.find("admitted"), std::string::npos) << explained.output;
  EXPECT_NE(explained.output.find("cpus:        " + cpus + " (exclusive)"), std::string::npos) << explained.output;
  CliRun refused = runCli({"explain", "--socket", api_socket_, "default/pod-big"});
  EXPECT_EQ(refused.code, 0) << refused.output;
  EXPECT_NE(refused.output.find("REFUSED"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("cpu"), std::string::npos) << refused.output;
  CliRun what_if = runCli({"explain", "--socket", api_socket_, "--cpu", "2", "--memory", "1Gi"});
  EXPECT_EQ(what_if.code, 0) << what_if.output;
  EXPECT_NE(what_if.output.find("(exclusive)"), std::string::npos) << what_if.output;
  CliRun unknown = runCli({"explain", "--socket", api_socket_, "default/nope"});
  EXPECT_EQ(unknown.code, 1) << unknown.output;

  topod.signal(SIGTERM);
  EXPECT_EQ(exitCode(topod.wait(10s)), 0) << topod.output();
  EXPECT_FALSE(std::filesystem::exists(api_socket_)) << "the socket goes with the agent";
  CliRun gone = runCli({"status", "--socket", api_socket_});
  EXPECT_EQ(gone.code, kExitNoAgent) << gone.output;
  EXPECT_NE(
      gone.output.find("no topod agent is listening on " + api_socket_ + ": no such socket; is `topod run` running?"),
      std::string::npos)
      << gone.output;
}

// Another agent serving the configured socket is a start-up error, not a takeover.
TEST_F(RunCommandTest, ASecondAgentOnTheSameApiSocketDoesNotStart) {
  writeConfig();
  ChildProcess first(TOPOD_BINARY, args());
  ASSERT_TRUE(first.waitForOutput("local API on " + api_socket_)) << first.output();
  const std::string other_state = dir_.path() + "/state2";
  ChildProcess second(TOPOD_BINARY, {"run", "--config", config_, "--topology", kTopology, "--state-dir", other_state,
                                     "--nri-socket", socket_});
  EXPECT_EQ(exitCode(second.wait(10s)), 1) << second.output();
  EXPECT_NE(second.output().find("another process (another topod agent?) serves it"), std::string::npos)
      << second.output();
  EXPECT_EQ(runCli({"status", "--socket", api_socket_}).code, 0) << "the first agent still serves";
}

}  // namespace
}  // namespace topod::agent
