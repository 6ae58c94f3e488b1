#include "api/format.h"

#include <algorithm>

#include "common/json.h"
#include "common/quantity.h"
#include "common/text.h"

namespace topod::api {

namespace {

std::string orDash(const std::string& text) {
  return text.empty() ? "-" : text;
}

std::string podName(const std::string& ns, const std::string& name, const std::string& uid) {
  if (name.empty()) return escapeForDisplay(uid);
  return escapeForDisplay(ns + "/" + name);
}

std::string row(const std::vector<std::string>& cells, const std::vector<int>& widths) {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    out += cells[i];
    if (i + 1 == cells.size()) break;
    int pad = widths[i] - static_cast<int>(cells[i].size());
    out += std::string(static_cast<std::size_t>(pad > 0 ? pad : 0) + 1, ' ');
  }
  return out + "\n";
}

}  // namespace

std::string formatStatus(const StatusInfo& s) {
  std::string out;
  out += "agent:        topod " + orDash(s.agent_version) + ", policy " + escapeForDisplay(s.policy) + "\n";
  out += "runtime:      ";
  out += s.runtime_name.empty() ? std::string("none yet") : escapeForDisplay(s.runtime_name + " " + s.runtime_version);
  out += s.runtime_connected ? ", connected" : ", not connected";
  out += s.synchronized ? ", synchronized\n" : ", not synchronized yet\n";
  out += "containers:   " + std::to_string(s.containers) + " in " + std::to_string(s.pods) + " pods; " +
         std::to_string(s.allocations) + " allocations, " + std::to_string(s.exclusive_containers) +
         " with exclusive CPUs\n";
  out += "exclusive:    " + orDash(s.exclusive_cpus.toString()) + "\n";
  out += "shared pool:  " + orDash(s.shared_cpus.toString()) + "\n";
  out += "reserved:     " + orDash(s.reserved_cpus.toString()) + "\n";
  out += "refusals:     " + std::to_string(s.refusals) + " remembered" +
         (s.refusals > 0 ? " (topod explain POD says why)" : "") + "\n";
  return out;
}

std::string formatStatusJson(const StatusInfo& s) {
  json::Json j = {{"agent_version", s.agent_version},
                  {"synchronized", s.synchronized},
                  {"runtime_connected", s.runtime_connected},
                  {"runtime_name", s.runtime_name},
                  {"runtime_version", s.runtime_version},
                  {"policy", s.policy},
                  {"pods", s.pods},
                  {"containers", s.containers},
                  {"allocations", s.allocations},
                  {"exclusive_containers", s.exclusive_containers},
                  {"exclusive_cpus", s.exclusive_cpus.toString()},
                  {"shared_cpus", s.shared_cpus.toString()},
                  {"reserved_cpus", s.reserved_cpus.toString()},
                  {"refusals", s.refusals}};
  return json::dumpCompact(j) + "\n";
}

std::string formatAllocationsTable(const std::vector<AllocationInfo>& allocations) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"POD", "CONTAINER", "QOS", "CPUS", "EXCLUSIVE", "MEMS", "MEMORY", "STATE"});
  int exclusive = 0;
  for (const AllocationInfo& a : allocations) {
    if (!a.exclusive_cpus.empty()) ++exclusive;
    rows.push_back({podName(a.pod_namespace, a.pod_name, a.pod_uid), escapeForDisplay(a.container),
                    std::string(qosClassName(a.qos)), orDash(a.cpus.toString()), orDash(a.exclusive_cpus.toString()),
                    a.mems.empty() ? "all" : a.mems.toString(),
                    a.memory_bytes == 0 ? "-" : formatByteQuantity(a.memory_bytes), a.running ? "running" : "stopped"});
  }
  std::vector<int> widths(rows.front().size(), 0);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], static_cast<int>(r[i].size()));
  }
  std::string out;
  for (const auto& r : rows) out += row(r, widths);
  out += std::to_string(allocations.size()) + " allocations, " + std::to_string(exclusive) + " with exclusive CPUs\n";
  return out;
}

std::string formatAllocationsJson(const std::vector<AllocationInfo>& allocations) {
  json::Json list = json::Json::array();
  for (const AllocationInfo& a : allocations) {
    list.push_back({{"pod_uid", a.pod_uid},
                    {"pod_namespace", a.pod_namespace},
                    {"pod_name", a.pod_name},
                    {"container", a.container},
                    {"container_id", a.container_id},
                    {"qos", std::string(qosClassName(a.qos))},
                    {"cpus", a.cpus.toString()},
                    {"exclusive_cpus", a.exclusive_cpus.toString()},
                    {"mems", a.mems.toString()},
                    {"memory_bytes", a.memory_bytes},
                    {"running", a.running}});
  }
  return json::dumpCompact(json::Json{{"allocations", list}}) + "\n";
}

std::string formatExplanations(const std::vector<ContainerExplanation>& explanations) {
  std::string out;
  for (const ContainerExplanation& e : explanations) {
    if (!out.empty()) out += "\n";
    out += podName(e.pod_namespace, e.pod_name, e.pod_uid) + " container " + escapeForDisplay(e.container) + ": " +
           (e.admitted ? "admitted" : "REFUSED") + "\n";
    if (!e.pod_name.empty() && !e.pod_uid.empty()) out += "  pod uid:     " + escapeForDisplay(e.pod_uid) + "\n";
    out += "  request:     " + e.request + ", QoS " + std::string(qosClassName(e.qos)) + "\n";
    if (e.admitted) {
      out += "  cpus:        " + orDash(e.cpus.toString()) +
             (e.exclusive_cpus.empty() ? " (shared pool)" : " (exclusive)") + "\n";
      out += "  memory:      " + (e.mems.empty() ? std::string("every NUMA node") : "NUMA " + e.mems.toString()) + "\n";
      out += "  why:         " + escapeForDisplay(e.explanation) + "\n";
    } else {
      out += "  refused:     " + escapeForDisplay(e.explanation) + "\n";
      if (!e.reason.empty()) out += "  reason:      " + escapeForDisplay(e.reason) + "\n";
    }
  }
  return out;
}

std::string formatExplanationsJson(const std::vector<ContainerExplanation>& explanations) {
  json::Json list = json::Json::array();
  for (const ContainerExplanation& e : explanations) {
    list.push_back({{"pod_uid", e.pod_uid},
                    {"pod_namespace", e.pod_namespace},
                    {"pod_name", e.pod_name},
                    {"container", e.container},
                    {"admitted", e.admitted},
                    {"request", e.request},
                    {"qos", std::string(qosClassName(e.qos))},
                    {"cpus", e.cpus.toString()},
                    {"mems", e.mems.toString()},
                    {"exclusive_cpus", e.exclusive_cpus.toString()},
                    {"explanation", e.explanation},
                    {"reason", e.reason}});
  }
  return json::dumpCompact(json::Json{{"explanations", list}}) + "\n";
}

}  // namespace topod::api
