// Mode criu with a fake runtime: the archive paths, the worker's reports (progress, done with
// the archives, failed with the runtime's reason), and the driver carrying a criu warning from
// the Eviction to the status message.
#include "agent/eviction_checkpoints.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "cri/checkpoint_error.h"
#include "tests/fakes/fake_runtime_client.h"

namespace topod::agent {
namespace {

constexpr const char* kCkptUid = "0b7c0a2e-0000-4000-8000-000000000001";

WallTime ckptAt(int s) {
  return *kube::parseWallTime("2026-12-07T02:15:00Z") + std::chrono::seconds(s);
}

TEST(CheckpointArchivePath, NamesOneArchivePerContainerUnderThePodsDirectory) {
  EXPECT_EQ(archiveTime(ckptAt(0)), "20261207T021500Z");
  auto path = checkpointArchivePath("/var/lib/topod/checkpoints", kCkptUid, {"abc123", "trainer"}, ckptAt(7));
  ASSERT_TRUE(path.has_value()) << path.error().toString();
  EXPECT_EQ(*path, std::string("/var/lib/topod/checkpoints/") + kCkptUid + "/trainer-20261207T021507Z.tar");
  // A name that is not a DNS label falls back to the (hex) container id.
  path = checkpointArchivePath("/c", kCkptUid, {"abc123", "../etc"}, ckptAt(0));
  ASSERT_TRUE(path.has_value());
  EXPECT_EQ(*path, std::string("/c/") + kCkptUid + "/abc123-20261207T021500Z.tar");
  EXPECT_FALSE(checkpointArchivePath("/c", kCkptUid, {"../x", "../etc"}, ckptAt(0)).has_value());
  EXPECT_FALSE(checkpointArchivePath("/c", "../..", {"abc", "trainer"}, ckptAt(0)).has_value());
  EXPECT_FALSE(checkpointArchivePath("relative", kCkptUid, {"abc", "trainer"}, ckptAt(0)).has_value());
}

class CheckpointWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/topod-ckpt-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CheckpointWorker make() {
    return CheckpointWorker(
        {dir_, std::chrono::seconds(42)}, runtime_, [this] { return ckptAt(seconds_++); },
        [this](const std::string& uid, const Progress& p) { reports_.emplace_back(uid, p); },
        [this](const std::string&) { return wanted_; });
  }

  std::string dir_;
  testing::FakeRuntimeClient runtime_;
  int seconds_ = 0;
  bool wanted_ = true;
  std::vector<std::pair<std::string, Progress>> reports_;
};

TEST_F(CheckpointWorkerTest, CheckpointsEveryContainerAndReportsTheArchives) {
  auto worker = make();
  worker.runJob({kCkptUid, {{"c1", "trainer"}, {"c2", "sidecar"}}});
  const auto calls = runtime_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].container_id, "c1");
  EXPECT_EQ(calls[0].timeout, std::chrono::seconds(42));
  const std::string first = dir_ + "/" + kCkptUid + "/trainer-20261207T021500Z.tar";
  const std::string second = dir_ + "/" + kCkptUid + "/sidecar-20261207T021501Z.tar";
  EXPECT_EQ(calls[0].location, first);
  EXPECT_EQ(calls[1].location, second);
  ASSERT_EQ(reports_.size(), 3u);
  EXPECT_EQ(reports_[0].second.state, WorkloadState::Running);
  EXPECT_EQ(reports_[0].second.percent, 0);
  EXPECT_EQ(reports_[1].second.percent, 50);
  EXPECT_NE(reports_[1].second.message.find(first), std::string::npos) << reports_[1].second.message;
  EXPECT_EQ(reports_[2].second.state, WorkloadState::Done);
  EXPECT_EQ(reports_[2].second.message, "2 archive(s): " + first + ", " + second);
}

