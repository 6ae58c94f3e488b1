#include "api/convert.h"

#include <set>
#include <string_view>

#include "common/quantity.h"

// Assigns the value of a Result expression, or returns its error.
#define TOPOD_API_ASSIGN(lhs, expr)                             \
  do {                                                          \
    auto topod_value_ = (expr);                                 \
    if (!topod_value_.has_value()) return topod_value_.error(); \
    lhs = std::move(*topod_value_);                             \
  } while (false)

namespace topod::api {

namespace {

constexpr QosClass kQosClasses[] = {QosClass::Guaranteed, QosClass::Burstable, QosClass::BestEffort};

Result<QosClass> parseQos(std::string_view name, std::string_view what) {
  for (QosClass qos : kQosClasses) {
    if (qosClassName(qos) == name) return qos;
  }
  return Error::invalidArgument(std::string(what) + ": unknown QoS class \"" + std::string(name) +
                                "\" (Guaranteed, Burstable or BestEffort)");
}

std::string_view kindName(policies::ContainerKind kind) {
  switch (kind) {
    case policies::ContainerKind::Init: return "init";
    case policies::ContainerKind::Sidecar: return "sidecar";
    case policies::ContainerKind::App: return "app";
  }
  return "app";
}

Result<policies::ContainerKind> parseKind(std::string_view name, const std::string& what) {
  if (name.empty() || name == "app") return policies::ContainerKind::App;
  if (name == "init") return policies::ContainerKind::Init;
  if (name == "sidecar") return policies::ContainerKind::Sidecar;
  return Error::invalidArgument(what + ": unknown container kind \"" + std::string(name) + "\" (app, init or sidecar)");
}

// A set from the peer: the kernel list syntax, or an error naming the field.
template <typename Set>
Result<Set> parseSet(const std::string& text, std::string_view field) {
  auto set = Set::parse(text);
  if (!set.has_value()) return set.error().withContext("reply field " + std::string(field));
  return set;
}

}  // namespace

v1::StatusReply toProto(const StatusInfo& status) {
  v1::StatusReply reply;
  reply.set_agent_version(status.agent_version);
  reply.set_synchronized(status.synchronized);
  reply.set_runtime_connected(status.runtime_connected);
  reply.set_runtime_name(status.runtime_name);
  reply.set_runtime_version(status.runtime_version);
  reply.set_policy(status.policy);
  reply.set_pods(status.pods);
  reply.set_containers(status.containers);
  reply.set_allocations(status.allocations);
  reply.set_exclusive_containers(status.exclusive_containers);
  reply.set_exclusive_cpus(status.exclusive_cpus.toString());
  reply.set_shared_cpus(status.shared_cpus.toString());
  reply.set_reserved_cpus(status.reserved_cpus.toString());
  reply.set_refusals(status.refusals);
  return reply;
}

Result<StatusInfo> fromProto(const v1::StatusReply& reply) {
  StatusInfo status;
  status.agent_version = reply.agent_version();
  status.synchronized = reply.synchronized();
  status.runtime_connected = reply.runtime_connected();
  status.runtime_name = reply.runtime_name();
  status.runtime_version = reply.runtime_version();
  status.policy = reply.policy();
  status.pods = reply.pods();
  status.containers = reply.containers();
  status.allocations = reply.allocations();
  status.exclusive_containers = reply.exclusive_containers();
  TOPOD_API_ASSIGN(status.exclusive_cpus, parseSet<CpuSet>(reply.exclusive_cpus(), "exclusive_cpus"));
  TOPOD_API_ASSIGN(status.shared_cpus, parseSet<CpuSet>(reply.shared_cpus(), "shared_cpus"));
  TOPOD_API_ASSIGN(status.reserved_cpus, parseSet<CpuSet>(reply.reserved_cpus(), "reserved_cpus"));
  status.refusals = reply.refusals();
  return status;
}

v1::AllocationsReply toProto(const std::vector<AllocationInfo>& allocations) {
  v1::AllocationsReply reply;
  for (const AllocationInfo& a : allocations) {
    v1::Allocation* out = reply.add_allocations();
    out->set_pod_uid(a.pod_uid);
    out->set_pod_namespace(a.pod_namespace);
    out->set_pod_name(a.pod_name);
    out->set_container(a.container);
    out->set_container_id(a.container_id);
    out->set_qos(std::string(qosClassName(a.qos)));
    out->set_exclusive_cpus(a.exclusive_cpus.toString());
    out->set_cpus(a.cpus.toString());
    out->set_mems(a.mems.toString());
    out->set_memory_bytes(a.memory_bytes);
    out->set_running(a.running);
  }
  return reply;
}

Result<std::vector<AllocationInfo>> fromProto(const v1::AllocationsReply& reply) {
  std::vector<AllocationInfo> allocations;
  allocations.reserve(static_cast<std::size_t>(reply.allocations_size()));
  for (const v1::Allocation& in : reply.allocations()) {
    AllocationInfo a;
    a.pod_uid = in.pod_uid();
    a.pod_namespace = in.pod_namespace();
    a.pod_name = in.pod_name();
    a.container = in.container();
    a.container_id = in.container_id();
    TOPOD_API_ASSIGN(a.qos, parseQos(in.qos(), "reply field qos"));
    TOPOD_API_ASSIGN(a.exclusive_cpus, parseSet<CpuSet>(in.exclusive_cpus(), "exclusive_cpus"));
    TOPOD_API_ASSIGN(a.cpus, parseSet<CpuSet>(in.cpus(), "cpus"));
    TOPOD_API_ASSIGN(a.mems, parseSet<NodeSet>(in.mems(), "mems"));
    a.memory_bytes = in.memory_bytes();
    a.running = in.running();
    allocations.push_back(std::move(a));
  }
  return allocations;
}

v1::ExplainReply toProto(const std::vector<ContainerExplanation>& explanations) {
  v1::ExplainReply reply;
  for (const ContainerExplanation& e : explanations) {
    v1::Explanation* out = reply.add_explanations();
    out->set_pod_uid(e.pod_uid);
    out->set_pod_namespace(e.pod_namespace);
    out->set_pod_name(e.pod_name);
    out->set_container(e.container);
    out->set_admitted(e.admitted);
    out->set_request(e.request);
    out->set_qos(std::string(qosClassName(e.qos)));
    out->set_cpus(e.cpus.toString());
    out->set_mems(e.mems.toString());
    out->set_exclusive_cpus(e.exclusive_cpus.toString());
    out->set_explanation(e.explanation);
    out->set_reason(e.reason);
  }
  return reply;
}

Result<std::vector<ContainerExplanation>> fromProto(const v1::ExplainReply& reply) {
  std::vector<ContainerExplanation> explanations;
  for (const v1::Explanation& in : reply.explanations()) {
    ContainerExplanation e;
    e.pod_uid = in.pod_uid();
    e.pod_namespace = in.pod_namespace();
    e.pod_name = in.pod_name();
    e.container = in.container();
    e.admitted = in.admitted();
    e.request = in.request();
    TOPOD_API_ASSIGN(e.qos, parseQos(in.qos(), "reply field qos"));
    TOPOD_API_ASSIGN(e.cpus, parseSet<CpuSet>(in.cpus(), "cpus"));
    TOPOD_API_ASSIGN(e.mems, parseSet<NodeSet>(in.mems(), "mems"));
    TOPOD_API_ASSIGN(e.exclusive_cpus, parseSet<CpuSet>(in.exclusive_cpus(), "exclusive_cpus"));
    e.explanation = in.explanation();
    e.reason = in.reason();
    explanations.push_back(std::move(e));
  }
  return explanations;
}

v1::WhatIfRequest toProto(const policies::PodRequest& pod) {
  v1::WhatIfRequest request;
  request.set_pod_uid(pod.uid);
  request.set_pod_namespace(pod.namespace_name);
  request.set_pod_name(pod.name);
  request.set_qos(std::string(qosClassName(pod.qos)));
  for (const policies::ContainerRequest& c : pod.containers) {
    v1::ContainerRequest* out = request.add_containers();
    out->set_name(c.name);
    out->set_kind(std::string(kindName(c.kind)));
    out->set_cpu_request_millis(c.cpu_request_millis);
    out->set_cpu_limit_millis(c.cpu_limit_millis);
    out->set_memory_request_bytes(c.memory_request_bytes);
    out->set_memory_limit_bytes(c.memory_limit_bytes);
    for (const auto& [size, bytes] : c.hugepages) (*out->mutable_hugepages())[size] = bytes;
  }
  return request;
}

Result<policies::PodRequest> fromProto(const v1::WhatIfRequest& request) {
  policies::PodRequest pod;
  pod.uid = request.pod_uid();
  pod.namespace_name = request.pod_namespace();
  pod.name = request.pod_name();
  if (static_cast<std::size_t>(request.containers_size()) > kMaxWhatIfContainers) {
    return Error::invalidArgument("what-if pod: " + std::to_string(request.containers_size()) +
                                  " containers, more than the " + std::to_string(kMaxWhatIfContainers) + " allowed");
  }
  for (const v1::ContainerRequest& in : request.containers()) {
    policies::ContainerRequest c;
    c.name = in.name();
    TOPOD_API_ASSIGN(c.kind, parseKind(in.kind(), "what-if container \"" + c.name + "\""));
    c.cpu_request_millis = in.cpu_request_millis();
    c.cpu_limit_millis = in.cpu_limit_millis();
    c.memory_request_bytes = in.memory_request_bytes();
    c.memory_limit_bytes = in.memory_limit_bytes();
    for (const auto& [size, bytes] : in.hugepages()) c.hugepages[size] = bytes;
    pod.containers.push_back(std::move(c));
  }
  if (request.qos().empty()) {
    pod.qos = policies::computeQosClass(pod.containers);
  } else {
    TOPOD_API_ASSIGN(pod.qos, parseQos(request.qos(), "what-if pod"));
  }
  TOPOD_RETURN_IF_ERROR(validateWhatIf(pod));
  return pod;
}

Status validateWhatIf(const policies::PodRequest& pod) {
  auto fail = [&](const std::string& what) { return Error::invalidArgument("what-if pod: " + what); };
  if (pod.uid.empty() && pod.name.empty()) return fail("needs a UID or a name");
  if (pod.uid.size() > kMaxNameBytes || pod.name.size() > kMaxNameBytes || pod.namespace_name.size() > kMaxNameBytes) {
    return fail("a name or UID longer than " + std::to_string(kMaxNameBytes) + " bytes");
  }
  if (pod.containers.empty()) return fail("no containers");
  if (pod.containers.size() > kMaxWhatIfContainers) {
    return fail(std::to_string(pod.containers.size()) + " containers, more than the " +
                std::to_string(kMaxWhatIfContainers) + " allowed");
  }
  std::set<std::string> names;
  for (const policies::ContainerRequest& c : pod.containers) {
    if (c.name.empty() || c.name.size() > kMaxNameBytes) return fail("a container needs a name of 1 to 253 bytes");
    if (!names.insert(c.name).second) return fail("two containers named \"" + c.name + "\"");
    const std::string who = "container \"" + c.name + "\": ";
    if (c.cpu_request_millis < 0 || c.cpu_limit_millis < 0) return fail(who + "a negative CPU quantity");
    if (c.cpu_limit_millis > 0 && c.cpu_request_millis > c.cpu_limit_millis) {
      return fail(who + "CPU request above its limit");
    }
    if (c.memory_limit_bytes > 0 && c.memory_request_bytes > c.memory_limit_bytes) {
      return fail(who + "memory request above its limit");
    }
    for (const auto& [size, bytes] : c.hugepages) {
      if (size == 0 || bytes % size != 0) return fail(who + "huge pages not a multiple of their page size");
    }
  }
  return okStatus();
}

std::string describeRequest(const policies::ContainerRequest& request) {
  auto cpu = [](int64_t millis) {
    if (millis % 1000 == 0) return std::to_string(millis / 1000);
    return std::to_string(millis) + "m";
  };
  std::string out = "cpu ";
  out += request.cpu_request_millis > 0 ? cpu(request.cpu_request_millis) : "none";
  out += request.cpu_limit_millis > 0 ? " (limit " + cpu(request.cpu_limit_millis) + ")" : " (no limit)";
  out += ", memory ";
  out += request.memory_request_bytes > 0 ? formatByteQuantity(request.memory_request_bytes) : "none";
  out += request.memory_limit_bytes > 0 ? " (limit " + formatByteQuantity(request.memory_limit_bytes) + ")"
                                        : " (no limit)";
  for (const auto& [size, bytes] : request.hugepages) {
    out += ", " + hugepageResourceName(size) + " " + formatByteQuantity(bytes);
  }
  if (!request.devices.empty()) out += ", " + std::to_string(request.devices.size()) + " device(s)";
  return out;
}

}  // namespace topod::api
