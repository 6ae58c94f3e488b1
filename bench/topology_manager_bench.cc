// Hint-merge cost of the kubelet-compatible topology manager on an 8-NUMA machine, where CPU and
// memory each offer a hint for every one of the 255 node combinations (a small Guaranteed
// container on an empty machine). "Exhaustive" is the kubelet's walk over all 65,025
// permutations; "Merge" is topod's merge(), which finds the same hint (see hint_merge_test.cc)
// without the walk whenever a preferred permutation exists.
#include <benchmark/benchmark.h>

#include <map>
#include <vector>

#include "policies/static/topology_manager/hint_merge.h"

namespace {

using topod::policies::topology_manager::forEachMask;
using topod::policies::topology_manager::HintMerger;
using topod::policies::topology_manager::maskCount;
using topod::policies::topology_manager::MaskHint;
using topod::policies::topology_manager::NumaInfo;
using topod::policies::topology_manager::NumaMask;

NumaInfo eightNodes() {
  std::vector<int> nodes = {0, 1, 2, 3, 4, 5, 6, 7};
  std::map<int, std::map<int, int>> distances;
  for (int from : nodes) {
    for (int to : nodes) distances[from][to] = from == to ? 10 : (from / 4 == to / 4 ? 12 : 30);
  }
  return NumaInfo(nodes, distances);
}

// Every combination; preferred when it is `preferred_width` nodes wide (0: none preferred).
std::vector<MaskHint> allCombinations(int preferred_width) {
  std::vector<MaskHint> hints;
  forEachMask({0, 1, 2, 3, 4, 5, 6, 7}, [&](NumaMask mask) {
    hints.push_back({mask, maskCount(mask) == preferred_width});
  });
  return hints;
}

void BM_MergePreferredExists(benchmark::State& state) {
  NumaInfo numa = eightNodes();
  HintMerger merger(numa, {allCombinations(1), allCombinations(1)}, false);
  for (auto _ : state) benchmark::DoNotOptimize(merger.merge());
}
BENCHMARK(BM_MergePreferredExists);

void BM_MergePreferredExistsClosest(benchmark::State& state) {
  NumaInfo numa = eightNodes();
  HintMerger merger(numa, {allCombinations(2), allCombinations(2)}, true);
  for (auto _ : state) benchmark::DoNotOptimize(merger.merge());
}
BENCHMARK(BM_MergePreferredExistsClosest);

void BM_ExhaustiveWalk(benchmark::State& state) {
  NumaInfo numa = eightNodes();
  HintMerger merger(numa, {allCombinations(1), allCombinations(1)}, false);
  for (auto _ : state) benchmark::DoNotOptimize(merger.mergeExhaustive());
}
BENCHMARK(BM_ExhaustiveWalk)->Unit(benchmark::kMicrosecond);

void BM_MergeNothingPreferred(benchmark::State& state) {
  // No preferred permutation: merge() has to walk every permutation, as the kubelet does.
  NumaInfo numa = eightNodes();
  HintMerger merger(numa, {allCombinations(0), allCombinations(0)}, false);
  for (auto _ : state) benchmark::DoNotOptimize(merger.merge());
}
BENCHMARK(BM_MergeNothingPreferred)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
