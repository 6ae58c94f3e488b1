// FakeExclusivePolicy: a tiny static-like policy for agent tests, so they do not depend on the
// engine's kubelet-exact allocator. Guaranteed containers with whole CPUs get the lowest free
// CPUs exclusively (never CPU 0, the reserved one); resize keeps held CPUs (grow adds the lowest
// free, shrink keeps the lowest held); everything else runs in the shared pool = online CPUs
// minus every exclusive CPU. Pure, like a real policy.
#pragma once

#include <string>

#include "policies/policy.h"
#include "topology/model.h"

namespace topod::testing {

class FakeExclusivePolicy final : public policies::Policy {
 public:
  explicit FakeExclusivePolicy(const topology::Topology& topology) : online_(topology.onlineCpus()) {}

  std::string_view name() const override { return "fake-exclusive"; }

  Result<policies::Decision> admit(const policies::State& state, const policies::PodRequest& pod,
                                   const policies::ContainerRequest& container) const override {
    return decide(state, pod, container, CpuSet{});
  }

  Result<policies::Decision> resize(const policies::State& state, const policies::PodRequest& pod,
                                    const policies::ContainerRequest& resized) const override {
    policies::ContainerKey key{pod.uid, resized.name};
    auto it = state.containers().find(key);
    if (it == state.containers().end())
      return Error::notFound("fake: " + pod.uid + "/" + resized.name + " is not admitted");
    policies::State others = policies::releaseContainer(state, key);
    return decide(others, pod, resized, it->second.exclusive_cpus);
  }

  std::map<policies::ContainerKey, policies::Placement> placements(const policies::State& state) const override {
    std::map<policies::ContainerKey, policies::Placement> out;
    CpuSet shared = sharedCpus(state);
    for (const auto& [key, allocation] : state.containers()) {
      out[key] = policies::Placement{.cpus = allocation.exclusive_cpus.empty() ? shared : allocation.exclusive_cpus,
                                     .mems = {}};
    }
    return out;
  }

  CpuSet reservedCpus() const override { return CpuSet{0}; }

  CpuSet sharedCpus(const policies::State& state) const override {
    CpuSet shared = online_;
    for (const auto& [key, allocation] : state.containers()) shared -= allocation.exclusive_cpus;
    return shared;
  }

 private:
  Result<policies::Decision> decide(const policies::State& others, const policies::PodRequest& pod,
                                    const policies::ContainerRequest& container, const CpuSet& held) const {
    policies::Decision decision;
    decision.key = {pod.uid, container.name};
    decision.allocation.request = container;
    decision.allocation.qos = pod.qos;
    bool exclusive =
        pod.qos == QosClass::Guaranteed && container.cpu_request_millis > 0 && container.cpu_request_millis % 1000 == 0;
    if (!exclusive) {
      decision.placement.cpus = sharedCpus(others);
      decision.explanation = "fake: shared pool";
      return decision;
    }
    int want = static_cast<int>(container.cpu_request_millis / 1000);
    CpuSet free = sharedCpus(others) - CpuSet{0};
    if (free.size() < want) {
      return Error::resourceExhausted("fake: not enough free CPUs: need " + std::to_string(want) + ", " +
                                      std::to_string(free.size()) + " free");
    }
    CpuSet chosen;
    for (int cpu : held) {
      if (chosen.size() < want) chosen.insert(cpu);
    }
    for (int cpu : free - held) {
      if (chosen.size() < want) chosen.insert(cpu);
    }
    decision.allocation.exclusive_cpus = chosen;
    decision.placement.cpus = chosen;
    decision.explanation = "fake: exclusive CPUs " + chosen.toString();
    return decision;
  }

  CpuSet online_;
};

}  // namespace topod::testing
