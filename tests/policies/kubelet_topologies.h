// The kubelet's CPU manager test topologies (pkg/kubelet/cm/cpumanager/policy_test.go and the
// uncore-cache topologies of policy_static_test.go), rebuilt as topod Topology values so every
// policy area can run the kubelet's own test rows on the same machines.
//
// Each fixture exists in two forms:
//   - fooCpus(): the kubelet's CPUDetails rows (CPU id, CoreID, SocketID, NUMANodeID,
//     UncoreCacheID) exactly as the kubelet test declares them. The CPU manager tests build the
//     kubelet view from these so that tie-breaks on the kubelet's own ids match row by row.
//   - foo(): a topology::Topology built with TopologyBuilder from those rows. core_id is the
//     kubelet CoreID (unique within a package in every fixture), L3 groups follow the kubelet
//     UncoreCacheID where the fixture has one (kNoUncore otherwise: the kubelet leaves it 0).
//     NUMA nodes get 64 GiB of memory each unless noted, no huge pages.
//
// Fixtures that exist only as test data in the kubelet carry its name. topoUncoreSingleSocketSMT
// and topoUncoreSingleSocketNoSMT were reconstructed from the kubelet rows that use them (16 CPUs,
// one socket and NUMA node, uncore groups of 4 cores); the others are transcribed.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/check.h"
#include "topology/model.h"

namespace topod::testing {

// The kubelet's topology.CPUInfo row for one CPU.
struct KubeletCpuInfo {
  int cpu = 0;
  int core = 0;
  int socket = 0;
  int numa = 0;
  int uncore = -1;  // kNoUncore: the kubelet fixture gives no UncoreCacheID
};
inline constexpr int kNoUncore = -1;

inline constexpr uint64_t kFixtureNodeMemory = 64ULL << 30;  // 64 GiB per NUMA node

// Builds the Topology for a kubelet fixture. L3 groups are renumbered densely in order of their
// first CPU (the model's rule); the kubelet's raw uncore ids stay available in the rows.
inline topology::Topology buildKubeletTopology(const std::vector<KubeletCpuInfo>& rows) {
  std::map<int, int> first_cpu_of_uncore;
  for (const KubeletCpuInfo& row : rows) {
    if (row.uncore == kNoUncore) continue;
    auto [it, inserted] = first_cpu_of_uncore.try_emplace(row.uncore, row.cpu);
    if (!inserted && row.cpu < it->second) it->second = row.cpu;
  }
  std::map<int, int> dense_by_first_cpu;  // first CPU -> kubelet uncore id
  for (const auto& [uncore, first] : first_cpu_of_uncore) dense_by_first_cpu[first] = uncore;
  std::map<int, int> dense_index;  // kubelet uncore id -> dense L3 index
  for (const auto& [first, uncore] : dense_by_first_cpu) {
    const int next = static_cast<int>(dense_index.size());
    dense_index[uncore] = next;
  }
  topology::TopologyBuilder builder;
  std::map<int, bool> nodes;
  for (const KubeletCpuInfo& row : rows) {
    const int l3 = row.uncore == kNoUncore ? -1 : dense_index.at(row.uncore);
    builder.addCpu({.id = row.cpu, .package = row.socket, .die = 0, .core_id = row.core, .l3 = l3, .numa = row.numa});
    nodes[row.numa] = true;
  }
  for (const auto& [node, present] : nodes) {
    (void)present;
    builder.addNumaNode({.id = node, .memory_bytes = kFixtureNodeMemory});
  }
  auto topo = builder.build();
  TOPOD_CHECK(topo.has_value());
  return std::move(topo).value();
}

// ---- Regular fixtures, generated from the kubelet's layout rules ------------------------------

// 8 CPUs, 1 socket, 4 cores (siblings c and c+4), 1 NUMA node.
inline std::vector<KubeletCpuInfo> topoSingleSocketHTCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 8; ++c) rows.push_back({.cpu = c, .core = c % 4, .socket = 0, .numa = 0});
  return rows;
}

// 12 CPUs, 2 sockets, 6 cores (siblings c and c+6); even cores on socket/NUMA 0, odd on 1.
inline std::vector<KubeletCpuInfo> topoDualSocketHTCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 12; ++c) {
    const int core = c % 6;
    rows.push_back({.cpu = c, .core = core, .socket = core % 2, .numa = core % 2});
  }
  return rows;
}

// 18 CPUs, 3 sockets, 9 cores (siblings 2k, 2k+1). Cores 0-2 on socket 1, 3-5 on 0, 6-8 on 2.
inline std::vector<KubeletCpuInfo> topoTripleSocketHTCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 18; ++c) {
    const int core = c / 2;
    const int socket = core < 3 ? 1 : (core < 6 ? 0 : 2);
    rows.push_back({.cpu = c, .core = core, .socket = socket, .numa = socket});
  }
  return rows;
}

