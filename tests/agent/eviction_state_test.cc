#include "agent/eviction_state.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace topod::agent {
namespace {

Warning sampleWarning() {
  Warning w;
  w.pod_uid = "0b7c0a2e-0000-4000-8000-000000000001";
  w.pod_namespace = "ml";
  w.pod_name = "train";
  w.eviction_namespace = "ml";
  w.eviction_name = "pod-1-train";
  w.mode = WarningMode::File;
  w.phase = WarningPhase::Warning;
  w.warned_at = *kube::parseWallTime("2026-12-06T22:00:00Z");
  w.deadline = w.warned_at + std::chrono::seconds(600);
  w.changed_at = w.warned_at;
  w.last_heartbeat = w.warned_at + std::chrono::seconds(20);
  w.last_message = "warned by file";
  w.progress = Progress{WorkloadState::Running, 40, "saving shard 3"};
  return w;
}

TEST(EvictionState, RoundTrips) {
  Warning finished = sampleWarning();
  finished.pod_uid = "0b7c0a2e-0000-4000-8000-000000000002";
  finished.phase = WarningPhase::Finished;
  finished.progress.reset();
  finished.last_heartbeat.reset();
  finished.completion_reported = true;
  finished.outcome = "workload done";
  const std::vector<Warning> warnings = {sampleWarning(), finished};
  auto back = parseWarnings(serializeWarnings(warnings));
  ASSERT_TRUE(back) << back.error().toString();
  EXPECT_EQ(*back, warnings);
  auto empty = parseWarnings(serializeWarnings({}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(EvictionState, ADamagedOrForeignFileIsRefused) {
  std::string text = serializeWarnings({sampleWarning()});
  std::string damaged = text;
  damaged.replace(damaged.find("train"), 5, "trair");
  auto result = parseWarnings(damaged);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::DataLoss);
  std::string newer = text;
  newer.replace(newer.find("\"version\":1"), 11, "\"version\":2");
  EXPECT_FALSE(parseWarnings(newer));
  EXPECT_FALSE(parseWarnings(""));
  EXPECT_FALSE(parseWarnings("[]"));
  EXPECT_FALSE(parseWarnings(R"({"version":1,"warnings":[]})"));  // no checksum
}

TEST(EvictionState, TheTableShowsProgressDeadlineAndTimeLeft) {
  Warning w = sampleWarning();
  w.progress->message = "line\nbreak";
  const std::string table = formatWarningsTable({w}, w.warned_at + std::chrono::seconds(100));
  EXPECT_NE(table.find("ml/train"), std::string::npos) << table;
  EXPECT_NE(table.find("running 40% line\\x0abreak"), std::string::npos) << table;
  EXPECT_NE(table.find("2026-12-06T22:10:00Z (500s left)"), std::string::npos) << table;
  EXPECT_NE(table.find("1 warnings, 1 in flight"), std::string::npos) << table;
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 3);
}

}  // namespace
}  // namespace topod::agent
