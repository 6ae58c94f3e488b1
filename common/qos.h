// Kubernetes pod QoS classes. Shared by nri/ (which infers the class of a running container as
// the kubelet would) and policies/ (whose decisions depend on it).
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