// 8 CPUs, 2 sockets, no SMT: CPUs 0-3 on socket/NUMA 0, 4-7 on 1.
inline std::vector<KubeletCpuInfo> topoDualSocketNoHTCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 8; ++c) rows.push_back({.cpu = c, .core = c, .socket = c / 4, .numa = c / 4});
  return rows;
}

// Dual Xeon Gold 6230: 80 CPUs, 2 sockets, 40 cores (siblings c and c+40), 4 NUMA nodes of 10
// cores (NUMA n: 10n..10n+9 and 40+10n..40+10n+9), two per socket.
inline std::vector<KubeletCpuInfo> topoDualSocketMultiNumaPerSocketHTCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 80; ++c) {
    const int core = c % 40;
    rows.push_back({.cpu = c, .core = core, .socket = core / 20, .numa = core / 10});
  }
  return rows;
}

// The same 80 CPUs with NUMA nodes and sockets flipped: 4 sockets, 2 NUMA nodes of 2 sockets.
inline std::vector<KubeletCpuInfo> fakeTopoMultiSocketDualSocketPerNumaHTCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 80; ++c) {
    const int core = c % 40;
    rows.push_back({.cpu = c, .core = core, .socket = core / 10, .numa = core / 20});
  }
  return rows;
}

// Dual AMD EPYC 7742 (NPS=4): 256 CPUs, 2 sockets, 128 cores (siblings c and c+128), 8 NUMA
// nodes of 16 cores.
inline std::vector<KubeletCpuInfo> topoDualSocketMultiNumaPerSocketHTLargeCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 256; ++c) {
    const int core = c % 128;
    rows.push_back({.cpu = c, .core = core, .socket = core / 64, .numa = core / 16});
  }
  return rows;
}

// 16 CPUs, 2 sockets (one NUMA node each), no SMT, uncore caches of 4 CPUs.
inline std::vector<KubeletCpuInfo> topoUncoreDualSocketNoSMTCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 16; ++c) rows.push_back({.cpu = c, .core = c, .socket = c / 8, .numa = c / 8, .uncore = c / 4});
  return rows;
}

// 16 CPUs, 1 socket, 2 NUMA nodes of 8 CPUs, no SMT, uncore caches of 4 CPUs.
inline std::vector<KubeletCpuInfo> topoUncoreSingleSocketMultiNumaCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 16; ++c) rows.push_back({.cpu = c, .core = c, .socket = 0, .numa = c / 8, .uncore = c / 4});
  return rows;
}

// 16 CPUs, 1 socket, 1 NUMA node, 8 cores (siblings c and c+8), 2 uncore caches of 4 cores.
inline std::vector<KubeletCpuInfo> topoUncoreSingleSocketSMTCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 16; ++c) {
    const int core = c % 8;
    rows.push_back({.cpu = c, .core = core, .socket = 0, .numa = 0, .uncore = core / 4});
  }
  return rows;
}

// 16 CPUs, 1 socket, 1 NUMA node, no SMT, 4 uncore caches of 4 CPUs.
inline std::vector<KubeletCpuInfo> topoUncoreSingleSocketNoSMTCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (int c = 0; c < 16; ++c) rows.push_back({.cpu = c, .core = c, .socket = 0, .numa = 0, .uncore = c / 4});
  return rows;
}

