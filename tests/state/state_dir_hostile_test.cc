// The state directory as a hostile user or a damaged disk leaves it (issue 17 items 1c and 4):
// one unreadable record costs that record alone, and topod neither follows links planted in the
// directory, nor blocks on a FIFO, nor reads an endless file, nor trusts a directory or files
// that someone else may write.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/file_io.h"
#include "config/config.h"
#include "state/checkpoint.h"
#include "state/lock_file.h"
#include "state/state_journal.h"
#include "state/state_json.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

namespace fs = std::filesystem;
using policies::StateChange;

StateChange putCpus(const std::string& pod, CpuSet cpus) {
  policies::ContainerAllocation allocation;
  allocation.exclusive_cpus = cpus;
  allocation.qos = QosClass::Guaranteed;
  allocation.request.name = "app";
  allocation.request.cpu_request_millis = 1000 * cpus.size();
  allocation.request.cpu_limit_millis = allocation.request.cpu_request_millis;
  return StateChange{.key = {pod, "app"}, .allocation = allocation};
}

// A journal line whose hash verifies but whose record the reader refuses: what a writer of
// another version, or the overflow of issue 17 item 1, leaves behind.
std::string hashedLine(const std::string& record) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(policies::fnv1a64(record)));
  return std::string(hex) + " " + record + "\n";
}

class StateDirHostileTest : public ::testing::Test {
 protected:
  Result<LoadedState> load(Checkpoint& checkpoint) {
    return checkpoint.load(topology_, defaultConfig().policy, policy_);
  }
  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }

  testing::TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  testing::FakeExclusivePolicy policy_{topology_};
};

TEST_F(StateDirHostileTest, OneUnreadableRecordCostsThatRecordAlone) {
  std::string journal =
      journalLine(StateChange{.seq = 1, .key = {"p1", "app"}, .allocation = putCpus("p1", {2}).allocation});
  // p2 was admitted, then its record became unreadable (a negative count of millicores).
  journal += journalLine(StateChange{.seq = 2, .key = {"p2", "app"}, .allocation = putCpus("p2", {3}).allocation});
  journal += hashedLine(
      R"({"put":{"container":"app","pod_uid":"p2","exclusive_cpus":"4","request":{"cpu_limit_millis":-1}},"seq":3})");
  journal += journalLine(StateChange{.seq = 4, .key = {"p3", "app"}, .allocation = putCpus("p3", {5}).allocation});
  std::ofstream(path("journal.0000000001"), std::ios::binary) << journal;

  auto checkpoint = std::make_unique<Checkpoint>(dir_.path());
  auto loaded = load(*checkpoint);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().toString();
  EXPECT_FALSE(loaded->moved_aside) << loaded->report;
  EXPECT_TRUE(loaded->warning);
  EXPECT_NE(loaded->report.find("1 unreadable journal record"), std::string::npos) << loaded->report;
  EXPECT_NE(loaded->report.find("p2/app"), std::string::npos) << loaded->report;
  // p1 and p3 stand; p2's allocation is unknown, so it is forgotten (Synchronize adopts it).
  EXPECT_EQ(loaded->state.size(), 2U);
  EXPECT_TRUE(loaded->state.contains({"p1", "app"}));
  EXPECT_TRUE(loaded->state.contains({"p3", "app"}));
  // `topod state` and compaction read it the same way.
  auto on_disk = Checkpoint::readOnDisk(dir_.path());
  ASSERT_TRUE(on_disk.has_value()) << on_disk.error().toString();
  EXPECT_EQ(*on_disk, loaded->state);
  checkpoint.reset();  // a clean stop folds the journal into state.json
  auto again = std::make_unique<Checkpoint>(dir_.path());
  auto reloaded = load(*again);
  ASSERT_TRUE(reloaded.has_value()) << reloaded.error().toString();
  EXPECT_FALSE(reloaded->warning) << reloaded->report;
  EXPECT_EQ(reloaded->state, loaded->state);
}

TEST_F(StateDirHostileTest, TheWriterRefusesARecordItCouldNotReadBack) {
  auto checkpoint = std::make_unique<Checkpoint>(dir_.path());
  ASSERT_TRUE(load(*checkpoint).has_value());
  std::vector<StateChange> bad{putCpus("p1", {2})};
  bad[0].allocation->request.cpu_limit_millis = -5;  // the reader refuses negative millicores
  auto written = checkpoint->record(bad);
  ASSERT_FALSE(written.has_value());
  EXPECT_NE(written.error().message().find("cannot be recorded faithfully"), std::string::npos)
      << written.error().message();
  std::vector<StateChange> not_utf8{putCpus("p\xff", {3})};
  EXPECT_FALSE(checkpoint->record(not_utf8).has_value());
  std::vector<StateChange> good{putCpus("p2", {4})};
  ASSERT_TRUE(checkpoint->record(good).has_value());
  auto on_disk = Checkpoint::readOnDisk(dir_.path());
  ASSERT_TRUE(on_disk.has_value()) << on_disk.error().toString();
  EXPECT_EQ(on_disk->size(), 1U);
}

