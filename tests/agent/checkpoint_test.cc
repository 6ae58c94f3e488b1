// Checkpoint and StateJournal: state.json plus the journal of changes since, on a real
// directory. Every crash point the design claims to survive is produced by hand here (a torn
// last record, a compaction cut short before or after state.json was replaced), and every kind
// of corruption it claims to detect (bad hash, missing records, torn bytes mid-journal, a State
// that does not fit the machine) is shown to move the files aside rather than be trusted.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "agent/checkpoint.h"
#include "agent/config.h"
#include "agent/state_journal.h"
#include "policies/state_json.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

namespace fs = std::filesystem;
using policies::ContainerAllocation;
using policies::ContainerKey;
using policies::StateChange;

ContainerAllocation exclusive(CpuSet cpus) {
  ContainerAllocation allocation;
  allocation.exclusive_cpus = cpus;
  allocation.qos = QosClass::Guaranteed;
  allocation.request.name = "app";
  allocation.request.cpu_request_millis = 1000 * cpus.size();
  allocation.request.cpu_limit_millis = allocation.request.cpu_request_millis;
  return allocation;
}

StateChange put(const std::string& pod, CpuSet cpus) {
  return StateChange{.key = {pod, "app"}, .allocation = exclusive(cpus)};
}
StateChange erase(const std::string& pod) { return StateChange{.key = {pod, "app"}, .allocation = std::nullopt}; }

std::vector<std::string> filesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

int countPrefix(const std::string& dir, const std::string& prefix) {
  int n = 0;
  for (const std::string& name : filesIn(dir)) n += name.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

void appendBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << bytes;
}

class CheckpointTest : public ::testing::Test {
 protected:
  std::unique_ptr<Checkpoint> open(CheckpointOptions options = {.sync = JournalSync::EveryChange, .records_per_segment = 4}) {
    auto checkpoint = std::make_unique<Checkpoint>(dir_.path(), options);
    auto loaded = checkpoint->load(topology_, defaultConfig().policy, policy_);
    EXPECT_TRUE(loaded.has_value()) << loaded.error().toString();
    if (loaded.has_value()) last_ = std::move(*loaded);
    return checkpoint;
  }
  // Records the changes one event at a time, and mirrors them into `expected_`.
  void record(Checkpoint& checkpoint, std::vector<StateChange> changes) {
    for (const StateChange& change : changes) policies::applyStateChange(expected_, change);
    ASSERT_TRUE(checkpoint.record(changes).has_value());
  }
  // Writes the changes through a bare StateJournal (4 records a segment): segments without the
  // Checkpoint's worker compacting them behind the test's back.
  void journalOnly(std::vector<StateChange> changes) {
    auto segments = listJournalSegments(dir_.path()).value();
    auto contents = readJournal(segments, true).value();
    auto journal = StateJournal::open(dir_.path(), contents, {.sync = JournalSync::EveryChange, .records_per_segment = 4});
    ASSERT_TRUE(journal.has_value()) << journal.error().toString();
    for (StateChange& change : changes) {
      policies::applyStateChange(expected_, change);
      std::vector<StateChange> one{change};
      ASSERT_TRUE((*journal)->append(one).has_value());
    }
  }
  std::string segment(int index) const {
    char name[32];
    std::snprintf(name, sizeof name, "journal.%010d", index);
    return dir_.path() + "/" + name;
  }

  testing::TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  testing::FakeExclusivePolicy policy_{topology_};
  LoadedState last_;
  policies::State expected_;
};

TEST_F(CheckpointTest, ChangesAreOnDiskWhenRecordReturns) {
  auto checkpoint = open();
  EXPECT_NE(last_.report.find("restored 0"), std::string::npos) << last_.report;
  record(*checkpoint, {put("p1", {2, 3})});
  record(*checkpoint, {put("p2", {4}), erase("p1")});
  auto on_disk = Checkpoint::readOnDisk(dir_.path());
  ASSERT_TRUE(on_disk.has_value()) << on_disk.error().toString();
  EXPECT_EQ(*on_disk, expected_);
  EXPECT_FALSE(fs::exists(dir_.path() + "/state.json")) << "nothing compacted yet";
}