// ---- topoQuadSocketFourWayHT: Knights Landing SNC4, 288 CPUs, 4 sockets/NUMA nodes, 72 cores of
// 4 threads. The kubelet's CoreIDs are not in CPU order (core 64 holds CPU 1), which is exactly
// what makes this fixture interesting for tie-breaks.
struct QuadSocketCore {
  int core;
  int socket;
  int cpus[4];
};
inline const std::vector<QuadSocketCore>& quadSocketFourWayCores() {
  static const std::vector<QuadSocketCore> kCores = {
      {0, 0, {0, 169, 109, 229}},    {1, 0, {50, 170, 110, 230}},   {64, 0, {1, 25, 13, 38}},
      {65, 0, {2, 26, 14, 39}},      {72, 0, {9, 33, 21, 46}},      {73, 0, {10, 34, 22, 47}},
      {8, 0, {57, 177, 117, 237}},   {9, 0, {58, 178, 118, 238}},   {24, 0, {71, 191, 131, 251}},
      {25, 0, {72, 192, 132, 252}},  {32, 0, {79, 199, 139, 259}},  {33, 0, {80, 200, 140, 260}},
      {40, 0, {87, 207, 147, 267}},  {41, 0, {88, 208, 148, 268}},  {48, 0, {95, 215, 155, 275}},
      {49, 0, {96, 216, 156, 276}},  {56, 0, {103, 223, 163, 283}}, {57, 0, {104, 224, 164, 284}},
      {66, 1, {3, 27, 15, 40}},      {67, 1, {4, 28, 16, 41}},      {74, 1, {11, 35, 23, 48}},
      {75, 1, {12, 36, 24, 49}},     {2, 1, {51, 171, 111, 231}},   {3, 1, {52, 172, 112, 232}},
      {10, 1, {59, 179, 119, 239}},  {11, 1, {60, 180, 120, 240}},  {18, 1, {65, 185, 125, 245}},
      {19, 1, {66, 186, 126, 246}},  {26, 1, {73, 193, 133, 253}},  {27, 1, {74, 194, 134, 254}},
      {34, 1, {81, 201, 141, 261}},  {35, 1, {82, 202, 142, 262}},  {42, 1, {89, 209, 149, 269}},
      {43, 1, {90, 210, 150, 270}},  {50, 1, {97, 217, 157, 277}},  {51, 1, {98, 218, 158, 278}},
      {68, 2, {5, 29, 17, 42}},      {69, 2, {6, 30, 18, 43}},      {4, 2, {53, 173, 113, 233}},
      {5, 2, {54, 174, 114, 234}},   {12, 2, {61, 181, 121, 241}},  {13, 2, {62, 182, 122, 242}},
      {20, 2, {67, 187, 127, 247}},  {21, 2, {68, 188, 128, 248}},  {28, 2, {75, 195, 135, 255}},
      {29, 2, {76, 196, 136, 256}},  {36, 2, {83, 203, 143, 263}},  {37, 2, {84, 204, 144, 264}},
      {44, 2, {91, 211, 151, 271}},  {45, 2, {92, 212, 152, 272}},  {52, 2, {99, 219, 159, 279}},
      {53, 2, {100, 220, 160, 280}}, {60, 2, {105, 225, 165, 285}}, {61, 2, {106, 226, 166, 286}},
      {70, 3, {7, 31, 19, 44}},      {71, 3, {8, 32, 20, 45}},      {63, 3, {37, 168, 108, 228}},
      {62, 3, {107, 227, 167, 287}}, {6, 3, {55, 175, 115, 235}},   {7, 3, {56, 176, 116, 236}},
      {14, 3, {63, 183, 123, 243}},  {15, 3, {64, 184, 124, 244}},  {22, 3, {69, 189, 129, 249}},
      {23, 3, {70, 190, 130, 250}},  {30, 3, {77, 197, 137, 257}},  {31, 3, {78, 198, 138, 258}},
      {38, 3, {85, 205, 145, 265}},  {39, 3, {86, 206, 146, 266}},  {46, 3, {93, 213, 153, 273}},
      {47, 3, {94, 214, 154, 274}},  {54, 3, {101, 221, 161, 281}}, {55, 3, {102, 222, 162, 282}},
  };
  return kCores;
}
inline std::vector<KubeletCpuInfo> topoQuadSocketFourWayHTCpus() {
  std::vector<KubeletCpuInfo> rows;
  for (const QuadSocketCore& core : quadSocketFourWayCores()) {
    for (int cpu : core.cpus)
      rows.push_back({.cpu = cpu, .core = core.core, .socket = core.socket, .numa = core.socket});
  }
  return rows;
}

// ---- Topology values -----------------------------------------------------------------------------
inline topology::Topology topoSingleSocketHT() {
  return buildKubeletTopology(topoSingleSocketHTCpus());
}
inline topology::Topology topoDualSocketHT() {
  return buildKubeletTopology(topoDualSocketHTCpus());
}
inline topology::Topology topoTripleSocketHT() {
  return buildKubeletTopology(topoTripleSocketHTCpus());
}
inline topology::Topology topoDualSocketNoHT() {
  return buildKubeletTopology(topoDualSocketNoHTCpus());
}
inline topology::Topology topoQuadSocketFourWayHT() {
  return buildKubeletTopology(topoQuadSocketFourWayHTCpus());
}
inline topology::Topology topoDualSocketMultiNumaPerSocketHT() {
  return buildKubeletTopology(topoDualSocketMultiNumaPerSocketHTCpus());
}
inline topology::Topology fakeTopoMultiSocketDualSocketPerNumaHT() {
  return buildKubeletTopology(fakeTopoMultiSocketDualSocketPerNumaHTCpus());
}
inline topology::Topology topoDualSocketMultiNumaPerSocketHTLarge() {
  return buildKubeletTopology(topoDualSocketMultiNumaPerSocketHTLargeCpus());
}
inline topology::Topology topoUncoreDualSocketNoSMT() {
  return buildKubeletTopology(topoUncoreDualSocketNoSMTCpus());
}
inline topology::Topology topoUncoreSingleSocketMultiNuma() {
  return buildKubeletTopology(topoUncoreSingleSocketMultiNumaCpus());
}
inline topology::Topology topoUncoreSingleSocketSMT() {
  return buildKubeletTopology(topoUncoreSingleSocketSMTCpus());
}
inline topology::Topology topoUncoreSingleSocketNoSMT() {
  return buildKubeletTopology(topoUncoreSingleSocketNoSMTCpus());
}

}  // namespace topod::testing
