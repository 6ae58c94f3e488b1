// Checkpoint and StateJournal: state.json plus the journal of changes since, on a real
// directory. Every crash point the design claims to survive is produced by hand here (a torn
// last record, a compaction cut short before or after state.json was replaced), and every kind
// of corruption it claims to detect (bad hash, missing records, torn bytes mid-journal, a State
// that does not fit the machine) is shown to move the files aside rather than be trusted.
#include "state/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "state/state_journal.h"
#include "state/state_json.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

namespace fs = std::filesystem;
using policies::ContainerAllocation;
using policies::ContainerKey;
using policies::StateChange;

StateChange put(const std::string& pod, CpuSet cpus) {
  return StateChange{.key = {pod, "app"}, .allocation = testing::exclusiveAllocation(cpus)};
}
StateChange erase(const std::string& pod) {
  return StateChange{.key = {pod, "app"}, .allocation = std::nullopt};
}

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
  std::unique_ptr<Checkpoint> open(CheckpointOptions options = {.sync = JournalSync::EveryChange,
                                                                .records_per_segment = 4}) {
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
    auto journal =
        StateJournal::open(dir_.path(), contents, {.sync = JournalSync::EveryChange, .records_per_segment = 4});
    ASSERT_TRUE(journal.has_value()) << journal.error().toString();
    for (StateChange& change : changes) {
      policies::applyStateChange(expected_, change);
      std::vector<StateChange> one{change};
      ASSERT_TRUE((*journal)->append(one).has_value());
    }
  }
  // Runs `work` on a loaded Checkpoint in a child process that then dies without any cleanup
  // (_exit, no destructors): the files are exactly what a crash at that point leaves. The
  // changes it records must be mirrored into expected_ by the caller (see mirror()).
  void crashAfter(const std::function<bool(Checkpoint&)>& work) {
    pid_t pid = ::fork();
    if (pid == 0) {
      Checkpoint checkpoint(dir_.path(), {.sync = JournalSync::EveryChange, .records_per_segment = 4});
      bool ok = checkpoint.load(topology_, defaultConfig().policy, policy_).has_value() && work(checkpoint);
      ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the crashing child failed";
  }
  std::vector<StateChange> mirror(std::vector<StateChange> changes) {
    for (const StateChange& change : changes) policies::applyStateChange(expected_, change);
    return changes;
  }
  static bool recordEach(Checkpoint& checkpoint, std::vector<StateChange> changes) {
    for (StateChange& change : changes) {
      std::vector<StateChange> one{change};
      if (!checkpoint.record(one).has_value()) return false;
    }
    return true;
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

TEST_F(CheckpointTest, RecordsAreNumberedOnFromWhatTheJournalHolds) {
  journalOnly({put("p1", {2})});  // seq 1, left behind by a crash
  auto checkpoint = open();
  const std::vector<StateChange> second{put("p2", {3}), erase("p1")};
  ASSERT_TRUE(checkpoint->record(second).has_value());
  EXPECT_EQ(second[0].seq, 0U) << "the caller's changes are left alone";
  auto segments = listJournalSegments(dir_.path());
  ASSERT_TRUE(segments.has_value()) << segments.error().toString();
  auto contents = readJournal(*segments, /*allow_torn_tail=*/false);
  ASSERT_TRUE(contents.has_value()) << contents.error().toString();
  ASSERT_EQ(contents->changes.size(), 3U);
  EXPECT_EQ(contents->changes[1].seq, 2U);
  EXPECT_EQ(contents->changes[2].seq, 3U);
}

TEST_F(CheckpointTest, RecordAfterCloseIsRefusedAndCloseFoldsTheJournal) {
  auto checkpoint = open();
  record(*checkpoint, {put("p1", {2})});
  ASSERT_TRUE(checkpoint->close().has_value());
  EXPECT_TRUE(checkpoint->close().has_value()) << "a second close does nothing";
  auto refused = checkpoint->record({put("p2", {3})});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::FailedPrecondition) << refused.error().toString();
  EXPECT_TRUE(fs::exists(dir_.path() + "/state.json")) << "close() folded the journal";
  auto on_disk = Checkpoint::readOnDisk(dir_.path());
  ASSERT_TRUE(on_disk.has_value()) << on_disk.error().toString();
  EXPECT_EQ(*on_disk, expected_);
}

TEST_F(CheckpointTest, RestartAfterACrashRestoresStateJsonPlusJournal) {
  std::vector<StateChange> before;
  for (int i = 0; i < 10; ++i) before.push_back(put("p" + std::to_string(i % 3), {2 + i % 3}));
  before = mirror(before);
  std::vector<StateChange> after = mirror({erase("p1")});
  crashAfter([&](Checkpoint& checkpoint) {
    return recordEach(checkpoint, before) && checkpoint.compact().has_value() && recordEach(checkpoint, after);
  });
  ASSERT_TRUE(fs::exists(dir_.path() + "/state.json"));
  ASSERT_GE(countPrefix(dir_.path(), "journal."), 1) << "the crash left journal records to replay";
  auto checkpoint = open();
  EXPECT_EQ(last_.state, expected_);
  EXPECT_FALSE(last_.moved_aside);
  EXPECT_NE(last_.report.find("restored 2"), std::string::npos) << last_.report;
}

TEST_F(CheckpointTest, CleanShutdownFoldsTheWholeJournalIntoStateJson) {
  {
    auto checkpoint = open({.sync = JournalSync::EveryChange, .records_per_segment = 1024});
    record(*checkpoint, {put("p1", {2})});
    record(*checkpoint, {put("p2", {3}), put("p3", {4})});
  }
  EXPECT_EQ(countPrefix(dir_.path(), "journal."), 0) << ::testing::PrintToString(filesIn(dir_.path()));
  auto document = policies::parseState(readWholeFile(dir_.path() + "/state.json").value(), "state.json");
  ASSERT_TRUE(document.has_value()) << document.error().toString();
  EXPECT_EQ(*document, expected_);
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
  // 12 records at 4 a segment close 3 segments; the worker folds them without compact().
  EXPECT_TRUE(checkpoint->awaitCompactions(1, std::chrono::seconds(10)));
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
  }  // a clean stop: state.json holds p1
  std::vector<StateChange> later;
  for (int i = 0; i < 6; ++i) later.push_back(put("p" + std::to_string(i), {3 + i}));
  journalOnly(later);
  // A compaction's temp file that never got renamed: ignored.
  appendBytes(dir_.path() + "/.state.json.tmp", "{\"half\":");
  auto checkpoint = open();
  EXPECT_FALSE(last_.moved_aside) << last_.report;
  EXPECT_EQ(last_.state, expected_);
}

