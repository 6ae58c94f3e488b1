#include "simulator/simulator.h"

#include <algorithm>
#include <utility>

#include "policies/state_check.h"
#include "state/json_fields.h"

namespace topod::policies {

namespace {

// Output lines keep a fixed, readable key order (line, op, pod, container, result, ...).
using Line = nlohmann::ordered_json;

std::string dump(const Line& line) {
  return line.dump(-1, ' ', false, Line::error_handler_t::replace);
}

Line eventLine(const TraceEvent& event, const std::string& container) {
  Line line;
  line["line"] = event.line;
  line["op"] = std::string(traceOpName(event.op));
  line["pod"] = event.pod.uid;
  if (!container.empty()) line["container"] = container;
  return line;
}

Line errorLine(const TraceEvent& event, const std::string& reason) {
  Line line = eventLine(event, event.container);
  line["result"] = "error";
  line["reason"] = reason;
  return line;
}

Line memoryJson(const std::map<int, std::map<std::string, uint64_t>>& memory) {
  Line out = Line::object();
  for (const auto& [node, resources] : memory) {
    Line per_node = Line::object();
    for (const auto& [resource, bytes] : resources) per_node[resource] = bytes;
    out[std::to_string(node)] = std::move(per_node);
  }
  return out;
}

// NUMA nodes a placement touches: its CPUs' nodes, plus the nodes its memory is restricted to
// (unrestricted memory follows the kernel's local-first allocation, so the CPUs decide).
NodeSet numaAffinity(const topology::Topology& topology, const Placement& placement) {
  NodeSet nodes = placement.mems;
  for (const topology::NumaNode& node : topology.numaNodes()) {
    if (placement.cpus.intersects(node.cpus)) nodes.insert(node.id);
  }
  return nodes;
}

void describePlacement(const topology::Topology& topology, const ContainerAllocation& allocation,
                       const Placement& placement, Line& line) {
  NodeSet affinity = numaAffinity(topology, placement);
  line["cpus"] = placement.cpus.toString();
  line["exclusive"] = !allocation.exclusive_cpus.empty();
  line["mems"] = placement.mems.toString();
  line["memory"] = memoryJson(allocation.memory);
  line["numa_affinity"] = affinity.toString();
  line["numa_aligned"] = affinity.size() == 1;
}

}  // namespace

Simulator::Simulator(const topology::Topology& topology, const PolicyOptions& options, const Policy& policy,
                     State initial)
    : topology_(topology), options_(options), policy_(policy), state_(std::move(initial)) {
  for (const auto& [key, allocation] : state_.containers()) {
    PodRequest& pod = pods_[key.pod_uid];
    pod.uid = key.pod_uid;
    pod.qos = allocation.qos;
    ContainerRequest request = allocation.request;
    request.name = key.container_name;
    pod.containers.push_back(std::move(request));
  }
}

std::vector<std::string> Simulator::apply(const TraceEvent& event) {
  ++counts_.events;
  switch (event.op) {
    case TraceOp::Add: return add(event);
    case TraceOp::Resize: return resize(event);
    case TraceOp::Remove: return remove(event);
  }
  return {};
}

std::vector<std::string> Simulator::add(const TraceEvent& event) {
  const PodRequest& pod = event.pod;
  if (pods_.count(pod.uid) != 0) {
    ++counts_.errors;
    return {dump(errorLine(event, "pod " + pod.uid + " already exists"))};
  }
  // The kubelet admits a pod's containers in spec order; if one is refused the pod is refused,
  // so the containers admitted before it are rolled back.
  State before = state_;
  std::vector<Line> lines;
  int aligned = 0;
  int exclusive = 0;
  std::string refused;
  for (const ContainerRequest& container : pod.containers) {
    Line line = eventLine(event, container.name);
    auto decision = policy_.admit(state_, pod, container);
    if (!decision.has_value()) {
      line["result"] = "rejected";
      line["reason"] = decision.error().message();
      lines.push_back(std::move(line));
      refused = container.name;
      break;
    }
    line["result"] = "admitted";
    describePlacement(topology_, decision->allocation, decision->placement, line);
    line["explanation"] = decision->explanation;
    if (line["numa_aligned"].get<bool>()) ++aligned;
    if (!decision->allocation.exclusive_cpus.empty()) ++exclusive;
    state_ = applyDecision(state_, *decision);
    lines.push_back(std::move(line));
  }
  if (!refused.empty()) {
    state_ = std::move(before);
    for (Line& line : lines) {
      if (line["result"] != "admitted") continue;
      line["result"] = "rolled_back";
      line["reason"] = "pod rejected: container " + refused + " was refused";
    }
    counts_.rejected += static_cast<int>(lines.size());
  } else {
    counts_.admitted += static_cast<int>(lines.size());
    counts_.numa_aligned += aligned;
    counts_.exclusive += exclusive;
    pods_[pod.uid] = pod;
  }
  std::vector<std::string> out;
  for (const Line& line : lines) out.push_back(dump(line));
  return out;
}

std::vector<std::string> Simulator::resize(const TraceEvent& event) {
  auto pod_it = pods_.find(event.pod.uid);
  if (pod_it == pods_.end()) {
    ++counts_.errors;
    return {dump(errorLine(event, "no pod " + event.pod.uid))};
  }
  PodRequest pod = pod_it->second;
  auto container_it = std::find_if(pod.containers.begin(), pod.containers.end(),
                                   [&](const ContainerRequest& c) { return c.name == event.container; });
  if (container_it == pod.containers.end()) {
    ++counts_.errors;
    return {dump(errorLine(event, "pod " + event.pod.uid + " has no container " + event.container))};
  }
  ContainerRequest& resized = *container_it;
  if (event.has_cpu_request) resized.cpu_request_millis = event.resources.cpu_request_millis;
  if (event.has_cpu_limit) resized.cpu_limit_millis = event.resources.cpu_limit_millis;
  if (event.has_memory_request) resized.memory_request_bytes = event.resources.memory_request_bytes;
  if (event.has_memory_limit) resized.memory_limit_bytes = event.resources.memory_limit_bytes;
  for (const auto& [size, bytes] : event.resources.hugepages) resized.hugepages[size] = bytes;
  if ((resized.cpu_limit_millis != 0 && resized.cpu_request_millis > resized.cpu_limit_millis) ||
      (resized.memory_limit_bytes != 0 && resized.memory_request_bytes > resized.memory_limit_bytes)) {
    ++counts_.errors;
    return {dump(errorLine(event, "resize leaves a request above its limit"))};
  }
  // Kubernetes does not let a resize change the QoS class, so the pod keeps its class.
  Line line = eventLine(event, event.container);
  auto decision = policy_.resize(state_, pod, resized);
  if (!decision.has_value()) {
    ++counts_.resize_refused;
    line["result"] = "refused";
    line["reason"] = decision.error().message();
    ContainerKey key{.pod_uid = pod.uid, .container_name = event.container};
    auto placements = policy_.placements(state_);
    if (auto kept = placements.find(key); kept != placements.end()) {
      describePlacement(topology_, state_.containers().at(key), kept->second, line);
    }
    return {dump(line)};
  }
  ++counts_.resized;
  line["result"] = "resized";
  describePlacement(topology_, decision->allocation, decision->placement, line);
  line["explanation"] = decision->explanation;
  state_ = applyDecision(state_, *decision);
  pod_it->second = std::move(pod);
  return {dump(line)};
}

std::vector<std::string> Simulator::remove(const TraceEvent& event) {
  auto pod_it = pods_.find(event.pod.uid);
  if (pod_it == pods_.end()) {
    ++counts_.errors;
    return {dump(errorLine(event, "no pod " + event.pod.uid))};
  }
  std::vector<ContainerRequest>& containers = pod_it->second.containers;
  Line removed = Line::array();
  for (auto it = containers.begin(); it != containers.end();) {
    if (!event.container.empty() && it->name != event.container) {
      ++it;
      continue;
    }
    state_ = releaseContainer(state_, ContainerKey{.pod_uid = event.pod.uid, .container_name = it->name});
    removed.push_back(it->name);
    it = containers.erase(it);
  }
  if (removed.empty()) {
    ++counts_.errors;
    return {dump(errorLine(event, "pod " + event.pod.uid + " has no container " + event.container))};
  }
  if (containers.empty()) pods_.erase(pod_it);
  counts_.removed += static_cast<int>(removed.size());
  Line line = eventLine(event, event.container);
  line["result"] = "removed";
  line["removed"] = std::move(removed);
  return {dump(line)};
}

SimulationSummary Simulator::summary() const {
  SimulationSummary summary = counts_;
  summary.containers = static_cast<int>(state_.containers().size());
  CpuSet exclusive;
  for (const auto& [key, allocation] : state_.containers()) exclusive |= allocation.exclusive_cpus;
  CpuSet free = policy_.sharedCpus(state_) - options_.reserved_cpus;
  int most = 0;
  for (const topology::NumaNode& node : topology_.numaNodes()) {
    int count = (free & node.cpus).size();
    summary.free_cpus_per_numa[node.id] = count;
    most = std::max(most, count);
  }
  summary.free_cpus = free.size();
  for (int cpu : free) {
    if (topology_.siblingsOf(cpu).intersects(exclusive)) ++summary.free_cpus_on_partial_cores;
  }
  summary.fragmentation = summary.free_cpus == 0 ? 0.0 : 1.0 - static_cast<double>(most) / summary.free_cpus;
  return summary;
}

std::string Simulator::summaryLine(const SimulationSummary& summary) {
  Line body;
  body["events"] = summary.events;
  body["admitted"] = summary.admitted;
  body["rejected"] = summary.rejected;
  body["numa_aligned"] = summary.numa_aligned;
  body["exclusive"] = summary.exclusive;
  body["resized"] = summary.resized;
  body["resize_refused"] = summary.resize_refused;
  body["removed"] = summary.removed;
  body["errors"] = summary.errors;
  body["containers"] = summary.containers;
  body["free_cpus"] = summary.free_cpus;
  Line per_numa = Line::object();
  for (const auto& [node, count] : summary.free_cpus_per_numa) per_numa[std::to_string(node)] = count;
  body["free_cpus_per_numa"] = std::move(per_numa);
  body["free_cpus_on_partial_cores"] = summary.free_cpus_on_partial_cores;
  // Three decimals: enough to compare runs, stable across platforms.
  body["fragmentation"] = static_cast<double>(static_cast<int64_t>(summary.fragmentation * 1000 + 0.5)) / 1000;
  Line line;
  line["summary"] = std::move(body);
  return dump(line);
}

Result<SimulationResult> simulate(const topology::Topology& topology, const PolicyOptions& options,
                                  const Policy& policy, const State& initial, const std::vector<TraceEvent>& trace,
                                  const std::function<void(const std::string&)>& emit,
                                  const std::string& state_source) {
  StateCheckOptions check;
  check.policy = &policy;
  TOPOD_RETURN_IF_ERROR(validateRestoredState(topology, options, initial, state_source, check));
  Simulator simulator(topology, options, policy, initial);
  for (const TraceEvent& event : trace) {
    for (const std::string& line : simulator.apply(event)) emit(line);
  }
  SimulationResult result{.final_state = simulator.state(), .summary = simulator.summary()};
  emit(Simulator::summaryLine(result.summary));
  return result;
}

}  // namespace topod::policies
