// Kubernetes pod QoS classes. The agent infers the class of a running pod as the kubelet's
// layout implies (agent/nri_mapping.h); policies/ decide on it; the simulator computes it.
#pragma once

#include <string_view>

namespace topod {

enum class QosClass { Guaranteed, Burstable, BestEffort };

constexpr std::string_view qosClassName(QosClass qos) {
  switch (qos) {
    case QosClass::Guaranteed: return "Guaranteed";
    case QosClass::Burstable: return "Burstable";
    case QosClass::BestEffort: return "BestEffort";
  }
  return "BestEffort";
}

}  // namespace topod
