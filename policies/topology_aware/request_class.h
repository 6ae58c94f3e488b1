// How the topology-aware policy classifies a container: exclusive or shared, isolated CPUs or not,
// and how it names the container in explanations and errors.
#pragma once

#include <string>

#include "common/cpuset.h"
#include "common/result.h"
#include "policies/request.h"

namespace topod::policies::topology_aware {

// Exclusive CPUs: Guaranteed pod, not an init container, CPU request (or limit when the request
// is unset) a positive whole number of CPUs. Init containers run to completion before the app
// containers start, so they run in a shared pool and are not charged (the kubelet hands their
// resources to the app containers the same way).
bool wantsExclusiveCpus(const PodRequest& pod, const ContainerRequest& container);
// Whole CPUs asked for (ceil of the CPU request, or limit when the request is unset).
int requestedCpus(const ContainerRequest& container);
// kIsolatedCpusAnnotation, strictly parsed.
Result<bool> wantsIsolatedCpus(const PodRequest& pod);
// Rejects requests no policy can make sense of (negative CPU amounts, no container name).
Status validateRequest(const PodRequest& pod, const ContainerRequest& container);
// NUMA nodes of the container's devices (devices of unknown locality are left out).
NodeSet deviceNodes(const ContainerRequest& container);
// "pod ns/name container c" for messages.
std::string describe(const PodRequest& pod, const ContainerRequest& container);

}  // namespace topod::policies::topology_aware
