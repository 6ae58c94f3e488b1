// Rows transcribed from the kubelet's pkg/kubelet/cm/topologymanager/policy_test.go and
// policy_{best_effort,restricted,single_numa_node}_test.go: same hints, same NUMA machine, same
// expected merged hint. Row names are the kubelet's descriptions, sanitised.
#include "policies/static/topology_manager/hint_merge.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/policies/static/topology_manager/hint_dsl.h"
#include "tests/policies/static/topology_manager/numa_fixtures.h"

namespace topod::policies::topology_manager {
namespace {

using policies::testing::parseHint;
using policies::testing::parseProviders;
using policies::testing::sanitizeName;

// The kubelet's commonNUMAInfo{Two,Four,Eight}Nodes.
NumaInfo twoNodes() {
  return NumaInfo({0, 1}, {{0, {{0, 10}, {1, 11}}}, {1, {{0, 11}, {1, 10}}}});
}

NumaInfo fourNodes() {
  return fromMatrix({{10, 11, 12, 12}, {11, 10, 12, 12}, {12, 12, 10, 11}, {12, 12, 11, 10}});
}

NumaInfo eightNodes() {
  // Row 7 is asymmetric in the kubelet's fixture (13 to node 6); kept as is.
  return fromMatrix({{10, 11, 12, 12, 30, 30, 30, 30},
                     {11, 10, 12, 12, 30, 30, 30, 30},
                     {12, 12, 10, 11, 30, 30, 30, 30},
                     {12, 12, 11, 10, 30, 30, 30, 30},
                     {30, 30, 30, 30, 10, 11, 12, 12},
                     {30, 30, 30, 30, 11, 10, 12, 12},
                     {30, 30, 30, 30, 12, 12, 10, 11},
                     {30, 30, 30, 30, 12, 12, 13, 10}});
}

struct MergeRow {
  std::string name;
  std::string providers;  // hint_dsl.h syntax
  std::string expected;   // a hint; "all" stands for every node of the machine
};

// commonPolicyMergeTestCases: the same expectations under every merging policy.
const std::vector<MergeRow> kCommonRows = {
    {"Two providers, 1 hint each, same mask, both preferred 1/2", "resource1=0* | resource2=0*", "0*"},
    {"Two providers, 1 hint each, same mask, both preferred 2/2", "resource1=1* | resource2=1*", "1*"},
    {"Two providers, 1 no hints, 1 single hint preferred 1/2", "{} | resource=0*", "0*"},
    {"Two providers, 1 no hints, 1 single hint preferred 2/2", "{} | resource=1*", "1*"},
    {"Two providers, 1 with 2 hints, 1 with single hint matching 1/2", "resource1=0* 1* | resource2=0*", "0*"},
    {"Two providers, 1 with 2 hints, 1 with single hint matching 2/2", "resource1=0* 1* | resource2=1*", "1*"},
    {"Two providers, both with 2 hints, matching narrower preferred hint from both",
     "resource1=0* 1* | resource2=0* 0-1!", "0*"},
    {"Ensure less narrow preferred hints are chosen over narrower non-preferred hints",
     "resource1=1* 0-1! | resource2=0* 1* 0-1!", "1*"},
    {"Multiple resources, same provider", "resource1=1* 0-1!; resource2=0* 1* 0-1!", "1*"},
};

// bestEffortPolicy.mergeTestCases (also run for restricted, which embeds best-effort).
const std::vector<MergeRow> kBestEffortRows = {
    {"Two providers, 2 hints each, same mask (some with different bits), same preferred",
     "resource1=0-1* 0,2* | resource2=0-1* 0,2*", "0-1*"},
    {"TopologyHint not set", "", "all*"},
    {"HintProvider returns empty non-nil map[string][]TopologyHint", "{}", "all*"},
    {"HintProvider returns -nil map[string][]TopologyHint from provider", "resource=nil", "all*"},
    {"HintProvider returns empty non-nil map[string][]TopologyHint from provider", "resource=[]", "all!"},
    {"Single TopologyHint with Preferred as true and NUMANodeAffinity as nil", "resource=any*", "all*"},
    {"Single TopologyHint with Preferred as false and NUMANodeAffinity as nil", "resource=any!", "all!"},
    {"Two providers, 1 hint each, no common mask", "resource1=0* | resource2=1*", "all!"},
    {"Two providers, 1 hint each, same mask, 1 preferred, 1 not 1/2", "resource1=0* | resource2=0!", "0!"},
    {"Two providers, 1 hint each, same mask, 1 preferred, 1 not 2/2", "resource1=1* | resource2=1!", "1!"},
    {"Two providers, 1 hint each, 1 wider mask, both preferred 1/2", "resource1=0* | resource2=0-1*", "0!"},
    {"Two providers, 1 with 2 hints, 1 with single non-preferred hint matching", "resource1=0* 1* | resource2=0-1!",
     "0!"},
    {"Two providers, 1 hint each, 1 wider mask, both preferred 2/2", "resource1=1* | resource2=0-1*", "1!"},
    {"bestNonPreferredAffinityCount (1)", "resource1=0-3! 0-1! | resource2=0-1!", "0-1!"},
    {"bestNonPreferredAffinityCount (2)", "resource1=0-3! 0-1! | resource2=0,3!", "0,3!"},
    {"bestNonPreferredAffinityCount (3)", "resource1=0-3! 0-1! | resource2=1-2!", "1-2!"},
    {"bestNonPreferredAffinityCount (4)", "resource1=0-3! 0-1! | resource2=2-3!", "2-3!"},
};

// bestEffortPolicy.mergeTestCasesNoPolicies: without prefer-closest-numa-nodes.
const std::vector<MergeRow> kNoOptionRows = {
    {"bestNonPreferredAffinityCount (5)", "resource1=0-3! 0-1! | resource2=1-2! 2-3!", "1-2!"},
    {"bestNonPreferredAffinityCount (6)", "resource1=0-3! 0-1! | resource2=1-3! 1-2! 1,3! 2-3!", "1-2!"},
};

// bestEffortPolicy.mergeTestCasesClosestNUMA: with prefer-closest-numa-nodes, eight nodes.
const std::vector<MergeRow> kClosestRows = {
    {"Two providers, 2 hints each, same mask (some with different bits), same preferred",
     "resource1=0,4* 0,2* | resource2=0,4* 0,2*", "0,2*"},
    {"Two providers, 2 hints each, different mask", "resource1=4* 0,2* | resource2=4* 0,2*", "4*"},
    {"bestNonPreferredAffinityCount (5)", "resource1=0-3! 0-1! | resource2=1-2! 2-3!", "2-3!"},
    {"bestNonPreferredAffinityCount (6)", "resource1=0-3! 0-1! | resource2=1-3! 1-2! 1,3! 2-3!", "2-3!"},
};

// singleNumaNodePolicy.mergeTestCases, two nodes.
const std::vector<MergeRow> kSingleNumaRows = {
    {"TopologyHint not set", "", "any*"},
    {"HintProvider returns empty non-nil map[string][]TopologyHint", "{}", "any*"},
    {"HintProvider returns -nil map[string][]TopologyHint from provider", "resource=nil", "any*"},
    {"HintProvider returns empty non-nil map[string][]TopologyHint from provider", "resource=[]", "any!"},
    {"Single TopologyHint with Preferred as true and NUMANodeAffinity as nil", "resource=any*", "any*"},
    {"Single TopologyHint with Preferred as false and NUMANodeAffinity as nil", "resource=any!", "any!"},
    {"Two providers, 1 hint each, no common mask", "resource1=0* | resource2=1*", "any!"},
    {"Two providers, 1 hint each, same mask, 1 preferred, 1 not 1/2", "resource1=0* | resource2=0!", "any!"},
    {"Two providers, 1 hint each, same mask, 1 preferred, 1 not 2/2", "resource1=1* | resource2=1!", "any!"},
    {"Two providers, 1 with 2 hints, 1 with single non-preferred hint matching", "resource1=0* 1* | resource2=0-1!",
     "any!"},
    {"Single NUMA hint generation", "resource1=0-1*; resource2=0* 1* 0-1!", "any!"},
    {"One no-preference provider", "resource1=0* 1* 0-1! | {}", "0*"},
};

struct PolicyCase {
  std::string label;
  TopologyManagerPolicy policy;
  bool prefer_closest;
  NumaInfo (*numa)();
  const std::vector<MergeRow>* rows;
};

struct MergeParam {
  PolicyCase policy;
  MergeRow row;
};

std::vector<MergeParam> expand(const std::vector<PolicyCase>& cases) {
  std::vector<MergeParam> params;
  for (const PolicyCase& c : cases) {
    for (const MergeRow& row : *c.rows) params.push_back({c, row});
  }
  return params;
}

class PolicyMergeTest : public ::testing::TestWithParam<MergeParam> {};

TEST_P(PolicyMergeTest, MergesLikeTheKubelet) {
  const MergeParam& p = GetParam();
  NumaInfo numa = p.policy.numa();
  std::string expected_text = p.row.expected;
  TopologyHint expected;
  if (expected_text.rfind("all", 0) == 0) {
    expected = parseHint("any" + expected_text.substr(3));
    expected.affinity = toNodeSet(numa.defaultAffinity());
  } else {
    expected = parseHint(expected_text);
  }
  MergeOutcome outcome = mergeHints(p.policy.policy, numa, p.policy.prefer_closest, parseProviders(p.row.providers));
  EXPECT_EQ(outcome.hint.affinity.toString(), expected.affinity.toString());
  EXPECT_EQ(outcome.hint.preferred, expected.preferred);
  // canAdmitPodResult: best-effort admits everything; restricted and single-numa-node admit
  // exactly the preferred hints.
  bool expected_admit = p.policy.policy == TopologyManagerPolicy::BestEffort || expected.preferred;
  EXPECT_EQ(outcome.admit, expected_admit);
}

std::string mergeRowName(const ::testing::TestParamInfo<MergeParam>& param_info) {
  return param_info.param.policy.label + "_" + sanitizeName(param_info.param.row.name);
}

// TestPolicyBestEffortMerge, TestPolicyBestEffortMergeClosestNUMA, TestPolicyRestrictedMerge,
// TestPolicyRestrictedMergeClosestNUMA, TestPolicySingleNumaNodeMerge.
INSTANTIATE_TEST_SUITE_P(
    Kubelet, PolicyMergeTest,
    ::testing::ValuesIn(expand({
        {"BestEffortCommon", TopologyManagerPolicy::BestEffort, false, fourNodes, &kCommonRows},
        {"BestEffort", TopologyManagerPolicy::BestEffort, false, fourNodes, &kBestEffortRows},
        {"BestEffortNoOption", TopologyManagerPolicy::BestEffort, false, fourNodes, &kNoOptionRows},
        {"BestEffortClosestCommon", TopologyManagerPolicy::BestEffort, true, eightNodes, &kCommonRows},
        {"BestEffortClosestBase", TopologyManagerPolicy::BestEffort, true, eightNodes, &kBestEffortRows},
        {"BestEffortClosest", TopologyManagerPolicy::BestEffort, true, eightNodes, &kClosestRows},
        {"RestrictedCommon", TopologyManagerPolicy::Restricted, false, fourNodes, &kCommonRows},
        {"Restricted", TopologyManagerPolicy::Restricted, false, fourNodes, &kBestEffortRows},
        {"RestrictedNoOption", TopologyManagerPolicy::Restricted, false, fourNodes, &kNoOptionRows},
        {"RestrictedClosestCommon", TopologyManagerPolicy::Restricted, true, eightNodes, &kCommonRows},
        {"RestrictedClosestBase", TopologyManagerPolicy::Restricted, true, eightNodes, &kBestEffortRows},
        {"RestrictedClosest", TopologyManagerPolicy::Restricted, true, eightNodes, &kClosestRows},
        {"SingleNumaCommon", TopologyManagerPolicy::SingleNumaNode, false, twoNodes, &kCommonRows},
        {"SingleNuma", TopologyManagerPolicy::SingleNumaNode, false, twoNodes, &kSingleNumaRows},
    })),
    mergeRowName);

TEST(PolicyNoneMerge, AlwaysAdmitsWithNoAffinity) {
  // policy_none_test.go: any hints give {nil, false} and admit.
  MergeOutcome outcome =
      mergeHints(TopologyManagerPolicy::None, twoNodes(), false, parseProviders("resource1=0* | resource2=1!"));
  EXPECT_TRUE(outcome.hint.affinity.empty());
  EXPECT_FALSE(outcome.hint.preferred);
  EXPECT_TRUE(outcome.admit);
}

// TestCompareHintsNarrowest.
struct CompareRow {
  std::string name;
  int best_non_preferred_affinity_count;
  std::string current;  // "" = no current best yet
  std::string candidate;
  bool expect_candidate;
};

class CompareHintsTest : public ::testing::TestWithParam<CompareRow> {};

TEST_P(CompareHintsTest, PicksLikeTheKubelet) {
  const CompareRow& row = GetParam();
  NumaInfo numa;
  HintMerger merger(numa, {}, false);
  merger.best_non_preferred_affinity_count = row.best_non_preferred_affinity_count;
  MaskHint current = toMaskHint(row.current.empty() ? TopologyHint{} : parseHint(row.current));
  MaskHint candidate = toMaskHint(parseHint(row.candidate));
  const MaskHint* result = merger.compare(row.current.empty() ? nullptr : &current, &candidate);
  if (row.expect_candidate) {
    EXPECT_EQ(result, &candidate);
  } else {
    EXPECT_EQ(result, row.current.empty() ? nullptr : &current);
  }
}

INSTANTIATE_TEST_SUITE_P(Kubelet, CompareHintsTest,
                         ::testing::ValuesIn(std::vector<CompareRow>{
                             {"candidate.NUMANodeAffinity.Count() == 0 (1)", -1, "", "any!", false},
                             {"candidate.NUMANodeAffinity.Count() == 0 (2)", -1, "any*", "any!", false},
                             {"current == nil (1)", -1, "", "0*", true},
                             {"current == nil (2)", -1, "", "0!", true},
                             {"!current.Preferred && candidate.Preferred", -1, "0!", "0*", true},
                             {"current.Preferred && !candidate.Preferred", -1, "0*", "0!", false},
                             {"current.Preferred && candidate.Preferred (1)", -1, "0*", "0*", false},
                             {"current.Preferred && candidate.Preferred (2)", -1, "0-1*", "0*", true},
                             {"current.Preferred && candidate.Preferred (3)", -1, "0*", "0-1*", false},
                             {"!current.Preferred && !candidate.Preferred (1.1)", 1, "0-1!", "0-1!", false},
                             {"!current.Preferred && !candidate.Preferred (1.2)", 1, "1-2!", "0-1!", true},
                             {"!current.Preferred && !candidate.Preferred (1.3)", 1, "0-1!", "1-2!", false},
                             {"!current.Preferred && !candidate.Preferred (2.1)", 2, "0-1!", "0!", false},
                             {"!current.Preferred && !candidate.Preferred (2.2)", 2, "0-1!", "0-1!", false},
                             {"!current.Preferred && !candidate.Preferred (2.3)", 2, "1-2!", "0-1!", true},
                             {"!current.Preferred && !candidate.Preferred (2.4)", 2, "0-1!", "1-2!", false},
                             {"!current.Preferred && !candidate.Preferred (3a)", 2, "0!", "0-2!", false},
                             {"!current.Preferred && !candidate.Preferred (3b)", 2, "0!", "0-1!", true},
                             {"!current.Preferred && !candidate.Preferred (3ca.1)", 3, "0!", "0-1!", true},
                             {"!current.Preferred && !candidate.Preferred (3ca.2)", 3, "0!", "1-2!", true},
                             {"!current.Preferred && !candidate.Preferred (3ca.3)", 4, "0-1!", "1-3!", true},
                             {"!current.Preferred && !candidate.Preferred (3cb)", 4, "1-3!", "0-1!", false},
                             {"!current.Preferred && !candidate.Preferred (3cc.1)", 4, "0-2!", "0-2!", false},
                             {"!current.Preferred && !candidate.Preferred (3cc.2)", 4, "0-2!", "1-3!", false},
                             {"!current.Preferred && !candidate.Preferred (3cc.3)", 4, "1-3!", "0-2!", true},
                         }),
                         [](const ::testing::TestParamInfo<CompareRow>& param_info) {
                           return sanitizeName(param_info.param.name);
                         });

// TestMaxOfMinAffinityCounts (the kubelet's rows are unnamed; numbered here).
struct CountRow {
  std::string name;
  std::vector<std::vector<std::string>> hints;
  int expected;
};

class MaxOfMinAffinityCountsTest : public ::testing::TestWithParam<CountRow> {};

TEST_P(MaxOfMinAffinityCountsTest, Counts) {
  std::vector<std::vector<MaskHint>> hints;
  for (const auto& list : GetParam().hints) {
    hints.emplace_back();
    for (const std::string& token : list) hints.back().push_back(toMaskHint(parseHint(token)));
  }
  EXPECT_EQ(maxOfMinAffinityCounts(hints), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Kubelet, MaxOfMinAffinityCountsTest,
                         ::testing::ValuesIn(std::vector<CountRow>{
                             {"row1_no_resources", {}, 0},
                             {"row2_empty_mask", {{"any*"}}, 0},
                             {"row3_one_node", {{"0*"}}, 1},
                             {"row4_two_nodes", {{"0-1*"}}, 2},
                             {"row5_narrowest_of_two", {{"0-1*", "0-2*"}}, 2},
                             {"row6_max_over_resources", {{"0-1*", "0-2*"}, {"0-2*"}}, 3},
                             {"row7_max_of_mins", {{"0-1*", "0-2*"}, {"0-2*", "0-3*"}}, 3},
                         }),
                         [](const ::testing::TestParamInfo<CountRow>& param_info) { return param_info.param.name; });

// TestPolicySingleNumaNodeFilterHints.
struct FilterRow {
  std::string name;
  std::vector<std::vector<std::string>> input;
  std::vector<std::vector<std::string>> expected;
};

class SingleNumaFilterTest : public ::testing::TestWithParam<FilterRow> {};

TEST_P(SingleNumaFilterTest, KeepsPreferredSingleNodeAndAnyHints) {
  auto convert = [](const std::vector<std::vector<std::string>>& lists) {
    std::vector<std::vector<MaskHint>> out;
    for (const auto& list : lists) {
      out.emplace_back();
      for (const std::string& token : list) out.back().push_back(toMaskHint(parseHint(token)));
    }
    return out;
  };
  EXPECT_EQ(filterSingleNumaHints(convert(GetParam().input)), convert(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Kubelet, SingleNumaFilterTest,
    ::testing::ValuesIn(std::vector<FilterRow>{
        {"filter empty resources", {}, {}},
        {"filter hints with nil socket mask 1/2", {{"any!"}, {"any*"}}, {{}, {"any*"}}},
        {"filter hints with nil socket mask 2/2", {{"0*", "any!"}, {"1*", "any*"}}, {{"0*"}, {"1*", "any*"}}},
        {"filter hints with empty resource socket mask", {{"1*", "0*", "any!"}, {}}, {{"1*", "0*"}, {}}},
        {"filter hints with wide sockemask",
         {{"0*", "1*", "1-2!", "0-2!", "any!"}, {"1-2!", "0-2!", "0,2!", "3!"}, {"1-2!", "0-2!", "0,2!"}},
         {{"0*", "1*"}, {}, {}}},
    }),
    [](const ::testing::TestParamInfo<FilterRow>& param_info) { return sanitizeName(param_info.param.name); });

TEST(MergePermutation, PreferredOnlyWhenAllNamedNodesAgree) {
  MaskHint a{toMask(NodeSet{0}), true};
  MaskHint b{toMask(NodeSet{0, 1}), true};
  MaskHint any{0, true};
  EXPECT_EQ(mergePermutation(0b11, {&a, &any}), (MaskHint{0b01, true}));
  EXPECT_EQ(mergePermutation(0b11, {&a, &b}), (MaskHint{0b01, false}));
  EXPECT_EQ(mergePermutation(0b11, {}), (MaskHint{0b11, true}));
}

// merge() never walks the permutations on machines of up to 12 NUMA nodes; it must pick exactly
// what the kubelet's walk (mergeExhaustive) picks. Seeded random hint sets, every policy shape.
TEST(HintMergerShortcut, AgreesWithTheExhaustiveWalk) {
  std::mt19937 random(20261123);  // fixed seed: the test is deterministic
  const std::vector<NumaInfo> machines = {twoNodes(), fourNodes(), eightNodes()};
  int preferred_results = 0;
  int non_preferred_results = 0;
  for (int round = 0; round < 3000; ++round) {
    const NumaInfo& numa = machines[static_cast<std::size_t>(round) % machines.size()];
    const int node_count = static_cast<int>(numa.nodes().size());
    std::uniform_int_distribution<int> resources_dist(1, 3);
    std::uniform_int_distribution<int> hints_dist(0, 5);
    // Masks over the machine's nodes plus one node it lacks, and 0 ("any").
    std::uniform_int_distribution<NumaMask> mask_dist(0, (NumaMask{1} << (node_count + 1)) - 1);
    std::bernoulli_distribution preferred_dist(0.6);
    std::vector<std::vector<MaskHint>> hints;
    int resources = resources_dist(random);
    for (int r = 0; r < resources; ++r) {
      hints.emplace_back();
      int count = hints_dist(random);
      for (int h = 0; h < count; ++h) hints.back().push_back({mask_dist(random), preferred_dist(random)});
    }
    for (bool closest : {false, true}) {
      for (bool single : {false, true}) {
        std::vector<std::vector<MaskHint>> input = single ? filterSingleNumaHints(hints) : hints;
        HintMerger merger(numa, input, closest);
        MaskHint fast = merger.merge();
        MaskHint reference = merger.mergeExhaustive();
        ASSERT_EQ(fast, reference) << "round " << round << " closest " << closest << " single " << single;
        if (fast.preferred) ++preferred_results;
        if (!fast.preferred && fast.affinity != numa.defaultAffinity()) ++non_preferred_results;
      }
    }
  }
  EXPECT_GT(preferred_results, 1000) << "the random hints must exercise the preferred shortcut";
  EXPECT_GT(non_preferred_results, 1000) << "the random hints must exercise the counting path";
}

// mergeDistinct() (the non-preferred merge beyond 12 NUMA nodes, and wherever the permutations
// would overflow a counter) collects the distinct merged masks instead of walking the cross
// product: it must pick what the kubelet's walk picks whenever no permutation is preferred, on
// machines of 1 to 8 nodes and of 13 to 20; and merge() must agree with the walk on the large
// ones too. Seeded random hint sets and distances.
TEST(HintMergerDistinct, AgreesWithTheExhaustiveWalk) {
  std::mt19937 random(20261206);  // fixed seed: the test is deterministic
  int compared = 0;
  for (int round = 0; round < 4000; ++round) {
    const int node_count = round % 2 == 0 ? 1 + round / 2 % 8 : 13 + round / 2 % 8;
    std::uniform_int_distribution<int> distance_dist(11, 40);
    std::vector<std::vector<int>> matrix(static_cast<std::size_t>(node_count),
                                         std::vector<int>(static_cast<std::size_t>(node_count), 10));
    for (int a = 0; a < node_count; ++a) {
      for (int b = a + 1; b < node_count; ++b) {
        int distance = distance_dist(random) / 4 * 4;  // ties happen
        matrix[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)] = distance;
        matrix[static_cast<std::size_t>(b)][static_cast<std::size_t>(a)] = distance;
      }
    }
    const NumaInfo numa = fromMatrix(matrix);
    std::uniform_int_distribution<int> resources_dist(1, 4);
    std::uniform_int_distribution<int> hints_dist(0, 6);
    std::uniform_int_distribution<NumaMask> mask_dist(0, (NumaMask{1} << (node_count + 1)) - 1);
    // Sparse masks too: on 20 nodes uniform masks almost never meet in a narrow set.
    std::uniform_int_distribution<int> node_dist(0, node_count);
    std::bernoulli_distribution sparse_dist(0.5);
    std::bernoulli_distribution preferred_dist(0.3);
    std::vector<std::vector<MaskHint>> hints;
    const int resources = resources_dist(random);
    for (int r = 0; r < resources; ++r) {
      hints.emplace_back();
      const int count = hints_dist(random);
      for (int h = 0; h < count; ++h) {
        NumaMask mask = mask_dist(random);
        if (sparse_dist(random))
          mask = maskOf(node_dist(random)) | maskOf(node_dist(random)) | maskOf(node_dist(random));
        hints.back().push_back({mask, preferred_dist(random)});
      }
    }
    for (bool closest : {false, true}) {
      HintMerger merger(numa, hints, closest);
      const MaskHint reference = merger.mergeExhaustive();
      if (node_count > 12) {
        ASSERT_EQ(merger.merge(), reference) << "round " << round << " closest " << closest;
      }
      if (reference.preferred) continue;
      ASSERT_EQ(merger.mergeDistinct(), reference) << "round " << round << " closest " << closest;
      ++compared;
    }
  }
  EXPECT_GT(compared, 3000) << "the random hints must mostly merge to non-preferred hints";
}

}  // namespace
}  // namespace topod::policies::topology_manager
