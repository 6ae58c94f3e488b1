// The driver with fakes for the API, the files and the signal: events in, actions out, state on
// disk, a restart that does not warn twice.
#include "agent/eviction_warnings.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "cri/checkpoint_error.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_runtime_client.h"

namespace topod::agent {
namespace {

constexpr const char* kDriverPodUid = "0b7c0a2e-0000-4000-8000-000000000001";

class NullHandler final : public nri::EventHandler {
 public:
  Result<std::vector<nri::Update>> onSynchronize(const std::vector<nri::Pod>&,
                                                 const std::vector<nri::Container>&) override {
    return std::vector<nri::Update>{};
  }
  Result<nri::CreateReply> onCreateContainer(const nri::Pod&, const nri::Container&) override {
    return nri::CreateReply{};
  }
  Result<std::vector<nri::Update>> onUpdateContainer(const nri::Pod&, const nri::Container&,
                                                     const nri::LinuxResources&) override {
    return std::vector<nri::Update>{};
  }
  Result<std::vector<nri::Update>> onStopContainer(const nri::Pod&, const nri::Container&) override {
    return std::vector<nri::Update>{};
  }
};

class FakeEvictionApi final : public EvictionApi {
 public:
  Result<kube::ListResult> list(const std::string&) override { return kube::ListResult{}; }
  // With `hold_watches`, a watch stays open like a quiet stream until it is cancelled (a watch
  // without a cancel flag ends at once, and `cancelled_watches` stays 0).
  Result<std::string> watch(const std::string&, const std::string& rv,
                            const std::function<bool(const kube::WatchEvent&)>&,
                            const std::function<bool()>& cancelled) override {
    ++watches;
    if (!hold_watches || !cancelled) return rv;
    while (!cancelled()) std::this_thread::yield();
    ++cancelled_watches;
    return rv;
  }
  std::atomic<bool> hold_watches = false;
  std::atomic<int> watches = 0;
  std::atomic<int> cancelled_watches = 0;
  Status writeStatus(const std::string& ns, const std::string& name, const std::string& responder,
                     const kube::ResponderReport& report) override {
    if (down) return Error::unavailable("API server down");
    writes.push_back({ns + "/" + name, responder, report});
    return okStatus();
  }
  struct Write {
    std::string eviction;
    std::string responder;
    kube::ResponderReport report;
  };
  std::vector<Write> writes;
  bool down = false;
};

class FakeWorkloadFiles final : public WorkloadFiles {
 public:
  Status writeNotice(const Warning& warning, NoticeKind kind, std::string_view) override {
    notices.emplace_back(warning.pod_uid, kind);
    return okStatus();
  }
  Result<std::optional<Progress>> readProgress(const std::string& uid) override {
    auto it = progress.find(uid);
    if (it == progress.end()) return std::optional<Progress>();
    return std::optional<Progress>(it->second);
  }
  Status remove(const std::string&) override { return okStatus(); }
  std::vector<std::pair<std::string, NoticeKind>> notices;
  std::map<std::string, Progress> progress;
};

nlohmann::json evictionObject(const std::string& state) {
  return {{"metadata", {{"name", "pod-1-train"}, {"namespace", "ml"}}},
          {"spec", {{"target", {{"pod", {{"name", "train"}, {"uid", kDriverPodUid}}}}}}},
          {"status",
           {{"targetResponders",
             {{{"name", "topod.io/warning"}, {"priority", 5000}, {"state", state}},
              {{"name", "imperative-eviction.k8s.io/evictor"}, {"priority", 100}, {"state", "Inactive"}}}}}}};
}

class EvictionWarningsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/topod-evictw-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    nri::Pod pod;
    pod.id = "sandbox-1";
    pod.uid = kDriverPodUid;
    pod.namespace_name = "ml";
    pod.name = "train";
    nri::Container container;
    container.id = "c1";
    container.pod_id = "sandbox-1";
    container.cgroups_path = "/kubepods/pod1/c1";
    ASSERT_TRUE(tracker_.onSynchronize({pod}, {container}));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<EvictionWarnings> make(WarningMode mode = WarningMode::Signal) {
    EvictionWarningsOptions options;
    options.settings.responder_name = "topod.io/warning";
    options.settings.default_mode = mode;
    options.state_dir = dir_;
    return std::make_unique<EvictionWarnings>(
        options, api_, files_, tracker_,
        [this](const std::string& cgroup, int signal) -> Result<int> {
          signals_.emplace_back(cgroup, signal);
          return 1;
        },
        [this] { return now_; }, clock_, [this](bool, const std::string& message) { log_.push_back(message); });
  }

