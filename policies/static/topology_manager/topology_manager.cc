#include "policies/static/topology_manager/topology_manager.h"

#include <algorithm>
#include <string>
#include <utility>

namespace topod::policies::topology_manager {

std::string_view policyName(TopologyManagerPolicy policy) {
  switch (policy) {
    case TopologyManagerPolicy::None: return "none";
    case TopologyManagerPolicy::BestEffort: return "best-effort";
    case TopologyManagerPolicy::Restricted: return "restricted";
    case TopologyManagerPolicy::SingleNumaNode: return "single-numa-node";
  }
  return "none";
}

std::string_view scopeName(TopologyManagerScope scope) {
  switch (scope) {
    case TopologyManagerScope::Container: return "container";
    case TopologyManagerScope::Pod: return "pod";
  }
  return "container";
}

Result<TopologyManager> TopologyManager::create(const topology::Topology& topology,
                                                const TopologyManagerOptions& options,
                                                std::vector<const HintProvider*> providers) {
  for (const HintProvider* provider : providers) {
    if (provider == nullptr) return Error::invalidArgument("topology manager: null hint provider");
  }
  if (options.policy == TopologyManagerPolicy::None) {
    // The kubelet skips every NUMA check for policy none; keep just the node list.
    NumaInfo numa(topology.numaNodeIds().toVector(), {});
    return TopologyManager(options, std::move(numa), std::move(providers));
  }
  const int node_count = static_cast<int>(topology.numaNodes().size());
  if (node_count > options.max_allowable_numa_nodes) {
    return Error::invalidArgument("topology manager policy " + std::string(policyName(options.policy)) +
                                  ": unsupported on machines with more than " +
                                  std::to_string(options.max_allowable_numa_nodes) + " NUMA Nodes (this one has " +
                                  std::to_string(node_count) + "; raise max_allowable_numa_nodes)");
  }
  auto numa = NumaInfo::fromTopology(topology);
  if (!numa.has_value()) return numa.error();
  return TopologyManager(options, std::move(*numa), std::move(providers));
}

std::vector<ProviderHints> TopologyManager::collectHints(const State& state, const PodRequest& pod,
                                                         const ContainerRequest& container) const {
  std::vector<ProviderHints> all;
  if (options_.policy == TopologyManagerPolicy::None) return all;
  all.reserve(providers_.size());
  // The kubelet computes pod-scope hints once, when the pod is admitted, before any of its
  // containers holds anything; every container is then allocated within that one affinity.
  // Containers come here one at a time, so the providers compute pod hints as if the pod's own
  // allocations were not in the State, which gives every container of the pod the kubelet's
  // affinity.
  const bool pod_scope = options_.scope == TopologyManagerScope::Pod;
  for (const HintProvider* provider : providers_) {
    ProviderHints entry{std::string(provider->name()), {}};
    entry.hints =
        pod_scope ? provider->podHintsWithoutPod(state, pod) : provider->containerHints(state, pod, container);
    all.push_back(std::move(entry));
  }
  return all;
}

MergeOutcome TopologyManager::calculateAffinity(const std::vector<ProviderHints>& hints) const {
  std::vector<const ResourceHints*> providers_hints;
  providers_hints.reserve(hints.size());
  for (const ProviderHints& entry : hints) providers_hints.push_back(&entry.hints);
  return mergeHints(options_.policy, numa_, options_.prefer_closest_numa_nodes, providers_hints);
}

Result<Admission> TopologyManager::admit(const State& state, const PodRequest& pod,
                                         const ContainerRequest& container) const {
  Admission admission;
  admission.hints = collectHints(state, pod, container);
  std::string context = "topology manager " + std::string(policyName(options_.policy));
  if (options_.policy == TopologyManagerPolicy::None) {
    admission.explanation = context + ": no NUMA alignment";
  } else {
    MergeOutcome outcome = calculateAffinity(admission.hints);
    // Appended piece by piece: the hint list runs to kilobytes on large machines.
    context += '/';
    context += scopeName(options_.scope);
    context += ": hints ";
    appendHints(context, admission.hints);
    context += "; merged ";
    context += describeAffinity(outcome.hint);
    if (!outcome.admit) {
      return Error(ErrorCode::ResourceExhausted, std::string(kTopologyAffinityErrorReason) + ": " +
                                                     std::string(kTopologyAffinityErrorMessage) + " (" + context + ")")
          .withReason(kTopologyAffinityErrorReason);
    }
    admission.affinity = outcome.hint;
    admission.explanation = std::move(context);
  }
  admission.allocation.request = container;
  admission.allocation.qos = pod.qos;
  for (const HintProvider* provider : providers_) {
    Status status = provider->allocate(state, pod, container, admission.affinity, admission.allocation);
    if (!status.has_value()) {
      return status.error().withContext(std::string(provider->name()) + " (" + admission.explanation + ")");
    }
  }
  return admission;
}

std::string describeAffinity(const TopologyHint& hint) {
  std::string text = hint.affinity.empty() ? "any NUMA" : "NUMA " + hint.affinity.toString();
  text += hint.preferred ? " (preferred)" : " (not preferred)";
  return text;
}

std::string describeHints(const std::vector<ProviderHints>& hints) {
  std::string out;
  appendHints(out, hints);
  return out;
}

void appendHints(std::string& out, const std::vector<ProviderHints>& hints) {
  const std::size_t start = out.size();
  for (const ProviderHints& entry : hints) {
    if (out.size() > start) out += ' ';
    if (entry.hints.empty()) {
      out += entry.provider + "=any";
      continue;
    }
    bool first_resource = true;
    for (const auto& [resource, list] : entry.hints) {
      if (!first_resource) out += ' ';
      first_resource = false;
      out += entry.provider + "." + resource + "=[";
      // The providers list the narrowest masks first, so the shown ones are those merging favours;
      // on a 8-NUMA machine the full list runs to 255 masks, too long for a pod event.
      const std::size_t shown = std::min(list.size(), kHintsShownPerResource);
      for (std::size_t i = 0; i < shown; ++i) {
        if (i > 0) out += ' ';
        if (list[i].affinity.empty()) {
          out += "any";
        } else {
          list[i].affinity.appendTo(out);
        }
        if (list[i].preferred) out += '*';
      }
      if (shown < list.size()) {
        std::size_t preferred_left = 0;
        for (std::size_t i = shown; i < list.size(); ++i) preferred_left += list[i].preferred ? 1 : 0;
        out += " +" + std::to_string(list.size() - shown) + " more";
        if (preferred_left > 0) out += " (" + std::to_string(preferred_left) + " preferred)";
      }
      out += ']';
    }
  }
  if (out.size() == start) out += "none";
}

}  // namespace topod::policies::topology_manager
