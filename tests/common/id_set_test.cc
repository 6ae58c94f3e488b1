#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_set>

#include "common/cpuset.h"

namespace topod {
namespace {

struct ParseRow {
  std::string name;
  std::string input;
  std::string formatted;  // canonical form after parsing
};

class CpuListParseTest : public ::testing::TestWithParam<ParseRow> {};

TEST_P(CpuListParseTest, ParsesAndFormatsCanonically) {
  const ParseRow& row = GetParam();
  auto set = CpuSet::parse(row.input);
  ASSERT_TRUE(set.has_value()) << set.error().toString();
  EXPECT_EQ(set->toString(), row.formatted);
  auto again = CpuSet::parse(set->toString());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *set);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, CpuListParseTest,
    ::testing::Values(ParseRow{"Empty", "", ""}, ParseRow{"EmptyKernelFile", "\n", ""}, ParseRow{"Single", "5", "5"},
                      ParseRow{"Range", "0-3", "0-3"}, ParseRow{"Mixed", "0-3,8,10-11", "0-3,8,10-11"},
                      ParseRow{"KernelNewline", "0-3\n", "0-3"},
                      ParseRow{"UnsortedAndDuplicated", "8,0-3,2,1", "0-3,8"},
                      ParseRow{"AdjacentRangesMerge", "0-1,2-3", "0-3"}, ParseRow{"DegenerateRange", "5-5", "5"},
                      ParseRow{"AcrossWordBoundary", "62-66", "62-66"}, ParseRow{"MaxId", "8191", "8191"}),
    [](const ::testing::TestParamInfo<ParseRow>& row) { return row.param.name; });

struct BadRow {
  std::string name;
  std::string input;
  std::string message_part;
};

class CpuListRejectTest : public ::testing::TestWithParam<BadRow> {};

TEST_P(CpuListRejectTest, RejectsWithClearMessage) {
  const BadRow& row = GetParam();
  auto set = CpuSet::parse(row.input);
  ASSERT_FALSE(set.has_value()) << "accepted: " << set->toString();
  EXPECT_EQ(set.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(set.error().message().find(row.message_part), std::string::npos) << set.error().message();
  EXPECT_NE(set.error().message().find("cpu list"), std::string::npos) << set.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, CpuListRejectTest,
    ::testing::Values(
        BadRow{"ReversedRange", "3-1", "ends below its start"}, BadRow{"Letter", "a", "not a non-negative number"},
        BadRow{"EmptyElement", "1,,2", "empty element"}, BadRow{"Negative", "-1", "empty element"},
        BadRow{"OutOfRange", "8192", "out of range"}, BadRow{"HugeNumber", "99999999999999", "out of range"},
        BadRow{"TrailingComma", "1,", "trailing comma"}, BadRow{"LeadingComma", ",1", "empty element"},
        BadRow{"DoubleDash", "1-2-3", "not a non-negative number"}, BadRow{"Hex", "0x1", "not a non-negative number"},
        BadRow{"Space", " 1", "not a non-negative number"}, BadRow{"OpenRange", "1-", "empty element"},
        BadRow{"TwoNewlines", "1\n\n", "not a non-negative number"}),
    [](const ::testing::TestParamInfo<BadRow>& row) { return row.param.name; });

TEST(NodeSetTest, RejectsIdsAboveKernelLimit) {
  EXPECT_TRUE(NodeSet::parse("1023").has_value());
  auto bad = NodeSet::parse("1024");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("node list"), std::string::npos);
}

TEST(CpuSetTest, SetAlgebra) {
  CpuSet a = CpuSet::range(0, 7);
  CpuSet b{4, 5, 6, 7, 8, 9};
  EXPECT_EQ((a | b).toString(), "0-9");
  EXPECT_EQ((a & b).toString(), "4-7");
  EXPECT_EQ((a - b).toString(), "0-3");
  EXPECT_EQ((b - a).toString(), "8-9");
  EXPECT_TRUE((a & b).isSubsetOf(a));
  EXPECT_FALSE(b.isSubsetOf(a));
  EXPECT_TRUE(a.intersects(b));
  EXPECT_FALSE(CpuSet{1}.intersects(CpuSet{2}));
  EXPECT_TRUE(CpuSet{}.isSubsetOf(a));
}

TEST(CpuSetTest, DifferenceTrimsSoEqualSetsCompareEqual) {
  CpuSet wide{1, 200};
  CpuSet narrowed = wide - CpuSet{200};
  EXPECT_EQ(narrowed, CpuSet{1});
  EXPECT_EQ(std::hash<CpuSet>{}(narrowed), std::hash<CpuSet>{}(CpuSet{1}));
  CpuSet emptied = CpuSet{300} - CpuSet{300};
  EXPECT_TRUE(emptied.empty());
  EXPECT_EQ(emptied, CpuSet{});
}

TEST(CpuSetTest, IterationIsAscendingAcrossWords) {
  CpuSet set{130, 0, 63, 64, 7};
  std::vector<int> seen;
  for (int cpu : set) seen.push_back(cpu);
  EXPECT_EQ(seen, (std::vector<int>{0, 7, 63, 64, 130}));
  EXPECT_EQ(set.size(), 5);
  EXPECT_EQ(set.first(), 0);
  EXPECT_EQ(set.last(), 130);
  EXPECT_EQ(CpuSet{}.first(), -1);
  EXPECT_EQ(CpuSet{}.last(), -1);
}

TEST(CpuSetTest, InsertEraseContains) {
  CpuSet set;
  set.insert(5);
  EXPECT_TRUE(set.contains(5));
  EXPECT_FALSE(set.contains(4));
  EXPECT_FALSE(set.contains(-1));
  EXPECT_FALSE(set.contains(100000));
  set.erase(5);
  set.erase(100000);
  EXPECT_TRUE(set.empty());
}

TEST(CpuSetTest, OrderingFollowsIds) {
  EXPECT_LT(CpuSet({0, 1}), CpuSet({0, 2}));
  EXPECT_LT(CpuSet({0}), CpuSet({0, 1}));
  std::unordered_set<CpuSet> sets{CpuSet{1}, CpuSet{1}, CpuSet{2}};
  EXPECT_EQ(sets.size(), 2U);
}

TEST(CpuSetTest, OrderingEqualsComparingTheIdLists) {
  // operator< works on the words; it must order exactly as the ascending id lists compare.
  std::mt19937 rng(11);
  for (int round = 0; round < 20000; ++round) {
    CpuSet a;
    CpuSet b;
    // Small ranges so prefixes and shared beginnings are common; one in four spans several words.
    const int range = round % 4 == 0 ? 300 : 12;
    for (int i = static_cast<int>(rng() % 6); i > 0; --i) a.insert(static_cast<int>(rng() % range));
    for (int i = static_cast<int>(rng() % 6); i > 0; --i) b.insert(static_cast<int>(rng() % range));
    if (rng() % 3 == 0) b = a | CpuSet{static_cast<int>(rng() % range)};
    ASSERT_EQ(a < b, a.toVector() < b.toVector()) << a.toString() << " vs " << b.toString();
    ASSERT_EQ(b < a, b.toVector() < a.toVector()) << b.toString() << " vs " << a.toString();
  }
}

TEST(CpuSetDeathTest, InsertingOutOfRangeIdTerminates) {
  CpuSet set;
  EXPECT_DEATH(set.insert(CpuSet::kMaxId + 1), "cpu list");
  EXPECT_DEATH(set.insert(-1), "cpu list");
}

}  // namespace
}  // namespace topod
