#include "state/state_json.h"

#include <charconv>
#include <cstdio>
#include <set>

#include "state/json_fields.h"
#include "state/request_json.h"

namespace topod::policies {

namespace {

using json::Json;

constexpr std::string_view kChecksumPrefix = "fnv1a64:";

std::string checksumOf(const Json& body) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(fnv1a64(json::dumpCompact(body))));
  return std::string(kChecksumPrefix) + hex;
}

Json memoryToJson(const std::map<int, std::map<std::string, uint64_t>>& memory) {
  Json out = Json::object();
  for (const auto& [node, resources] : memory) {
    Json per_node = Json::object();
    for (const auto& [resource, bytes] : resources) per_node[resource] = bytes;
    out[std::to_string(node)] = std::move(per_node);
  }
  return out;
}

Json allocationToJson(const ContainerKey& key, const ContainerAllocation& allocation) {
  Json entry = Json::object();
  entry["pod_uid"] = key.pod_uid;
  entry["container"] = key.container_name;
  entry["qos"] = std::string(qosClassName(allocation.qos));
  entry["exclusive_cpus"] = allocation.exclusive_cpus.toString();
  entry["shared_pool_nodes"] = allocation.shared_pool_nodes.toString();
  entry["memory_nodes"] = allocation.memory_nodes.toString();
  entry["memory"] = memoryToJson(allocation.memory);
  // Only regular init containers that ran beside sidecars have it; absent otherwise, so states
  // without it read and write exactly as before the field existed.
  if (!allocation.memory_beside.empty()) entry["memory_beside"] = memoryToJson(allocation.memory_beside);
  entry["request"] = containerRequestToJson(allocation.request);
  return entry;
}

Result<int> parseNodeKey(const std::string& text, const std::string& where) {
  int node = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), node);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || node < 0 || node > NodeSet::kMaxId) {
    return Error::invalidArgument(where + ": \"" + text + "\" is not a NUMA node id (0-" +
                                  std::to_string(NodeSet::kMaxId) + ")");
  }
  return node;
}

Result<std::map<int, std::map<std::string, uint64_t>>> memoryFromJson(const Json& value, const std::string& where) {
  std::map<int, std::map<std::string, uint64_t>> memory;
  for (const auto& [node_text, resources] : value.items()) {
    std::string node_where = where + ".\"" + node_text + "\"";
    auto node = parseNodeKey(node_text, node_where);
    if (!node.has_value()) return node.error();
    if (!resources.is_object()) return Error::invalidArgument(node_where + ": expected an object of resource -> bytes");
    if (memory.count(*node) != 0)
      return Error::invalidArgument(node_where + ": NUMA node " + std::to_string(*node) + " given twice");
    auto& per_node = memory[*node];
    for (const auto& [resource, bytes] : resources.items()) {
      auto parsed = json::asUint64(bytes, node_where + "." + resource);
      if (!parsed.has_value()) return parsed.error();
      per_node[resource] = *parsed;
    }
  }
  return memory;
}

template <typename Set>
Set parseSetField(json::Fields& fields, const char* key) {
  std::string text = fields.string(key, false);
  auto set = Set::parse(text);
  if (!set.has_value()) {
    fields.fail(key, set.error().message());
    return {};
  }
  return *set;
}

Result<QosClass> parseQos(const std::string& text, const std::string& where) {
  for (QosClass qos : {QosClass::Guaranteed, QosClass::Burstable, QosClass::BestEffort}) {
    if (qosClassName(qos) == text) return qos;
  }
  return Error::invalidArgument(where + ": unknown QoS class \"" + text +
                                "\" (known: Guaranteed, Burstable, BestEffort)");
}

// One container's entry: the key and its allocation (shared by documents and change records).
Result<std::pair<ContainerKey, ContainerAllocation>> parseEntry(const Json& value, const std::string& source,
                                                                const std::string& path) {
  json::Fields fields(value, source, path);
  ContainerKey key{.pod_uid = fields.string("pod_uid", true), .container_name = fields.string("container", true)};
  ContainerAllocation allocation;
  allocation.exclusive_cpus = parseSetField<CpuSet>(fields, "exclusive_cpus");
  allocation.shared_pool_nodes = parseSetField<NodeSet>(fields, "shared_pool_nodes");
  allocation.memory_nodes = parseSetField<NodeSet>(fields, "memory_nodes");
  std::string qos_text = fields.string("qos", false);
  const Json* memory = fields.object("memory", false);
  const Json* memory_beside = fields.object("memory_beside", false);
  const Json* request = fields.object("request", false);
  TOPOD_RETURN_IF_ERROR(fields.finish());
  if (key.pod_uid.empty() || key.container_name.empty()) {
    return Error::invalidArgument(source + ": " + path + ": pod_uid and container must not be empty");
  }
  if (memory != nullptr) {
    auto parsed = memoryFromJson(*memory, source + ": " + path + ".memory");
    if (!parsed.has_value()) return parsed.error();
    allocation.memory = std::move(*parsed);
  }
  if (memory_beside != nullptr) {
    auto parsed = memoryFromJson(*memory_beside, source + ": " + path + ".memory_beside");
    if (!parsed.has_value()) return parsed.error();
    allocation.memory_beside = std::move(*parsed);
  }
  if (request != nullptr) {
    auto parsed = containerRequestFromJson(*request, source, path + ".request");
    if (!parsed.has_value()) return parsed.error();
    allocation.request = std::move(*parsed);
  }
  if (allocation.request.name.empty()) allocation.request.name = key.container_name;
  if (qos_text.empty()) {
    allocation.qos = computeQosClass({allocation.request});
  } else {
    auto qos = parseQos(qos_text, source + ": " + path + ".qos");
    if (!qos.has_value()) return qos.error();
    allocation.qos = *qos;
  }
  return std::pair(std::move(key), std::move(allocation));
}

