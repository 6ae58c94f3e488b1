#include "policies/request.h"

namespace topod::policies {

QosClass computeQosClass(const std::vector<ContainerRequest>& containers) {
  // Mirrors k8s.io/kubernetes/pkg/apis/core/v1/helper/qos: BestEffort when no container sets a
  // CPU or memory request or limit; Guaranteed when every container sets CPU and memory limits
  // and its requests equal them (an unset request defaults to the limit); otherwise Burstable.
  bool any_set = false;
  bool all_guaranteed = !containers.empty();
  for (const ContainerRequest& c : containers) {
    if (c.cpu_request_millis != 0 || c.cpu_limit_millis != 0 || c.memory_request_bytes != 0 ||
        c.memory_limit_bytes != 0) {
      any_set = true;
    }
    bool cpu_ok = c.cpu_limit_millis != 0 && (c.cpu_request_millis == 0 || c.cpu_request_millis == c.cpu_limit_millis);
    bool mem_ok =
        c.memory_limit_bytes != 0 && (c.memory_request_bytes == 0 || c.memory_request_bytes == c.memory_limit_bytes);
    if (!cpu_ok || !mem_ok) all_guaranteed = false;
  }
  if (!any_set) return QosClass::BestEffort;
  return all_guaranteed ? QosClass::Guaranteed : QosClass::Burstable;
}

}  // namespace topod::policies
