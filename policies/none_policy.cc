#include "policies/none_policy.h"

namespace topod::policies {

NonePolicy::NonePolicy(const topology::Topology& topology) : online_(topology.onlineCpus()) {}

Decision NonePolicy::decide(const PodRequest& pod, const ContainerRequest& container, std::string explanation) const {
  Decision decision;
  decision.key = ContainerKey{.pod_uid = pod.uid, .container_name = container.name};
  decision.allocation.request = container;
  decision.allocation.qos = pod.qos;
  decision.placement = Placement{.cpus = online_, .mems = {}};
  decision.explanation = std::move(explanation);
  return decision;
}

Result<Decision> NonePolicy::admit(const State& /*state*/, const PodRequest& pod,
                                   const ContainerRequest& container) const {
  return decide(pod, container,
                "policy none: no pinning; shared pool of all online CPUs " + online_.toString() + ", all memory nodes");
}

Result<Decision> NonePolicy::resize(const State& state, const PodRequest& pod, const ContainerRequest& resized) const {
  ContainerKey key{.pod_uid = pod.uid, .container_name = resized.name};
  if (state.containers().count(key) == 0) {
    return Error::notFound("policy none: cannot resize " + pod.uid + "/" + resized.name +
                           ": container is not admitted");
  }
  return decide(pod, resized,
                "policy none: resize needs no placement change; stays on all online CPUs " + online_.toString());
}

std::map<ContainerKey, Placement> NonePolicy::placements(const State& state) const {
  std::map<ContainerKey, Placement> out;
  for (const auto& [key, allocation] : state.containers()) {
    (void)allocation;
    out.emplace(key, Placement{.cpus = online_, .mems = {}});
  }
  return out;
}

CpuSet NonePolicy::sharedCpus(const State& /*state*/) const {
  return online_;
}

}  // namespace topod::policies
