#include "topology/json_snapshot.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>

#include "common/json.h"

namespace topod::topology {
namespace {

using nlohmann::json;

// ---- Writing ----------------------------------------------------------------------------------

std::string jsonString(std::string_view text) {
  return json(std::string(text)).dump();
}

std::string hex16(uint16_t value) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%04x", static_cast<unsigned>(value));
  return buf;
}

// Joins pre-rendered rows into an indented JSON array, one row per line.
std::string rows(const std::vector<std::string>& items) {
  if (items.empty()) return "[]";
  std::string out = "[\n";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += "    " + items[i] + (i + 1 < items.size() ? ",\n" : "\n");
  }
  return out + "  ]";
}

int packageOfMemoryOnlyNode(const Topology& t, int node_id) {
  for (const Package& pkg : t.packages()) {
    if (pkg.numa_nodes.contains(node_id)) return pkg.id;
  }
  return -1;
}

// ---- Reading ----------------------------------------------------------------------------------

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string item(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

Error at(const std::string& path, const std::string& problem) {
  return Error::invalidArgument(path + ": " + problem);
}

Status expectObject(const json& value, const std::string& path, std::initializer_list<std::string_view> known) {
  if (!value.is_object())
    return at(path.empty() ? "(top level)" : path, std::string("expected an object, got ") + value.type_name());
  for (const auto& [key, ignored] : value.items()) {
    (void)ignored;
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return at(join(path, key), "unknown key (known: " + list + ")");
  }
  return okStatus();
}

const json* field(const json& obj, std::string_view key) {
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

// An integer in [min, max]; `fallback` applies when the key is absent (nullopt: required).
Result<int64_t> getInt(const json& obj, const std::string& path, std::string_view key, int64_t min, int64_t max,
                       std::optional<int64_t> fallback = std::nullopt) {
  const json* v = field(obj, key);
  const std::string where = join(path, key);
  if (v == nullptr) {
    if (fallback.has_value()) return *fallback;
    return at(where, "missing");
  }
  if (!v->is_number_integer()) return at(where, std::string("expected an integer, got ") + v->type_name());
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
    return at(where, v->dump() + " is out of range " + std::to_string(min) + "-" + std::to_string(max));
  }
  const int64_t value = v->get<int64_t>();
  if (value < min || value > max) {
    return at(where, v->dump() + " is out of range " + std::to_string(min) + "-" + std::to_string(max));
  }
  return value;
}

Result<uint64_t> getU64(const json& obj, const std::string& path, std::string_view key) {
  const json* v = field(obj, key);
  const std::string where = join(path, key);
  if (v == nullptr) return at(where, "missing");
  if (!v->is_number_unsigned()) {
    return at(where, v->is_number_integer() ? std::string("must not be negative")
                                            : std::string("expected a non-negative integer, got ") + v->type_name());
  }
  return v->get<uint64_t>();
}

Result<std::string> getString(const json& obj, const std::string& path, std::string_view key,
                              std::optional<std::string> fallback = std::nullopt) {
  const json* v = field(obj, key);
  const std::string where = join(path, key);
  if (v == nullptr) {
    if (fallback.has_value()) return *fallback;
    return at(where, "missing");
  }
  if (!v->is_string()) return at(where, std::string("expected a string, got ") + v->type_name());
  return v->get<std::string>();
}

Result<const json*> getArray(const json& obj, const std::string& path, std::string_view key, bool required) {
  static const json kEmpty = json::array();
  const json* v = field(obj, key);
  if (v == nullptr) {
    if (!required) return &kEmpty;
    return at(join(path, key), "missing");
  }
  if (!v->is_array()) return at(join(path, key), std::string("expected an array, got ") + v->type_name());
  return v;
}

Result<CpuSet> getCpuList(const json& obj, const std::string& path, std::string_view key) {
  auto text = getString(obj, path, key, std::string());
  if (!text.has_value()) return text.error();
  auto set = CpuSet::parse(*text);
  if (!set.has_value()) return set.error().withContext(join(path, key));
  return set;
}

Result<uint16_t> getHexId(const json& obj, const std::string& path, std::string_view key) {
  auto text = getString(obj, path, key);
  if (!text.has_value()) return text.error();
  const std::string& s = *text;
  const bool well_formed =
      s.size() == 6 && s[0] == '0' && s[1] == 'x' &&
      std::all_of(s.begin() + 2, s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  if (!well_formed) return at(join(path, key), "expected a 16-bit hex id like \"0x10de\", got " + jsonString(s));
  return static_cast<uint16_t>(std::stoul(s.substr(2), nullptr, 16));
}

constexpr int64_t kMaxCpu = CpuSet::kMaxId;
constexpr int64_t kMaxNode = NodeSet::kMaxId;
constexpr int64_t kMaxSmallId = std::numeric_limits<int>::max();

struct Parsed {
  TopologyBuilder builder;
  std::set<int> nodes;
  std::set<int> l3_groups;
};

Status readNumaNodes(const json& doc, Parsed& out, std::set<int>& nodes_with_package) {
  auto nodes = getArray(doc, "", "numa_nodes", true);
  if (!nodes.has_value()) return nodes.error();
  for (std::size_t i = 0; i < (*nodes)->size(); ++i) {
    const json& row = (**nodes)[i];
    const std::string path = item("numa_nodes", i);
    TOPOD_RETURN_IF_ERROR(expectObject(row, path, {"id", "memory_bytes", "kind", "hugepages", "package"}));
    auto id = getInt(row, path, "id", 0, kMaxNode);
    if (!id.has_value()) return id.error();
    auto memory = getU64(row, path, "memory_bytes");
    if (!memory.has_value()) return memory.error();
    auto kind_name = getString(row, path, "kind", std::string("unknown"));
    if (!kind_name.has_value()) return kind_name.error();
    auto kind = parseMemoryKind(*kind_name);
    if (!kind.has_value()) return kind.error().withContext(join(path, "kind"));
    auto package = getInt(row, path, "package", 0, kMaxSmallId, -1);
    if (!package.has_value()) return package.error();
    if (*package >= 0) nodes_with_package.insert(static_cast<int>(*id));
    NumaNodeSpec spec{.id = static_cast<int>(*id),
                      .memory_bytes = *memory,
                      .hugepages = {},
                      .kind = *kind,
                      .package = static_cast<int>(*package)};
    auto pages = getArray(row, path, "hugepages", false);
    if (!pages.has_value()) return pages.error();
    for (std::size_t j = 0; j < (*pages)->size(); ++j) {
      const json& page = (**pages)[j];
      const std::string page_path = item(join(path, "hugepages"), j);
      TOPOD_RETURN_IF_ERROR(expectObject(page, page_path, {"page_size_bytes", "pages"}));
      auto size = getU64(page, page_path, "page_size_bytes");
      if (!size.has_value()) return size.error();
      auto count = getU64(page, page_path, "pages");
      if (!count.has_value()) return count.error();
      if (!spec.hugepages.emplace(*size, *count).second) {
        return at(join(page_path, "page_size_bytes"), "page size " + std::to_string(*size) + " listed twice");
      }
    }
    if (!out.nodes.insert(spec.id).second)
      return at(join(path, "id"), "NUMA node " + std::to_string(spec.id) + " listed twice");
    out.builder.addNumaNode(spec);
  }
  return okStatus();
}

Status readL3Groups(const json& doc, Parsed& out) {
  auto groups = getArray(doc, "", "l3_groups", false);
  if (!groups.has_value()) return groups.error();
  for (std::size_t i = 0; i < (*groups)->size(); ++i) {
    const json& row = (**groups)[i];
    const std::string path = item("l3_groups", i);
    TOPOD_RETURN_IF_ERROR(expectObject(row, path, {"index", "size_bytes"}));
    auto index = getInt(row, path, "index", 0, kMaxCpu);
    if (!index.has_value()) return index.error();
    auto size = getU64(row, path, "size_bytes");
    if (!size.has_value()) return size.error();
    if (!out.l3_groups.insert(static_cast<int>(*index)).second) {
      return at(join(path, "index"), "L3 group " + std::to_string(*index) + " listed twice");
    }
    out.builder.setL3Size(static_cast<int>(*index), *size);
  }
  return okStatus();
}

Status readCpus(const json& doc, Parsed& out, std::set<int>& nodes_with_cpus) {
  auto cpus = getArray(doc, "", "cpus", true);
  if (!cpus.has_value()) return cpus.error();
  for (std::size_t i = 0; i < (*cpus)->size(); ++i) {
    const json& row = (**cpus)[i];
    const std::string path = item("cpus", i);
    TOPOD_RETURN_IF_ERROR(expectObject(row, path, {"id", "package", "die", "core_id", "l3", "numa"}));
    auto id = getInt(row, path, "id", 0, kMaxCpu);
    if (!id.has_value()) return id.error();
    auto package = getInt(row, path, "package", 0, kMaxSmallId);
    if (!package.has_value()) return package.error();
    auto die = getInt(row, path, "die", 0, kMaxSmallId, 0);
    if (!die.has_value()) return die.error();
    auto core = getInt(row, path, "core_id", 0, kMaxSmallId);
    if (!core.has_value()) return core.error();
    auto l3 = getInt(row, path, "l3", -1, kMaxCpu, -1);
    if (!l3.has_value()) return l3.error();
    auto numa = getInt(row, path, "numa", 0, kMaxNode);
    if (!numa.has_value()) return numa.error();
    if (out.nodes.count(static_cast<int>(*numa)) == 0) {
      return at(join(path, "numa"), "NUMA node " + std::to_string(*numa) + " is not listed in numa_nodes");
    }
    if (*l3 >= 0 && out.l3_groups.count(static_cast<int>(*l3)) == 0) {
      return at(join(path, "l3"), "L3 group " + std::to_string(*l3) + " is not listed in l3_groups");
    }
    nodes_with_cpus.insert(static_cast<int>(*numa));
    out.builder.addCpu({.id = static_cast<int>(*id),
                        .package = static_cast<int>(*package),
                        .die = static_cast<int>(*die),
                        .core_id = static_cast<int>(*core),
                        .l3 = static_cast<int>(*l3),
                        .numa = static_cast<int>(*numa)});
  }
  return okStatus();
}

Status readDistances(const json& doc, Parsed& out) {
  const json* matrix = field(doc, "distances");
  if (matrix == nullptr) return okStatus();
  if (!matrix->is_array()) return at("distances", std::string("expected an array of rows, got ") + matrix->type_name());
  std::vector<std::vector<int>> values;
  for (std::size_t i = 0; i < matrix->size(); ++i) {
    const json& row = (*matrix)[i];
    if (!row.is_array()) return at(item("distances", i), std::string("expected an array, got ") + row.type_name());
    std::vector<int> parsed_row;
    for (std::size_t j = 0; j < row.size(); ++j) {
      const json& v = row[j];
      const std::string path = item(item("distances", i), j);
      if (!v.is_number_integer()) return at(path, std::string("expected an integer, got ") + v.type_name());
      const int64_t d = v.get<int64_t>();
      if (v.is_number_unsigned() ? v.get<uint64_t>() > 255 : (d < 1 || d > 255)) {
        return at(path, v.dump() + " is out of range 1-255");
      }
      parsed_row.push_back(static_cast<int>(d));
    }
    values.push_back(std::move(parsed_row));
  }
  out.builder.setDistances(std::move(values));
  return okStatus();
}

Status readDevices(const json& doc, Parsed& out) {
  auto devices = getArray(doc, "", "devices", false);
  if (!devices.has_value()) return devices.error();
  for (std::size_t i = 0; i < (*devices)->size(); ++i) {
    const json& row = (**devices)[i];
    const std::string path = item("devices", i);
    TOPOD_RETURN_IF_ERROR(expectObject(row, path, {"address", "class", "vendor_id", "device_id", "name", "numa"}));
    auto address = getString(row, path, "address");
    if (!address.has_value()) return address.error();
    auto class_name = getString(row, path, "class");
    if (!class_name.has_value()) return class_name.error();
    auto klass = parseDeviceClass(*class_name);
    if (!klass.has_value()) return klass.error().withContext(join(path, "class"));
    auto vendor = getHexId(row, path, "vendor_id");
    if (!vendor.has_value()) return vendor.error();
    auto device = getHexId(row, path, "device_id");
    if (!device.has_value()) return device.error();
    auto name = getString(row, path, "name", std::string());
    if (!name.has_value()) return name.error();
    auto numa = getInt(row, path, "numa", -1, kMaxNode, -1);
    if (!numa.has_value()) return numa.error();
    if (*numa >= 0 && out.nodes.count(static_cast<int>(*numa)) == 0) {
      return at(join(path, "numa"), "NUMA node " + std::to_string(*numa) + " is not listed in numa_nodes");
    }
    out.builder.addDevice({.address = *address,
                           .klass = *klass,
                           .vendor_id = *vendor,
                           .device_id = *device,
                           .name = *name,
                           .numa = static_cast<int>(*numa)});
  }
  return okStatus();
}

Result<Topology> parseDocument(const json& doc) {
  TOPOD_RETURN_IF_ERROR(expectObject(doc, "",
                                     {"format", "version", "cpus", "offline_cpus", "isolated_cpus", "l3_groups",
                                      "numa_nodes", "distances", "devices"}));
  auto format = getString(doc, "", "format");
  if (!format.has_value()) return format.error();
  if (*format != kTopologyJsonFormat) {
    return at("format", "expected " + jsonString(kTopologyJsonFormat) + ", got " + jsonString(*format));
  }
  auto version = getInt(doc, "", "version", 0, kMaxSmallId);
  if (!version.has_value()) return version.error();
  if (*version != kTopologyJsonVersion) {
    return at("version", "unsupported version " + std::to_string(*version) + " (this topod reads version " +
                             std::to_string(kTopologyJsonVersion) + ")");
  }
  Parsed parsed;
  std::set<int> nodes_with_package;
  std::set<int> nodes_with_cpus;
  TOPOD_RETURN_IF_ERROR(readNumaNodes(doc, parsed, nodes_with_package));
  TOPOD_RETURN_IF_ERROR(readL3Groups(doc, parsed));
  TOPOD_RETURN_IF_ERROR(readCpus(doc, parsed, nodes_with_cpus));
  for (int node : nodes_with_package) {
    if (nodes_with_cpus.count(node) != 0) {
      return at("numa_nodes",
                "node " + std::to_string(node) +
                    " has CPUs, so its package comes from them; \"package\" is only for memory-only nodes");
    }
  }
  auto offline = getCpuList(doc, "", "offline_cpus");
  if (!offline.has_value()) return offline.error();
  auto isolated = getCpuList(doc, "", "isolated_cpus");
  if (!isolated.has_value()) return isolated.error();
  parsed.builder.setOfflineCpus(*offline).setIsolatedCpus(*isolated);
  TOPOD_RETURN_IF_ERROR(readDistances(doc, parsed));
  TOPOD_RETURN_IF_ERROR(readDevices(doc, parsed));
  return parsed.builder.build();
}

}  // namespace

std::string toTopologyJson(const Topology& t) {
  std::vector<std::string> cpus;
  cpus.reserve(t.cpus().size());
  for (const Cpu& c : t.cpus()) {
    cpus.push_back("{\"id\": " + std::to_string(c.id) + ", \"package\": " + std::to_string(c.package) +
                   ", \"die\": " + std::to_string(c.die) + ", \"core_id\": " + std::to_string(c.core_id) +
                   ", \"l3\": " + std::to_string(c.l3) + ", \"numa\": " + std::to_string(c.numa) + "}");
  }
  std::vector<std::string> l3;
  for (const L3Group& g : t.l3Groups()) {
    l3.push_back("{\"index\": " + std::to_string(g.index) + ", \"size_bytes\": " + std::to_string(g.size_bytes) + "}");
  }
  std::vector<std::string> nodes;
  for (const NumaNode& n : t.numaNodes()) {
    std::string pages;
    for (const auto& [size, count] : n.hugepages) {
      pages += std::string(pages.empty() ? "" : ", ") + "{\"page_size_bytes\": " + std::to_string(size) +
               ", \"pages\": " + std::to_string(count) + "}";
    }
    std::string row = "{\"id\": " + std::to_string(n.id) + ", \"memory_bytes\": " + std::to_string(n.memory_bytes) +
                      ", \"kind\": " + jsonString(memoryKindName(n.kind)) + ", \"hugepages\": [" + pages + "]";
    const int package = n.cpus.empty() ? packageOfMemoryOnlyNode(t, n.id) : -1;
    if (package >= 0) row += ", \"package\": " + std::to_string(package);
    nodes.push_back(row + "}");
  }
  std::vector<std::string> distances;
  for (const auto& row : t.distances()) {
    std::string line = "[";
    for (std::size_t j = 0; j < row.size(); ++j) line += (j > 0 ? ", " : "") + std::to_string(row[j]);
    distances.push_back(line + "]");
  }
  std::vector<std::string> devices;
  for (const PciDevice& d : t.devices()) {
    devices.push_back(
        "{\"address\": " + jsonString(d.address) + ", \"class\": " + jsonString(deviceClassName(d.klass)) +
        ", \"vendor_id\": " + jsonString(hex16(d.vendor_id)) + ", \"device_id\": " + jsonString(hex16(d.device_id)) +
        ", \"name\": " + jsonString(d.name) + ", \"numa\": " + std::to_string(d.numa) + "}");
  }
  std::string out = "{\n";
  out += "  \"format\": " + jsonString(kTopologyJsonFormat) + ",\n";
  out += "  \"version\": " + std::to_string(kTopologyJsonVersion) + ",\n";
  out += "  \"cpus\": " + rows(cpus) + ",\n";
  out += "  \"offline_cpus\": " + jsonString(t.offlineCpus().toString()) + ",\n";
  out += "  \"isolated_cpus\": " + jsonString(t.isolatedCpus().toString()) + ",\n";
  out += "  \"l3_groups\": " + rows(l3) + ",\n";
  out += "  \"numa_nodes\": " + rows(nodes) + ",\n";
  out += "  \"distances\": " + rows(distances) + ",\n";
  out += "  \"devices\": " + rows(devices) + "\n";
  out += "}\n";
  return out;
}

Result<Topology> parseTopologyJson(std::string_view text) {
  auto doc = ::topod::json::parseStrict(text, "");
  if (!doc.has_value()) return doc.error();
  try {
    return parseDocument(*doc);
  } catch (const json::exception& e) {
    // Every access above checks types first; this only guards against a missed case.
    return Error::invalidArgument(std::string("unexpected JSON content: ") + e.what());
  }
}

}  // namespace topod::topology
