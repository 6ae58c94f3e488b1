#include "policies/static/cpu/cpu_allocator.h"

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace topod::policies::cpu {

namespace {

Error notEnoughCpus(int requested, int available) {
  return Error::resourceExhausted("not enough cpus available to satisfy request: requested=" +
                                  std::to_string(requested) + ", available=" + std::to_string(available));
}

enum class Loop { Continue, Break };

// Calls f on every k-subset of n in lexicographic index order; stops when f returns Break.
Loop iterateCombinations(const std::vector<int>& n, int k, std::vector<int>& accum, std::size_t start,
                         const std::function<Loop(const std::vector<int>&)>& f) {
  if (k == 0) return f(accum);
  for (std::size_t i = start; i + static_cast<std::size_t>(k) <= n.size(); ++i) {
    accum.push_back(n[i]);
    const Loop control = iterateCombinations(n, k - 1, accum, i + 1, f);
    accum.pop_back();
    if (control == Loop::Break) return Loop::Break;
  }
  return Loop::Continue;
}

void forEachCombination(const std::vector<int>& n, int k, const std::function<Loop(const std::vector<int>&)>& f) {
  if (k < 1) return;
  std::vector<int> accum;
  iterateCombinations(n, k, accum, 0, f);
}

double roundTo3(double x) {
  return std::round(x * 1000) / 1000;
}

std::vector<int> valuesOf(const std::map<int, int>& m) {
  std::vector<int> values;
  values.reserve(m.size());
  for (const auto& [key, value] : m) values.push_back(value);
  return values;
}

}  // namespace

double kubeletStandardDeviation(const std::vector<int>& values) {
  if (values.empty()) return 0;
  double sum = 0;
  for (int v : values) sum += v;
  const double mean = roundTo3(sum / static_cast<double>(values.size()));
  double squares = 0;
  for (int v : values) squares += (v - mean) * (v - mean);
  return roundTo3(std::sqrt(squares / static_cast<double>(values.size())));
}

// The kubelet's packed take order, shared by admission and resize so the two can never pick
// differently: whole first-level groups, whole second-level groups, an uncore cache (when asked),
// whole cores (packed only), then single CPUs.
static Result<CpuSet> takePackedSteps(CpuAccumulator& acc, const CpuSet& available, int num_cpus,
                                      CpuSortingStrategy strategy, bool prefer_align_by_uncore_cache) {
  if (acc.isSatisfied()) return acc.result();
  if (acc.isFailed()) return notEnoughCpus(num_cpus, available.size());
  acc.takeFullFirstLevel();
  if (acc.isSatisfied()) return acc.result();
  acc.takeFullSecondLevel();
  if (acc.isSatisfied()) return acc.result();
  if (prefer_align_by_uncore_cache) {
    acc.takeUncoreCache();
    if (acc.isSatisfied()) return acc.result();
  }
  if (strategy == CpuSortingStrategy::Packed) {
    acc.takeFullCores();
    if (acc.isSatisfied()) return acc.result();
  }
  acc.takeRemainingCpus();
  if (acc.isSatisfied()) return acc.result();
  return Error::resourceExhausted("failed to allocate cpus");
}

Result<CpuSet> takeByTopologyNumaPacked(const KubeletCpuTopology& topo, const CpuSet& available, int num_cpus,
                                        CpuSortingStrategy strategy, bool prefer_align_by_uncore_cache) {
  CpuAccumulator acc(topo, available, num_cpus, strategy);
  return takePackedSteps(acc, available, num_cpus, strategy, prefer_align_by_uncore_cache);
}

Result<CpuSet> takeByTopologyNumaPackedForResize(const KubeletCpuTopology& topo, const CpuSet& available, int num_cpus,
                                                 CpuSortingStrategy strategy, bool prefer_align_by_uncore_cache,
                                                 const CpuSet& current, const CpuSet& keep) {
  if (!current.empty() && !keep.empty() && !keep.isSubsetOf(current)) {
    return Error::invalidArgument("requested CPUs to be retained " + keep.toString() +
                                  " are not a subset of reusable CPUs " + current.toString());
  }
  CpuAccumulator acc = CpuAccumulator::forResize(topo, available, num_cpus, strategy, current, keep);
  return takePackedSteps(acc, available, num_cpus, strategy, prefer_align_by_uncore_cache);
}

namespace {

struct BalancedChoice {
  double balance = std::numeric_limits<double>::max();
  std::vector<int> combo;
  std::vector<int> remainder_numas;
};

// Evaluates one NUMA combination as the kubelet does; returns false when it cannot hold the
// request in groups, else fills the best local balance and remainder subset.
bool evaluateCombo(const CpuAccumulator& acc, const KubeletCpuTopology& topo, const std::vector<int>& numas,
                   const std::vector<int>& combo, int num_cpus, int group, BalancedChoice& local) {
  const auto numa_free = [&](int numa) { return (topo.cpusInNuma(numa) & acc.available()).size(); };
  int total = 0;
  int groups = 0;
  for (int numa : combo) {
    total += numa_free(numa);
    groups += numa_free(numa) / group;
  }
  if (total < num_cpus || groups * group < num_cpus) return false;
  const int distribution = (num_cpus / static_cast<int>(combo.size()) / group) * group;
  for (int numa : combo) {
    if (numa_free(numa) < distribution) return false;
  }
  std::map<int, int> after;  // NUMA node -> CPUs left free after the even distribution
  for (int numa : numas) after[numa] = numa_free(numa);
  for (int numa : combo) after[numa] -= distribution;
  const int remainder = num_cpus - distribution * static_cast<int>(combo.size());

  std::vector<int> remainder_combo;
  for (int numa : combo) {
    if (after[numa] >= group) remainder_combo.push_back(numa);
  }
  local.balance = std::numeric_limits<double>::max();
  local.remainder_numas.clear();
  if (remainder == 0) local.balance = kubeletStandardDeviation(valuesOf(after));
  for (int k = static_cast<int>(remainder_combo.size()); remainder > 0 && k >= 1; --k) {
    forEachCombination(remainder_combo, k, [&](const std::vector<int>& subset) {
      int left = remainder;
      std::map<int, int> trial = after;
      int subset_free = 0;
      for (int numa : subset) subset_free += trial[numa];
      if (subset_free < left) return Loop::Continue;
      while (left > 0) {
        bool progressed = false;
        for (int numa : subset) {
          if (left == 0) break;
          if (trial[numa] < group) continue;
          trial[numa] -= group;
          left -= group;
          progressed = true;
        }
        // The kubelet would spin here; a subset that cannot progress cannot take the rest.
        if (!progressed) return Loop::Continue;
      }
      const double balance = kubeletStandardDeviation(valuesOf(trial));
      if (balance < local.balance) {
        local.balance = balance;
        local.remainder_numas = subset;
      }
      return Loop::Continue;
    });
  }
  return true;
}

}  // namespace

Result<CpuSet> takeByTopologyNumaDistributed(const KubeletCpuTopology& topo, const CpuSet& available, int num_cpus,
                                             int cpu_group_size, CpuSortingStrategy strategy) {
  const int group = cpu_group_size < 1 ? 1 : cpu_group_size;
  // Requests that cannot be handed out in whole groups are packed (uncore alignment is not
  // implemented for the distributed variant, as in the kubelet).
  if (num_cpus % group != 0) return takeByTopologyNumaPacked(topo, available, num_cpus, strategy, false);

  CpuAccumulator acc(topo, available, num_cpus, strategy);
  if (acc.isSatisfied()) return acc.result();
  if (acc.isFailed()) return notEnoughCpus(num_cpus, available.size());

  const std::vector<int> numas = acc.sortAvailableNumaNodes();
  const auto [min_numas, max_numas] = acc.rangeNumaNodesNeeded(group);
  for (int k = min_numas; k <= max_numas; ++k) {
    BalancedChoice best;
    bool found = false;
    forEachCombination(numas, k, [&](const std::vector<int>& combo) {
      if (found && best.balance == 0) return Loop::Break;
      BalancedChoice local;
      if (!evaluateCombo(acc, topo, numas, combo, num_cpus, group, local)) return Loop::Continue;
      if (local.balance < best.balance) {
        best.balance = local.balance;
        best.remainder_numas = local.remainder_numas;
        best.combo = combo;
        found = true;
      }
      return Loop::Continue;
    });
    if (!found) continue;

    const int distribution = (num_cpus / static_cast<int>(best.combo.size()) / group) * group;
    for (int numa : best.combo) {
      // Errors are impossible here (the combo was checked), and the kubelet ignores them too.
      auto cpus =
          takeByTopologyNumaPacked(topo, topo.cpusInNuma(numa) & acc.available(), distribution, strategy, false);
      if (cpus.has_value()) acc.take(*cpus);
    }
    int remainder = num_cpus - distribution * static_cast<int>(best.combo.size());
    while (remainder > 0) {
      bool progressed = false;
      for (int numa : best.remainder_numas) {
        if (remainder == 0) break;
        const CpuSet free = topo.cpusInNuma(numa) & acc.available();
        if (free.size() < group) continue;
        auto cpus = takeByTopologyNumaPacked(topo, free, group, strategy, false);
        if (cpus.has_value()) acc.take(*cpus);
        remainder -= group;
        progressed = true;
      }
      if (!progressed) break;
    }
    if (acc.needed() > 0) {
      return Error::internal("accounting error, not enough CPUs allocated, remaining: " + std::to_string(acc.needed()));
    }
    if (acc.needed() < 0) {
      return Error::internal("accounting error, too many CPUs allocated, remaining: " + std::to_string(acc.needed()));
    }
    return acc.result();
  }
  return takeByTopologyNumaPacked(topo, available, num_cpus, strategy, false);
}

}  // namespace topod::policies::cpu