Result<ContainerKey> parseKey(const Json& value, const std::string& source, const std::string& path) {
  json::Fields fields(value, source, path);
  ContainerKey key{.pod_uid = fields.string("pod_uid", true), .container_name = fields.string("container", true)};
  TOPOD_RETURN_IF_ERROR(fields.finish());
  if (key.pod_uid.empty() || key.container_name.empty()) {
    return Error::invalidArgument(source + ": " + path + ": pod_uid and container must not be empty");
  }
  return key;
}

}  // namespace

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string serializeState(const State& state) {
  Json doc = Json::object();
  doc["version"] = kStateFormatVersion;
  Json containers = Json::array();
  for (const auto& [key, allocation] : state.containers()) containers.push_back(allocationToJson(key, allocation));
  doc["containers"] = std::move(containers);
  doc["checksum"] = checksumOf(doc);
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<State> parseState(std::string_view text, std::string_view source_view, StateChecksum checksum) {
  const std::string source(source_view);
  auto doc = json::parseStrict(text, source);
  if (!doc.has_value()) return doc.error();
  json::Fields fields(*doc, source, "");
  const Json* version = fields.raw("version", true);
  std::string stored_checksum = fields.string("checksum", checksum == StateChecksum::Required);
  const Json* containers = fields.array("containers", true);
  TOPOD_RETURN_IF_ERROR(fields.finish());
  if (!version->is_number_integer() || version->get<int64_t>() != kStateFormatVersion) {
    return Error::invalidArgument(source + ": unsupported state format version " + json::dumpCompact(*version) +
                                  " (this topod reads version " + std::to_string(kStateFormatVersion) + ")");
  }
  if (doc->contains("checksum")) {
    Json body = *doc;
    body.erase("checksum");
    std::string computed = checksumOf(body);
    if (computed != stored_checksum) {
      return Error::dataLoss(source + ": checksum mismatch: file says \"" + stored_checksum +
                             "\", content hashes to \"" + computed + "\" (the file was modified or truncated)");
    }
  }
  State state;
  for (std::size_t i = 0; i < containers->size(); ++i) {
    std::string path = "containers[" + std::to_string(i) + "]";
    auto entry = parseEntry((*containers)[i], source, path);
    if (!entry.has_value()) return entry.error();
    if (state.contains(entry->first)) {
      return Error::invalidArgument(source + ": " + path + ": container " + entry->first.pod_uid + "/" +
                                    entry->first.container_name + " appears twice");
    }
    state.put(entry->first, std::move(entry->second));
  }
  return state;
}

std::string serializeStateChange(const StateChange& change) {
  Json record = Json::object();
  record["seq"] = change.seq;
  if (change.allocation) {
    record["put"] = allocationToJson(change.key, *change.allocation);
  } else {
    record["erase"] = Json{{"pod_uid", change.key.pod_uid}, {"container", change.key.container_name}};
  }
  return json::dumpCompact(record);
}

Result<StateChange> parseStateChange(std::string_view text, std::string_view source_view) {
  const std::string source(source_view);
  auto doc = json::parseStrict(text, source);
  if (!doc.has_value()) return doc.error();
  json::Fields fields(*doc, source, "");
  StateChange change;
  change.seq = fields.uint64("seq", true);
  const Json* put = fields.object("put", false);
  const Json* erase = fields.object("erase", false);
  TOPOD_RETURN_IF_ERROR(fields.finish());
  if ((put == nullptr) == (erase == nullptr)) {
    return Error::invalidArgument(source + ": a change record holds exactly one of \"put\" and \"erase\"");
  }
  if (put != nullptr) {
    auto entry = parseEntry(*put, source, "put");
    if (!entry.has_value()) return entry.error();
    change.key = std::move(entry->first);
    change.allocation = std::move(entry->second);
  } else {
    auto key = parseKey(*erase, source, "erase");
    if (!key.has_value()) return key.error();
    change.key = std::move(*key);
  }
  return change;
}

StateChangeIdentity salvageStateChangeIdentity(std::string_view text) {
  StateChangeIdentity identity;
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return identity;
  if (auto seq = doc.find("seq"); seq != doc.end() && seq->is_number_unsigned()) identity.seq = seq->get<uint64_t>();
  for (const char* kind : {"put", "erase"}) {
    auto entry = doc.find(kind);
    if (entry == doc.end() || !entry->is_object()) continue;
    auto uid = entry->find("pod_uid");
    auto name = entry->find("container");
    if (uid != entry->end() && uid->is_string() && name != entry->end() && name->is_string()) {
      identity.key = ContainerKey{.pod_uid = uid->get<std::string>(), .container_name = name->get<std::string>()};
    }
  }
  return identity;
}

void applyStateChange(State& state, const StateChange& change) {
  if (change.allocation) {
    state.put(change.key, *change.allocation);
  } else {
    state.erase(change.key);
  }
}

}  // namespace topod::policies