TEST_F(CheckpointTest, RecordsAreNumberedWithoutGapsAcrossRestarts) {
  std::vector<StateChange> first{put("p1", {2})};
  {
    auto checkpoint = open();
    ASSERT_TRUE(checkpoint->record(first).has_value());
  }
  EXPECT_EQ(first[0].seq, 1U);
  auto checkpoint = open();
  std::vector<StateChange> second{put("p2", {3}), erase("p1")};
  ASSERT_TRUE(checkpoint->record(second).has_value());
  EXPECT_EQ(second[0].seq, 2U);
  EXPECT_EQ(second[1].seq, 3U);
}

TEST_F(CheckpointTest, RestartRestoresSnapshotPlusJournal) {
  {
    auto checkpoint = open();
    for (int i = 0; i < 10; ++i) record(*checkpoint, {put("p" + std::to_string(i % 3), {2 + i % 3})});
    ASSERT_TRUE(checkpoint->compact().has_value());
    record(*checkpoint, {erase("p1")});
  }
  ASSERT_TRUE(fs::exists(dir_.path() + "/state.json"));
  auto checkpoint = open();
  EXPECT_EQ(last_.state, expected_);
  EXPECT_FALSE(last_.moved_aside);
  EXPECT_NE(last_.report.find("restored 2"), std::string::npos) << last_.report;
}

TEST_F(CheckpointTest, CompactionFoldsClosedSegmentsAndDeletesThem) {
  auto checkpoint = open();
  for (int i = 0; i < 9; ++i) record(*checkpoint, {put("p" + std::to_string(i), {2 + i})});
  ASSERT_TRUE(checkpoint->compact().has_value());
  // 9 records at 4 a segment: two closed segments folded, the third (1 record) still open.
  EXPECT_EQ(countPrefix(dir_.path(), "journal."), 1) << ::testing::PrintToString(filesIn(dir_.path()));
  auto snapshot = policies::parseState(readWholeFile(dir_.path() + "/state.json").value(), "state.json");
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->size(), 8U);
  EXPECT_EQ(Checkpoint::readOnDisk(dir_.path()).value(), expected_);
}

