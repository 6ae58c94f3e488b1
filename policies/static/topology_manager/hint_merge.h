// Merging the hint providers' NUMA hints into one affinity, and the admit decision of each
// topology manager policy (kubelet topologymanager/policy*.go), reproduced exactly:
//
//  - Providers' hints are flattened to one list per resource. A provider whose map is empty adds
//    a single preferred "any NUMA" hint (no preference); a resource mapped to an empty list adds
//    a single non-preferred "any NUMA" hint (cannot be placed): the kubelet's nil vs empty
//    distinction, see ResourceHints.
//  - Every permutation (one hint per resource) is ANDed together with the machine's nodes. The
//    result is preferred only if every hint was preferred and every hint that named nodes named
//    the same ones.
//  - The best permutation wins by HintMerger::compare: non-empty, preferred over not preferred,
//    then narrowest (or closest with prefer-closest-numa-nodes); among non-preferred ones, the
//    width nearest to (not above) the widest "narrowest hint" of any resource.
//  - none: no affinity, always admitted. best-effort: always admitted. restricted: admitted
//    when preferred. single-numa-node: only single-node preferred hints (and preferred "any"
//    hints) take part; an "all nodes" result becomes "any" (empty affinity); admitted when
//    preferred.
//
// An empty affinity in a TopologyHint means "no NUMA constraint" (the kubelet's nil mask).
#pragma once

#include <vector>

#include "policies/policy_options.h"
#include "policies/static/topology_hint.h"
#include "policies/static/topology_manager/numa_info.h"

namespace topod::policies::topology_manager {

// A hint in merge form. affinity 0 is "any NUMA" on input and "nothing in common" once merged.
struct MaskHint {
  NumaMask affinity = 0;
  bool preferred = false;
  friend bool operator==(const MaskHint&, const MaskHint&) = default;
};

MaskHint toMaskHint(const TopologyHint& hint);
TopologyHint toTopologyHint(const MaskHint& hint);

// One list of hints per (provider, resource), in provider order then resource-name order.
std::vector<std::vector<MaskHint>> filterProvidersHints(const std::vector<ResourceHints>& providers_hints);
// The same over hints the caller keeps (no copy of hundreds of hints per admission).
std::vector<std::vector<MaskHint>> filterProvidersHints(const std::vector<const ResourceHints*>& providers_hints);
// single-numa-node: keeps preferred hints naming exactly one node, and preferred "any" hints.
std::vector<std::vector<MaskHint>> filterSingleNumaHints(const std::vector<std::vector<MaskHint>>& hints);
// The largest, over resources, of the width of that resource's narrowest hint naming nodes.
int maxOfMinAffinityCounts(const std::vector<std::vector<MaskHint>>& hints);
// AND of one permutation with `default_affinity` (see the preferred rule above).
MaskHint mergePermutation(NumaMask default_affinity, const std::vector<const MaskHint*>& permutation);

class HintMerger {
 public:
  HintMerger(const NumaInfo& numa, std::vector<std::vector<MaskHint>> hints, bool use_closest);

  // Which of two merged hints is better; returns `current` or `candidate` (current may be null).
  const MaskHint* compare(const MaskHint* current, const MaskHint* candidate) const;
  // Between two preferred (or two equally placed non-preferred) hints: narrowest or closest;
  // `current` on a tie.
  const MaskHint* compareAffinity(const MaskHint* current, const MaskHint* candidate) const;
  // The best permutation; {all nodes, not preferred} when no permutation has a node in common.
  // Same result as mergeExhaustive(), found without visiting every permutation when a preferred
  // one exists: a permutation is preferred only when all its hints are preferred and name the
  // same nodes (or none), and preferred hints are ranked by a total order (narrowest / closest),
  // so the winner is the smallest such mask; non-preferred hints are ranked by a total order
  // too, so only the set of merged masks matters, not the order the walk meets them.
  MaskHint merge() const;
  // The kubelet's walk over every permutation (reference for tests and benchmarks).
  MaskHint mergeExhaustive() const;
  // merge() when no permutation is preferred: counts which merged masks occur instead of
  // walking (see the .cc); beyond 12 NUMA nodes (or permutations past 2^64), mergeDistinct().
  MaskHint mergeNonPreferred() const;
  // mergeNonPreferred() by collecting the distinct merged masks resource by resource: polynomial
  // in the hints' count, never the product of the lists' lengths. Same answer while the distinct
  // partial ANDs number at most 2^16 (see the .cc).
  MaskHint mergeDistinct() const;

  int best_non_preferred_affinity_count = 0;  // public so tests can set it, as the kubelet's do

 private:
  const NumaInfo& numa_;
  std::vector<std::vector<MaskHint>> hints_;
  bool use_closest_;
};

struct MergeOutcome {
  TopologyHint hint;
  bool admit = false;
  friend bool operator==(const MergeOutcome&, const MergeOutcome&) = default;
};

// The policy's Merge(): merged hint and admit decision. `prefer_closest` is ignored by
// single-numa-node (all candidates there are one node wide) and none.
MergeOutcome mergeHints(TopologyManagerPolicy policy, const NumaInfo& numa, bool prefer_closest,
                        const std::vector<ResourceHints>& providers_hints);
MergeOutcome mergeHints(TopologyManagerPolicy policy, const NumaInfo& numa, bool prefer_closest,
                        const std::vector<const ResourceHints*>& providers_hints);

}  // namespace topod::policies::topology_manager
