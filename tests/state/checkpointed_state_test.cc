// CheckpointedState: a change is on disk before it is in memory; a Draft's edits are either
// committed as one journal write (every key it touched, in the order first touched) or rolled
// back, explicitly, on a failed write, or when the draft goes out of scope.
#include "state/checkpointed_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "state/state_journal.h"
#include "tests/agent/agent_test_support.h"
#include "tests/fakes/fake_policy.h"

namespace topod::agent {
namespace {

using policies::ContainerAllocation;
using policies::ContainerKey;
using policies::StateChange;

ContainerKey keyOf(const std::string& pod) {
  return {pod, "app"};
}

class CheckpointedStateTest : public ::testing::Test {
 protected:
  void open() {
    store_ = std::make_unique<CheckpointedState>(dir_.path(), CheckpointOptions{.records_per_segment = 64});
    auto loaded = store_->load(topology_, defaultConfig().policy, policy_);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().toString();
  }
  // The records the journal holds, in order.
  std::vector<StateChange> journal() const {
    auto segments = listJournalSegments(dir_.path());
    EXPECT_TRUE(segments.has_value());
    if (!segments.has_value()) return {};
    auto contents = readJournal(*segments, /*allow_torn_tail=*/false);
    EXPECT_TRUE(contents.has_value());
    return contents.has_value() ? contents->changes : std::vector<StateChange>{};
  }

  testing::TempDir dir_;
  topology::Topology topology_ = testing::twoNodeTopology();
  testing::FakeExclusivePolicy policy_{topology_};
  std::unique_ptr<CheckpointedState> store_;
};

TEST_F(CheckpointedStateTest, CommitJournalsThenApplies) {
  open();
  ASSERT_TRUE(
      store_->commit({{.key = keyOf("p1"), .allocation = testing::exclusiveAllocation(CpuSet{2, 3})}}).has_value());
  EXPECT_TRUE(store_->state().contains(keyOf("p1")));
  auto records = journal();
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].key, keyOf("p1"));
  auto on_disk = Checkpoint::readOnDisk(dir_.path());
  ASSERT_TRUE(on_disk.has_value()) << on_disk.error().toString();
  EXPECT_EQ(*on_disk, store_->state());
}

TEST_F(CheckpointedStateTest, ADraftCommitsEveryTouchedKeyInTheOrderFirstTouched) {
  open();
  ASSERT_TRUE(store_
                  ->commit({{.key = keyOf("init"), .allocation = testing::exclusiveAllocation(CpuSet{2})},
                            {.key = keyOf("p1"), .allocation = testing::exclusiveAllocation(CpuSet{3})}})
                  .has_value());
  {
    auto draft = store_->draft();
    draft.erase(keyOf("init"));  // a finished sibling released for the decision
    draft.erase(keyOf("p1"));    // the old allocation taken out to place afresh
    EXPECT_FALSE(draft.state().contains(keyOf("p1"))) << "the policy decides on the edited State";
    draft.put(keyOf("p1"), testing::exclusiveAllocation(CpuSet{2, 3}));  // the decision
    ASSERT_TRUE(draft.commit().has_value());
  }
  EXPECT_FALSE(store_->state().contains(keyOf("init")));
  EXPECT_EQ(store_->state().find(keyOf("p1"))->exclusive_cpus, (CpuSet{2, 3}));
  auto records = journal();
  ASSERT_EQ(records.size(), 4U);
  EXPECT_EQ(records[2].key, keyOf("init"));
  EXPECT_FALSE(records[2].allocation.has_value());
  EXPECT_EQ(records[3].key, keyOf("p1"));
  ASSERT_TRUE(records[3].allocation.has_value()) << "one record per key: its final value";
  EXPECT_EQ(records[3].allocation->exclusive_cpus, (CpuSet{2, 3}));
  auto on_disk = Checkpoint::readOnDisk(dir_.path());
  ASSERT_TRUE(on_disk.has_value());
  EXPECT_EQ(*on_disk, store_->state());
}

TEST_F(CheckpointedStateTest, ADraftLeftUncommittedIsRolledBack) {
  open();
  ASSERT_TRUE(
      store_->commit({{.key = keyOf("p1"), .allocation = testing::exclusiveAllocation(CpuSet{2})}}).has_value());
  const policies::State before = store_->state();
  const policies::StateTotals totals = before.totals();
  {
    auto draft = store_->draft();
    draft.erase(keyOf("p1"));
    draft.put(keyOf("p2"), testing::exclusiveAllocation(CpuSet{3, 4}));
    draft.put(keyOf("p2"), testing::exclusiveAllocation(CpuSet{5}));
  }  // refused: no commit
  EXPECT_EQ(store_->state(), before);
  EXPECT_EQ(store_->state().totals(), totals);
  {
    auto draft = store_->draft();
    draft.put(keyOf("p1"), testing::exclusiveAllocation(CpuSet{6}));
    draft.rollback();
    EXPECT_TRUE(draft.empty());
  }
  EXPECT_EQ(store_->state(), before);
  EXPECT_EQ(journal().size(), 1U) << "nothing of a rolled-back draft is written";
}

TEST_F(CheckpointedStateTest, AFailedWriteLeavesMemoryAsBeforeUnlessToldToApplyAnyway) {
  open();
  ASSERT_TRUE(
      store_->commit({{.key = keyOf("p1"), .allocation = testing::exclusiveAllocation(CpuSet{2})}}).has_value());
  const policies::State before = store_->state();
  ASSERT_TRUE(store_->close().has_value());  // from now on every write fails
  {
    auto draft = store_->draft();
    draft.put(keyOf("p2"), testing::exclusiveAllocation(CpuSet{3}));
    EXPECT_FALSE(draft.commit().has_value());
  }
  EXPECT_EQ(store_->state(), before) << "a draft whose write failed is rolled back";
  EXPECT_FALSE(store_->commit({{.key = keyOf("p1"), .allocation = std::nullopt}}).has_value());
  EXPECT_TRUE(store_->state().contains(keyOf("p1"))) << "Discard: not applied";
  EXPECT_FALSE(
      store_->commit({{.key = keyOf("p1"), .allocation = std::nullopt}}, CheckpointedState::OnFailure::ApplyAnyway)
          .has_value());
  EXPECT_FALSE(store_->state().contains(keyOf("p1"))) << "ApplyAnyway: a release stands in memory";
}

}  // namespace
}  // namespace topod::agent
