#include "simulator/simulator_trace.h"

#include <utility>

#include "common/quantity.h"
#include "common/resource_names.h"
#include "state/json_fields.h"
#include "state/request_json.h"

namespace topod::policies {

using json::Json;

std::string_view traceOpName(TraceOp op) {
  switch (op) {
    case TraceOp::Add: return "add";
    case TraceOp::Resize: return "resize";
    case TraceOp::Remove: return "remove";
  }
  return "add";
}

namespace {

// JSON numbers are accepted where quantities are: they are read as their decimal text.
Result<std::string> quantityText(const Json& value, const std::string& where) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_float()) return json::dumpCompact(value);
  return Error::invalidArgument(where + ": expected a quantity (string or non-negative number), got " +
                                json::dumpCompact(value));
}

struct Resources {
  bool has_cpu = false;
  bool has_memory = false;
  int64_t cpu_millis = 0;
  uint64_t memory_bytes = 0;
  std::map<uint64_t, uint64_t> hugepages;
};

Result<Resources> parseResources(const Json& value, const std::string& where) {
  if (!value.is_object()) return Error::invalidArgument(where + ": expected an object of resource -> quantity");
  Resources out;
  for (const auto& [name, quantity] : value.items()) {
    std::string entry = where + "." + name;
    auto text = quantityText(quantity, entry);
    if (!text.has_value()) return text.error();
    if (name == kResourceCpu) {
      auto millis = parseMilliQuantity(*text);
      if (!millis.has_value()) return millis.error().withContext(entry);
      out.has_cpu = true;
      out.cpu_millis = *millis;
    } else if (name == kResourceMemory) {
      auto bytes = parseByteQuantity(*text);
      if (!bytes.has_value()) return bytes.error().withContext(entry);
      out.has_memory = true;
      out.memory_bytes = *bytes;
    } else if (hasHugepagePrefix(name)) {
      auto page = hugepageSizeOf(name);
      if (!page.has_value()) {
        return Error::invalidArgument(entry + ": huge page size must be a power of two such as 2Mi or 1Gi");
      }
      auto bytes = parseByteQuantity(*text);
      if (!bytes.has_value()) return bytes.error().withContext(entry);
      out.hugepages[*page] = *bytes;
    } else {
      return Error::invalidArgument(entry + ": unknown resource (known: cpu, memory, hugepages-<size>)");
    }
  }
  return out;
}

// Reads "requests" and "limits" of an object into `request`; Kubernetes defaults a missing
// request to its limit. Reports which of the four values were given.
Status readResources(json::Fields& fields, const std::string& where, ContainerRequest& request, TraceEvent* given) {
  const Json* requests_json = fields.object("requests", false);
  const Json* limits_json = fields.object("limits", false);
  if (!fields.ok()) return fields.finish();
  Resources requests;
  Resources limits;
  if (requests_json != nullptr) {
    auto parsed = parseResources(*requests_json, where + ".requests");
    if (!parsed.has_value()) return parsed.error();
    requests = std::move(*parsed);
  }
  if (limits_json != nullptr) {
    auto parsed = parseResources(*limits_json, where + ".limits");
    if (!parsed.has_value()) return parsed.error();
    limits = std::move(*parsed);
  }
  if (limits.has_cpu) request.cpu_limit_millis = limits.cpu_millis;
  if (limits.has_memory) request.memory_limit_bytes = limits.memory_bytes;
  if (requests.has_cpu || limits.has_cpu)
    request.cpu_request_millis = requests.has_cpu ? requests.cpu_millis : limits.cpu_millis;
  if (requests.has_memory || limits.has_memory) {
    request.memory_request_bytes = requests.has_memory ? requests.memory_bytes : limits.memory_bytes;
  }
  if (requests.has_cpu && limits.has_cpu && requests.cpu_millis > limits.cpu_millis) {
    return Error::invalidArgument(where + ": CPU request exceeds its limit");
  }
  if (requests.has_memory && limits.has_memory && requests.memory_bytes > limits.memory_bytes) {
    return Error::invalidArgument(where + ": memory request exceeds its limit");
  }
  // Huge pages: requests must equal limits in Kubernetes; either map may carry them.
  for (const auto& [size, bytes] : limits.hugepages) request.hugepages[size] = bytes;
  for (const auto& [size, bytes] : requests.hugepages) {
    auto limit = limits.hugepages.find(size);
    if (limit != limits.hugepages.end() && limit->second != bytes) {
      return Error::invalidArgument(where + ": " + hugepageResourceName(size) + " request must equal its limit");
    }
    request.hugepages[size] = bytes;
  }
  if (given != nullptr) {
    given->has_cpu_request = requests.has_cpu || limits.has_cpu;
    given->has_cpu_limit = limits.has_cpu;
    given->has_memory_request = requests.has_memory || limits.has_memory;
    given->has_memory_limit = limits.has_memory;
  }
  return okStatus();
}

