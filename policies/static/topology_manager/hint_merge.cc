#include "policies/static/topology_manager/hint_merge.h"

#include <algorithm>
#include <utility>

namespace topod::policies::topology_manager {

MaskHint toMaskHint(const TopologyHint& hint) {
  return {toMask(hint.affinity), hint.preferred};
}

TopologyHint toTopologyHint(const MaskHint& hint) {
  return {toNodeSet(hint.affinity), hint.preferred};
}

namespace {

std::vector<const ResourceHints*> pointersTo(const std::vector<ResourceHints>& providers_hints) {
  std::vector<const ResourceHints*> pointers;
  pointers.reserve(providers_hints.size());
  for (const ResourceHints& provider : providers_hints) pointers.push_back(&provider);
  return pointers;
}

}  // namespace

std::vector<std::vector<MaskHint>> filterProvidersHints(const std::vector<ResourceHints>& providers_hints) {
  return filterProvidersHints(pointersTo(providers_hints));
}

std::vector<std::vector<MaskHint>> filterProvidersHints(const std::vector<const ResourceHints*>& providers_hints) {
  std::vector<std::vector<MaskHint>> all;
  for (const ResourceHints* provider_hints : providers_hints) {
    const ResourceHints& provider = *provider_hints;
    if (provider.empty()) {
      all.push_back({MaskHint{0, true}});
      continue;
    }
    for (const auto& [resource, hints] : provider) {
      if (hints.empty()) {
        all.push_back({MaskHint{0, false}});
        continue;
      }
      std::vector<MaskHint> converted;
      converted.reserve(hints.size());
      for (const TopologyHint& hint : hints) converted.push_back(toMaskHint(hint));
      all.push_back(std::move(converted));
    }
  }
  return all;
}

std::vector<std::vector<MaskHint>> filterSingleNumaHints(const std::vector<std::vector<MaskHint>>& hints) {
  std::vector<std::vector<MaskHint>> filtered;
  filtered.reserve(hints.size());
  for (const std::vector<MaskHint>& resource : hints) {
    std::vector<MaskHint> kept;
    for (const MaskHint& hint : resource) {
      if (!hint.preferred) continue;
      if (hint.affinity == 0 || maskCount(hint.affinity) == 1) kept.push_back(hint);
    }
    filtered.push_back(std::move(kept));
  }
  return filtered;
}

int maxOfMinAffinityCounts(const std::vector<std::vector<MaskHint>>& hints) {
  int max_of_min = 0;
  for (const std::vector<MaskHint>& resource : hints) {
    const MaskHint* narrowest = nullptr;
    for (const MaskHint& hint : resource) {
      if (hint.affinity == 0) continue;
      if (narrowest == nullptr || isNarrowerThan(hint.affinity, narrowest->affinity)) narrowest = &hint;
    }
    if (narrowest != nullptr && maskCount(narrowest->affinity) > max_of_min) {
      max_of_min = maskCount(narrowest->affinity);
    }
  }
  return max_of_min;
}

MaskHint mergePermutation(NumaMask default_affinity, const std::vector<const MaskHint*>& permutation) {
  bool preferred = true;
  NumaMask merged = default_affinity;
  NumaMask first = 0;
  bool seen = false;
  for (const MaskHint* hint : permutation) {
    if (hint->affinity != 0) {
      merged &= hint->affinity;
      if (!seen) {
        first = hint->affinity;
        seen = true;
      } else if (hint->affinity != first) {
        // Hints naming different nodes only overlap; the overlap is not what either preferred.
        preferred = false;
      }
    }
    if (!hint->preferred) preferred = false;
  }
  return {merged, preferred};
}

HintMerger::HintMerger(const NumaInfo& numa, std::vector<std::vector<MaskHint>> hints, bool use_closest)
    : best_non_preferred_affinity_count(maxOfMinAffinityCounts(hints)),
      numa_(numa),
      hints_(std::move(hints)),
      use_closest_(use_closest) {}

const MaskHint* HintMerger::compareAffinity(const MaskHint* current, const MaskHint* candidate) const {
  if (candidate->affinity == current->affinity) return current;
  NumaMask best = use_closest_ ? numa_.closest(current->affinity, candidate->affinity)
                               : numa_.narrowest(current->affinity, candidate->affinity);
  return best == current->affinity ? current : candidate;
}

const MaskHint* HintMerger::compare(const MaskHint* current, const MaskHint* candidate) const {
  if (maskCount(candidate->affinity) == 0) return current;
  if (current == nullptr) return candidate;
  if (!current->preferred && candidate->preferred) return candidate;
  if (current->preferred && !candidate->preferred) return current;
  if (current->preferred && candidate->preferred) return compareAffinity(current, candidate);

  // Both non-preferred: aim for the width of the widest per-resource narrowest hint, never
  // above it; below it, creep up towards it (the kubelet's cases 1, 2, 3a-3cc).
  const int target = best_non_preferred_affinity_count;
  const int current_count = maskCount(current->affinity);
  const int candidate_count = maskCount(candidate->affinity);
  if (current_count > target) return compareAffinity(current, candidate);
  if (current_count == target) {
    return candidate_count == target ? compareAffinity(current, candidate) : current;
  }
  if (candidate_count > target) return current;
  if (candidate_count == target) return candidate;
  if (candidate_count > current_count) return candidate;
  if (candidate_count < current_count) return current;
  return compareAffinity(current, candidate);
}

MaskHint HintMerger::mergeExhaustive() const {
  const NumaMask default_affinity = numa_.defaultAffinity();
  MaskHint best;
  bool have_best = false;
  if (!hints_.empty()) {
    // Odometer over one hint per resource list, in the kubelet's nested-loop order.
    for (const std::vector<MaskHint>& list : hints_) {
      if (list.empty()) return {default_affinity, false};  // no permutation exists
    }
    std::vector<std::size_t> index(hints_.size(), 0);
    std::vector<const MaskHint*> permutation(hints_.size());
    while (true) {
      for (std::size_t i = 0; i < hints_.size(); ++i) permutation[i] = &hints_[i][index[i]];
      MaskHint merged = mergePermutation(default_affinity, permutation);
      const MaskHint* winner = compare(have_best ? &best : nullptr, &merged);
      if (winner == &merged) {
        best = merged;
        have_best = true;
      }
      bool done = true;
      for (std::size_t i = hints_.size(); i > 0; --i) {
        if (++index[i - 1] < hints_[i - 1].size()) {
          done = false;
          break;
        }
        index[i - 1] = 0;
      }
      if (done) break;
    }
  } else {
    // No resources at all: the single empty permutation merges to every node, preferred.
    MaskHint merged = mergePermutation(default_affinity, {});
    if (compare(nullptr, &merged) == &merged) {
      best = merged;
      have_best = true;
    }
  }
  if (!have_best) return {default_affinity, false};
  return best;
}

MaskHint HintMerger::merge() const {
  const NumaMask default_affinity = numa_.defaultAffinity();
  if (hints_.empty()) return mergeExhaustive();
  // Per resource: its preferred masks (sorted) and whether it has a preferred "any" hint, which
  // agrees with every mask.
  std::vector<std::vector<NumaMask>> preferred(hints_.size());
  std::vector<bool> wildcard(hints_.size(), false);
  bool all_wildcard = true;
  for (std::size_t i = 0; i < hints_.size(); ++i) {
    if (hints_[i].empty()) return {default_affinity, false};  // no permutation exists
    for (const MaskHint& hint : hints_[i]) {
      if (!hint.preferred) continue;
      if (hint.affinity == 0) {
        wildcard[i] = true;
      } else {
        preferred[i].push_back(hint.affinity);
      }
    }
    std::sort(preferred[i].begin(), preferred[i].end());
    all_wildcard = all_wildcard && wildcard[i];
  }
  auto agreedByAll = [&](NumaMask mask) {
    for (std::size_t j = 0; j < hints_.size(); ++j) {
      if (!wildcard[j] && !std::binary_search(preferred[j].begin(), preferred[j].end(), mask)) return false;
    }
    return true;
  };
  MaskHint best;
  bool have_best = false;
  auto offer = [&](NumaMask mask) {
    MaskHint candidate{mask & default_affinity, true};
    if (candidate.affinity == 0) return;
    if (!have_best || compareAffinity(&best, &candidate) == &candidate) {
      best = candidate;
      have_best = true;
    }
  };
  if (all_wildcard) offer(default_affinity);
  for (const std::vector<NumaMask>& masks : preferred) {
    for (NumaMask mask : masks) {
      if (agreedByAll(mask)) offer(mask);
    }
  }
  if (have_best) return best;
  return mergeNonPreferred();
}

MaskHint HintMerger::mergeNonPreferred() const {
  // Every permutation is non-preferred here, and compare() ranks non-preferred hints by a total
  // order (width equal to the target first, then below it widest first, then above it; ties by
  // compareAffinity), so the winner is the best merged mask that some permutation produces, in
  // whatever order they are met. Which masks are produced is counted without the walk: with
  // f_i(m) = hints of resource i containing m, the permutations whose AND contains m number
  // prod_i f_i(m), and the Moebius inversion over supersets leaves those whose AND is exactly m.
  const std::vector<int>& nodes = numa_.nodes();
  const std::size_t n = nodes.size();
  // 2^12 table entries at most; counts fit 64 bits while the permutation count does (checked).
  constexpr std::size_t kMaxCountedNodes = 12;
  if (n > kMaxCountedNodes) return mergeDistinct();
  uint64_t permutations = 1;
  for (const std::vector<MaskHint>& list : hints_) {
    if (__builtin_mul_overflow(permutations, static_cast<uint64_t>(list.size()), &permutations)) {
      return mergeDistinct();
    }
  }
  const NumaMask default_affinity = numa_.defaultAffinity();
  auto compress = [&](NumaMask mask) {
    std::size_t packed = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if ((mask & maskOf(nodes[i])) != 0) packed |= std::size_t{1} << i;
    }
    return packed;
  };
  const std::size_t size = std::size_t{1} << n;
  auto supersetSums = [&](std::vector<uint64_t>& table, bool inverse) {
    for (std::size_t bit = 1; bit < size; bit <<= 1) {
      for (std::size_t m = 0; m < size; ++m) {
        if ((m & bit) != 0) continue;
        // Wrapping arithmetic is exact here: the true values never exceed `permutations`.
        table[m] = inverse ? table[m] - table[m | bit] : table[m] + table[m | bit];
      }
    }
  };
  std::vector<uint64_t> exact(size, 1);
  std::vector<uint64_t> containing(size);
  for (const std::vector<MaskHint>& list : hints_) {
    std::fill(containing.begin(), containing.end(), 0);
    for (const MaskHint& hint : list) {
      NumaMask affinity = hint.affinity == 0 ? default_affinity : hint.affinity & default_affinity;
      containing[compress(affinity)] += 1;
    }
    supersetSums(containing, false);
    for (std::size_t m = 0; m < size; ++m) exact[m] *= containing[m];
  }
  supersetSums(exact, true);
  MaskHint best;
  bool have_best = false;
  for (std::size_t m = 1; m < size; ++m) {
    if (exact[m] == 0) continue;
    NumaMask affinity = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if ((m & (std::size_t{1} << i)) != 0) affinity |= maskOf(nodes[i]);
    }
    MaskHint candidate{affinity, false};
    if (compare(have_best ? &best : nullptr, &candidate) == &candidate) {
      best = candidate;
      have_best = true;
    }
  }
  if (!have_best) return {default_affinity, false};
  return best;
}