TEST_F(CheckpointWorkerTest, AnUnsupportedRuntimeFailsOnceAndStopsTheRest) {
  runtime_.answers.emplace("c1", cri::classifyCheckpointError(12, "method CheckpointContainer not implemented"));
  auto worker = make();
  worker.runJob({kCkptUid, {{"c1", "trainer"}, {"c2", "sidecar"}}});
  EXPECT_EQ(runtime_.calls().size(), 1u);
  ASSERT_FALSE(reports_.empty());
  EXPECT_EQ(reports_.back().second.state, WorkloadState::Failed);
  EXPECT_NE(reports_.back().second.message.find("trainer: CheckpointUnsupported"), std::string::npos)
      << reports_.back().second.message;
}

TEST_F(CheckpointWorkerTest, OneContainersFailureDoesNotStopTheOthers) {
  runtime_.answers.emplace("c1", cri::classifyCheckpointError(4, "context deadline exceeded"));
  auto worker = make();
  worker.runJob({kCkptUid, {{"c1", "trainer"}, {"c2", "sidecar"}}});
  EXPECT_EQ(runtime_.calls().size(), 2u);
  const Progress& last = reports_.back().second;
  EXPECT_EQ(last.state, WorkloadState::Failed);
  EXPECT_NE(last.message.find("trainer: CheckpointTimeout"), std::string::npos) << last.message;
  EXPECT_NE(last.message.find("archives written: " + dir_ + "/" + kCkptUid + "/sidecar-"), std::string::npos)
      << last.message;
}

TEST_F(CheckpointWorkerTest, ASuccessWithoutAnArchiveIsAFailure) {
  runtime_.write_archive = false;
  auto worker = make();
  worker.runJob({kCkptUid, {{"c1", "trainer"}}});
  EXPECT_EQ(reports_.back().second.state, WorkloadState::Failed);
  EXPECT_NE(reports_.back().second.message.find("missing or empty"), std::string::npos);
}

TEST_F(CheckpointWorkerTest, AWithdrawnWarningStopsWithoutAReport) {
  wanted_ = false;
  auto worker = make();
  worker.runJob({kCkptUid, {{"c1", "trainer"}}});
  EXPECT_TRUE(runtime_.calls().empty());
  EXPECT_TRUE(reports_.empty());
}

TEST_F(CheckpointWorkerTest, APodWithoutContainersFails) {
  auto worker = make();
  worker.runJob({kCkptUid, {}});
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0].second.state, WorkloadState::Failed);
}

TEST(EvictionResponderCriu, TheCheckpointsReportFinishesTheWarning) {
  ResponderSettings settings;
  settings.responder_name = "topod.io/warn";
  settings.default_mode = WarningMode::Criu;
  ASSERT_TRUE(validateResponderSettings(settings));
  EvictionResponder responder(settings);
  const LocalPod pod{"ml", "train", kCkptUid, {}};
  kube::EvictionView view;
  view.namespace_name = "ml";
  view.name = "pod-1-train";
  view.pod_name = "train";
  view.pod_uid = kCkptUid;
  view.target_responders = {{"topod.io/warn", 5000, kube::ResponderState::Active}};
  auto actions = responder.observe(view, &pod, ckptAt(0));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ResponderAction::Kind::Warn);
  EXPECT_EQ(actions[0].warning.mode, WarningMode::Criu);
  responder.progress(kCkptUid, {WorkloadState::Running, 50, "checkpointing container b (2/2); archives: /a.tar"},
                     ckptAt(1));
  auto reports = responder.due(ckptAt(1));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].report.message.find("warned by criu"), std::string::npos);
  EXPECT_NE(reports[0].report.message.find("progress 50%: checkpointing container b (2/2); archives: /a.tar"),
            std::string::npos)
      << reports[0].report.message;
  responder.progress(kCkptUid, {WorkloadState::Failed, std::nullopt, "b: CheckpointUnsupported: ..."}, ckptAt(2));
  reports = responder.due(ckptAt(2));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].report.completion_time.has_value());
  EXPECT_EQ(reports[0].report.message, "checkpoint failed: b: CheckpointUnsupported: ...");
}

}  // namespace
}  // namespace topod::agent