TEST_F(CheckpointTest, TheWorkerCompactsOnItsOwn) {
  auto checkpoint = open();
  for (int i = 0; i < 12; ++i) record(*checkpoint, {put("p" + std::to_string(i), {2 + i})});
  for (int wait = 0; wait < 500 && checkpoint->compactions() == 0; ++wait) ::usleep(10'000);
  EXPECT_GE(checkpoint->compactions(), 1U);
  EXPECT_EQ(Checkpoint::readOnDisk(dir_.path()).value(), expected_);
}

TEST_F(CheckpointTest, CompactionCutShortBeforeDeletingSegmentsReplaysIdempotently) {
  std::vector<StateChange> changes;
  for (int i = 0; i < 8; ++i) changes.push_back(put("p" + std::to_string(i % 2), {2 + i}));
  journalOnly(changes);
  // What a compaction that died after replacing state.json but before deleting a segment
  // leaves: state.json already holds every record of the segments still there.
  StateFile snapshot(dir_.path(), Checkpoint::kFileName);
  ASSERT_TRUE(snapshot.write(policies::serializeState(expected_)).has_value());
  ASSERT_TRUE(fs::exists(segment(1)));
  auto checkpoint = open();
  EXPECT_FALSE(last_.moved_aside) << last_.report;
  EXPECT_EQ(last_.state, expected_);
}

TEST_F(CheckpointTest, CompactionCutShortBeforeReplacingStateJsonLosesNothing) {
  {
    auto checkpoint = open();
    record(*checkpoint, {put("p1", {2})});
    ASSERT_TRUE(checkpoint->compact().has_value());
    for (int i = 0; i < 6; ++i) record(*checkpoint, {put("p" + std::to_string(i), {3 + i})});
  }
  // A compaction's temp file that never got renamed: ignored.
  appendBytes(dir_.path() + "/.state.json.tmp", "{\"half\":");
  auto checkpoint = open();
  EXPECT_EQ(last_.state, expected_);
}

TEST_F(CheckpointTest, TornLastRecordIsDroppedAndCutOff) {
  {
    auto checkpoint = open();
    record(*checkpoint, {put("p1", {2})});
  }
  // A crash in the middle of the next append: half a record, no newline.
  std::string line = journalLine(put("p2", {3}));
  appendBytes(segment(1), line.substr(0, line.size() / 2));
  {
    auto checkpoint = open();
    EXPECT_FALSE(last_.moved_aside) << last_.report;
    EXPECT_NE(last_.report.find("torn"), std::string::npos) << last_.report;
    EXPECT_EQ(last_.state, expected_);
    record(*checkpoint, {put("p3", {4})});
  }
  // The cut-off segment verifies in full now that it is no longer the last one.
  auto checkpoint = open();
  EXPECT_FALSE(last_.moved_aside) << last_.report;
  EXPECT_EQ(last_.state, expected_);
}

TEST_F(CheckpointTest, TornBytesBeforeTheEndAreCorruption) {
  {
    auto checkpoint = open();
    record(*checkpoint, {put("p1", {2})});
  }
  {
    auto checkpoint = open();  // appends now go to segment 2
    record(*checkpoint, {put("p2", {3})});
  }
  appendBytes(segment(1), "0123");  // segment 1 is not the last one: this cannot be a torn append
  auto checkpoint = open();
  EXPECT_TRUE(last_.moved_aside);
  EXPECT_NE(last_.report.find("incomplete record"), std::string::npos) << last_.report;
  EXPECT_TRUE(last_.state.empty());
}

TEST_F(CheckpointTest, BadHashMovesEveryFileAsideWithOneStamp) {
  {
    auto checkpoint = open();
    record(*checkpoint, {put("p1", {2})});
    ASSERT_TRUE(checkpoint->compact().has_value());
    for (int i = 0; i < 5; ++i) record(*checkpoint, {put("p" + std::to_string(i), {3 + i})});
  }
  // Flip one digit of a CPU list inside the first record of the first remaining segment.
  auto segments = listJournalSegments(dir_.path()).value();
  ASSERT_FALSE(segments.empty());
  std::string text = readWholeFile(segments.front().path).value();
  auto at = text.find("\"exclusive_cpus\":\"");
  ASSERT_NE(at, std::string::npos);
  text[at + 18] = text[at + 18] == '9' ? '8' : '9';
  std::ofstream(segments.front().path, std::ios::trunc | std::ios::binary) << text;

  auto checkpoint = open();
  EXPECT_TRUE(last_.moved_aside);
  EXPECT_NE(last_.report.find("hash mismatch"), std::string::npos) << last_.report;
  EXPECT_TRUE(last_.state.empty());
  EXPECT_EQ(countPrefix(dir_.path(), "state.json.corrupt-"), 1);
  int moved_segments = 0;
  for (const std::string& name : filesIn(dir_.path())) {
    moved_segments += name.find("journal.") == 0 && name.find(".corrupt-") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(moved_segments, static_cast<int>(segments.size()));
  // The fresh journal starts over and works.
  record(*checkpoint, {put("p9", {10})});
  EXPECT_EQ(Checkpoint::readOnDisk(dir_.path())->size(), 1U);
}

TEST_F(CheckpointTest, MissingSegmentIsCorruption) {
  std::vector<StateChange> changes;
  for (int i = 0; i < 10; ++i) changes.push_back(put("p" + std::to_string(i), {2 + i}));
  journalOnly(changes);
  ASSERT_TRUE(fs::remove(segment(2)));
  auto checkpoint = open();
  EXPECT_TRUE(last_.moved_aside);
  EXPECT_NE(last_.report.find("records are missing"), std::string::npos) << last_.report;
}

TEST_F(CheckpointTest, JournalThatDoesNotFitTheMachineIsMovedAside) {
  {
    auto checkpoint = open();
    record(*checkpoint, {put("p1", {2}), put("p2", {40})});  // CPU 40: not on this machine
  }
  auto checkpoint = open();
  EXPECT_TRUE(last_.moved_aside);
  EXPECT_TRUE(last_.state.empty());
}

TEST_F(CheckpointTest, ReadsAStateJsonFromBeforeTheJournal) {
  // topod before the journal wrote only state.json; the format is the same version.
  policies::State old;
  old.put({"p1", "app"}, exclusive({2, 3}));
  StateFile snapshot(dir_.path(), Checkpoint::kFileName);
  ASSERT_TRUE(snapshot.write(policies::serializeState(old)).has_value());
  auto checkpoint = open();
  EXPECT_FALSE(last_.moved_aside) << last_.report;
  EXPECT_EQ(last_.state, old);
}

TEST_F(CheckpointTest, BackgroundModeWritesBeforeReturningAndSyncsLater) {
  auto checkpoint = open({.sync = JournalSync::Background, .records_per_segment = 1024});
  record(*checkpoint, {put("p1", {2})});
  // In the page cache at once: a crash of topod itself (not of the kernel) loses nothing.
  EXPECT_EQ(Checkpoint::readOnDisk(dir_.path()).value(), expected_);
}

TEST_F(CheckpointTest, FailedAppendLeavesNoPartialRecord) {
  auto checkpoint = open({.sync = JournalSync::EveryChange, .records_per_segment = 1024});
  record(*checkpoint, {put("p1", {2})});
  std::size_t size = fs::file_size(segment(1));
  // A file size limit a little above the current size: the next batch is written in part, then
  // the write fails (EFBIG), like a disk that fills up in the middle of a record.
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit tight = old;
  tight.rlim_cur = size + 100;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tight), 0);
  std::vector<StateChange> batch{put("p2", {3}), put("p3", {4})};
  Status failed = checkpoint->record(batch);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.error().message().find("appending to journal segment"), std::string::npos)
      << failed.error().toString();
  EXPECT_EQ(fs::file_size(segment(1)), size) << "the partial record is cut off again";
  EXPECT_EQ(Checkpoint::readOnDisk(dir_.path()).value(), expected_);
  // And the journal goes on where it was.
  record(*checkpoint, {put("p4", {5})});
  checkpoint.reset();
  auto restarted = open();
  EXPECT_FALSE(last_.moved_aside) << last_.report;
  EXPECT_EQ(last_.state, expected_);
}