Result<QosClass> parseQos(const std::string& text, const std::string& where) {
  for (QosClass qos : {QosClass::Guaranteed, QosClass::Burstable, QosClass::BestEffort}) {
    if (qosClassName(qos) == text) return qos;
  }
  return Error::invalidArgument(where + ": unknown QoS class \"" + text +
                                "\" (known: Guaranteed, Burstable, BestEffort)");
}

Result<ContainerRequest> parseContainer(const Json& value, const std::string& source, const std::string& path) {
  json::Fields fields(value, source, path);
  ContainerRequest request;
  request.name = fields.string("name", true);
  std::string kind = fields.string("kind", false, "app");
  const Json* devices = fields.array("devices", false);
  TOPOD_RETURN_IF_ERROR(readResources(fields, source + ": " + path, request, nullptr));
  TOPOD_RETURN_IF_ERROR(fields.finish());
  if (request.name.empty()) return Error::invalidArgument(source + ": " + path + ".name: must not be empty");
  auto parsed_kind = parseContainerKind(kind);
  if (!parsed_kind.has_value()) return parsed_kind.error().withContext(source + ": " + path + ".kind");
  request.kind = *parsed_kind;
  if (devices != nullptr) {
    // Devices use the state format's shape; reuse its reader through a one-field request.
    auto parsed = containerRequestFromJson(Json{{"devices", *devices}}, source, path);
    if (!parsed.has_value()) return parsed.error();
    request.devices = std::move(parsed->devices);
  }
  return request;
}

Result<TraceEvent> parseAdd(json::Fields& fields, const std::string& source, TraceEvent event) {
  const Json* pod = fields.object("pod", true);
  const Json* containers = fields.array("containers", true);
  TOPOD_RETURN_IF_ERROR(fields.finish());
  json::Fields pod_fields(*pod, source, "pod");
  event.pod.uid = pod_fields.string("uid", true);
  event.pod.namespace_name = pod_fields.string("namespace", false, "default");
  event.pod.name = pod_fields.string("name", false, event.pod.uid);
  std::string qos = pod_fields.string("qos", false);
  const Json* annotations = pod_fields.object("annotations", false);
  TOPOD_RETURN_IF_ERROR(pod_fields.finish());
  if (event.pod.uid.empty()) return Error::invalidArgument(source + ": pod.uid: must not be empty");
  if (annotations != nullptr) {
    for (const auto& [key, value] : annotations->items()) {
      if (!value.is_string())
        return Error::invalidArgument(source + ": pod.annotations." + key + ": expected a string");
      event.pod.annotations[key] = value.get<std::string>();
    }
  }
  if (containers->empty()) return Error::invalidArgument(source + ": containers: a pod needs at least one container");
  for (std::size_t i = 0; i < containers->size(); ++i) {
    auto container = parseContainer((*containers)[i], source, "containers[" + std::to_string(i) + "]");
    if (!container.has_value()) return container.error();
    for (const ContainerRequest& earlier : event.pod.containers) {
      if (earlier.name == container->name) {
        return Error::invalidArgument(source + ": containers[" + std::to_string(i) + "]: container name \"" +
                                      container->name + "\" used twice in the pod");
      }
    }
    event.pod.containers.push_back(std::move(*container));
  }
  if (qos.empty()) {
    event.pod.qos = computeQosClass(event.pod.containers);
  } else {
    auto parsed = parseQos(qos, source + ": pod.qos");
    if (!parsed.has_value()) return parsed.error();
    event.pod.qos = *parsed;
  }
  return event;
}

Result<TraceEvent> parseLine(std::string_view line, const std::string& source) {
  auto doc = json::parseStrict(line, source);
  if (!doc.has_value()) return doc.error();
  json::Fields fields(*doc, source, "");
  std::string op = fields.string("op", true);
  if (!fields.ok()) return fields.finish().error();
  TraceEvent event;
  if (op == "add") {
    event.op = TraceOp::Add;
    return parseAdd(fields, source, std::move(event));
  }
  if (op == "resize") {
    event.op = TraceOp::Resize;
    event.pod.uid = fields.string("pod", true);
    event.container = fields.string("container", true);
    TOPOD_RETURN_IF_ERROR(readResources(fields, source + ": resize", event.resources, &event));
    TOPOD_RETURN_IF_ERROR(fields.finish());
    if (!event.has_cpu_request && !event.has_memory_request && event.resources.hugepages.empty()) {
      return Error::invalidArgument(source + ": resize names no resource (give requests and/or limits)");
    }
    return event;
  }
  if (op == "remove") {
    event.op = TraceOp::Remove;
    event.pod.uid = fields.string("pod", true);
    event.container = fields.string("container", false);
    TOPOD_RETURN_IF_ERROR(fields.finish());
    return event;
  }
  return Error::invalidArgument(source + ": op: unknown operation \"" + op + "\" (known: add, resize, remove)");
}

}  // namespace

Result<std::vector<TraceEvent>> parseTrace(std::string_view text, std::string_view source) {
  std::vector<TraceEvent> events;
  int line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    auto event = parseLine(line, std::string(source) + ":" + std::to_string(line_number));
    if (!event.has_value()) return event.error();
    event->line = line_number;
    events.push_back(std::move(*event));
  }
  return events;
}

}  // namespace topod::policies
