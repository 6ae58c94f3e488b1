// The kubelet's cpu_assignment_test.go tables (v1.33), row by row: same topology, same free CPUs,
// same request, same expected CPUs or error text. Row names are the kubelet's descriptions.
#include "policies/static/cpu/cpu_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "policies/static/cpu/cpu_accumulator.h"
#include "tests/policies/kubelet_topologies.h"
#include "tests/policies/static/cpu/kubelet_rows.h"

namespace topod::policies::cpu::test {
namespace {

namespace fx = topod::testing;
using Rows = std::vector<fx::KubeletCpuInfo>;
using RowsFn = std::function<Rows()>;

// ---- Accumulator orderings -------------------------------------------------------------------

enum class Listing { FreeSockets, FreeSocketsSorted, FreeNumaNodes, FreeCores, FreeCpus };

struct ListingRow {
  std::string name;
  Listing listing;
  RowsFn topo;
  std::string available;
  std::vector<int> expect;
};

std::vector<ListingRow> listingRows() {
  struct Raw {
    const char* description;
    Listing listing;
    RowsFn topo;
    const char* available;
    std::vector<int> expect;
  };
  const std::vector<Raw> raw = {
      // TestCPUAccumulatorFreeSockets (the kubelet sorts the result before comparing).
      {"single socket HT, 1 socket free", Listing::FreeSocketsSorted, fx::topoSingleSocketHTCpus, "0-7", {0}},
      {"single socket HT, 0 sockets free", Listing::FreeSocketsSorted, fx::topoSingleSocketHTCpus, "1-7", {}},
      {"dual socket HT, 2 sockets free", Listing::FreeSocketsSorted, fx::topoDualSocketHTCpus, "0-11", {0, 1}},
      {"dual socket HT, 1 socket free", Listing::FreeSocketsSorted, fx::topoDualSocketHTCpus, "0-9,11", {1}},
      {"dual socket HT, 0 sockets free", Listing::FreeSocketsSorted, fx::topoDualSocketHTCpus, "0,2-9,11", {}},
      {"dual socket, multi numa per socket, HT, 2 sockets free",
       Listing::FreeSocketsSorted,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "0-79",
       {0, 1}},
      {"dual socket, multi numa per socket, HT, 1 sockets free",
       Listing::FreeSocketsSorted,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-79",
       {1}},
      {"dual socket, multi numa per socket, HT, 0 sockets free",
       Listing::FreeSocketsSorted,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-78",
       {}},
      {"dual numa, multi socket per per socket, HT, 4 sockets free",
       Listing::FreeSocketsSorted,
       fx::fakeTopoMultiSocketDualSocketPerNumaHTCpus,
       "0-79",
       {0, 1, 2, 3}},
      {"dual numa, multi socket per per socket, HT, 3 sockets free",
       Listing::FreeSocketsSorted,
       fx::fakeTopoMultiSocketDualSocketPerNumaHTCpus,
       "0-19,21-79",
       {0, 1, 3}},
      {"dual numa, multi socket per per socket, HT, 2 sockets free",
       Listing::FreeSocketsSorted,
       fx::fakeTopoMultiSocketDualSocketPerNumaHTCpus,
       "0-59,61-78",
       {0, 1}},
      {"dual numa, multi socket per per socket, HT, 1 sockets free",
       Listing::FreeSocketsSorted,
       fx::fakeTopoMultiSocketDualSocketPerNumaHTCpus,
       "1-19,21-38,41-60,61-78",
       {1}},
      {"dual numa, multi socket per per socket, HT, 0 sockets free",
       Listing::FreeSocketsSorted,
       fx::fakeTopoMultiSocketDualSocketPerNumaHTCpus,
       "0-40,42-49,51-68,71-79",
       {}},
      // TestCPUAccumulatorFreeNUMANodes.
      {"single socket HT, 1 NUMA node free", Listing::FreeNumaNodes, fx::topoSingleSocketHTCpus, "0-7", {0}},
      {"single socket HT, 0 NUMA Node free", Listing::FreeNumaNodes, fx::topoSingleSocketHTCpus, "1-7", {}},
      {"dual socket HT, 2 NUMA Node free", Listing::FreeNumaNodes, fx::topoDualSocketHTCpus, "0-11", {0, 1}},
      {"dual socket HT, 1 NUMA Node free", Listing::FreeNumaNodes, fx::topoDualSocketHTCpus, "0-9,11", {1}},
      {"dual socket HT, 0 NUMA node free", Listing::FreeNumaNodes, fx::topoDualSocketHTCpus, "0,2-9,11", {}},
      {"dual socket, multi numa per socket, HT, 4 NUMA Node free",
       Listing::FreeNumaNodes,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "0-79",
       {0, 1, 2, 3}},
      {"dual socket, multi numa per socket, HT, 3 NUMA node free",
       Listing::FreeNumaNodes,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-79",
       {1, 2, 3}},
      {"dual socket, multi numa per socket, HT, 2 NUMA node free",
       Listing::FreeNumaNodes,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-9,11-79",
       {2, 3}},
      {"dual socket, multi numa per socket, HT, 1 NUMA node free",
       Listing::FreeNumaNodes,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-9,11-59,61-79",
       {3}},
      {"dual socket, multi numa per socket, HT, 0 NUMA node free",
       Listing::FreeNumaNodes,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-9,11-59,61-78",
       {}},
      {"dual numa, multi socket per per socket, HT, 2 NUMA node free",
       Listing::FreeNumaNodes,
       fx::fakeTopoMultiSocketDualSocketPerNumaHTCpus,
       "0-79",
       {0, 1}},
      {"dual numa, multi socket per per socket, HT, 1 NUMA node free",
       Listing::FreeNumaNodes,
       fx::fakeTopoMultiSocketDualSocketPerNumaHTCpus,
       "0-9,11-79",
       {1}},
      {"dual numa, multi socket per per socket, HT, 0 sockets free",
       Listing::FreeNumaNodes,
       fx::fakeTopoMultiSocketDualSocketPerNumaHTCpus,
       "0-9,11-59,61-79",
       {}},
      // TestCPUAccumulatorFreeSocketsAndNUMANodes (sockets half; NUMA half below).
      {"dual socket, multi numa per socket, HT, 2 Socket/4 NUMA Node free (sockets)",
       Listing::FreeSockets,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "0-79",
       {0, 1}},
      {"dual socket, multi numa per socket, HT, 2 Socket/4 NUMA Node free (NUMA)",
       Listing::FreeNumaNodes,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "0-79",
       {0, 1, 2, 3}},
      {"dual socket, multi numa per socket, HT, 1 Socket/3 NUMA node free (sockets)",
       Listing::FreeSockets,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-79",
       {1}},
      {"dual socket, multi numa per socket, HT, 1 Socket/3 NUMA node free (NUMA)",
       Listing::FreeNumaNodes,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-79",
       {1, 2, 3}},
      {"dual socket, multi numa per socket, HT, 1 Socket/ 2 NUMA node free (sockets)",
       Listing::FreeSockets,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-9,11-79",
       {1}},
      {"dual socket, multi numa per socket, HT, 1 Socket/ 2 NUMA node free (NUMA)",
       Listing::FreeNumaNodes,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-9,11-79",
       {2, 3}},
      {"dual socket, multi numa per socket, HT, 0 Socket/ 2 NUMA node free (sockets)",
       Listing::FreeSockets,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-59,61-79",
       {}},
      {"dual socket, multi numa per socket, HT, 0 Socket/ 2 NUMA node free (NUMA)",
       Listing::FreeNumaNodes,
       fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "1-59,61-79",
       {1, 3}},
      // TestCPUAccumulatorFreeCores.
      {"single socket HT, 4 cores free", Listing::FreeCores, fx::topoSingleSocketHTCpus, "0-7", {0, 1, 2, 3}},
      {"single socket HT, 3 cores free", Listing::FreeCores, fx::topoSingleSocketHTCpus, "0-2,4-6", {0, 1, 2}},
      {"single socket HT, 3 cores free (1 partially consumed)",
       Listing::FreeCores,
       fx::topoSingleSocketHTCpus,
       "0-6",
       {0, 1, 2}},
      {"single socket HT, 0 cores free", Listing::FreeCores, fx::topoSingleSocketHTCpus, "", {}},
      {"single socket HT, 0 cores free (4 partially consumed)",
       Listing::FreeCores,
       fx::topoSingleSocketHTCpus,
       "0-3",
       {}},
      {"dual socket HT, 6 cores free", Listing::FreeCores, fx::topoDualSocketHTCpus, "0-11", {0, 2, 4, 1, 3, 5}},
      {"dual socket HT, 5 cores free (1 consumed from socket 0)",
       Listing::FreeCores,
       fx::topoDualSocketHTCpus,
       "1-5,7-11",
       {2, 4, 1, 3, 5}},
      {"dual socket HT, 4 cores free (1 consumed from each socket)",
       Listing::FreeCores,
       fx::topoDualSocketHTCpus,
       "2-5,8-11",
       {2, 4, 3, 5}},
      // TestCPUAccumulatorFreeCPUs.
      {"single socket HT, 8 cpus free", Listing::FreeCpus, fx::topoSingleSocketHTCpus, "0-7", {0, 4, 1, 5, 2, 6, 3, 7}},
      {"single socket HT, 5 cpus free", Listing::FreeCpus, fx::topoSingleSocketHTCpus, "3-7", {4, 5, 6, 3, 7}},
      {"dual socket HT, 12 cpus free",
       Listing::FreeCpus,
       fx::topoDualSocketHTCpus,
       "0-11",
       {0, 6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11}},
      {"dual socket HT, 11 cpus free",
       Listing::FreeCpus,
       fx::topoDualSocketHTCpus,
       "1-11",
       {6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11}},
      {"dual socket HT, 10 cpus free",
       Listing::FreeCpus,
       fx::topoDualSocketHTCpus,
       "1-5,7-11",
       {2, 8, 4, 10, 1, 7, 3, 9, 5, 11}},
      {"triple socket HT, 12 cpus free",
       Listing::FreeCpus,
       fx::topoTripleSocketHTCpus,
       "0-3,6-13",
       {12, 13, 0, 1, 2, 3, 6, 7, 8, 9, 10, 11}},
  };
  std::set<std::string> seen;
  std::vector<ListingRow> rows;
  for (const Raw& r : raw) rows.push_back({rowName(r.description, seen), r.listing, r.topo, r.available, r.expect});
  return rows;
}

class AccumulatorListingTest : public ::testing::TestWithParam<ListingRow> {};

TEST_P(AccumulatorListingTest, MatchesKubelet) {
  const ListingRow& row = GetParam();
  const KubeletCpuTopology topo = kubeletView(row.topo());
  const CpuAccumulator acc(topo, cpus(row.available.c_str()), 0);
  std::vector<int> got;
  switch (row.listing) {
    case Listing::FreeSockets: got = acc.freeSockets(); break;
    case Listing::FreeSocketsSorted:
      got = acc.freeSockets();
      std::sort(got.begin(), got.end());
      break;
    case Listing::FreeNumaNodes: got = acc.freeNumaNodes(); break;
    case Listing::FreeCores: got = acc.freeCores(); break;
    case Listing::FreeCpus: got = acc.freeCpus(); break;
  }
  EXPECT_EQ(got, row.expect);
}

INSTANTIATE_TEST_SUITE_P(Kubelet, AccumulatorListingTest, ::testing::ValuesIn(listingRows()),
                         [](const ::testing::TestParamInfo<ListingRow>& p) { return p.param.name; });

// ---- TestCPUAccumulatorTake ------------------------------------------------------------------

struct TakeRow {
  std::string name;
  std::string available;
  std::vector<std::string> takes;
  int num_cpus;
  bool satisfied;
  bool failed;
};

std::vector<TakeRow> takeRows() {
  std::set<std::string> seen;
  const auto n = [&](const char* d) { return rowName(d, seen); };
  return {
      {n("take 0 cpus from a single socket HT, require 1"), "0-7", {""}, 1, false, false},
      {n("take 0 cpus from a single socket HT, require 1, none available"), "", {""}, 1, false, true},
      {n("take 1 cpu from a single socket HT, require 1"), "0-7", {"0"}, 1, true, false},
      {n("take 1 cpu from a single socket HT, require 2"), "0-7", {"0"}, 2, false, false},
      {n("take 2 cpu from a single socket HT, require 4, expect failed"), "0-2", {"0", "1"}, 4, false, true},
      {n("take all cpus one at a time from a single socket HT, require 8"),
       "0-7",
       {"0", "1", "2", "3", "4", "5", "6", "7"},
       8,
       true,
       false},
  };
}

class AccumulatorTakeTest : public ::testing::TestWithParam<TakeRow> {};

TEST_P(AccumulatorTakeTest, MatchesKubelet) {
  const TakeRow& row = GetParam();
  const KubeletCpuTopology topo = kubeletView(fx::topoSingleSocketHTCpus());
  CpuAccumulator acc(topo, cpus(row.available.c_str()), row.num_cpus);
  int taken = 0;
  for (const std::string& take : row.takes) {
    acc.take(cpus(take.c_str()));
    taken += cpus(take.c_str()).size();
  }
  EXPECT_EQ(acc.isSatisfied(), row.satisfied);
  EXPECT_EQ(acc.isFailed(), row.failed);
  for (const std::string& take : row.takes) {
    EXPECT_FALSE(cpus(take.c_str()).intersects(acc.available()));
    EXPECT_TRUE(cpus(take.c_str()).isSubsetOf(acc.result()));
  }
  EXPECT_EQ(acc.needed(), row.num_cpus - taken);
}

INSTANTIATE_TEST_SUITE_P(Kubelet, AccumulatorTakeTest, ::testing::ValuesIn(takeRows()),
                         [](const ::testing::TestParamInfo<TakeRow>& p) { return p.param.name; });

// ---- takeByTopology tables -------------------------------------------------------------------

enum class Algo { Packed, Spread, PackedUncore, Distributed };

struct TakeByTopologyRow {
  std::string name;
  Algo algo;
  RowsFn topo;
  std::string available;
  int num_cpus;
  int group;  // cpuGroupSize for the distributed algorithm
  std::string error;
  std::string expect;
};

struct RawTake {
  const char* description;
  RowsFn topo;
  const char* available;
  int num_cpus;
  int group;
  const char* error;
  const char* expect;
};

// commonTakeByTopologyTestCases: shared by the packed and the distributed tables.
std::vector<RawTake> commonRows() {
  return {
      {"take more cpus than are available from single socket with HT", fx::topoSingleSocketHTCpus, "0,2,4,6", 5, 1,
       "not enough cpus available to satisfy request: requested=5, available=4", ""},
      {"take zero cpus from single socket with HT", fx::topoSingleSocketHTCpus, "0-7", 0, 1, "", ""},
      {"take one cpu from single socket with HT", fx::topoSingleSocketHTCpus, "0-7", 1, 1, "", "0"},
      {"take one cpu from single socket with HT, some cpus are taken", fx::topoSingleSocketHTCpus, "1,3,5,6,7", 1, 1,
       "", "6"},
      {"take two cpus from single socket with HT", fx::topoSingleSocketHTCpus, "0-7", 2, 1, "", "0,4"},
      {"take all cpus from single socket with HT", fx::topoSingleSocketHTCpus, "0-7", 8, 1, "", "0-7"},
      {"take two cpus from single socket with HT, only one core totally free", fx::topoSingleSocketHTCpus, "0-3,6", 2,
       1, "", "2,6"},
      {"take a socket of cpus from dual socket with HT", fx::topoDualSocketHTCpus, "0-11", 6, 1, "", "0,2,4,6,8,10"},
      {"take a socket of cpus from dual socket with multi-numa-per-socket with HT",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-79", 40, 1, "", "0-19,40-59"},
      {"take a NUMA node of cpus from dual socket with multi-numa-per-socket with HT",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-79", 20, 1, "", "0-9,40-49"},
      {"take a NUMA node of cpus from dual socket with multi-numa-per-socket with HT, with 1 NUMA node already taken",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "10-39,50-79", 20, 1, "", "10-19,50-59"},
      {"take a socket and a NUMA node of cpus from dual socket with multi-numa-per-socket with HT",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-79", 60, 1, "", "0-29,40-69"},
      {"take a socket and a NUMA node of cpus from dual socket with multi-numa-per-socket with HT, a core taken",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "1-39,41-79", 60, 1, "", "10-39,50-79"},
  };
}

std::vector<TakeByTopologyRow> takeByTopologyRows() {
  std::set<std::string> seen;
  std::vector<TakeByTopologyRow> rows;
  const auto add = [&](const char* table, Algo algo, const RawTake& r) {
    rows.push_back({rowName(std::string(table) + " " + r.description, seen), algo, r.topo, r.available, r.num_cpus,
                    r.group, r.error, r.expect});
  };
  // TestTakeByTopologyNUMAPacked.
  for (const RawTake& r : commonRows()) add("Packed", Algo::Packed, r);
  const std::vector<RawTake> packed = {
      {"take one cpu from dual socket with HT - core from Socket 0", fx::topoDualSocketHTCpus, "1-5,7-11", 1, 1, "",
       "2"},
      {"allocate 4 full cores with 3 coming from the first NUMA node (filling it up) and 1 coming from the second NUMA "
       "node",
       fx::topoDualSocketHTCpus, "0-11", 8, 1, "", "0,6,2,8,4,10,1,7"},
      {"allocate 32 full cores with 30 coming from the first 3 NUMA nodes (filling them up) and 2 coming from the "
       "fourth "
       "NUMA node",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-79", 64, 1, "", "0-29,40-69,30,31,70,71"},
  };
  for (const RawTake& r : packed) add("Packed", Algo::Packed, r);
  const std::vector<RawTake> uncore = {
      {"take cpus from two full UncoreCaches and partial from a single UncoreCache",
       fx::topoUncoreSingleSocketNoSMTCpus, "1-15", 10, 1, "", "1,2,4-11"},
      {"take one cpu from dual socket with HT - core from Socket 0", fx::topoDualSocketHTCpus, "1-5,7-11", 1, 1, "",
       "1"},
      {"take first available UncoreCache from first socket", fx::topoUncoreDualSocketNoSMTCpus, "0-15", 4, 1, "",
       "0-3"},
      {"take all available UncoreCache from first socket", fx::topoUncoreDualSocketNoSMTCpus, "2-15", 6, 1, "", "2-7"},
      {"take first available UncoreCache from second socket", fx::topoUncoreDualSocketNoSMTCpus, "8-15", 4, 1, "",
       "8-11"},
      {"take first available UncoreCache from available NUMA", fx::topoUncoreSingleSocketMultiNumaCpus, "3,4-8,12", 2,
       1, "", "4,5"},
      {"take cpus from best available UncoreCache group of multi uncore cache single socket - SMT enabled",
       fx::topoUncoreSingleSocketSMTCpus, "2-3,10-11,4-7,12-15", 6, 1, "", "4,5,6,12,13,14"},
      {"take cpus from multiple UncoreCache of single socket - SMT enabled", fx::topoUncoreSingleSocketSMTCpus,
       "1-7,9-15", 10, 1, "", "4-7,12-15,1,9"},
  };
  for (const RawTake& r : uncore) add("PackedUncore", Algo::PackedUncore, r);
  // TestTakeByTopologyWithSpreadPhysicalCPUsPreferredOption.
  const std::vector<RawTake> spread = {
      {"take a socket of cpus from single socket with HT, 3 cpus", fx::topoSingleSocketHTCpus, "0-7", 3, 1, "", "0-2"},
      {"take a socket of cpus from dual socket with HT, 2 cpus", fx::topoDualSocketHTCpus, "0-11", 2, 1, "", "0,2"},
      {"take a socket of cpus from dual socket with HT, 3 cpus", fx::topoDualSocketHTCpus, "0-11", 3, 1, "", "0,2,4"},
      {"take a socket of cpus from dual socket with HT, 6 cpus", fx::topoDualSocketHTCpus, "0-11", 6, 1, "",
       "0,2,4,6,8,10"},
      {"take cpus from dual socket with HT, 8 cpus", fx::topoDualSocketHTCpus, "0-11", 8, 1, "", "0,2,4,6,8,10,1,3"},
      {"take a socket of cpus from dual socket without HT, 2 cpus", fx::topoDualSocketNoHTCpus, "0-7", 2, 1, "", "0,1"},
      {"take a socket of cpus from dual socket with multi numa per socket and HT, 12 cpus",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-79", 8, 1, "", "0-7"},
      {"take a socket of cpus from quad socket four way with HT, 12 cpus", fx::topoQuadSocketFourWayHTCpus, "0-287", 12,
       1, "", "0-2,9-10,13-14,21-22,25-26,33"},
  };
  for (const RawTake& r : spread) add("Spread", Algo::Spread, r);
  // TestTakeByTopologyNUMADistributed: the common rows with cpuGroupSize 1, then its own.
  for (const RawTake& r : commonRows()) add("Distributed", Algo::Distributed, r);
  const std::vector<RawTake> distributed = {
      {"allocate 4 full cores with 2 distributed across each NUMA node", fx::topoDualSocketHTCpus, "0-11", 8, 1, "",
       "0,6,2,8,1,7,3,9"},
      {"allocate 32 full cores with 8 distributed across each NUMA node", fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "0-79", 64, 1, "", "0-7,10-17,20-27,30-37,40-47,50-57,60-67,70-77"},
      {"allocate 24 full cores with 8 distributed across the first 3 NUMA nodes",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-79", 48, 1, "", "0-7,10-17,20-27,40-47,50-57,60-67"},
      {"allocate 24 full cores with 8 distributed across the first 3 NUMA nodes (taking all but 2 from the first NUMA "
       "node)",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "1-29,32-39,41-69,72-79", 48, 1, "",
       "1-8,10-17,20-27,41-48,50-57,60-67"},
      {"allocate 24 full cores with 8 distributed across the last 3 NUMA nodes (even though all 8 could be allocated "
       "from "
       "the first NUMA node)",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "2-29,31-39,42-69,71-79", 48, 1, "",
       "10-17,20-27,31-38,50-57,60-67,71-78"},
      {"allocate 8 full cores with 2 distributed across each NUMA node", fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "0-2,10-12,20-22,30-32,40-41,50-51,60-61,70-71", 16, 1, "", "0-1,10-11,20-21,30-31,40-41,50-51,60-61,70-71"},
      {"allocate 8 full cores with 2 distributed across each NUMA node", fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "0-2,10-12,20-22,30-32,40-41,50-51,60-61,70-71", 16, 1, "", "0-1,10-11,20-21,30-31,40-41,50-51,60-61,70-71"},
      {"take one cpu from dual socket with HT - core from Socket 0", fx::topoDualSocketHTCpus, "1-5,7-11", 1, 1, "",
       "1"},
      {"take one cpu from dual socket with HT - core from Socket 0 - cpuGroupSize 2", fx::topoDualSocketHTCpus,
       "1-5,7-11", 1, 2, "", "2"},
      {"allocate 13 full cores distributed across the first 2 NUMA nodes", fx::topoDualSocketMultiNumaPerSocketHTCpus,
       "0-79", 26, 1, "", "0-6,10-16,40-45,50-55"},
      {"allocate 13 full cores distributed across the first 2 NUMA nodes (cpuGroupSize 2)",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-79", 26, 2, "", "0-6,10-15,40-46,50-55"},
      {"allocate 31 full cores with 15 CPUs distributed across each NUMA node and 1 CPU spilling over to each of NUMA "
       "0, 1",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-79", 62, 1, "", "0-7,10-17,20-27,30-37,40-47,50-57,60-66,70-76"},
      {"allocate 31 full cores with 14 CPUs distributed across each NUMA node and 2 CPUs spilling over to each of NUMA "
       "0, "
       "1, 2 (cpuGroupSize 2)",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-79", 62, 2, "", "0-7,10-17,20-27,30-36,40-47,50-57,60-67,70-76"},
      {"allocate 31 full cores with 15 CPUs distributed across each NUMA node and 1 CPU spilling over to each of NUMA "
       "2, 3 "
       "(to keep balance)",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-8,10-18,20-39,40-48,50-58,60-79", 62, 1, "",
       "0-7,10-17,20-27,30-37,40-46,50-56,60-67,70-77"},
      {"allocate 31 full cores with 14 CPUs distributed across each NUMA node and 2 CPUs spilling over to each of NUMA "
       "0, "
       "2, 3 (to keep balance with cpuGroupSize 2)",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-8,10-18,20-39,40-48,50-58,60-79", 62, 2, "",
       "0-7,10-16,20-27,30-37,40-47,50-56,60-67,70-77"},
      {"ensure bestRemainder chosen with NUMA nodes that have enough CPUs to satisfy the request",
       fx::topoDualSocketMultiNumaPerSocketHTCpus, "0-3,10-13,20-23,30-36,40-43,50-53,60-63,70-76", 34, 1, "",
       "0-3,10-13,20-23,30-34,40-43,50-53,60-63,70-74"},
      {"ensure previous failure encountered on live machine has been fixed (1/1)",
       fx::topoDualSocketMultiNumaPerSocketHTLargeCpus,
       "0,128,30,31,158,159,43-47,171-175,62,63,190,191,75-79,203-207,94,96,222,223,101-111,229-239,126,127,254,255",
       28, 1, "", "43-47,75-79,96,101-105,171-174,203-206,229-232"},
  };
  for (const RawTake& r : distributed) add("Distributed", Algo::Distributed, r);
  return rows;
}

class TakeByTopologyTest : public ::testing::TestWithParam<TakeByTopologyRow> {};

TEST_P(TakeByTopologyTest, MatchesKubelet) {
  const TakeByTopologyRow& row = GetParam();
  const KubeletCpuTopology topo = kubeletView(row.topo());
  const CpuSet available = cpus(row.available.c_str());
  Result<CpuSet> got = CpuSet{};
  switch (row.algo) {
    case Algo::Packed:
      got = takeByTopologyNumaPacked(topo, available, row.num_cpus, CpuSortingStrategy::Packed, false);
      break;
    case Algo::Spread:
      got = takeByTopologyNumaPacked(topo, available, row.num_cpus, CpuSortingStrategy::Spread, false);
      break;
    case Algo::PackedUncore:
      got = takeByTopologyNumaPacked(topo, available, row.num_cpus, CpuSortingStrategy::Packed, true);
      break;
    case Algo::Distributed:
      got = takeByTopologyNumaDistributed(topo, available, row.num_cpus, row.group, CpuSortingStrategy::Packed);
      break;
  }
  if (!row.error.empty()) {
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().message(), row.error);
    return;
  }
  ASSERT_TRUE(got.has_value()) << got.error().toString();
  EXPECT_EQ(got->toString(), cpus(row.expect.c_str()).toString());
}

INSTANTIATE_TEST_SUITE_P(Kubelet, TakeByTopologyTest, ::testing::ValuesIn(takeByTopologyRows()),
                         [](const ::testing::TestParamInfo<TakeByTopologyRow>& p) { return p.param.name; });

TEST(KubeletStandardDeviation, RoundsLikeTheKubelet) {
  EXPECT_DOUBLE_EQ(kubeletStandardDeviation({0, 0, 0}), 0);
  EXPECT_DOUBLE_EQ(kubeletStandardDeviation({1, 2}), 0.5);
  EXPECT_DOUBLE_EQ(kubeletStandardDeviation({1, 2, 4}), 1.247);
}

}  // namespace
}  // namespace topod::policies::cpu::test