TEST_F(CheckpointTest, RecordBeforeLoadIsRefused) {
  Checkpoint checkpoint(dir_.path());
  std::vector<StateChange> changes{put("p1", {2})};
  Status refused = checkpoint.record(changes);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::FailedPrecondition);
}

TEST(StateChangeTest, RoundTripsAndRejectsMalformedRecords) {
  StateChange change = put("p1", {2, 3});
  change.seq = 7;
  auto parsed = policies::parseStateChange(policies::serializeStateChange(change), "t");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().toString();
  EXPECT_EQ(*parsed, change);
  StateChange gone = erase("p1");
  gone.seq = 8;
  EXPECT_EQ(policies::parseStateChange(policies::serializeStateChange(gone), "t").value(), gone);
  for (const char* bad : {"{}", "{\"seq\":1}", "{\"seq\":1,\"put\":{},\"erase\":{}}",
                          "{\"seq\":-1,\"erase\":{\"pod_uid\":\"a\",\"container\":\"b\"}}",
                          "{\"seq\":1,\"erase\":{\"pod_uid\":\"\",\"container\":\"b\"}}",
                          "{\"seq\":1,\"erase\":{\"pod_uid\":\"a\",\"container\":\"b\",\"x\":1}}",
                          "{\"seq\":1,\"put\":{\"pod_uid\":\"a\",\"container\":\"b\",\"exclusive_cpus\":\"x\"}}"}) {
    EXPECT_FALSE(policies::parseStateChange(bad, "t").has_value()) << bad;
  }
}

}  // namespace
}  // namespace topod::agent
