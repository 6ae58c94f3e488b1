#include "policies/topology_aware/request_class.h"

#include "policies/topology_aware/topology_aware_policy.h"

namespace topod::policies::topology_aware {

namespace {
constexpr int64_t kMillisPerCpu = 1000;

int64_t effectiveCpuMillis(const ContainerRequest& container) {
  return container.cpu_request_millis != 0 ? container.cpu_request_millis : container.cpu_limit_millis;
}
}  // namespace

bool wantsExclusiveCpus(const PodRequest& pod, const ContainerRequest& container) {
  int64_t millis = effectiveCpuMillis(container);
  return pod.qos == QosClass::Guaranteed && container.kind != ContainerKind::Init && millis > 0 &&
         millis % kMillisPerCpu == 0;
}

int requestedCpus(const ContainerRequest& container) {
  return static_cast<int>((effectiveCpuMillis(container) + kMillisPerCpu - 1) / kMillisPerCpu);
}

Result<bool> wantsIsolatedCpus(const PodRequest& pod) {
  auto it = pod.annotations.find(std::string(kIsolatedCpusAnnotation));
  if (it == pod.annotations.end() || it->second == "false") return false;
  if (it->second == "true") return true;
  return Error::invalidArgument("pod " + pod.namespace_name + "/" + pod.name + ": annotation " +
                                std::string(kIsolatedCpusAnnotation) + "=\"" + it->second +
                                "\" must be \"true\" or \"false\"");
}

Status validateRequest(const PodRequest& pod, const ContainerRequest& container) {
  if (container.name.empty()) {
    return Error::invalidArgument("pod " + pod.namespace_name + "/" + pod.name + ": container without a name");
  }
  if (container.cpu_request_millis < 0 || container.cpu_limit_millis < 0) {
    return Error::invalidArgument(describe(pod, container) + ": negative CPU request or limit");
  }
  // A whole-machine request beyond any real CPU count would overflow the CPU arithmetic.
  constexpr int64_t kMaxMillis = int64_t{1} << 40;
  if (container.cpu_request_millis > kMaxMillis || container.cpu_limit_millis > kMaxMillis) {
    return Error::invalidArgument(describe(pod, container) + ": CPU request or limit out of range");
  }
  return okStatus();
}

NodeSet deviceNodes(const ContainerRequest& container) {
  NodeSet nodes;
  for (const DeviceRequest& device : container.devices) {
    if (device.numa >= 0 && device.numa <= NodeSet::kMaxId) nodes.insert(device.numa);
  }
  return nodes;
}

std::string describe(const PodRequest& pod, const ContainerRequest& container) {
  return "pod " + pod.namespace_name + "/" + pod.name + " container " + container.name;
}

}  // namespace topod::policies::topology_aware