  std::string dir_;
  NullHandler inner_;
  PodTracker tracker_{inner_};
  FakeEvictionApi api_;
  FakeWorkloadFiles files_;
  testing::FakeClock clock_;
  WallTime now_ = *kube::parseWallTime("2026-12-06T22:00:00Z");
  std::vector<std::pair<std::string, int>> signals_;
  std::vector<std::string> log_;
};

// stop() ends a watch the server keeps open and quiet, without waiting for its timeout: a
// stopping topod used to wait for the re-open interval.
TEST_F(EvictionWarningsTest, StopEndsAQuietWatch) {
  api_.hold_watches = true;
  auto warnings = make();
  warnings->start();
  while (api_.watches.load() == 0) std::this_thread::yield();
  warnings->stop();
  EXPECT_EQ(api_.cancelled_watches.load(), 1);
}

TEST_F(EvictionWarningsTest, WarnsReportsCompletesAndSurvivesARestartWithoutWarningTwice) {
  auto warnings = make();
  warnings->handleEvent({"ADDED", evictionObject("Active")});
  ASSERT_EQ(signals_.size(), 1u);
  EXPECT_EQ(signals_[0], (std::pair<std::string, int>{"/kubepods/pod1/c1", 10}));
  ASSERT_EQ(files_.notices.size(), 1u);
  warnings->tick();
  ASSERT_EQ(api_.writes.size(), 1u);
  EXPECT_EQ(api_.writes[0].eviction, "ml/pod-1-train");
  EXPECT_EQ(api_.writes[0].responder, "topod.io/warning");
  EXPECT_TRUE(api_.writes[0].report.heartbeat_time.has_value());
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/evictions.json"));

  // topod restarts mid-warning; the API server is down for a while.
  warnings.reset();
  auto again = make();
  again->load();
  api_.down = true;
  again->handleEvent({"ADDED", evictionObject("Active")});
  EXPECT_EQ(signals_.size(), 1u) << "warned twice";
  files_.progress[kDriverPodUid] = {WorkloadState::Done, 100, "saved"};
  now_ += std::chrono::seconds(30);
  again->tick();
  EXPECT_EQ(api_.writes.size(), 1u);
  api_.down = false;
  again->tick();
  ASSERT_EQ(api_.writes.size(), 2u);
  EXPECT_TRUE(api_.writes[1].report.completion_time.has_value());
  EXPECT_EQ(api_.writes[1].report.message, "workload done: saved");
  again->tick();
  EXPECT_EQ(api_.writes.size(), 2u);
}

TEST_F(EvictionWarningsTest, AnEvictionSeenBeforeItsPodIsActedOnOnceThePodIsKnown) {
  auto warnings = make();
  auto object = evictionObject("Active");
  object["spec"]["target"]["pod"]["uid"] = "0b7c0a2e-0000-4000-8000-000000000009";
  object["spec"]["target"]["pod"]["name"] = "later";
  warnings->handleEvent({"ADDED", object});
  EXPECT_TRUE(signals_.empty());
  nri::Pod pod;
  pod.id = "sandbox-9";
  pod.uid = "0b7c0a2e-0000-4000-8000-000000000009";
  pod.namespace_name = "ml";
  pod.name = "later";
  ASSERT_TRUE(tracker_.onRunPodSandbox(pod));
  warnings->tick();
  // Known now, but it has no container yet: nothing to signal, so it finishes at once.
  EXPECT_TRUE(signals_.empty());
  ASSERT_EQ(api_.writes.size(), 1u);
  EXPECT_TRUE(api_.writes[0].report.completion_time.has_value());
  EXPECT_NE(api_.writes[0].report.message.find("no process signalled"), std::string::npos);
}

TEST_F(EvictionWarningsTest, AWithdrawnRequestWritesACancelledNotice) {
  auto warnings = make();
  warnings->handleEvent({"ADDED", evictionObject("Active")});
  warnings->handleEvent({"DELETED", evictionObject("Active")});
  ASSERT_EQ(files_.notices.size(), 2u);
  EXPECT_EQ(files_.notices[1].second, NoticeKind::Cancelled);
  warnings->tick();
  EXPECT_TRUE(api_.writes.empty());
}

TEST_F(EvictionWarningsTest, ABrokenStateFileIsMovedAsideAndReported) {
  {
    std::FILE* f = std::fopen((dir_ + "/evictions.json").c_str(), "w");
    std::fputs("{not json", f);
    std::fclose(f);
  }
  auto warnings = make();
  warnings->load();
  ASSERT_FALSE(log_.empty());
  EXPECT_NE(log_.back().find("moved aside"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/evictions.json"));
}

// Mode criu: the worker (run here on the test's thread) checkpoints through the fake runtime and
// its report is the status message.
TEST_F(EvictionWarningsTest, ModeCriuReportsTheArchivesAndCompletes) {
  testing::FakeRuntimeClient runtime;
  auto warnings = make(WarningMode::Criu);
  CheckpointWorker worker(
      {dir_ + "/checkpoints", std::chrono::seconds(30)}, runtime, [this] { return now_; },
      [&](const std::string& uid, const Progress& p) { warnings->checkpointProgress(uid, p); },
      [&](const std::string& uid) { return warnings->checkpointWanted(uid); });
  warnings->setCheckpointWorker(&worker);
  warnings->handleEvent({"ADDED", evictionObject("Active")});
  EXPECT_TRUE(signals_.empty());
  ASSERT_EQ(api_.writes.size(), 0u);
  warnings->tick();
  ASSERT_EQ(api_.writes.size(), 1u);
  EXPECT_NE(api_.writes[0].report.message.find("warned by criu"), std::string::npos);
  EXPECT_EQ(worker.runQueued(), 1);
  const std::string archive = dir_ + "/checkpoints/" + kDriverPodUid + "/c1-20261206T220000Z.tar";
  EXPECT_TRUE(std::filesystem::exists(archive));
  warnings->tick();
  ASSERT_EQ(api_.writes.size(), 2u);
  EXPECT_TRUE(api_.writes[1].report.completion_time.has_value());
  EXPECT_EQ(api_.writes[1].report.message, "checkpoint done: 1 archive(s): " + archive);
}

TEST_F(EvictionWarningsTest, ModeCriuOnARuntimeWithoutCheckpointsCompletesSayingSo) {
  testing::FakeRuntimeClient runtime;
  runtime.answers.emplace("c1", cri::classifyCheckpointError(12, "method CheckpointContainer not implemented"));
  auto warnings = make(WarningMode::Criu);
  CheckpointWorker worker(
      {dir_ + "/checkpoints", std::chrono::seconds(30)}, runtime, [this] { return now_; },
      [&](const std::string& uid, const Progress& p) { warnings->checkpointProgress(uid, p); },
      [&](const std::string& uid) { return warnings->checkpointWanted(uid); });
  warnings->setCheckpointWorker(&worker);
  warnings->handleEvent({"ADDED", evictionObject("Active")});
  EXPECT_EQ(worker.runQueued(), 1);
  warnings->tick();
  ASSERT_EQ(api_.writes.size(), 1u);
  EXPECT_TRUE(api_.writes[0].report.completion_time.has_value());
  EXPECT_NE(api_.writes[0].report.message.find("checkpoint failed: container c1: CheckpointUnsupported: "),
            std::string::npos)
      << api_.writes[0].report.message;
}

TEST_F(EvictionWarningsTest, ModeCriuWithoutARuntimeOrAfterARestartCompletesAtOnce) {
  {
    auto warnings = make(WarningMode::Criu);  // no worker: nothing can checkpoint
    warnings->handleEvent({"ADDED", evictionObject("Active")});
    warnings->tick();
    ASSERT_EQ(api_.writes.size(), 1u);
    EXPECT_NE(api_.writes[0].report.message.find("no CRI runtime client"), std::string::npos);
  }
  // A checkpoint cut short by a restart is not repeated; the eviction goes on.
  std::filesystem::remove(dir_ + "/evictions.json");
  testing::FakeRuntimeClient runtime;
  {
    auto warnings = make(WarningMode::Criu);
    CheckpointWorker worker(
        {dir_ + "/checkpoints", std::chrono::seconds(30)}, runtime, [this] { return now_; },
        [](const std::string&, const Progress&) {}, [](const std::string&) { return true; });
    warnings->setCheckpointWorker(&worker);
    warnings->handleEvent({"ADDED", evictionObject("Active")});
  }
  auto again = make(WarningMode::Criu);
  again->load();
  again->tick();
  ASSERT_EQ(api_.writes.size(), 2u);
  EXPECT_EQ(api_.writes[1].report.message, "checkpoint failed: topod restarted during the checkpoint; not repeated");
  EXPECT_TRUE(runtime.calls().empty());
}

// Node default mode criu is refused at start when nothing answers on the CRI socket.
TEST_F(EvictionWarningsTest, NodeDefaultCriuNeedsARuntimeThatAnswers) {
  {
    std::FILE* f = std::fopen((dir_ + "/kubeconfig").c_str(), "w");
    std::fputs(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n"
        "  cluster: {server: 'https://127.0.0.1:1', certificate-authority-data: 'Q0E='}\n"
        "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
        "current-context: x\n",
        f);
    std::fclose(f);
  }
  KubernetesConfig kubernetes;
  kubernetes.enabled = true;
  kubernetes.kubeconfig = dir_ + "/kubeconfig";
  EvictionConfig config;
  config.enabled = true;
  config.mode = "criu";
  config.notice_dir = dir_ + "/notices";
  config.cri_socket = dir_ + "/no-runtime.sock";
  auto started = EvictionResponding::start(config, kubernetes, dir_, nullptr, inner_, [](bool, const std::string&) {});
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().reason(), cri::kRuntimeUnreachable);
  EXPECT_NE(started.error().message().find("eviction.mode = \"criu\""), std::string::npos) << started.error().message();
  EXPECT_NE(started.error().message().find(config.cri_socket), std::string::npos);
  // Another default mode starts without a runtime (criu pods then get RuntimeUnreachable).
  config.mode = "signal";
  started = EvictionResponding::start(config, kubernetes, dir_, nullptr, inner_, [](bool, const std::string&) {});
  ASSERT_TRUE(started.has_value()) << started.error().toString();
}

}  // namespace
}  // namespace topod::agent