TEST_F(CheckpointTest, TornLastRecordIsDroppedAndTheStateRestored) {
  journalOnly({put("p1", {2})});
  // A crash in the middle of the next append: half a record, no newline.
  std::string line = journalLine(put("p2", {3}));
  appendBytes(segment(1), line.substr(0, line.size() / 2));
  auto checkpoint = open();
  EXPECT_FALSE(last_.moved_aside) << last_.report;
  EXPECT_NE(last_.report.find("torn"), std::string::npos) << last_.report;
  EXPECT_EQ(last_.state, expected_);
  record(*checkpoint, {put("p3", {4})});
  checkpoint.reset();
  checkpoint = open();
  EXPECT_FALSE(last_.moved_aside) << last_.report;
  EXPECT_EQ(last_.state, expected_);
}

TEST(StateJournalTest, OpeningCutsATornTailOffSoTheSegmentVerifiesWhenClosed) {
  testing::TempDir dir;
  auto first = StateJournal::open(dir.path(), {}, {});
  ASSERT_TRUE(first.has_value());
  std::vector<StateChange> one{put("p1", {2})};
  ASSERT_TRUE((*first)->append(one).has_value());
  first->reset();
  auto segments = listJournalSegments(dir.path()).value();
  ASSERT_EQ(segments.size(), 1U);
  std::size_t complete = fs::file_size(segments[0].path);
  appendBytes(segments[0].path, journalLine(put("p2", {3})).substr(0, 20));
  EXPECT_FALSE(readJournal(segments, /*allow_torn_tail=*/false).has_value()) << "torn bytes are corruption when closed";
  auto contents = readJournal(segments, /*allow_torn_tail=*/true);
  ASSERT_TRUE(contents.has_value());
  EXPECT_TRUE(contents->torn_tail);
  EXPECT_EQ(contents->last_segment_valid_bytes, complete);
  auto reopened = StateJournal::open(dir.path(), *contents, {});
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ(fs::file_size(segments[0].path), complete);
  auto verified = readJournal(segments, /*allow_torn_tail=*/false);
  ASSERT_TRUE(verified.has_value()) << verified.error().toString();
  EXPECT_EQ(verified->changes.size(), 1U);
  EXPECT_EQ((*reopened)->closedSegments(), segments);
}

