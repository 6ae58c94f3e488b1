#include "kube/nrt_object.h"

namespace topod::kube {

nlohmann::json nrtObject(const std::string& node_name, const std::vector<topology::Zone>& zones,
                         const NrtAttributes& attributes) {
  nlohmann::json object;
  object["apiVersion"] = kNrtApiVersion;
  object["kind"] = kNrtKind;
  object["metadata"] = {{"name", node_name}};
  nlohmann::json attrs = nlohmann::json::array();
  attrs.push_back({{"name", "topologyManagerPolicy"}, {"value", attributes.topology_manager_policy}});
  attrs.push_back({{"name", "topologyManagerScope"}, {"value", attributes.topology_manager_scope}});
  attrs.push_back(
      {{"name", "topologyManagerMaxNUMANodes"}, {"value", std::to_string(attributes.topology_manager_max_numa_nodes)}});
  if (!attributes.pods_fingerprint.empty()) {
    attrs.push_back({{"name", "nodeTopologyPodsFingerprint"}, {"value", attributes.pods_fingerprint}});
    attrs.push_back({{"name", "nodeTopologyPodsFingerprintMethod"}, {"value", attributes.pods_fingerprint_method}});
  }
  object["attributes"] = std::move(attrs);
  nlohmann::json out_zones = nlohmann::json::array();
  for (const topology::Zone& zone : zones) {
    nlohmann::json z;
    z["name"] = zone.name;
    z["type"] = zone.type;
    nlohmann::json costs = nlohmann::json::array();
    for (const topology::ZoneCost& cost : zone.costs) costs.push_back({{"name", cost.name}, {"value", cost.value}});
    z["costs"] = std::move(costs);
    nlohmann::json resources = nlohmann::json::array();
    for (const topology::ZoneResource& r : zone.resources) {
      resources.push_back({{"name", r.name},
                           {"capacity", topology::zoneQuantity(r.name, r.capacity)},
                           {"allocatable", topology::zoneQuantity(r.name, r.allocatable)},
                           {"available", topology::zoneQuantity(r.name, r.available)}});
    }
    z["resources"] = std::move(resources);
    out_zones.push_back(std::move(z));
  }
  object["zones"] = std::move(out_zones);
  return object;
}

std::string nrtPath(const std::string& node_name) {
  return std::string(kNrtCollection) + "/" + node_name;
}

bool sameNrtContent(const nlohmann::json& a, const nlohmann::json& b) {
  if (!a.is_object() || !b.is_object()) return false;
  for (const char* key : {"zones", "attributes", "topologyPolicies"}) {
    auto ia = a.find(key);
    auto ib = b.find(key);
    const bool has_a = ia != a.end() && !ia->is_null();
    const bool has_b = ib != b.end() && !ib->is_null();
    if (has_a != has_b) return false;
    if (has_a && *ia != *ib) return false;
  }
  return true;
}

}  // namespace topod::kube
