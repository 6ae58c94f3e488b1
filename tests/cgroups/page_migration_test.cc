// migratePages() on a fake cgroup tree and a fake migrate_pages(2): which processes are moved,
// from where to where, and what a vanished process, a failure or the deadline do to the outcome.
#include "cgroups/page_migration.h"

#include <gtest/gtest.h>

#include "cgroups/container_files.h"
#include "tests/fakes/fake_cgroup_fs.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_page_mover.h"

namespace topod::cgroups {
namespace {

using namespace std::chrono_literals;
using testing::FakeCgroupFs;
using testing::FakeClock;
using testing::FakePageMover;

class PageMigrationTest : public ::testing::Test {
 protected:
  PageMigrationTest() {
    fs.addCgroup("/kubepods/pod1/c1");
    fs.set("/kubepods/pod1/c1", "cgroup.procs", "101\n102\n103\n");
  }
  FakeCgroupFs fs;
  FakePageMover mover;
  FakeClock clock;
  Clock::TimePoint later() { return clock.now() + 5s; }
};

TEST_F(PageMigrationTest, MovesEveryProcessFromEveryOtherNodeOntoTheTarget) {
  auto outcome = migratePages(fs, mover, clock, "/kubepods/pod1/c1", NodeSet{1}, later());
  ASSERT_TRUE(outcome.has_value()) << outcome.error().toString();
  EXPECT_EQ(outcome->processes, 3);
  EXPECT_EQ(outcome->moved, 3);
  EXPECT_FALSE(outcome->deadline_hit);
  ASSERT_EQ(mover.moves.size(), 3u);
  EXPECT_EQ(mover.moves[0].pid, 101);
  EXPECT_EQ(mover.moves[2].pid, 103);
  for (const auto& move : mover.moves) {
    EXPECT_EQ(move.to, NodeSet{1});
    EXPECT_TRUE(move.from.contains(0));
    EXPECT_TRUE(move.from.contains(3));
    EXPECT_FALSE(move.from.contains(1)) << "pages already on the target stay";
  }
  EXPECT_EQ(outcome->summary(NodeSet{1}), "moved the pages of 3/3 processes to node(s) 1 (0 pages not moved)");
}

TEST_F(PageMigrationTest, AVanishedProcessIsCountedNotAnError) {
  mover.answers.emplace(102, Error::notFound("gone"));
  mover.answers.emplace(103, uint64_t{7});
  auto outcome = migratePages(fs, mover, clock, "/kubepods/pod1/c1", NodeSet{0, 1}, later());
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->moved, 2);
  EXPECT_EQ(outcome->vanished, 1);
  EXPECT_EQ(outcome->pages_not_moved, 7u);
  EXPECT_TRUE(outcome->errors.empty());
}

TEST_F(PageMigrationTest, AFailureIsReportedAndTheOthersAreStillMoved) {
  mover.answers.emplace(101, Error::fromErrno(EPERM, "migrate_pages(101)"));
  auto outcome = migratePages(fs, mover, clock, "/kubepods/pod1/c1", NodeSet{1}, later());
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->moved, 2);
  ASSERT_EQ(outcome->errors.size(), 1u);
  EXPECT_NE(outcome->errors[0].find("migrate_pages(101)"), std::string::npos);
  EXPECT_NE(outcome->summary(NodeSet{1}).find("2/3"), std::string::npos);
}

TEST_F(PageMigrationTest, StopsAtTheDeadline) {
  mover.fake_clock = &clock;
  mover.cost = 2s;
  auto outcome = migratePages(fs, mover, clock, "/kubepods/pod1/c1", NodeSet{1}, clock.now() + 3s);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->moved, 2) << "the first two calls start before the deadline, the third would not";
  EXPECT_TRUE(outcome->deadline_hit);
  EXPECT_NE(outcome->summary(NodeSet{1}).find("deadline"), std::string::npos);
}

TEST_F(PageMigrationTest, ErrorsForAGoneCgroupAnEmptyTargetAndAGarbledProcsFile) {
  auto gone = migratePages(fs, mover, clock, "/kubepods/pod1/gone", NodeSet{1}, later());
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), ErrorCode::NotFound);

  auto nowhere = migratePages(fs, mover, clock, "/kubepods/pod1/c1", NodeSet{}, later());
  ASSERT_FALSE(nowhere.has_value());
  EXPECT_EQ(nowhere.error().code(), ErrorCode::InvalidArgument);

  fs.set("/kubepods/pod1/c1", "cgroup.procs", "101\nabc\n");
  auto garbled = migratePages(fs, mover, clock, "/kubepods/pod1/c1", NodeSet{1}, later());
  ASSERT_FALSE(garbled.has_value());
  EXPECT_NE(garbled.error().message().find("/kubepods/pod1/c1"), std::string::npos) << garbled.error().toString();
  EXPECT_TRUE(mover.moves.empty()) << "nothing is moved on a file it cannot read";
}

TEST(ParseCgroupProcsTest, AcceptsPidsOneALineAndRejectsTheRest) {
  EXPECT_EQ(parseCgroupProcs("").value(), std::vector<pid_t>{});
  EXPECT_EQ(parseCgroupProcs("1\n22\n333").value(), (std::vector<pid_t>{1, 22, 333}));
  EXPECT_FALSE(parseCgroupProcs("0\n").has_value());
  EXPECT_FALSE(parseCgroupProcs("-4\n").has_value());
  EXPECT_FALSE(parseCgroupProcs("12 \n").has_value());
  EXPECT_FALSE(parseCgroupProcs("99999999999999999999\n").has_value());
}

}  // namespace
}  // namespace topod::cgroups