MaskHint HintMerger::mergeDistinct() const {
  // As mergeNonPreferred(), only the set of merged masks matters. It is built resource by
  // resource: the distinct ANDs of the resources so far, ANDed with each hint of the next. The
  // cost is (distinct partial ANDs) x (hints of the next resource) per resource; the providers
  // list O(nodes) sets beyond kExhaustiveMaskNodes, and intersections of runs of consecutive
  // nodes are runs, so the partial sets stay O(nodes^2). kMaxPartial bounds hostile lists: the
  // numerically smallest partial ANDs are kept (the narrowest, in the kubelet's order).
  constexpr std::size_t kMaxPartial = std::size_t{1} << 16;
  const NumaMask default_affinity = numa_.defaultAffinity();
  std::vector<NumaMask> partial{default_affinity};
  std::vector<NumaMask> next;
  for (const std::vector<MaskHint>& list : hints_) {
    next.clear();
    for (NumaMask so_far : partial) {
      for (const MaskHint& hint : list) {
        NumaMask merged = so_far & (hint.affinity == 0 ? default_affinity : hint.affinity);
        if (merged != 0) next.push_back(merged);
      }
      if (next.size() > 4 * kMaxPartial) {
        std::sort(next.begin(), next.end());
        next.erase(std::unique(next.begin(), next.end()), next.end());
      }
    }
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    if (next.size() > kMaxPartial) next.resize(kMaxPartial);
    partial.swap(next);
    if (partial.empty()) break;
  }
  MaskHint best;
  bool have_best = false;
  for (NumaMask affinity : partial) {
    MaskHint candidate{affinity, false};
    if (compare(have_best ? &best : nullptr, &candidate) == &candidate) {
      best = candidate;
      have_best = true;
    }
  }
  if (!have_best) return {default_affinity, false};
  return best;
}