TEST_F(CheckpointTest, TornBytesBeforeTheEndAreCorruption) {
  journalOnly({put("p1", {2})});
  journalOnly({put("p2", {3})});    // a second run: segment 2
  appendBytes(segment(1), "0123");  // segment 1 is not the last one: this cannot be a torn append
  auto checkpoint = open();
  EXPECT_TRUE(last_.moved_aside);
  EXPECT_NE(last_.report.find("incomplete record"), std::string::npos) << last_.report;
  EXPECT_TRUE(last_.state.empty());
}

TEST_F(CheckpointTest, BadHashMovesEveryFileAsideWithOneStamp) {
  std::vector<StateChange> changes;
  for (int i = 0; i < 6; ++i) changes.push_back(put("p" + std::to_string(i), {2 + i}));
  crashAfter([&](Checkpoint& checkpoint) {
    // Five records close segment 1 (4 a segment), the compaction folds it, the sixth follows.
    return recordEach(checkpoint, {changes.begin(), changes.begin() + 5}) && checkpoint.compact().has_value() &&
           recordEach(checkpoint, {changes[5]});
  });
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
  EXPECT_FALSE(last_.misfit);  // damaged, not a configuration change
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
  journalOnly({put("p1", {2}), put("p2", {40})});  // CPU 40: not on this machine
  auto checkpoint = open();
  EXPECT_TRUE(last_.moved_aside);
  EXPECT_TRUE(last_.misfit);  // the agent asks to evict pods it cannot re-pin (docs/eviction.md)
  EXPECT_TRUE(last_.state.empty());
}

TEST_F(CheckpointTest, ReadsAStateJsonFromBeforeTheJournal) {
  // topod before the journal wrote only state.json; the format is the same version.
  policies::State old;
  old.put({"p1", "app"}, testing::exclusiveAllocation({2, 3}));
  StateFile snapshot(dir_.path(), Checkpoint::kFileName);
  ASSERT_TRUE(snapshot.write(policies::serializeState(old)).has_value());
  auto checkpoint = open();
  EXPECT_FALSE(last_.moved_aside) << last_.report;
  EXPECT_EQ(last_.state, old);
}

TEST_F(CheckpointTest, BackgroundModeWritesBeforeReturningAndSyncsLater) {
  testing::FakeClock clock;
  auto checkpoint = open({.sync = JournalSync::Background, .records_per_segment = 1024, .clock = &clock});
  ASSERT_TRUE(clock.awaitWaiting(1)) << "the worker waits for its first sync interval";
  record(*checkpoint, {put("p1", {2})});
  // In the page cache at once: a crash of topod itself (not of the kernel) loses nothing.
  EXPECT_EQ(Checkpoint::readOnDisk(dir_.path()).value(), expected_);
  EXPECT_TRUE(checkpoint->syncPending()) << "Background mode must not fdatasync on the NRI path";

  clock.advance(Checkpoint::kBackgroundSyncInterval - std::chrono::milliseconds(1));
  ASSERT_EQ(clock.waitingCount(), 1U) << "not due yet: the worker still waits";
  EXPECT_TRUE(checkpoint->syncPending());

  clock.advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(clock.awaitWaiting(1)) << "the worker synced and waits for the next interval";
  EXPECT_FALSE(checkpoint->syncPending()) << "synced within kBackgroundSyncInterval of the change";
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
