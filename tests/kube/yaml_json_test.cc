#include "kube/yaml_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kube/nrt_object.h"
#include "topology/loaders.h"
#include "topology/zone_summary.h"

namespace topod::kube {
namespace {

// parseYaml reads every scalar as a string: what a JSON value reads back as.
nlohmann::json asParsed(const nlohmann::json& value) {
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) out[key] = asParsed(item);
    return out;
  }
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(asParsed(item));
    return out;
  }
  if (value.is_string()) return value;
  return value.dump();
}

TEST(ToYamlTest, TheNrtObjectRoundTripsThroughLibyaml) {
  auto t =
      topology::loadTopology("xml:" + std::string(TOPOD_FIXTURES_DIR) + "/topology/gpu-2s-2x16c-smt2-4gpu-2nic.xml");
  ASSERT_TRUE(t.has_value());
  NrtAttributes attributes{.topology_manager_policy = "single-numa-node",
                           .topology_manager_scope = "pod",
                           .topology_manager_max_numa_nodes = 8,
                           .pods_fingerprint = "pfp0v001abcdef"};
  nlohmann::json object = nrtObject("worker-1", topology::summarizeZones(*t), attributes);
  auto yaml = toYaml(object);
  ASSERT_TRUE(yaml) << yaml.error().toString();
  EXPECT_NE(yaml->find("kind: NodeResourceTopology\n"), std::string::npos) << *yaml;
  EXPECT_NE(yaml->find("  name: nvidia.com/gpu\n"), std::string::npos) << *yaml;
  auto back = parseYaml(*yaml);
  ASSERT_TRUE(back) << back.error().toString();
  EXPECT_EQ(*back, asParsed(object));
}

TEST(ToYamlTest, StringsYamlWouldMisreadAreQuotedAndOthersArePlain) {
  nlohmann::json value = {{"quantity", "32"},
                          {"yes", "yes"},
                          {"null", "null"},
                          {"empty", ""},
                          {"tilde", "~"},
                          {"neg", "-1"},
                          {"dot", ".5"},
                          {"plain", "node-0"},
                          {"colon", "a: b"},
                          {"hash", "a #b"},
                          {"multi", "a\nb"},
                          {"number", 32},
                          {"flag", true},
                          {"nothing", nullptr},
                          {"list", nlohmann::json::array()},
                          {"map", nlohmann::json::object()}};
  auto yaml = toYaml(value);
  ASSERT_TRUE(yaml) << yaml.error().toString();
  for (const char* line : {"quantity: \"32\"\n", "\"yes\": \"yes\"\n", "\"null\": \"null\"\n", "empty: \"\"\n",
                           "tilde: \"~\"\n", "neg: \"-1\"\n", "dot: \".5\"\n", "plain: node-0\n", "number: 32\n",
                           "flag: true\n", "nothing: null\n", "list: []\n", "map: {}\n"}) {
    EXPECT_NE(yaml->find(line), std::string::npos) << line << " in\n" << *yaml;
  }
  auto back = parseYaml(*yaml);
  ASSERT_TRUE(back) << back.error().toString();
  EXPECT_EQ(*back, asParsed(value));
}

}  // namespace
}  // namespace topod::kube
