#include "state/request_json.h"

#include <charconv>

#include "common/cpuset.h"

namespace topod::policies {

using json::Json;

std::string_view containerKindName(ContainerKind kind) {
  switch (kind) {
    case ContainerKind::Init: return "init";
    case ContainerKind::Sidecar: return "sidecar";
    case ContainerKind::App: return "app";
  }
  return "app";
}

Result<ContainerKind> parseContainerKind(std::string_view name) {
  for (ContainerKind kind : {ContainerKind::Init, ContainerKind::Sidecar, ContainerKind::App}) {
    if (containerKindName(kind) == name) return kind;
  }
  return Error::invalidArgument("unknown container kind \"" + std::string(name) + "\" (known: init, sidecar, app)");
}

Json containerRequestToJson(const ContainerRequest& request) {
  Json out = Json::object();
  out["name"] = request.name;
  out["kind"] = std::string(containerKindName(request.kind));
  out["cpu_request_millis"] = request.cpu_request_millis;
  out["cpu_limit_millis"] = request.cpu_limit_millis;
  out["memory_request_bytes"] = request.memory_request_bytes;
  out["memory_limit_bytes"] = request.memory_limit_bytes;
  Json hugepages = Json::object();
  for (const auto& [size, bytes] : request.hugepages) hugepages[std::to_string(size)] = bytes;
  out["hugepages"] = std::move(hugepages);
  Json devices = Json::array();
  for (const DeviceRequest& device : request.devices) {
    devices.push_back(Json{{"resource", device.resource}, {"id", device.id}, {"numa", device.numa}});
  }
  out["devices"] = std::move(devices);
  return out;
}

namespace {

Status parseHugepages(const Json& value, const std::string& where, std::map<uint64_t, uint64_t>& out) {
  for (const auto& [size_text, bytes] : value.items()) {
    std::string entry = where + ".\"" + size_text + "\"";
    uint64_t size = 0;
    auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (size_text.empty() || ec != std::errc() || end != size_text.data() + size_text.size() || size == 0 ||
        (size & (size - 1)) != 0) {
      return Error::invalidArgument(entry + ": huge page size must be a power of two in bytes");
    }
    auto parsed = json::asUint64(bytes, entry);
    if (!parsed.has_value()) return parsed.error();
    out[size] = *parsed;
  }
  return okStatus();
}

}  // namespace

Result<ContainerRequest> containerRequestFromJson(const Json& value, const std::string& source,
                                                  const std::string& path) {
  json::Fields fields(value, source, path);
  ContainerRequest request;
  request.name = fields.string("name", false);
  std::string kind = fields.string("kind", false, "app");
  request.cpu_request_millis = fields.int64("cpu_request_millis", false);
  request.cpu_limit_millis = fields.int64("cpu_limit_millis", false);
  request.memory_request_bytes = fields.uint64("memory_request_bytes", false);
  request.memory_limit_bytes = fields.uint64("memory_limit_bytes", false);
  const Json* hugepages = fields.object("hugepages", false);
  const Json* devices = fields.array("devices", false);
  TOPOD_RETURN_IF_ERROR(fields.finish());
  auto parsed_kind = parseContainerKind(kind);
  if (!parsed_kind.has_value()) return parsed_kind.error().withContext(source + ": " + path + ".kind");
  request.kind = *parsed_kind;
  if (request.cpu_request_millis < 0 || request.cpu_limit_millis < 0) {
    return Error::invalidArgument(source + ": " + path + ": CPU millicores must not be negative");
  }
  if (hugepages != nullptr)
    TOPOD_RETURN_IF_ERROR(parseHugepages(*hugepages, source + ": " + path + ".hugepages", request.hugepages));
  if (devices != nullptr) {
    for (std::size_t i = 0; i < devices->size(); ++i) {
      json::Fields device_fields((*devices)[i], source, path + ".devices[" + std::to_string(i) + "]");
      DeviceRequest device{.resource = device_fields.string("resource", true), .id = device_fields.string("id", false)};
      int64_t numa = device_fields.int64("numa", false, -1);
      TOPOD_RETURN_IF_ERROR(device_fields.finish());
      if (numa < -1 || numa > NodeSet::kMaxId) {
        return Error::invalidArgument(source + ": " + device_fields.pathOf("numa") + ": NUMA node " +
                                      std::to_string(numa) + " out of range (-1 for unknown)");
      }
      device.numa = static_cast<int>(numa);
      request.devices.push_back(std::move(device));
    }
  }
  return request;
}

}  // namespace topod::policies
