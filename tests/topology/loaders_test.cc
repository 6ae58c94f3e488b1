#include "topology/loaders.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "topology/json_snapshot.h"

namespace topod::topology {
namespace {

using ::testing::HasSubstr;

const std::string kMalformed = std::string(TOPOD_FIXTURES_DIR) + "/topology/malformed/";

TEST(LoadTopologyTest, SyntheticStringFromTheIssue) {
  auto t = loadTopology("synthetic:pack:2 numa:2 l3:2 core:4 pu:2");
  ASSERT_TRUE(t.has_value()) << t.error().toString();
  EXPECT_EQ(t->packages().size(), 2U);
  EXPECT_EQ(t->numaNodes().size(), 4U);
  EXPECT_EQ(t->l3Groups().size(), 8U);
  EXPECT_EQ(t->cores().size(), 32U);
  EXPECT_EQ(t->cpus().size(), 64U);
  EXPECT_EQ(t->siblingsOf(5), (CpuSet{4, 5}));
  EXPECT_EQ(t->cpusOfNuma(1), CpuSet::range(16, 31));
  EXPECT_EQ(t->package(1)->numa_nodes, (NodeSet{2, 3}));
  EXPECT_EQ(t->l3Groups()[3].size_bytes, 16ULL << 20);
}

TEST(LoadTopologyTest, SyntheticAcceptsEveryL3Spelling) {
  for (const char* desc : {"pack:1 l3:2 core:2 pu:1", "pack:1 l3cache:2 core:2 pu:1", "pack:1 L3Cache:2 core:2 pu:1"}) {
    auto t = loadHwlocSynthetic(desc);
    ASSERT_TRUE(t.has_value()) << desc << ": " << t.error().toString();
    EXPECT_EQ(t->l3Groups().size(), 2U) << desc;
  }
}

struct SyntheticRow {
  std::string name;
  std::string description;
  std::size_t packages, numa_nodes, l3_groups, cores, cpus;
  CpuSet siblings_of_cpu_1;
};
void PrintTo(const SyntheticRow& row, std::ostream* os) {
  *os << row.description;
}

class SyntheticShapeTest : public ::testing::TestWithParam<SyntheticRow> {};

TEST_P(SyntheticShapeTest, CountsMatchTheDescription) {
  const SyntheticRow& row = GetParam();
  auto t = loadTopology("synthetic:" + row.description);
  ASSERT_TRUE(t.has_value()) << t.error().toString();
  EXPECT_EQ(t->packages().size(), row.packages);
  EXPECT_EQ(t->numaNodes().size(), row.numa_nodes);
  EXPECT_EQ(t->l3Groups().size(), row.l3_groups);
  EXPECT_EQ(t->cores().size(), row.cores);
  EXPECT_EQ(t->cpus().size(), row.cpus);
  EXPECT_EQ(t->siblingsOf(1), row.siblings_of_cpu_1);
  // Every synthetic machine survives the JSON snapshot unchanged.
  auto back = parseTopologyJson(toTopologyJson(*t));
  ASSERT_TRUE(back.has_value()) << back.error().toString();
  EXPECT_EQ(*back, *t);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SyntheticShapeTest,
    ::testing::Values(SyntheticRow{"IssueExample", "pack:2 numa:2 l3:2 core:4 pu:2", 2, 4, 8, 32, 64, CpuSet{0, 1}},
                      SyntheticRow{"FourSocketNoNumaLevel", "pack:4 l3:1 core:12 pu:2", 4, 1, 4, 48, 96, CpuSet{0, 1}},
                      SyntheticRow{"NonSmtVm", "pack:1 l3:1 core:8 pu:1", 1, 1, 1, 8, 8, CpuSet{1}},
                      SyntheticRow{"EpycNps4", "pack:1 numa:4 l3:2 core:8 pu:2", 1, 4, 8, 64, 128, CpuSet{0, 1}},
                      SyntheticRow{"SmtFour", "pack:1 core:2 pu:4", 1, 1, 0, 2, 8, CpuSet{0, 1, 2, 3}}),
    [](const auto& row) { return row.param.name; });

TEST(LoadTopologyTest, SyntheticWithoutCoresMakesEveryCpuACore) {
  auto t = loadHwlocSynthetic("pack:2 pu:3");
  ASSERT_TRUE(t.has_value()) << t.error().toString();
  EXPECT_EQ(t->cores().size(), 6U);
  EXPECT_EQ(t->threadsPerCore(), 1);
  EXPECT_EQ(t->l3Groups().size(), 0U);
  EXPECT_EQ(t->l3Of(0), -1);
}

TEST(LoadTopologyTest, LiveLoadsThisMachine) {
  auto t = loadTopology("live");
  ASSERT_TRUE(t.has_value()) << t.error().toString();
  EXPECT_FALSE(t->cpus().empty());
  EXPECT_FALSE(t->numaNodes().empty());
  EXPECT_TRUE(t->isolatedCpus().isSubsetOf(t->onlineCpus()));
}

TEST(LoadTopologyTest, JsonSnapshotOfSyntheticLoadsBackEqual) {
  auto t = loadTopology("synthetic:pack:2 numa:2 l3:2 core:4 pu:2");
  ASSERT_TRUE(t.has_value());
  auto back = parseTopologyJson(toTopologyJson(*t));
  ASSERT_TRUE(back.has_value()) << back.error().toString();
  EXPECT_EQ(*back, *t);
  EXPECT_EQ(toTopologyJson(*back), toTopologyJson(*t));
}

struct BadSource {
  std::string name;
  std::string source;
  std::string expected;  // substring of the one-line error
};
void PrintTo(const BadSource& row, std::ostream* os) {
  *os << row.source;
}

class MalformedSourceTest : public ::testing::TestWithParam<BadSource> {};

TEST_P(MalformedSourceTest, GivesOneClearLine) {
  auto t = loadTopology(GetParam().source);
  ASSERT_FALSE(t.has_value());
  const std::string& message = t.error().message();
  EXPECT_THAT(message, HasSubstr(GetParam().expected));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    AllLoaders, MalformedSourceTest,
    ::testing::Values(
        BadSource{"UnknownScheme", "yaml:/x", "known: live, xml:PATH, synthetic:DESC, json:PATH"},
        BadSource{"EmptySource", "", "unknown topology source \"\""},
        BadSource{"MissingXmlFile", "xml:/nonexistent/machine.xml", "xml:/nonexistent/machine.xml: cannot open"},
        BadSource{"XmlIsADirectory", "xml:" + kMalformed, "is a directory"},
        BadSource{"TruncatedXml", "xml:" + kMalformed + "truncated.xml", "truncated.xml: hwloc cannot load it"},
        BadSource{"NotXml", "xml:" + kMalformed + "not-xml.xml", "not-xml.xml: hwloc cannot load it"},
        BadSource{"XmlButNotHwloc", "xml:" + kMalformed + "not-hwloc.xml", "not-hwloc.xml: hwloc cannot load it"},
        // A fixture with one '"' turned into '2': hwloc 2.9 segfaults loading it.
        BadSource{"XmlThatCrashesHwloc", "xml:" + kMalformed + "one-char-edit-crashes-hwloc.xml",
                  "one-char-edit-crashes-hwloc.xml: hwloc crashed loading it (signal"},
        BadSource{"EmptySynthetic", "synthetic:", "synthetic:\"\": empty description"},
        BadSource{"UnknownSyntheticLevel", "synthetic:pack:2 bogus:3", "hwloc rejects the synthetic description"},
        BadSource{"ZeroSyntheticArity", "synthetic:pack:0 pu:1", "hwloc rejects the synthetic description"},
        BadSource{"MissingJsonFile", "json:/nonexistent/machine.json", "json:/nonexistent/machine.json: cannot open"},
        BadSource{"TruncatedJson", "json:" + kMalformed + "truncated.json",
                  "truncated.json: invalid JSON: parse error"},
        BadSource{"JsonWrongType", "json:" + kMalformed + "wrong-type.json", "cpus[0].core_id: expected an integer"},
        BadSource{"JsonCpuOnMissingNode", "json:" + kMalformed + "cpu-on-missing-node.json",
                  "cpus[1].numa: NUMA node 1 is not listed in numa_nodes"},
        BadSource{"JsonSiblingsDisagree", "json:" + kMalformed + "smt-siblings-disagree.json",
                  "CPU 1 disagrees with its SMT siblings"}),
    [](const auto& row) { return row.param.name; });

TEST(LoadTopologyTest, LiveWithMissingSysfsRootFails) {
  auto t = loadLiveTopology({.sysfs_root = "/nonexistent-sysfs-root"});
  ASSERT_FALSE(t.has_value());
  EXPECT_THAT(t.error().message(), HasSubstr("/nonexistent-sysfs-root"));
}

}  // namespace
}  // namespace topod::topology
