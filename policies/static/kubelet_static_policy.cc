#include "policies/static/kubelet_static_policy.h"

#include <utility>
#include <vector>

#include "policies/cpu_shape.h"

namespace topod::policies {

Result<std::unique_ptr<KubeletStaticPolicy>> KubeletStaticPolicy::create(const topology::Topology& topology,
                                                                         const PolicyOptions& options) {
  auto cpu = cpu::StaticCpuPolicy::create(topology, options);
  if (!cpu.has_value()) return cpu.error().withContext("static policy: CPU manager");
  std::optional<memory::StaticMemoryPolicy> memory;
  if (options.memory_policy == MemoryManagerPolicy::Static) {
    auto created = memory::StaticMemoryPolicy::create(topology, options.reserved_memory);
    if (!created.has_value()) return created.error().withContext("static policy: memory manager");
    memory.emplace(std::move(*created));
  }
  std::unique_ptr<KubeletStaticPolicy> policy(
      new KubeletStaticPolicy(topology, std::move(*cpu), std::move(memory), devices::DeviceHintProvider(topology)));
  // The kubelet's order (container_manager_linux.go): device manager, CPU manager, memory manager.
  std::vector<const HintProvider*> providers = {&policy->devices_, &policy->cpu_};
  if (policy->memory_.has_value()) providers.push_back(&*policy->memory_);
  auto manager = topology_manager::TopologyManager::create(topology, options.topology_manager, providers);
  if (!manager.has_value()) return manager.error().withContext("static policy: topology manager");
  policy->manager_.emplace(std::move(*manager));
  return policy;
}

Placement KubeletStaticPolicy::placementOf(const ContainerAllocation& allocation, const CpuSet& shared) {
  return Placement{.cpus = allocation.exclusive_cpus.empty() ? shared : allocation.exclusive_cpus,
                   .mems = allocation.memory_nodes};
}

Result<Decision> KubeletStaticPolicy::admit(const State& state, const PodRequest& pod,
                                            const ContainerRequest& container) const {
  auto admission = manager_->admit(state, pod, container);
  if (!admission.has_value()) return admission.error();
  Decision decision;
  decision.key = ContainerKey{.pod_uid = pod.uid, .container_name = container.name};
  decision.allocation = std::move(admission->allocation);
  decision.allocation.request = container;
  decision.allocation.qos = pod.qos;
  // The shared pool once this container holds its CPUs, without copying the State.
  CpuSet shared = cpu_.sharedPool(state) - decision.allocation.exclusive_cpus;
  decision.placement = placementOf(decision.allocation, shared);
  decision.explanation = std::move(admission->explanation);
  if (!decision.allocation.exclusive_cpus.empty()) {
    decision.explanation += "; exclusive ";
    decision.explanation += describeCpuShape(topology_, decision.allocation.exclusive_cpus);
    decision.explanation += "; why these CPUs: ";
    decision.explanation +=
        cpu_.whyTheseCpus(state, pod, container, admission->affinity.affinity, decision.allocation.exclusive_cpus);
  } else {
    decision.explanation +=
        "; shared pool " + decision.placement.cpus.toString() + " (not a whole-CPU Guaranteed request)";
  }
  return decision;
}

Result<Decision> KubeletStaticPolicy::resize(const State& state, const PodRequest& pod,
                                             const ContainerRequest& resized) const {
  ContainerKey key{.pod_uid = pod.uid, .container_name = resized.name};
  auto it = state.containers().find(key);
  if (it == state.containers().end()) {
    return Error::notFound("static policy: cannot resize " + pod.uid + "/" + resized.name +
                           ": container is not admitted");
  }
  const ContainerAllocation& old = it->second;
  Decision decision;
  decision.key = key;
  decision.allocation = old;
  decision.allocation.request = resized;
  std::string explanation = "resize of " + pod.uid + "/" + resized.name + ":";
  if (!old.exclusive_cpus.empty() || cpu_.isExclusive(pod, resized)) {
    auto cpus = cpu_.resizeExclusiveCpus(state, pod, resized);
    if (!cpus.has_value()) return cpus.error().withContext("static policy: resize refused, allocation kept");
    decision.allocation.exclusive_cpus = *cpus;
    explanation += " exclusive CPUs " +
                   (old.exclusive_cpus.empty() ? std::string("none") : old.exclusive_cpus.toString()) + " -> " +
                   (cpus->empty() ? std::string("shared pool") : cpus->toString()) + ";";
  } else {
    explanation += " stays in the shared pool;";
  }
  if (memory_.has_value() && !old.memory.empty()) {
    auto memory = memory_->resize(state, pod, resized);
    if (!memory.has_value()) return memory.error().withContext("static policy: resize refused, allocation kept");
    decision.allocation.memory = memory->memory;
    decision.allocation.memory_nodes = memory->memory_nodes;
    explanation += " memory on NUMA nodes " + memory->memory_nodes.toString() + ";";
  }
  CpuSet shared = cpu_.sharedPool(state) | old.exclusive_cpus;
  shared -= decision.allocation.exclusive_cpus;
  if (cpu_.options().strict_cpu_reservation) shared -= cpu_.reservedCpus();
  decision.placement = placementOf(decision.allocation, shared);
  decision.explanation = std::move(explanation);
  return decision;
}

std::map<ContainerKey, Placement> KubeletStaticPolicy::placements(const State& state) const {
  CpuSet shared = cpu_.sharedPool(state);
  std::map<ContainerKey, Placement> out;
  // The State is ordered by key already: appending at the end needs no search.
  for (const auto& [key, allocation] : state.containers())
    out.emplace_hint(out.end(), key, placementOf(allocation, shared));
  return out;
}

CpuSet KubeletStaticPolicy::sharedCpus(const State& state) const {
  return cpu_.sharedPool(state);
}

Result<std::unique_ptr<Policy>> makeKubeletStaticPolicy(const topology::Topology& topology,
                                                        const PolicyOptions& options) {
  auto policy = KubeletStaticPolicy::create(topology, options);
  if (!policy.has_value()) return policy.error();
  return std::unique_ptr<Policy>(std::move(*policy));
}

}  // namespace topod::policies