MergeOutcome mergeHints(TopologyManagerPolicy policy, const NumaInfo& numa, bool prefer_closest,
                        const std::vector<ResourceHints>& providers_hints) {
  return mergeHints(policy, numa, prefer_closest, pointersTo(providers_hints));
}

MergeOutcome mergeHints(TopologyManagerPolicy policy, const NumaInfo& numa, bool prefer_closest,
                        const std::vector<const ResourceHints*>& providers_hints) {
  switch (policy) {
    case TopologyManagerPolicy::None: return {TopologyHint{}, true};
    case TopologyManagerPolicy::BestEffort: {
      HintMerger merger(numa, filterProvidersHints(providers_hints), prefer_closest);
      return {toTopologyHint(merger.merge()), true};
    }
    case TopologyManagerPolicy::Restricted: {
      HintMerger merger(numa, filterProvidersHints(providers_hints), prefer_closest);
      MaskHint best = merger.merge();
      return {toTopologyHint(best), best.preferred};
    }
    case TopologyManagerPolicy::SingleNumaNode: {
      HintMerger merger(numa, filterSingleNumaHints(filterProvidersHints(providers_hints)), false);
      MaskHint best = merger.merge();
      if (best.affinity == numa.defaultAffinity()) best.affinity = 0;
      return {toTopologyHint(best), best.preferred};
    }
  }
  return {TopologyHint{}, true};
}

}  // namespace topod::policies::topology_manager