TEST_F(StateDirHostileTest, ALinkAtTheLockFileIsRefusedAndItsTargetUntouched) {
  std::string victim = dir_.path() + "-victim";
  std::ofstream(victim) << "precious\n";
  ASSERT_EQ(::symlink(victim.c_str(), path("topod.lock").c_str()), 0);
  auto lock = LockFile::acquire(path("topod.lock"));
  ASSERT_FALSE(lock.has_value());
  EXPECT_NE(lock.error().message().find("symbolic link"), std::string::npos) << lock.error().message();
  std::string content;
  std::getline(std::ifstream(victim), content);
  EXPECT_EQ(content, "precious");
  fs::remove(victim);
}

TEST_F(StateDirHostileTest, ALinkAtTheTempFileIsNotWrittenThrough) {
  std::string victim = dir_.path() + "-victim";
  std::ofstream(victim) << "precious\n";
  ASSERT_EQ(::symlink(victim.c_str(), path(".state.json.tmp").c_str()), 0);
  StateFile file(dir_.path(), "state.json");
  ASSERT_TRUE(file.write("{}\n").has_value());
  std::string content;
  std::getline(std::ifstream(victim), content);
  EXPECT_EQ(content, "precious");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(path("state.json"))));
  fs::remove(victim);
}

TEST_F(StateDirHostileTest, ALinkedStateFileIsRefusedNotFollowed) {
  std::string elsewhere = dir_.path() + "-elsewhere.json";
  std::ofstream(elsewhere) << "{}";
  ASSERT_EQ(::symlink(elsewhere.c_str(), path("state.json").c_str()), 0);
  Checkpoint checkpoint(dir_.path());
  auto loaded = load(checkpoint);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message().find("symbolic link"), std::string::npos) << loaded.error().message();
  fs::remove(elsewhere);
}

TEST_F(StateDirHostileTest, AFifoInPlaceOfAJournalSegmentFailsAtOnce) {
  ASSERT_EQ(::mkfifo(path("journal.0000000001").c_str(), 0600), 0);
  Checkpoint checkpoint(dir_.path());
  // Without the type check this open would wait for a writer forever.
  auto loaded = load(checkpoint);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message().find("not a regular file"), std::string::npos) << loaded.error().message();
}

TEST_F(StateDirHostileTest, AnOversizedFileIsRefusedNotRead) {
  auto read = readRegularFile("/proc/self/status", {.max_bytes = 16, .no_follow = true});
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), ErrorCode::OutOfRange) << read.error().toString();
  // /dev/zero never ends: its type alone refuses it.
  auto endless = readRegularFile("/dev/zero");
  ASSERT_FALSE(endless.has_value());
  EXPECT_NE(endless.error().message().find("not a regular file"), std::string::npos);
}

TEST_F(StateDirHostileTest, ADirectoryOthersMayWriteIsRefused) {
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0777), 0);
  Checkpoint checkpoint(dir_.path());
  auto loaded = load(checkpoint);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message().find("writable by group or others"), std::string::npos)
      << loaded.error().message();
  EXPECT_FALSE(checkStateDirectory(dir_.path()).has_value());
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0700), 0);
  EXPECT_TRUE(checkStateDirectory(dir_.path()).has_value());
}

TEST_F(StateDirHostileTest, AStateFileOthersMayWriteIsRefused) {
  std::ofstream(path("state.json")) << policies::serializeState({});
  ASSERT_EQ(::chmod(path("state.json").c_str(), 0666), 0);
  Checkpoint checkpoint(dir_.path());
  auto loaded = load(checkpoint);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message().find("state file"), std::string::npos) << loaded.error().message();
}

TEST_F(StateDirHostileTest, FilesOfAnotherOwnerAreRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file away";
  std::ofstream(path("state.json")) << policies::serializeState({});
  ASSERT_EQ(::chown(path("state.json").c_str(), 65534, 65534), 0);
  Checkpoint checkpoint(dir_.path());
  auto loaded = load(checkpoint);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message().find("owned by uid 65534"), std::string::npos) << loaded.error().message();
  ASSERT_EQ(::chown(dir_.path().c_str(), 65534, 65534), 0);
  EXPECT_FALSE(checkStateDirectory(dir_.path()).has_value());
}

}  // namespace
}  // namespace topod::agent
